"""FocalClick adapters: the official crop-and-refine predictor behind the isbench protocol.

``FocalPipelineAdapter`` runs ``reference_models.focalclick.inference.focal_step`` (target
crop, coarse net, focus crop, refiner, paste back) and optional Progressive Merge; subclasses
supply the networks (FocalClick here, FDRN-B in ``adapters/fdrn.py``). Per-object state is
kept only in ``object_state``; the image tensor is per-image state set by ``set_image``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from isbench.adapters.base import SingleInstanceAdapter
from isbench.reference_models.focalclick.checkpoint import VARIANTS, load_checkpoint
from isbench.reference_models.focalclick.inference import focal_step, progressive_merge

from isbench.types import Click

__all__ = ["FocalClickAdapter", "FocalPipelineAdapter"]

#: Progressive Merge modes: "init" = the official evaluation (on from click 1 when the
#: session starts from an initial mask, never otherwise), "always", "off".
MERGE_MODES = ("init", "always", "off")


def _ratio(name: str, value) -> float:
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number >= 1, got {value!r}") from None
    if not r >= 1:
        raise ValueError(f"{name}: expected a number >= 1, got {value!r}")
    return r


class FocalPipelineAdapter(SingleInstanceAdapter):
    """FocalClick's predictor (``specs/focalclick.md`` 3) around a coarse net and a refiner.

    progressive_merge: one of MERGE_MODES. target_crop_r / focus_crop_r: expansion ratios
    of the target and focus crops (official ``--target-crop-r`` / ``--focus-crop-r``, 1.4).
    Threshold 0.5 as in the official FocalClick evaluation scripts.
    """

    threshold = 0.5
    infer_size = 256

    def __init__(self, progressive_merge: str = "init", target_crop_r: float | str = 1.4,
                 focus_crop_r: float | str = 1.4):
        if progressive_merge not in MERGE_MODES:
            raise ValueError(f"progressive_merge: expected one of {', '.join(MERGE_MODES)}, "
                             f"got {progressive_merge!r}")
        self.progressive_merge = progressive_merge
        self.target_crop_r = _ratio("target_crop_r", target_crop_r)
        self.focus_crop_r = _ratio("focus_crop_r", focus_crop_r)
        self.object_state = {}
        self._image: torch.Tensor | None = None
        self._facts: dict = {}

    @property
    def info(self) -> dict:
        return {**super().info, **self._facts, "progressive_merge": self.progressive_merge,
                "target_crop_r": self.target_crop_r, "focus_crop_r": self.focus_crop_r,
                "infer_size": self.infer_size, "threshold": self.threshold}

    def _encode_image(self, image: torch.Tensor) -> None:
        """Per-image network work (FDRN's F_θ1); FocalClick has none."""

    def _coarse(self, x: torch.Tensor, points: torch.Tensor, roi: tuple):
        raise NotImplementedError

    def _refine(self, *args) -> torch.Tensor:
        raise NotImplementedError

    def set_image(self, image: np.ndarray) -> None:
        """(H, W, 3) uint8 RGB -> cached (1, 3, H, W) float tensor in [0, 1]."""
        self._image = None
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
        self._image = tensor.float().div_(255.0)
        with torch.inference_mode():
            self._encode_image(self._image)

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        """(H, W) float32 probabilities (0/1 where Progressive Merge applies)."""
        if self._image is None:
            raise RuntimeError("an image must be set with set_image(...) before predict")
        state = self.object_state
        if len(clicks) == 1 and prev_mask is not None:  # the session starts from a mask
            state["prev"] = torch.from_numpy(np.asarray(prev_mask, np.float32))[None, None]
            state["merged"] = np.asarray(prev_mask) > self.threshold
            state["merge"] = self.progressive_merge == "init"
        simple = [(c.y, c.x, c.positive) for c in clicks]
        with torch.inference_mode():
            final = focal_step(self._coarse, self._refine, self._image, simple, state,
                               self.infer_size, self.target_crop_r, self.focus_crop_r)
        probs = final[0, 0].numpy().copy()
        if self.progressive_merge == "always" or state.get("merge"):
            prev = state.get("merged")
            if prev is None:
                prev = np.zeros(probs.shape, dtype=bool)
            merged = progressive_merge(probs > self.threshold, prev, clicks[-1].y, clicks[-1].x)
            state["merged"] = merged
            # The next target crop sees the merged mask; the prev-mask channel does not.
            state["zoom_probs"] = merged.astype(np.float32)
            return merged.astype(np.float32)
        return probs


class FocalClickAdapter(FocalPipelineAdapter):
    """FocalClick from a released ClickSEG checkpoint (S1 or S2, read from its config).

    checkpoint: path to the official ``{"state_dict", "config"}`` file. variant: "b0", "b3",
    "hrnet18s" or "hrnet32" (the registry fixes it; a file of another variant is refused).
    """

    def __init__(self, checkpoint: str, variant: str = "b0", **options):
        super().__init__(**options)
        if variant not in VARIANTS:
            raise ValueError(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
        self.net, facts = load_checkpoint(checkpoint, variant)
        self._facts = {"checkpoint": facts}

    def _coarse(self, x: torch.Tensor, points: torch.Tensor, roi: tuple):
        return self.net(x, points)

    def _refine(self, *args) -> torch.Tensor:
        return self.net.refine(*args)
