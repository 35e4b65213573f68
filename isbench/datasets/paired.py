"""Image folder + mask folder benchmarks of the RITM family: GrabCut, Berkeley, DAVIS-345
and COCO-MVal (fBRS release layouts).

Images are every file of the image folder, sorted by name; an image's mask is the file
of the mask folder whose stem is the image name before its first dot (RITM's rule).
Masks are read as OpenCV does (3-channel BGR) and turned into objects by a per-dataset
decoder. One `Sample` per image, id = that name before the first dot.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from isbench.datasets._common import (
    IndexedDataset,
    Item,
    check_option,
    pair_by_stem,
    read_bgr,
    read_rgb,
    require_dir,
)
from isbench.types import Sample

__all__ = [
    "PairedDataset", "berkeley", "binary_any_channel", "coco_mval", "davis", "grabcut",
    "open_pairs",
]

# decoder: (H, W, 3) uint8 BGR mask file → (masks (N, H, W) bool, ignore (H, W) bool | None)
MaskDecoder = Callable[[np.ndarray], tuple[np.ndarray, "np.ndarray | None"]]


class PairedDataset(IndexedDataset):
    """Images paired with mask files; ``decode`` turns a mask file into objects."""

    def __init__(self, name: str, variant: str, root: Path, items: list[Item],
                 skipped: list[dict], decode: MaskDecoder, **info) -> None:
        super().__init__(name, variant, root, items, skipped, **info)
        self.decode = decode

    def _read(self, item: Item) -> Sample:
        masks, ignore = self.decode(read_bgr(item.annotation))
        return Sample(item.id, read_rgb(item.image), masks, ignore,
                      meta={"file": item.image.name, "mask_file": item.annotation.name})


def open_pairs(name: str, variant: str, root: Path, images_dir: str, masks_dir: str,
               decode: MaskDecoder, layout: str, image_glob: str = "*.*",
               mask_glob: str = "*.*") -> PairedDataset:
    """Index ``root/images_dir`` against ``root/masks_dir`` (nothing decoded)."""
    image_root = require_dir(root / images_dir, layout)
    mask_root = require_dir(root / masks_dir, layout)
    images = sorted(p for p in image_root.glob(image_glob) if p.is_file())
    if not images:
        raise ValueError(f"no image files {image_glob} in {str(image_root)!r} "
                         f"(expected layout: {layout})")
    pairs, skipped = pair_by_stem(images, mask_root, mask_glob)
    items = [Item(key, image, mask) for key, image, mask in pairs]
    return PairedDataset(name, variant, root, items, skipped, decode, layout=layout)


def grabcut_mask(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RITM's GrabCut/Berkeley reading of channel 0: 128 = ignore band, > 128 = object.

    As in RITM, a raw value of exactly 1 also counts as object (it is the object id once
    the loader has rewritten the map); values 2..127 are background.
    """
    v = bgr[..., 0]
    return ((v > 128) | (v == 1))[None], v == 128


def binary_any_channel(bgr: np.ndarray) -> tuple[np.ndarray, None]:
    """One object: pixels where any channel is non-zero (RITM's DAVIS/COCO-MVal reading)."""
    return (bgr.max(axis=2) > 0)[None], None


def channel0_above_128(bgr: np.ndarray) -> tuple[np.ndarray, None]:
    """One object: channel 0 > 128 (DynaMITe's COCO-MVal reading)."""
    return (bgr[..., 0] > 128)[None], None


GRABCUT_LAYOUT = "data_GT/<name>.<ext> images, boundary_GT/<name>.<ext> masks (128 = ignore)"
BERKELEY_LAYOUT = "images/<name>.jpg, masks/<name>.png (128 = ignore)"
DAVIS_LAYOUT = "img/<name>.jpg, gt/<name>.png (non-zero = object)"
COCO_MVAL_LAYOUT = "img/<name>.jpg, gt/<name>.png (one object per image)"


def grabcut(root: Path) -> PairedDataset:
    """GrabCut (50 images, one object each, the 128 band ignored)."""
    return open_pairs("grabcut", "ritm", root, "data_GT", "boundary_GT", grabcut_mask,
                      GRABCUT_LAYOUT)


def berkeley(root: Path) -> PairedDataset:
    """Berkeley (RITM's GrabCut loader on images/ and masks/)."""
    return open_pairs("berkeley", "ritm", root, "images", "masks", grabcut_mask,
                      BERKELEY_LAYOUT)


def davis(root: Path, variant: str = "345") -> IndexedDataset:
    """DAVIS for the single-instance protocol.

    variant "345": RITM's 345-frame set (img/, gt/); every object of a frame merged into one.
    variant "merged": the DAVIS-2017 layout, every frame of the val videos, objects merged
    (see `isbench.datasets.davis17`).
    """
    check_option("davis", "variant", variant, ("345", "merged"))
    if variant == "merged":
        from isbench.datasets.davis17 import davis17

        return davis17(root, variant="merged")
    return open_pairs("davis", "345", root, "img", "gt", binary_any_channel, DAVIS_LAYOUT)


def coco_mval(root: Path, variant: str = "ritm") -> PairedDataset:
    """COCO-MVal (800 instances): RITM reads any non-zero pixel as object ("ritm"),
    DynaMITe reads channel 0 > 128 ("dynamite")."""
    check_option("coco-mval", "variant", variant, ("ritm", "dynamite"))
    decode = binary_any_channel if variant == "ritm" else channel0_above_128
    return open_pairs("coco-mval", variant, root, "img", "gt", decode, COCO_MVAL_LAYOUT)
