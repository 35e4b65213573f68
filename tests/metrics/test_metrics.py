import numpy as np
import pytest
from isbench.metrics import mist, single
from isbench.metrics.iou import iou, label_map, object_ious
from isbench.metrics.summary import summarize


def test_noc_nof_worked_example_from_the_ritm_spec():
    ious = [[0.09, 0.09, 0.09], [0.5, 0.86, 0.95]]
    assert single.noc(ious, 0.80) == 11.0
    assert single.noc(ious, 0.85) == 11.0
    assert single.noc(ious, 0.90) == 11.5
    assert single.nof(ious, 0.90) == 1


def test_nof_rules_differ_on_a_sample_reaching_at_the_last_click():
    ious = [[0.1] * 19 + [0.9]]
    assert single.noc(ious, 0.9, 20) == 20.0
    assert single.nof(ious, 0.9, 20, "noc-at-max") == 1
    assert single.nof(ious, 0.9, 20, "never-reached") == 0


def test_threshold_equality_counts_as_reached():
    assert single.noc([[0.85]], 0.85) == 1.0


def test_miou_at_k_carries_the_last_iou_forward():
    ious = [[0.5, 0.9], [0.2, 0.4, 0.6]]
    assert single.miou_at(ious, 1) == pytest.approx(0.35)
    assert single.miou_at(ious, 3) == pytest.approx((0.9 + 0.6) / 2)
    assert single.miou_at(ious, 20) == pytest.approx(0.75)


def test_mist_metrics_hand_computed():
    records = [
        {"num_objects": 2, "clicks": [0] * 4, "final_ious": [0.9, 0.8]},
        {"num_objects": 1, "clicks": [0] * 1, "final_ious": [0.95]},
        {"num_objects": 3, "clicks": [0] * 30, "final_ious": [0.1, 0.85, 0.2]},
    ]
    assert mist.nci(records) == pytest.approx((2 + 1 + 10) / 3)
    assert mist.nfo(records, 0.85) == 3
    assert mist.nfi(records, 0.85) == 2
    assert mist.mean_final_iou(records) == pytest.approx((0.85 + 0.95 + 1.15 / 3) / 3)


def test_iou_counts_only_valid_pixels_and_empty_union_is_one():
    gt = np.zeros((4, 4), bool)
    pred = np.zeros((4, 4), bool)
    assert iou(gt, pred) == 1.0
    gt[0, :2] = True
    pred[0, 1:3] = True
    assert iou(gt, pred) == pytest.approx(1 / 3)
    valid = np.ones((4, 4), bool)
    valid[0, 2] = False
    assert iou(gt, pred, valid) == pytest.approx(1 / 2)


def test_object_ious_from_joint_histogram_equal_per_object_ious():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 4, (30, 40))
    pred = rng.integers(0, 4, (30, 40))
    got = object_ious(gt, pred, 3)
    want = [iou(gt == k, pred == k) for k in (1, 2, 3)]
    assert np.allclose(got, want)
    masks = np.stack([gt == k for k in (1, 2, 3)])
    assert (label_map(masks) == gt).all()


def test_failures_by_area_bins():
    failed, total = mist.failures_by_area([10, 100, 1000, 5000], [0.5, 0.9, 0.1, 0.9], 0.85,
                                          [0, 50, 2000, np.inf])
    assert failed.tolist() == [1, 1, 0] and total.tolist() == [1, 2, 1]


def test_summary_timing_and_columns():
    recs = [{"ious": [0.5, 0.95], "clicks": [0, 0], "t_image": 1.0, "t_click": [0.5, 0.5],
             "object_areas": [10]}]
    row = summarize(recs, mode="single", labels={"model": "m"})
    assert row["model"] == "m" and row["samples"] == 1
    assert row["NoC@90"] == 2.0 and row["SPC"] == pytest.approx(1.0)
    assert row["t_image"] == 1.0 and row["t_click"] == 0.5 and row["NCI"] is None


def test_object_ious_with_ignore_and_many_objects_match_per_object_ious():
    rng = np.random.default_rng(1)
    valid = rng.random((30, 40)) > 0.3
    for n in (3, 20):  # uint8 histogram path and the general path
        gt = rng.integers(0, n + 1, (30, 40))
        pred = rng.integers(0, n + 1, (30, 40))
        got = object_ious(gt, pred, n, valid)
        want = [iou(gt == k, pred == k, valid) for k in range(1, n + 1)]
        assert np.allclose(got, want)


def test_object_iou_refuses_more_objects_than_its_codes_hold():
    from isbench.metrics.iou import MAX_OBJECTS, ObjectIoU

    labels = np.zeros((2, 2), np.int32)
    assert ObjectIoU(labels, MAX_OBJECTS)(labels).shape == (MAX_OBJECTS,)
    with pytest.raises(ValueError, match="at most 32767"):
        ObjectIoU(labels, MAX_OBJECTS + 1)
