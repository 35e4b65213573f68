"""FDRN B-series: Table 2 parameter counts, the F_θ1 / F_θ2 split of the work, the non-local
step, isbench's weights file, and one end-to-end run per protocol (random weights)."""

import json

import isbench.adapters as adapters
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from isbench.reference_models.fdrn.blocks import Semantic, split_current
from isbench.reference_models.fdrn.checkpoint import load_checkpoint, save_checkpoint
from isbench.reference_models.fdrn.hrnet_model import FDRNH
from isbench.reference_models.fdrn.model import FDRN
from isbench.reference_models.fdrn.zoom_in import bbox_iou, zoom_in_step
from isbench.reference_models.focalclick.inference import points_tensor

from isbench.cli import main
from isbench.types import Click

# FDRN paper, Table 2 (millions of parameters): F_θ1, F_θ2.
TABLE2 = {("b0", "b0"): (2.10, 5.66), ("b1", "b0"): (7.57, 5.66), ("b0", "b3"): (2.10, 50.82)}


def _millions(module):
    return sum(p.numel() for p in module.parameters()) / 1e6


@pytest.mark.parametrize("variant", sorted(TABLE2))
def test_parameter_counts_within_10_percent_of_table_2(variant):
    model = FDRN(*variant)
    theta1, theta2 = TABLE2[variant]
    assert _millions(model.extractor) == pytest.approx(theta1, rel=0.10)
    assert _millions(model.predictor) == pytest.approx(theta2, rel=0.10)


def test_split_current_click():
    pts = points_tensor([(1, 2, True), (3, 4, False), (5, 6, True)])
    current, history = split_current(pts)
    assert current[0].tolist() == [[-1, -1, -1], [5, 6, 2], [-1, -1, -1], [-1, -1, -1]]
    assert history[0].tolist() == [[1, 2, 0], [-1, -1, -1], [3, 4, 1], [-1, -1, -1]]


def test_affinity_is_normalised_over_the_first_index():
    sem = Semantic(160).eval()
    ones = torch.nn.Conv2d(160, 160, 1)  # V = 1 at every position
    torch.nn.init.zeros_(ones.weight)
    torch.nn.init.ones_(ones.bias)
    sem.conv, sem.res = ones, torch.nn.Identity()  # expose [X, f]
    f = torch.rand(1, 160, 4, 4)
    k, q = torch.randn(1, 8, 4, 4) * 3, torch.randn(1, 8, 4, 4) * 3
    with torch.no_grad():
        x = sem(f, k, q)[:, :160]
    # Columns of A sum to 1 (eq. 3), so X summed over positions is hw; rows do not.
    assert x[0, 0].sum().item() == pytest.approx(16.0, rel=1e-5)
    assert not torch.allclose(x[0, 0], torch.ones(4, 4))


class _Counter:
    def __init__(self, module):
        self.calls = 0
        module.register_forward_hook(lambda *_: setattr(self, "calls", self.calls + 1))


