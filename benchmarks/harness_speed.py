"""Harness overhead per click: click choice, IoU, bookkeeping, records — no model cost.

A zero-cost model returns precomputed masks (each object's true mask shifted, so no
object ever reaches the threshold and every click of the budget is taken). Prints the
harness's own milliseconds per click for the single-instance protocol (480x320, one
object, 20 clicks) and MIST (640x480, 7 objects, tau 10, every strategy), at one thread.

    python benchmarks/harness_speed.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from isbench.adapters import MultiInstanceAdapter, SingleInstanceAdapter  # noqa: E402
from isbench.strategies.objects import MIST_STRATEGIES  # noqa: E402

import isbench  # noqa: E402
from isbench.datasets.synthetic import make_scene  # noqa: E402


class Shifted(SingleInstanceAdapter):
    def __init__(self, probs):
        self.probs = probs

    def set_image(self, image):
        pass

    def predict(self, clicks, prev_mask):
        return self.probs


class ShiftedMulti(MultiInstanceAdapter):
    threshold = 0.5

    def __init__(self, probs):
        self.probs = probs

    def set_image(self, image):
        pass

    def predict(self, clicks, num_objects):
        return self.probs


def _scene(h, w, n, seed):
    """A scene with exactly ``n`` objects and its shifted-mask predictions."""
    rng = np.random.default_rng(seed)
    while True:
        image, masks = make_scene(rng, h, w, max_objects=12, min_area=400)
        if len(masks) >= n:
            masks = masks[:n]
            break
    probs = np.roll(masks, (3, 4), axis=(1, 2)).astype(np.float32)
    return isbench.Sample(f"bench-{seed}", image, masks), probs


def _per_click_ms(model, sample, repeats, **kwargs):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        recs = isbench.evaluate(model, [sample], warmup=False, **kwargs)
        for r in recs:
            json.dumps(r)  # the record line is part of the harness's work
        elapsed = time.perf_counter() - start
        clicks = sum(len(r["clicks"]) for r in recs)
        best = min(best, elapsed / clicks * 1000)
    return best, clicks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    sample, probs = _scene(320, 480, 1, 0)
    ms, n = _per_click_ms(Shifted(probs[0]), sample, args.repeats, mode="single",
                          protocol="ritm", max_clicks=20)
    print(f"single-instance 480x320, 1 object : {ms:.3f} ms/click ({n} clicks, best of "
          f"{args.repeats})")
    sample, probs = _scene(480, 640, 7, 1)
    for strategy in MIST_STRATEGIES:
        ms, n = _per_click_ms(ShiftedMulti(probs), sample, args.repeats, mode="mist",
                              strategy=strategy, tau=10)
        print(f"MIST 640x480, 7 objects, {strategy:16s}: {ms:.3f} ms/click ({n} clicks)")


if __name__ == "__main__":
    main()
