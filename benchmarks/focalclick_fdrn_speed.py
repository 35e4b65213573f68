"""CPU latency of FocalClick and FDRN: per image (set_image), per click (predict), and FDRN's
average time per interaction t_ave(n) = t_image / n + t_click (FDRN paper, eq. 7).

Random weights (no FDRN weights exist; FocalClick's are not downloadable here), one torch
thread, a 481x321 synthetic image (the paper's "typical input size"). Clicks follow a fixed
seeded sequence: positives inside the object, negatives outside. A model without per-image
work (FocalClick, RITM) has a flat t_ave; pass ``--ritm-checkpoint`` to add RITM's line when
a ``ritm-hrnet18`` model is registered.

    python benchmarks/focalclick_fdrn_speed.py [--clicks 20] [--models a,b,...]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import isbench.adapters as adapters  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from isbench.reference_models.focalclick.checkpoint import (  # noqa: E402
    build,
    save_official_checkpoint,
)

from isbench.datasets.synthetic import make_scene  # noqa: E402
from isbench.types import Click  # noqa: E402

DEFAULT_MODELS = ("focalclick-segformer-b0,fdrn-b0-segformerb0,fdrn-b1-segformerb0,"
                  "focalclick-segformer-b3,fdrn-b0-segformerb3,focalclick-hrnet18s,"
                  "focalclick-hrnet32,fdrn-h2-hrnet18s,fdrn-h1-hrnet18,fdrn-h2-hrnet18")


def _clicks(mask: np.ndarray, n: int, rng: np.random.Generator) -> list[Click]:
    """n clicks: the first positive, then alternating negative/positive, (y, x) from the mask."""
    inside, outside = np.argwhere(mask), np.argwhere(~mask)
    out = []
    for k in range(n):
        pts = inside if k % 2 == 0 else outside
        y, x = pts[rng.integers(len(pts))]
        out.append(Click(int(y), int(x), k % 2 == 0, index=k))
    return out


def _load(name: str, tmp: str, ritm_checkpoint: str | None):
    if name.startswith("focalclick-"):
        path = os.path.join(tmp, f"{name}.pth")
        variant = name.removeprefix("focalclick-").removeprefix("segformer-")
        save_official_checkpoint(build(variant, "s2"), path)
        return adapters.load(name, checkpoint=path)
    if name.startswith("fdrn-"):
        return adapters.load(name, init="random")
    return adapters.load(name, checkpoint=ritm_checkpoint)


def measure(model, image: np.ndarray, clicks: list[Click]) -> tuple[float, list[float]]:
    """(t_image, [t_click per click]) in seconds for one object."""
    t0 = time.perf_counter()
    model.set_image(image)
    t_image = time.perf_counter() - t0
    model.object_state, prev, t_click = {}, None, []
    for k in range(1, len(clicks) + 1):
        t0 = time.perf_counter()
        prev = model.predict(tuple(clicks[:k]), prev)
        t_click.append(time.perf_counter() - t0)
    return t_image, t_click


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--ritm-checkpoint", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    image, masks = make_scene(rng, 321, 481, max_objects=3, min_area=2000)
    clicks = _clicks(masks[0], args.clicks, rng)
    names = args.models.split(",")
    if args.ritm_checkpoint:
        names.append("ritm-hrnet18")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            model = _load(name, tmp, args.ritm_checkpoint)
            measure(model, image, clicks[:2])  # warm-up
            t_image, t_click = measure(model, image, clicks)
            rows[name] = (t_image, float(np.mean(t_click)))
            total = 1e3 * (t_image + sum(t_click))
            print(f"{name:24s} t_image {1e3 * t_image:8.1f} ms   t_click {1e3 * rows[name][1]:8.1f}"
                  f" ms   per image ({args.clicks} clicks) {total:9.1f} ms", flush=True)
    ns = [n for n in (1, 2, 3, 5, 10, 15, 20) if n <= args.clicks]
    print("\nt_ave(n) = t_image / n + t_click, ms (eq. 7 of the FDRN paper)")
    print(f"{'model':24s}" + "".join(f"{'n=' + str(n):>9s}" for n in ns))
    for name, (t_image, t_click) in rows.items():
        print(f"{name:24s}" + "".join(f"{1e3 * (t_image / n + t_click):9.1f}" for n in ns))


if __name__ == "__main__":
    main()
