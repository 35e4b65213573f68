"""Dataset registry: name → loader, shared by the CLI, ``isbench list`` and the runner.

A dataset is any object with ``__len__`` and ``__getitem__(i) -> Sample`` (lazy: an
image is read when its sample is asked for) plus an ``info`` dict written into
``config.json`` (variant, root, skipped images). Samples always carry every instance
of the image; the single-instance protocol evaluates each instance separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from isbench.registry import resolve_target
from isbench.types import Sample

__all__ = ["DATASETS", "Dataset", "DatasetEntry", "load_dataset"]


class Dataset:
    """Base for loaders: an indexable, sized collection of `Sample`s.

    info: facts for ``config.json`` — at least ``name``; loaders add ``variant``,
        ``root`` and ``skipped`` (ids of images without a usable object, with the reason).
    """

    info: dict

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Sample:
        raise NotImplementedError


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset.

    target: ``module:attribute`` of a callable ``(root: Path | None, **kwargs) -> Dataset``.
    summary: one line for ``isbench list``.
    protocols: which protocols the benchmark uses it for ("single", "mist").
    needs_root: whether ``--data-root`` is required.
    kwargs: fixed arguments (e.g. the variant).
    """

    target: str
    summary: str
    protocols: tuple[str, ...] = ("single", "mist")
    needs_root: bool = True
    kwargs: dict = field(default_factory=dict)


DATASETS: dict[str, DatasetEntry] = {
    "synthetic": DatasetEntry(
        "isbench.datasets.synthetic:load",
        "bundled, generated on the fly: textured multi-instance scenes (no download)",
        needs_root=False,
    ),
}


def load_dataset(name: str, root: str | Path | None = None, **kwargs) -> Dataset:
    """Open a registered dataset (ValueError with a one-line message on bad input)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(sorted(DATASETS))}")
    entry = DATASETS[name]
    if entry.needs_root:
        if root is None:
            raise ValueError(f"dataset {name!r} needs --data-root (the folder holding it)")
        if not Path(root).is_dir():
            raise ValueError(f"dataset {name!r}: data root {str(root)!r} is not a folder")
    loader = resolve_target(entry.target)
    return loader(Path(root) if root is not None else None, **{**entry.kwargs, **kwargs})
