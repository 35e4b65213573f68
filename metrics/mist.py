"""MIST metrics from multi-instance records (DynaMITe's definitions).

Per image m with N_m objects, final IoUs u_mk and n_m clicks (initial clicks included):
NCI = mean_m n_m / N_m; NFO = #objects with u < thr; NFI = #images with some u < thr;
IoU = mean_m mean_k u_mk (image-weighted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["failures_by_area", "mean_final_iou", "nci", "nfi", "nfo"]


def nci(records: Sequence[dict]) -> float:
    """Mean over images of clicks per object."""
    return float(np.mean([len(r["clicks"]) / r["num_objects"] for r in records]))


def nfo(records: Sequence[dict], thr: float) -> int:
    """Number of objects whose final IoU is below ``thr``."""
    return int(sum(sum(u < thr for u in r["final_ious"]) for r in records))


def nfi(records: Sequence[dict], thr: float) -> int:
    """Number of images with at least one object below ``thr``."""
    return int(sum(any(u < thr for u in r["final_ious"]) for r in records))


def mean_final_iou(records: Sequence[dict]) -> float:
    """Image-weighted mean of per-image mean final IoU."""
    return float(np.mean([np.mean(r["final_ious"]) for r in records]))


def failures_by_area(
    areas: Sequence[int], final_ious: Sequence[float], thr: float, edges: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """(failed, total) object counts per area bin; ``edges`` are bin edges in pixels."""
    areas, ious = np.asarray(areas, float), np.asarray(final_ious, float)
    total, _ = np.histogram(areas, bins=edges)
    failed, _ = np.histogram(areas[ious < thr], bins=edges)
    return failed, total
