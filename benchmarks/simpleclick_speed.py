"""SimpleClick per-click latency on CPU through the official inference path.

Builds a random-init network of the chosen variant (weights do not change the cost),
then times `SimpleClickPredictor.predict` — zoom-in crop resized to the network size,
the crop and its mirror in one batch of 2 (unless --no-flip), sigmoid, paste back — on
a 480x640 image: the first click (whole image) is warm-up, the following clicks use the
previous mask, so they run on a zoomed-in crop. This is the adapter's per-click work
minus its argument checks. Prints milliseconds per click (median and mean).

    python benchmarks/simpleclick_speed.py [--variant vit-b] [--size 448] [--clicks 3]
        [--threads N] [--no-flip]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from isbench.reference_models.simpleclick.build import VARIANTS, build_model, official_params
from isbench.reference_models.simpleclick.predictor import SimpleClickPredictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="vit-b", choices=sorted(VARIANTS))
    parser.add_argument("--size", type=int, default=448, help="network input side (672: DAVIS)")
    parser.add_argument("--clicks", type=int, default=3, help="timed clicks after the warm-up")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--no-flip", action="store_true", help="skip the mirror pass")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = build_model(official_params(args.variant)).eval()
    pred = SimpleClickPredictor(net, (args.size, args.size), flip=not args.no_flip)
    rng = np.random.default_rng(0)
    pred.set_image(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
    # an object-sized previous mask so that every timed click zooms in
    prev = np.zeros((480, 640), np.float32)
    prev[150:300, 250:420] = 0.9
    clicks = [(220, 330, True)]
    _, roi = pred.predict(clicks, None, None)  # warm-up: the whole image
    times = []
    for k in range(args.clicks):
        clicks.append((160 + 10 * k, 260 + 5 * k, k % 2 == 0))
        start = time.perf_counter()
        _, roi = pred.predict(clicks, prev, roi)
        times.append(time.perf_counter() - start)
    ms = [1000 * t for t in times]
    print(f"SimpleClick {args.variant} at {args.size}x{args.size}, flip={not args.no_flip}, "
          f"threads={torch.get_num_threads()}, torch {torch.__version__}, crop ROI {roi}")
    print(f"per click: median {statistics.median(ms):.0f} ms, mean {statistics.mean(ms):.0f} ms "
          f"over {len(ms)} clicks ({', '.join(f'{m:.0f}' for m in ms)})")


if __name__ == "__main__":
    main()
