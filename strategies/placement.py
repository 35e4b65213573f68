"""Where the simulated user clicks: exact distance-transform maxima of error regions.

Both official clickers (RITM's and DynaMITe's) click at the pixel of an error region
farthest from its boundary, the image border counting as boundary. We compute the
Euclidean distance on the region's bounding box plus a 1-pixel zero border (identical
distances to a full-image transform, since that border is nearer than anything beyond
it), as exact integer squared distances in a compiled loop, so equally distant pixels tie
exactly and the first maximum in row-major order wins every time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["disk_offsets", "error_click", "farthest_point"]

_NOTHING_EXCLUDED = np.zeros((0, 0), dtype=bool)


@njit(cache=True, nogil=True)
def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) half-open bounding box of a bool mask; y0 == y1 if it is empty.
    Rows and columns are found with OR-accumulations (branch-free, vectorised)."""
    h, w = mask.shape
    u = mask.view(np.uint8)
    y0, y1 = h, 0
    for y in range(h):
        acc = np.uint8(0)
        for x in range(w):
            acc |= u[y, x]
        if acc:
            y0, y1 = min(y0, y), y + 1
    if y1 == 0:
        return 0, 0, 0, 0
    cols = np.zeros(w, np.uint8)
    for y in range(y0, y1):
        for x in range(w):
            cols[x] |= u[y, x]
    x0, x1 = 0, w
    while not cols[x0]:
        x0 += 1
    while not cols[x1 - 1]:
        x1 -= 1
    return y0, y1, x0, x1


@njit(cache=True, nogil=True)
def _column_distances(mask, excluded, y0: int, y1: int, x0: int, x1: int):
    """((h, w) int32 distance along each column of the box to the nearest non-mask pixel,
    the rows just outside the box counting as non-mask; (h,) int64 each row's largest of
    them over pixels not ``excluded`` ((0, 0): none), a bound on the row's distances).
    Two branch-free vectorised sweeps, down then up; the row maxima ride on the second."""
    h, w = y1 - y0, x1 - x0
    u = mask.view(np.uint8)
    col = np.empty((h, w), np.int32)
    for y in range(h):
        row, cur = u[y0 + y, x0:x1], col[y]
        if y == 0:
            for x in range(w):
                cur[x] = row[x]
        else:
            prev = col[y - 1]
            for x in range(w):
                cur[x] = (prev[x] + 1) * np.int32(row[x])
    col_max = np.empty(h, np.int64)
    check = excluded.shape[0] > 0
    for y in range(h - 1, -1, -1):
        cur, cap = col[y], np.int32(1)
        if y + 1 < h:
            nxt = col[y + 1]
            for x in range(w):
                cur[x] = min(cur[x], nxt[x] + 1)
        else:
            for x in range(w):
                cur[x] = min(cur[x], cap)
        top = np.int32(0)
        if check:
            ex = excluded[y0 + y, x0:x1].view(np.uint8)
            for x in range(w):
                top = max(top, cur[x] * np.int32(1 - ex[x]))
        else:
            for x in range(w):
                top = max(top, cur[x])
        col_max[y] = top
    return col, col_max


@njit(cache=True, nogil=True)
def _row_envelope(col_row: np.ndarray, out: np.ndarray, site: np.ndarray, start: np.ndarray):
    """out[x] = min over columns q of col_row[q]² + (x - q)², the columns just outside the
    row counting as 0: the lower envelope of parabolas (Felzenszwalb & Huttenlocher)."""
    w = col_row.shape[0]
    n = w + 2  # parabola sites -1 .. w, stored shifted by one

    def f(q):
        return 0 if q == 0 or q == n - 1 else col_row[q - 1] * col_row[q - 1]

    k = 0
    site[0], start[0], start[1] = 0, -np.inf, np.inf
    for q in range(1, n):
        fq = f(q) + q * q
        while True:
            v = site[k]
            s = (fq - (f(v) + v * v)) / (2.0 * (q - v))
            if s <= start[k] and k > 0:
                k -= 1
            else:
                break
        k += 1
        site[k], start[k], start[k + 1] = q, s, np.inf
    k = 0
    for x in range(w):
        q = x + 1
        while start[k + 1] < q:
            k += 1
        v = site[k]
        out[x] = f(v) + (q - v) * (q - v)


