"""Ordered prefetching, counting, and the registry's errors for every real dataset."""

from __future__ import annotations

import numpy as np
import pytest

from isbench.datasets import DATASETS, load, load_dataset
from isbench.datasets._common import NoObjectError
from isbench.datasets.iterate import count, iter_samples


def _grabcut(tmp_path, write, n=7, empty=(3,)):
    for i in range(n):
        write.rgb(tmp_path / "data_GT" / f"{i:02d}.jpg")
        m = np.zeros((12, 16), np.uint8)
        if i not in empty:
            m[1:1 + i + 1, 2:4] = 255
        m[11, :] = 128
        write.grey(tmp_path / "boundary_GT" / f"{i:02d}.bmp", m)
    return load("grabcut", data_root=tmp_path)


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_iter_samples_keeps_order_and_records_empty_images(tmp_path, write, workers):
    ds = _grabcut(tmp_path, write)
    skipped: list = []
    pairs = list(iter_samples(ds, workers=workers, skipped=skipped))
    assert [i for i, _ in pairs] == [0, 1, 2, 4, 5, 6]
    got = [s for _, s in pairs]
    assert [s.id for s in got] == ["00", "01", "02", "04", "05", "06"]
    assert [s.masks.sum() for s in got] == [2, 4, 6, 10, 12, 14]
    assert skipped[0]["id"] == "03" and "no usable object" in skipped[0]["reason"]


def test_iter_samples_raises_without_a_skip_list(tmp_path, write):
    ds = _grabcut(tmp_path, write)
    with pytest.raises(NoObjectError, match="'03'"):
        list(iter_samples(ds, workers=2))
    assert [(i, s.id) for i, s in iter_samples(ds, indices=[5, 0])] == [(5, "05"), (0, "00")]
    with pytest.raises(ValueError, match="--workers"):
        list(iter_samples(ds, workers=-1))


def test_count_reports_images_instances_and_skips(tmp_path, write):
    _grabcut(tmp_path, write, n=4)
    write.rgb(tmp_path / "data_GT" / "stray.jpg")
    ds = load_dataset("grabcut", tmp_path)
    c = count(ds, workers=2)
    assert (c["images"], c["instances"], c["with_ignore"]) == (3, 3, 3)
    assert [s["id"] for s in c["skipped"]] == ["stray", "03"]


REAL = sorted(n for n, e in DATASETS.items() if e.needs_root)


@pytest.mark.parametrize("name", REAL)
def test_every_real_dataset_names_what_is_missing(tmp_path, name):
    entry = DATASETS[name]
    assert entry.summary and "\n" not in entry.summary and set(entry.protocols) <= {
        "single", "mist"}
    options = {"annotations": str(tmp_path / "a.json")} if name == "coco-json" else {}
    with pytest.raises(ValueError, match=r"^missing (folder|file) .*expected layout") as err:
        load_dataset(name, tmp_path, **options)
    assert "\n" not in str(err.value)


def test_unknown_variant_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown variant 'x', expected one of val, ritm-test"):
        load_dataset("pascalvoc", tmp_path, variant="x")


def test_unknown_split_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'sbd': unknown split 'test', expected one of val, train"):
        load_dataset("sbd", tmp_path, split="test")
