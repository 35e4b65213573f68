"""ArgmaxFusion: lift a single-instance model into the multi-instance task.

Each object keeps its own click list, previous mask and adapter state; only objects
whose click list changed are re-predicted. Which clicks an object sees is a policy:

- ``clicks="own"`` (the DynaMITe paper's FocalClick baseline): an object sees only the
  clicks placed while it was being refined, positive where the pixel is its own.
- ``clicks="shared"``: every click is seen by every object, positive only for the
  object whose pixel it is (a background click is negative for all).

Masks are fused by argmax over per-object probabilities with the background at the
model's threshold, either at every click (``fuse="every-click"``) or once at the end
(``fuse="final"``: objects refined independently during the loop, as the paper's baseline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from isbench.adapters.base import MultiInstanceAdapter, SingleInstanceAdapter

from isbench.types import Click

__all__ = ["CLICK_POLICIES", "FUSE_MODES", "ArgmaxFusion"]

CLICK_POLICIES = ("own", "shared")
FUSE_MODES = ("final", "every-click")


class ArgmaxFusion(MultiInstanceAdapter):
    """A `MultiInstanceAdapter` made of one single-instance model run once per object."""

    def __init__(self, model: SingleInstanceAdapter, clicks: str = "own", fuse: str = "final"):
        if clicks not in CLICK_POLICIES:
            raise ValueError(
                f"fusion clicks {clicks!r}: expected one of {', '.join(CLICK_POLICIES)}")
        if fuse not in FUSE_MODES:
            raise ValueError(f"fusion mode {fuse!r}: expected one of {', '.join(FUSE_MODES)}")
        self.model, self.clicks, self.fuse = model, clicks, fuse
        self._objects: dict[int, tuple[tuple[Click, ...], np.ndarray, dict]] = {}

    @property
    def threshold(self) -> float | None:
        return self.model.threshold

    @property
    def info(self) -> dict:
        return {**self.model.info, "fusion": {"clicks": self.clicks, "fuse": self.fuse}}

    def set_image(self, image: np.ndarray) -> None:
        self.model.set_image(image)
        self._shape = image.shape[:2]
        self._objects = {}

    def object_clicks(self, clicks: Sequence[Click], obj: int) -> tuple[Click, ...]:
        """The clicks object ``obj`` sees under the policy, re-indexed from 0."""
        if self.clicks == "own":
            seen = [c for c in clicks if c.target_id == obj]
        else:
            seen = list(clicks)
        return tuple(
            replace(c, positive=c.object_id == obj, object_id=0 if c.object_id == obj else None,
                    index=i)
            for i, c in enumerate(seen)
        )

    def predict(self, clicks: Sequence[Click], num_objects: int) -> np.ndarray:
        out = np.zeros((num_objects, *self._shape), dtype=np.float32)
        for obj in range(num_objects):
            seen = self.object_clicks(clicks, obj)
            if not seen:
                continue
            cached = self._objects.get(obj)
            if cached is not None and cached[0] == seen:
                out[obj] = cached[1]
                continue
            prev, state = (None, {}) if cached is None else (cached[1], cached[2])
            self.model.object_state = state
            probs = self.model.check_output(self.model.predict(seen, prev), self._shape)
            self._objects[obj] = (seen, probs, self.model.object_state)
            out[obj] = probs
        return out
