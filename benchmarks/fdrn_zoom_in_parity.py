"""Parity check: FDRN-H's Zoom-In predictor (``reference_models/fdrn/zoom_in.py``) against the
unmodified official RITM ``BasePredictor`` + ``ZoomIn`` (target 288, no flip).

Both drive the same stand-in network (a fixed random 5x5 conv on [RGB, prev] plus widened
click disks, so predictions follow the clicks and the ROI moves) with the clicks of RITM's own
clicker for 20 clicks; prints the largest probability difference per seed.

    python benchmarks/fdrn_zoom_in_parity.py --ritm /path/to/ritm_interactive_segmentation
"""

from __future__ import annotations

import argparse
import importlib
import sys
import types
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from isbench.reference_models.fdrn.zoom_in import zoom_in_step
from isbench.reference_models.focalclick.model import click_disks


class StandIn(torch.nn.Module):
    """(1, 4, h, w), (1, 2N, 3) -> {"instances": (1, 1, h, w) logits}."""

    with_prev_mask = True

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(4, 1, 5, padding=2)

    def forward(self, x, points):
        disks = F.max_pool2d(click_disks(points, x.shape[-2], x.shape[-1], 5), 31, 1, 15)
        logits = self.conv(x) + 6 * disks[:, :1] - 6 * disks[:, 1:] + 3 * (x[:, 3:] - 0.5)
        return {"instances": logits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ritm", required=True, help="path to a RITM checkout")
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    board = types.ModuleType("torch.utils.tensorboard")
    board.SummaryWriter = object
    sys.modules["torch.utils.tensorboard"] = board  # imported by isegm.utils.log, unused here
    np.int = int  # removed alias the official code still uses
    sys.path.insert(0, args.ritm)
    warnings.filterwarnings("ignore")
    base = importlib.import_module("isegm.inference.predictors.base")
    zoom = importlib.import_module("isegm.inference.transforms.zoom_in")
    clicker_mod = importlib.import_module("isegm.inference.clicker")
    net = StandIn().eval()
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        img = rng.integers(0, 255, (300, 420, 3), dtype=np.uint8)
        gt = np.zeros((300, 420), bool)
        gt[80:200, 100:330] = True
        gt[120:150, 180:240] = False
        official = base.BasePredictor(net, "cpu", with_flip=False, zoom_in=zoom.ZoomIn(
            target_size=288, skip_clicks=1, expansion_ratio=1.4))
        clicker, state, worst = clicker_mod.Clicker(gt_mask=gt), {}, 0.0
        image = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
        mask = np.zeros_like(gt)
        with torch.no_grad():
            official.set_input_image(img)
            for _ in range(20):
                clicker.make_next_click(mask)
                probs = official.get_prediction(clicker)
                clicks = [(int(c.coords[0]), int(c.coords[1]), bool(c.is_positive))
                          for c in clicker.get_clicks()]
                ours = zoom_in_step(lambda x, p, view: net(x, p)["instances"], image, clicks,
                                    state)[0, 0].numpy()
                worst = max(worst, float(np.abs(probs - ours).max()))
                mask = probs > 0.49
        print(f"seed {seed}: max |official - isbench| over 20 clicks {worst:.2e}; final ROI "
              f"official {official.transforms[0]._object_roi}, isbench {state.get('roi')}")


if __name__ == "__main__":
    main()
