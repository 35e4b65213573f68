import json
import textwrap

import pandas as pd
import pytest
from click.testing import CliRunner

from isbench.cli import main
from isbench.records import read_records


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "mymodels.py").write_text(textwrap.dedent('''
        import numpy as np
        from isbench.adapters import SingleInstanceAdapter

        class Disk(SingleInstanceAdapter):
            """Predicts a disk of `size` pixels around every positive click."""
            def __init__(self, checkpoint=None, size=5):
                self.size, self.checkpoint = int(size), checkpoint
            def set_image(self, image):
                self.shape = image.shape[:2]
            def predict(self, clicks, prev_mask):
                yy, xx = np.mgrid[:self.shape[0], :self.shape[1]]
                out = np.zeros(self.shape, np.float32)
                for c in clicks:
                    if c.positive:
                        out[(yy - c.y) ** 2 + (xx - c.x) ** 2 <= self.size ** 2] = 1
                return out

        class Broken(Disk):
            def predict(self, clicks, prev_mask):
                return np.zeros((3, 3), np.float32)

        class NotAnAdapter:
            def __init__(self, **kw):
                pass
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_user_class_run_resume_leaderboard_and_plots(user_module):
    out = user_module / "runs" / "a"
    res = _run("run", "--model", "mymodels:Disk", "--checkpoint", "w.pth", "--model-arg", "size=7",
               "--strategy", "best", "--limit", "3", "--out", str(out), "--no-plots")
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["mode"] == "mist" and cfg["model_args"] == {"size": 7}
    assert cfg["checkpoint"] == "w.pth" and cfg["protocol"]["name"] == "isbench"
    full = read_records(out)
    assert len(full) == 3
    # interrupted: one record lost and a torn line left behind
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)
    (out / "samples.jsonl").write_text("".join(lines[:1]) + lines[1][:20])
    res = _run("run", "--model", "mymodels:Disk", "--checkpoint", "w.pth", "--model-arg", "size=7",
               "--strategy", "best", "--limit", "3", "--out", str(out), "--resume", "--no-plots")
    assert res.exit_code == 0, res.output
    resumed = read_records(out)
    assert [r["sample_id"] for r in resumed] == [r["sample_id"] for r in full]
    assert [r["clicks"] for r in resumed] == [r["clicks"] for r in full]
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "samples"] == 3 and summary.loc[0, "strategy"] == "best"

    res = _run("leaderboard", str(user_module / "runs"), "-o", str(user_module / "lb.csv"))
    assert res.exit_code == 0 and "mymodels:Disk" in res.output
    assert len(pd.read_csv(user_module / "lb.csv")) == 1
    res = _run("plot", str(user_module / "runs"), "-o", str(user_module / "plots"))
    assert res.exit_code == 0 and "mist_nci_nfo.png" in res.output


def test_existing_run_is_not_overwritten_and_resume_checks_settings(user_module):
    args = ["run", "--model", "mymodels:Disk", "--mode", "single", "--limit", "1", "--out", "r",
            "--no-plots"]
    assert _run(*args).exit_code == 0
    res = _run(*args)
    assert res.exit_code == 2 and "already holds records" in res.output
    res = _run(*args, "--resume", "--model-arg", "size=2")
    assert res.exit_code == 2 and "settings differ (model_args)" in res.output
    assert _run(*args, "--overwrite").exit_code == 0


def test_perturbed_run_takes_its_delta_from_the_clean_sibling_only(user_module):
    base = ["run", "--model", "mymodels:Disk", "--mode", "single", "--limit", "2", "--no-plots"]
    assert _run(*base, "--out", "runs/clean").exit_code == 0
    (user_module / "runs" / "unfinished").mkdir()  # a sharded run left incomplete
    (user_module / "runs" / "unfinished" / "config.shard-0-of-2.json").write_text("{}")
    res = _run(*base, "--perturb", "misleading", "--misleading", "2", "--out", "runs/noisy")
    assert res.exit_code == 0, res.output
    clean = pd.read_csv(user_module / "runs" / "clean" / "summary.csv").loc[0]
    noisy = pd.read_csv(user_module / "runs" / "noisy" / "summary.csv").loc[0]
    assert noisy["ΔNoC@90"] == pytest.approx(noisy["NoC@90"] - clean["NoC@90"])


@pytest.mark.parametrize("args, message", [
    (["--model", "nope"], "unknown model 'nope'"),
    (["--model", "mymodels:NotAnAdapter"], "is not an adapter"),
    (["--model", "mymodels:Missing"], "has no 'Missing'"),
    (["--model", "grabcut", "--strategy", "sideways"], "unknown strategy 'sideways'"),
    (["--model", "grabcut", "--dataset", "nowhere"], "unknown dataset 'nowhere'"),
    (["--model", "grabcut", "--model-arg", "iterations=many"], "grabcut: bad model argument"),
    (["--model", "mymodels:Broken", "--mode", "single"], "returned shape (3, 3)"),
])
def test_bad_input_is_one_line_and_exit_2(user_module, args, message):
    res = _run("run", *args, "--limit", "1", "--out", "x", "--no-plots")
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()[-1]) < 300


def test_list_shows_models_strategies_datasets():
    res = _run("list")
    assert res.exit_code == 0
    for word in ("grabcut", "worst-with-limit", "max-distance", "synthetic", "dynamite"):
        assert word in res.output


def test_installed_plugin_is_found_through_the_entry_point_group(user_module, monkeypatch):
    from importlib.metadata import EntryPoint

    import isbench.registry as registry

    ep = EntryPoint("disk-plugin", "mymodels:Disk", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points",
                        lambda group: [ep] if group == registry.ENTRY_POINT_GROUP else [])
    assert "disk-plugin" in _run("list").output
    res = _run("run", "--model", "disk-plugin", "--mode", "single", "--limit", "1", "--out", "p",
               "--no-plots")
    assert res.exit_code == 0, res.output
