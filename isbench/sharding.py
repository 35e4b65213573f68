"""Splitting a run into shards and putting the shards back together.

A shard is one slice of the samples, evaluated by one process (a ``torchrun`` rank or an
``isbench run --shard i/N``) into its own files in the run directory:
``config.shard-i-of-N.json`` and ``samples.shard-i-of-N.jsonl``. Samples go to shards
by expected cost (objects x pixels), largest first onto the least loaded shard, so the
shards take about equally long; the assignment is a pure function of the costs and N.
Because every random choice is seeded per sample, the merged records equal those of a
single process.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from isbench.datasets._common import NoObjectError
from isbench.records import CONFIG_FILE, RECORDS_FILE, _complete_lines, write_json

__all__ = ["Shard", "parse_shard", "balanced_assignment", "sample_costs", "merge_shards",
           "shard_configs", "SHARD_SETTINGS"]

_SHARD_FILE = re.compile(r"config\.shard-(\d+)-of-(\d+)\.json$")
# Settings every shard of one run must share.
SHARD_SETTINGS = ("model", "checkpoint", "model_args", "dataset", "data_root", "mode",
                  "strategy", "protocol", "iou_thr", "max_clicks", "tau", "beta", "seed",
                  "fusion_clicks", "fuse", "perturbation", "repeats", "limit", "assignment")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    @property
    def config_file(self) -> str:
        return f"config.shard-{self.index}-of-{self.count}.json"

    @property
    def records_file(self) -> str:
        return f"samples.shard-{self.index}-of-{self.count}.jsonl"


def parse_shard(text: str) -> Shard:
    """``"i/N"`` → Shard(i, N) (ValueError unless 0 <= i < N)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m or not int(m.group(1)) < int(m.group(2)):
        raise ValueError(f"--shard {text!r}: expected i/N with 0 <= i < N, e.g. 0/4")
    return Shard(int(m.group(1)), int(m.group(2)))


def sample_costs(dataset, indices) -> list[tuple[int, int]]:
    """(objects, pixels) of the samples at ``indices``; a dataset may answer ``cost(i)``
    itself without decoding its image."""
    if hasattr(dataset, "cost"):
        return [tuple(dataset.cost(i)) for i in indices]
    out = []
    for i in indices:
        try:
            s = dataset[i]
        except NoObjectError:  # will be skipped when read: no records, no cost
            out.append((0, 0))
            continue
        out.append((s.num_objects, int(s.image.shape[0] * s.image.shape[1])))
    return out


def balanced_assignment(costs: list[tuple[int, int]], count: int) -> list[list[int]]:
    """Sample indices per shard: largest cost first onto the least loaded shard (ties: lower
    index), each shard's list in dataset order."""
    load = [0] * count
    shards: list[list[int]] = [[] for _ in range(count)]
    order = sorted(range(len(costs)), key=lambda i: (-costs[i][0] * costs[i][1], i))
    for i in order:
        k = min(range(count), key=lambda j: (load[j], j))
        shards[k].append(i)
        load[k] += costs[i][0] * costs[i][1]
    return [sorted(s) for s in shards]


def shard_configs(run_dir: str | Path) -> dict[int, tuple[int, Path]]:
    """{shard index: (shard count, config path)} of the shard files in ``run_dir``."""
    found = {}
    for path in Path(run_dir).glob("config.shard-*-of-*.json"):
        m = _SHARD_FILE.search(path.name)
        if m:
            found[int(m.group(1))] = (int(m.group(2)), path)
    return found


def merge_shards(run_dir: str | Path, write: bool = True) -> tuple[dict, list[dict]]:
    """Check a run's shards and combine them into (config, records in dataset order).

    With ``write`` the merged ``config.json`` and ``samples.jsonl`` replace the shard
    files (written to a temporary file first: an interrupted merge loses nothing).
    ValueError names missing shards, incomplete shards or shards of other settings.
    """
    run_dir = Path(run_dir)
    found = shard_configs(run_dir)
    if not found:
        raise ValueError(f"{str(run_dir)!r} holds no shard files (config.shard-i-of-N.json)")
    counts = {c for c, _ in found.values()}
    if len(counts) > 1:
        raise ValueError(f"{str(run_dir)!r} mixes shards of different counts {sorted(counts)}")
    count = counts.pop()
    missing = [i for i in range(count) if i not in found]
    if missing:
        raise ValueError(f"{str(run_dir)!r}: shards {missing} of {count} are missing")
    configs = {i: json.loads(found[i][1].read_text()) for i in range(count)}
    ref = configs[0]
    for i, cfg in configs.items():
        diff = [k for k in SHARD_SETTINGS if json.dumps(cfg.get(k)) != json.dumps(ref.get(k))]
        if diff:
            raise ValueError(f"{str(run_dir)!r}: shard {i} was run with other settings than "
                             f"shard 0 ({', '.join(diff)})")
    records, incomplete = [], []
    for i in range(count):
        shard = Shard(i, count)
        recs, _ = _complete_lines(run_dir / shard.records_file)
        if len(recs) < configs[i]["shard"]["expected_records"]:
            incomplete.append(f"{i} ({len(recs)}/{configs[i]['shard']['expected_records']})")
        records += recs
    if incomplete:
        raise ValueError(f"{str(run_dir)!r}: incomplete shards {', '.join(incomplete)} "
                         "records; rerun them with --resume")
    records.sort(key=lambda r: (r.get("repeat", 0), r["index"], r.get("object_id", -1)))
    config = {k: v for k, v in ref.items() if k != "shard"}
    if write:
        write_json(run_dir / CONFIG_FILE, config)
        tmp = run_dir / (RECORDS_FILE + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(run_dir / RECORDS_FILE)
        for i in range(count):
            (run_dir / Shard(i, count).records_file).unlink(missing_ok=True)
            (run_dir / Shard(i, count).config_file).unlink(missing_ok=True)
    return config, records
