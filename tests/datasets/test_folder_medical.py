"""The generic folder layout and SimpleClick's medical layouts (BraTS, ssTEM, OAI-ZIB)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from isbench.datasets import load_dataset

H, W = 12, 16


def test_folder_id_png_and_per_instance_pngs(tmp_path, write):
    write.rgb(tmp_path / "images" / "a.jpg", H, W)
    labels = np.zeros((H, W), np.uint8)
    labels[0:4, 0:4] = 7
    labels[6:9, 6:9] = 2
    labels[10, :] = 255
    write.palette(tmp_path / "masks" / "a.png", labels)
    write.rgb(tmp_path / "images" / "b.png", H, W)
    one, two = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    one[1:3, 1:3], two[5:7, 5:7] = 255, 1
    write.grey(tmp_path / "masks" / "b" / "cat.png", one)
    write.grey(tmp_path / "masks" / "b" / "dog.png", two)
    write.grey(tmp_path / "masks" / "b" / "empty.png", np.zeros((H, W), np.uint8))
    write.grey(tmp_path / "masks" / "b" / "ignore.png", (labels == 255).astype(np.uint8))
    write.rgb(tmp_path / "images" / "c.jpg", H, W)  # no mask
    ds = load_dataset("folder", tmp_path)
    assert [ds[i].id for i in range(len(ds))] == ["a", "b"]
    assert ds.info["skipped"] == [{"id": "c", "reason": "no masks/c.png or masks/c/"}]
    a = ds[0]
    assert a.meta["instances"] == [2, 7]
    np.testing.assert_array_equal(a.masks[1], labels == 7)
    np.testing.assert_array_equal(a.ignore, labels == 255)
    b = ds[1]
    assert b.meta["instances"] == ["cat.png", "dog.png"]
    np.testing.assert_array_equal(b.masks[1], two > 0)
    np.testing.assert_array_equal(b.ignore, labels == 255)
    assert load_dataset("folder", tmp_path, ignore_value="none")[0].meta["instances"] == [
        2, 7, 255]


def test_folder_16bit_ids_and_colour_png_refused(tmp_path, write):
    write.rgb(tmp_path / "images" / "a.jpg", H, W)
    labels = np.zeros((H, W), np.uint16)
    labels[2:4, 2:4] = 1000
    (tmp_path / "masks").mkdir()
    Image.fromarray(labels).save(tmp_path / "masks" / "a.png")
    assert load_dataset("folder", tmp_path)[0].meta["instances"] == [1000]
    write.rgb(tmp_path / "masks" / "a.png", H, W)
    with pytest.raises(ValueError, match="expected a palette, grey or 16-bit PNG"):
        load_dataset("folder", tmp_path)[0]


def test_brats_nonzero_is_the_object(tmp_path, write):
    write.rgb(tmp_path / "image" / "BraTS20_001_77.png", H, W)
    m = np.zeros((H, W), np.uint8)
    m[3:5, 3:9] = 1
    write.grey(tmp_path / "annotation" / "BraTS20_001_77.png", m)
    s = load_dataset("brats", tmp_path)[0]
    np.testing.assert_array_equal(s.masks, (m > 0)[None])


def test_sstem_components_are_8_connected(tmp_path, write):
    write.rgb(tmp_path / "raw" / "00.tif", H, W)
    m = np.zeros((H, W), np.uint8)
    m[1, 1] = m[2, 2] = 255        # touch diagonally: one object
    m[6:8, 6:9] = 255
    m[10, 14] = 255
    write.grey(tmp_path / "mitochondria" / "00.png", m)
    s = load_dataset("sstem", tmp_path)[0]
    assert s.num_objects == 3
    np.testing.assert_array_equal(s.masks[0], (m > 0) & (np.arange(H)[:, None] < 3))
    assert s.masks.sum() == (m > 0).sum()


def test_oaizib_one_object_per_value(tmp_path, write):
    write.rgb(tmp_path / "test" / "image" / "9001104_070.png", H, W)
    m = np.zeros((H, W), np.uint8)
    m[0:3, :] = 1   # femoral cartilage
    m[8:10, :] = 2  # tibial cartilage
    write.grey(tmp_path / "test" / "annotations" / "9001104_070.png", m)
    s = load_dataset("oaizib", tmp_path)[0]
    np.testing.assert_array_equal(s.masks, np.stack([m == 1, m == 2]))
    with pytest.raises(ValueError, match=r"missing folder .*test/image"):
        load_dataset("oaizib", tmp_path / "test")
