"""DynaMITe speed on this machine: image cost paid once, per-click cost vs number of clicks.

Prints, for each configuration, the ``set_image`` time (backbone + pixel decoder) and the
``predict`` time with K clicks on K/10 (at least 1) objects plus every 10th click negative,
for K in --clicks; next to it, the cost of a click for a model that re-runs its backbone
per click (here: the sum set_image + predict, i.e. DynaMITe without its cache). Random weights
(timing does not depend on them); the image is random uint8 of --size, resized as the
official code does (shortest side 800, longest <= 1333). No timing is asserted anywhere.

    python benchmarks/dynamite_speed.py --configs mitb0 swin-t --clicks 1 5 10 50 200
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from isbench.adapters.dynamite import DynamiteAdapter
from isbench.reference_models.dynamite.model import build_model

from isbench.types import Click


def _clicks(k: int, h: int, w: int, rng: np.random.Generator) -> tuple[list[Click], int]:
    objects = max(1, k // 10)
    out = []
    for i in range(k):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        if i < objects:
            out.append(Click(y, x, True, i, i, i))
        elif i % 10 == 9:
            out.append(Click(y, x, False, None, 0, i))
        else:
            out.append(Click(y, x, True, i % objects, i % objects, i))
    return out, objects


def _timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _adapter_for(config: str, folder: Path) -> DynamiteAdapter:
    """The adapter on a random-weight checkpoint written in the official format."""
    path = folder / f"{config}.pth"
    torch.save({"model": build_model(config).state_dict()}, path)
    return DynamiteAdapter(checkpoint=str(path), config=config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["mitb0", "swin-t"])
    parser.add_argument("--clicks", nargs="+", type=int, default=[1, 5, 10, 50, 200])
    parser.add_argument("--size", nargs=2, type=int, default=[480, 640], metavar=("H", "W"))
    parser.add_argument("--repeats", type=int, default=2, help="best of N per figure")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*args.size, 3), dtype=np.uint8)
    print(
        f"image {args.size[0]}x{args.size[1]}, torch threads {args.threads}, best of {args.repeats}"
    )
    for config in args.configs:
        with tempfile.TemporaryDirectory() as folder:
            adapter = _adapter_for(config, Path(folder))
        adapter.set_image(image)  # warm-up
        t_image = _timed(lambda a=adapter: a.set_image(image), args.repeats)
        print(
            f"\n{config}: set_image {t_image * 1000:.0f} ms "
            f"(resized {adapter._feats.resized_size}, padded {adapter._feats.padded_size})"
        )
        print(f"{'clicks':>7} {'objects':>8} {'predict ms':>11} {'set_image+predict ms':>21}")
        for k in args.clicks:
            clicks, n = _clicks(k, *args.size, rng)
            t_click = _timed(lambda c=clicks, n=n, a=adapter: a.predict(c, n), args.repeats)
            print(f"{k:>7} {n:>8} {t_click * 1000:>11.0f} {(t_image + t_click) * 1000:>21.0f}")


if __name__ == "__main__":
    main()
