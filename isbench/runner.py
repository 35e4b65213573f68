"""``isbench run``: a model on a dataset under a protocol, written to a run directory.

Resolves names into a model and a dataset, writes ``config.json``, appends a record per
finished unit (with a progress bar), resumes from ``samples.jsonl`` and finally writes
``summary.csv`` and the plots. Nothing recorded is overwritten without ``overwrite``.
"""

from __future__ import annotations

import inspect
import json
import platform
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tqdm import tqdm

from isbench import adapters, distributed
from isbench.datasets import load_dataset
from isbench.datasets.iterate import iter_samples
from isbench.evaluate import iter_records, record_key, resolve_mode
from isbench.leaderboard import write_run_summary
from isbench.protocols import get_protocol
from isbench.records import (
    CONFIG_FILE,
    RECORDS_FILE,
    RecordWriter,
    read_config,
    read_records,
    write_json,
)
from isbench.registry import resolve_target
from isbench.sharding import SHARD_SETTINGS, Shard, balanced_assignment, merge_shards, sample_costs
from isbench.strategies.perturb import MISLEADING_KINDS, Perturbation

__all__ = ["RunSettings", "build_model", "run"]

# Settings that must match for --resume to continue a run.
_RESUME_KEYS = ("model", "checkpoint", "model_args", "dataset", "data_root", "mode", "strategy",
                "protocol", "iou_thr", "max_clicks", "tau", "beta", "seed", "fusion_clicks",
                "fuse", "perturbation", "repeats")


@dataclass
class RunSettings:
    """Everything ``isbench run`` accepts (see the CLI for meanings)."""

    model: str
    checkpoint: str | None = None
    model_args: dict = field(default_factory=dict)
    dataset: str = "synthetic"
    data_root: str | None = None
    mode: str | None = None
    strategy: str | None = None
    protocol: str = "isbench"
    iou_thr: float | None = None
    max_clicks: int = 20
    tau: int = 10
    beta: int = 10
    seed: int = 0
    limit: int | None = None
    out: str | None = None
    resume: bool = False
    overwrite: bool = False
    device: str = "cpu"
    fusion_clicks: str = "own"
    fuse: str = "final"
    perturb: str = "none"
    misleading: int = 5
    misleading_kinds: tuple[str, ...] = MISLEADING_KINDS
    jitter_sigma: float = 0.5
    repeats: int = 1
    workers: int = 1
    plots: bool = True

    def perturbation(self) -> Perturbation:
        """The click perturbation these settings ask for."""
        return Perturbation(self.perturb, self.misleading, tuple(self.misleading_kinds),
                            self.jitter_sigma)


def build_model(settings: RunSettings):
    """The adapter named by the settings; ``device`` is passed if the adapter takes one."""
    kwargs = dict(settings.model_args)
    if settings.checkpoint is not None:
        kwargs["checkpoint"] = settings.checkpoint
    _, entry = adapters.lookup(settings.model)
    factory = resolve_target(entry.target)
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    if "device" in params:
        kwargs["device"] = settings.device
    elif settings.device != "cpu":
        raise ValueError(
            f"model {settings.model!r} runs on the CPU only (got --device {settings.device})")
    return adapters.load(settings.model, **kwargs)


