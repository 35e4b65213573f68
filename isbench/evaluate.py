"""The Python API: run a model over samples under a protocol and get records.

``iter_records`` yields one record per finished unit (an instance in single mode, an
image in MIST) so the runner can write each as it finishes; ``evaluate`` collects them.
"""

from __future__ import annotations

import hashlib
import random
import resource
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from isbench.adapters.base import MultiInstanceAdapter, SingleInstanceAdapter
from isbench.adapters.fusion import ArgmaxFusion
from isbench.metrics.summary import summarize as _summarize
from isbench.protocols import Protocol, get_protocol
from isbench.sessions import NO_PERTURBATION, run_mist, run_single
from isbench.strategies.objects import MIST_STRATEGIES
from isbench.strategies.perturb import Perturbation
from isbench.strategies.placement import farthest_point
from isbench.types import Click, Sample

__all__ = ["evaluate", "iter_records", "record_key", "resolve_mode", "sample_rng", "summarize"]

SINGLE_STRATEGY = "standard"


def sample_rng(seed: int, sample_id: str) -> np.random.Generator:
    """The generator of one sample: seeded by (seed, a stable hash of the sample id)."""
    digest = int.from_bytes(hashlib.sha256(sample_id.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, digest])


def record_key(record: dict) -> tuple[str, int, int]:
    """Identity of a record: (sample id, object id or -1 for a MIST image, repeat)."""
    return record["sample_id"], int(record.get("object_id", -1)), int(record.get("repeat", 0))


def resolve_mode(mode: str | None, strategy: str | None) -> tuple[str, str]:
    """(mode, strategy) with the defaults filled in and the pair checked."""
    if mode is None:
        mode = "single" if strategy in (None, SINGLE_STRATEGY) and strategy is not None else "mist"
    if mode == "single":
        if strategy not in (None, SINGLE_STRATEGY):
            raise ValueError(f"strategy {strategy!r} is a MIST strategy; single mode uses "
                             f"{SINGLE_STRATEGY!r} (omit --strategy or use --mode mist)")
        return mode, SINGLE_STRATEGY
    if mode != "mist":
        raise ValueError(f"unknown mode {mode!r}: expected 'single' or 'mist'")
    strategy = strategy or "worst-with-limit"
    if strategy not in MIST_STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: expected one of "
                         f"{', '.join(MIST_STRATEGIES)}")
    return mode, strategy


def _timed_set_image(model, image: np.ndarray, clock) -> float:
    start = clock()
    model.set_image(image)
    return clock() - start


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _finish(record: dict, repeat: int, peak_mem_mb: float) -> dict:
    """Add the repeat index and the peak memory so far (MB) to a record."""
    record["repeat"] = repeat
    record["peak_mem_mb"] = peak_mem_mb
    return record


def _warm_up(model, sample: Sample) -> None:
    """One untimed set_image + predict, so lazy initialisation is not timed."""
    model.set_image(sample.image)
    y, x = farthest_point(sample.masks[0])
    click = (Click(y, x, True, 0, 0, 0),)
    if isinstance(model, MultiInstanceAdapter):
        model.predict(click, 1)
    else:
        model.object_state = {}
        model.predict(click, None)


def iter_records(
    model: SingleInstanceAdapter | MultiInstanceAdapter,
    samples: Iterable[Sample],
    *,
    mode: str = "single",
    strategy: str | None = None,
    protocol: str | Protocol = "isbench",
    max_clicks: int = 20,
    iou_thr: float | None = None,
    tau: int = 10,
    beta: int = 10,
    seed: int = 0,
    fusion_clicks: str = "own",
    fuse: str = "final",
    skip: Callable[[tuple[str, int, int]], bool] | None = None,
    warmup: bool = True,
    perturbation: Perturbation | None = None,
    repeat: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    peak_memory_mb: Callable[[], float] | None = None,
) -> Iterator[dict]:
    """Yield records as they finish; ``skip(key)`` leaves out already-recorded units.

    single: every instance separately, stopping at ``iou_thr`` (default 0.90).
    mist: every image, ``strategy`` choosing the object, threshold ``iou_thr`` (default
    0.85); a single-instance model is lifted with `ArgmaxFusion` (``fusion_clicks``, ``fuse``).
    ``perturbation`` draws from generators seeded by (seed, sample id, object, ``repeat``),
    independent of the model, so every model gets the same plan; records carry ``repeat``.
    ``clock`` reads time for ``t_image``/``t_click`` (pass one that synchronises a GPU);
    ``peak_memory_mb`` the peak memory so far (default: the process's resident set).
    """
    peak_memory_mb = peak_memory_mb or _peak_rss_mb
    perturbation = perturbation or NO_PERTURBATION
    mode, strategy = resolve_mode(mode, strategy)
    proto = protocol if isinstance(protocol, Protocol) else get_protocol(protocol)
    if max_clicks < 1 or tau < 1:
        raise ValueError("max_clicks and tau must be >= 1")
    if mode == "mist" and isinstance(model, SingleInstanceAdapter):
        model = ArgmaxFusion(model, fusion_clicks, fuse)
    shared_stream = None
    if mode == "mist" and proto.mist_rng == "per-dataset":
        if skip is not None and strategy in ("random", "round-robin"):
            raise ValueError(f"protocol {proto.name!r} draws {strategy!r} choices from one stream "
                             "per dataset: such a run cannot be resumed or sharded")
        shared_stream = random.Random(123456 + seed)
    warm = warmup
    for sample in samples:
        wanted = [k for k in range(sample.num_objects) if mode == "single"] or [-1]
        wanted = [k for k in wanted if skip is None or not skip((sample.id, k, repeat))]
        if not wanted:
            continue
        if warm:
            _warm_up(model, sample)
            warm = False
        t_image = _timed_set_image(model, sample.image, clock)
        if mode == "single":
            for k in wanted:
                rng = sample_rng(seed, f"{sample.id}#{k}#{repeat}")
                record = run_single(
                    model, sample, k, protocol=proto, max_clicks=max_clicks,
                    stop_iou=0.90 if iou_thr is None else iou_thr, t_image=t_image,
                    perturbation=perturbation, rng=rng, clock=clock)
                yield _finish(record, repeat, peak_memory_mb())
        else:
            rng = shared_stream or sample_rng(seed, sample.id)
            record = run_mist(
                model, sample, protocol=proto, strategy=strategy, rng=rng, tau=tau, beta=beta,
                iou_thr=0.85 if iou_thr is None else iou_thr, t_image=t_image,
                perturbation=perturbation,
                perturb_rng=sample_rng(seed, f"{sample.id}#perturb#{repeat}"), clock=clock)
            yield _finish(record, repeat, peak_memory_mb())


def evaluate(model, samples: Iterable[Sample], **kwargs) -> list[dict]:
    """All records of ``iter_records`` (same arguments) as a list."""
    return list(iter_records(model, samples, **kwargs))


def summarize(records: list[dict], *, max_clicks: int = 20, iou_thr: float = 0.85,
              nof_rule: str = "noc-at-max", labels: dict | None = None) -> dict:
    """Summary row of records (mode read from the records: MIST ones have ``final_ious``)."""
    mode = "mist" if records and "final_ious" in records[0] else "single"
    return _summarize(records, mode=mode, max_clicks=max_clicks, iou_thr=iou_thr,
                      nof_rule=nof_rule, labels=labels)
