"""Tiny dataset copies in the official on-disk formats, shared by the loader tests."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import scipy.sparse
from PIL import Image
from pycocotools import mask as mask_utils
from scipy.io import savemat

H, W = 12, 16


def voc_palette() -> np.ndarray:
    """(256, 3) uint8 PASCAL VOC colour map (index bits spread over R, G, B)."""
    pal = np.zeros((256, 3), np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal[i] = (r, g, b)
    return pal


class Writer:
    """Saves images and masks exactly as the dataset releases store them."""

    @staticmethod
    def rgb(path: Path, h: int = 12, w: int = 16, color=(200, 30, 90)) -> np.ndarray:
        """A constant-colour RGB image written with OpenCV (any extension); returns it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        img = np.empty((h, w, 3), np.uint8)
        img[:] = color
        assert cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        return img

    @staticmethod
    def grey(path: Path, values: np.ndarray) -> None:
        """A single-channel 8-bit file (PNG/BMP/TIFF) holding ``values``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), values.astype(np.uint8))

    @staticmethod
    def palette(path: Path, index_map: np.ndarray, pal: np.ndarray | None = None) -> None:
        """A mode-"P" PNG of palette indices (VOC colour map unless ``pal`` is given)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(index_map.astype(np.uint8), mode="P")
        im.putpalette((voc_palette() if pal is None else pal).flatten().tolist())
        im.save(path)


def write_sbd_mat(path, seg: np.ndarray) -> None:
    """An ``inst/<id>.mat`` as SBD ships it: struct GTinst{Segmentation, Boundaries, Categories}."""
    ids = [v for v in np.unique(seg) if v]
    boundaries = np.empty((len(ids), 1), dtype=object)
    for k, v in enumerate(ids):
        boundaries[k, 0] = scipy.sparse.csc_matrix(seg == v)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {"GTinst": {"Segmentation": seg.astype(np.uint8), "Boundaries": boundaries,
                              "Categories": np.arange(1, len(ids) + 1, dtype=np.uint8)[:, None]}})


def sbd(root):
    """SBD: img/, inst/*.mat, val.txt (listed out of name order); returns the two id maps."""
    seg_a = np.zeros((H, W), np.uint8)
    seg_a[0:10, 0:10] = 1   # large object, id 1
    seg_a[1:3, 12:14] = 3   # small, id 3 (id 2 absent)
    seg_a[5:10, 11:16] = 2  # medium, id 2
    seg_b = np.zeros((H, W), np.uint8)
    seg_b[4:6, 4:6] = 1
    for name, seg in (("2008_000002", seg_a), ("2008_000003", seg_b)):
        Writer.rgb(root / "img" / f"{name}.jpg")
        write_sbd_mat(root / "inst" / f"{name}.mat", seg)
    (root / "val.txt").write_text("2008_000003\n2008_000002\n\n")
    return seg_a, seg_b


def voc(root):
    """PASCAL VOC: two images, val.txt; returns the first palette-index map."""
    idx = np.zeros((H, W), np.uint8)
    idx[1:5, 1:5] = 1
    idx[1:5, 8:12] = 2
    idx[5, 1:12] = 255    # void border
    idx[7:10, 1:4] = 16   # palette 16 has the same grey as palette 1 (38): merges with 1
    Writer.rgb(root / "JPEGImages" / "2007_000032.jpg")
    Writer.palette(root / "SegmentationObject" / "2007_000032.png", idx)
    idx2 = np.zeros((H, W), np.uint8)
    idx2[3:6, 3:6] = 3
    Writer.rgb(root / "JPEGImages" / "2007_000033.jpg")
    Writer.palette(root / "SegmentationObject" / "2007_000033.png", idx2)
    sets = root / "ImageSets" / "Segmentation"
    sets.mkdir(parents=True)
    (sets / "val.txt").write_text("2007_000032\n2007_000033\n")
    return idx


