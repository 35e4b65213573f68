import numpy as np
import pytest

import isbench
from isbench.protocols import get_protocol
from isbench.sessions import run_mist, run_single
from tests.conftest import FixedMulti, OracleAfter, two_boxes

RITM = get_protocol("ritm")


def test_single_session_stops_when_threshold_reached(boxes):
    model = OracleAfter(boxes, k=3)
    model.set_image(boxes.image)
    rec = run_single(model, boxes, 0, protocol=RITM, max_clicks=20)
    assert rec["ious"] == [0.0, 0.0, 1.0]
    assert model.calls == 3
    first = rec["clicks"][0]
    assert first[:4] == [9, 9, True, 0]  # rows 5..14, cols 5..24: distance 5, first max
    assert rec["object_areas"] == [200]


def test_single_ritm_excludes_only_the_clicked_pixel(boxes):
    model = OracleAfter(boxes, k=99)
    model.set_image(boxes.image)
    rec = run_single(model, boxes, 0, protocol=RITM, max_clicks=3)
    ys = [(c[0], c[1]) for c in rec["clicks"]]
    assert ys == [(9, 9), (9, 10), (9, 11)]  # neighbours on the same ridge are allowed
    rec = run_single(model, boxes, 0, protocol=get_protocol("dynamite"), max_clicks=2)
    (y0, x0), (y1, x1) = [(c[0], c[1]) for c in rec["clicks"]]
    assert (y1 - y0) ** 2 + (x1 - x0) ** 2 > 25  # dynamite: 5-pixel disk excluded


def test_single_ignore_pixels_are_neither_clicked_nor_scored(boxes):
    boxes.ignore = np.zeros((40, 60), bool)
    boxes.ignore[5:15, 5:15] = True
    model = OracleAfter(boxes, k=1)
    model.set_image(boxes.image)
    rec = run_single(model, boxes, 0, protocol=RITM)
    assert rec["clicks"][0][1] >= 15
    assert rec["ious"] == [1.0]


def _stack(*masks):
    return np.stack(masks).astype(np.float32)


def test_mist_fp_click_on_another_object_is_positive_for_it(boxes):
    gt0, gt1 = boxes.masks
    spill = gt0 * 0.9
    spill[5:17, 25:37] = 0.9  # object 0 predicted over all of object 1, above object 1's 0.6
    model = FixedMulti([np.stack([spill, gt1 * 0.6]).astype(np.float32), _stack(gt0, gt1)])
    rec = run_mist(model, boxes, protocol=RITM, strategy="best", rng=None)
    assert [c[:4] for c in rec["clicks"][:2]] == [[9, 9, True, 0], [10, 30, True, 1]]
    assert rec["ious"][0] == [200 / 344, 0.0]
    # best refines object 0; its false positives lie on object 1, so the click names object 1
    assert rec["clicks"][2][2:4] == [True, 1] and rec["targets"] == [0, 1, 0]
    y, x = rec["clicks"][2][:2]
    assert (y - 10) ** 2 + (x - 30) ** 2 > 25  # outside the disk around object 1's first click
    assert rec["final_ious"] == [1.0, 1.0] and len(rec["ious"]) == 2


def test_mist_budget_is_tau_times_objects(boxes):
    model = FixedMulti([np.zeros((2, 40, 60), np.float32)])
    rec = run_mist(model, boxes, protocol=RITM, strategy="best", rng=None, tau=3)
    assert len(rec["clicks"]) == 6 and len(rec["ious"]) == 5
    assert rec["final_ious"] == [0.0, 0.0]


def test_mist_max_distance_clicks_the_joint_error(boxes):
    gt0, gt1 = boxes.masks
    model = FixedMulti([_stack(gt0, np.zeros_like(gt1)), _stack(gt0, gt1)])
    rec = run_mist(model, boxes, protocol=RITM, strategy="max-distance", rng=None)
    assert rec["clicks"][2][2:4] == [True, 1] and rec["targets"][2] == 1


