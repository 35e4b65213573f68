"""The DynaMITe weights shipped in the package (``--model dynamite`` without --checkpoint)."""

from __future__ import annotations

import json

import pytest
from isbench.adapters.dynamite import BUNDLED_CHECKPOINT
from isbench.reference_models.dynamite.model import load_checkpoint

from isbench import adapters
from isbench.runner import RunSettings, run

# MIST worst-with-limit on the first 5 val scenes (isbench protocol), measured when the weights
# were committed (the same with one torch thread and with two).
EXPECTED = {"NCI": 5.495238095238095, "NFO": 3, "NFI": 2, "IoU": 0.9112698438171577}


def test_bundled_file_is_small_and_loads_strictly():
    assert BUNDLED_CHECKPOINT.stat().st_size <= 20_000_000
    model = load_checkpoint(BUNDLED_CHECKPOINT, "mitb0-small")
    assert model.isbench_section["config"] == "mitb0-small"
    section = model.isbench_section
    assert model.cfg.min_size == section.get("eval_size", section["input_size"])


def test_default_dynamite_is_the_bundled_model(capsys):
    adapter = adapters.load("dynamite")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not the paper's COCO+LVIS weights" in err[0]
    assert adapter.model.cfg.name == "mitb0-small"
    assert "synthetic" in adapter.info["weights"] and adapter.info["trained"]["input_size"]


def test_bundled_model_reproduces_the_recorded_val_figures(tmp_path):
    out, row = run(RunSettings(model="dynamite", strategy="worst-with-limit", limit=5,
                               out=str(tmp_path / "run"), plots=False), progress=False)
    assert {k: row[k] for k in EXPECTED} == pytest.approx(EXPECTED, abs=1e-9)
    info = json.loads((tmp_path / "run" / "config.json").read_text())["model_info"]
    assert "not the paper's COCO+LVIS weights" in info["weights"]
