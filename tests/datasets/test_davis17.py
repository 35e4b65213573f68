"""DAVIS-2017 val read from a tiny copy of its layout (palette PNG instance ids)."""

from __future__ import annotations

import numpy as np
import pytest

from isbench.datasets import load_dataset

H, W = 12, 16


def _frame(write, root, video, stem, labels):
    write.rgb(root / "JPEGImages" / "480p" / video / f"{stem}.jpg", H, W)
    write.palette(root / "Annotations" / "480p" / video / f"{stem}.png", labels)


def _davis(tmp_path, write):
    f0 = np.zeros((H, W), np.uint8)
    f0[0:3, 0:3] = 1
    f0[5:12, 5:16] = 2
    f1 = np.zeros((H, W), np.uint8)
    f1[0:8, 0:8] = 1
    f1[2:4, 2:4] = 3   # id 3 > first frame's max (2): ignored
    f2 = np.zeros((H, W), np.uint8)
    f2[0:2, 0:2] = 3   # only an ignored id: no usable object
    for stem, lab in (("00000", f0), ("00001", f1), ("00002", f2)):
        _frame(write, tmp_path, "bike-packing", stem, lab)
    g0 = np.zeros((H, W), np.uint8)
    g0[4:6, 4:6] = 1
    _frame(write, tmp_path, "blackswan", "00000", g0)
    write.rgb(tmp_path / "JPEGImages" / "480p" / "blackswan" / "00001.jpg", H, W)  # no PNG
    (tmp_path / "ImageSets" / "2017").mkdir(parents=True)
    (tmp_path / "ImageSets" / "2017" / "val.txt").write_text("blackswan\nbike-packing\n")
    return f0, f1


def test_davis17_order_objects_and_skips(tmp_path, write):
    f0, f1 = _davis(tmp_path, write)
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


def test_davis_merged_variant(tmp_path, write):
    f0, _ = _davis(tmp_path, write)
    ds = load_dataset("davis-merged", tmp_path)
    assert ds.info["name"] == "davis-merged" and ds.info["variant"] == "merged"
    s = ds[1]
    assert s.masks.shape == (1, H, W)
    np.testing.assert_array_equal(s.masks[0], f0 > 0)


def test_davis17_needs_first_frame_and_palette(tmp_path, write):
    _davis(tmp_path, write)
    (tmp_path / "Annotations" / "480p" / "blackswan" / "00000.png").unlink()
    with pytest.raises(ValueError, match=r"missing file .*blackswan/00000\.png"):
        load_dataset("davis17", tmp_path)
    write.rgb(tmp_path / "Annotations" / "480p" / "blackswan" / "00000.png", H, W)
    with pytest.raises(ValueError, match="expected a palette PNG"):
        load_dataset("davis17", tmp_path)
