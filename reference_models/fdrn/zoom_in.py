"""RITM's Zoom-In predictor (``specs/ritm.md`` 3.1, 3.3) for the RITM-based FDRN H-series.

To be merged with the RITM engineer's predictor. Per click: from the second click on, the
ROI is the previous mask (prob > 0.5) plus the positive clicks, expanded 1.4x (at least
200 px), kept while every positive click stays inside it and the new candidate's bbox IoU
with it is >= 0.5; the crop is resized so its long side is ``target_size`` (288 for FDRN-H,
400 for RITM) and the prediction is pasted back into a zero canvas. Quirk kept: if the
previous mask is empty, the net sees the full image but the result is pasted into the old
ROI. Flip TTA is not applied (FDRN's paper times one F_θ2 pass per click).

State (the caller's per-object dict): ``prev`` (1, 1, H, W) probabilities, ``roi`` the
inclusive (rmin, rmax, cmin, cmax).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from isbench.reference_models.focalclick.inference import points_tensor, target_crop

__all__ = ["bbox_iou", "zoom_in_step"]


def bbox_iou(a: tuple, b: tuple) -> float:
    """IoU of two inclusive (rmin, rmax, cmin, cmax) boxes, per-axis product (RITM's)."""
    def axis(a0, a1, b0, b1):
        return max(0, min(a1, b1) - max(a0, b0) + 1) / (max(a1, b1) - min(a0, b0) + 1)
    return axis(a[0], a[1], b[0], b[1]) * axis(a[2], a[3], b[2], b[3])


def _inside(roi: tuple, clicks: Sequence[tuple[int, int, bool]]) -> bool:
    return all(roi[0] <= y < roi[1] and roi[2] <= x < roi[3] for y, x, p in clicks if p)


def zoom_in_step(coarse: Callable, image: torch.Tensor, clicks: Sequence[tuple[int, int, bool]],
                 state: dict, target_size: int = 288, expansion: float = 1.4,
                 min_crop: int = 200, thresh: float = 0.5) -> torch.Tensor:
    """One RITM ``get_prediction``: the (1, 1, H, W) probabilities.

    coarse(x, points, roi): x (1, 4, h, w) [RGB 0-1, prev prob], points (1, 2N, 3) in that
    frame, roi the half-open (y1, y2, x1, x2) image region x shows -> logits (1, 1, h, w).
    """
    h, w = image.shape[-2:]
    prev = state.get("prev")
    if prev is None:
        prev = image.new_zeros(1, 1, h, w)
    x = torch.cat([image, prev], dim=1)
    roi, crop = state.get("roi"), None
    mask = prev[0, 0].numpy() > thresh
    if len(clicks) > 1 and mask.any():
        cand = target_crop(mask, clicks, expansion, min_crop)
        if roi is None or not _inside(roi, clicks) or bbox_iou(cand, roi) < 0.5:
            roi = state["roi"] = cand
        crop = roi
    pts = [(cy, cx, p) for cy, cx, p in clicks]
    view = (0, h, 0, w)
    if crop is not None:
        r0, r1, c0, c1 = crop
        ch, cw = r1 - r0 + 1, c1 - c0 + 1
        s = target_size / max(ch, cw)
        nh, nw = int(round(ch * s)), int(round(cw * s))
        x = F.interpolate(x[:, :, r0:r1 + 1, c0:c1 + 1], size=(nh, nw), mode="bilinear",
                          align_corners=True)
        pts = [(nh * (cy - r0) / ch, nw * (cx - c0) / cw, p) for cy, cx, p in clicks]
        view = (r0, r1 + 1, c0, c1 + 1)
    probs = torch.sigmoid(coarse(x, points_tensor(pts), view))
    if roi is not None:
        r0, r1, c0, c1 = roi
        full = image.new_zeros(1, 1, h, w)
        full[:, :, r0:r1 + 1, c0:c1 + 1] = F.interpolate(
            probs, size=(r1 - r0 + 1, c1 - c0 + 1), mode="bilinear", align_corners=True)
        probs = full
    state["prev"] = probs
    return probs
