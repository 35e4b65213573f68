"""RITM per-click latency on CPU through the official inference path (random weights).

For each variant: a 480×640 image, a square object (rows 150..299, cols 250..399) given
as the previous mask, so from the second click on Zoom-In crops a 211×211 box and resizes
it to 400×400 (the official ``cvpr`` size; ``--target-size 600`` is the DAVIS setting).
Every prediction runs the flip pair (batch 2). Prints the median wall-clock and
process-CPU milliseconds of the first click (whole image) and of a zoomed click, over
``--repeats`` runs.

    python benchmarks/ritm_speed.py [--variants ritm-hrnet18] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import isbench.adapters
import numpy as np
import torch
from isbench.reference_models import ritm
from isbench.reference_models.ritm.configs import VARIANTS

from isbench.types import Click


def _checkpoint(variant: str, folder: Path) -> Path:
    spec = VARIANTS[variant].specified
    cls = "HRNetModel" if VARIANTS[variant].kind == "hrnet" else "DeeplabModel"
    arch = ritm.arch_from_config({"class": cls, "params": {k: {"value": v}
                                                          for k, v in spec.items()}})
    path = folder / f"{variant}.pth"
    ritm.save_checkpoint(ritm.RitmNet(arch).eval(), path, spec)
    return path


def _time(fn, repeats: int) -> tuple[float, float]:
    """Median wall-clock and median process-CPU milliseconds of ``fn`` after one warm-up.

    On a shared machine the CPU time is the steadier figure (with one thread it is close to
    the wall time of an idle machine)."""
    fn()  # warm-up (allocations, oneDNN primitive caches)
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(1000 * (time.perf_counter() - w))
        cpu.append(1000 * (time.process_time() - c))
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--target-size", type=int, default=400)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    prev = np.zeros((480, 640), np.float32)
    prev[150:300, 250:400] = 0.9
    clicks = (Click(220, 320, True), Click(100, 100, False))
    print(f"torch {torch.__version__}, {args.threads} thread(s), image 480x640, flip on, "
          f"zoom-in target {args.target_size}; median of {args.repeats} runs, wall / CPU ms")
    with tempfile.TemporaryDirectory() as folder:
        for variant in args.variants:
            adapter = isbench.adapters.load(variant, checkpoint=str(_checkpoint(variant,
                                                                                Path(folder))),
                                            target_size=str(args.target_size))
            adapter.set_image(image)
            first = _time(lambda: adapter.predict(clicks[:1], None), args.repeats)

            def zoomed():
                adapter.object_state = {}
                adapter.predict(clicks, prev)

            zoom = _time(zoomed, args.repeats)
            box = adapter.object_state["roi"]
            print(f"{variant:14s} first click (480x640): {first[0]:7.1f} / {first[1]:7.1f}   "
                  f"zoomed click (box {box} -> 400x400): {zoom[0]:7.1f} / {zoom[1]:7.1f}")


if __name__ == "__main__":
    main()