@njit(cache=True, nogil=True)
def _squared_distances(mask: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """Exact integer squared distance to the nearest non-mask pixel, on the box of ``mask``
    with a zero border around it."""
    col, _ = _column_distances(mask, _NOTHING_EXCLUDED, y0, y1, x0, x1)
    h, w = col.shape
    out = np.empty((h, w), np.int64)
    site, start = np.empty(w + 2, np.int64), np.empty(w + 3, np.float64)
    for y in range(h):
        _row_envelope(col[y], out[y], site, start)
    return out


@njit(cache=True, nogil=True)
def _run_maximum(col_row, excluded_row, s, e, best, bx, bounds, out, site, start):
    """``_row_maximum`` on one run [s, e) of mask pixels: the updated (best, bx). Only the
    run and its two zero ends can be nearest to its pixels.

    A pixel's distance is at most min(column distance, distance to either run end), its
    bound (0 if excluded). Pixels whose bound cannot beat ``best`` are skipped; the others
    get their exact squared distance from the columns nearer than their bound or, when
    that work would exceed 4 x the run length, from the run's parabola envelope."""
    work = 0
    check = excluded_row.shape[0] > 0
    for x in range(s, e):
        b = min(np.int64(col_row[x]), x - s + 1, e - x)
        if check and excluded_row[x]:
            b = 0
        bounds[x] = b
        if b * b > best:
            work += 2 * b
    if work == 0:
        return best, bx
    envelope = work > 4 * (e - s)
    if envelope:
        _row_envelope(col_row[s:e], out[s:e], site, start)
    for x in range(s, e):
        b = bounds[x]
        if b * b <= best:
            continue
        d = out[x]
        if not envelope:
            d = b * b
            for q in range(max(s, x - b + 1), min(e, x + b)):
                c = np.int64(col_row[q])
                d = min(d, c * c + (x - q) * (x - q))
        if d > best:
            best, bx = d, x
    return best, bx


@njit(cache=True, nogil=True)
def _row_maximum(col_row, excluded_row, limit, bounds, out, site, start, words_row, x0
                 ) -> tuple[int, int]:
    """(squared distance, x) of the row's first pixel of largest squared distance, if that
    is at least ``limit``, else (0, -1). col_row: the row's column distances (0 off the
    mask) from image column ``x0`` on; excluded_row: its excluded pixels (length 0: none);
    words_row: the whole mask row as uint64 words (length 0: none), so that the empty rest
    of a word is skipped at once; the rest are scratch rows. Runs of mask pixels too short
    to reach ``limit`` are passed over without per-pixel work."""
    w = col_row.shape[0]
    words = words_row.shape[0] > 0
    best, bx = np.int64(limit - 1), -1
    x = 0
    while x < w:
        if col_row[x] == 0:
            if words:  # the rest of this pixel's word empty: on to the next non-empty word
                c = x0 + x
                if words_row[c >> 3] >> np.uint64(8 * (c & 7)) == 0:
                    k, end = (c >> 3) + 1, (x0 + w + 7) >> 3
                    while k + 4 <= end and (words_row[k] | words_row[k + 1] | words_row[k + 2]
                                            | words_row[k + 3]) == 0:
                        k += 4
                    while k < end and words_row[k] == 0:
                        k += 1
                    x = 8 * k - x0
                    continue
            x += 1
            continue
        s = x
        while x < w and col_row[x] > 0:
            x += 1
        half = np.int64((x - s + 1) // 2)  # the largest distance to a run end
        if half * half > best:
            best, bx = _run_maximum(col_row, excluded_row, s, x, best, bx, bounds, out, site,
                                    start)
    return (best, bx) if bx >= 0 else (0, -1)


@njit(cache=True, nogil=True)
def _masked_max(mask: np.ndarray, excluded: np.ndarray, floor: int = 1) -> tuple[int, int, int]:
    """(squared distance, y, x) of the first row-major maximum of mask's distance map, if
    it is at least ``floor`` (>= 1), else (0, 0, 0).

    Pixels where ``excluded`` (same shape, or (0, 0) for none) is True count as distance
    0. An empty mask, or one with every pixel excluded, gives (0, 0, 0).

    Only rows that can hold the maximum are searched: a pixel's distance is at most its
    column distance. Rows are visited by their largest column distance, largest first,
    until it falls below the best value found; within a row, only runs of mask pixels
    long enough, and in them only pixels whose bound reaches that value, are computed
    (``_row_maximum``), so the work follows the mask's pixels, not its box.
    """
    y0, y1, x0, x1 = _bbox(mask)
    if y0 == y1:
        return 0, 0, 0
    # A row's largest column distance bounds its pixels. Excluded pixels cannot be
    # chosen, so they do not raise it.
    col, col_max = _column_distances(mask, excluded, y0, y1, x0, x1)
    h, w = col.shape
    check = excluded.shape[0] > 0
    no_exclusion = np.zeros(0, np.bool_)
    bounds = np.empty(w, np.int64)
    best, by, bx = 0, h, w
    out = np.empty(w, np.int64)
    site, start = np.empty(w + 2, np.int64), np.empty(w + 3, np.float64)
    # The mask as 64-bit words (when its rows are whole words) for skipping empty stretches.
    words = mask.view(np.uint64) if mask.shape[1] % 8 == 0 else np.zeros((0, 0), np.uint64)
    no_words = np.zeros(0, np.uint64)
    for y in np.argsort(-col_max, kind="mergesort"):
        if col_max[y] * col_max[y] < max(best, floor):
            break
        # An earlier row wins a tie with the best so far, a later one must beat it.
        limit = max(best if y < by else best + 1, floor)
        excluded_row = excluded[y0 + y, x0:x1] if check else no_exclusion
        words_row = words[y0 + y] if words.shape[0] > 0 else no_words
        d, x = _row_maximum(col[y], excluded_row, limit, bounds, out, site, start, words_row,
                            x0)
        if x >= 0:
            best, by, bx = d, y, x
    if best == 0:
        return 0, 0, 0
    return best, y0 + by, x0 + bx



def _max_of(mask: np.ndarray, excluded: np.ndarray | None, floor: int = 1):
    """``_masked_max`` on any bool-like arrays."""
    mask = np.ascontiguousarray(mask, dtype=bool)
    excluded = _NOTHING_EXCLUDED if excluded is None else np.ascontiguousarray(excluded, bool)
    return _masked_max(mask, excluded, floor)


def farthest_point(mask: np.ndarray, excluded: np.ndarray | None = None) -> tuple[int, int]:
    """(y, x) of the mask pixel farthest from its boundary (first in row-major order).

    mask: (H, W) bool. excluded: (H, W) bool of pixels that may not be chosen (their
    distance counts as 0; distances themselves are unchanged). With no choosable pixel
    the point is (0, 0), as both official clickers do.
    """
    _, y, x = _max_of(mask, excluded)
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
    d_fn, y_fn, x_fn = _max_of(fn, excluded)
    # The false positives only matter from d_fn up (they win ties), so rows below it are
    # never transformed.
    d_fp, y_fp, x_fp = _max_of(fp, excluded, max(d_fn, 1))
    if d_fn > d_fp:
        return y_fn, x_fn, True
    return y_fp, x_fp, False


def distance_at(mask: np.ndarray, y: int, x: int) -> float:
    """Euclidean distance from mask pixel (y, x) to the nearest non-mask pixel or border."""
    mask = np.ascontiguousarray(mask, dtype=bool)
    if not mask[y, x]:
        return 0.0
    y0, y1, x0, x1 = _bbox(mask)
    return float(np.sqrt(_squared_distances(mask, y0, y1, x0, x1)[y - y0, x - x0]))


def disk_offsets(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx) int arrays of every offset with dy² + dx² <= radius²."""
    r = int(radius)
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    keep = dy * dy + dx * dx <= r * r
    return dy[keep], dx[keep]
