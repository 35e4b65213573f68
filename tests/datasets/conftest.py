"""Writers for tiny dataset copies in the official on-disk formats (used by the loader tests)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image


def voc_palette() -> np.ndarray:
    """(256, 3) uint8 PASCAL VOC colour map (index bits spread over R, G, B)."""
    pal = np.zeros((256, 3), np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal[i] = (r, g, b)
    return pal


class Writer:
    """Saves images and masks exactly as the dataset releases store them."""

    @staticmethod
    def rgb(path: Path, h: int = 12, w: int = 16, color=(200, 30, 90)) -> np.ndarray:
        """A constant-colour RGB image written with OpenCV (any extension); returns it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        img = np.empty((h, w, 3), np.uint8)
        img[:] = color
        assert cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        return img

    @staticmethod
    def grey(path: Path, values: np.ndarray) -> None:
        """A single-channel 8-bit file (PNG/BMP/TIFF) holding ``values``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), values.astype(np.uint8))

    @staticmethod
    def palette(path: Path, index_map: np.ndarray, pal: np.ndarray | None = None) -> None:
        """A mode-"P" PNG of palette indices (VOC colour map unless ``pal`` is given)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(index_map.astype(np.uint8), mode="P")
        im.putpalette((voc_palette() if pal is None else pal).flatten().tolist())
        im.save(path)


@pytest.fixture
def write() -> Writer:
    return Writer()
