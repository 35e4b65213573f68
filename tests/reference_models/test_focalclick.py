"""FocalClick: official key layout, checkpoint round trip and refusals, the crop-and-refine
transforms on hand-made cases, and one end-to-end run per protocol (random weights)."""

import json
from pathlib import Path

import isbench.adapters as adapters
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from isbench.reference_models.focalclick.checkpoint import (
    HRNET_CLASS,
    build,
    load_checkpoint,
    official_config,
    save_official_checkpoint,
)
from isbench.reference_models.focalclick.inference import (
    focal_step,
    focus_crop,
    points_tensor,
    progressive_merge,
    target_crop,
)
from isbench.reference_models.focalclick.model import FocalClickSegFormer, click_disks

from isbench.cli import main
from isbench.types import Click


@pytest.fixture(scope="module")
def b0_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("fc") / "last_checkpoint.pth"
    save_official_checkpoint(FocalClickSegFormer("b0", "s2"), path)
    return path


def _numel(sd, prefix):
    return sum(v.numel() for k, v in sd.items() if k.startswith(prefix))


def test_b0_state_dict_matches_clickseg_layout():
    sd = FocalClickSegFormer("b0", "s2").state_dict()
    assert len(sd) == 257
    assert _numel(sd, "maps_transform.") == 5089
    assert _numel(sd, "feature_extractor.backbone.") == 3324192
    assert _numel(sd, "feature_extractor.decode_head.") == 395522
    assert _numel(sd, "refiner.") == 16873
    assert tuple(sd["feature_extractor.backbone.block3.0.attn.sr.weight"].shape) == (160, 160, 2, 2)
    assert "feature_extractor.decode_head.linear_fuse.bn.running_var" in sd
    assert "refiner.refine_fusion.norm.running_mean" in sd
    assert tuple(sd["refiner.feature_gate.0.weight"].shape) == (1, 32, 1, 1)


def test_b3_state_dict_matches_clickseg_layout():
    sd = FocalClickSegFormer("b3", "s2").state_dict()
    assert len(sd) == 653
    assert _numel(sd, "refiner.") == 25065
    assert tuple(sd["refiner.refine_fusion.conv.weight"].shape) == (32, 512, 1, 1)


RITM_KEYS = Path(__file__).parents[3] / "shared" / "specs" / "ritm_keys"


@pytest.mark.parametrize("variant,n_keys,tsv", [
    ("hrnet18s", 983, "coco_lvis_h18s_itermask.tsv"),
    ("hrnet32", 1949, "coco_lvis_h32_itermask.tsv"),
])
def test_hrnet_state_dict_is_ritm_layout_plus_refiner(variant, n_keys, tsv):
    sd = build(variant, "s2").state_dict()
    assert len(sd) == n_keys and sum(k.startswith("refiner.") for k in sd) == 54
    assert "refiner.feature_gate.0.weight" not in sd
    shapes = {k: tuple(v.shape) for k, v in sd.items() if not k.startswith("refiner.")}
    if (RITM_KEYS / tsv).is_file():  # the RITM key list of the official file, when present
        rows = [line.split("\t")[:2] for line in (RITM_KEYS / tsv).read_text().splitlines()[1:]]
        assert shapes == {k: tuple(int(d) for d in s.strip("()").split(",") if d.strip())
                          for k, s in rows}
    assert _numel(sd, "maps_transform.") == 9345


def test_hrnet18s_round_trip_and_s1_radius(tmp_path):
    torch.manual_seed(0)
    save_official_checkpoint(build("hrnet18s", "s1"), tmp_path / "h18s.pth")
    model, facts = load_checkpoint(tmp_path / "h18s.pth", "hrnet18s")
    assert (facts["variant"], facts["pipeline_version"]) == ("hrnet18s", "s1")
    with torch.no_grad():
        logits, feature = model(torch.rand(1, 4, 256, 256), points_tensor([(100, 120, True)]))
    assert logits.shape == (1, 1, 256, 256) and feature.shape == (1, 96, 32, 32)
    with pytest.raises(ValueError, match="is FocalClick hrnet18s, expected hrnet32"):
        load_checkpoint(tmp_path / "h18s.pth", "hrnet32")
    adapter = adapters.load("focalclick-hrnet18s", checkpoint=str(tmp_path / "h18s.pth"))
    adapter.set_image(np.zeros((30, 40, 3), np.uint8))
    adapter.object_state = {}
    assert adapter.predict((Click(10, 10, True),), None).shape == (30, 40)


