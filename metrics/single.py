"""NoC-protocol metrics from single-instance records (``ious``: IoU after each click).

A record that stopped early (it reached the stop threshold) contributes its last IoU to
every later click, as the official code carries results forward. Thresholds compare
with ``>=``; a record never reaching a threshold counts ``max_clicks`` clicks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["miou_at", "noc", "nof"]


def _first_reached(ious: Sequence[float], thr: float) -> int | None:
    """1-based index of the first click with IoU >= thr, or None."""
    for k, value in enumerate(ious):
        if value >= thr:
            return k + 1
    return None


def noc(per_sample_ious: Sequence[Sequence[float]], thr: float, max_clicks: int = 20) -> float:
    """Mean number of clicks to reach ``thr`` (``max_clicks`` for a sample that never does)."""
    counts = []
    for ious in per_sample_ious:
        k = _first_reached(ious[:max_clicks], thr)
        counts.append(max_clicks if k is None else k)
    return float(np.mean(counts)) if counts else float("nan")


def nof(
    per_sample_ious: Sequence[Sequence[float]], thr: float, max_clicks: int = 20,
    rule: str = "noc-at-max",
) -> int:
    """Number of failures at ``thr``.

    rule "noc-at-max" (RITM): samples whose NoC equals ``max_clicks`` (this includes a
    sample reaching ``thr`` exactly at the last click). rule "never-reached": samples
    with no IoU >= thr within ``max_clicks``.
    """
    if rule not in ("noc-at-max", "never-reached"):
        raise ValueError(f"unknown NoF rule {rule!r}")
    n = 0
    for ious in per_sample_ious:
        k = _first_reached(ious[:max_clicks], thr)
        n += k is None or (rule == "noc-at-max" and k == max_clicks)
    return n


def miou_at(per_sample_ious: Sequence[Sequence[float]], k: int) -> float:
    """Mean IoU after click ``k`` (1-based), carrying a stopped sample's last IoU forward."""
    values = [ious[min(k, len(ious)) - 1] for ious in per_sample_ious if len(ious)]
    return float(np.mean(values)) if values else float("nan")
