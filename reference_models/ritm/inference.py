"""RITM's evaluation-time inference path (``BasePredictor`` in ``NoBRS`` mode, ``cvpr`` protocol).

One prediction: ``[image RGB/255, previous probabilities]`` → Zoom-In crop (from the 2nd
click on) → horizontal-flip pair → network → average the two **logits** → sigmoid →
paste the crop's probabilities back into a zero canvas (probability 0 outside the crop).
Integer arithmetic and rounding follow ``isegm/inference/transforms/zoom_in.py`` and
``isegm/utils/misc.py`` exactly (Python round-half-to-even, inclusive boxes). Boxes are
``(rmin, rmax, cmin, cmax)``, inclusive; clicks are ``(y, x, positive)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["ZoomIn", "bbox_iou", "crop_size", "expand_bbox", "object_roi", "points_nd",
           "predict", "select_roi"]

Box = tuple[int, int, int, int]
ClickYX = tuple[float, float, bool]


@dataclass(frozen=True)
class ZoomIn:
    """Zoom-In settings (official defaults; ``target_size`` 600 for DAVIS in ``cvpr`` mode).

    target_size: long side of the resized crop (pixels). skip_clicks: the first this many
    clicks run on the whole image (>= 0; the official ``fixedN`` mode's -1 is not
    supported). expansion_ratio, min_crop_size: box growth and minimum side.
    recompute_thresh_iou: keep the old box while the new one overlaps it at least this much.
    prob_thresh: foreground threshold for the box (its own, not the 0.49 of the mask).
    """

    target_size: int = 400
    skip_clicks: int = 1
    expansion_ratio: float = 1.4
    min_crop_size: int = 200
    recompute_thresh_iou: float = 0.5
    prob_thresh: float = 0.5


def expand_bbox(box: Box, ratio: float, min_size: float) -> Box:
    """Grow a box about its centre by ``ratio`` (each side at least ``min_size``); the ends
    are rounded half-to-even, as ``int(round(...))`` does officially."""
    rmin, rmax, cmin, cmax = box
    rc, cc = 0.5 * (rmin + rmax), 0.5 * (cmin + cmax)
    h = max(ratio * (rmax - rmin + 1), min_size)
    w = max(ratio * (cmax - cmin + 1), min_size)
    return (int(round(rc - 0.5 * h)), int(round(rc + 0.5 * h)),
            int(round(cc - 0.5 * w)), int(round(cc + 0.5 * w)))


def object_roi(mask: np.ndarray, clicks: Sequence[ClickYX], zoom: ZoomIn) -> Box:
    """Crop box for (H, W) bool ``mask``: positive click pixels added, tight bbox, expanded,
    clipped to the image (not shifted)."""
    mask = mask.copy()
    for y, x, positive in clicks:
        if positive:
            mask[int(y), int(x)] = True
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = (int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1]))
    rmin, rmax, cmin, cmax = expand_bbox(box, zoom.expansion_ratio, zoom.min_crop_size)
    h, w = mask.shape
    return max(0, rmin), min(h - 1, rmax), max(0, cmin), min(w - 1, cmax)


def _segment_iou(a: int, b: int, c: int, d: int) -> float:
    inter = max(0, min(b, d) - max(a, c) + 1)
    return inter / max(1e-6, max(b, d) - min(a, c) + 1)


def bbox_iou(b1: Box, b2: Box) -> float:
    """Product of the per-axis 1-D IoUs of two inclusive boxes."""
    return _segment_iou(b1[0], b1[1], b2[0], b2[1]) * _segment_iou(b1[2], b1[3], b2[2], b2[3])


def select_roi(prev: np.ndarray | None, clicks: Sequence[ClickYX], stored: Box | None,
               zoom: ZoomIn) -> tuple[Box | None, bool]:
    """``(box, crop)`` for this click: the box to crop and paste into and whether to crop.

    No crop while ``len(clicks) <= skip_clicks`` or while ``prev`` has no pixel above
    ``prob_thresh`` (then the stored box, if any, is still used for pasting: the official
    quirk). The stored box is replaced when a positive click lies outside it (``y >= rmax``
    counts as outside) or the new box overlaps it by less than ``recompute_thresh_iou``.
    """
    if len(clicks) <= zoom.skip_clicks or prev is None:
        return stored, False
    mask = prev > zoom.prob_thresh
    if not mask.any():
        return stored, False
    candidate = object_roi(mask, clicks, zoom)
    if stored is None:
        return candidate, True
    rmin, rmax, cmin, cmax = stored
    outside = any(p and (y < rmin or y >= rmax or x < cmin or x >= cmax) for y, x, p in clicks)
    if outside or bbox_iou(candidate, stored) < zoom.recompute_thresh_iou:
        return candidate, True
    return stored, True


def crop_size(box: Box, target_size: int) -> tuple[int, int]:
    """(height, width) the crop is resized to: long side ``target_size``, sides rounded."""
    h, w = box[1] - box[0] + 1, box[3] - box[2] + 1
    scale = target_size / max(h, w)
    return int(round(h * scale)), int(round(w * scale))


def points_nd(click_lists: Sequence[Sequence[ClickYX]]) -> torch.Tensor:
    """``(B, 2N, 3)`` float32: per list the positive clicks then the negative ones, each
    ``(y, x, order)`` and padded with ``(-1, -1, -1)`` to ``N = max(1, most of either)``."""
    rows = []
    for clicks in click_lists:
        pos = [(y, x, i) for i, (y, x, p) in enumerate(clicks) if p]
        neg = [(y, x, i) for i, (y, x, p) in enumerate(clicks) if not p]
        rows.append((pos, neg))
    n = max([1] + [max(len(p), len(q)) for p, q in rows])
    pad = [(-1, -1, -1)]
    out = [p + pad * (n - len(p)) + q + pad * (n - len(q)) for p, q in rows]
    return torch.from_numpy(np.asarray(out, dtype=np.float64)).to(torch.float32)


def _logits(net, x: torch.Tensor, clicks: Sequence[ClickYX], flip: bool) -> torch.Tensor:
    """(1, 1, h, w) logits for (1, C, h, w) ``x``; with ``flip`` the mean of the logits of
    ``x`` and of its mirror image (clicks mirrored to ``x' = w - x - 1``)."""
    lists = [list(clicks)]
    if flip:
        w = x.shape[3]
        lists.append([(y, w - cx - 1, p) for y, cx, p in clicks])
        x = torch.cat([x, torch.flip(x, dims=[3])], dim=0)
    logits = net(x, points_nd(lists))["instances"]
    if flip:
        logits = 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3]))
    return logits


