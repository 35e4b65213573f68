"""``isbench bench``: a model alone, timed as the number of clicks grows.

For models whose click cost grows with the clicks (DynaMITe's queries) or that pay an
image cost once (FDRN, DynaMITe): ``set_image`` once, then ``predict`` with 1, 5, 10, ...
clicks on one generated image; median of ``repeats`` calls per click count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from isbench.adapters.base import MultiInstanceAdapter
from isbench.datasets.synthetic import make_scene
from isbench.metrics.iou import label_map
from isbench.types import Click

__all__ = ["bench_model", "synthetic_clicks"]


def synthetic_clicks(masks: np.ndarray, n: int, rng: np.random.Generator) -> tuple[Click, ...]:
    """``n`` clicks at random pixels, each labelled by the object it lands on (background
    negative); the first click is the centre pixel of object 0, so there is one positive."""
    labels = label_map(masks)
    ys, xs = np.nonzero(masks[0])
    first = (int(ys[len(ys) // 2]), int(xs[len(xs) // 2]))
    points = [first] + [(int(y), int(x)) for y, x in zip(
        rng.integers(0, labels.shape[0], n - 1), rng.integers(0, labels.shape[1], n - 1),
        strict=True)]
    out = []
    for i, (y, x) in enumerate(points):
        obj = int(labels[y, x]) - 1
        out.append(Click(y, x, obj >= 0, obj if obj >= 0 else None, max(obj, 0), i))
    return tuple(out)


def bench_model(model, clicks: Sequence[int], height: int = 480, width: int = 640,
                repeats: int = 3, seed: int = 0, clock=time.perf_counter) -> list[dict]:
    """Rows ``{"clicks", "t_image", "t_click"}`` (seconds; medians) for each click count."""
    if not clicks or min(clicks) < 1 or repeats < 1:
        raise ValueError("--clicks must be positive integers and --repeats >= 1")
    rng = np.random.default_rng(seed)
    image, masks = make_scene(rng, height, width)
    multi = isinstance(model, MultiInstanceAdapter)
    model.set_image(image)  # warm-up
    t_image = []
    for _ in range(repeats):
        start = clock()
        model.set_image(image)
        t_image.append(clock() - start)
    rows = []
    for n in clicks:
        seq = synthetic_clicks(masks, n, rng)
        if not multi:  # one object: positive only on object 0
            seq = tuple(Click(c.y, c.x, c.object_id == 0, 0 if c.object_id == 0 else None, 0,
                              c.index) for c in seq)
        times = []
        for _ in range(repeats):
            model.object_state = {}
            start = clock()
            model.predict(seq, len(masks)) if multi else model.predict(seq, None)
            times.append(clock() - start)
        rows.append({"clicks": n, "t_image": float(np.median(t_image)),
                     "t_click": float(np.median(times))})
    return rows
