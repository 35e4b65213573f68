"""FDRN adapters: F_θ1 once per image in ``set_image`` (recorded as ``t_image``), only F_θ2 per
click in ``predict`` (``t_click``). The B-series (FocalClick-based) runs inside FocalClick's
crop-and-refine predictor; the H-series (RITM-based) inside RITM's Zoom-In predictor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from isbench.adapters.base import SingleInstanceAdapter
from isbench.adapters.focalclick import FocalPipelineAdapter
from isbench.reference_models.fdrn.checkpoint import build, load_checkpoint
from isbench.reference_models.fdrn.zoom_in import zoom_in_step

from isbench.types import Click

__all__ = ["FDRNAdapter", "FDRNHAdapter"]

B_SERIES = (("b0", "b1"), ("b0", "b3"))
H_SERIES = (("hrnet18s", "hrnet18"), ("hrnet18s", "hrnet18"))


def _weights(extractor: str, predictor: str, series: tuple, checkpoint: str | None,
             init: str | None, seed) -> tuple[torch.nn.Module, dict]:
    """(model, facts) from an isbench FDRN file or a seeded random init; ValueError otherwise."""
    if extractor not in series[0] or predictor not in series[1]:
        raise ValueError(f"FDRN variant ({extractor!r}, {predictor!r}): expected extractor in "
                         f"{series[0]} and predictor in {series[1]}")
    if (checkpoint is None) == (init is None) or init not in (None, "random"):
        raise ValueError("FDRN: no weights were released; pass exactly one of --checkpoint "
                         "FILE (isbench FDRN file) or --model-arg init=random")
    if checkpoint is not None:
        return load_checkpoint(checkpoint, extractor, predictor)
    try:
        seed = int(seed)
    except ValueError:
        raise ValueError(f"seed: expected an integer, got {seed!r}") from None
    torch.manual_seed(seed)
    return build(extractor, predictor).eval(), {"weights": "random-init", "seed": seed}


class FDRNAdapter(FocalPipelineAdapter):
    """FDRN B-series: SegFormer F_θ1 (extractor "b0"/"b1"), F_θ2 (predictor "b0"/"b3").

    No FDRN weights were released: pass ``checkpoint`` (an isbench FDRN file, see
    ``reference_models/fdrn/checkpoint.py``) or ``init="random"`` (seeded by ``seed``) for
    timing runs; the choice is written into ``info``. Other options: FocalPipelineAdapter's.
    """

    def __init__(self, extractor: str = "b0", predictor: str = "b0",
                 checkpoint: str | None = None, init: str | None = None,
                 seed: int | str = 0, **options):
        super().__init__(**options)
        self.net, facts = _weights(extractor, predictor, B_SERIES, checkpoint, init, seed)
        self._facts = {"checkpoint": facts, "extractor": extractor, "predictor": predictor}
        self._feats: dict | None = None

    def _encode_image(self, image: torch.Tensor) -> None:
        self._feats = self.net.encode_image(image)

    def _coarse(self, x: torch.Tensor, points: torch.Tensor, roi: tuple):
        return self.net.coarse(self._feats, x, points, roi)

    def _refine(self, *args) -> torch.Tensor:
        return self.net.predictor.refine(*args)


class FDRNHAdapter(SingleInstanceAdapter):
    """FDRN H-series: HRNet F_θ1 ("hrnet18s" = H1, "hrnet18" = H2), RITM HRNet F_θ2.

    Weights as ``FDRNAdapter``. target_size: Zoom-In long side (288, the paper's F_θ2 input).
    Threshold 0.49 as in RITM's evaluation.
    """

    threshold = 0.49

    def __init__(self, extractor: str = "hrnet18", predictor: str = "hrnet18",
                 checkpoint: str | None = None, init: str | None = None,
                 seed: int | str = 0, target_size: int | str = 288):
        self.net, facts = _weights(extractor, predictor, H_SERIES, checkpoint, init, seed)
        try:
            self.target_size = int(target_size)
        except ValueError:
            raise ValueError(f"target_size: expected an integer, got {target_size!r}") from None
        if self.target_size < 32:
            raise ValueError(f"target_size: expected an integer >= 32, got {target_size!r}")
        self._facts = {"checkpoint": facts, "extractor": extractor, "predictor": predictor}
        self.object_state = {}
        self._image: torch.Tensor | None = None
        self._feats: dict | None = None

    @property
    def info(self) -> dict:
        return {**super().info, **self._facts, "target_size": self.target_size,
                "threshold": self.threshold}

    def set_image(self, image: np.ndarray) -> None:
        """Cache the (1, 3, H, W) [0, 1] image and run F_θ1 on it."""
        self._image = self._feats = None
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
        self._image = tensor.float().div_(255.0)
        with torch.inference_mode():
            self._feats = self.net.encode_image(self._image)

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        """(H, W) float32 probabilities; F_θ2 only."""
        if self._image is None:
            raise RuntimeError("an image must be set with set_image(...) before predict")
        simple = [(c.y, c.x, c.positive) for c in clicks]
        with torch.inference_mode():
            probs = zoom_in_step(lambda x, p, roi: self.net.coarse(self._feats, x, p, roi),
                                 self._image, simple, self.object_state, self.target_size)
        return probs[0, 0].numpy().copy()
