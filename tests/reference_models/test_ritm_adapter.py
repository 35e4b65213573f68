"""RITM adapters: loading by registered name, options, per-object Zoom-In state, CLI runs."""

from __future__ import annotations

import json

import isbench.adapters
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from isbench.reference_models.ritm.inference import ZoomIn, predict
from ritm_helpers import save_random

from isbench.cli import main
from isbench.records import read_records
from isbench.registry import MODELS
from isbench.types import Click

NAMES = ["ritm-hrnet18s", "ritm-hrnet18", "ritm-hrnet32", "ritm-r34", "ritm-r50"]


def test_registry_entries():
    for name in NAMES:
        entry = MODELS[name]
        assert entry.kind == "single" and entry.needs_checkpoint
        assert entry.target == "isbench.adapters.ritm:RitmAdapter"
        assert entry.kwargs == {"variant": name}
    with pytest.raises(ValueError, match="needs --checkpoint"):
        isbench.adapters.load("ritm-hrnet18")


def test_load_by_name_with_string_options(tmp_path):
    path, _ = save_random("ritm-hrnet18s", tmp_path)
    adapter = isbench.adapters.load("ritm-hrnet18s", checkpoint=str(path), target_size="600",
                                    flip="false")
    assert adapter.threshold == 0.49 and adapter.flip is False
    assert adapter.zoom == ZoomIn(target_size=600)
    info = json.loads(json.dumps(adapter.info))
    assert info["variant"] == "ritm-hrnet18s" and info["arch"]["small"] is True
    assert info["release"] is None  # not named like a released file
    assert isbench.adapters.load("ritm-hrnet18s", checkpoint=str(path), zoom_in="off").zoom is None
    davis = isbench.adapters.load("ritm-hrnet18s", checkpoint=str(path), target_size="DAVIS")
    assert davis.zoom.target_size == 600


@pytest.mark.parametrize("args, message", [
    ({"target_size": "big"}, "target_size='big': expected a positive integer or davis"),
    ({"flip": "maybe"}, "flip='maybe': expected true or false"),
])
def test_bad_options_are_value_errors(tmp_path, args, message):
    path, _ = save_random("ritm-hrnet18s", tmp_path)
    with pytest.raises(ValueError, match=message):
        isbench.adapters.load("ritm-hrnet18s", checkpoint=str(path), **args)


def test_checkpoint_of_another_variant_is_refused(tmp_path):
    path, _ = save_random("ritm-hrnet18s", tmp_path)
    with pytest.raises(ValueError, match=r"HRNet-W18 small \(OCR 48\) model, not ritm-hrnet18"):
        isbench.adapters.load("ritm-hrnet18", checkpoint=str(path))


def test_adapter_equals_the_official_path_and_keeps_the_box_per_object(tmp_path):
    torch.set_num_threads(1)
    path, _ = save_random("ritm-hrnet18s", tmp_path)
    adapter = isbench.adapters.load("ritm-hrnet18s", checkpoint=str(path))
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    adapter.set_image(image)
    clicks = (Click(20, 30, True), Click(5, 5, False))
    first = adapter.predict(clicks[:1], None)
    assert first.shape == (48, 64) and first.dtype == np.float32
    assert adapter.object_state == {"roi": None}
    # A confident previous mask in the corner starts Zoom-In: box (0, 47, 0, 63) clipped.
    prev = np.zeros((48, 64), np.float32)
    prev[10:30, 20:40] = 0.9
    second = adapter.predict(clicks, prev)
    assert adapter.object_state == {"roi": (0, 47, 0, 63)}
    x = torch.from_numpy(image.transpose(2, 0, 1).copy()).float().div(255)[None]
    expected, box = predict(adapter.net, x, prev, [(20, 30, True), (5, 5, False)], ZoomIn(), None)
    assert box == (0, 47, 0, 63) and np.array_equal(second, expected)
    adapter.object_state = {}  # a new object (as the harness does) starts without a box
    adapter.predict(clicks[:1], None)
    assert adapter.object_state == {"roi": None}


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("variant, mode", [
    ("ritm-hrnet18s", ["--mode", "single", "--max-clicks", "3"]),
    ("ritm-hrnet18s", ["--mode", "mist", "--tau", "2", "--fuse", "every-click"]),
    ("ritm-hrnet18s", ["--mode", "mist", "--tau", "2", "--fuse", "final",
                       "--fusion-clicks", "shared"]),
    ("ritm-r34", ["--mode", "single", "--max-clicks", "2"]),
])
def test_isbench_run_end_to_end(tmp_path, variant, mode):
    torch.set_num_threads(1)
    path, _ = save_random(variant, tmp_path)
    out = tmp_path / "run"
    res = _run("run", "--model", variant, "--checkpoint", str(path), "--limit", "1",
               "--out", str(out), "--no-plots", *mode)
    assert res.exit_code == 0, res.output
    records = read_records(out)
    assert records and all(r["ious"] for r in records)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"] == variant


def test_non_iterative_baseline_loads_as_hrnet18_and_ignores_the_previous_mask(tmp_path):
    from isbench.reference_models import ritm
    from isbench.reference_models.ritm.configs import CHECKPOINTS

    spec = CHECKPOINTS["coco_lvis_h18_baseline.pth"].specified
    arch = ritm.arch_from_config({"class": "HRNetModel",
                                  "params": {k: {"value": v} for k, v in spec.items()}})
    path = tmp_path / "coco_lvis_h18_baseline.pth"
    ritm.save_checkpoint(ritm.RitmNet(arch).eval(), path, spec)
    adapter = isbench.adapters.load("ritm-hrnet18", checkpoint=str(path), zoom_in="false")
    assert adapter.net.with_prev_mask is False
    assert adapter.info["release"]["url"].endswith("/v1.0/coco_lvis_h18_baseline.pth")
    adapter.set_image(np.zeros((32, 40, 3), np.uint8))
    clicks = (Click(10, 10, True), Click(20, 30, False))
    a = adapter.predict(clicks, np.zeros((32, 40), np.float32))
    b = adapter.predict(clicks, np.ones((32, 40), np.float32))
    assert np.array_equal(a, b)