def frame(root, video, stem, labels):
    """One DAVIS-2017 frame: its JPEG and its palette annotation."""
    Writer.rgb(root / "JPEGImages" / "480p" / video / f"{stem}.jpg", H, W)
    Writer.palette(root / "Annotations" / "480p" / video / f"{stem}.png", labels)


def davis(root):
    """DAVIS-2017: two val videos, an ignored id, an empty frame, a frame without PNG."""
    f0 = np.zeros((H, W), np.uint8)
    f0[0:3, 0:3] = 1
    f0[5:12, 5:16] = 2
    f1 = np.zeros((H, W), np.uint8)
    f1[0:8, 0:8] = 1
    f1[2:4, 2:4] = 3   # id 3 > first frame's max (2): ignored
    f2 = np.zeros((H, W), np.uint8)
    f2[0:2, 0:2] = 3   # only an ignored id: no usable object
    for stem, lab in (("00000", f0), ("00001", f1), ("00002", f2)):
        frame(root, "bike-packing", stem, lab)
    g0 = np.zeros((H, W), np.uint8)
    g0[4:6, 4:6] = 1
    frame(root, "blackswan", "00000", g0)
    Writer.rgb(root / "JPEGImages" / "480p" / "blackswan" / "00001.jpg", H, W)  # no PNG
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("blackswan\nbike-packing\n")
    return f0, f1


def rle(mask: np.ndarray) -> dict:
    """Compressed RLE as COCO json stores it (counts as a str)."""
    enc = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": enc["size"], "counts": enc["counts"].decode("ascii")}


def uncompressed_rle(mask: np.ndarray) -> dict:
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


def box(y0, y1, x0, x1) -> np.ndarray:
    """(H, W) bool box [y0:y1, x0:x1]."""
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def coco(image_dir):
    """COCO json dict (polygon, RLE, crowd, bad polygon, crowd-only and empty images) and
    its images under ``image_dir``; returns (json, (big, small, crowd) masks)."""
    poly = [[2.0, 1.0, 7.0, 1.0, 7.0, 5.0, 2.0, 5.0]]  # x, y pairs: a box over x 2..7, y 1..5
    big, small, crowd = box(0, 10, 8, 16), box(2, 4, 10, 12), box(9, 12, 0, 6)
    images = [{"id": 30, "file_name": "000000000030.jpg", "height": H, "width": W},
              {"id": 7, "file_name": "000000000007.jpg", "height": H, "width": W},
              {"id": 9, "file_name": "000000000009.jpg", "height": H, "width": W},
              {"id": 11, "file_name": "000000000011.jpg", "height": H, "width": W}]
    anns = [
        {"id": 1, "image_id": 7, "category_id": 3, "iscrowd": 0, "area": 20.0,
         "segmentation": poly},
        {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 4.0,
         "segmentation": rle(small)},
        {"id": 3, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 80.0,
         "segmentation": rle(big)},
        {"id": 4, "image_id": 7, "category_id": 1, "iscrowd": 1, "area": 18.0,
         "segmentation": uncompressed_rle(crowd)},
        {"id": 5, "image_id": 7, "category_id": 2, "iscrowd": 0, "area": 0.0,
         "segmentation": [[1.0, 1.0, 2.0, 2.0]]},  # 2 points: dropped
        {"id": 6, "image_id": 9, "category_id": 1, "iscrowd": 1, "area": 18.0,
         "segmentation": uncompressed_rle(crowd)},
        {"id": 7, "image_id": 30, "category_id": 1, "iscrowd": 0, "area": 16.0,
         "segmentation": rle(box(0, 4, 0, 4))},
    ]
    for img in images:
        Writer.rgb(image_dir / img["file_name"], H, W)
    return {"images": images, "annotations": anns, "categories": [{"id": 1}]}, (big, small, crowd)


def write_coco_root(root):
    """COCO root: val2017/ and annotations/instances_val2017.json."""
    data, masks = coco(root / "val2017")
    (root / "annotations").mkdir()
    (root / "annotations" / "instances_val2017.json").write_text(json.dumps(data))
    return masks
