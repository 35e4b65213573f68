"""Shared by the golden-output test and the script that produced its reference values.

``fill_state_dict`` gives every float tensor of a state dict deterministic values drawn
from NumPy in key order (independent of how modules initialise themselves), so the same
weights can be loaded into the official DynaMITe modules and into isbench's.
"""

from __future__ import annotations

import numpy as np
import torch

IMAGE_SHAPE = (90, 130, 3)
RESIZE = (100, 150)  # min_size, max_size -> resized (100, 144), padded (128, 160)
CLICKS_PER_OBJECT = [2, 1]
MAX_TIMESTAMP = 3


def golden_image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, IMAGE_SHAPE, dtype=np.uint8)


def golden_clicks(resized: tuple[int, int]):
    """(fg_coords, bg_coords) in the resized frame, (y, x, t) triples."""
    h, w = resized
    fg = [[(10.0, 20.0, 0.0), (h - 5.0, 7.0, 3.0)], [(40.5, 60.25, 1.0)]]
    bg = [(h / 2, w - 1.0, 2.0)]
    return fg, bg


def fill_state_dict(state: dict, seed: int = 0) -> None:
    """Overwrite the float tensors of ``state`` in place (integer buffers and ``bg_query`` kept)."""
    rng = np.random.default_rng(seed)
    for key in sorted(state):
        t = state[key]
        if not t.is_floating_point() or key.endswith(".bg_query"):
            continue
        if key.endswith("running_var"):
            v = rng.uniform(0.5, 2.0, t.shape)
        elif key.endswith("running_mean"):
            v = rng.normal(0.0, 0.1, t.shape)
        elif t.dim() >= 2:
            v = rng.normal(0.0, 1.0 / np.sqrt(np.prod(t.shape[1:])), t.shape)
        elif key.endswith("weight"):
            v = 1.0 + rng.normal(0.0, 0.1, t.shape)
        else:
            v = rng.normal(0.0, 0.05, t.shape)
        t.copy_(torch.from_numpy(v.astype(np.float32)))


def logits_sample(logits: torch.Tensor) -> np.ndarray:
    """The stored subsample of (Q, H, W) original-resolution logits: every 15th row, 20th column."""
    return logits[:, ::15, ::20].numpy()
