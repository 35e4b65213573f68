"""SimpleClick behind the single-instance protocol, as the official evaluation runs it.

Registered as ``simpleclick-vit-xt``, ``-vit-b``, ``-vit-l``, ``-vit-h`` (each needs
``--checkpoint``, a released ``.pth``). Model args (strings from ``--model-arg``):
``target_size`` "448" (official), "davis" (the official DAVIS size, 672) or "H,W";
``flip`` "true"/"false".
The zoom-in ROI is carried from click to click in ``object_state['roi']`` (the harness
gives each object its own dict, so ArgmaxFusion's interleaved objects keep theirs); an
object's first click (``prev_mask`` None) starts without one. Threshold 0.49, applied as
``prob > 0.49`` (the official ``--thresh``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from isbench.adapters.base import SingleInstanceAdapter
from isbench.reference_models.simpleclick.build import VARIANTS
from isbench.reference_models.simpleclick.checkpoint import load_checkpoint
from isbench.reference_models.simpleclick.predictor import (
    ZOOM_EXPANSION,
    ZOOM_MIN_CROP,
    SimpleClickPredictor,
)

from isbench.types import Click

__all__ = ["SimpleClickAdapter", "parse_bool", "parse_size"]


def parse_size(value: str | int | Sequence[int], name: str) -> tuple[int, int]:
    """"448" / 448 -> (448, 448); "448,672" / (448, 672) -> (448, 672). ValueError otherwise."""
    parts = value.replace("x", ",").split(",") if isinstance(value, str) else value
    parts = [parts] if isinstance(parts, int) else list(parts)
    try:
        size = [int(str(p).strip()) for p in parts]
    except ValueError:
        size = []
    if len(size) == 1:
        size *= 2
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"{name} must be a positive size like 448 or 448,672, got {value!r}")
    return size[0], size[1]


def parse_bool(value: str | bool, name: str) -> bool:
    """true/false, yes/no, 1/0 (any case) or a bool -> bool. ValueError otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}")


class SimpleClickAdapter(SingleInstanceAdapter):
    """A released SimpleClick checkpoint with the official zoom-in and flip averaging.

    checkpoint: path of the official ``.pth``; variant: the registered architecture
    ("vit-xt", "vit-b", "vit-l", "vit-h"), checked against the checkpoint's config.
    target_size, flip: see the module docstring; device: torch device ("cpu", "cuda:0").
    """

    threshold = 0.49

    def __init__(self, checkpoint: str, variant: str = "vit-b",
                 target_size: str | int | Sequence[int] = "448", flip: str | bool = "true",
                 device: str = "cpu"):
        if variant not in VARIANTS:
            raise ValueError(f"SimpleClick variant must be one of {sorted(VARIANTS)}, "
                             f"got {variant!r}")
        if isinstance(target_size, str) and target_size.strip().lower() == "davis":
            size = VARIANTS[variant].davis_size
        else:
            size = parse_size(target_size, "target_size")
        self._flip = parse_bool(flip, "flip")
        self._checkpoint, self._variant = str(checkpoint), variant
        net = load_checkpoint(checkpoint, variant)
        try:
            self._predictor = SimpleClickPredictor(net, size, self._flip, str(device))
        except (RuntimeError, AssertionError) as exc:
            raise ValueError(f"SimpleClick: device {device!r} is not usable ({exc})") from None
        self.object_state: dict = {}
        self._image_shape: tuple[int, int] | None = None

    @property
    def info(self) -> dict:
        """Checkpoint, variant and the inference settings, for ``config.json``."""
        v = VARIANTS[self._variant]
        return {
            **super().info, "checkpoint": self._checkpoint, "variant": self._variant,
            "paper": v.paper, "released_files": list(v.checkpoints),
            "target_size": list(self._predictor.target_size),
            "flip": self._flip, "zoom_in": {"every_click": True, "expansion": ZOOM_EXPANSION,
                                            "min_crop": ZOOM_MIN_CROP, "keep_aspect": False},
            "normalisation": {"mean": list(v.mean), "std": list(v.std)},
        }

    def set_image(self, image: np.ndarray) -> None:
        """(H, W, 3) uint8 RGB; forgets the ROI of the previous image."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"SimpleClick: image must be (H, W, 3) uint8, got "
                             f"{image.shape} {image.dtype}")
        self.object_state = {}
        self._image_shape = image.shape[:2]
        self._predictor.set_image(image)

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        """(H, W) float32 probabilities; zero outside the zoom-in ROI (see module docstring)."""
        if self._image_shape is None:
            raise RuntimeError("SimpleClick: call set_image(...) before predict(...)")
        if not clicks:
            raise ValueError("SimpleClick: predict needs at least one click")
        if prev_mask is not None and np.shape(prev_mask) != tuple(self._image_shape):
            raise ValueError(f"SimpleClick: prev_mask must be {tuple(self._image_shape)}, "
                             f"got {np.shape(prev_mask)}")
        yx = [(int(c.y), int(c.x), bool(c.positive)) for c in clicks]
        prev_roi = None if prev_mask is None else self.object_state.get("roi")
        prev = None if prev_mask is None else np.asarray(prev_mask, dtype=np.float32)
        prob, self.object_state["roi"] = self._predictor.predict(yx, prev, prev_roi)
        return prob
