"""COCO-format instance annotations: COCO val2017, LVIS v1 val and any user COCO json.

The json is indexed when the dataset opens (images sorted by id, as detectron2's
``load_coco_json`` orders them; objects in annotation order); polygons and RLE are
decoded with pycocotools only when a sample is read. Polygons with fewer than 3 points
or an odd number of coordinates are dropped (detectron2 drops them too); objects whose
decoded mask is empty are dropped. Variants:

- ``annotations``: crowd regions become the sample's ignore mask, objects stay in
  annotation order and may overlap.
- ``dynamite``: DynaMITe's MIST reading: crowd annotations dropped, objects sorted
  largest first, the smaller object winning overlaps (`largest_first`).

Images without a usable object are skipped and listed in ``info["skipped"]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

from isbench.datasets._common import (
    IndexedDataset,
    Item,
    check_option,
    largest_first,
    read_rgb,
    require_dir,
    require_file,
)
from isbench.types import Sample

__all__ = ["CocoDataset", "coco", "coco_json", "decode_segmentation", "lvis", "open_coco_json"]

VARIANTS = ("annotations", "dynamite")
COCO_LAYOUT = "val2017/<file_name>, annotations/instances_val2017.json"
LVIS_LAYOUT = "lvis_v1_val.json, images under train2017/ and val2017/ (as in each coco_url)"
JSON_LAYOUT = "a COCO json (annotations=...) whose file_name entries are under the image folder"


def _valid_polygons(segmentation: list) -> list:
    """Polygons with at least 3 points and an even number of coordinates."""
    return [p for p in segmentation if len(p) >= 6 and len(p) % 2 == 0]


def decode_segmentation(segmentation, h: int, w: int) -> np.ndarray:
    """(h, w) bool mask of a COCO segmentation: polygon list (union), RLE or uncompressed RLE."""
    if isinstance(segmentation, list):
        polygons = _valid_polygons(segmentation)
        if not polygons:
            return np.zeros((h, w), bool)
        rle = mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))
    elif isinstance(segmentation.get("counts"), list):
        rle = mask_utils.frPyObjects(segmentation, h, w)
    else:
        rle = segmentation
    return mask_utils.decode(rle).astype(bool)


def _usable(ann: dict) -> bool:
    """Whether an annotation can give a mask (RLE, or at least one valid polygon)."""
    seg = ann.get("segmentation")
    return bool(seg) and (isinstance(seg, dict) or bool(_valid_polygons(seg)))


class CocoDataset(IndexedDataset):
    """COCO-json images; ``item.annotation`` = (objects, crowds) annotation dicts."""

    def __init__(self, *args, mist_order: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mist_order = mist_order

    def _read(self, item: Item) -> Sample:
        image = read_rgb(item.image)
        h, w = item.extra["height"], item.extra["width"]
        if image.shape[:2] != (h, w):
            raise ValueError(f"image {str(item.image)!r} is {image.shape[1]}x{image.shape[0]}, "
                             f"the json says {w}x{h}")
        objects, crowds = item.annotation
        masks = np.stack([decode_segmentation(a["segmentation"], h, w) for a in objects])
        present = masks.reshape(len(masks), -1).any(1)
        masks, kept = masks[present], [a for a, p in zip(objects, present) if p]
        if self.mist_order and len(kept):
            masks, order = largest_first(masks)
            kept = [kept[i] for i in order]
        ignore = None
        if crowds:
            ignore = np.any([decode_segmentation(a["segmentation"], h, w) for a in crowds], 0)
        meta = {"file": item.image.name, "annotation_ids": [a.get("id") for a in kept],
                "category_ids": [a.get("category_id") for a in kept]}
        return Sample(item.id, image, masks, ignore, meta=meta)


def _load_json(path: Path, layout: str) -> dict:
    """The parsed json, checked to have COCO's ``images`` and ``annotations`` lists."""
    require_file(path, layout)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read annotations {str(path)!r}: {exc}") from None
    if not isinstance(data, dict) or not {"images", "annotations"} <= data.keys():
        raise ValueError(f"annotations {str(path)!r}: expected a COCO json with 'images' "
                         "and 'annotations'")
    return data


def _image_file(img: dict, image_root: Path, from_url: bool) -> Path:
    """Where an image entry's file is: ``file_name``, or the last two parts of ``coco_url``."""
    if from_url:
        return image_root.joinpath(*img["coco_url"].split("/")[-2:])
    return image_root / img["file_name"]


def open_coco_json(name: str, variant: str, root: Path, annotations: Path, image_root: Path,
                   layout: str, from_url: bool = False, min_area: float = 0.0,
                   max_instances: int | None = None) -> CocoDataset:
    """Index a COCO-format json (nothing decoded).

    min_area: objects whose json ``area`` is below it are left out (0 = official: none).
    max_instances: keep at most that many objects per image, in annotation order
        (None = official: no cap).
    """
    check_option(name, "variant", variant, VARIANTS)
    if max_instances is not None and int(max_instances) < 1:
        raise ValueError(f"dataset {name!r}: max_instances must be >= 1, got {max_instances}")
    min_area = float(min_area)
    data = _load_json(annotations, layout)
    by_image: dict = {}
    for ann in data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    items, skipped = [], []
    for img in sorted(data["images"], key=lambda d: d["id"]):
        anns = by_image.get(img["id"], [])
        objects = [a for a in anns if not a.get("iscrowd", 0) and _usable(a)
                   and a.get("area", min_area) >= min_area]
        crowds = [a for a in anns if a.get("iscrowd", 0)] if variant == "annotations" else []
        if max_instances is not None:
            objects = objects[:int(max_instances)]
        if not objects:
            reason = ("no annotation" if not anns else "only crowd annotations"
                      if all(a.get("iscrowd", 0) for a in anns)
                      else "no object with a valid mask or above min_area")
            skipped.append({"id": str(img["id"]), "reason": reason})
            continue
        items.append(Item(str(img["id"]), _image_file(img, image_root, from_url),
                          (objects, crowds), {"height": img["height"], "width": img["width"]}))
    return CocoDataset(name, variant, root, items, skipped, mist_order=variant == "dynamite",
                       annotations=str(annotations), min_area=min_area,
                       max_instances=max_instances, layout=layout)


def coco(root: Path, variant: str = "annotations", split: str = "val2017", **filters
         ) -> CocoDataset:
    """COCO 2017: ``root/<split>/`` images, ``root/annotations/instances_<split>.json``."""
    images = require_dir(root / split, COCO_LAYOUT)
    ann = root / "annotations" / f"instances_{split}.json"
    return open_coco_json("coco", variant, root, ann, images, COCO_LAYOUT, **filters)


def lvis(root: Path, variant: str = "annotations", annotations: str | None = None, **filters
         ) -> CocoDataset:
    """LVIS v1 val: ``root/lvis_v1_val.json`` (or ``annotations``), images found from each
    entry's ``coco_url`` (``train2017/`` or ``val2017/`` under ``root``)."""
    ann = Path(annotations) if annotations else root / "lvis_v1_val.json"
    return open_coco_json("lvis", variant, root, ann, root, LVIS_LAYOUT, from_url=True,
                          **filters)


def coco_json(root: Path, annotations: str | None = None, variant: str = "annotations",
              **filters) -> CocoDataset:
    """Any COCO-format json: ``root`` is the image folder, ``annotations`` the json file."""
    if not annotations:
        raise ValueError("dataset 'coco-json' needs annotations=JSON_PATH (--annotations)")
    return open_coco_json("coco-json", variant, root, Path(annotations), root, JSON_LAYOUT,
                          **filters)
