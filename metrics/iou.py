"""IoU from integer pixel counts, the one definition every protocol shares.

IoU = |gt ∧ pred| / |gt ∨ pred| over valid (non-ignore) pixels, divided in float64.
An empty union (no ground truth and no prediction) counts as IoU 1.0: nothing to find,
nothing wrongly found (the official codes return NaN there, which no threshold test
can use). A value equal to the threshold counts as reached.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["ObjectIoU", "iou", "label_map", "object_ious"]


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
    """(H, W) int32 map: 0 background, k+1 where mask k is set (later masks win overlaps)."""
    labels = np.zeros(masks.shape[1:], dtype=np.int32)
    for k, mask in enumerate(masks):
        labels[mask] = k + 1
    return labels


class ObjectIoU:
    """Per-object IoUs against one ground-truth label map, prepared once per image.

    gt_labels: (H, W) int map, 0 background, k+1 object k (objects disjoint).
    valid: (H, W) bool of pixels that count, or None. Calling it with a predicted label
    map returns (N,) float64 IoUs from one joint histogram of the two maps.
    """

    def __init__(self, gt_labels: np.ndarray, num_objects: int, valid: np.ndarray | None = None):
        self.n = n = num_objects + 1
        # uint8 joint labels and one OpenCV histogram (float32 counts exact below 2**24 px)
        self.small = n * n <= 256 and gt_labels.size < 2**24
        if self.small:
            self.base = gt_labels.astype(np.uint8) * np.uint8(n)
            self.mask = None if valid is None else valid.astype(np.uint8)
        else:
            self.base = gt_labels.astype(np.int64) * n
            self.valid = valid

    def __call__(self, pred_labels: np.ndarray) -> np.ndarray:
        n = self.n
        if self.small:
            joint = cv2.add(self.base, pred_labels.astype(np.uint8, copy=False))
            hist = cv2.calcHist([joint], [0], self.mask, [n * n], [0, n * n]).reshape(n, n)
        else:
            joint = self.base + pred_labels
            if self.valid is not None:
                joint = joint[self.valid]
            hist = np.bincount(joint.ravel(), minlength=n * n).reshape(n, n)
        hist = hist.astype(np.float64)
        inter = np.diagonal(hist)[1:]
        union = hist.sum(axis=1)[1:] + hist.sum(axis=0)[1:] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union == 0, 1.0, inter / union)


def object_ious(
    gt_labels: np.ndarray,
    pred_labels: np.ndarray,
    num_objects: int,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """(N,) float64 IoUs of every object from two disjoint label maps (0 = background)."""
    return ObjectIoU(gt_labels, num_objects, valid)(pred_labels)
