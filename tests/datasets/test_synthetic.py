import numpy as np
import pytest

from isbench.datasets import load_dataset
from isbench.datasets.synthetic import SyntheticScenes


def test_synthetic_is_deterministic_disjoint_and_varied():
    ds = load_dataset("synthetic")
    assert len(ds) == 100
    a, b = ds[5], SyntheticScenes()[5]
    assert a.id == b.id and (a.image == b.image).all() and (a.masks == b.masks).all()
    counts = [ds[i].num_objects for i in range(40)]
    assert min(counts) >= 1 and max(counts) <= 8 and len(set(counts)) > 4
    for i in range(10):
        s = ds[i]
        assert s.image.dtype == np.uint8 and s.image.shape == (240, 320, 3)
        assert (s.masks.sum(axis=0) <= 1).all() and (s.masks.sum(axis=(1, 2)) >= 40).all()


def test_train_and_val_splits_differ():
    val, train = SyntheticScenes(split="val")[0], SyntheticScenes(split="train")[0]
    assert val.id != train.id and not np.array_equal(val.image, train.image)


def test_bad_arguments():
    with pytest.raises(ValueError, match="split 'test'"):
        SyntheticScenes(split="test")
    with pytest.raises(ValueError, match="needs --data-root"):
        from isbench.datasets import DATASETS, DatasetEntry
        DATASETS["tmp-needs-root"] = DatasetEntry("x:y", "tmp")
        try:
            load_dataset("tmp-needs-root")
        finally:
            del DATASETS["tmp-needs-root"]


@pytest.mark.parametrize(("split", "digest"), [("val", "624ae774da579a3c"),
                                                ("train", "e724d1b5030ac426")])
def test_scenes_are_the_published_ones(split, digest):
    """The reference results and the shipped weights were made on exactly these pixels."""
    import hashlib

    h = hashlib.sha256()
    for s in SyntheticScenes(5, split):
        h.update(s.image.tobytes())
        h.update(s.masks.tobytes())
    assert h.hexdigest()[:16] == digest
