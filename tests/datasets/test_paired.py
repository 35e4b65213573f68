"""GrabCut, Berkeley, DAVIS-345 and COCO-MVal read from tiny copies of the fBRS layouts."""

from __future__ import annotations

import numpy as np
import pytest

from isbench.datasets import DATASETS, load_dataset
from isbench.datasets._common import NoObjectError


def _grabcut_mask() -> np.ndarray:
    m = np.zeros((12, 16), np.uint8)
    m[2:8, 3:9] = 255      # object
    m[8, 3:9] = 128        # ignore band
    m[0, 0] = 1            # RITM quirk: a raw 1 counts as object
    m[0, 1] = 50           # any other low value is background
    m[11, 15] = 129        # just above 128 is object
    return m


def test_grabcut_objects_ignore_ids_and_skipped(tmp_path, write):
    img_a = write.rgb(tmp_path / "data_GT" / "a.png", color=(10, 20, 30))
    write.rgb(tmp_path / "data_GT" / "b.jpg")
    write.rgb(tmp_path / "data_GT" / "c.jpg")  # no mask: skipped, never replaced
    write.grey(tmp_path / "boundary_GT" / "a.bmp", _grabcut_mask())
    write.grey(tmp_path / "boundary_GT" / "b.bmp", _grabcut_mask())
    ds = load_dataset("grabcut", tmp_path)
    assert len(ds) == 2 and [ds[i].id for i in range(2)] == ["a", "b"]
    assert ds.info["skipped"] == [{"id": "c", "reason": "no mask c.* in boundary_GT/"}]
    assert ds.info["name"] == "grabcut" and ds.info["images"] == 2
    s = ds[0]
    np.testing.assert_array_equal(s.image, img_a)  # RGB order kept
    assert s.masks.shape == (1, 12, 16)
    want = np.zeros((12, 16), bool)
    want[2:8, 3:9] = True
    want[0, 0] = want[11, 15] = True
    np.testing.assert_array_equal(s.masks[0], want)
    ignore = np.zeros((12, 16), bool)
    ignore[8, 3:9] = True
    np.testing.assert_array_equal(s.ignore, ignore)
    assert ds[-1].id == "b"
    with pytest.raises(IndexError):
        ds[2]


def test_berkeley_mask_found_by_name_before_first_dot(tmp_path, write):
    write.rgb(tmp_path / "images" / "42049.v2.jpg")
    write.grey(tmp_path / "masks" / "42049.png", _grabcut_mask())
    ds = load_dataset("berkeley", tmp_path)
    assert [ds[0].id] == ["42049"] and ds[0].ignore.sum() == 6


def test_davis_merges_every_coloured_pixel(tmp_path, write):
    write.rgb(tmp_path / "img" / "bear_00010.jpg")
    gt = np.zeros((12, 16), np.uint8)
    gt[1:4, 1:4] = 1   # palette index 1 (dark red) and 2 (green): both object
    gt[6:9, 6:9] = 2
    write.palette(tmp_path / "gt" / "bear_00010.png", gt)
    ds = load_dataset("davis", tmp_path)
    s = ds[0]
    assert s.masks.shape == (1, 12, 16) and s.ignore is None
    np.testing.assert_array_equal(s.masks[0], gt > 0)
    assert ds.info["variant"] == "345"


def test_coco_mval_variants_differ_on_dark_masks(tmp_path, write):
    write.rgb(tmp_path / "img" / "000000001.jpg")
    gt = np.zeros((12, 16), np.uint8)
    gt[2:5, 2:5] = 255
    gt[7:9, 7:9] = 100  # object for RITM (non-zero), background for DynaMITe (<= 128)
    write.grey(tmp_path / "gt" / "000000001.png", gt)
    ritm = load_dataset("coco-mval", tmp_path)[0]
    dyn = load_dataset("coco-mval-dynamite", tmp_path)[0]
    np.testing.assert_array_equal(ritm.masks[0], gt > 0)
    np.testing.assert_array_equal(dyn.masks[0], gt > 128)


def test_empty_mask_raises_naming_the_image(tmp_path, write):
    write.rgb(tmp_path / "img" / "x.jpg")
    write.grey(tmp_path / "gt" / "x.png", np.zeros((12, 16), np.uint8))
    ds = load_dataset("davis", tmp_path)
    with pytest.raises(NoObjectError, match="'x' has no usable object"):
        ds[0]


@pytest.mark.parametrize("name,missing", [("grabcut", "data_GT"), ("berkeley", "images"),
                                          ("davis", "img"), ("coco-mval", "img")])
def test_wrong_root_names_the_missing_folder(tmp_path, name, missing):
    with pytest.raises(ValueError, match=rf"missing folder .*{missing}.*expected layout"):
        load_dataset(name, tmp_path)


def test_registry_entries_need_a_root():
    for name in ("grabcut", "berkeley", "davis", "coco-mval", "sbd", "pascalvoc"):
        assert DATASETS[name].needs_root and DATASETS[name].protocols == ("single",)
    with pytest.raises(ValueError, match="needs --data-root"):
        load_dataset("grabcut")


def test_ambiguous_masks_and_ids_are_refused(tmp_path, write):
    write.rgb(tmp_path / "img" / "x.jpg")
    write.grey(tmp_path / "gt" / "x.png", _grabcut_mask())
    write.grey(tmp_path / "gt" / "x.bmp", _grabcut_mask())
    with pytest.raises(ValueError, match="two mask files for 'x': x.bmp and x.png"):
        load_dataset("davis", tmp_path)
    (tmp_path / "gt" / "x.bmp").unlink()
    write.rgb(tmp_path / "img" / "x.png")
    with pytest.raises(ValueError, match="two images share the id 'x'"):
        load_dataset("davis", tmp_path)
