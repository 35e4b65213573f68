"""SAM adapter conventions that need no official package: a fake predictor stands in.

Checks the (y, x) → (x, y) swap, the multimask policy, the mask-input feedback, the
probability/threshold boundary, the registry entries, checkpoint-format errors and
the one-line error when the ``isbench[sam]`` extra is missing.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from isbench.adapters import sam

from isbench import adapters
from isbench.registry import MODELS
from isbench.types import Click

H, W = 12, 20


class FakePredictor:
    """Mimics SAM2ImagePredictor.predict: records prompts, returns C masks of logit c - 1."""

    def __init__(self):
        self.calls = []
        self.mask_threshold = 0.0

    def set_image(self, image):
        self.image = image

    def predict(self, point_coords, point_labels, mask_input=None, multimask_output=True,
                return_logits=False):
        self.calls.append({"coords": point_coords.copy(), "labels": point_labels.copy(),
                           "mask_input": None if mask_input is None else mask_input.copy(),
                           "multimask": multimask_output})
        c = 3 if multimask_output else 1
        logits = np.stack([np.full((H, W), k - 1.0, np.float32) for k in range(c)])
        scores = np.array([0.2, 0.9, 0.5][:c], np.float32)
        low = np.stack([np.full((256, 256), 10.0 * k + len(self.calls), np.float32)
                        for k in range(c)])
        b = len(point_coords)
        return tuple(np.repeat(a[None], b, axis=0) for a in (logits, scores, low))


@pytest.fixture
def fake(monkeypatch):
    predictor = FakePredictor()
    monkeypatch.setattr(sam, "_build_predictor", lambda name, checkpoint, device: predictor)
    return predictor


def make(fake, **kwargs) -> sam.SamAdapter:
    adapter = sam.SamAdapter("sam2.1-hiera-tiny", "unused.pt", **kwargs)
    adapter.set_image(np.zeros((H, W, 3), np.uint8))
    return adapter


def test_clicks_become_xy_points(fake):
    adapter = make(fake)
    adapter.predict((Click(3, 17, True), Click(10, 2, False, index=1)), None)
    np.testing.assert_array_equal(fake.calls[0]["coords"], [[[17, 3], [2, 10]]])
    np.testing.assert_array_equal(fake.calls[0]["labels"], [[1, 0]])


@pytest.mark.parametrize("policy, expected", [("first", [True, False, False]),
                                               ("always", [True, True, True]),
                                               ("never", [False, False, False])])
def test_multimask_policy(fake, policy, expected):
    adapter = make(fake, multimask=policy)
    clicks = [Click(1, 1, True), Click(2, 2, False, index=1), Click(3, 3, True, index=2)]
    outputs = [adapter.predict(tuple(clicks[: i + 1]), None) for i in range(3)]
    assert [c["multimask"] for c in fake.calls] == expected
    for multi, probs in zip(expected, outputs):
        # Three masks: the one of highest predicted IoU (index 1, logit 0) is kept.
        # One mask: index 0, logit -1.
        assert probs.dtype == np.float32 and probs.shape == (H, W)
        np.testing.assert_allclose(probs, 0.5 if multi else 1 / (1 + np.e), rtol=1e-6)


def test_mask_input_feeds_back_kept_low_res_logits(fake):
    adapter = make(fake)
    a, b = Click(1, 1, True), Click(5, 5, False, index=1)
    adapter.predict((a,), None)
    adapter.predict((a, b), None)
    assert fake.calls[0]["mask_input"] is None
    # The first call returned low-res masks 10k + 1; the kept one is k = 1.
    np.testing.assert_array_equal(fake.calls[1]["mask_input"], np.full((1, 1, 256, 256), 11.0))
    adapter.set_image(np.zeros((H, W, 3), np.uint8))
    adapter.predict((a,), None)
    assert fake.calls[2]["mask_input"] is None, "set_image must drop the previous logits"


def test_mask_input_none_never_feeds_back(fake):
    adapter = make(fake, mask_input="none")
    a, b = Click(1, 1, True), Click(5, 5, False, index=1)
    adapter.predict((a,), None)
    adapter.predict((a, b), None)
    assert [c["mask_input"] for c in fake.calls] == [None, None]


def test_object_state_keeps_objects_apart(fake):
    adapter = make(fake)
    a = Click(1, 1, True)
    adapter.object_state = {}
    adapter.predict((a,), None)
    adapter.object_state = {}  # a second object: no previous logits
    adapter.predict((a, Click(2, 2, True, index=1)), None)
    assert fake.calls[1]["mask_input"] is None


def test_probability_threshold_reproduces_logit_rule():
    logits = np.array([-3.0, -1e-9, -0.0, 0.0, 1e-30, 1e-9, 3e-8, 2.0], np.float32)
    probs = sam.logits_to_probs(logits)
    assert probs.dtype == np.float32
    np.testing.assert_array_equal(probs > 0.5, logits > 0)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits.astype(np.float64))), atol=1e-7)


@pytest.mark.parametrize("kwargs, word", [({"multimask": "sometimes"}, "multimask"),
                                          ({"mask_input": "binary"}, "mask_input"),
                                          ({"variant": "sam-vit-x"}, "variant")])
def test_bad_arguments_are_one_line_errors(fake, kwargs, word):
    args = {"variant": "sam-vit-b", "checkpoint": "unused.pth", **kwargs}
    with pytest.raises(ValueError, match=word) as err:
        sam.SamAdapter(**args)
    assert "\n" not in str(err.value)


def test_registry_lists_every_variant():
    names = {n for n, e in MODELS.items() if e.target == "isbench.adapters.sam:SamAdapter"}
    assert names == set(sam.VARIANTS)
    batched = {n for n, e in MODELS.items() if e.target == "isbench.adapters.sam:SamMultiAdapter"}
    assert batched == {f"{n}-batched" for n in names}
    assert all(MODELS[f"{n}-batched"].kwargs == {"variant": n} for n in names)
    for name in names:
        entry = MODELS[name]
        assert entry.needs_checkpoint and entry.extra == "sam" and entry.kind == "single"
        assert entry.kwargs == {"variant": name}
    assert sam.VARIANTS["sam2.1-hiera-base-plus"].arch == "configs/sam2.1/sam2.1_hiera_b+.yaml"
    assert sam.VARIANTS["sam2-hiera-base-plus"].checkpoint == "sam2_hiera_base_plus.pt"


@pytest.mark.parametrize("name, module", [("sam-vit-b", "segment_anything"),
                                          ("sam2.1-hiera-tiny", "sam2")])
def test_missing_package_names_the_extra(monkeypatch, tmp_path, name, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes ``import module`` fail
    with pytest.raises(ValueError, match=r'pip install "isbench\[sam\]"') as err:
        adapters.load(name, checkpoint=str(tmp_path / "weights.pt"))
    assert "\n" not in str(err.value) and name in str(err.value)


def test_checkpoint_format_errors(tmp_path):
    state = torch.nn.Linear(2, 3).state_dict()
    plain, wrapped, text = tmp_path / "a.pth", tmp_path / "b.pt", tmp_path / "c.pt"
    torch.save(state, plain)
    torch.save({"model": state}, wrapped)
    text.write_text("not weights")
    assert set(sam._read_state_dict(str(plain), "sam", "sam-vit-b")) == {"weight", "bias"}
    assert set(sam._read_state_dict(str(wrapped), "sam2", "sam2-hiera-tiny")) == {"weight", "bias"}
    cases = [(wrapped, "sam", "plain state dict"), (plain, "sam2", "'model'"),
             (text, "sam", "not a readable torch file"), (tmp_path / "no.pt", "sam", "not found")]
    for path, family, words in cases:
        with pytest.raises(ValueError, match=words) as err:
            sam._read_state_dict(str(path), family, "x")
        assert "\n" not in str(err.value)


def test_strict_loading_names_mismatches():
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    good = {k: torch.randn_like(v) for k, v in net.state_dict().items()}
    sam._load_strict(net, good, "w.pt")
    torch.testing.assert_close(net.state_dict()["1.bias"], good["1.bias"])
    truncated = {k: v for k, v in good.items() if k != "1.weight"}
    with pytest.raises(ValueError, match=r"missing \['1.weight'\]"):
        sam._load_strict(net, truncated, "w.pt")
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        sam._load_strict(net, {**good, "extra": torch.zeros(1)}, "w.pt")
    with pytest.raises(ValueError, match=r"0.bias has shape \(4,\), expected \(3,\)"):
        sam._load_strict(net, {**good, "0.bias": torch.zeros(4)}, "w.pt")


def test_multi_adapter_batches_changed_objects(fake):
    multi = sam.SamMultiAdapter("sam2.1-hiera-tiny", "unused.pt", clicks="own")
    multi.set_image(np.zeros((H, W, 3), np.uint8))
    first = [Click(1, 2, True, k, k, k) for k in range(3)]
    probs = multi.predict(tuple(first), 3)
    assert probs.shape == (3, H, W) and len(fake.calls) == 1
    np.testing.assert_array_equal(fake.calls[0]["coords"], [[[2, 1]], [[2, 1]], [[2, 1]]])
    np.testing.assert_array_equal(fake.calls[0]["labels"], [[1], [1], [1]])
    assert fake.calls[0]["multimask"] and fake.calls[0]["mask_input"] is None
    # A negative click while refining object 1: only object 1 is decoded, with its logits.
    multi.predict((*first, Click(7, 9, False, None, 1, 3)), 3)
    assert len(fake.calls) == 2
    np.testing.assert_array_equal(fake.calls[1]["coords"], [[[2, 1], [9, 7]]])
    np.testing.assert_array_equal(fake.calls[1]["labels"], [[1, 0]])
    np.testing.assert_array_equal(fake.calls[1]["mask_input"], np.full((1, 1, 256, 256), 11.0))
    assert multi.info["batched_decoding"] and multi.info["fusion"]["clicks"] == "own"
