"""SimpleClick behind the protocol: registry names, model args, ROI state, end-to-end runs."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from simpleclick_files import write_official_checkpoint

from isbench import adapters
from isbench.cli import main
from isbench.records import read_records
from isbench.registry import MODELS
from isbench.types import Click


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("sc") / "cocolvis_vit_xtiny.pth"
    write_official_checkpoint(path, "vit-xt", seed=3)
    return path


@pytest.mark.parametrize("variant", ["vit-xt", "vit-b", "vit-l", "vit-h"])
def test_registered_variants(variant):
    entry = MODELS[f"simpleclick-{variant}"]
    assert entry.kind == "single" and entry.needs_checkpoint
    assert entry.kwargs == {"variant": variant}
    with pytest.raises(ValueError, match="needs --checkpoint"):
        adapters.load(f"simpleclick-{variant}")


def test_load_predict_threshold_and_roi_state(ckpt):
    model = adapters.load("simpleclick-vit-xt", checkpoint=str(ckpt))
    assert model.threshold == 0.49 and model.info["flip"] is True
    assert model.info["variant"] == "vit-xt" and model.info["target_size"] == [448, 448]
    model = adapters.load("simpleclick-vit-xt", checkpoint=str(ckpt), flip=False)  # cheaper
    rng = np.random.default_rng(0)
    model.set_image(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    c1 = (Click(120, 160, True, 0, 0, 0),)
    prob = model.predict(c1, None)
    assert prob.shape == (300, 400) and prob.dtype == np.float32
    assert 0 <= prob.min() and prob.max() <= 1
    assert model.object_state["roi"] == (0, 299, 0, 399)  # first click: the whole image
    # a previous mask with an object gives a 200x200 zoom-in ROI about (114.5, 159.5):
    # rows 14.5 -> 14, 214.5 -> 214; cols 59.5 -> 60, 259.5 -> 260 (half to even); its IoU
    # with the whole image is 201/300 * 201/400 < 0.5, so it replaces the old ROI
    prev = np.zeros((300, 400), np.float32)
    prev[100:130, 150:170] = 0.8
    model.predict(c1 + (Click(10, 10, False, None, 0, 1),), prev)
    assert model.object_state["roi"] == (14, 214, 60, 260)
    # a fresh object (no previous mask) starts from the whole image again
    model.predict(c1, None)
    assert model.object_state["roi"] == (0, 299, 0, 399)


def test_model_args_as_strings_and_bad_values(ckpt):
    model = adapters.load("simpleclick-vit-xt", checkpoint=str(ckpt), target_size="davis",
                          flip="false")
    assert model.info["target_size"] == [672, 672] and model.info["flip"] is False
    net = model._predictor.net
    assert net.backbone.pos_embed.shape == (1, 1 + 42 * 42, 160)
    assert net.backbone.window_layout() == (3, 3, 14, 14)
    model.set_image(np.zeros((100, 90, 3), np.uint8))
    assert model.predict((Click(50, 40, True, 0, 0, 0),), None).shape == (100, 90)
    from isbench.adapters.simpleclick import parse_size
    assert parse_size((448, 672), "s") == parse_size("448,672", "s") == (448, 672)
    assert parse_size(672, "s") == (672, 672)
    for kwargs, message in [({"target_size": "big"}, "target_size must be"),
                            ({"target_size": "464"}, "cannot be split"),
                            ({"target_size": "450"}, "multiple of the patch"),
                            ({"flip": "maybe"}, "flip must be true or false"),
                            ({"variant": "vit-b"}, "holds architecture vit-xt, expected vit-b")]:
        with pytest.raises(ValueError, match=message):
            adapters.load("simpleclick-vit-xt", checkpoint=str(ckpt), **kwargs)


# The path is what is exercised here (the official settings are tested above): a 224x224
# network input without the mirror pass keeps these runs cheap on a shared CPU.
CHEAP = ["--model-arg", "target_size=224", "--model-arg", "flip=false"]


@pytest.mark.parametrize("extra", [
    ["--mode", "single", "--max-clicks", "2"],
    ["--mode", "mist", "--tau", "1", "--fuse", "final"],
    ["--mode", "mist", "--tau", "1", "--fuse", "every-click"],
])
def test_isbench_run_end_to_end(ckpt, tmp_path, extra):
    out = tmp_path / "run"
    res = CliRunner().invoke(main, [
        "run", "--model", "simpleclick-vit-xt", "--checkpoint", str(ckpt), "--limit", "1",
        "--out", str(out), "--no-plots", *CHEAP, *extra], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    records = read_records(out)
    assert records and all(r["clicks"] for r in records)
    cfg = json.loads((out / "config.json").read_text())
    assert "SimpleClickAdapter" in json.dumps(cfg)
