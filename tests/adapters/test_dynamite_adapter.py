"""The DynaMITe adapter: loading by name, per-image caching, outputs on a tiny image."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from isbench.reference_models.dynamite.model import build_model, instance_masks_from_logits

from isbench import adapters
from isbench.types import Click

TINY = {"min_size": "64", "max_size": "96"}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("dynamite") / "mitb0.pth"
    torch.save({"model": build_model("mitb0").state_dict(), "iteration": 0}, path)
    return str(path)


@pytest.fixture(scope="module")
def adapter(checkpoint):
    return adapters.load("dynamite-mitb0", checkpoint=checkpoint, **TINY)


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 96, 3), dtype=np.uint8)


def test_set_image_runs_backbone_once_and_predict_reuses_it(adapter):
    assert adapter.info["config"] == "mitb0" and adapter.info["max_size"] == 96
    calls = []
    hook = adapter.model.backbone.register_forward_hook(lambda *args: calls.append(1))
    clicks = [
        Click(10, 10, True, 0, 0, 0),
        Click(30, 50, True, 1, 1, 1),
        Click(50, 80, True, 2, 2, 2),
        Click(60, 5, False, None, 0, 3),
        Click(12, 14, True, 0, 0, 4),
    ]
    try:
        for seed in range(2):
            adapter.set_image(_image(seed))
            for n in range(3, len(clicks) + 1):
                probs = adapter.predict(clicks[:n], 3)
                assert probs.shape == (3, 64, 96) and probs.dtype == np.float32
                assert np.isfinite(probs).all() and probs.min() >= 0 and probs.max() <= 1
            assert len(calls) == seed + 1
    finally:
        hook.remove()


def test_probabilities_reproduce_the_official_argmax(adapter):
    adapter.set_image(_image(3))
    clicks = [Click(10, 10, True, 0), Click(40, 60, True, 1), Click(5, 90, False, None)]
    probs = adapter.predict(clicks, 2)
    harness = np.where(probs.max(0) >= adapter.threshold, probs.argmax(0), -1)
    logits = adapter.model.predict_logits(
        adapter._feats, [[(10.0, 10.0, 0.0)], [(40.0, 60.0, 1.0)]], [(5.0, 90.0, 2.0)], 2
    )
    official = instance_masks_from_logits(logits, [1, 1]).argmax(0).numpy()
    official = np.where(official < 2, official, -1)
    assert (harness == official).all()
    assert set(np.unique(harness)) == {-1, 0, 1}


def test_object_without_clicks_gets_zero(adapter):
    adapter.set_image(_image(1))
    probs = adapter.predict([Click(10, 10, True, 1)], 2)
    assert (probs[0] == 0).all() and probs[1].max() > 0


@pytest.mark.parametrize("mode", [["--mode", "single", "--max-clicks", "3"],
                                  ["--strategy", "worst-with-limit", "--tau", "2"]])
def test_isbench_run_end_to_end_on_the_bundled_dataset(checkpoint, tmp_path, mode):
    from click.testing import CliRunner

    from isbench.cli import main
    from isbench.records import read_records

    res = CliRunner().invoke(main, [
        "run", "--model", "dynamite-mitb0", "--checkpoint", checkpoint, "--limit", "2",
        "--model-arg", "min_size=64", "--model-arg", "max_size=96", "--no-plots",
        "--out", str(tmp_path / "run"), *mode], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    records = read_records(tmp_path / "run")
    assert records and all(len(r["t_click"]) >= 1 and r["t_image"] > 0 for r in records)


def test_user_errors_are_one_line_value_errors(checkpoint, adapter):
    with pytest.raises(ValueError, match="dynamite-mitb0"):
        adapters.load("dynamite-swin-t", checkpoint=checkpoint)
    with pytest.raises(ValueError, match="max_size='big' is not an integer"):
        adapters.load("dynamite-mitb0", checkpoint=checkpoint, max_size="big")
    with pytest.raises(ValueError, match="config='vit'"):
        adapters.load("dynamite-mitb0", checkpoint=checkpoint, config="vit")
    with pytest.raises(ValueError, match="--checkpoint"):
        adapters.load("dynamite-swin-l")
    adapter.set_image(_image(0))
    with pytest.raises(ValueError, match="object_id 2"):
        adapter.predict([Click(1, 1, True, 2)], 2)


def test_predict_before_set_image(checkpoint):
    fresh = adapters.load("dynamite-mitb0", checkpoint=checkpoint)
    with pytest.raises(RuntimeError, match="set_image"):
        fresh.predict([Click(1, 1, True, 0)], 1)
