"""DynaMITe behind the isbench protocol (multi-instance; one object for the NoC protocol).

``set_image`` runs backbone + pixel decoder once and caches their outputs (``t_image``);
``predict`` runs only the interactive transformer, its decoder and the post-processing
with all clicks so far (``t_click``), as the official predictor does.

Output probabilities: for object k, sigmoid(s_k - b), where s_k is the max of object k's
click-query logits and b the max of the background channels (background clicks and the
9 static queries), all at the original resolution. With ``threshold`` 0.5 the harness's
"argmax object if >= threshold" rule gives exactly the official argmax masks.

Without a checkpoint (configuration ``mitb0-small`` or undetermined) the adapter uses the
weights shipped in the package: the small MiT-B0 variant trained by ``isbench train`` on
the bundled synthetic ``train`` split (not the paper's COCO+LVIS weights).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import isbench.reference_models.dynamite as _package
import numpy as np
import torch
from isbench.adapters.base import MultiInstanceAdapter
from isbench.reference_models.dynamite.model import (
    CONFIGS,
    load_checkpoint,
    scale_clicks,
)

from isbench.types import Click

__all__ = ["BUNDLED_CHECKPOINT", "BUNDLED_CONFIG", "DynamiteAdapter"]

BUNDLED_CONFIG = "mitb0-small"
BUNDLED_CHECKPOINT = Path(_package.__file__).parent / "dynamite_mitb0_small_synthetic.pth"
BUNDLED_NOTE = (
    "dynamite: no --checkpoint, using the bundled mitb0-small weights trained on isbench's "
    "synthetic data (not the paper's COCO+LVIS weights)"
)


def _positive_int(name: str, value) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"dynamite: {name}={value!r} is not an integer") from None
    if number <= 0:
        raise ValueError(f"dynamite: {name} must be positive, got {number}")
    return number


class DynamiteAdapter(MultiInstanceAdapter):
    """DynaMITe on official weights (or on the bundled synthetic-data weights).

    checkpoint: the official ``.pth`` (``{"model": state_dict, ...}``) or one written by
        ``isbench train``; None = the bundled ``mitb0-small`` weights (config None or
        mitb0-small only).
    config: one of ``CONFIGS``; None detects it from the keys.
    device: torch device string ("cpu", "cuda", ...).
    min_size, max_size: override the test-time resize (800 / 1333). Anything but the
        defaults departs from the official protocol; meant for tests and quick looks.
    """

    threshold = 0.5

    def __init__(
        self,
        checkpoint: str | None = None,
        config: str | None = None,
        device: str = "cpu",
        min_size=None,
        max_size=None,
    ):
        self.bundled = not checkpoint and config in (None, BUNDLED_CONFIG)
        if self.bundled:
            checkpoint = BUNDLED_CHECKPOINT
            print(BUNDLED_NOTE, file=sys.stderr)
        if not checkpoint:
            files = ", ".join(f"{c.readme_label} ({c.name})" for c in CONFIGS.values())
            raise ValueError(
                f"dynamite needs --checkpoint: an official DynaMITe .pth from the README's model "
                f"table ({files})"
            )
        if config is not None and config not in CONFIGS:
            raise ValueError(f"dynamite: config={config!r}, expected one of {', '.join(CONFIGS)}")
        try:
            self.device = torch.device(device)
        except RuntimeError:
            raise ValueError(f"dynamite: device={device!r} is not a torch device") from None
        resize = {
            "min_size": _positive_int("min_size", min_size),
            "max_size": _positive_int("max_size", max_size),
        }
        self.model = load_checkpoint(checkpoint, config).to(self.device)
        self.trained = self.model.isbench_section
        self.model.set_resize(**resize)
        self.checkpoint = str(checkpoint)
        self._feats = None

    @property
    def info(self) -> dict:
        cfg = self.model.cfg
        weights = "official release (COCO+LVIS)"
        if self.trained:
            weights = (
                "isbench train on the bundled synthetic train split "
                f"({'bundled' if self.bundled else 'user'} file; not the paper's COCO+LVIS weights)"
            )
        return {
            **super().info,
            "weights": weights,
            "trained": dict(self.trained),
            "checkpoint": self.checkpoint,
            "config": cfg.name,
            "official_config": cfg.official_config,
            "min_size": cfg.min_size,
            "max_size": cfg.max_size,
            "device": str(self.device),
            "paper": cfg.paper,
        }

    def set_image(self, image: np.ndarray) -> None:
        """(H, W, 3) uint8 RGB: run backbone + pixel decoder once and cache the outputs."""
        self._feats = None
        self._feats = self.model.encode_image(image)

    def predict(self, clicks: Sequence[Click], num_objects: int) -> np.ndarray:
        """(num_objects, H, W) float32 in [0, 1] from all clicks so far.

        Click order sets the timestamps: the i-th click has t = i and max_timestamp is
        len(clicks) - 1 (initial clicks 0..N-1 in object order, then one per correction).
        """
        if self._feats is None:
            raise RuntimeError("dynamite: call set_image(...) before predict(...)")
        h, w = self._feats.orig_size
        fg: list[list[tuple[float, float, float]]] = [[] for _ in range(num_objects)]
        bg: list[tuple[float, float, float]] = []
        scaled = scale_clicks([(c.y, c.x) for c in clicks], (h, w), self._feats.resized_size)
        for t, (click, (y, x)) in enumerate(zip(clicks, scaled)):
            if click.positive:
                if click.object_id is None or not 0 <= click.object_id < num_objects:
                    raise ValueError(
                        f"dynamite: positive click with object_id {click.object_id} "
                        f"outside [0, {num_objects})"
                    )
                fg[click.object_id].append((y, x, float(t)))
            else:
                bg.append((y, x, float(t)))
        if not clicks:
            return np.zeros((num_objects, h, w), np.float32)
        clicked = [k for k in range(num_objects) if fg[k]]
        fg_clicked = [fg[k] for k in clicked]
        scores = self.model.object_scores(self._feats, fg_clicked, bg, len(clicks) - 1)
        probs = torch.zeros((num_objects, h, w))
        probs[clicked] = torch.sigmoid(scores[:-1] - scores[-1]).cpu()
        return probs.numpy().astype(np.float32)
