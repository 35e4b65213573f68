"""The medical benchmarks of the SimpleClick paper, in its loaders' layouts: BraTS,
ssTEM and OAI-ZIB (image folder + mask folder, see `isbench.datasets.paired`).

Masks are read as OpenCV colour images and channel 0 is used, as SimpleClick does.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from isbench.datasets._common import split_labels
from isbench.datasets.paired import PairedDataset, open_pairs

__all__ = ["brats", "oaizib", "sstem"]

BRATS_LAYOUT = "image/<name>.png, annotation/<name>.png (non-zero = tumour)"
SSTEM_LAYOUT = "raw/<name>.tif, mitochondria/<name>.png (each connected component an object)"
OAIZIB_LAYOUT = "<split>/image/<name>.png, <split>/annotations/<name>.png (one object per value)"


def _nonzero_channel0(bgr: np.ndarray) -> tuple[np.ndarray, None]:
    """One object: channel 0 > 0 (BraTS)."""
    return (bgr[..., 0] > 0)[None], None


def _components(bgr: np.ndarray) -> tuple[np.ndarray, None]:
    """Every 8-connected component of channel 0's non-zero pixels is an object (ssTEM).

    SimpleClick passes ``4`` positionally to ``connectedComponentsWithStats``, where it
    binds to the output argument, so OpenCV's default 8-connectivity is what it uses.
    """
    _, labels = cv2.connectedComponents((bgr[..., 0] > 0).astype(np.uint8), connectivity=8)
    return split_labels(labels)[0], None


def _values(bgr: np.ndarray) -> tuple[np.ndarray, None]:
    """Every distinct non-zero value of channel 0 is an object, ascending (OAI-ZIB: femoral
    and tibial cartilage)."""
    return split_labels(bgr[..., 0])[0], None


def brats(root: Path) -> PairedDataset:
    """BraTS slices (SimpleClick's BraTSDataset)."""
    return open_pairs("brats", "simpleclick", root, "image", "annotation", _nonzero_channel0,
                      BRATS_LAYOUT, "*.png", "*.png")


def sstem(root: Path) -> PairedDataset:
    """ssTEM mitochondria (SimpleClick's ssTEMDataset)."""
    return open_pairs("sstem", "simpleclick", root, "raw", "mitochondria", _components,
                      SSTEM_LAYOUT, "*.tif", "*.png")


def oaizib(root: Path, split: str = "test") -> PairedDataset:
    """OAI-ZIB knee slices (SimpleClick's OAIZIBDataset, ``split`` test)."""
    return open_pairs("oaizib", "simpleclick", root, f"{split}/image", f"{split}/annotations",
                      _values, OAIZIB_LAYOUT, "*.png", "*.png")
