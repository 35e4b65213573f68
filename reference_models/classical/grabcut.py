"""GrabCut seeded from clicks: a real interactive baseline that needs no weights.

Positive clicks stamp definite foreground disks, negative clicks definite background
disks; a wider disk around each positive click and the previous mask are "probable
foreground", everything else "probable background". OpenCV's GrabCut (GMM colour
models + graph cut) then labels a window around the probable foreground (``margin``
times its size on each side); outside the window is background. Its k-means
initialisation is seeded on every call, so a prediction depends only on its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from isbench.adapters.base import SingleInstanceAdapter

from isbench.types import Click

__all__ = ["GrabCutAdapter"]


class GrabCutAdapter(SingleInstanceAdapter):
    """OpenCV GrabCut.

    iterations: GrabCut iterations per click. click_radius: definite-label disk radius
    (pixels). seed_radius: probable-foreground disk radius around positive clicks, as a
    fraction of the image's shorter side. margin: context window around the probable
    foreground, as a fraction of its size. seed: OpenCV RNG seed set before each call.
    """

    threshold = 0.5

    def __init__(self, iterations: int | str = 3, click_radius: int | str = 3,
                 seed_radius: float | str = 0.08, margin: float | str = 0.5, seed: int | str = 0,
                 checkpoint=None):
        if checkpoint is not None:
            raise ValueError("model 'grabcut' takes no --checkpoint (it has no weights)")
        try:
            self.iterations, self.click_radius = int(iterations), int(click_radius)
            self.seed_radius, self.seed = float(seed_radius), int(seed)
            self.margin = float(margin)
        except ValueError as exc:
            raise ValueError(f"grabcut: bad model argument ({exc})") from None
        if (self.iterations < 1 or self.click_radius < 0 or not 0 < self.seed_radius < 1
                or self.margin < 0):
            raise ValueError("grabcut: expected iterations >= 1, click_radius >= 0, "
                             "0 < seed_radius < 1, margin >= 0")
        self._image: np.ndarray | None = None

    @property
    def info(self) -> dict:
        return {**super().info, "iterations": self.iterations, "click_radius": self.click_radius,
                "seed_radius": self.seed_radius, "margin": self.margin, "seed": self.seed}

    def set_image(self, image: np.ndarray) -> None:
        self._image = np.ascontiguousarray(image[:, :, ::-1])  # OpenCV works in BGR

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        if self._image is None:
            raise RuntimeError("an image must be set with set_image(...) before predict")
        h, w = self._image.shape[:2]
        labels = np.full((h, w), cv2.GC_PR_BGD, dtype=np.uint8)
        if prev_mask is not None:
            labels[prev_mask > 0.5] = cv2.GC_PR_FGD
        seed_r = max(1, int(round(self.seed_radius * min(h, w))))
        for c in clicks:
            if c.positive:
                cv2.circle(labels, (c.x, c.y), seed_r, int(cv2.GC_PR_FGD), -1)
        for c in clicks:  # definite labels last, so they win over probable ones
            value = cv2.GC_FGD if c.positive else cv2.GC_BGD
            cv2.circle(labels, (c.x, c.y), self.click_radius, int(value), -1)
        fg = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
        out = np.zeros((h, w), dtype=np.float32)
        if not fg.any():
            return out
        ys, xs = np.nonzero(fg)
        my = int(self.margin * (ys.max() - ys.min() + 1)) + 1
        mx = int(self.margin * (xs.max() - xs.min() + 1)) + 1
        y0, y1 = max(0, ys.min() - my), min(h, ys.max() + my + 1)
        x0, x1 = max(0, xs.min() - mx), min(w, xs.max() + mx + 1)
        window = np.ascontiguousarray(labels[y0:y1, x0:x1])
        if not ((window == cv2.GC_BGD) | (window == cv2.GC_PR_BGD)).any():
            out[y0:y1, x0:x1] = 1.0
            return out
        cv2.setRNGSeed(self.seed)
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        crop = np.ascontiguousarray(self._image[y0:y1, x0:x1])
        cv2.grabCut(crop, window, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        out[y0:y1, x0:x1] = (window == cv2.GC_FGD) | (window == cv2.GC_PR_FGD)
        return out
