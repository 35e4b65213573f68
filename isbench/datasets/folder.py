"""User data as plain files: ``images/<name>.<ext>`` and, per image, either one
instance-id PNG ``masks/<name>.png`` or a folder ``masks/<name>/`` of binary PNGs, one
per instance.

Instance-id PNG: 8-bit palette or grey (or 16-bit grey); 0 = background, every other
value an object (ascending), except ``ignore_value`` (default 255, VOC's void) which is
ignored. Per-instance folder: every ``*.png`` but ``ignore.png`` is an object (non-zero
pixels, file-name order); ``ignore.png``, if present, marks ignored pixels. Images
without a mask are skipped and listed in ``info["skipped"]``; ``meta["instances"]`` names
each object (its label value, or its file name).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from isbench.datasets._common import IndexedDataset, Item, read_rgb, require_dir, split_labels
from isbench.types import Sample

__all__ = ["FolderDataset", "folder", "read_label_png"]

LAYOUT = "images/<name>.<ext>, masks/<name>.png (instance ids) or masks/<name>/<k>.png"
IGNORE_FILE = "ignore.png"


def read_label_png(path: Path) -> np.ndarray:
    """(H, W) integer labels of a palette, grey or 16-bit grey PNG (no colour PNGs)."""
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L", "1", "I", "I;16"):
                raise ValueError(f"mode {im.mode}")
            return np.array(im).astype(np.int64)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read mask {str(path)!r}: expected a palette, grey or 16-bit "
                         f"PNG ({exc})") from None


class FolderDataset(IndexedDataset):
    """Images with an instance-id PNG or a folder of per-instance PNGs."""

    def __init__(self, *args, ignore_value: int | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ignore_value = ignore_value

    def _read(self, item: Item) -> Sample:
        image = read_rgb(item.image)
        ignore = None
        if item.annotation.is_dir():
            files = sorted(p for p in item.annotation.glob("*.png") if p.name != IGNORE_FILE)
            masks = [read_label_png(p) > 0 for p in files]
            names = [p.name for p, m in zip(files, masks) if m.any()]  # empty files dropped
            masks = np.stack([m for m in masks if m.any()] or [np.zeros(image.shape[:2], bool)])
            if (item.annotation / IGNORE_FILE).is_file():
                ignore = read_label_png(item.annotation / IGNORE_FILE) > 0
        else:
            labels = read_label_png(item.annotation)
            ids = [int(v) for v in np.unique(labels) if v not in (0, self.ignore_value)]
            masks, names = split_labels(labels, ids)
            if self.ignore_value is not None:
                ignore = labels == self.ignore_value
        return Sample(item.id, image, masks, ignore, meta={"file": item.image.name,
                                                           "instances": names})


def folder(root: Path, ignore_value: int | None = 255) -> FolderDataset:
    """Index ``root/images`` against ``root/masks`` (sorted by image name)."""
    ignore_value = None if ignore_value in (None, "none", "") else int(ignore_value)
    images = sorted(p for p in require_dir(root / "images", LAYOUT).iterdir() if p.is_file())
    masks = require_dir(root / "masks", LAYOUT)
    items, skipped = [], []
    for image in images:
        per_instance, id_map = masks / image.stem, masks / f"{image.stem}.png"
        if per_instance.is_dir():
            items.append(Item(image.stem, image, per_instance))
        elif id_map.is_file():
            items.append(Item(image.stem, image, id_map))
        else:
            skipped.append({"id": image.stem, "reason": f"no masks/{image.stem}.png or "
                                                        f"masks/{image.stem}/"})
    return FolderDataset("folder", "files", root, items, skipped, ignore_value=ignore_value,
                         layout=LAYOUT)
