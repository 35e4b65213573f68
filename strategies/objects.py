"""MIST object selection: which object the simulated user refines next.

DynaMITe's strategies, with one documented deviation: when IoUs tie, objects are ordered
by IoU and then by index (a stable sort), where the official ``torch.topk`` order is
unspecified. ``max-distance`` chooses no object: it clicks at the farthest pixel of the
joint error map (the session handles it). A chooser lives for one image and keeps the
per-image state the strategy needs (shuffled order, click counters).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIST_STRATEGIES", "ObjectChooser", "make_chooser"]

MIST_STRATEGIES = ("best", "worst", "random", "round-robin", "worst-with-limit", "max-distance")


class ObjectChooser:
    """Base: ``choose(ious, thr, rng)`` returns the object to click next, or None to stop.

    ious: (N,) float64 current per-object IoUs. thr: IoU threshold (>= counts as done).
    rng: object with an in-place ``shuffle(list)`` (numpy Generator or ``random.Random``).
    """

    joint = False

    def __init__(self, num_objects: int, beta: int) -> None:
        self.num_objects = num_objects
        self.beta = beta

    def choose(self, ious: np.ndarray, thr: float, rng) -> int | None:
        raise NotImplementedError


def _first_below(order, ious: np.ndarray, thr: float, allowed=None) -> int | None:
    """First index in ``order`` with IoU < thr (and ``allowed[i]`` if given)."""
    for i in order:
        if ious[i] < thr and (allowed is None or allowed[i]):
            return int(i)
    return None


def _ascending(ious: np.ndarray) -> np.ndarray:
    return np.argsort(ious, kind="stable")


def _descending(ious: np.ndarray) -> np.ndarray:
    return np.argsort(-ious, kind="stable")


class Best(ObjectChooser):
    """Refine the unfinished object with the highest IoU."""

    def choose(self, ious, thr, rng):
        return _first_below(_descending(ious), ious, thr)


class Worst(ObjectChooser):
    """Refine the unfinished object with the lowest IoU."""

    def choose(self, ious, thr, rng):
        return _first_below(_ascending(ious), ious, thr)


class Random(ObjectChooser):
    """Shuffle a persistent per-image order in place at every step; take its first unfinished."""

    def __init__(self, num_objects: int, beta: int) -> None:
        super().__init__(num_objects, beta)
        self.order = list(range(num_objects))

    def choose(self, ious, thr, rng):
        rng.shuffle(self.order)
        return _first_below(self.order, ious, thr)


class WorstWithLimit(ObjectChooser):
    """Worst first while an object has had fewer than β targeted clicks, then best first."""

    def __init__(self, num_objects: int, beta: int) -> None:
        super().__init__(num_objects, beta)
        self.targeted = [1] * num_objects  # the initial click counts

    def choose(self, ious, thr, rng):
        allowed = [c < self.beta for c in self.targeted]
        i = _first_below(_ascending(ious), ious, thr, allowed)
        if i is None:
            i = _first_below(_descending(ious), ious, thr)
        if i is not None:
            self.targeted[i] += 1
        return i


class RoundRobin(ObjectChooser):
    """Stay on one object for a window of β clicks, then switch to a random unfinished one.

    Exactly DynaMITe's counters: they start at 1 (the initial clicks); when every object
    is done or out of window all reset; switching to an object zeroes the others.
    """

    def __init__(self, num_objects: int, beta: int) -> None:
        super().__init__(num_objects, beta)
        self.count = [1] * num_objects
        self.current: int | None = None
        self.order = list(range(num_objects))

    def choose(self, ious, thr, rng):
        n, beta = self.num_objects, self.beta
        if all(ious[i] >= thr or self.count[i] >= beta for i in range(n)):
            self.count, self.current = [0] * n, None
        c = self.current
        if c is not None and self.count[c] < beta and ious[c] < thr:
            self.count[c] += 1
            return c
        rng.shuffle(self.order)
        i = _first_below(self.order, ious, thr, [k < beta for k in self.count])
        if i is None:
            return None
        new = self.count[i] + 1
        self.count = [0] * n
        self.count[i], self.current = new, i
        return i


class MaxDistance(ObjectChooser):
    """No object choice: the session clicks the joint error map's farthest pixel."""

    joint = True

    def choose(self, ious, thr, rng):
        return None


_CHOOSERS = {
    "best": Best,
    "worst": Worst,
    "random": Random,
    "round-robin": RoundRobin,
    "worst-with-limit": WorstWithLimit,
    "max-distance": MaxDistance,
}


def make_chooser(name: str, num_objects: int, beta: int = 10) -> ObjectChooser:
    """A fresh chooser for one image (ValueError on an unknown strategy or β < 1)."""
    if name not in _CHOOSERS:
        raise ValueError(f"unknown strategy {name!r}: expected one of {', '.join(MIST_STRATEGIES)}")
    if beta < 1:
        raise ValueError(f"beta must be >= 1, got {beta}")
    return _CHOOSERS[name](num_objects, beta)
