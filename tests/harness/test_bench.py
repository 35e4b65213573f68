import numpy as np
from click.testing import CliRunner
from isbench.adapters import load

from isbench.bench import bench_model, synthetic_clicks
from isbench.cli import main
from tests.conftest import two_boxes


def test_synthetic_clicks_are_labelled_by_the_object_they_land_on():
    sample = two_boxes()
    clicks = synthetic_clicks(sample.masks, 30, np.random.default_rng(0))
    assert len(clicks) == 30 and clicks[0].positive and clicks[0].object_id == 0
    for c in clicks:
        owner = [k for k in range(2) if sample.masks[k, c.y, c.x]]
        assert c.object_id == (owner[0] if owner else None) and c.positive == bool(owner)


def test_bench_rows_and_cli_table():
    rows = bench_model(load("grabcut"), [1, 3], height=60, width=80, repeats=2)
    assert [r["clicks"] for r in rows] == [1, 3]
    assert all(r["t_image"] >= 0 and r["t_click"] >= 0 for r in rows)
    res = CliRunner().invoke(main, ["bench", "--model", "grabcut", "--clicks", "1,2",
                                    "--size", "60x80", "--repeats", "1"])
    assert res.exit_code == 0 and "avg/interaction" in res.output
    assert len(res.output.strip().splitlines()) == 4
    res = CliRunner().invoke(main, ["bench", "--model", "grabcut", "--size", "big"])
    assert res.exit_code == 2 and "expected e.g." in res.output
