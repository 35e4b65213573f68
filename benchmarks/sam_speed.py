"""CPU time of the SAM adapters: image encoder (``set_image``) and per-click decoding.

Random weights in the released file format (no download): each variant is built with
its official builder, saved to a temporary folder and loaded through
``isbench.adapters.load``. Prints one line per variant; nothing is asserted.

    python benchmarks/sam_speed.py                       # sam-vit-b and sam2.1-hiera-tiny
    python benchmarks/sam_speed.py --variants sam2.1-hiera-small --threads 2 --repeats 3
    python benchmarks/sam_speed.py --variants sam2.1-hiera-tiny --objects 7  # batched decoding
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from isbench.adapters.sam import VARIANTS

from isbench import adapters
from isbench.types import Click


def save_random_checkpoint(name: str, folder: Path) -> Path:
    """Build ``name`` with random weights and save it as its official release file."""
    variant = VARIANTS[name]
    path = folder / variant.checkpoint
    if variant.family == "sam":
        from segment_anything import sam_model_registry

        torch.save(sam_model_registry[variant.arch](checkpoint=None).state_dict(), path)
    else:
        from sam2.build_sam import build_sam2

        torch.save({"model": build_sam2(variant.arch, None, device="cpu").state_dict()}, path)
    return path


def clicks_for(h: int, w: int, n: int, rng: np.random.Generator) -> list[Click]:
    """``n`` random clicks, the first positive, in (y, x) pixels."""
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    return [Click(int(y), int(x), i == 0 or bool(rng.integers(2)), index=i)
            for i, (y, x) in enumerate(zip(ys, xs))]


def batched_vs_loop(model, objects: int, size: tuple[int, int]) -> str:
    """Median ms of one decoder call for ``objects`` prompts of 2 clicks vs one call each."""
    rng = np.random.default_rng(1)
    coords = rng.uniform(0, min(size), (objects, 2, 2)).astype(np.float32)
    labels = np.ones((objects, 2), dtype=np.int64)
    mask_in = rng.normal(0, 3, (objects, 1, 256, 256)).astype(np.float32)
    t_batch, t_loop = [], []
    for _ in range(3):
        start = time.perf_counter()
        model.decode(coords, labels, mask_in, False)
        t_batch.append(time.perf_counter() - start)
        start = time.perf_counter()
        for b in range(objects):
            model.decode(coords[b:b + 1], labels[b:b + 1], mask_in[b:b + 1], False)
        t_loop.append(time.perf_counter() - start)
    return (f"  {objects} objects: batched {np.median(t_batch) * 1e3:.1f} ms, "
            f"one by one {np.median(t_loop) * 1e3:.1f} ms")


def bench(name: str, folder: Path, repeats: int, clicks: int, size: tuple[int, int],
          objects: int) -> str:
    """One line: load time, set_image median, first-click and later-click medians (seconds)."""
    path = save_random_checkpoint(name, folder)
    start = time.perf_counter()
    model = adapters.load(name, checkpoint=str(path))
    t_load = time.perf_counter() - start
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    t_image, t_first, t_later = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        model.set_image(image)
        t_image.append(time.perf_counter() - start)
        seq = clicks_for(*size, clicks, rng)
        for n in range(1, clicks + 1):
            start = time.perf_counter()
            model.predict(tuple(seq[:n]), None)
            (t_first if n == 1 else t_later).append(time.perf_counter() - start)
    path.unlink()
    line = (f"{name:22s} load {t_load:6.2f}s  set_image median {np.median(t_image):7.3f}s "
            f"(min {min(t_image):.3f})  first click {np.median(t_first) * 1e3:7.1f} ms  "
            f"later clicks {np.median(t_later) * 1e3:7.1f} ms")
    return line + (f"\n{batched_vs_loop(model, objects, size)}" if objects else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["sam-vit-b", "sam2.1-hiera-tiny"],
                        choices=sorted(VARIANTS))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=2, help="images per variant")
    parser.add_argument("--clicks", type=int, default=10, help="clicks per image")
    parser.add_argument("--objects", type=int, default=0,
                        help="also time one batched decoder call for this many objects")
    parser.add_argument("--size", type=int, nargs=2, default=[480, 640], metavar=("H", "W"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), image {args.size[0]}x"
          f"{args.size[1]}, {args.repeats} image(s) x {args.clicks} clicks, multimask first, "
          "mask_input logits")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants:
            print(bench(name, Path(tmp), args.repeats, args.clicks, tuple(args.size),
                        args.objects), flush=True)


if __name__ == "__main__":
    main()
