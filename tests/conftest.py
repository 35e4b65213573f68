"""Shared fixtures: tiny synthetic samples and zero-cost fake adapters."""

from __future__ import annotations

import numpy as np
import pytest
from isbench.adapters import MultiInstanceAdapter, SingleInstanceAdapter

from isbench.types import Sample


class OracleAfter(SingleInstanceAdapter):
    """Returns the true mask of the object under the first positive click after ``k`` clicks,
    an empty mask before; counts calls."""

    def __init__(self, sample: Sample, k: int = 2):
        self.sample, self.k, self.calls = sample, k, 0

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, clicks, prev_mask):
        self.calls += 1
        out = np.zeros(self.shape, np.float32)
        pos = [c for c in clicks if c.positive]
        if len(clicks) >= self.k and pos:
            for m in self.sample.masks:
                if m[pos[0].y, pos[0].x]:
                    out[m] = 1.0
        return out


class FixedMulti(MultiInstanceAdapter):
    """Returns precomputed per-object probabilities, one stack per call (last one repeated)."""

    threshold = 0.5

    def __init__(self, stacks):
        self.stacks, self.calls = stacks, 0

    def set_image(self, image):
        self.calls = 0

    def predict(self, clicks, num_objects):
        out = self.stacks[min(self.calls, len(self.stacks) - 1)]
        self.calls += 1
        return out


def two_boxes() -> Sample:
    """40x60 image, object 0 a 10x20 box, object 1 a 12x12 box touching it."""
    masks = np.zeros((2, 40, 60), bool)
    masks[0, 5:15, 5:25] = True
    masks[1, 5:17, 25:37] = True
    image = np.zeros((40, 60, 3), np.uint8)
    image[masks[0]] = 200
    image[masks[1]] = 90
    return Sample("two-boxes", image, masks)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """One torch thread for the whole suite: the CI machine's two cores are shared, small
    models run faster so, and results do not depend on the thread count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def boxes() -> Sample:
    return two_boxes()
