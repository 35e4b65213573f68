"""SAM and SAM 2.1 through the official packages, on random weights in the released formats.

Needs the ``isbench[sam]`` extra (each fixture skips without its package). SAM uses the
official ``_build_sam`` with a one-block, 32-wide image encoder registered as ``vit_b``
(the real ViT-B encoder takes ~30 s per image on one CPU thread); SAM 2.1 uses the
packaged ``sam2.1_hiera_t`` config as released. Checks: isbench equals the official
predictor driven by hand (max |Δ| ≤ 1e-5, same binary mask), batched decoding equals
one-by-one, strict loading, and an end-to-end ``isbench run --limit 2`` per family.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from isbench.adapters.fusion import ArgmaxFusion
from isbench.adapters.sam import SamMultiAdapter, logits_to_probs

from isbench import adapters
from isbench.cli import main
from isbench.types import Click

# (y, x, positive), deliberately far from the diagonal so a swapped order shows.
CLICKS = [(5, 33, True), (19, 4, False)]


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def tiny_sam(tmp_path_factory):
    """(checkpoint path, official predictor on it) with ``vit_b`` built tiny while in use."""
    build_sam = pytest.importorskip("segment_anything.build_sam")
    from segment_anything import SamPredictor

    torch.manual_seed(0)
    builder = functools.partial(build_sam._build_sam, encoder_embed_dim=32, encoder_depth=1,
                                encoder_num_heads=2, encoder_global_attn_indexes=[0])
    path = tmp_path_factory.mktemp("sam") / "sam_vit_b_01ec64.pth"
    torch.save(builder().state_dict(), path)  # segment-anything's format: a plain state dict
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(build_sam.sam_model_registry, "vit_b", builder)
        yield path, SamPredictor(builder(checkpoint=str(path)))


@pytest.fixture(scope="module")
def sam21_tiny(tmp_path_factory):
    """(checkpoint path, official predictor on it) for SAM 2.1 Hiera-T."""
    build = pytest.importorskip("sam2.build_sam")
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    torch.manual_seed(0)
    cfg = "configs/sam2.1/sam2.1_hiera_t.yaml"
    path = tmp_path_factory.mktemp("sam2") / "sam2.1_hiera_tiny.pt"
    torch.save({"model": build.build_sam2(cfg, None, device="cpu").state_dict()}, path)
    return path, SAM2ImagePredictor(build.build_sam2(cfg, str(path), device="cpu"))


FAMILIES = {"sam-vit-b": "tiny_sam", "sam2.1-hiera-tiny": "sam21_tiny"}


@pytest.fixture(scope="module", params=list(FAMILIES))
def pair(request, image):
    """(isbench adapter, official predictor), both given ``image``, for each family."""
    path, official = request.getfixturevalue(FAMILIES[request.param])
    adapter = adapters.load(request.param, checkpoint=str(path))
    adapter.set_image(image)
    official.set_image(image)
    return adapter, official


def official_sequence(predictor, multimask: str, mask_input: str):
    """The official predictor driven by hand: per click, (logits (H, W), bool mask (H, W))."""
    # The official binary mask: logits above the predictor's threshold (SAM keeps it on the model).
    thr = getattr(predictor, "mask_threshold", None)
    thr = predictor.model.mask_threshold if thr is None else thr
    out, prev = [], None
    for n in range(1, len(CLICKS) + 1):
        coords = np.array([[x, y] for y, x, _ in CLICKS[:n]], dtype=np.float32)
        labels = np.array([int(p) for _, _, p in CLICKS[:n]])
        multi = multimask == "always" or (multimask == "first" and n == 1)
        logits, scores, low = predictor.predict(coords, labels, mask_input=prev,
                                                multimask_output=multi, return_logits=True)
        k = int(np.argmax(scores)) if multi else 0
        out.append((logits[k], logits[k] > thr))
        prev = low[k][None] if mask_input == "logits" else None
    return out


def isbench_sequence(adapter, multimask: str, mask_input: str):
    adapter.multimask, adapter.mask_input, adapter.object_state = multimask, mask_input, {}
    clicks = [Click(y, x, p, 0 if p else None, 0, i) for i, (y, x, p) in enumerate(CLICKS)]
    return [adapter.predict(tuple(clicks[: n + 1]), None) for n in range(len(clicks))]


@pytest.mark.parametrize("multimask, mask_input", [("first", "logits"), ("always", "none"),
                                                   ("never", "logits")])
def test_matches_official_predictor(pair, multimask, mask_input):
    adapter, official = pair
    expected = official_sequence(official, multimask, mask_input)
    got = isbench_sequence(adapter, multimask, mask_input)
    for probs, (logits, mask) in zip(got, expected):
        assert probs.shape == logits.shape == (24, 40) and probs.dtype == np.float32
        assert np.abs(probs - logits_to_probs(logits)).max() <= 1e-5
        np.testing.assert_array_equal(probs > adapter.threshold, mask)


def test_click_order_is_xy(pair):
    """The same click given to SAM as (y, x) would give a different prediction."""
    adapter, official = pair
    y, x, _ = CLICKS[0]
    probs = isbench_sequence(adapter, "first", "logits")[0]
    swapped, scores, _ = official.predict(np.array([[y, x]], np.float32), np.array([1]),
                                          return_logits=True)
    assert np.abs(probs - logits_to_probs(swapped[int(np.argmax(scores))])).max() > 1e-3


def test_batched_decoding_equals_one_by_one(pair):
    adapter, _ = pair
    rng = np.random.default_rng(1)
    coords = rng.uniform(0, 24, (2, 2, 2)).astype(np.float32)
    labels = np.array([[1, 0], [1, 1]])
    mask_in = rng.normal(0, 3, (2, 1, 256, 256)).astype(np.float32)
    for multi in (True, False):
        batched = adapter.decode(coords, labels, mask_in, multi)
        for b in range(2):
            single = adapter.decode(coords[b:b + 1], labels[b:b + 1], mask_in[b:b + 1], multi)
            for got, want in zip(batched, single):
                assert np.abs(got[b] - want[0]).max() <= 1e-5


@pytest.mark.parametrize("policy", ["own", "shared"])
def test_batched_multi_adapter_equals_argmax_fusion(tiny_sam, image, policy):
    """On tiny SAM only (SAM 2's batched decoding is checked above, at less cost)."""
    multi = adapters.load("sam-vit-b-batched", checkpoint=str(tiny_sam[0]), clicks=policy)
    assert isinstance(multi, SamMultiAdapter)
    multi.set_image(image)
    one_by_one = ArgmaxFusion(adapters.load("sam-vit-b", checkpoint=str(tiny_sam[0])),
                              clicks=policy, fuse="every-click")
    one_by_one.set_image(image)
    # MIST-like: one click per object, then a negative and a positive refinement click.
    clicks = [Click(4, 30, True, 0, 0, 0), Click(18, 6, True, 1, 1, 1),
              Click(10, 20, False, None, 1, 2), Click(20, 35, True, 0, 0, 3)]
    for n in range(2, len(clicks) + 1):
        got = multi.predict(tuple(clicks[:n]), 2)
        want = one_by_one.predict(tuple(clicks[:n]), 2)
        assert got.shape == (2, 24, 40) and np.abs(got - want).max() <= 1e-5


@pytest.mark.parametrize("name", list(FAMILIES))
def test_truncated_checkpoint_is_refused(request, tmp_path, name):
    path, _ = request.getfixturevalue(FAMILIES[name])
    state = torch.load(path, map_location="cpu", weights_only=True)
    weights = state.get("model", state)
    dropped = max(weights)
    del weights[dropped]
    bad = tmp_path / "truncated.pt"
    torch.save(state, bad)
    with pytest.raises(ValueError, match=f"missing \\['{dropped}'\\]") as err:
        adapters.load(name, checkpoint=str(bad))
    assert "\n" not in str(err.value)


def test_wrong_family_checkpoint_is_refused(tiny_sam, sam21_tiny):
    with pytest.raises(ValueError, match="plain state dict"):
        adapters.load("sam-vit-b", checkpoint=str(sam21_tiny[0]))
    with pytest.raises(ValueError, match="'model'"):
        adapters.load("sam2.1-hiera-tiny", checkpoint=str(tiny_sam[0]))


@pytest.mark.parametrize("name, args", [
    ("sam-vit-b-batched", ["--mode", "mist", "--tau", "2", "--model-arg", "multimask=always",
                           "--model-arg", "clicks=own"]),
    ("sam2.1-hiera-tiny", ["--mode", "single", "--max-clicks", "2"]),
])
def test_isbench_run_end_to_end(request, tmp_path, name, args):
    path, _ = request.getfixturevalue(FAMILIES[name.removesuffix("-batched")])
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "--model", name, "--checkpoint", str(path),
                                       "--limit", "2", "--out", str(out), "--no-plots", *args])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    info = config["model_info"]
    assert info["variant"] == name.removesuffix("-batched") and info["mask_input"] == "logits"
    assert info["multimask"] == ("always" if "multimask=always" in args else "first")
    if name.endswith("-batched"):
        assert info["batched_decoding"]
        assert info["fusion"] == {"clicks": "own", "fuse": "every-click"}
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len({r["sample_id"] for r in records}) == 2
    assert all(r["t_image"] > 0 and len(r["t_click"]) == len(r["ious"]) for r in records)