def test_round_trip_reads_pipeline_version_from_config(tmp_path, b0_file):
    model, facts = load_checkpoint(b0_file, "b0")
    assert facts["pipeline_version"] == "s2" and not model.training
    ckpt = torch.load(b0_file, weights_only=True)
    ckpt["config"] = official_config("b0", "s1")  # same keys, S1 config
    s1_file = tmp_path / "s1.pth"
    torch.save(ckpt, s1_file)
    s1, facts1 = load_checkpoint(s1_file)
    assert facts1["pipeline_version"] == "s1"
    for k, v in ckpt["state_dict"].items():
        assert torch.equal(s1.state_dict()[k], v)
    x = torch.rand(1, 4, 256, 256)
    pts = points_tensor([(100, 120, True)])
    with torch.no_grad():
        assert model(x, pts)[1].shape == (1, 256, 64, 64)
        assert s1(x, pts)[1].shape == (1, 256, 32, 32)  # S1 halves the coarse input


def test_refuses_ritm_wrong_variant_and_bad_keys(tmp_path, b0_file):
    ckpt = torch.load(b0_file, weights_only=True)
    ritm = {"state_dict": {"feature_extractor.conv1.weight": torch.zeros(1)},
            "config": {"class": HRNET_CLASS, "params": {"use_rgb_conv": {
                "type": "builtin", "value": False, "specified": True}}}}
    torch.save(ritm, tmp_path / "ritm.pth")
    with pytest.raises(ValueError, match="RITM checkpoint"):
        load_checkpoint(tmp_path / "ritm.pth")
    with pytest.raises(ValueError, match="is FocalClick b0, expected b3"):
        load_checkpoint(b0_file, "b3")
    bad = dict(ckpt, state_dict=dict(ckpt["state_dict"]))
    del bad["state_dict"]["refiner.refine_pred.bias"]
    bad["state_dict"]["refiner.extra"] = torch.zeros(1)
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match=r"missing \['refiner.refine_pred.bias'\].*refiner.extra"):
        load_checkpoint(tmp_path / "bad.pth")
    torch.save(ckpt["state_dict"], tmp_path / "bare.pth")
    with pytest.raises(ValueError, match="state_dict"):
        load_checkpoint(tmp_path / "bare.pth")
    with pytest.raises(ValueError, match="RITM"):
        adapters.load("focalclick-segformer-b0", checkpoint=str(tmp_path / "ritm.pth"))


def test_click_disks_and_padding():
    pts = points_tensor([(10, 10, True), (3, 4, False), (20, 20, True)])
    assert pts.tolist() == [[[10, 10, 0], [20, 20, 2], [3, 4, 1], [-1, -1, -1]]]
    disks = click_disks(pts, 32, 32, 5)
    assert disks[0, 0].sum() == 2 * 81  # 81 integer points with d^2 <= 25, two disks
    # the disk at (3, 4) loses 7 + 1 points on rows -1, -2 and 1 on column -1
    assert disks[0, 1].sum() == 81 - 9
    assert disks[0, 1, 3, 4] == 1 and disks[0, 0, 3, 4] == 0


def test_click_disk_boundary_follows_the_official_float64_rounding():
    # (27, 136) is at distance^2 1.4^2 + 4.8^2 = 25 from (25.6, 140.8): inside when r - y is
    # taken in float64 and rounded (the official code, found by comparing against it), outside
    # when y is rounded to float32 first.
    disks = click_disks(points_tensor([(25.6, 140.8, True)]), 256, 256, 5)
    assert disks[0, 0, 27, 136] == 1


def test_target_crop_hand_made():
    mask = np.zeros((100, 100), bool)
    mask[10:20, 21:41] = True
    # rows 10..50 (the positive click extends them) -> 1.4 * 41; cols 21..40 -> 1.4 * 20 = 28
    # centred on 30.5: 16.5 and 44.5 round to even (16, 44); the negative click is ignored.
    assert target_crop(mask, [(50, 30, True), (90, 90, False)]) == (1, 59, 16, 44)
    one = np.zeros((100, 100), bool)
    one[5, 5] = True
    assert target_crop(one, []) == (0, 10, 0, 10)  # min size 10
    assert target_crop(one, [(99, 99, True)]) == (0, 99, 0, 99)  # clamped to H-1, W-1


