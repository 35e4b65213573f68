"""IoU from integer pixel counts, the one definition every protocol shares.

IoU = |gt ∧ pred| / |gt ∨ pred| over valid (non-ignore) pixels, divided in float64.
An empty union (no ground truth and no prediction) counts as IoU 1.0: nothing to find,
nothing wrongly found (the official codes return NaN there, which no threshold test
can use). A value equal to the threshold counts as reached.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["ObjectIoU", "fused_labels", "iou", "label_map", "object_ious"]


def iou(gt: np.ndarray, pred: np.ndarray, valid: np.ndarray | None = None) -> float:
    """IoU of two (H, W) bool masks, counting only ``valid`` pixels if given."""
    inter = gt & pred
    union = gt | pred
    if valid is not None:
        inter &= valid
        union &= valid
    u = int(np.count_nonzero(union))
    return 1.0 if u == 0 else int(np.count_nonzero(inter)) / u


def label_map(masks: np.ndarray) -> np.ndarray:
    """(H, W) map: 0 background, k+1 where mask k is set (later masks win overlaps); uint8
    up to 254 masks (the dtype of fused label maps, so the two compare without casting),
    else int32."""
    labels = np.zeros(masks.shape[1:], dtype=np.uint8 if len(masks) <= 254 else np.int32)
    for k, mask in enumerate(masks):
        labels[mask] = k + 1
    return labels


BLOCK = 32  # pixels counted at once when their codes are all equal
MAX_OBJECTS = 32767  # objects per image that ObjectIoU can count


@njit(cache=True, nogil=True)
def _count_row(labels, gt, valid, counts, code) -> None:
    """Add one row to counts (2 * (N + 1),) int64, indexed by 2 * predicted label + (ground
    truth == predicted label); a pixel outside ``valid`` (length 0: none) goes to code 0,
    the background's, which no IoU reads. ``code``: (W,) uint16 scratch.

    Labels come in long runs, so a block of BLOCK equal codes is added at once and only
    mixed blocks are counted pixel by pixel."""
    w = labels.shape[0]
    for x in range(w):
        p = np.uint16(labels[x])
        code[x] = (p << 1) | np.uint16(gt[x] == p)
    if valid.shape[0] > 0:
        for x in range(w):
            code[x] *= np.uint16(valid[x])
    x = 0
    while x + BLOCK <= w:
        first, diff = code[x], np.uint16(0)
        for j in range(BLOCK):
            diff |= code[x + j] ^ first
        if diff == 0:
            counts[first] += BLOCK
        else:
            for j in range(BLOCK):
                counts[code[x + j]] += 1
        x += BLOCK
    for j in range(x, w):
        counts[code[j]] += 1


@njit(cache=True, nogil=True)
def _count(labels, gt, valid, counts) -> None:
    """``_count_row`` over every row of (H, W) maps."""
    code = np.empty(labels.shape[1], np.uint16)
    for y in range(labels.shape[0]):
        _count_row(labels[y], gt[y], valid[y], counts, code)


@njit(cache=True, nogil=True)
def _fuse(probs, thr, labels, gt, valid, counts) -> bool:
    """Fill ``labels`` (H, W) uint8 with the argmax over [thr, probs...] row by row (a
    strict > keeps the first maximum), adding each finished row to ``counts`` (see
    ``_count_row``) unless it is empty; True iff every probability is finite.

    Objects are taken four at a time, so the row's running maximum and labels are read
    and written once per four objects; a missing fourth is a row of ``thr``, which never
    wins (the running maximum starts at ``thr``)."""
    n, h, w = probs.shape
    count = counts.shape[0] > 0
    thr32, zero = np.float32(thr), np.float32(0)
    filler = np.full(w, thr32, np.float32)
    best = np.empty(w, np.float32)
    code = np.empty(w, np.uint16)
    nonfinite = np.zeros(w, np.float32)  # v * 0 is NaN exactly for NaN and +-inf
    for y in range(h):
        row_labels = labels[y]
        best[:] = thr32
        row_labels[:] = 0
        for k in range(0, n, 4):
            ra = probs[k, y]
            rb = probs[k + 1, y] if k + 1 < n else filler
            rc = probs[k + 2, y] if k + 2 < n else filler
            rd = probs[k + 3, y] if k + 3 < n else filler
            la, lb, lc, ld = np.uint8(k + 1), np.uint8(k + 2), np.uint8(k + 3), np.uint8(k + 4)
            for x in range(w):
                a, b, c, d = ra[x], rb[x], rc[x], rd[x]
                top, label = best[x], row_labels[x]
                up = a > top
                top, label = a if up else top, la if up else label
                up = b > top
                top, label = b if up else top, lb if up else label
                up = c > top
                top, label = c if up else top, lc if up else label
                up = d > top
                top, label = d if up else top, ld if up else label
                best[x], row_labels[x] = top, label
                nonfinite[x] += ((a + b) + (c + d)) * zero
        if count:
            _count_row(row_labels, gt[y], valid[y], counts, code)
    return nonfinite.sum() == 0


_NO_COUNT = np.zeros(0, np.int64)
_NO_MAP = np.zeros((0, 0), np.uint8)


def fused_labels(probs: np.ndarray, thr: float) -> tuple[np.ndarray, bool]:
    """((H, W) label map, all finite) of the argmax over [thr, probs...]: 0 background,
    k+1 object k. probs: (N, H, W) float32.

    The first maximum wins, so the background wins ties with the threshold and a lower
    object index wins ties between objects (numpy ``argmax`` semantics).
    """
    if len(probs) > 254:
        best = probs.argmax(axis=0)
        keep = np.take_along_axis(probs, best[None], axis=0)[0] > thr
        return np.where(keep, best + 1, 0).astype(np.int32), bool(np.isfinite(probs).all())
    labels = np.empty(probs.shape[1:], dtype=np.uint8)
    probs = np.ascontiguousarray(probs, dtype=np.float32)
    finite = _fuse(probs, thr, labels, _NO_MAP, _NO_MAP, _NO_COUNT)
    return labels, finite


class ObjectIoU:
    """Per-object IoUs against one ground-truth label map, prepared once per image.

    gt_labels: (H, W) int map, 0 background, k+1 object k (objects disjoint).
    valid: (H, W) bool of pixels that count, or None. Calling it with a predicted label
    map (values 0..num_objects) returns (N,) float64 IoUs; ``fused`` does the argmax
    fusion of a probability stack and the counting in one pass.
    """

    def __init__(self, gt_labels: np.ndarray, num_objects: int, valid: np.ndarray | None = None):
        if num_objects > MAX_OBJECTS:  # the counting codes are uint16: 2 * label + hit
            raise ValueError(f"ObjectIoU: {num_objects} objects, at most {MAX_OBJECTS}")
        self.n = num_objects
        self.gt = np.ascontiguousarray(gt_labels, np.uint8 if num_objects < 255 else np.int32)
        self.valid = np.zeros((len(self.gt), 0), bool) if valid is None else np.ascontiguousarray(
            valid, dtype=bool)
        gt = self.gt if valid is None else self.gt[self.valid]
        self.gt_count = np.bincount(gt.ravel(), minlength=self.n + 1)[1:]

    def _ious(self, counts: np.ndarray) -> np.ndarray:
        # counts[2k + 1]: predicted k + 1 on its own object (the intersection);
        # counts[2k]: predicted k + 1 elsewhere, so the union is the object plus these.
        union = self.gt_count + counts[2::2]
        return np.divide(counts[3::2], union, out=np.ones(self.n), where=union > 0)

    def __call__(self, pred_labels: np.ndarray) -> np.ndarray:
        counts = np.zeros(2 * (self.n + 1), np.int64)
        _count(np.ascontiguousarray(pred_labels), self.gt, self.valid, counts)
        return self._ious(counts)

    def fused(self, probs: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray, bool]:
        """(label map, (N,) IoUs, all finite) of ``fused_labels(probs, thr)``."""
        if self.n > 254:
            labels, finite = fused_labels(probs, thr)
            return labels, self(labels), finite
        counts = np.zeros(2 * (self.n + 1), np.int64)
        labels = np.empty(probs.shape[1:], dtype=np.uint8)
        finite = _fuse(np.ascontiguousarray(probs, dtype=np.float32), thr, labels, self.gt,
                       self.valid, counts)
        return labels, self._ious(counts), finite


def object_ious(
    gt_labels: np.ndarray,
    pred_labels: np.ndarray,
    num_objects: int,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """(N,) float64 IoUs of every object from two disjoint label maps (0 = background)."""
    return ObjectIoU(gt_labels, num_objects, valid)(pred_labels)
