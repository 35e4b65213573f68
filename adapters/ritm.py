"""RITM behind the single-instance protocol, run the way the official evaluation runs it.

``RitmAdapter`` loads an official checkpoint (strictly, see
``isbench.reference_models.ritm.load_checkpoint``) and predicts with the ``NoBRS`` predictor
of ``scripts/evaluate_model.py --eval-mode cvpr``: Zoom-In from the second click (long side
400, or 600 as for DAVIS), horizontal-flip averaging of logits, the previous soft
probabilities fed back, threshold 0.49. The Zoom-In box is per-object state kept in
``object_state`` (the harness swaps it per object).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from isbench.adapters.base import SingleInstanceAdapter
from isbench.reference_models.ritm import CHECKPOINTS, VARIANTS, load_checkpoint
from isbench.reference_models.ritm.inference import ZoomIn, predict

from isbench.types import Click

__all__ = ["RitmAdapter"]

DAVIS_TARGET_SIZE = 600  # scripts/evaluate_model.py, eval-mode cvpr, dataset DAVIS
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _flag(name: str, value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE + _FALSE:
        return text in _TRUE
    raise ValueError(f"ritm: {name}={value!r}: expected true or false")


class RitmAdapter(SingleInstanceAdapter):
    """An official RITM checkpoint under the official inference protocol.

    variant: registered name (``ritm-hrnet18`` ...); the checkpoint's architecture must
    belong to it. checkpoint: path of the official ``.pth``. zoom_in: Zoom-In on/off.
    target_size: Zoom-In long side (400; 600 is the official DAVIS setting). flip:
    horizontal-flip averaging on/off. Options may be given as strings (``--model-arg``);
    ``target_size="davis"`` selects the official DAVIS size, 600.
    """

    threshold = 0.49

    def __init__(self, variant: str, checkpoint: str, zoom_in: bool | str = True,
                 target_size: int | str = 400, flip: bool | str = True):
        if variant not in VARIANTS:
            raise ValueError(f"ritm variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        self.variant = VARIANTS[variant]
        if str(target_size).strip().lower() == "davis":
            target_size = DAVIS_TARGET_SIZE
        try:
            size = int(target_size)
        except ValueError:
            size = 0
        if size < 1:
            raise ValueError(f"ritm: target_size={target_size!r}: expected a positive integer "
                             "or davis")
        self.zoom = ZoomIn(target_size=size) if _flag("zoom_in", zoom_in) else None
        self.flip = _flag("flip", flip)
        self.checkpoint = str(checkpoint)
        self.net = load_checkpoint(checkpoint)
        if not self.variant.matches(self.net.arch):
            raise ValueError(f"checkpoint {self.checkpoint!r} is a "
                             f"{self.variant.describe(self.net.arch)} model, not {variant} "
                             f"({self.variant.summary})")
        self.object_state: dict = {}
        self._image: torch.Tensor | None = None

    @property
    def info(self) -> dict:
        arch = self.net.arch
        release = CHECKPOINTS.get(Path(self.checkpoint).name)
        return {**super().info, "variant": self.variant.name, "checkpoint": self.checkpoint,
                "release": None if release is None else {**vars(release), "url": release.url},
                "arch": {k: getattr(arch, k) for k in arch.__dataclass_fields__},
                "zoom_in": None if self.zoom is None else vars(self.zoom), "flip": self.flip,
                "threshold": self.threshold}

    def set_image(self, image: np.ndarray) -> None:
        """(H, W, 3) uint8 RGB → (1, 3, H, W) float32 in [0, 1] (as ``ToTensor``)."""
        chw = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        self._image = chw.to(torch.float32).div(255).unsqueeze(0)
        self.object_state = {}

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        """(H, W) float32 probabilities; ``prev_mask`` None starts a new object."""
        if self._image is None:
            raise RuntimeError("ritm: call set_image(image) before predict(...)")
        stored = None if prev_mask is None else self.object_state.get("roi")
        probs, box = predict(self.net, self._image, prev_mask,
                             [(c.y, c.x, c.positive) for c in clicks], self.zoom, stored,
                             self.flip)
        self.object_state["roi"] = box
        return probs
