"""The results store: a run directory of ``config.json``, ``samples.jsonl``, ``summary.csv``.

Records are appended one JSON line per finished unit and flushed at once, so a crash
loses at most the unit in progress; a torn last line (killed mid-write) is dropped on
reading and cut off before appending again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

__all__ = [
    "CONFIG_FILE",
    "RECORDS_FILE",
    "SUMMARY_FILE",
    "RecordWriter",
    "find_runs",
    "read_config",
    "read_records",
    "write_json",
]

RECORDS_FILE, CONFIG_FILE, SUMMARY_FILE = "samples.jsonl", "config.json", "summary.csv"


def _complete_lines(path: Path) -> tuple[list[dict], int]:
    """Parsed complete lines and the byte length they span (a torn tail is excluded)."""
    data = path.read_bytes() if path.exists() else b""
    records, end = [], 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
        end += len(line)
    return records, end


def read_records(run_dir: str | Path, name: str = RECORDS_FILE) -> list[dict]:
    """Every complete record of a run (or of one of its shard files), in the order written."""
    return _complete_lines(Path(run_dir) / name)[0]


def _clean(value):
    """JSON-safe copy: NaN/inf become None (strict JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class RecordWriter:
    """Appends records to ``samples.jsonl``, one flushed line each (context manager)."""

    def __init__(self, run_dir: str | Path, name: str = RECORDS_FILE) -> None:
        path = Path(run_dir) / name
        _, end = _complete_lines(path)
        if path.exists() and path.stat().st_size != end:
            with path.open("r+b") as fh:  # drop a torn last line before appending
                fh.truncate(end)
        self._fh = path.open("a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(_clean(record), allow_nan=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_json(path: str | Path, data: dict) -> None:
    """Write ``data`` as indented JSON."""
    Path(path).write_text(json.dumps(_clean(data), indent=2, sort_keys=False) + "\n")


def read_config(run_dir: str | Path) -> dict:
    """A run's ``config.json``."""
    return json.loads((Path(run_dir) / CONFIG_FILE).read_text())


def find_runs(paths) -> list[Path]:
    """Run directories under ``paths``, sorted: those holding config.json and samples.jsonl,
    and those holding shard files not merged yet."""
    runs = set()
    for p in map(Path, paths):
        if not p.exists():
            raise ValueError(f"results path {str(p)!r} does not exist")
        configs = list(p.rglob("config*.json"))
        for c in configs:
            if c.name == CONFIG_FILE and (c.parent / RECORDS_FILE).exists():
                runs.add(c.parent)
            elif c.name.startswith("config.shard-") and not (c.parent / CONFIG_FILE).exists():
                runs.add(c.parent)
    return sorted(runs)
