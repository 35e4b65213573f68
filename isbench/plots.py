"""Figures from run directories (matplotlib, Agg): each readable without explanation.

- ``miou_curves.png``: mean IoU after each click, one panel per dataset, one line per model.
- ``mist_nci_nfo.png``: NCI and NFO per MIST strategy, one bar per model.
- ``failures_by_area.png``: share of objects left below the threshold, by object area.
- ``seconds_per_click.png``: predict time against click index, and average time per
  interaction against the number of clicks, one line per run.
- ``quality_vs_speed.png``: NoC@90 (single) / NCI (MIST) against seconds per click.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from isbench.leaderboard import load_run, summary_row
from isbench.metrics.mist import failures_by_area
from isbench.metrics.single import miou_at
from isbench.metrics.summary import object_outcomes

__all__ = ["plot_runs"]

AREA_EDGES = [0, 32**2, 64**2, 96**2, 128**2, 256**2, np.inf]
AREA_LABELS = ["<32²", "32²–64²", "64²–96²", "96²–128²", "128²–256²", ">256²"]


def _label(cfg: dict) -> str:
    """Legend label: model, MIST strategy, perturbation, and the run folder if ambiguous."""
    label = cfg["model"] if cfg["mode"] == "single" else f"{cfg['model']} ({cfg['strategy']})"
    perturb = cfg.get("perturbation", {}).get("kind", "none")
    label += "" if perturb == "none" else f" +{perturb}"
    return label + (f" [{Path(cfg['out']).name}]" if cfg.get("ambiguous") else "")


def _miou_curves(runs, path: Path) -> bool:
    by_dataset = defaultdict(list)
    for cfg, recs in runs:
        if cfg["mode"] == "single" and recs:
            by_dataset[cfg["dataset"]].append((cfg, recs))
    if not by_dataset:
        return False
    fig, axes = plt.subplots(1, len(by_dataset), figsize=(5.5 * len(by_dataset), 4), squeeze=False)
    for ax, (dataset, items) in zip(axes[0], sorted(by_dataset.items())):
        for cfg, recs in items:
            ks = np.arange(1, cfg["max_clicks"] + 1)
            ax.plot(ks, [miou_at([r["ious"] for r in recs], k) for k in ks], marker="o", ms=3,
                    label=_label(cfg))
        ax.set(title=f"{dataset}: mIoU after k clicks", xlabel="number of clicks k",
               ylabel="mean IoU", ylim=(0, 1), xticks=ks[::2] if len(ks) > 10 else ks)
        ax.axhline(0.85, color="grey", lw=0.8, ls=":")
        ax.axhline(0.90, color="grey", lw=0.8, ls="--")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _mist_bars(runs, path: Path) -> bool:
    rows = [(cfg, summary_row(cfg, recs)) for cfg, recs in runs
            if cfg["mode"] == "mist" and recs]
    if not rows:
        return False
    strategies = sorted({cfg["strategy"] for cfg, _ in rows})
    models = sorted({f"{cfg['model']} / {cfg['dataset']}" for cfg, _ in rows})
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 2.2 * len(strategies) + 4), 4))
    width = 0.8 / len(models)
    for metric, ax in zip(("NCI", "NFO"), axes):
        for j, model in enumerate(models):
            by_strategy = {cfg["strategy"]: row[metric] for cfg, row in rows
                           if f"{cfg['model']} / {cfg['dataset']}" == model}
            vals = [by_strategy.get(s, np.nan) for s in strategies]
            ax.bar(np.arange(len(strategies)) + j * width - 0.4 + width / 2, vals, width,
                   label=model)
        ax.set_xticks(np.arange(len(strategies)), strategies, rotation=20)
        ax.set(title={"NCI": "NCI: clicks per object (lower is better)",
                      "NFO": "NFO: objects never reaching the threshold"}[metric], ylabel=metric)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _failures(runs, path: Path) -> bool:
    runs = [(cfg, recs) for cfg, recs in runs if recs]
    if not runs:
        return False
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(runs)
    for j, (cfg, recs) in enumerate(runs):
        areas, finals = object_outcomes(recs)
        failed, total = failures_by_area(areas, finals, cfg["iou_thr"], AREA_EDGES)
        share = np.where(total > 0, failed / np.maximum(total, 1), np.nan)
        x = np.arange(len(AREA_LABELS)) + j * width - 0.4 + width / 2
        ax.bar(x, 100 * share, width, label=f"{_label(cfg)}, IoU < {cfg['iou_thr']:.2f}")
        for xi, f, t in zip(x, failed, total):
            if t:
                ax.text(xi, 100 * f / t + 1, f"{f}/{t}", ha="center", fontsize=7)
    ax.set_xticks(np.arange(len(AREA_LABELS)), AREA_LABELS)
    ax.set(title="Failed objects by object area (pixels)", xlabel="object area",
           ylabel="failed objects (%)", ylim=(0, 110))
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _seconds_per_click(runs, path: Path) -> bool:
    """Left: predict time against click index. Right: average time per interaction after n
    clicks, (t_image + sum of the first n t_click) / n — the FDRN / DynaMITe picture."""
    runs = [(cfg, recs) for cfg, recs in runs if recs]
    if not runs:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    for cfg, recs in runs:
        longest = max(len(r["t_click"]) for r in recs)
        n = np.arange(1, longest + 1)
        per_click = [np.mean([r["t_click"][k] for r in recs if len(r["t_click"]) > k]) * 1000
                     for k in range(longest)]
        left.plot(n, per_click, marker=".", label=_label(cfg))
        t_image = np.mean([r["t_image"] for r in recs]) * 1000
        right.plot(n, (t_image + np.cumsum(per_click)) / n, marker=".", label=_label(cfg))
    left.set(title="Model time per prediction", xlabel="prediction index (click order)",
             ylabel="milliseconds", ylim=(0, None))
    right.set(title="Average time per interaction (image cost shared)",
              xlabel="number of clicks n", ylabel="(t_image + Σ t_click) / n  [ms]",
              ylim=(0, None))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _quality_vs_speed(runs, path: Path) -> bool:
    """NoC@90 (single) or NCI (MIST) against seconds per click, one point per run."""
    rows = [(cfg, summary_row(cfg, recs)) for cfg, recs in runs if recs]
    if not rows:
        return False
    panels = [m for m in ("single", "mist") if any(c["mode"] == m for c, _ in rows)]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, mode in zip(axes[0], panels, strict=True):
        metric = "NoC@90" if mode == "single" else "NCI"
        for cfg, row in rows:
            if cfg["mode"] == mode:
                ax.scatter(row["SPC"] * 1000, row[metric], s=40)
                ax.annotate(f"{_label(cfg)} [{cfg['dataset']}]", (row["SPC"] * 1000, row[metric]),
                            fontsize=7, xytext=(4, 4), textcoords="offset points")
        ax.set(title=f"{mode}: quality vs speed (lower-left is better)",
               xlabel="seconds per click [ms]", ylabel=f"{metric} (fewer clicks is better)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_runs(run_dirs, out_dir: str | Path) -> list[Path]:
    """Write every figure that the runs support into ``out_dir``; return the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for d in run_dirs:
        cfg, records = load_run(d)
        cfg["out"] = str(d)
        runs.append((cfg, records))
    seen: dict[str, int] = defaultdict(int)
    for cfg, _ in runs:
        seen[_label(cfg) + cfg["dataset"]] += 1
    for cfg, _ in runs:
        cfg["ambiguous"] = seen[_label(cfg) + cfg["dataset"]] > 1
    written = []
    for name, fn in (("miou_curves.png", _miou_curves), ("mist_nci_nfo.png", _mist_bars),
                     ("failures_by_area.png", _failures),
                     ("seconds_per_click.png", _seconds_per_click),
                     ("quality_vs_speed.png", _quality_vs_speed)):
        if fn(runs, out_dir / name):
            written.append(out_dir / name)
    return written
