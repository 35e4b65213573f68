"""Where the simulated user clicks: exact distance-transform maxima of error regions.

Both official clickers (RITM's and DynaMITe's) click at the pixel of an error region
farthest from its boundary, the image border counting as boundary. We compute the
Euclidean distance on the region's bounding box plus a 1-pixel zero border (identical
distances to a full-image transform, since that border is nearer than anything beyond
it) and round the squared distance to an integer, so equally distant pixels tie exactly
and the first maximum in row-major order wins every time.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["disk_offsets", "error_click", "farthest_point"]


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) half-open bounding box of a bool mask, or None if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _squared_distances(mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Exact integer squared distance to the nearest non-mask pixel, on ``box`` of ``mask``."""
    y0, y1, x0, x1 = box
    padded = cv2.copyMakeBorder(
        mask[y0:y1, x0:x1].view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0
    )
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    # float32 sqrt is within a few ulps: rounding its square recovers the exact integer.
    return np.rint(np.square(dist, dtype=np.float64)).astype(np.int64)


def _masked_max(
    mask: np.ndarray, excluded: np.ndarray | None
) -> tuple[int, int, int]:
    """(squared distance, y, x) of the first row-major maximum of mask's distance map.

    Pixels where ``excluded`` is True count as distance 0. An empty mask gives (0, 0, 0).
    """
    box = _bbox(mask)
    if box is None:
        return 0, 0, 0
    d2 = _squared_distances(mask, box)
    y0, y1, x0, x1 = box
    if excluded is not None:
        d2[excluded[y0:y1, x0:x1]] = 0
    flat = int(np.argmax(d2))
    best = int(d2.flat[flat])
    if best == 0:
        return 0, 0, 0
    dy, dx = divmod(flat, d2.shape[1])
    return best, y0 + dy, x0 + dx


def farthest_point(mask: np.ndarray, excluded: np.ndarray | None = None) -> tuple[int, int]:
    """(y, x) of the mask pixel farthest from its boundary (first in row-major order).

    mask: (H, W) bool. excluded: (H, W) bool of pixels that may not be chosen (their
    distance counts as 0; distances themselves are unchanged). With no choosable pixel
    the point is (0, 0), as both official clickers do.
    """
    _, y, x = _masked_max(np.ascontiguousarray(mask, dtype=bool), excluded)
    return y, x


def error_click(
    fn: np.ndarray, fp: np.ndarray, excluded: np.ndarray | None
) -> tuple[int, int, bool]:
    """Next corrective click: (y, x, from_false_negatives).

    fn, fp: (H, W) bool false-negative / false-positive regions (ignore pixels removed).
    excluded: (H, W) bool of pixels that may not be clicked again, or None.
    The click comes from the false negatives iff their largest distance is strictly
    greater than the false positives' (a tie, 0 == 0 included, picks the false
    positives). With no clickable error pixel at all the click lands at (0, 0).
    """
    d_fn, y_fn, x_fn = _masked_max(fn, excluded)
    d_fp, y_fp, x_fp = _masked_max(fp, excluded)
    if d_fn > d_fp:
        return y_fn, x_fn, True
    return y_fp, x_fp, False


def distance_at(mask: np.ndarray, y: int, x: int) -> float:
    """Euclidean distance from mask pixel (y, x) to the nearest non-mask pixel or border."""
    box = _bbox(mask)
    if box is None or not mask[y, x]:
        return 0.0
    return float(np.sqrt(_squared_distances(mask, box)[y - box[0], x - box[2]]))


def disk_offsets(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx) int arrays of every offset with dy² + dx² <= radius²."""
    r = int(radius)
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    keep = dy * dy + dx * dx <= r * r
    return dy[keep], dx[keep]
