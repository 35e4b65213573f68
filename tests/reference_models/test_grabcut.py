import isbench.metrics.iou
import numpy as np
import pytest

import isbench
import isbench.datasets
from isbench.types import Click
from tests.conftest import two_boxes


def test_grabcut_segments_a_contrasting_box_and_is_deterministic():
    sample = two_boxes()
    model = isbench.adapters.load("grabcut")
    model.set_image(sample.image)
    clicks = (Click(9, 14, True, 0, 0, 0),)
    a = model.predict(clicks, None)
    b = model.predict(clicks, None)
    assert a.dtype == np.float32 and a.shape == (40, 60)
    assert (a == b).all()
    assert isbench.metrics.iou.iou(sample.masks[0], a > 0.5) > 0.7


def test_grabcut_rejects_a_checkpoint_and_bad_arguments():
    with pytest.raises(ValueError, match="takes no --checkpoint"):
        isbench.adapters.load("grabcut", checkpoint="w.pth")
    with pytest.raises(ValueError, match="iterations >= 1"):
        isbench.adapters.load("grabcut", iterations="0")


def test_grabcut_runs_both_protocols_with_identical_records_twice():
    ds = isbench.datasets.load_dataset("synthetic")
    samples = [ds[0], ds[1]]
    model = isbench.adapters.load("grabcut")
    a = isbench.evaluate(model, samples, mode="mist", strategy="worst-with-limit", tau=3)
    b = isbench.evaluate(model, samples, mode="mist", strategy="worst-with-limit", tau=3)
    assert [r["clicks"] for r in a] == [r["clicks"] for r in b]
    single = isbench.evaluate(model, samples[:1], mode="single", max_clicks=3)
    assert len(single) == samples[0].num_objects
