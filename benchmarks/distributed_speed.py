"""Wall time of the bundled-dataset MIST run with grabcut at 1 and 2 processes (torchrun).

    python benchmarks/distributed_speed.py [--limit 100] [--strategy worst-with-limit]

Prints the wall time of each and the speed-up; the records of both are compared
(timings aside) and must be identical.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _records(run_dir: Path) -> list[dict]:
    skip = ("t_image", "t_click", "peak_mem_mb")
    lines = (run_dir / "samples.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(x).items() if k not in skip} for x in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="samples (100: all of val)")
    parser.add_argument("--strategy", default="worst-with-limit")
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = ["run", "--model", "grabcut", "--strategy", args.strategy, "--limit", str(args.limit),
           "--no-plots"]
    with tempfile.TemporaryDirectory() as tmp:
        times = {}
        for n in (1, 2):
            out = Path(tmp) / f"n{n}"
            launcher = [sys.executable, "-m", "isbench"] if n == 1 else [
                sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc-per-node", str(n), "-m", "isbench"]
            start = time.perf_counter()
            subprocess.run([*launcher, *run, "--out", str(out)], env=env, check=True,
                           capture_output=True)
            times[n] = time.perf_counter() - start
            print(f"{n} process{'es' if n > 1 else ''}: {times[n]:.1f} s wall")
        same = _records(Path(tmp) / "n1") == _records(Path(tmp) / "n2")
        print(f"speed-up with 2 processes: {times[1] / times[2]:.2f}x; records identical: {same}")


if __name__ == "__main__":
    main()
