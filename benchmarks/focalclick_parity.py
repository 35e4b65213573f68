"""Parity check: isbench's FocalClick against the unmodified official ClickSEG code.

Both run the same random weights (saved in ClickSEG's format, BN statistics randomised) on
the same image, with the clicks of ClickSEG's own clicker and its ``FocalPredictor``
(ZoomIn + ResizeTrans + focus crop + refiner), optionally from an initial mask with
Progressive Merge as ``evaluate_sample`` does. Prints the largest per-click difference of the
probabilities (of the merged masks with an initial mask).

Needs a ClickSEG checkout (``git clone https://github.com/alibaba/ClickSEG``); packages the
imported modules name but never use here (mmcv, scikit-image, tensorboard, the dataset and
visualisation modules) are replaced by empty stand-ins, and mmcv's ``ConvModule`` (used by
SegFormer's decoder) by conv + BN + ReLU with mmcv's key names.

    python benchmarks/focalclick_parity.py --clickseg /path/to/ClickSEG [--clicks 20]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import types
import warnings

import isbench.adapters as adapters
import numpy as np
import torch
from isbench.reference_models.focalclick.checkpoint import build, save_official_checkpoint
from torch import nn

from isbench.types import Click


class _MMCVConvModule(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, norm_cfg=None, **_):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, bias=norm_cfg is None)
        self.bn = nn.BatchNorm2d(out_channels)
        self.activate = nn.ReLU()

    def forward(self, x):
        return self.activate(self.bn(self.conv(x)))


def _import_clickseg(path: str) -> types.SimpleNamespace:
    stubs = {"mmcv": {}, "mmcv.cnn": {"ConvModule": _MMCVConvModule,
                                      "DepthwiseSeparableConvModule": None},
             "skimage": {}, "skimage.measure": {"label": None},
             "torch.utils.tensorboard": {"SummaryWriter": object},
             "isegm.inference.utils": {}, "isegm.utils.vis": {"add_tag": None}}
    for name, attrs in stubs.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module
    np.int = int  # removed alias the official code still uses
    sys.path.insert(0, path)
    warnings.filterwarnings("ignore")
    names = {"Clicker": "isegm.inference.clicker",
             "Progressive_Merge": "isegm.inference.evaluation",
             "FocalPredictor": "isegm.inference.predictors.focalclick",
             "ZoomIn": "isegm.inference.transforms",
             "HRNetModel": "isegm.model.is_hrnet_model",
             "SegFormerModel": "isegm.model.is_segformer_model"}
    return types.SimpleNamespace(**{k: getattr(importlib.import_module(m), k)
                                    for k, m in names.items()})


def _official_net(cs, variant: str, pipeline: str) -> nn.Module:
    common = dict(use_leaky_relu=True, use_rgb_conv=False, use_disks=True, norm_radius=5,
                  with_prev_mask=True, with_aux_output=True, pipeline_version=pipeline)
    if variant in ("b0", "b3"):
        return cs.SegFormerModel(model_version=variant, binary_prev_mask=False, **common)
    width, ocr, small = {"hrnet18s": (18, 48, True), "hrnet32": (32, 128, False)}[variant]
    return cs.HRNetModel(width=width, ocr_width=ocr, small=small, **common)


def compare(cs, variant: str, pipeline: str, seed: int, clicks: int, init: bool,
            path: str) -> list[float]:
    """Per-click max |official - isbench| on a 150x200 random image with a hand-made object."""
    torch.manual_seed(seed)
    mine = build(variant, pipeline)
    for m in mine.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    save_official_checkpoint(mine, path)
    official = _official_net(cs, variant, pipeline)
    official.load_state_dict(torch.load(path, weights_only=True)["state_dict"], strict=True)
    official.eval()
    name = {"b0": "segformer-b0", "b3": "segformer-b3"}.get(variant, variant)
    adapter = adapters.load(f"focalclick-{name}", checkpoint=path)
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (150, 200, 3), dtype=np.uint8)
    gt = np.zeros((150, 200), bool)
    gt[40:110, 60:150] = True
    gt[60:80, 90:120] = False
    predictor = cs.FocalPredictor(official, "cpu", infer_size=256, focus_crop_r=1.4,
                                  zoom_in=cs.ZoomIn(skip_clicks=1, target_size=400,
                                                    expansion_ratio=1.4))
    clicker, diffs = cs.Clicker(gt_mask=gt), []
    init_mask = None
    if init:
        init_mask = np.zeros(gt.shape, np.float32)
        init_mask[45:100, 70:140] = 1
    with torch.no_grad():
        predictor.set_input_image(image)
        adapter.set_image(image)
        adapter.object_state = {}
        pred = prev = np.zeros_like(gt) if init_mask is None else init_mask > 0
        if init:
            predictor.set_prev_mask(init_mask)
        ours = init_mask
        for _ in range(clicks):
            clicker.make_next_click(pred)
            probs = predictor.get_prediction(clicker)
            pred = probs > 0.5
            seq = tuple(Click(int(c.coords[0]), int(c.coords[1]), bool(c.is_positive), index=i)
                        for i, c in enumerate(clicker.get_clicks()))
            ours = adapter.predict(seq, ours)
            if init:
                y, x = seq[-1].y, seq[-1].x
                pred = cs.Progressive_Merge(pred, prev, y, x)
                predictor.transforms[0]._prev_probs = pred[None, None]
                probs = pred.astype(np.float32)
            diffs.append(float(np.abs(probs - ours).max()))
            prev = pred
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clickseg", required=True, help="path to a ClickSEG checkout")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--tmp", default="/tmp/focalclick_parity.pth")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cs = _import_clickseg(args.clickseg)
    for variant, pipeline, init in (("b0", "s2", False), ("b0", "s1", False),
                                    ("hrnet18s", "s2", False), ("hrnet18s", "s1", False),
                                    ("b0", "s2", True), ("hrnet18s", "s2", True)):
        for seed in range(args.seeds):
            d = compare(cs, variant, pipeline, seed, args.clicks, init, args.tmp)
            start = "initial mask + PM" if init else "no initial mask"
            print(f"{variant:9s} {pipeline} {start:18s}"
                  f" seed {seed}: max |official - isbench| over {args.clicks} clicks "
                  f"{max(d):.2e} (click {int(np.argmax(d)) + 1})", flush=True)


if __name__ == "__main__":
    main()
