"""Click perturbations: how real users deviate from the ideal simulated click.

- ``misleading`` (the FDRN protocol): a seeded plan marks ``count`` of the corrective
  clicks as *repetitive* (placed inside what the model already predicts for the object, so
  it corrects nothing) or *false* (the ideal click with its label flipped). The plan
  depends only on (seed, sample id, object), so every model gets the same one. The first
  click of an object is never misleading.
- ``jitter``: every click moves by a seeded Gaussian offset whose σ is ``sigma`` times
  the inscribed radius of the error region at the ideal click, redrawn until it lands in
  the region (the ideal click is kept after 20 draws).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from isbench.strategies.placement import distance_at, error_click, farthest_point

__all__ = ["Perturbation", "PERTURBATIONS", "MISLEADING_KINDS", "repetitive_point",
           "jitter_point", "place_click"]

PERTURBATIONS = ("none", "misleading", "jitter")
MISLEADING_KINDS = ("repetitive", "false")


@dataclass(frozen=True)
class Perturbation:
    """A perturbation and its settings (written into ``config.json``)."""

    kind: str = "none"
    count: int = 5
    kinds: tuple[str, ...] = MISLEADING_KINDS
    sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in PERTURBATIONS:
            raise ValueError(f"unknown perturbation {self.kind!r}: expected one of "
                             f"{', '.join(PERTURBATIONS)}")
        bad = [k for k in self.kinds if k not in MISLEADING_KINDS]
        if bad or not self.kinds:
            raise ValueError(f"misleading kinds {','.join(self.kinds)!r}: expected a non-empty "
                             f"subset of {','.join(MISLEADING_KINDS)}")
        if self.count < 0 or self.sigma < 0:
            raise ValueError("misleading count and jitter sigma must be >= 0")

    def plan(self, rng: np.random.Generator, positions: int) -> dict[int, str]:
        """{corrective click ordinal (0-based): kind} for ``positions`` corrective clicks."""
        if self.kind == "none":
            return {}
        if self.kind == "jitter":
            return dict.fromkeys(range(positions), "jitter")
        chosen = rng.choice(positions, size=min(self.count, positions), replace=False)
        kinds = rng.choice(len(self.kinds), size=len(chosen))
        return {int(p): self.kinds[k] for p, k in zip(chosen, kinds, strict=True)}


def repetitive_point(
    region: np.ndarray, excluded: np.ndarray, fallback: tuple[int, int]
) -> tuple[int, int]:
    """A click that corrects nothing: the interior point of ``region`` (the correctly
    predicted part of the object) avoiding ``excluded``, else ``fallback`` (a repeat)."""
    if not region.any():
        return fallback
    y, x = farthest_point(region, excluded)
    return (y, x) if region[y, x] else fallback


def jitter_point(
    region: np.ndarray, y: int, x: int, rng: np.random.Generator, sigma: float, tries: int = 20
) -> tuple[int, int]:
    """(y, x) moved by N(0, (sigma * r)²) per axis, r the inscribed radius of ``region`` at
    the ideal click; redrawn until inside ``region``."""
    if not region[y, x] or sigma == 0:
        return y, x
    h, w = region.shape
    radius = distance_at(region, y, x)
    for _ in range(tries):
        dy, dx = np.rint(rng.normal(0.0, sigma * radius, size=2)).astype(int)
        ny, nx = y + int(dy), x + int(dx)
        if 0 <= ny < h and 0 <= nx < w and region[ny, nx]:
            return ny, nx
    return y, x


def place_click(
    kind: str, fn: np.ndarray, fp: np.ndarray, kept: np.ndarray | None, excluded: np.ndarray,
    previous: tuple[int, int], rng: np.random.Generator | None, sigma: float,
) -> tuple[int, int, bool | None]:
    """(y, x, from_false_negatives) of a click of ``kind`` ("normal", "jitter", "false",
    "repetitive"); ``kept`` is the correctly predicted part of the object (needed only by
    repetitive clicks, whose third value is None: the label comes from the ground truth).
    A "false" click is placed like a normal one; the caller flips its label."""
    if kind == "repetitive":
        y, x = repetitive_point(kept, excluded, previous)
        return y, x, None
    y, x, from_fn = error_click(fn, fp, excluded)
    if kind == "jitter":
        y, x = jitter_point(fn if from_fn else fp, y, x, rng, sigma)
    return y, x, from_fn
