import numpy as np
import pytest
from isbench.adapters import SingleInstanceAdapter
from isbench.strategies.perturb import Perturbation, jitter_point, repetitive_point

import isbench
from isbench.leaderboard import add_deltas
from isbench.sessions import _false_label
from tests.conftest import OracleAfter, two_boxes


class LeftHalf(SingleInstanceAdapter):
    """Predicts the left half of the true object under the first positive click, forever
    (never reaching 0.9, so all clicks are taken)."""

    def __init__(self, sample, scale=1.0):
        self.sample, self.scale = sample, scale

    def set_image(self, image):
        pass

    def predict(self, clicks, prev_mask):
        out = np.zeros(self.sample.masks.shape[1:], np.float32)
        c = next(c for c in clicks if c.positive) if any(c.positive for c in clicks) else None
        if c is not None:
            for m in self.sample.masks:
                if m[c.y, c.x]:
                    xs = np.nonzero(m.any(axis=0))[0]
                    half = m.copy()
                    half[:, (xs[0] + xs[-1]) // 2:] = False
                    out[half] = self.scale
        return out


def test_plan_is_seeded_and_within_bounds():
    p = Perturbation("misleading", count=5)
    a = p.plan(np.random.default_rng(1), 19)
    assert a == p.plan(np.random.default_rng(1), 19)
    assert len(a) == 5 and all(0 <= k < 19 for k in a)
    assert set(a.values()) <= {"repetitive", "false"}
    only_false = Perturbation("misleading", count=3, kinds=("false",)).plan(
        np.random.default_rng(1), 2)
    assert list(only_false.values()) == ["false", "false"]
    with pytest.raises(ValueError, match="misleading kinds 'wrong'"):
        Perturbation("misleading", kinds=("wrong",))


def test_misleading_schedule_is_identical_across_models_and_audited_in_records():
    sample = two_boxes()
    p = Perturbation("misleading", count=5)
    kw = {"mode": "single", "perturbation": p, "warmup": False, "max_clicks": 20, "seed": 4}
    a = isbench.evaluate(LeftHalf(sample), [sample], **kw)
    b = isbench.evaluate(LeftHalf(sample, scale=0.7), [sample], **kw)
    kinds_a = [[c[4] for c in r["clicks"]] for r in a]
    assert kinds_a == [[c[4] for c in r["clicks"]] for r in b]
    for kinds in kinds_a:
        assert len(kinds) == 20 and kinds[0] == "normal"
        assert sum(k != "normal" for k in kinds) == 5
    for r in a:
        gt = sample.masks[r["object_id"]]
        for y, x, positive, _, kind in r["clicks"]:
            if kind == "false":
                assert positive != bool(gt[y, x])  # the label is flipped
            if kind == "repetitive":
                # inside what is already predicted (the left half): corrects nothing
                xs = np.nonzero(gt.any(axis=0))[0]
                assert gt[y, x] and x < (xs[0] + xs[-1]) // 2 and positive


def test_repetitive_point_falls_back_to_a_repeat():
    region = np.zeros((5, 5), bool)
    assert repetitive_point(region, region, (1, 2)) == (1, 2)
    region[1:4, 1:4] = True
    assert repetitive_point(region, np.zeros_like(region), (0, 0)) == (2, 2)


def test_jitter_stays_in_the_region_and_depends_on_the_seed():
    region = np.zeros((60, 60), bool)
    region[10:50, 10:50] = True
    pts = {jitter_point(region, 29, 29, np.random.default_rng(s), 0.5) for s in range(20)}
    assert len(pts) > 5 and all(region[p] for p in pts)
    assert jitter_point(region, 29, 29, np.random.default_rng(0), 0.0) == (29, 29)
    sample = two_boxes()
    kw = {"mode": "single", "perturbation": Perturbation("jitter"), "warmup": False}
    r0 = isbench.evaluate(OracleAfter(sample, 3), [sample], repeat=0, **kw)
    r0b = isbench.evaluate(OracleAfter(sample, 3), [sample], repeat=0, **kw)
    r1 = isbench.evaluate(OracleAfter(sample, 3), [sample], repeat=1, **kw)
    assert r0[0]["clicks"] == r0b[0]["clicks"] and r0[0]["clicks"] != r1[0]["clicks"]
    assert all(c[4] == "jitter" for c in r0[0]["clicks"])


def test_false_mist_click_names_the_wrong_object():
    rng = np.random.default_rng(0)
    assert _false_label(-1, 2, 3, rng) == 2  # background click becomes positive for target
    assert _false_label(0, 0, 1, rng) == -1  # the only object: becomes background
    assert _false_label(1, 0, 3, rng) in (0, 2)


def test_mist_misleading_run_marks_corrective_clicks_only():
    sample = two_boxes()
    model = isbench.adapters.load("grabcut")
    recs = isbench.evaluate(model, [sample], mode="mist", strategy="worst", tau=10,
                            perturbation=Perturbation("misleading", count=3), warmup=False)
    kinds = [c[4] for c in recs[0]["clicks"]]
    assert kinds[:2] == ["normal", "normal"]


def test_deltas_against_the_clean_run():
    base = {"model": "m", "dataset": "d", "mode": "single", "strategy": "standard",
            "protocol": "isbench", "NoC@90": 3.0, "NCI": None, "ΔNoC@90": None, "ΔNCI": None}
    rows = add_deltas([dict(base, perturb="none"), dict(base, perturb="misleading", **{
        "NoC@90": 4.5}), dict(base, model="other", perturb="misleading")])
    assert rows[1]["ΔNoC@90"] == 1.5
    assert rows[0]["ΔNoC@90"] is None and rows[2]["ΔNoC@90"] is None
