"""SimpleClick's official inference path: fixed-size zoom-in on every click, flip averaging.

Per click (``specs/simpleclick.md`` §3.3): pick the region of interest (ROI) from the
previous probability map and the positive clicks; crop image + previous mask to it and
resize to the fixed network size (448x448; 672x672 for DAVIS; the aspect ratio is not
kept); run the net on the crop and its mirror, average the two logit maps, apply the
sigmoid, resize back to the ROI and paste into a zero canvas. All resizes are bilinear
with align_corners=True. The ROI is state carried from click to click of one object; this
module keeps no state of its own: `next_roi` takes the previous ROI and returns the new one.
Boxes are ``(rmin, rmax, cmin, cmax)`` with inclusive ends; clicks are ``(y, x, positive)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from isbench.reference_models.simpleclick.model import PlainVitModel

__all__ = [
    "ZOOM_EXPANSION",
    "ZOOM_MIN_CROP",
    "SimpleClickPredictor",
    "box_iou",
    "expand_box",
    "next_roi",
    "object_roi",
    "points_tensor",
    "roi_holds_clicks",
    "zoom_clicks",
]

ZOOM_EXPANSION = 1.4  # the ROI is the predicted object's box grown 1.4x about its centre
ZOOM_MIN_CROP = 200  # ... to at least 200 px per side
_ROI_PROB = 0.5  # previous probabilities above this make the object
_RECOMPUTE_IOU = 0.5  # a new ROI replaces the old one when their box IoU falls below this

Box = tuple[int, int, int, int]
ClickYX = tuple[int, int, bool]


def expand_box(box: Box, ratio: float, min_size: float) -> Box:
    """Grow a box about its centre to max(ratio * size, min_size) per axis.

    Ends are rounded with Python's ``round`` (half to even), as the official code does.
    """
    rmin, rmax, cmin, cmax = box
    rc, cc = 0.5 * (rmin + rmax), 0.5 * (cmin + cmax)
    h = max(ratio * (rmax - rmin + 1), min_size)
    w = max(ratio * (cmax - cmin + 1), min_size)
    return round(rc - 0.5 * h), round(rc + 0.5 * h), round(cc - 0.5 * w), round(cc + 0.5 * w)


def object_roi(prev_prob: np.ndarray, clicks: Sequence[ClickYX]) -> Box | None:
    """ROI candidate from (H, W) float probabilities: None if nothing exceeds 0.5.

    Box of (prob > 0.5) with every positive click pixel added, expanded
    (`expand_box`) and clamped to the image.
    """
    mask = prev_prob > _ROI_PROB
    if not mask.any():
        return None
    mask = mask.copy()
    for y, x, positive in clicks:
        if positive:
            mask[int(y), int(x)] = True
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    rmin, rmax, cmin, cmax = expand_box((int(rows[0]), int(rows[-1]), int(cols[0]),
                                         int(cols[-1])), ZOOM_EXPANSION, ZOOM_MIN_CROP)
    h, w = mask.shape
    return max(0, rmin), min(h - 1, rmax), max(0, cmin), min(w - 1, cmax)


def box_iou(a: Box, b: Box) -> float:
    """Product of the row-interval IoU and the column-interval IoU (inclusive integer ends)."""
    def seg(s0: int, s1: int, t0: int, t1: int) -> float:
        inter = max(0, min(s1, t1) - max(s0, t0) + 1)
        return inter / max(1e-6, max(s1, t1) - min(s0, t0) + 1)
    return seg(a[0], a[1], b[0], b[1]) * seg(a[2], a[3], b[2], b[3])


def roi_holds_clicks(roi: Box, clicks: Sequence[ClickYX]) -> bool:
    """Whether every positive click lies in the ROI; the last row/column counts as outside."""
    rmin, rmax, cmin, cmax = roi
    return all(rmin <= y < rmax and cmin <= x < cmax for y, x, positive in clicks if positive)


def next_roi(prev_roi: Box | None, prev_prob: np.ndarray | None,
             clicks: Sequence[ClickYX], shape: tuple[int, int]) -> Box:
    """The ROI for this click, given the previous one (None on an object's first click).

    The candidate is `object_roi`, or the whole (H, W) image when there is no previous
    object; it replaces the previous ROI if there is none, a positive click falls outside
    it, or their `box_iou` is below 0.5.
    """
    candidate = object_roi(prev_prob, clicks) if prev_prob is not None else None
    if candidate is None:
        candidate = (0, shape[0] - 1, 0, shape[1] - 1)
    if (prev_roi is None or not roi_holds_clicks(prev_roi, clicks)
            or box_iou(candidate, prev_roi) < _RECOMPUTE_IOU):
        return candidate
    return prev_roi


def zoom_clicks(clicks: Sequence[ClickYX], roi: Box, size: tuple[int, int]) -> list:
    """Map clicks into the resized crop: y' = Ht * (y - rmin) / (rmax - rmin + 1), same for x.

    Returns float (y', x', positive) triples, not rounded.
    """
    rmin, rmax, cmin, cmax = roi
    return [(size[0] * (y - rmin) / (rmax - rmin + 1), size[1] * (x - cmin) / (cmax - cmin + 1),
             positive) for y, x, positive in clicks]


def points_tensor(batch: Sequence[Sequence[tuple[float, float, bool]]]) -> torch.Tensor:
    """Click lists -> (B, 2N, 3) float32 rows (y, x, click order): N positives then N negatives.

    N = max(1, largest positive or negative count in the batch); padding rows are (-1, -1, -1).
    """
    groups = []
    for clicks in batch:
        pos = [(y, x, i) for i, (y, x, p) in enumerate(clicks) if p]
        neg = [(y, x, i) for i, (y, x, p) in enumerate(clicks) if not p]
        groups.append((pos, neg))
    n = max([1] + [len(g) for pair in groups for g in pair])
    pad = [(-1, -1, -1)]
    rows = [pos + pad * (n - len(pos)) + neg + pad * (n - len(neg)) for pos, neg in groups]
    return torch.tensor(rows, dtype=torch.float32)


class SimpleClickPredictor:
    """Official SimpleClick inference around a loaded `PlainVitModel`.

    target_size: (H, W) network input; the position embedding is re-interpolated
        (bicubic) once here if it differs from the size the net was built for.
    flip: average the logits of the crop and of its horizontal mirror (official: True).
    device: torch device the net runs on (inputs are moved there, outputs come back as numpy).
    """

    def __init__(self, net: PlainVitModel, target_size: tuple[int, int] = (448, 448),
                 flip: bool = True, device: str = "cpu"):
        self.device = torch.device(device)
        self.net = net.eval().to(self.device)
        self.net.set_input_size(target_size)
        self.target_size = (int(target_size[0]), int(target_size[1]))
        self.flip = flip
        self._image: torch.Tensor | None = None

    def set_image(self, image: np.ndarray) -> None:
        """(H, W, 3) uint8 RGB -> kept as (1, 3, H, W) float32 in [0, 1]."""
        self._image = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
        self._image = self._image.to(self.device, torch.float32).div(255)

    @torch.no_grad()
    def predict(self, clicks: Sequence[ClickYX], prev_prob: np.ndarray | None,
                prev_roi: Box | None) -> tuple[np.ndarray, Box]:
        """One click of one object.

        clicks: all (y, x, positive) clicks so far, original-image pixels.
        prev_prob: (H, W) float32 probabilities returned for the previous click, or None.
        prev_roi: the ROI returned for the previous click, or None.
        Returns ((H, W) float32 probabilities, zero outside the ROI; the ROI used).
        """
        if self._image is None:
            raise RuntimeError("SimpleClick: call set_image(...) before predict(...)")
        h, w = self._image.shape[2:]
        prev = np.zeros((h, w), np.float32) if prev_prob is None else prev_prob
        roi = next_roi(prev_roi, prev_prob, clicks, (h, w))
        rmin, rmax, cmin, cmax = roi
        prev_t = torch.from_numpy(prev.astype(np.float32, copy=False)).to(self.device)
        full = torch.cat([self._image, prev_t[None, None]], dim=1)
        crop = F.interpolate(full[:, :, rmin:rmax + 1, cmin:cmax + 1], size=self.target_size,
                             mode="bilinear", align_corners=True)
        zoomed = zoom_clicks(clicks, roi, self.target_size)
        batch = [zoomed]
        if self.flip:
            crop = torch.cat([crop, torch.flip(crop, dims=[3])], dim=0)
            batch.append([(y, self.target_size[1] - x - 1, p) for y, x, p in zoomed])
        logits = self.net(crop, points_tensor(batch).to(self.device))
        if self.flip:
            logits = 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3]))
        prob = F.interpolate(torch.sigmoid(logits), size=(rmax - rmin + 1, cmax - cmin + 1),
                             mode="bilinear", align_corners=True)
        out = np.zeros((h, w), np.float32)
        out[rmin:rmax + 1, cmin:cmax + 1] = prob[0, 0].cpu().numpy()
        return out, roi
