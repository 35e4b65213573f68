"""Plain data that flows through the loop: a dataset `Sample` and a simulated `Click`.

Loader → session → record: a `Sample` is what a loader yields, a `Click` is what a
strategy places and what an adapter receives (as a tuple, so it cannot be altered).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CLICK_KINDS", "Click", "Sample"]

CLICK_KINDS = ("normal", "repetitive", "false", "jitter")


@dataclass(frozen=True)
class Click:
    """One simulated click, in the original image's pixel frame.

    y, x: integer row and column (``(y, x)`` order everywhere in isbench).
    positive: True for a foreground click of ``object_id``, False for background.
    object_id: 0-based object whose pixel this is; ``None`` for a background pixel.
    target_id: 0-based object the simulated user was refining when clicking.
    index: 0-based order of the click in its session.
    kind: "normal", or the perturbation that produced it ("repetitive", "false", "jitter").
    """

    y: int
    x: int
    positive: bool
    object_id: int | None = None
    target_id: int | None = None
    index: int = 0
    kind: str = "normal"

    def as_record(self) -> list:
        """``[y, x, positive, object_id, kind]`` with ``object_id`` -1 for background."""
        oid = -1 if self.object_id is None else int(self.object_id)
        return [int(self.y), int(self.x), bool(self.positive), oid, self.kind]


@dataclass
class Sample:
    """One image with its instances.

    id: unique, stable identifier (seeds the sample's random generator).
    image: (H, W, 3) uint8 RGB.
    masks: (N, H, W) bool, one mask per instance (N >= 1).
    ignore: (H, W) bool of pixels excluded from IoU and never clicked, or None.
    meta: free-form loader facts (file name, variant) kept out of the protocol.
    """

    id: str
    image: np.ndarray
    masks: np.ndarray
    ignore: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        image, masks = np.asarray(self.image), np.asarray(self.masks)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"sample {self.id!r}: image must be (H, W, 3) uint8, "
                f"got {image.shape} {image.dtype}"
            )
        if masks.ndim == 2:
            masks = masks[None]
        if masks.ndim != 3 or masks.shape[1:] != image.shape[:2]:
            raise ValueError(
                f"sample {self.id!r}: masks must be (N, {image.shape[0]}, {image.shape[1]}), "
                f"got {masks.shape}"
            )
        self.image, self.masks = image, masks.astype(bool, copy=False)
        if self.ignore is not None:
            ignore = np.asarray(self.ignore, dtype=bool)
            if ignore.shape != image.shape[:2]:
                raise ValueError(f"sample {self.id!r}: ignore must be (H, W), got {ignore.shape}")
            self.ignore = ignore

    @property
    def num_objects(self) -> int:
        """Number of instances N."""
        return int(self.masks.shape[0])