def test_random_strategy_records_do_not_depend_on_sample_order():
    ds = [two_boxes(), two_boxes()]
    ds[1].id = "other"
    model = FixedMulti([np.zeros((2, 40, 60), np.float32)])
    kwargs = dict(mode="mist", strategy="random", seed=3, tau=4, warmup=False)
    a = isbench.evaluate(model, ds, **kwargs)
    b = isbench.evaluate(model, ds[::-1], **kwargs)
    assert a[0]["clicks"] == b[1]["clicks"] and a[1]["clicks"] == b[0]["clicks"]


def test_model_returning_wrong_shape_or_nan_is_named(boxes):
    bad = FixedMulti([np.zeros((2, 10, 10), np.float32)])
    with pytest.raises(ValueError, match=r"returned shape \(2, 10, 10\), expected \(2, 40, 60\)"):
        isbench.evaluate(bad, [boxes], mode="mist", warmup=False)
    for value in (np.nan, np.inf, -np.inf):  # one bad pixel of the second object is enough
        probs = np.zeros((2, 40, 60), np.float32)
        probs[1, 39, 59] = value
        with pytest.raises(ValueError, match="model FixedMulti returned NaN or infinite"):
            isbench.evaluate(FixedMulti([probs]), [boxes], mode="mist", warmup=False)


def test_multi_instance_model_runs_the_single_protocol(boxes):
    model = FixedMulti([boxes.masks[:1].astype(np.float32)])
    recs = isbench.evaluate(model, [boxes], mode="single", warmup=False)
    assert len(recs) == 2 and recs[0]["ious"] == [1.0] and recs[1]["object_id"] == 1


@pytest.mark.parametrize("n", range(1, 10))  # every count of objects modulo the groups of 4
def test_fused_labels_is_argmax_with_background_at_threshold(n):
    from isbench.metrics.iou import ObjectIoU, fused_labels, object_ious

    rng = np.random.default_rng(n)
    probs = rng.choice([0.0, 0.3, 0.49, 0.5, 0.7, 0.9], size=(n, 30, 37)).astype(np.float32)
    for thr in (0.49, 0.5):
        want = np.concatenate([np.full((1, 30, 37), thr, np.float32), probs]).argmax(axis=0)
        labels, finite = fused_labels(probs, thr)
        assert finite and (labels == want).all()
        gt = rng.integers(0, n + 1, size=(30, 37))
        valid = rng.random((30, 37)) > 0.2
        labels, ious, finite = ObjectIoU(gt, n, valid).fused(probs, thr)
        assert finite and (labels == want).all()
        assert (ious == object_ious(gt, want, n, valid)).all()
    for k in range(n):  # a bad value of any object, wherever it falls in its group
        for bad in (np.nan, np.inf, -np.inf):
            broken = probs.copy()
            broken[k, 7, 11] = bad
            assert not fused_labels(broken, 0.5)[1]


def test_fused_labels_of_more_objects_than_a_uint8_map_holds():
    from isbench.metrics.iou import fused_labels

    big = np.random.default_rng(0).random((300, 4, 5)).astype(np.float32)
    want = np.concatenate([np.full((1, 4, 5), 0.5, np.float32), big]).argmax(axis=0)
    labels, finite = fused_labels(big, 0.5)
    assert finite and (labels == want).all()


@pytest.mark.parametrize("radius", [0, 1, 5])
def test_exclusion_is_the_disk_around_each_click_clipped_to_the_image(radius):
    from isbench.sessions import _Exclusion

    exclusion = _Exclusion((9, 14), radius)
    points = [(0, 0), (8, 13), (4, 6), (1, 12)]
    for y, x in points:
        exclusion.add(y, x)
    yy, xx = np.mgrid[:9, :14]
    want = np.zeros((9, 14), bool)
    for y, x in points:
        want |= (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
    assert (exclusion.map == want).all()
