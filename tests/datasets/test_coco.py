"""COCO, LVIS and user COCO json read from tiny jsons with polygons, RLE and crowd regions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from official_layouts import H, W, box, coco, write_coco_root

from isbench.datasets import load_dataset


def test_coco_annotations_variant(tmp_path):
    big, small, crowd = write_coco_root(tmp_path)
    ds = load_dataset("coco", tmp_path)
    assert [ds[i].id for i in range(len(ds))] == ["7", "30"]  # sorted ids, 9 and 11 skipped
    assert ds.info["skipped"] == [{"id": "9", "reason": "only crowd annotations"},
                                  {"id": "11", "reason": "no annotation"}]
    s = ds[0]
    assert s.meta["annotation_ids"] == [1, 2, 3] and s.meta["category_ids"] == [3, 1, 1]
    np.testing.assert_array_equal(s.masks[0], box(1, 5, 2, 7))  # pycocotools fill rule
    np.testing.assert_array_equal(s.masks[1], small)
    np.testing.assert_array_equal(s.masks[2], big)  # overlaps kept
    np.testing.assert_array_equal(s.ignore, crowd)
    assert ds[1].ignore is None


def test_coco_dynamite_variant_orders_and_paints(tmp_path):
    big, small, _ = write_coco_root(tmp_path)
    ds = load_dataset("coco-dynamite", tmp_path)
    assert ds.info["variant"] == "dynamite"
    s = ds[0]
    assert s.meta["annotation_ids"] == [3, 1, 2]  # areas 80, 20, 4
    np.testing.assert_array_equal(s.masks[0], big & ~small)  # the smaller wins the overlap
    np.testing.assert_array_equal(s.masks[2], small)
    assert s.ignore is None  # crowd dropped, not ignored


def test_coco_filters(tmp_path):
    write_coco_root(tmp_path)
    ds = load_dataset("coco", tmp_path, min_area=10, max_instances=1)
    assert ds[0].meta["annotation_ids"] == [1] and ds[1].meta["annotation_ids"] == [7]
    with pytest.raises(ValueError, match="max_instances"):
        load_dataset("coco", tmp_path, max_instances=0)


def test_coco_json_generic_and_errors(tmp_path):
    data, _ = coco(tmp_path / "imgs")
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
    data, _ = coco(tmp_path / "imgs")
    write.rgb(tmp_path / "imgs" / "000000000007.jpg", 5, 5)
    (tmp_path / "a.json").write_text(json.dumps(data))
    ds = load_dataset("coco-json", tmp_path / "imgs", annotations=str(tmp_path / "a.json"))
    with pytest.raises(ValueError, match="the json says 16x12"):
        ds[0]


def test_lvis_images_found_from_coco_url(tmp_path, write):
    data, _ = coco(tmp_path / "unused")
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