def test_set_image_runs_theta1_only_and_predict_theta2_only():
    model = adapters.load("fdrn-b0-segformerb0", init="random")
    theta1, theta2 = _Counter(model.net.extractor), _Counter(model.net.predictor)
    refiner = _Counter(model.net.predictor.refiner)
    rng = np.random.default_rng(0)
    model.set_image(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    assert (theta1.calls, theta2.calls) == (1, 0)
    model.object_state = {}
    clicks = (Click(20, 30, True), Click(5, 5, False), Click(25, 35, True))
    for k in range(1, 4):
        out = model.predict(clicks[:k], None)
    assert out.shape == (48, 64) and out.dtype == np.float32
    assert (theta1.calls, theta2.calls, refiner.calls) == (1, 3, 3)


def test_weights_file_round_trip_and_refusals(tmp_path):
    torch.manual_seed(1)
    model = FDRN("b0", "b0")
    save_checkpoint(model, tmp_path / "fdrn.pth")
    loaded, facts = load_checkpoint(tmp_path / "fdrn.pth", "b0", "b0")
    assert facts["extractor"] == "b0" and not loaded.training
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    with pytest.raises(ValueError, match="expected \\('b1', 'b0'\\)"):
        load_checkpoint(tmp_path / "fdrn.pth", "b1", "b0")
    ckpt = torch.load(tmp_path / "fdrn.pth", weights_only=True)
    del ckpt["state_dict"]["predictor.semantic.conv.bias"]
    torch.save(ckpt, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="predictor.semantic.conv.bias"):
        load_checkpoint(tmp_path / "bad.pth", "b0", "b0")
    with pytest.raises(ValueError, match="init=random"):
        adapters.load("fdrn-b0-segformerb0")
    with pytest.raises(ValueError, match="init=random"):
        adapters.load("fdrn-b0-segformerb0", init="random", checkpoint=str(tmp_path / "f.pth"))


def test_end_to_end_both_protocols(tmp_path):
    for mode, extra in (("single", ["--max-clicks", "2"]), ("mist", ["--tau", "1"])):
        out = tmp_path / mode
        res = CliRunner().invoke(main, [
            "run", "--model", "fdrn-b0-segformerb0", "--model-arg", "init=random",
            "--mode", mode, "--limit", "1", "--out", str(out), "--no-plots", *extra],
            catch_exceptions=False)
        assert res.exit_code == 0, res.output
        rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
        assert rows and all(r["t_click"] for r in rows) and rows[0]["t_image"] > 0


# --- H-series (RITM-based) ---

TABLE2_H = {("hrnet18s", "hrnet18"): (1.45, 10.78), ("hrnet18", "hrnet18s"): (2.93, 4.97),
            ("hrnet18", "hrnet18"): (2.93, 10.78)}


@pytest.mark.parametrize("variant", sorted(TABLE2_H))
def test_h_series_parameter_counts_within_10_percent_of_table_2(variant):
    model = FDRNH(*variant)
    theta1, theta2 = TABLE2_H[variant]
    assert _millions(model.extractor) == pytest.approx(theta1, rel=0.10)
    assert _millions(model.predictor) == pytest.approx(theta2, rel=0.10)


class _Square:
    """Coarse net returning +5 logits on rows/cols [a, b) of its input frame, -5 elsewhere."""

    def __init__(self, rows=(100, 200), cols=(150, 250)):
        self.rows, self.cols, self.calls = rows, cols, []

    def __call__(self, x, points, view):
        self.calls.append((tuple(x.shape), points.clone(), view))
        out = torch.full((1, 1, *x.shape[-2:]), -5.0)
        out[:, :, self.rows[0]:self.rows[1], self.cols[0]:self.cols[1]] = 5.0
        return out


def test_zoom_in_step_roi_rules_on_hand_made_cases():
    image, state, net = torch.rand(1, 3, 300, 400), {}, _Square()
    clicks = [(150, 200, True)]
    zoom_in_step(net, image, clicks, state)
    assert net.calls[0][0] == (1, 4, 300, 400) and net.calls[0][2] == (0, 300, 0, 400)
    clicks.append((20, 20, False))
    # mask rows 100..199, cols 150..249 -> 200 px minimum, centres 149.5 / 199.5, ties to even
    out = zoom_in_step(net, image, clicks, state)[0, 0]
    assert state["roi"] == (50, 250, 100, 300)
    assert net.calls[1][0] == (1, 4, 288, 288) and net.calls[1][2] == (50, 251, 100, 301)
    assert net.calls[1][1][0, 1, :2].tolist() == pytest.approx([288 * -30 / 201, 288 * -80 / 201])
    # the square at rows/cols [100, 200) x [150, 250) of the 288 frame, back in the image
    assert out[:50].max() == 0 and out[:, 301:].max() == 0 and out[125:185, 210:270].min() > 0.5
    clicks.append((150, 220, True))  # inside the ROI, candidate overlaps it: ROI kept
    zoom_in_step(net, image, clicks, state)
    assert state["roi"] == (50, 250, 100, 300)
    clicks.append((290, 390, True))  # a positive click outside: ROI recomputed
    zoom_in_step(net, image, clicks, state)
    assert state["roi"][1] == 299 and state["roi"][3] == 399
    roi = state["roi"]
    net.rows = (0, 0)  # empty prediction ...
    zoom_in_step(net, image, clicks + [(5, 5, False)], state)
    net.rows = (0, 300)
    out = zoom_in_step(net, image, clicks + [(5, 5, False), (6, 6, False)], state)[0, 0]
    # ... so the next click runs on the full image but is pasted into the old ROI (quirk)
    assert net.calls[-1][0] == (1, 4, 300, 400) and state["roi"] == roi
    assert out[:roi[0]].max() == 0 and out[:, :roi[2]].max() == 0 and out.max() > 0.5


def test_zoom_in_bbox_iou():
    assert bbox_iou((0, 9, 0, 9), (0, 9, 0, 9)) == 1.0
    assert bbox_iou((0, 9, 0, 9), (5, 14, 0, 9)) == pytest.approx(5 / 15)


def test_h_series_theta_split_and_end_to_end(tmp_path):
    model = adapters.load("fdrn-h2-hrnet18s", init="random")
    theta1, theta2 = _Counter(model.net.extractor), _Counter(model.net.predictor)
    model.set_image(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    model.object_state = {}
    for k in range(1, 3):
        out = model.predict((Click(20, 30, True), Click(5, 5, False))[:k], None)
    assert out.shape == (48, 64) and (theta1.calls, theta2.calls) == (1, 2)
    assert model.threshold == 0.49 and model.info["target_size"] == 288
    res = CliRunner().invoke(main, [
        "run", "--model", "fdrn-h2-hrnet18s", "--model-arg", "init=random", "--mode", "single",
        "--limit", "1", "--max-clicks", "2", "--out", str(tmp_path / "h"), "--no-plots"],
        catch_exceptions=False)
    assert res.exit_code == 0, res.output
