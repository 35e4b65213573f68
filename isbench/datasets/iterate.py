"""Reading a dataset in order with decoding overlapped (``--workers``), and counting it.

Decoding (image files, PNG/mat/RLE masks) runs in a thread pool ahead of the consumer:
OpenCV, PIL and pycocotools release the GIL while decoding, so a session's model time
hides it. Samples come out in index order whatever the worker count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from isbench.datasets import Dataset
from isbench.datasets._common import NoObjectError
from isbench.types import Sample

__all__ = ["count", "iter_samples"]



def iter_samples(dataset: Dataset, indices: Iterable[int] | None = None, workers: int = 0,
                 skipped: list | None = None) -> Iterator[tuple[int, Sample]]:
    """Yield ``(i, dataset[i])`` for each index in order, up to ``2 * workers`` decoded ahead.

    workers: decoding threads (0 = decode in the calling thread, one at a time).
    skipped: if given, an image found empty when decoded (`NoObjectError`) is appended to
        it as ``{"id", "reason"}`` and not yielded; otherwise the error is raised.
    """
    workers = int(workers)
    if workers < 0:
        raise ValueError(f"--workers must be >= 0, got {workers}")
    indices = range(len(dataset)) if indices is None else indices
    if workers == 0:
        results = (_attempt(dataset, i) for i in indices)
        yield from _unwrap(results, skipped)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for i in indices:
            pending.append(pool.submit(_attempt, dataset, i))
            if len(pending) > 2 * workers:
                yield from _unwrap([pending.popleft().result()], skipped)
        yield from _unwrap((f.result() for f in pending), skipped)


def _attempt(dataset: Dataset, index: int) -> tuple[int, Sample | NoObjectError]:
    """``(index, dataset[index])``, or the `NoObjectError` it raised (others propagate)."""
    try:
        return index, dataset[index]
    except NoObjectError as exc:
        return index, exc


def _unwrap(results: Iterable, skipped: list | None) -> Iterator[tuple[int, Sample]]:
    """(index, sample) pairs from ``results``; errors recorded in ``skipped`` or raised."""
    for i, r in results:
        if isinstance(r, NoObjectError):
            if skipped is None:
                raise r
            skipped.append({"id": r.sample_id, "reason": str(r)})
        else:
            yield i, r


def count(dataset: Dataset, workers: int = 0) -> dict:
    """Decode every sample: ``{"images", "instances", "with_ignore", "skipped"}``.

    ``skipped`` lists the images left out when indexing plus those found empty here, so
    the counts compare with the papers' (e.g. GrabCut 50/50, SBD val 2857/6671).
    """
    found: list = []
    images = instances = with_ignore = 0
    for _, s in iter_samples(dataset, workers=workers, skipped=found):
        images += 1
        instances += s.num_objects
        with_ignore += int(s.ignore is not None and bool(s.ignore.any()))
    return {"images": images, "instances": instances, "with_ignore": with_ignore,
            "skipped": list(dataset.info.get("skipped", [])) + found}
