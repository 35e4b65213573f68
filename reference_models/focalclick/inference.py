"""FocalClick's official inference procedure (ClickSEG ``FocalPredictor``), one click at a time.

Per click (``specs/focalclick.md`` 3.2): target crop around the positive clicks and the
previous mask (skipped on click 1), square resize to 256, coarse net, paste back, focus crop
around the changed region, refine the focus crop at 256, paste back (from click 11 on, onto
the previous prediction), sigmoid. The official quirks are reproduced on purpose: the focus
crop thresholds *logits* at 0.49, a stale target ROI is kept when the previous mask is empty,
label 0 selects the whole unchanged area, and coordinates scale by new/old while images are
resized with ``align_corners=True``.

All per-object state lives in the ``state`` dict the caller owns (the adapter's
``object_state``): ``prev`` (1, 1, H, W) final probabilities, ``zoom_probs`` (H, W) float32
(what the next target crop thresholds; progressive merge replaces it), ``roi`` the inclusive
(rmin, rmax, cmin, cmax) target ROI. Boxes are (y1, y2, x1, x2); clicks are (y, x, positive).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "expand_focus_box",
    "focal_step",
    "focus_crop",
    "mask_bbox",
    "points_tensor",
    "progressive_merge",
    "target_crop",
]

ZOOM_THRESH = 0.49
FOCUS_THRESH = 0.49
#: From this many clicks on only the focus box changes (``len(clicks) > 10``).
FOCUS_ONLY_AFTER = 10

CoarseFn = Callable[[torch.Tensor, torch.Tensor, tuple], tuple[torch.Tensor, torch.Tensor]]


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


def points_tensor(clicks: Sequence[tuple[float, float, bool]], index: bool = True
                  ) -> torch.Tensor:
    """(1, 2N, 3) float64 rows (y, x, index): positives, then negatives, padded with -1s.

    N = max(#pos, #neg, 1). index: the click's order in ``clicks`` (True) or 0 (refiner).
    float64 as in the official code, whose transformed click coordinates are numpy floats.
    """
    pos = [(y, x, i if index else 0) for i, (y, x, p) in enumerate(clicks) if p]
    neg = [(y, x, i if index else 0) for i, (y, x, p) in enumerate(clicks) if not p]
    n = max(len(pos), len(neg), 1)
    pad = [(-1, -1, -1)]
    rows = pos + pad * (n - len(pos)) + neg + pad * (n - len(neg))
    return torch.tensor([rows], dtype=torch.float64)


def target_crop(mask: np.ndarray, clicks: Sequence[tuple[int, int, bool]],
                expansion: float = 1.4, min_size: int = 10) -> tuple[int, int, int, int]:
    """ZoomIn's object ROI: bbox of mask plus positive clicks, expanded, inclusive, clamped.

    mask: (H, W) bool, the previous probabilities > 0.49 (non-empty). The box grows about its
    centre to ``expansion`` * (extent + 1) per axis (at least ``min_size``), with Python's
    ``round`` (ties to even), and is clamped to [0, H-1] x [0, W-1].
    """
    mask = mask.copy()
    for y, x, positive in clicks:
        if positive:
            mask[int(y), int(x)] = True
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    rmin, rmax, cmin, cmax = rows[0], rows[-1], cols[0], cols[-1]
    rc, cc = 0.5 * (rmin + rmax), 0.5 * (cmin + cmax)
    hh = max(expansion * (rmax - rmin + 1), min_size) * 0.5
    hw = max(expansion * (cmax - cmin + 1), min_size) * 0.5
    h, w = mask.shape
    return (max(0, int(round(rc - hh))), min(h - 1, int(round(rc + hh))),
            max(0, int(round(cc - hw))), min(w - 1, int(round(cc + hw))))


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Inclusive (y1, y2, x1, x2) bbox of a mask with >= 10 pixels, else (0, H, 0, W)."""
    if np.count_nonzero(mask) < 10:
        return 0, mask.shape[0], 0, mask.shape[1]
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def expand_focus_box(box, ratio: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``crop_local.expand_bbox``: scale about the centre by ratio * (extent + 1), truncate."""
    y1, y2, x1, x2 = box
    yc, xc = 0.5 * (y1 + y2), 0.5 * (x1 + x2)
    h, w = ratio * (y2 - y1 + 1), ratio * (x2 - x1 + 1)
    return (max(0, int(yc - h * 0.5)), min(shape[0], int(yc + h * 0.5)),
            max(0, int(xc - w * 0.5)), min(shape[1], int(xc + w * 0.5)))


def focus_crop(coarse_logits: np.ndarray, prev_probs: np.ndarray, global_roi, y: int, x: int,
               ratio: float = 1.4) -> tuple[int, int, int, int]:
    """``get_focus_cropv1``: half-open (y1, y2, x1, x2) focus box in the full image.

    coarse_logits: (H, W) float *logits* (thresholded at 0.49, the official quirk);
    prev_probs: (H, W) previous probabilities (> 0.49); global_roi: half-open target ROI
    that bounds the result; (y, x): the last click.
    """
    pred, prev = coarse_logits > FOCUS_THRESH, prev_probs > FOCUS_THRESH
    if not prev.any():
        box = mask_bbox(pred)
    else:
        _, labels = cv2.connectedComponents(np.logical_xor(prev, pred).astype(np.uint8),
                                            connectivity=8)
        y1d, y2d, x1d, x2d = mask_bbox(labels == labels[y, x])
        y1p, y2p, x1p, x2p = mask_bbox(pred)
        hp, wp = y2p - y1p, x2p - x1p
        if y2d - y1d < hp / 3 or x2d - x1d < wp / 3:
            r = 0.2 * max(hp, wp)
            box = (y - r, y + r, x - r, x + r)
        else:
            box = (y1d, y2d, x1d, x2d)
    y1, y2, x1, x2 = expand_focus_box(box, ratio, pred.shape)
    gy1, gy2, gx1, gx2 = global_roi
    return max(y1, gy1), min(y2, gy2), max(x1, gx1), min(x2, gx2)


def progressive_merge(pred: np.ndarray, prev: np.ndarray, y: int, x: int) -> np.ndarray:
    """Official Progressive Merge: add (or, if prev[y, x], remove) the changed component at the
    click. pred, prev: (H, W) bool. Label-0 quirk kept: a click outside the change selects the
    whole unchanged area."""
    _, labels = cv2.connectedComponents(np.logical_xor(prev, pred).astype(np.uint8),
                                        connectivity=8)
    comp = labels == labels[y, x]
    return prev & ~comp if prev[y, x] else prev | comp


def _logit(p: torch.Tensor) -> torch.Tensor:
    """log(p / (1 - p)) as the official code computes it (+-inf at 1 and 0)."""
    return torch.log(p / (1 - p))


def focal_step(coarse: CoarseFn, refine: Callable, image: torch.Tensor,
               clicks: Sequence[tuple[int, int, bool]], state: dict, infer_size: int = 256,
               target_ratio: float = 1.4, focus_ratio: float = 1.4) -> torch.Tensor:
    """One ``FocalPredictor.get_prediction``: the (1, 1, H, W) final probabilities.

    coarse(x, points, roi): x (1, 4, S, S) [RGB 0-1, prev prob] and points (1, 2N, 3) in
    that frame -> (logits (1,1,S,S), feature); roi is the half-open target ROI in the image
    (FDRN ROI-aligns its image features there). refine: ``model.refine``.
    image: (1, 3, H, W) RGB in [0, 1]. state: this object's dict (see module docstring).
    """
    h, w = image.shape[-2:]
    prev = state.get("prev")
    if prev is None:
        prev = state["prev"] = image.new_zeros(1, 1, h, w)
    x4 = torch.cat([image, prev], dim=1)
    crop = None
    zoom = state.get("zoom_probs")
    if len(clicks) > 1 and zoom is not None:
        mask = zoom > ZOOM_THRESH
        if mask.any():
            crop = state["roi"] = target_crop(mask, clicks, target_ratio)
    roi = state.get("roi")  # stale when the mask was empty: the official ROI is kept
    if crop is not None:
        r0, r1, c0, c1 = crop
        x4 = x4[:, :, r0:r1 + 1, c0:c1 + 1]
    dy, dx = (crop[0], crop[2]) if crop is not None else (0, 0)
    hin, win = x4.shape[-2:]
    sy, sx = infer_size / hin, infer_size / win
    pts = points_tensor([((cy - dy) * sy, (cx - dx) * sx, p) for cy, cx, p in clicks])
    global_roi = (roi[0], roi[1] + 1, roi[2], roi[3] + 1) if roi is not None else (0, h, 0, w)
    logits, feature = coarse(_resize(x4, (infer_size, infer_size)), pts, global_roi)
    probs = _resize(torch.sigmoid(logits), (hin, win))
    if roi is not None:
        r0, r1, c0, c1 = roi
        full = image.new_zeros(1, 1, h, w)
        full[:, :, r0:r1 + 1, c0:c1 + 1] = _resize(probs, (r1 - r0 + 1, c1 - c0 + 1))
        probs = full
    coarse_full = _logit(probs)
    ly, lx = clicks[-1][0], clicks[-1][1]
    y1, y2, x1, x2 = focus_crop(coarse_full[0, 0].numpy(), prev[0, 0].numpy(), global_roi,
                                ly, lx, focus_ratio)
    gy1, gy2, gx1, gx2 = global_roi
    ky, kx = infer_size / (gy2 - gy1), infer_size / (gx2 - gx1)
    box = torch.tensor([[0, max((x1 - gx1) * kx, 0), max((y1 - gy1) * ky, 0),
                         min((x2 - gx1) * kx, infer_size), min((y2 - gy1) * ky, infer_size)]],
                       dtype=torch.float32)
    focus_image = _resize(image[:, :, y1:y2, x1:x2], (infer_size, infer_size))
    fy, fx = infer_size / (y2 - y1), infer_size / (x2 - x1)
    focus_pts = points_tensor([((cy - y1) * fy, (cx - x1) * fx, p) for cy, cx, p in clicks],
                              index=False)
    refined = _resize(refine(focus_image, focus_pts, feature, logits, box), (y2 - y1, x2 - x1))
    base = _logit(prev) if len(clicks) > FOCUS_ONLY_AFTER else coarse_full
    base[:, :, y1:y2, x1:x2] = refined
    final = torch.sigmoid(base)
    state["prev"] = final
    state["zoom_probs"] = final[0, 0].numpy()
    return final
