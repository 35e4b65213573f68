"""DAVIS 2017 val frames for MIST (DynaMITe's ``davis_2017_val``), and the same frames with
objects merged for the single-instance protocol.

Layout under the root (the ``DAVIS-2017-trainval`` folder): ``JPEGImages/480p/<video>/
<frame>.jpg``, ``Annotations/480p/<video>/<frame>.png`` (palette PNG, index = object id,
0 = background) and ``ImageSets/2017/val.txt``. As in DynaMITe, a video's objects are ids
1..max of its ``00000.png``; higher ids are ignored and objects absent from a frame are
dropped. Opening the dataset reads every annotation PNG once (labels only, to know
which frames hold an object); images are read lazily. A frame with no object is skipped
and listed in ``info["skipped"]`` (DynaMITe's loader silently evaluates another image).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from isbench.datasets._common import (
    IndexedDataset,
    Item,
    check_option,
    largest_first,
    read_rgb,
    require_dir,
    require_file,
    split_labels,
)
from isbench.types import Sample

__all__ = ["Davis17Dataset", "davis17", "read_palette_ids"]

LAYOUT = ("JPEGImages/480p/<video>/<frame>.jpg, Annotations/480p/<video>/<frame>.png, "
          "ImageSets/2017/val.txt")
VARIANTS = ("dynamite", "annotations", "merged")


def read_palette_ids(path: Path) -> np.ndarray:
    """(H, W) uint8 palette indices of an annotation PNG (grey PNGs: the grey value)."""
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L"):
                raise ValueError(f"mode {im.mode}")
            return np.array(im)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read annotation {str(path)!r}: expected a palette "
                         f"PNG ({exc})") from None


class Davis17Dataset(IndexedDataset):
    """DAVIS-2017 frames; ``item.extra["object_ids"]`` are the objects visible in the frame."""

    def _read(self, item: Item) -> Sample:
        labels = read_palette_ids(item.annotation)
        ids = item.extra["object_ids"]
        masks, ids = split_labels(labels, ids)
        if self.info["variant"] == "merged":
            masks = masks.any(0, keepdims=True)
        elif self.info["variant"] == "dynamite":
            masks, order = largest_first(masks)
            ids = [ids[i] for i in order]
        meta = {"file": str(item.image.relative_to(item.image.parents[1])), "object_ids": ids}
        return Sample(item.id, read_rgb(item.image), masks, None, meta=meta)


def davis17(root: Path, variant: str = "dynamite", split: str = "val",
            resolution: str = "480p") -> Davis17Dataset:
    """Index DAVIS-2017 ``split`` videos, every annotated frame, in val.txt × frame order.

    variant "dynamite": objects largest first (DynaMITe's mapper); "annotations": object
    ids ascending; "merged": one object, the union of the frame's objects.
    """
    check_option("davis17", "variant", variant, VARIANTS)
    frames_root = require_dir(root / "JPEGImages" / resolution, LAYOUT)
    annot_root = require_dir(root / "Annotations" / resolution, LAYOUT)
    listing = require_file(root / "ImageSets" / "2017" / f"{split}.txt", LAYOUT)
    videos = [v.strip() for v in listing.read_text().splitlines() if v.strip()]
    items, skipped = [], []
    for video in videos:
        frames = sorted(require_dir(frames_root / video, LAYOUT).glob("*.jpg"))
        num_objects = int(read_palette_ids(require_file(annot_root / video / "00000.png",
                                                        LAYOUT)).max())
        for frame in frames:
            sid = f"{video}/{frame.stem}"
            mask = annot_root / video / f"{frame.stem}.png"
            if not mask.is_file():
                skipped.append({"id": sid, "reason": "no annotation PNG"})
                continue
            present = np.unique(read_palette_ids(mask))
            ids = [int(v) for v in present if 0 < v <= num_objects]
            if not ids:
                skipped.append({"id": sid, "reason": "no object of the first frame visible"})
                continue
            items.append(Item(sid, frame, mask, {"object_ids": ids}))
    return Davis17Dataset("davis17", variant, root, items, skipped, split=split,
                          resolution=resolution, layout=LAYOUT)
