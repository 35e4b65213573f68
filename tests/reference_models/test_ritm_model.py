"""RITM networks: official state-dict layout, checkpoint format, strict loading, click maps."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
import torch
from isbench.reference_models import ritm
from isbench.reference_models.ritm.configs import CHECKPOINTS, VARIANTS
from isbench.reference_models.ritm.model import DistMaps
from ritm_helpers import random_ritm, save_random

# Key, shape and dtype lists generated from the official code (copied from specs/ritm_keys).
KEYS = Path(__file__).parent / "ritm_keys"

TSV = {
    "coco_lvis_h18_itermask.pth": "coco_lvis_h18_itermask__sbd_h18_itermask.tsv",
    "sbd_h18_itermask.pth": "coco_lvis_h18_itermask__sbd_h18_itermask.tsv",
    "coco_lvis_h18_baseline.pth": "coco_lvis_h18_baseline.tsv",
    "coco_lvis_h18s_itermask.pth": "coco_lvis_h18s_itermask.tsv",
    "coco_lvis_h32_itermask.pth": "coco_lvis_h32_itermask.tsv",
}


def _arch(specified: dict, cls: str = "HRNetModel") -> ritm.RitmArch:
    return ritm.arch_from_config({"class": cls, "params": {k: {"value": v}
                                                          for k, v in specified.items()}})


@pytest.mark.parametrize("file", sorted(CHECKPOINTS))
def test_state_dict_keys_shapes_dtypes_match_official_lists(file):
    rows = (KEYS / TSV[file]).read_text().splitlines()[1:]
    expected = [tuple(r.split("\t")) for r in rows]
    net = ritm.RitmNet(_arch(CHECKPOINTS[file].specified))
    got = [(k, str(tuple(v.shape)), str(v.dtype).removeprefix("torch."))
           for k, v in net.state_dict().items()]
    assert got == expected


def test_deeplab_r34_layout_matches_the_official_counts():
    net = ritm.RitmNet(_arch(VARIANTS["ritm-r34"].specified, "DeeplabModel"))
    sd = net.state_dict()
    prefixes = Counter(".".join(k.split(".")[:2]) if k.startswith("feature_extractor.")
                       else k.split(".")[0] for k in sd)
    assert len(sd) == 295
    assert prefixes == {"maps_transform": 5, "feature_extractor.backbone": 216,
                        "feature_extractor.head": 16, "feature_extractor.skip_project": 6,
                        "feature_extractor.aspp": 36, "head": 16}
    assert sd["maps_transform.0.weight"].shape == (16, 2, 1, 1)
    assert sd["feature_extractor.backbone.conv1.weight"].shape == (64, 3, 7, 7)


def test_official_config_record_is_plain_and_ordered(tmp_path):
    spec = CHECKPOINTS["coco_lvis_h18_itermask.pth"].specified
    cfg = ritm.official_config(_arch(spec), spec)
    assert cfg["class"] == "isegm.model.is_hrnet_model.HRNetModel"
    names = list(cfg["params"])
    assert names[:len(spec)] == list(spec)
    assert names[len(spec):] == ["small", "backbone_lr_mult", "norm_layer", "cpu_dist_maps",
                                 "clicks_groups", "binary_prev_mask", "conv_extend",
                                 "norm_mean_std"]
    assert cfg["params"]["width"] == {"type": "builtin", "value": 18, "specified": True}
    assert cfg["params"]["norm_layer"] == {
        "type": "class", "value": "torch.nn.modules.batchnorm.BatchNorm2d", "specified": False}
    torch.save({"state_dict": {}, "config": cfg}, tmp_path / "c.pth")
    assert torch.load(tmp_path / "c.pth", weights_only=True)["config"] == cfg


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_checkpoint_round_trip_is_bit_identical(tmp_path, variant):
    torch.set_num_threads(1)
    path, net = save_random(variant, tmp_path, seed=1)
    raw = torch.load(path, weights_only=True)
    assert list(raw) == ["state_dict", "config"]
    loaded = ritm.load_checkpoint(path)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    assert loaded.arch == net.arch
    fresh = random_ritm(variant, seed=2)  # a different net: proves the weights were loaded
    channels = 4 if net.arch.with_prev_mask else 3
    image = torch.rand(1, channels, 48, 64, generator=torch.Generator().manual_seed(0))
    points = torch.tensor([[[20.0, 30.0, 0.0], [-1, -1, -1], [5.0, 7.0, 1.0], [40, 60, 2]]])
    with torch.no_grad():
        ref, out = net(image, points), loaded(image, points)
        other = fresh(image, points)["instances"]
    assert ref["instances"].shape == (1, 1, 48, 64)
    assert torch.equal(ref["instances"], out["instances"])
    assert not torch.equal(ref["instances"], other)
    assert set(ref) == ({"instances", "instances_aux"} if net.arch.kind == "hrnet"
                        else {"instances"})


def test_ocr_pixel_and_object_branches_do_not_change_the_output():
    net = random_ritm("ritm-hrnet18s")
    image, points = torch.rand(1, 4, 32, 32), torch.tensor([[[10.0, 12.0, 0.0], [-1, -1, -1]]])
    with torch.no_grad():
        ref = net(image, points)["instances"]
        block = net.feature_extractor.ocr_distri_head.object_context_block
        for p in [*block.f_pixel.parameters(), *block.f_object.parameters()]:
            p.add_(torch.randn_like(p))
        assert torch.allclose(net(image, points)["instances"], ref, atol=1e-6)
        net.feature_extractor.ocr_distri_head.object_context_block.f_down[0].weight.mul_(2)
        assert not torch.allclose(net(image, points)["instances"], ref, atol=1e-4)


def _corrupt(path: Path, edit) -> Path:
    ckpt = torch.load(path, weights_only=True)
    edit(ckpt)
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["state_dict"].pop("feature_extractor.cls_head.bias"),
     "1 missing (e.g. feature_extractor.cls_head.bias)"),
    (lambda c: c["state_dict"].__setitem__("module.extra", torch.zeros(1)),
     "1 unexpected (e.g. module.extra)"),
    (lambda c: c["state_dict"].__setitem__("maps_transform.0.weight", torch.zeros(16, 2, 1, 1)),
     "'maps_transform.0.weight' has shape (16, 2, 1, 1), expected (16, 3, 1, 1)"),
    (lambda c: c["config"]["params"]["small"].__setitem__("value", False),
     "missing (e.g. feature_extractor.layer1.2.conv1.weight"),
    (lambda c: c["config"].__setitem__("class", "isegm.model.other.Model"),
     "expected isegm.model.is_hrnet_model.HRNetModel"),
    (lambda c: c["config"]["params"]["use_rgb_conv"].__setitem__("value", True),
     "use_rgb_conv=True is not supported"),
    (lambda c: c.pop("config"), "expected a dict with 'state_dict' and 'config'"),
])
def test_wrong_checkpoints_are_one_line_errors(tmp_path, edit, message):
    path, _ = save_random("ritm-hrnet18s", tmp_path)
    with pytest.raises(ValueError) as err:
        ritm.load_checkpoint(_corrupt(path, edit))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_non_checkpoint_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        ritm.load_checkpoint(tmp_path / "absent.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a loadable RITM checkpoint"):
        ritm.load_checkpoint(tmp_path / "junk.pth")


def _disk(points, h=20, w=40, radius=5, disks=True):
    maps = DistMaps(radius, disks)(torch.zeros(1, 3, h, w), torch.tensor([points]))
    assert maps.shape == (1, 2, h, w) and maps.dtype == torch.float32
    return maps[0]


def test_disk_maps_for_two_clicks_by_hand():
    # positive (10, 10): integer dy, dx with dy² + dx² <= 25: 11 + 2·(9 + 9 + 9 + 7 + 1) = 81;
    # negative (3, 30): rows 3 + dy >= 0 drop dy = -4 (7 pixels) and dy = -5 (1) → 73.
    pos, neg = _disk([[10, 10, 0], [3, 30, 1]])
    assert pos.sum() == 81 and neg.sum() == 73
    assert pos[10, 15] == 1 and pos[10, 16] == 0 and pos[14, 13] == 1 and pos[14, 14] == 0
    assert pos[:, 20:].sum() == 0 and neg[:, :25].sum() == 0
    assert neg[0, 26] == 1 and neg[0, 25] == 0  # (3², 4²): 9 + 16 = 25 in; (3², 5²) out


def test_disk_maps_padding_negative_rows_and_float_centres():
    # (-1, -1) is padding; (-2, 5) is valid since max(y, x) >= 0: rows 0..3 hold
    # |dx| <= 4, 4, 3, 0 → 9 + 9 + 7 + 1 = 26 pixels.
    pos, neg = _disk([[-2, 5, 0], [-1, -1, -1], [-1, -1, -1], [-1, -1, -1]])
    assert pos.sum() == 26 and neg.sum() == 0
    pos, _ = _disk([[100.4, 200.6, 0], [-1, -1, -1]], h=300, w=400)
    assert pos.sum() == 79  # spec: a non-integer centre is not rounded


def test_distance_maps_use_tanh_of_twice_the_normalised_distance():
    pos, neg = _disk([[10, 10, 0], [-1, -1, -1]], disks=False)
    assert pos[10, 10] == 0 and math.isclose(pos[10, 15], math.tanh(2), rel_tol=1e-6)
    assert math.isclose(pos[13, 14], math.tanh(2.0), rel_tol=1e-6)  # 3-4-5 triangle
    assert torch.all(neg > 0.99)
