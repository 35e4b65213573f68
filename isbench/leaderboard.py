"""Leaderboards: summary rows rebuilt from run directories' records alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from isbench.metrics.summary import COLUMNS, summarize
from isbench.records import SUMMARY_FILE, find_runs, read_config, read_records

__all__ = ["format_table", "leaderboard", "run_summary", "write_run_summary"]


def run_summary(run_dir: str | Path, records: list[dict] | None = None) -> dict:
    """The summary row of one run, from its ``config.json`` and records."""
    cfg = read_config(run_dir)
    records = read_records(run_dir) if records is None else records
    labels = {k: cfg[k] for k in ("model", "dataset", "strategy")}
    labels["protocol"] = cfg["protocol"]["name"]
    return summarize(records, mode=cfg["mode"], max_clicks=cfg["max_clicks"],
                     iou_thr=cfg["iou_thr"], nof_rule=cfg["protocol"]["nof_rule"], labels=labels)


def write_run_summary(run_dir: str | Path) -> dict:
    """Recompute and write a run's ``summary.csv``; return the row."""
    row = run_summary(run_dir)
    pd.DataFrame([row], columns=COLUMNS).to_csv(Path(run_dir) / SUMMARY_FILE, index=False)
    return row


def leaderboard(paths) -> pd.DataFrame:
    """One row per run found under ``paths`` (ValueError if none)."""
    runs = find_runs(paths)
    if not runs:
        raise ValueError("no run directories (config.json + samples.jsonl) under "
                         f"{', '.join(map(str, paths))}")
    rows = [run_summary(r) for r in runs]
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["mode", "dataset", "strategy", "model"])


def format_table(df: pd.DataFrame) -> str:
    """The leaderboard as a printable table: empty columns dropped, numbers rounded."""
    shown = df.dropna(axis=1, how="all").copy()
    for col in shown.columns:
        if col in ("t_image", "t_click", "SPC"):
            shown[col] = shown[col].map(lambda v: f"{v * 1000:.1f}ms" if pd.notna(v) else "")
        elif col in ("samples", "NoF@85", "NoF@90", "NoF*@85", "NoF*@90", "NFO", "NFI"):
            shown[col] = shown[col].map(lambda v: f"{int(v)}" if pd.notna(v) else "")
        elif shown[col].dtype.kind == "f":
            shown[col] = shown[col].map(lambda v: f"{v:.3f}" if pd.notna(v) else "")
    return shown.to_string(index=False)
