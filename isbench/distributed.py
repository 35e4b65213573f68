"""torch.distributed plumbing for ``torchrun -m isbench run``.

Under ``torchrun`` (``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` in the environment) every rank
evaluates its own shard; the process group (``gloo`` on CPU, ``nccl`` with CUDA) is used
only to agree on errors and to let rank 0 wait for all ranks before it merges.
"""

from __future__ import annotations

import os
from datetime import timedelta

__all__ = ["launched_by_torchrun", "init", "all_gather", "all_ok", "barrier", "finish",
           "local_rank"]

# A sweep's ranks can finish hours apart: rank 0 must be allowed to wait that long.
WAIT = timedelta(days=7)


def launched_by_torchrun() -> bool:
    """True when the torch.distributed environment names more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def local_rank() -> int:
    """This process's rank on its machine (the CUDA device index it should use)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def init(device: str) -> tuple[int, int]:
    """Join the process group; return (rank, world size)."""
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend, timeout=WAIT)
    return dist.get_rank(), dist.get_world_size()


def all_ok(error: str | None) -> None:
    """Every rank reports its error (or None); all raise the first one, so no rank waits
    forever for a rank that already gave up."""
    first = next((e for e in all_gather(error) if e), None)
    if first:
        raise ValueError(first)


def all_gather(obj) -> list:
    """Every rank's ``obj`` (picklable), in rank order."""
    import torch.distributed as dist

    objs: list = [None] * dist.get_world_size()
    dist.all_gather_object(objs, obj)
    return objs


def barrier() -> None:
    """Wait for every rank."""
    import torch.distributed as dist

    dist.barrier()


def finish() -> None:
    """Leave the process group."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
