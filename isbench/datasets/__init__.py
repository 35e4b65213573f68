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
    "grabcut": DatasetEntry(
        "isbench.datasets.paired:grabcut",
        "GrabCut, 50 images: data_GT/<name>.<ext>, boundary_GT/<name>.<ext> (128 = ignore)",
        protocols=("single",),
    ),
    "berkeley": DatasetEntry(
        "isbench.datasets.paired:berkeley",
        "Berkeley, 96 images / 100 instances: images/<name>.jpg, masks/<name>.png (128 = ignore)",
        protocols=("single",),
    ),
    "davis": DatasetEntry(
        "isbench.datasets.paired:davis",
        "DAVIS-345 (RITM), objects merged per frame: img/<name>.jpg, gt/<name>.png",
        protocols=("single",),
    ),
    "davis-merged": DatasetEntry(
        "isbench.datasets.davis17:davis17",
        "DAVIS-2017 val, every frame, objects merged: JPEGImages/480p/<video>/, "
        "Annotations/480p/<video>/, ImageSets/2017/val.txt",
        protocols=("single",),
        kwargs={"variant": "merged"},
    ),
    "coco-mval": DatasetEntry(
        "isbench.datasets.paired:coco_mval",
        "COCO-MVal, 800 instances (RITM: any non-zero = object): img/<name>.jpg, gt/<name>.png",
        protocols=("single",),
    ),
    "coco-mval-dynamite": DatasetEntry(
        "isbench.datasets.paired:coco_mval",
        "COCO-MVal as DynaMITe reads it (channel 0 > 128): img/<name>.jpg, gt/<name>.png",
        protocols=("single",),
        kwargs={"variant": "dynamite"},
    ),
    "sbd": DatasetEntry(
        "isbench.datasets.voc:sbd",
        "SBD val, each instance separately: img/<id>.jpg, inst/<id>.mat, val.txt",
        protocols=("single",),
    ),
    "sbd-multi": DatasetEntry(
        "isbench.datasets.voc:sbd_multi",
        "SBD val, all instances (DynaMITe order, largest first): img/, inst/<id>.mat, val.txt",
        protocols=("mist",),
    ),
    "pascalvoc": DatasetEntry(
        "isbench.datasets.voc:pascalvoc",
        "PASCAL VOC val, every instance, void ignored: JPEGImages/, SegmentationObject/<id>.png, "
        "ImageSets/Segmentation/val.txt",
        protocols=("single",),
    ),
    "pascalvoc-ritm": DatasetEntry(
        "isbench.datasets.voc:pascalvoc",
        "PASCAL VOC, RITM's instance list: JPEGImages/, SegmentationObject/<id>.png, "
        "ImageSets/Segmentation/test.pickle",
        protocols=("single",),
        kwargs={"variant": "ritm-test"},
    ),
    "coco": DatasetEntry(
        "isbench.datasets.coco:coco",
        "COCO val2017, crowd regions ignored: val2017/<file_name>, "
        "annotations/instances_val2017.json",
    ),
    "coco-dynamite": DatasetEntry(
        "isbench.datasets.coco:coco",
        "COCO val2017 as DynaMITe reads it (crowd dropped, largest first, smaller wins overlaps)",
        protocols=("mist",),
        kwargs={"variant": "dynamite"},
    ),
    "lvis": DatasetEntry(
        "isbench.datasets.coco:lvis",
        "LVIS v1 val: lvis_v1_val.json, images in train2017/ and val2017/ (from coco_url)",
    ),
    "davis17": DatasetEntry(
        "isbench.datasets.davis17:davis17",
        "DAVIS-2017 val frames, palette instance ids (DynaMITe order): JPEGImages/480p/<video>/, "
        "Annotations/480p/<video>/, ImageSets/2017/val.txt",
        protocols=("mist",),
    ),
    "brats": DatasetEntry(
        "isbench.datasets.medical:brats",
        "BraTS slices (SimpleClick): image/<name>.png, annotation/<name>.png",
        protocols=("single",),
    ),
    "sstem": DatasetEntry(
        "isbench.datasets.medical:sstem",
        "ssTEM mitochondria (SimpleClick): raw/<name>.tif, mitochondria/<name>.png",
        protocols=("single",),
    ),
    "oaizib": DatasetEntry(
        "isbench.datasets.medical:oaizib",
        "OAI-ZIB knee slices (SimpleClick): test/image/<name>.png, test/annotations/<name>.png",
        protocols=("single",),
    ),
    "folder": DatasetEntry(
        "isbench.datasets.folder:folder",
        "your data: images/<name>.<ext>, masks/<name>.png (instance ids, 255 ignored) "
        "or masks/<name>/<k>.png",
    ),
    "coco-json": DatasetEntry(
        "isbench.datasets.coco:coco_json",
        "any COCO-format json: --data-root IMAGE_DIR --annotations JSON_PATH",
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
    dataset = loader(Path(root) if root is not None else None, **{**entry.kwargs, **kwargs})
    dataset.info["name"] = name  # the registered name: a variant's entry names the variant
    return dataset


def load(name: str, data_root: str | Path | None = None, **options) -> Dataset:
    """`load_dataset` under the public API's name: ``load("coco-json", data_root=IMAGE_DIR,
    annotations=JSON_PATH)`` returns a sized, lazily decoded sequence of `Sample`s."""
    return load_dataset(name, data_root, **options)
