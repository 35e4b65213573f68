"""Loader cost: opening (indexing) a dataset, decoding one sample, and how much of the
decoding the ``--workers`` prefetch hides behind model time.

Writes, in a temporary folder, an SBD-style copy (500x375 JPEGs, ``inst/*.mat`` with 3
instances) and a COCO-style copy (same images, 5 polygon objects + 1 RLE crowd region
per image), then prints milliseconds per operation. The "model" is a sleep of
``--model-ms`` per sample, so the prefetch figures show overlap without using CPU.

    python benchmarks/datasets_io.py [--images 60] [--model-ms 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils
from scipy.io import savemat

from isbench.datasets import load_dataset
from isbench.datasets.iterate import iter_samples

H, W = 375, 500


def _write(root: Path, n: int) -> None:
    """SBD layout under root/sbd and COCO layout under root/coco, n images each."""
    rng = np.random.default_rng(0)
    for d in ("sbd/img", "sbd/inst", "coco/val2017", "coco/annotations"):
        (root / d).mkdir(parents=True)
    images, anns, names = [], [], []
    for i in range(n):
        name = f"2008_{i:06d}"
        img = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "sbd" / "img" / f"{name}.jpg"), img)
        cv2.imwrite(str(root / "coco" / "val2017" / f"{i:012d}.jpg"), img)
        seg = np.zeros((H, W), np.uint8)
        for k in range(3):
            y, x = rng.integers(0, H - 100), rng.integers(0, W - 100)
            seg[y:y + 100, x:x + 100] = k + 1
        savemat(root / "sbd" / "inst" / f"{name}.mat", {"GTinst": {"Segmentation": seg}})
        names.append(name)
        images.append({"id": i, "file_name": f"{i:012d}.jpg", "height": H, "width": W})
        for k in range(5):
            cx, cy, r = rng.uniform(60, W - 60), rng.uniform(60, H - 60), rng.uniform(20, 50)
            t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            poly = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1).ravel().tolist()
            anns.append({"id": len(anns) + 1, "image_id": i, "iscrowd": 0, "area": 3.14 * r * r,
                         "category_id": 1, "segmentation": [poly]})
        crowd = np.zeros((H, W), np.uint8, order="F")
        crowd[:40, :80] = 1
        rle = mask_utils.encode(crowd)
        anns.append({"id": len(anns) + 1, "image_id": i, "iscrowd": 1, "area": 3200.0,
                     "category_id": 1, "segmentation": {"size": [H, W],
                                                        "counts": rle["counts"].decode()}})
    (root / "sbd" / "val.txt").write_text("\n".join(names) + "\n")
    (root / "coco" / "annotations" / "instances_val2017.json").write_text(
        json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1}]}))


def _bench(name: str, root: Path, model_ms: float) -> None:
    t0 = time.perf_counter()
    ds = load_dataset(name, root)
    t_open = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(len(ds)):
        ds[i]
    t_decode = (time.perf_counter() - t0) / len(ds)
    rows = []
    for workers in (0, 2):
        t0 = time.perf_counter()
        for _ in iter_samples(ds, workers=workers):
            time.sleep(model_ms / 1000)
        rows.append((time.perf_counter() - t0) / len(ds) * 1000)
    print(f"{name:6s} {len(ds)} images: open {t_open * 1000:.1f} ms, decode "
          f"{t_decode * 1000:.2f} ms/sample; with a {model_ms:g} ms model: "
          f"workers=0 {rows[0]:.1f} ms/sample, workers=2 {rows[1]:.1f} ms/sample")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--model-ms", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), args.images)
        for name in ("sbd", "coco"):
            _bench(name, Path(tmp) / name, args.model_ms)


if __name__ == "__main__":
    main()