@torch.no_grad()
def predict(net, image: torch.Tensor, prev: np.ndarray | None, clicks: Sequence[ClickYX],
            zoom: ZoomIn | None, stored: Box | None, flip: bool = True
            ) -> tuple[np.ndarray, Box | None]:
    """One official prediction; returns ``((H, W) float32 probabilities, box to keep)``.

    image: (1, 3, H, W) float32 RGB in [0, 1]. prev: (H, W) float32 probabilities of the
    previous click (None on the first; fed to the net as zeros). clicks: all clicks so far
    in order, ``(y, x)`` integer pixels of the image. stored: the box kept from the previous
    click of this object (None at first). ``zoom=None`` disables Zoom-In.
    """
    _, _, h, w = image.shape
    x = image
    if net.with_prev_mask:
        p = torch.zeros((1, 1, h, w)) if prev is None else torch.from_numpy(
            np.ascontiguousarray(prev, dtype=np.float32)).view(1, 1, h, w)
        x = torch.cat((image, p), dim=1)
    box, crop = (None, False) if zoom is None else select_roi(prev, clicks, stored, zoom)
    net_clicks = clicks
    if crop:
        rmin, rmax, cmin, cmax = box
        ch, cw = crop_size(box, zoom.target_size)
        x = F.interpolate(x[:, :, rmin:rmax + 1, cmin:cmax + 1], size=(ch, cw),
                          mode="bilinear", align_corners=True)
        net_clicks = [(ch * (y - rmin) / (rmax - rmin + 1), cw * (cx - cmin) / (cmax - cmin + 1),
                       p) for y, cx, p in clicks]
    probs = torch.sigmoid(_logits(net, x, net_clicks, flip))
    if box is not None:
        rmin, rmax, cmin, cmax = box
        inner = F.interpolate(probs, size=(rmax - rmin + 1, cmax - cmin + 1), mode="bilinear",
                              align_corners=True)
        probs = torch.zeros((1, 1, h, w), dtype=probs.dtype)
        probs[:, :, rmin:rmax + 1, cmin:cmax + 1] = inner
    return probs[0, 0].numpy(), box
