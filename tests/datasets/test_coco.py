"""COCO, LVIS and user COCO json read from tiny jsons with polygons, RLE and crowd regions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from isbench.datasets import load_dataset

H, W = 12, 16


def _rle(mask: np.ndarray) -> dict:
    """Compressed RLE as COCO json stores it (counts as a str)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """Uncompressed RLE (counts as a list, column-major), the form COCO uses for crowds."""
    flat = mask.flatten(order="F").astype(np.uint8)
    counts, current, run = [], 0, 0
    for v in flat:
        if v == current:
            run += 1
        else:
            counts.append(run)
            current, run = v, 1
    counts.append(run)
    return {"size": [H, W], "counts": counts}


def _box(y0, y1, x0, x1) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def _coco(tmp_path, write, image_dir):
    poly = [[2.0, 1.0, 7.0, 1.0, 7.0, 5.0, 2.0, 5.0]]  # x, y pairs: a box over x 2..7, y 1..5
    big, small, crowd = _box(0, 10, 8, 16), _box(2, 4, 10, 12), _box(9, 12, 0, 6)
    images = [{"id": 30, "file_name": "000000000030.jpg", "height": H, "width": W},
              {"id": 7, "file_name": "000000000007.jpg", "height": H, "width": W},
              {"id": 9, "file_name": "000000000009.jpg", "height": H, "width": W},
              {"id": 11, "file_name": "000000000011.jpg", "height": H, "width": W}]
    anns = [
        {"id": 1, "image_id": 7, "category_id": 3, "iscrowd": 0, "area": 20.0,
         "segmentation": poly},
        {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 4.0,
         "segmentation": _rle(small)},
        {"id": 3, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 80.0,
         "segmentation": _rle(big)},
        {"id": 4, "image_id": 7, "category_id": 1, "iscrowd": 1, "area": 18.0,
         "segmentation": _uncompressed_rle(crowd)},
        {"id": 5, "image_id": 7, "category_id": 2, "iscrowd": 0, "area": 0.0,
         "segmentation": [[1.0, 1.0, 2.0, 2.0]]},  # 2 points: dropped
        {"id": 6, "image_id": 9, "category_id": 1, "iscrowd": 1, "area": 18.0,
         "segmentation": _uncompressed_rle(crowd)},
        {"id": 7, "image_id": 30, "category_id": 1, "iscrowd": 0, "area": 16.0,
         "segmentation": _rle(_box(0, 4, 0, 4))},
    ]
    for img in images:
        write.rgb(image_dir / img["file_name"], H, W)
    return {"images": images, "annotations": anns, "categories": [{"id": 1}]}, (big, small, crowd)


def _write_coco_root(tmp_path, write):
    data, masks = _coco(tmp_path, write, tmp_path / "val2017")
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_val2017.json").write_text(json.dumps(data))
    return masks


def test_coco_annotations_variant(tmp_path, write):
    big, small, crowd = _write_coco_root(tmp_path, write)
    ds = load_dataset("coco", tmp_path)
    assert [ds[i].id for i in range(len(ds))] == ["7", "30"]  # sorted ids, 9 and 11 skipped
    assert ds.info["skipped"] == [{"id": "9", "reason": "only crowd annotations"},
                                  {"id": "11", "reason": "no annotation"}]
    s = ds[0]
    assert s.meta["annotation_ids"] == [1, 2, 3] and s.meta["category_ids"] == [3, 1, 1]
    np.testing.assert_array_equal(s.masks[0], _box(1, 5, 2, 7))  # pycocotools fill rule
    np.testing.assert_array_equal(s.masks[1], small)
    np.testing.assert_array_equal(s.masks[2], big)  # overlaps kept
    np.testing.assert_array_equal(s.ignore, crowd)
    assert ds[1].ignore is None


def test_coco_dynamite_variant_orders_and_paints(tmp_path, write):
    big, small, _ = _write_coco_root(tmp_path, write)
    ds = load_dataset("coco-dynamite", tmp_path)
    assert ds.info["variant"] == "dynamite"
    s = ds[0]
    assert s.meta["annotation_ids"] == [3, 1, 2]  # areas 80, 20, 4
    np.testing.assert_array_equal(s.masks[0], big & ~small)  # the smaller wins the overlap
    np.testing.assert_array_equal(s.masks[2], small)
    assert s.ignore is None  # crowd dropped, not ignored


def test_coco_filters(tmp_path, write):
    _write_coco_root(tmp_path, write)
    ds = load_dataset("coco", tmp_path, min_area=10, max_instances=1)
    assert ds[0].meta["annotation_ids"] == [1] and ds[1].meta["annotation_ids"] == [7]
    with pytest.raises(ValueError, match="max_instances"):
        load_dataset("coco", tmp_path, max_instances=0)


def test_coco_json_generic_and_errors(tmp_path, write):
    data, _ = _coco(tmp_path, write, tmp_path / "imgs")
    ann = tmp_path / "my.json"
    ann.write_text(json.dumps(data))
    ds = load_dataset("coco-json", tmp_path / "imgs", annotations=str(ann))
    assert len(ds) == 2 and ds.info["annotations"] == str(ann)
    with pytest.raises(ValueError, match="needs annotations="):
        load_dataset("coco-json", tmp_path / "imgs")
    (tmp_path / "bad.json").write_text('{"images": []}')
    with pytest.raises(ValueError, match="expected a COCO json"):
        load_dataset("coco-json", tmp_path / "imgs", annotations=str(tmp_path / "bad.json"))
    with pytest.raises(ValueError, match="missing folder .*val2017"):
        load_dataset("coco", tmp_path / "imgs")


def test_image_size_mismatch_is_named(tmp_path, write):
    data, _ = _coco(tmp_path, write, tmp_path / "imgs")
    write.rgb(tmp_path / "imgs" / "000000000007.jpg", 5, 5)
    (tmp_path / "a.json").write_text(json.dumps(data))
    ds = load_dataset("coco-json", tmp_path / "imgs", annotations=str(tmp_path / "a.json"))
    with pytest.raises(ValueError, match="the json says 16x12"):
        ds[0]


def test_lvis_images_found_from_coco_url(tmp_path, write):
    data, _ = _coco(tmp_path, write, tmp_path / "unused")
    for img in data["images"]:
        split = "train2017" if img["id"] == 30 else "val2017"
        img["coco_url"] = f"http://images.cocodataset.org/{split}/{img.pop('file_name')}"
        write.rgb(tmp_path / split / img["coco_url"].rsplit("/", 1)[1], H, W)
    for a in data["annotations"]:
        a.pop("iscrowd")  # LVIS has no crowd field
    (tmp_path / "lvis_v1_val.json").write_text(json.dumps(data))
    ds = load_dataset("lvis", tmp_path)
    assert [ds[i].id for i in range(len(ds))] == ["7", "9", "30"]
    assert ds[2].meta["file"] == "000000000030.jpg" and ds[0].num_objects == 4
