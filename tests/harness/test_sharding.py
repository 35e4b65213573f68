import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from isbench.cli import main
from isbench.records import read_records
from isbench.sharding import balanced_assignment, parse_shard

TIMING = ("t_image", "t_click", "peak_mem_mb")


def _strip(records):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in records]


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_parse_shard_and_bad_input():
    assert parse_shard("1/4").index == 1 and parse_shard("1/4").count == 4
    for bad in ("3/2", "x", "2/2", "-1/3"):
        with pytest.raises(ValueError, match="expected i/N"):
            parse_shard(bad)


def test_assignment_balances_cost_and_is_a_pure_function():
    costs = [(1, 100), (8, 100), (1, 100), (4, 100), (3, 100), (1, 100)]
    shards = balanced_assignment(costs, 2)
    assert shards == balanced_assignment(costs, 2)
    # largest first onto the lighter shard: 8 | 4+3 | +1 → 8 | 8 | tie → shard 0 ... loads 9 and 9
    assert shards == [[1, 2], [0, 3, 4, 5]]
    assert sorted(i for s in shards for i in s) == list(range(6))
    assert balanced_assignment(costs, 8)[7] == []


@pytest.mark.parametrize("mode_args", [["--strategy", "random", "--tau", "3"],
                                       ["--mode", "single", "--max-clicks", "4"]])
def test_shards_merge_into_the_single_process_records(tmp_path, mode_args):
    common = ["run", "--model", "grabcut", "--limit", "5", "--no-plots", *mode_args]
    assert _run(*common, "--out", str(tmp_path / "one")).exit_code == 0
    many = tmp_path / "many"
    for i in range(3):
        res = _run(*common, "--out", str(many), "--shard", f"{i}/3")
        assert res.exit_code == 0 and "isbench merge" in res.output
        if i == 1:  # the leaderboard names what is missing
            res = _run("leaderboard", str(many))
            assert res.exit_code == 2 and "shards [2] of 3 are missing" in res.output
    cfg = json.loads((many / "config.shard-0-of-3.json").read_text())
    assert cfg["world_size"] == 3 and len(cfg["assignment"]) == 3
    res = _run("merge", str(many), "--no-plots")
    assert res.exit_code == 0, res.output
    assert _strip(read_records(many)) == _strip(read_records(tmp_path / "one"))
    assert not list(many.glob("*.shard-*"))


def test_incomplete_and_mismatched_shards_are_refused(tmp_path):
    common = ["run", "--model", "grabcut", "--limit", "3", "--no-plots", "--tau", "2"]
    out = str(tmp_path / "r")
    assert _run(*common, "--out", out, "--shard", "0/2").exit_code == 0
    res = _run(*common, "--out", out, "--shard", "1/2", "--seed", "9")
    assert res.exit_code == 0
    res = _run("merge", out)
    assert res.exit_code == 2 and "shard 1 was run with other settings" in res.output
    assert _run(*common, "--out", out, "--shard", "1/2", "--overwrite").exit_code == 0
    records = tmp_path / "r" / "samples.shard-0-of-2.jsonl"
    records.write_text("".join(records.read_text().splitlines(keepends=True)[:-1]))
    res = _run("merge", out)
    assert res.exit_code == 2 and "incomplete shards 0" in res.output
    res = _run(*common, "--out", out, "--shard", "0/2", "--resume")
    assert res.exit_code == 0
    assert _run("merge", out, "--no-plots").exit_code == 0


def test_per_dataset_random_stream_cannot_be_sharded(tmp_path):
    res = _run("run", "--model", "grabcut", "--protocol", "dynamite", "--strategy", "random",
               "--shard", "0/2", "--out", str(tmp_path / "x"))
    assert res.exit_code == 2 and "cannot be sharded" in res.output


def test_torchrun_two_processes_give_the_single_process_records(tmp_path):
    """Two gloo ranks on localhost write one run identical to one process."""
    (tmp_path / "fastmodel.py").write_text(textwrap.dedent('''
        import numpy as np
        from isbench.adapters import SingleInstanceAdapter

        class Box(SingleInstanceAdapter):
            """A 15x15 box around the first positive click."""
            def set_image(self, image):
                self.shape = image.shape[:2]
            def predict(self, clicks, prev_mask):
                out = np.zeros(self.shape, np.float32)
                for c in clicks:
                    if c.positive:
                        out[max(c.y - 7, 0):c.y + 8, max(c.x - 7, 0):c.x + 8] = 1
                return out
    '''))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "OMP_NUM_THREADS": "1"}
    args = ["run", "--model", "fastmodel:Box", "--strategy", "worst-with-limit", "--limit", "6",
            "--tau", "3", "--no-plots"]
    one = subprocess.run([sys.executable, "-m", "isbench", *args, "--out", str(tmp_path / "one")],
                         env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "isbench", *args, "--out", str(tmp_path / "two")],
        env=env, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-2000:]
    assert _strip(read_records(tmp_path / "two")) == _strip(read_records(tmp_path / "one"))
    cfg = json.loads((tmp_path / "two" / "config.json").read_text())
    assert cfg["world_size"] == 2 and (tmp_path / "two" / "summary.csv").exists()
