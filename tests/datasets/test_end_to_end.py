"""Each loader family through ``isbench run`` on its tiny official-layout fixture, both
protocols where they apply (skipped until the harness CLI is present)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from official_layouts import Writer, davis, sbd, voc, write_coco_root

cli = pytest.importorskip("isbench.cli")
testing = pytest.importorskip("click.testing")


def _grabcut(root):
    for name in ("a", "b"):
        Writer.rgb(root / "data_GT" / f"{name}.jpg")
        m = np.zeros((12, 16), np.uint8)
        m[2:9, 3:12] = 255
        m[9, 3:12] = 128
        Writer.grey(root / "boundary_GT" / f"{name}.bmp", m)


def _folder(root):
    Writer.rgb(root / "images" / "x.png")
    labels = np.zeros((12, 16), np.uint8)
    labels[1:6, 1:7], labels[6:11, 8:15] = 1, 2
    Writer.palette(root / "masks" / "x.png", labels)


CASES = [("grabcut", _grabcut, "single"), ("sbd", sbd, "single"), ("sbd-multi", sbd, "mist"),
         ("pascalvoc", voc, "single"), ("coco", write_coco_root, "single"),
         ("coco", write_coco_root, "mist"),
         ("coco-dynamite", write_coco_root, "mist"), ("davis17", davis, "mist"),
         ("folder", _folder, "single"), ("folder", _folder, "mist")]


@pytest.mark.parametrize("name,build,mode", CASES)
def test_run_reads_the_dataset(tmp_path, name, build, mode):
    root, out = tmp_path / "data", tmp_path / "run"
    build(root)
    args = ["run", "--model", "grabcut", "--dataset", name, "--data-root", str(root),
            "--mode", mode, "--out", str(out), "--no-plots", "--limit", "2",
            "--max-clicks", "2", "--tau", "1"]
    result = testing.CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["dataset_info"]["name"] == name
    assert (out / "samples.jsonl").read_text().strip()


def test_wrong_root_is_one_line_exit_2(tmp_path):
    result = testing.CliRunner().invoke(
        cli.main, ["run", "--model", "grabcut", "--dataset", "sbd", "--data-root", str(tmp_path),
                   "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "missing folder" in result.output and "expected layout" in result.output
