"""From records to one summary row (the ``summary.csv`` / leaderboard columns).

Numbers are unrounded; only printed tables round. Timing: ``t_image`` is the mean
set_image time per record, ``t_click`` the mean predict time per click, SPC the model's
total time divided by the number of clicks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from isbench.metrics import mist, single

__all__ = ["COLUMNS", "object_outcomes", "summarize"]

COLUMNS = [
    "model", "dataset", "mode", "strategy", "protocol", "perturb", "samples",
    "NoC@85", "NoC@90", "NoF@85", "NoF@90", "NoF*@85", "NoF*@90",
    "mIoU@1", "mIoU@5", "mIoU@10", "mIoU@20",
    "NCI", "NFO", "NFI", "IoU", "ΔNoC@90", "ΔNCI",
    "repeats", "NoC@90 std", "NoC@90 worst", "NCI std", "NCI worst",
    "SPC", "t_image", "t_click", "t_total", "peak_mem_MB",
]
# Columns a repeated (jitter) run reports as mean over repeats, with spread columns.
SPREAD = ("NoC@90", "NCI")

NOC_THRESHOLDS = {"85": 0.85, "90": 0.90}


def _timing(records: Sequence[dict], mode: str, max_clicks: int) -> dict:
    """SPC, mean t_image, mean t_click, t_total and peak memory.

    t_total (FDRN): per record t_image + mean t_click x clicks used (single: NoC@90 clicks;
    MIST: all clicks), averaged over records.
    """
    t_image = [r["t_image"] for r in records]
    t_click = [t for r in records for t in r["t_click"]]
    n_clicks = sum(len(r["clicks"]) for r in records)
    totals = []
    for r in records:
        used = (single.noc([r["ious"]], 0.90, max_clicks) if mode == "single"
                else len(r["t_click"]))
        totals.append(r["t_image"] + float(np.mean(r["t_click"])) * used)
    mem = [r["peak_mem_mb"] for r in records if r.get("peak_mem_mb") is not None]
    return {
        "SPC": (sum(t_image) + sum(t_click)) / n_clicks if n_clicks else float("nan"),
        "t_image": float(np.mean(t_image)) if t_image else float("nan"),
        "t_click": float(np.mean(t_click)) if t_click else float("nan"),
        "t_total": float(np.mean(totals)),
        "peak_mem_MB": max(mem) if mem else None,
    }


def summarize(
    records: Sequence[dict], *, mode: str, max_clicks: int = 20, iou_thr: float = 0.85,
    nof_rule: str = "noc-at-max", labels: dict | None = None,
) -> dict:
    """One row: ``labels`` (model, dataset, strategy, protocol, perturb) plus every metric
    that applies.

    mode "single": NoC/NoF (``nof_rule`` decides ``NoF@``; ``NoF*@`` always counts
    samples that never reach the threshold), mIoU@k. mode "mist": NCI, NFO, NFI at
    ``iou_thr``, mean final IoU. Records of several repeats (``repeat`` field) give the
    mean over repeats, and the std and worst (largest) NoC@90 / NCI across repeats.
    """
    repeats = sorted({r.get("repeat", 0) for r in records})
    if len(repeats) > 1:
        rows = [summarize([r for r in records if r.get("repeat", 0) == k], mode=mode,
                          max_clicks=max_clicks, iou_thr=iou_thr, nof_rule=nof_rule,
                          labels=labels) for k in repeats]
        row = dict(rows[0])
        for col in COLUMNS:
            values = [x[col] for x in rows]
            if all(isinstance(v, (int, float)) and v is not None for v in values):
                row[col] = float(np.mean(values))
        for col in SPREAD:
            if rows[0][col] is not None:
                values = [x[col] for x in rows]
                row[f"{col} std"], row[f"{col} worst"] = float(np.std(values)), max(values)
        row["samples"], row["repeats"] = len(records) // len(repeats), len(repeats)
        return row
    row = {c: None for c in COLUMNS}
    row.update(labels or {})
    row["mode"], row["samples"] = mode, len(records)
    if not records:
        return row
    if mode == "single":
        ious = [r["ious"] for r in records]
        for tag, thr in NOC_THRESHOLDS.items():
            row[f"NoC@{tag}"] = single.noc(ious, thr, max_clicks)
            row[f"NoF@{tag}"] = single.nof(ious, thr, max_clicks, nof_rule)
            row[f"NoF*@{tag}"] = single.nof(ious, thr, max_clicks, "never-reached")
        for k in (1, 5, 10, 20):
            if k <= max_clicks:
                row[f"mIoU@{k}"] = single.miou_at(ious, k)
        row["IoU"] = float(np.mean([r["ious"][-1] for r in records]))
    elif mode == "mist":
        row["NCI"] = mist.nci(records)
        row["NFO"] = mist.nfo(records, iou_thr)
        row["NFI"] = mist.nfi(records, iou_thr)
        row["IoU"] = mist.mean_final_iou(records)
    else:
        raise ValueError(f"unknown mode {mode!r}: expected 'single' or 'mist'")
    row.update(_timing(records, mode, max_clicks))
    row["repeats"] = 1
    return row


def object_outcomes(records: Sequence[dict]) -> tuple[list[int], list[float]]:
    """(areas, final IoUs) of every evaluated object, for the failures-by-area figure."""
    areas, finals = [], []
    for r in records:
        areas += r["object_areas"]
        finals += r["final_ious"] if "final_ious" in r else [r["ious"][-1]]
    return areas, finals
