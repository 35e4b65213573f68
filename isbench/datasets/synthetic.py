"""The bundled dataset: deterministic, generated on the fly, nothing downloaded.

Multi-instance scenes of textured objects (ellipses, polygons, stars, rotated boxes,
thin bent bars, small blobs) on textured backgrounds. Objects are painted in order, so
later ones occlude earlier ones; each mask is an object's visible part (masks are
disjoint) and an object left with fewer than ``min_area`` pixels is dropped. Image i of
a split is drawn from a generator seeded by (split seed, i): ``train`` and ``val`` use
disjoint seeds, evaluation uses ``val``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from isbench.datasets import Dataset
from isbench.types import Sample

__all__ = ["SyntheticScenes", "load", "make_scene"]

SPLIT_SEEDS = {"val": 20_240_001, "train": 90_000_017}


def _texture(rng: np.random.Generator, h: int, w: int, base: np.ndarray,
             where: np.ndarray | None = None) -> np.ndarray:
    """(h, w, 3) float32 texture around an RGB base colour: stripes, blotches and noise;
    only its (K, 3) pixels at ``where`` ((h, w) bool) if given (the same values, drawn from
    the same random stream, computed only where they are used)."""
    coords = np.mgrid[0:h, 0:w] if where is None else np.nonzero(where)
    yy, xx = (c.astype(np.float32) for c in coords)
    angle, period = rng.uniform(0, np.pi), rng.uniform(4, 24)
    stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    gh, gw = int(rng.integers(2, 7)), int(rng.integers(2, 7))
    blotch = cv2.resize(rng.normal(size=(gh, gw)).astype(np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    tint = rng.normal(0, 1, size=3).astype(np.float32)
    amp = rng.uniform(8, 30)
    noise = rng.normal(0, 6, size=(h, w, 3))
    if where is not None:
        blotch, noise = blotch[where], noise[where]
    tex = base + amp * stripes[..., None] * 0.6 + 18 * blotch[..., None] * tint
    return tex + noise.astype(np.float32)


def _shape_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w) uint8 mask of one random shape."""
    m = np.zeros((h, w), np.uint8)
    kind = rng.choice(["ellipse", "polygon", "star", "box", "bar", "blob"],
                      p=[0.24, 0.2, 0.14, 0.16, 0.12, 0.14])
    side = min(h, w)
    cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
    if kind == "blob":  # small objects
        r = int(rng.integers(4, max(5, side // 16)))
        cv2.circle(m, (cx, cy), r, 1, -1)
    elif kind == "ellipse":
        axes = (int(rng.integers(side // 14, side // 3)), int(rng.integers(side // 14, side // 3)))
        cv2.ellipse(m, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    elif kind in ("polygon", "star"):
        n = int(rng.integers(3, 8)) * (2 if kind == "star" else 1)
        ang = np.sort(rng.uniform(0, 2 * np.pi, n)) if kind == "polygon" else np.linspace(
            0, 2 * np.pi, n, endpoint=False)
        r = rng.uniform(side / 12, side / 3.5)
        radii = r * (np.where(np.arange(n) % 2, 0.45, 1.0) if kind == "star" else
                     rng.uniform(0.6, 1.0, n))
        pts = np.stack([cx + radii * np.cos(ang), cy + radii * np.sin(ang)], 1)
        cv2.fillPoly(m, [pts.round().astype(np.int32)], 1)
    elif kind == "box":
        size = tuple(float(v) for v in rng.uniform(side / 10, side / 2.5, 2))
        box = cv2.boxPoints(((cx, cy), size, float(rng.uniform(0, 90))))
        cv2.fillPoly(m, [box.round().astype(np.int32)], 1)
    else:  # thin bent bar: thin parts
        pts = [(cx, cy)]
        for _ in range(int(rng.integers(1, 4))):
            a, length = rng.uniform(0, 2 * np.pi), rng.uniform(side / 8, side / 3)
            pts.append((int(pts[-1][0] + length * np.cos(a)), int(pts[-1][1] + length * np.sin(a))))
        cv2.polylines(m, [np.array(pts, np.int32)], False, 1, int(rng.integers(3, 8)))
    return m


def make_scene(
    rng: np.random.Generator, height: int = 240, width: int = 320, max_objects: int = 8,
    min_area: int = 40,
) -> tuple[np.ndarray, np.ndarray]:
    """One scene: (H, W, 3) uint8 RGB image and (N, H, W) bool disjoint masks, N >= 1."""
    image = _texture(rng, height, width, rng.uniform(40, 215, 3).astype(np.float32))
    labels = np.zeros((height, width), np.int32)
    n = int(rng.integers(1, max_objects + 1))
    for k in range(1, n + 1):
        shape = _shape_mask(rng, height, width).astype(bool)
        if k > 1 and rng.random() < 0.35:  # touch or occlude an earlier object
            ys, xs = np.nonzero(labels)
            if ys.size:
                j = int(rng.integers(ys.size))
                shape = np.roll(shape, (ys[j] - height // 2, xs[j] - width // 2), (0, 1)) | shape
        colour = rng.uniform(20, 235, 3).astype(np.float32)
        image[shape] = _texture(rng, height, width, colour, shape)
        labels[shape] = k
    image = cv2.GaussianBlur(np.clip(image, 0, 255), (3, 3), 0).astype(np.uint8)
    masks = [labels == k for k in range(1, n + 1)]
    masks = [m for m in masks if int(m.sum()) >= min_area]
    if not masks:  # guarantee one object: a centred ellipse
        m = np.zeros((height, width), np.uint8)
        cv2.ellipse(m, (width // 2, height // 2), (width // 6, height // 5), 0, 0, 360, 1, -1)
        image[m.astype(bool)] = 255 - image[m.astype(bool)]
        masks = [m.astype(bool)]
    return image, np.stack(masks)


class SyntheticScenes(Dataset):
    """``size`` deterministic scenes of one split ("val" or "train")."""

    def __init__(self, size: int = 100, split: str = "val", height: int = 240, width: int = 320):
        if split not in SPLIT_SEEDS:
            raise ValueError(f"synthetic split {split!r}: expected one of {', '.join(SPLIT_SEEDS)}")
        if size < 1:
            raise ValueError(f"synthetic size must be >= 1, got {size}")
        self.size, self.split, self.height, self.width = size, split, height, width
        self.info = {"name": "synthetic", "variant": split, "size": size,
                     "image_size": [height, width], "skipped": []}

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < self.size:
            raise IndexError(index)
        rng = np.random.default_rng([SPLIT_SEEDS[self.split], index])
        image, masks = make_scene(rng, self.height, self.width)
        return Sample(id=f"synthetic-{self.split}-{index:04d}", image=image, masks=masks)


def load(root: Path | None = None, size: int | str = 100, split: str = "val") -> SyntheticScenes:
    """Registry loader (``root`` is unused: the dataset is generated)."""
    return SyntheticScenes(int(size), split)
