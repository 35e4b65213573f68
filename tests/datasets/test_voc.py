"""SBD and PASCAL VOC read from tiny copies of their official layouts."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from official_layouts import sbd, voc, write_sbd_mat
from scipy.io import savemat

from isbench.datasets import load_dataset


def test_sbd_single_every_instance_ascending(tmp_path):
    seg_a, _ = sbd(tmp_path)
    ds = load_dataset("sbd", tmp_path)
    assert len(ds) == 2 and [ds[i].id for i in range(2)] == ["2008_000003", "2008_000002"]
    s = ds[1]
    assert s.meta["instance_ids"] == [1, 2, 3] and s.ignore is None
    for k, v in enumerate([1, 2, 3]):
        np.testing.assert_array_equal(s.masks[k], seg_a == v)
    assert sum(ds[i].num_objects for i in range(2)) == 4
    assert not (tmp_path / "val_images_and_ids_list.pkl").exists()  # nothing written


def test_sbd_multi_dynamite_order_is_largest_first(tmp_path):
    seg_a, _ = sbd(tmp_path)
    s = load_dataset("sbd-multi", tmp_path)[1]
    assert s.meta["instance_ids"] == [1, 2, 3]  # areas 100, 25, 4
    plain = load_dataset("sbd-multi", tmp_path, variant="annotations")
    assert plain.info["variant"] == "annotations"
    seg_a[0:10, 0:10] = 0
    seg_a[0:1, 0:1] = 1     # now id 1 is the smallest
    write_sbd_mat(tmp_path / "inst" / "2008_000002.mat", seg_a)
    s = load_dataset("sbd-multi", tmp_path)[1]
    assert s.meta["instance_ids"] == [2, 3, 1]
    np.testing.assert_array_equal(s.masks[2], seg_a == 1)


def test_sbd_missing_listed_file_is_named(tmp_path):
    sbd(tmp_path)
    (tmp_path / "inst" / "2008_000002.mat").unlink()
    with pytest.raises(ValueError, match=r"missing file .*2008_000002\.mat"):
        load_dataset("sbd", tmp_path)


def test_sbd_mat_without_gtinst_is_refused(tmp_path):
    sbd(tmp_path)
    savemat(tmp_path / "inst" / "2008_000002.mat", {"other": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="GTinst"):
        load_dataset("sbd", tmp_path)[1]


def test_pascalvoc_val_grey_ids_and_void_ignore(tmp_path):
    idx = voc(tmp_path)
    ds = load_dataset("pascalvoc", tmp_path)
    s = ds[0]
    assert s.meta["grey_ids"] == [38, 75]  # grey of palette 1 (and 16), 2
    np.testing.assert_array_equal(s.masks[0], (idx == 1) | (idx == 16))
    np.testing.assert_array_equal(s.masks[1], idx == 2)
    np.testing.assert_array_equal(s.ignore, idx == 255)
    assert ds[1].meta["grey_ids"] == [113] and not ds[1].ignore.any()
    assert ds.info["variant"] == "val"


def test_pascalvoc_ritm_test_pickle_grouped_per_image(tmp_path):
    idx = voc(tmp_path)
    pairs = (["2007_000033", "2007_000032", "2007_000033", "2007_000032"], [113, 75, 90, 38])
    with open(tmp_path / "ImageSets" / "Segmentation" / "test.pickle", "wb") as f:
        pickle.dump(pairs, f)
    ds = load_dataset("pascalvoc-ritm", tmp_path)
    assert ds.info["variant"] == "ritm-test" and len(ds) == 2
    assert [ds[i].id for i in range(2)] == ["2007_000033", "2007_000032"]
    a = ds[0]
    assert a.meta["grey_ids"] == [113] and a.meta["absent_grey_ids"] == [90]  # listed, absent
    assert a.num_objects == 1
    b = ds[1]
    np.testing.assert_array_equal(b.masks[0], idx == 2)
    np.testing.assert_array_equal(b.ignore, idx == 255)


def test_pascalvoc_ritm_needs_its_pickle(tmp_path):
    voc(tmp_path)
    with pytest.raises(ValueError, match=r"missing file .*test\.pickle"):
        load_dataset("pascalvoc-ritm", tmp_path)