def test_focus_crop_hand_made():
    h, w, full = 100, 200, (0, 100, 0, 200)
    logits = np.full((h, w), -5.0)
    logits[30:50, 60:120] = 3.0
    empty = np.zeros((h, w))
    assert focus_crop(logits, empty, full, 40, 90) == (25, 53, 47, 131)
    weak = np.where(logits > 0, 0.45, -5.0)  # prob 0.61 but logit < 0.49: counts as empty
    assert focus_crop(weak, empty, full, 40, 90) == full
    prev = np.zeros((h, w))
    prev[30:50, 60:120] = 0.9
    changed = logits.copy()
    changed[50:56, 100:106] = 3.0  # 36 px change, small against the 26 x 60 prediction
    assert focus_crop(changed, prev, full, 52, 102) == (34, 69, 84, 119)
    tiny = logits.copy()
    tiny[50:52, 100:104] = 3.0  # 8 px: bbox falls back to the whole image
    assert focus_crop(tiny, prev, full, 50, 101) == full
    assert focus_crop(changed, prev, (40, 60, 90, 110), 52, 102) == (40, 60, 90, 110)


def test_progressive_merge_hand_made():
    prev = np.zeros((20, 20), bool)
    prev[2:8, 2:8] = True
    pred = prev.copy()
    pred[12:15, 12:15] = True
    pred[2:4, 2:4] = False
    added = progressive_merge(pred, prev, 13, 13)
    assert added.sum() == 36 + 9 and added[2, 2]  # only the clicked component changes
    removed = progressive_merge(pred, prev, 2, 2)
    assert removed.sum() == 36 - 4 and not removed[13, 13]
    quirk = progressive_merge(pred, prev, 18, 0)  # click outside the change: label 0
    assert quirk.sum() == 400 - 9 - 4 + 4  # whole unchanged area added


class _Fake:
    """Coarse net: +4 logits on the centre square of the 256 frame, -4 elsewhere; refiner:
    a constant logit. Records what it is given."""

    def __init__(self, refined=3.0):
        self.refined, self.coarse_in, self.refine_in = refined, [], []

    def coarse(self, x, points, roi):
        self.coarse_in.append((x.clone(), points.clone(), roi))
        logits = torch.full((1, 1, 256, 256), -4.0)
        logits[:, :, 64:192, 64:192] = 4.0
        return logits, torch.zeros(1, 8, 64, 64)

    def refine(self, image, points, feature, logits, box):
        self.refine_in.append((image.shape, points.clone(), box.clone()))
        return torch.full((1, 1, 256, 256), self.refined)


def test_focal_step_crops_pastes_and_freezes_outside_focus_after_10_clicks():
    fake, state = _Fake(), {}
    image = torch.rand(1, 3, 60, 80)
    clicks = [(30, 40, True)]
    p1 = focal_step(fake.coarse, fake.refine, image, clicks, state)[0, 0].numpy()
    x, pts, roi = fake.coarse_in[0]
    assert x.shape == (1, 4, 256, 256) and roi == (0, 60, 0, 80)
    assert pts[0, 0, :2].tolist() == [128.0, 128.0]  # (30 * 256/60, 40 * 256/80)
    inside = np.isclose(p1, torch.sigmoid(torch.tensor(3.0)).item())
    ys, xs = np.nonzero(inside)
    y1, y2, x1, x2 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    assert inside[y1:y2, x1:x2].all() and inside.sum() == (y2 - y1) * (x2 - x1)
    _, _, box = fake.refine_in[0]  # focus box mapped into the 256 frame of the full image
    assert box[0].tolist() == pytest.approx([0, x1 * 3.2, y1 * 256 / 60, x2 * 3.2,
                                             y2 * 256 / 60])
    clicks.append((31, 41, False))
    p2 = focal_step(fake.coarse, fake.refine, image, clicks, state)[0, 0].numpy()
    r0, r1, c0, c1 = target_crop(p1 > 0.49, clicks)
    assert state["roi"] == (r0, r1, c0, c1) and fake.coarse_in[1][2] == (r0, r1 + 1, c0, c1 + 1)
    outside = np.ones_like(p2, bool)
    outside[r0:r1 + 1, c0:c1 + 1] = False
    assert outside.any() and (p2[outside] == 0).all()  # clicks 2-10: zero outside the target ROI
    shifted = fake.coarse_in[1][1][0, 1, :2].tolist()  # the negative click, shifted and scaled
    assert shifted == pytest.approx([(31 - r0) * 256 / (r1 - r0 + 1),
                                     (41 - c0) * 256 / (c1 - c0 + 1)])
    for k in range(8):
        clicks.append((5 + k, 5, False))
        focal_step(fake.coarse, fake.refine, image, clicks, state)
    prev = state["prev"][0, 0].numpy().copy()
    clicks.append((13, 5, False))
    fake.refined = -3.0  # the 11th click's refined logits differ from everything before
    out = focal_step(fake.coarse, fake.refine, image, clicks, state)[0, 0].numpy()
    assert len(clicks) == 11
    changed = out != prev
    ys, xs = np.nonzero(changed)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    assert changed[box].all()  # one rectangle (the focus box) changed ...
    assert np.allclose(out[box], torch.sigmoid(torch.tensor(-3.0)).item())
    assert (out[~changed] == prev[~changed]).all()  # ... the rest is the previous prediction


