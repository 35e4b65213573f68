"""FDRN B-series adapter: F_θ1 once per image in ``set_image`` (recorded as ``t_image``),
only F_θ2 per click in ``predict`` (``t_click``), inside FocalClick's crop-and-refine
predictor (FDRN-B is FocalClick-based; ``specs/focalclick.md`` 3)."""

from __future__ import annotations

import torch
from isbench.adapters.focalclick import FocalPipelineAdapter
from isbench.reference_models.fdrn.checkpoint import load_checkpoint
from isbench.reference_models.fdrn.model import FDRN

__all__ = ["FDRNAdapter"]


class FDRNAdapter(FocalPipelineAdapter):
    """FDRN with a SegFormer F_θ1 (extractor "b0"/"b1") and F_θ2 (predictor "b0"/"b3").

    No FDRN weights were released: pass ``checkpoint`` (an isbench FDRN file, see
    ``reference_models/fdrn/checkpoint.py``) or ``init="random"`` (seeded by ``seed``) for
    timing runs; the choice is written into ``info``.
    """

    def __init__(self, extractor: str = "b0", predictor: str = "b0",
                 checkpoint: str | None = None, init: str | None = None,
                 seed: int | str = 0, **options):
        super().__init__(**options)
        if extractor not in ("b0", "b1") or predictor not in ("b0", "b3"):
            raise ValueError(f"FDRN variant ({extractor!r}, {predictor!r}): expected "
                             "extractor 'b0'/'b1' and predictor 'b0'/'b3'")
        if (checkpoint is None) == (init is None) or init not in (None, "random"):
            raise ValueError("FDRN: no weights were released; pass exactly one of --checkpoint "
                             "FILE (isbench FDRN file) or --model-arg init=random")
        if checkpoint is not None:
            self.net, facts = load_checkpoint(checkpoint, extractor, predictor)
        else:
            try:
                torch.manual_seed(int(seed))
            except ValueError:
                raise ValueError(f"seed: expected an integer, got {seed!r}") from None
            self.net, facts = FDRN(extractor, predictor).eval(), {"weights": "random-init",
                                                                   "seed": int(seed)}
        self._facts = {"checkpoint": facts, "extractor": extractor, "predictor": predictor}
        self._feats: dict | None = None

    def _encode_image(self, image: torch.Tensor) -> None:
        self._feats = self.net.encode_image(image)

    def _coarse(self, x: torch.Tensor, points: torch.Tensor, roi: tuple):
        return self.net.coarse(self._feats, x, points, roi)

    def _refine(self, *args) -> torch.Tensor:
        return self.net.predictor.refine(*args)