def _default_out(s: RunSettings) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.+-]+", "_", s.model)
    suffix = "" if s.perturb == "none" else f"-{s.perturb}"
    return Path("results") / f"{name}-{s.dataset}-{s.mode}-{s.strategy}{suffix}"


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("isbench", "numpy", "opencv-python-headless", "torch", "timm", "scipy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _prepare_dir(out: Path, s: RunSettings, config: dict) -> None:
    """Create, check (resume) or clear (overwrite) the run directory."""
    has_records = (out / RECORDS_FILE).exists() and (out / RECORDS_FILE).stat().st_size > 0
    if out.exists() and (out / CONFIG_FILE).exists() and s.resume:
        old = read_config(out)
        diff = [k for k in _RESUME_KEYS if json.dumps(old.get(k)) != json.dumps(config.get(k))]
        if diff:
            raise ValueError(f"cannot resume {str(out)!r}: settings differ ({', '.join(diff)}); "
                             "use another --out or --overwrite")
        return
    if out.exists() and any(out.iterdir()):
        if not s.overwrite:
            what = "records" if has_records else "files"
            raise ValueError(f"run directory {str(out)!r} already holds {what}: "
                             "use --resume to continue it or --overwrite to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _prepare_shard(out: Path, shard: Shard, s: RunSettings, config: dict) -> None:
    """Check (resume) or clear (overwrite) this shard's own files; never touch others'."""
    if (out / CONFIG_FILE).exists():
        raise ValueError(f"run directory {str(out)!r} already holds a merged run: use another "
                         "--out, or --overwrite without sharding")
    out.mkdir(parents=True, exist_ok=True)
    own = [out / shard.config_file, out / shard.records_file]
    if not any(p.exists() for p in own):
        return
    if s.resume and own[0].exists():
        old = json.loads(own[0].read_text())
        diff = [k for k in SHARD_SETTINGS if json.dumps(old.get(k)) != json.dumps(config.get(k))]
        if diff:
            raise ValueError(f"cannot resume shard {shard.index}/{shard.count} in {str(out)!r}: "
                             f"settings differ ({', '.join(diff)})")
        return
    if not s.overwrite:
        raise ValueError(f"shard {shard.index}/{shard.count} already has files in {str(out)!r}: "
                         "use --resume to continue it or --overwrite to replace it")
    for p in own:
        p.unlink(missing_ok=True)


def _check_shardable(s: RunSettings, protocol) -> None:
    if protocol.mist_rng == "per-dataset" and s.mode == "mist" and s.strategy in (
            "random", "round-robin"):
        raise ValueError(f"protocol {protocol.name!r} draws {s.strategy!r} choices from one "
                         "stream per dataset: such a run cannot be sharded")


def run(s: RunSettings, progress: bool = True, shard: Shard | None = None
        ) -> tuple[Path, dict | None]:
    """Execute a run (or one shard of it); return (run directory, summary row).

    Under torchrun every rank runs its shard and rank 0 merges; with ``shard`` only that
    slice runs and the row is None until ``isbench merge`` combines the shards.
    """
    s.mode, s.strategy = resolve_mode(s.mode, s.strategy)
    protocol = get_protocol(s.protocol)
    if s.limit is not None and s.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {s.limit}")
    if s.repeats < 1 or (s.repeats > 1 and s.perturb != "jitter"):
        raise ValueError(f"--repeats {s.repeats}: expected 1, or more with --perturb jitter")
    perturbation = s.perturbation()
    torchrun = distributed.launched_by_torchrun()
    if torchrun and shard is not None:
        raise ValueError("--shard cannot be combined with torchrun (ranks are the shards)")
    if torchrun or shard is not None:
        _check_shardable(s, protocol)
    if torchrun:
        if s.device.startswith("cuda"):
            s.device = f"cuda:{distributed.local_rank()}"
        shard = Shard(*distributed.init(s.device))
    dataset = load_dataset(s.dataset, s.data_root)
    model = build_model(s)
    out = Path(s.out) if s.out else _default_out(s)
    n = len(dataset) if s.limit is None else min(s.limit, len(dataset))
    default_thr = 0.85 if s.mode == "mist" else 0.90
    config = {**asdict(s), "out": str(out), "protocol": protocol.as_dict(),
              "iou_thr": default_thr if s.iou_thr is None else s.iou_thr,
              "perturbation": asdict(perturbation), "world_size": 1,
              "model_info": model.info, "dataset_info": dataset.info, "versions": _versions()}
    for key in ("resume", "overwrite", "plots", "perturb", "misleading", "misleading_kinds",
                "jitter_sigma", "device", "workers"):
        config.pop(key)
    config["device"] = s.device.split(":")[0]

    if shard is None:
        indices, records_file = list(range(n)), RECORDS_FILE
        _prepare_dir(out, s, config)
        write_json(out / CONFIG_FILE, config)
    else:
        costs = _costs(dataset, n, shard, torchrun)
        assignment = balanced_assignment(costs, shard.count)
        indices, records_file = assignment[shard.index], shard.records_file
        per_sample = [c[0] if s.mode == "single" else min(c[0], 1) for c in costs]
        config.update(world_size=shard.count, assignment=assignment, shard={
            "index": shard.index, "count": shard.count,
            "expected_records": sum(per_sample[i] for i in indices) * s.repeats})
        if torchrun and s.overwrite:  # rank 0 clears the whole run once, then all start
            if shard.index == 0 and out.exists():
                shutil.rmtree(out)
            distributed.barrier()
        _synchronised(torchrun, _prepare_shard, out, shard, s, config)
        write_json(out / shard.config_file, config)
    done = {record_key(r) for r in read_records(out, records_file)}
    show_bar = progress and not (torchrun and shard.index != 0)  # one bar per torchrun job
    skipped = _synchronised(torchrun, _evaluate, model, dataset, indices, s, config,
                            perturbation, protocol, out, records_file, done, show_bar)
    if skipped:
        config["skipped_when_read"] = skipped
        write_json(out / (CONFIG_FILE if shard is None else shard.config_file), config)
    if shard is not None:
        if not torchrun:
            return out, None
        if shard.index != 0:
            distributed.finish()
            return out, None
        merge_shards(out)
        distributed.finish()
    row = write_run_summary(out)
    if s.plots:
        from isbench.plots import plot_runs

        plot_runs([out], out / "plots")
    return out, row


def _costs(dataset, n: int, shard: Shard, torchrun: bool) -> list[tuple[int, int]]:
    """(objects, pixels) of samples 0..n-1. Under torchrun each rank reads every
    world-size-th sample and the ranks swap their parts (reading a sample can cost as much
    as decoding it); a ``--shard`` process reads them all."""
    if not torchrun:
        return sample_costs(dataset, range(n))
    mine = _synchronised(True, sample_costs, dataset, range(shard.index, n, shard.count))
    costs: list = [None] * n
    for rank, part in enumerate(distributed.all_gather(mine)):
        costs[rank::shard.count] = part
    return costs


def _synchronised(torchrun: bool, fn, *args):
    """Run ``fn``; under torchrun every rank then learns of any rank's error (ValueError)."""
    if not torchrun:
        return fn(*args)
    try:
        result, error = fn(*args), None
    except ValueError as exc:
        result, error = None, str(exc)
    distributed.all_ok(error)
    return result


def _evaluate(model, dataset, indices, s: RunSettings, config, perturbation, protocol, out,
              records_file, done, progress: bool) -> list[dict]:
    """Evaluate ``indices`` of ``dataset``, appending records (with their dataset index);
    return the images skipped because they turned out to hold no usable object."""
    skipped: list[dict] = []
    clock, memory = device_clock(s.device)
    bar = tqdm(total=len(indices) * s.repeats, unit="img",
               desc=f"{s.model} {s.mode}/{s.strategy}", disable=not progress)
    index_of: dict[str, int] = {}

    def samples():
        for i, sample in iter_samples(dataset, indices, s.workers, skipped):
            index_of[sample.id] = i
            yield sample
            bar.update(1)

    with RecordWriter(out, records_file) as writer:
        for repeat in range(s.repeats):
            for record in iter_records(
                    model, samples(), mode=s.mode, strategy=s.strategy, protocol=protocol,
                    max_clicks=s.max_clicks, iou_thr=config["iou_thr"], tau=s.tau, beta=s.beta,
                    seed=s.seed, fusion_clicks=s.fusion_clicks, fuse=s.fuse,
                    skip=(done.__contains__ if done else None), perturbation=perturbation,
                    repeat=repeat, clock=clock, peak_memory_mb=memory):
                record["index"] = index_of[record["sample_id"]]
                writer.write(record)
    bar.close()
    if skipped:
        print(f"isbench: skipped {len(skipped)} images without a usable object "
              f"(listed in config.json): {', '.join(x['id'] for x in skipped[:5])}"
              f"{' ...' if len(skipped) > 5 else ''}", file=sys.stderr)
    return skipped


def device_clock(device: str):
    """(clock, peak memory) for ``device``: CUDA clocks synchronise before reading."""
    if not device.startswith("cuda"):
        return time.perf_counter, None
    import torch

    def clock() -> float:
        torch.cuda.synchronize()
        return time.perf_counter()

    return clock, lambda: torch.cuda.max_memory_allocated() / 2**20
