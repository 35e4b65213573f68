"""PASCAL-VOC-derived benchmarks: SBD (single-instance and MIST) and PASCAL VOC val.

SBD (``img/<id>.jpg``, ``inst/<id>.mat``, ``val.txt``): the ``GTinst`` struct's
``Segmentation`` field is an (H, W) instance-id map, 0 = background; every non-zero id
is an object, ascending (RITM, DynaMITe). PASCAL VOC (``JPEGImages``,
``SegmentationObject``, ``ImageSets/Segmentation``): the palette PNG is read as OpenCV
colours and converted to grey, as all official loaders do, so instances are grey values
(palette ids 1/16, 3/18, 6/21, 9/24 share one and merge) and grey 220, the void colour
(224, 224, 192), is ignored.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
from scipy.io import loadmat

from isbench.datasets._common import (
    IndexedDataset,
    Item,
    check_option,
    largest_first,
    read_bgr,
    read_rgb,
    require_dir,
    require_file,
    split_labels,
)
from isbench.types import Sample

__all__ = ["PascalVocDataset", "SbdDataset", "pascalvoc", "read_sbd_instances", "sbd",
           "sbd_multi"]

SBD_LAYOUT = "img/<id>.jpg, inst/<id>.mat (GTinst.Segmentation), <split>.txt"
VOC_LAYOUT = ("JPEGImages/<id>.jpg, SegmentationObject/<id>.png, "
              "ImageSets/Segmentation/{val.txt | test.pickle}")
VOC_VOID_GREY = 220


def _read_split(path: Path) -> list[str]:
    """Non-empty stripped lines of a split list, in file order."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def read_sbd_instances(path: Path) -> np.ndarray:
    """(H, W) int32 instance-id map of an SBD ``inst/<id>.mat`` file (0 = background)."""
    try:
        gt = loadmat(str(path))["GTinst"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"cannot read SBD instance file {str(path)!r}: expected a .mat "
                         f"with a GTinst struct ({exc})") from None
    if gt.dtype.names is None or "Segmentation" not in gt.dtype.names:
        raise ValueError(f"SBD instance file {str(path)!r}: GTinst has no Segmentation field")
    return np.asarray(gt["Segmentation"][0, 0], dtype=np.int32)


class SbdDataset(IndexedDataset):
    """SBD images with every instance; ``mist_order`` applies DynaMITe's reading."""

    def __init__(self, *args, mist_order: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mist_order = mist_order

    def _read(self, item: Item) -> Sample:
        masks, ids = split_labels(read_sbd_instances(item.annotation))
        if self.mist_order and len(ids):
            masks, order = largest_first(masks)
            ids = [ids[i] for i in order]
        return Sample(item.id, read_rgb(item.image), masks, None,
                      meta={"file": item.image.name, "instance_ids": ids})


def _open_sbd(name: str, variant: str, root: Path, split: str, mist_order: bool) -> SbdDataset:
    """Index an SBD split list (files checked to exist, nothing decoded)."""
    images, insts = require_dir(root / "img", SBD_LAYOUT), require_dir(root / "inst", SBD_LAYOUT)
    ids = _read_split(require_file(root / f"{split}.txt", SBD_LAYOUT))
    items = [Item(i, require_file(images / f"{i}.jpg", SBD_LAYOUT),
                  require_file(insts / f"{i}.mat", SBD_LAYOUT)) for i in ids]
    return SbdDataset(name, variant, root, items, [], mist_order=mist_order, split=split,
                      layout=SBD_LAYOUT)


def sbd(root: Path, split: str = "val") -> SbdDataset:
    """SBD for the single-instance protocol: every instance of an image, each evaluated
    separately (RITM's SBDEvaluationDataset; README: val 2857 images / 6671 instances)."""
    check_option("sbd", "split", split, ("val", "train"))
    return _open_sbd("sbd", "ritm", root, split, mist_order=False)


def sbd_multi(root: Path, variant: str = "dynamite", split: str = "val") -> SbdDataset:
    """SBD for MIST: all instances of an image together.

    variant "dynamite": objects sorted largest first (DynaMITe's mapper);
    "annotations": ascending instance id.
    """
    check_option("sbd-multi", "variant", variant, ("dynamite", "annotations"))
    check_option("sbd-multi", "split", split, ("val", "train"))
    return _open_sbd("sbd-multi", variant, root, split, mist_order=variant == "dynamite")


class PascalVocDataset(IndexedDataset):
    """VOC images; ``item.extra["grey_ids"]`` fixes the instances (None = all present)."""

    def _read(self, item: Item) -> Sample:
        grey = cv2.cvtColor(read_bgr(item.annotation), cv2.COLOR_BGR2GRAY)
        wanted = item.extra.get("grey_ids")
        if wanted is None:
            wanted = [int(v) for v in np.unique(grey) if v not in (0, VOC_VOID_GREY)]
        masks, ids = split_labels(grey, wanted)
        present = masks.reshape(len(ids), -1).any(1)
        meta = {"file": item.image.name, "grey_ids": [i for i, p in zip(ids, present) if p]}
        if not present.all():  # a listed instance whose grey value is not in the PNG
            meta["absent_grey_ids"] = [i for i, p in zip(ids, present) if not p]
        return Sample(item.id, read_rgb(item.image), masks[present], grey == VOC_VOID_GREY,
                      meta=meta)


def _ritm_test_list(path: Path) -> list[tuple[str, list[int]]]:
    """RITM's ``test.pickle`` ``(image_ids, instance_ids)`` grouped per image, in order of
    first appearance: ``[(image_id, [grey ids...])]``. It is a pickle, as the authors
    ship it: loading one runs code, so use only a file you trust."""
    try:
        with open(path, "rb") as f:
            image_ids, instance_ids = pickle.load(f)
    except (OSError, pickle.UnpicklingError, ValueError, TypeError, EOFError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: expected a pickled "
                         f"(image_ids, instance_ids) pair ({exc})") from None
    if len(image_ids) != len(instance_ids):
        raise ValueError(f"{str(path)!r}: {len(image_ids)} image ids but "
                         f"{len(instance_ids)} instance ids")
    grouped: dict[str, list[int]] = {}
    for image_id, grey_id in zip(image_ids, instance_ids):
        grouped.setdefault(str(image_id), []).append(int(grey_id))
    return list(grouped.items())


def pascalvoc(root: Path, variant: str = "val") -> PascalVocDataset:
    """PASCAL VOC for the single-instance protocol.

    variant "val": ``val.txt``, every instance of each image (SimpleClick, ClickSEG,
    DynaMITe; 1449 images). "ritm-test": RITM's ``test.pickle`` list of (image, instance)
    pairs (3417 instances), grouped per image.
    """
    check_option("pascalvoc", "variant", variant, ("val", "ritm-test"))
    images = require_dir(root / "JPEGImages", VOC_LAYOUT)
    masks = require_dir(root / "SegmentationObject", VOC_LAYOUT)
    sets = root / "ImageSets" / "Segmentation"
    if variant == "val":
        listed = [(i, None) for i in _read_split(require_file(sets / "val.txt", VOC_LAYOUT))]
    else:
        listed = _ritm_test_list(require_file(sets / "test.pickle", VOC_LAYOUT))
    items = [Item(i, require_file(images / f"{i}.jpg", VOC_LAYOUT),
                  require_file(masks / f"{i}.png", VOC_LAYOUT), {"grey_ids": grey})
             for i, grey in listed]
    return PascalVocDataset("pascalvoc", variant, root, items, [], layout=VOC_LAYOUT)
