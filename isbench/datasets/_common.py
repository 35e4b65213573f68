"""Shared pieces of the benchmark loaders: path checks, image/mask reading, the indexed
dataset base, and the object orderings the papers use.

A loader builds a list of `Item`s (one per image, from file listings, split lists or
json, nothing decoded) and a `_read(item) -> Sample` that decodes one image when the
session asks for it. Images the index can already tell are unusable go into
``info["skipped"]`` as ``{"id", "reason"}``; an image found empty only when decoded
raises `NoObjectError` (a ValueError naming it), never a silent substitute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from isbench.datasets import Dataset
from isbench.types import Sample

__all__ = [
    "IndexedDataset",
    "Item",
    "NoObjectError",
    "check_option",
    "largest_first",
    "pair_by_stem",
    "read_bgr",
    "read_rgb",
    "require_dir",
    "require_file",
    "split_labels",
]


class NoObjectError(ValueError):
    """An image whose annotation, once decoded, holds no usable object (``sample_id``)."""

    def __init__(self, message: str, sample_id: str) -> None:
        super().__init__(message)
        self.sample_id = sample_id


def require_dir(path: Path, layout: str) -> Path:
    """``path`` if it is a folder, else ValueError naming it and the expected layout."""
    if not path.is_dir():
        raise ValueError(f"missing folder {str(path)!r} (expected layout: {layout})")
    return path


def require_file(path: Path, layout: str) -> Path:
    """``path`` if it is a file, else ValueError naming it and the expected layout."""
    if not path.is_file():
        raise ValueError(f"missing file {str(path)!r} (expected layout: {layout})")
    return path


def check_option(name: str, option: str, value: str, known: tuple[str, ...]) -> str:
    """``value`` if it is one of ``known``, else a one-line ValueError naming the option."""
    if value not in known:
        raise ValueError(f"dataset {name!r}: unknown {option} {value!r}, expected one of "
                         f"{', '.join(known)}")
    return value


def read_bgr(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 BGR as ``cv2.imread`` gives it (palette PNGs become colours)."""
    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        raise ValueError(f"cannot read image file {str(path)!r}")
    return data


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB image (grey and TIFF files replicated to 3 channels)."""
    return cv2.cvtColor(read_bgr(path), cv2.COLOR_BGR2RGB)


def pair_by_stem(images: list[Path], masks_dir: Path, mask_glob: str = "*.*"
                 ) -> tuple[list[tuple[str, Path, Path]], list[dict]]:
    """Match each image to the mask whose stem is the image name before its first dot.

    Returns ``[(id, image_path, mask_path)]`` in the order of ``images`` and the skipped
    images (no mask file) as ``{"id", "reason"}``. The id is the image's name before its
    first dot, as the RITM loaders key masks.
    """
    masks: dict[str, Path] = {}
    for p in sorted(masks_dir.glob(mask_glob)):
        if p.is_file() and masks.setdefault(p.stem, p) != p:
            raise ValueError(f"two mask files for {p.stem!r}: {masks[p.stem].name} and "
                             f"{p.name} in {str(masks_dir)!r}")
    pairs, skipped = [], []
    for image in images:
        key = image.name.split(".")[0]
        if key in masks:
            pairs.append((key, image, masks[key]))
        else:
            skipped.append({"id": key, "reason": f"no mask {key}.* in {masks_dir.name}/"})
    return pairs, skipped


def split_labels(label_map: np.ndarray, ids=None) -> tuple[np.ndarray, list[int]]:
    """Instance masks from an (H, W) integer label map.

    ids: labels to extract, in that order; default every non-zero label present,
        ascending. Returns ``(masks (N, H, W) bool, ids as ints)``.
    """
    if ids is None:
        ids = [int(v) for v in np.unique(label_map) if v != 0]
    ids = [int(v) for v in ids]
    masks = np.stack([label_map == v for v in ids]) if ids else np.zeros(
        (0, *label_map.shape), bool)
    return masks, ids


def largest_first(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DynaMITe's MIST reading of a set of possibly overlapping masks.

    Objects are sorted by pixel area, largest first (stable on ties), and painted into a
    label map in that order, so the smaller object wins where two overlap; the masks are
    re-derived from that map (disjoint; a fully covered object comes out empty).
    masks: (N, H, W) bool. Returns ``(masks (N, H, W) bool, order (N,) int)`` with
    ``order[k]`` the input index of output object k.
    """
    order = np.argsort(-masks.reshape(len(masks), -1).sum(1), kind="stable")
    label = np.zeros(masks.shape[1:], np.int32)
    for k, i in enumerate(order):
        label[masks[i]] = k + 1
    return np.stack([label == k + 1 for k in range(len(order))]).reshape(masks.shape), order


@dataclass(frozen=True)
class Item:
    """One indexed image: its sample id and whatever the loader needs to decode it."""

    id: str
    image: Path
    annotation: object = None
    extra: dict = field(default_factory=dict)


class IndexedDataset(Dataset):
    """A fixed list of `Item`s decoded one at a time by ``_read``.

    name, variant, root: written into ``info``; skipped: images left out at indexing,
    each ``{"id", "reason"}``. Sample ids must be unique (ValueError otherwise).
    """

    def __init__(self, name: str, variant: str, root: Path, items: list[Item],
                 skipped: list[dict], **info) -> None:
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"dataset {name!r}: two images share the id {item.id!r}")
            seen.add(item.id)
        self.items = items
        self.info = {"name": name, "variant": variant, "root": str(root),
                     "images": len(items), "skipped": list(skipped), **info}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        if not -len(self.items) <= index < len(self.items):
            raise IndexError(f"sample index {index} out of range for {len(self.items)} samples")
        item = self.items[index]
        sample = self._read(item)
        if not sample.masks.any():
            raise NoObjectError(f"dataset {self.info['name']!r}: image {item.id!r} has no "
                                f"usable object ({item.image})", item.id)
        return sample

    def _read(self, item: Item) -> Sample:
        raise NotImplementedError
