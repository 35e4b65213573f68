"""Leaderboards: summary rows rebuilt from run directories' records alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from isbench.metrics.summary import COLUMNS, summarize
from isbench.records import (
    CONFIG_FILE,
    RECORDS_FILE,
    SUMMARY_FILE,
    find_runs,
    read_config,
    read_records,
)
from isbench.sharding import merge_shards

__all__ = ["add_deltas", "format_table", "leaderboard", "load_run", "run_summary",
           "summary_row", "write_run_summary"]

_MATCH = ("model", "dataset", "mode", "strategy", "protocol")


def load_run(run_dir: str | Path) -> tuple[dict, list[dict]]:
    """(config, records) of a run; shards not merged yet are combined in memory (ValueError
    names missing or incomplete shards)."""
    if (Path(run_dir) / CONFIG_FILE).exists():
        return read_config(run_dir), read_records(run_dir)
    return merge_shards(run_dir, write=False)


def summary_row(cfg: dict, records: list[dict]) -> dict:
    """The summary row of a run's config and records."""
    return summarize(records, mode=cfg["mode"], max_clicks=cfg["max_clicks"],
                     iou_thr=cfg["iou_thr"], nof_rule=cfg["protocol"]["nof_rule"],
                     labels=_labels(cfg))


def _labels(cfg: dict) -> dict:
    """The naming columns of a run's summary row, from its config."""
    labels = {k: cfg[k] for k in ("model", "dataset", "strategy")}
    labels["protocol"] = cfg["protocol"]["name"]
    labels["perturb"] = cfg.get("perturbation", {}).get("kind", "none")
    return labels


def run_summary(run_dir: str | Path) -> dict:
    """The summary row of one run directory."""
    return summary_row(*load_run(run_dir))


def add_deltas(rows: list[dict]) -> list[dict]:
    """Fill ΔNoC@90 / ΔNCI of each perturbed row from the clean row of the same model,
    dataset, mode, strategy and protocol (perturbed minus clean), where one exists."""
    clean = {tuple(r[k] for k in _MATCH): r for r in rows if r["perturb"] == "none"}
    for r in rows:
        base = clean.get(tuple(r[k] for k in _MATCH))
        if r["perturb"] == "none" or base is None:
            continue
        for col in ("NoC@90", "NCI"):
            if r[col] is not None and base[col] is not None:
                r[f"Δ{col}"] = r[col] - base[col]
    return rows


def write_run_summary(run_dir: str | Path) -> dict:
    """Recompute and write a run's ``summary.csv``; return the row. A perturbed run takes
    its deltas from a finished clean run in the same parent folder (same model, dataset,
    mode, strategy and protocol), if there is one; no other sibling is read, so an
    unfinished or broken neighbour cannot fail this run."""
    run_dir = Path(run_dir)
    cfg, records = load_run(run_dir)
    row = summary_row(cfg, records)
    if row["perturb"] != "none":
        clean = {**_labels(cfg), "perturb": "none", "mode": cfg["mode"]}
        for d in sorted(p for p in run_dir.parent.iterdir() if p != run_dir):
            if not ((d / CONFIG_FILE).is_file() and (d / RECORDS_FILE).is_file()):
                continue
            other = read_config(d)
            if {**_labels(other), "mode": other.get("mode")} == clean:
                row = add_deltas([summary_row(other, read_records(d)), row])[1]
                break
    pd.DataFrame([row], columns=COLUMNS).to_csv(run_dir / SUMMARY_FILE, index=False)
    return row


def leaderboard(paths) -> pd.DataFrame:
    """One row per run found under ``paths`` (ValueError if none)."""
    runs = find_runs(paths)
    if not runs:
        raise ValueError("no run directories (config.json + samples.jsonl) under "
                         f"{', '.join(map(str, paths))}")
    rows = add_deltas([run_summary(r) for r in runs])
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df.sort_values(["mode", "dataset", "strategy", "model", "perturb"])


def format_table(df: pd.DataFrame) -> str:
    """The leaderboard as a printable table: empty columns dropped, numbers rounded."""
    shown = df.dropna(axis=1, how="all").copy()
    if "repeats" in shown and (shown["repeats"].fillna(1) == 1).all():
        shown = shown.drop(columns="repeats")
    for col in shown.columns:
        if col in ("t_image", "t_click", "SPC", "t_total"):
            shown[col] = shown[col].map(lambda v: f"{v * 1000:.1f}ms" if pd.notna(v) else "")
        elif col == "peak_mem_MB":
            shown[col] = shown[col].map(lambda v: f"{v:.0f}" if pd.notna(v) else "")
        elif col in ("samples", "NoF@85", "NoF@90", "NoF*@85", "NoF*@90", "NFO", "NFI", "repeats"):
            shown[col] = shown[col].map(lambda v: f"{int(v)}" if pd.notna(v) else "")
        elif shown[col].dtype.kind == "f":
            shown[col] = shown[col].map(lambda v: f"{v:.3f}" if pd.notna(v) else "")
    return shown.to_string(index=False)
