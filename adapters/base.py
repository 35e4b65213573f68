"""The adapter protocol: what a model implements to be benchmarked.

The session calls ``set_image`` once per image (cache features there: its cost is
recorded as ``t_image``) and then ``predict`` once per click (``t_click``). Models
never see ground truth: they get the image, a tuple of frozen `Click`s and, for
single-instance models, their own previous mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from isbench.types import Click

__all__ = ["MultiInstanceAdapter", "SingleInstanceAdapter"]


class _Adapter:
    """Shared attributes of both adapter kinds.

    threshold: a pixel is foreground where probability > threshold; ``None`` means
        "use the protocol preset's threshold" (0.49 for ``ritm``, 0.5 for ``focalclick``).
    info: facts written into the run's ``config.json`` (checkpoint, variant, settings).
    """

    threshold: float | None = None
    #: Per-object state an adapter keeps between clicks (e.g. a zoom-in box). The harness
    #: sets it to a fresh ``{}`` before each object's first click and, in ArgmaxFusion,
    #: swaps it per object, so one adapter can refine several objects of one image.
    object_state: dict

    @property
    def info(self) -> dict:
        """Provenance written into ``config.json``; override to add checkpoint facts."""
        return {"class": f"{type(self).__module__}.{type(self).__qualname__}"}

    def set_image(self, image: np.ndarray) -> None:
        """Start a new image: (H, W, 3) uint8 RGB. Drop every per-image state here."""
        raise NotImplementedError

    def output_error(self, problem: str = "NaN or infinite probabilities") -> ValueError:
        """The error for a bad prediction (by default a non-finite one), naming the model."""
        return ValueError(f"model {type(self).__name__} returned {problem}")

    def check_output(
        self, probs: np.ndarray, shape: tuple[int, ...], check_finite: bool = True
    ) -> np.ndarray:
        """Check a prediction is (finite) float of ``shape``; ``output_error`` if not."""
        probs = np.asarray(probs)
        if probs.shape != shape:
            raise self.output_error(f"shape {probs.shape}, expected {shape}")
        if not np.issubdtype(probs.dtype, np.floating):
            raise self.output_error(f"dtype {probs.dtype}, expected float32")
        probs = np.ascontiguousarray(probs, dtype=np.float32)
        # One SIMD sum is NaN/inf iff an element is (far cheaper than np.isfinite on a stack).
        if check_finite and probs.size and not np.isfinite(
            cv2.sumElems(probs.reshape(-1, shape[-1]))[0]
        ):
            raise self.output_error()
        return probs


class SingleInstanceAdapter(_Adapter):
    """A model that segments one object from positive and negative clicks."""

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        """Return (H, W) float32 foreground probabilities in [0, 1].

        clicks: all clicks so far for this object, in order; ``positive`` says
            foreground or background. Coordinates are (y, x) in the original image.
        prev_mask: (H, W) float32 probabilities this adapter returned for the previous
            click of the same object, or None before the first prediction.
        """
        raise NotImplementedError


class MultiInstanceAdapter(_Adapter):
    """A model that segments several objects at once from clicks naming them."""

    def predict(self, clicks: Sequence[Click], num_objects: int) -> np.ndarray:
        """Return (num_objects, H, W) float32 per-object probabilities in [0, 1].

        Positive clicks carry ``object_id`` in [0, num_objects); background clicks have
        ``object_id=None``. The harness turns the stack into non-overlapping masks: a
        pixel goes to the object of highest probability if that probability is greater than
        ``threshold``, else to the background (argmax with the background at the threshold,
        ties to the background).
        """
        raise NotImplementedError
