"""DAVIS-2017 val read from a tiny copy of its layout (palette PNG instance ids)."""

from __future__ import annotations

import numpy as np
import pytest
from official_layouts import H, W, davis

from isbench.datasets import load_dataset


def test_davis17_order_objects_and_skips(tmp_path):
    f0, f1 = davis(tmp_path)
    ds = load_dataset("davis17", tmp_path)
    assert [ds[i].id for i in range(len(ds))] == [
        "blackswan/00000", "bike-packing/00000", "bike-packing/00001"]
    assert ds.info["skipped"] == [
        {"id": "blackswan/00001", "reason": "no annotation PNG"},
        {"id": "bike-packing/00002", "reason": "no object of the first frame visible"}]
    s = ds[1]
    assert s.meta["object_ids"] == [2, 1]  # largest first
    np.testing.assert_array_equal(s.masks[0], f0 == 2)
    s = ds[2]
    assert s.meta["object_ids"] == [1] and s.num_objects == 1
    np.testing.assert_array_equal(s.masks[0], f1 == 1)
    plain = load_dataset("davis17", tmp_path, variant="annotations")
    assert plain[1].meta["object_ids"] == [1, 2]


def test_davis_merged_variant(tmp_path):
    f0, _ = davis(tmp_path)
    ds = load_dataset("davis-merged", tmp_path)
    assert ds.info["name"] == "davis-merged" and ds.info["variant"] == "merged"
    s = ds[1]
    assert s.masks.shape == (1, H, W)
    np.testing.assert_array_equal(s.masks[0], f0 > 0)


def test_davis17_needs_first_frame_and_palette(tmp_path, write):
    davis(tmp_path)
    (tmp_path / "Annotations" / "480p" / "blackswan" / "00000.png").unlink()
    with pytest.raises(ValueError, match=r"missing file .*blackswan/00000\.png"):
        load_dataset("davis17", tmp_path)
    write.rgb(tmp_path / "Annotations" / "480p" / "blackswan" / "00000.png", H, W)
    with pytest.raises(ValueError, match="expected a palette PNG"):
        load_dataset("davis17", tmp_path)