def test_focal_step_keeps_a_stale_roi_when_the_mask_empties():
    fake, state = _Fake(), {}
    image = torch.rand(1, 3, 60, 80)
    clicks = [(30, 40, True), (31, 41, False)]
    focal_step(fake.coarse, fake.refine, image, clicks[:1], state)
    focal_step(fake.coarse, fake.refine, image, clicks, state)
    roi = state["roi"]
    fake.refined = -20.0
    state["zoom_probs"] = np.zeros((60, 80), np.float32)  # nothing above 0.49 any more
    out = focal_step(fake.coarse, fake.refine, image, clicks + [(5, 5, False)], state)[0, 0]
    x, _, global_roi = fake.coarse_in[-1]
    assert state["roi"] == roi and global_roi == (roi[0], roi[1] + 1, roi[2], roi[3] + 1)
    # the full image was warped to 256 (the 60x80 input, not the ROI crop) ...
    full = torch.nn.functional.interpolate(image, size=(256, 256), mode="bilinear",
                                           align_corners=True)
    assert torch.allclose(x[:, :3], full)
    # ... and pasted into the old ROI: zero outside it
    outside = torch.ones_like(out, dtype=torch.bool)
    outside[roi[0]:roi[1] + 1, roi[2]:roi[3] + 1] = False
    assert outside.any() and out[outside].max() == 0


def test_progressive_merge_default_applies_only_from_an_initial_mask(b0_file):
    model = adapters.load("focalclick-segformer-b0", checkpoint=str(b0_file))
    assert model.progressive_merge == "init"
    model.set_image(np.random.default_rng(1).integers(0, 255, (40, 48, 3), dtype=np.uint8))
    model.object_state = {}
    plain = model.predict((Click(20, 24, True),), None)
    assert not set(np.unique(plain)) <= {0.0, 1.0}  # no merge without an initial mask
    init = np.zeros((40, 48), np.float32)
    init[5:15, 5:15] = 1
    model.object_state = {}
    merged = model.predict((Click(20, 24, True),), init)
    unmerged = model.object_state["prev"][0, 0].numpy()  # the net's own (prev-mask) output
    expected = progressive_merge(unmerged > 0.5, init > 0.5, 20, 24)
    assert set(np.unique(merged)) <= {0.0, 1.0} and np.array_equal(merged > 0.5, expected)
    assert merged[init > 0].all()  # the initial mask survives a positive click outside it
    assert np.array_equal(model.object_state["zoom_probs"], merged)  # next target crop


def test_adapter_options_and_progressive_merge(b0_file):
    with pytest.raises(ValueError, match="progressive_merge"):
        adapters.load("focalclick-segformer-b0", checkpoint=str(b0_file),
                      progressive_merge="sometimes")
    with pytest.raises(ValueError, match="focus_crop_r"):
        adapters.load("focalclick-segformer-b0", checkpoint=str(b0_file), focus_crop_r="x")
    model = adapters.load("focalclick-segformer-b0", checkpoint=str(b0_file),
                          progressive_merge="always", focus_crop_r="1.2")
    assert model.threshold == 0.5 and model.info["focus_crop_r"] == 1.2
    rng = np.random.default_rng(0)
    model.set_image(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8))
    model.object_state = {}
    out = model.predict((Click(20, 24, True),), None)
    assert out.shape == (40, 48) and set(np.unique(out)) <= {0.0, 1.0}
    assert model.object_state["merged"].dtype == bool


def test_end_to_end_both_protocols(tmp_path, b0_file):
    for mode, extra in (("single", ["--max-clicks", "2"]), ("mist", ["--tau", "1"])):
        out = tmp_path / mode
        res = CliRunner().invoke(main, [
            "run", "--model", "focalclick-segformer-b0", "--checkpoint", str(b0_file),
            "--mode", mode, "--limit", "1", "--out", str(out), "--no-plots", *extra],
            catch_exceptions=False)
        assert res.exit_code == 0, res.output
        rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
        assert rows and all(r["t_click"] for r in rows)
