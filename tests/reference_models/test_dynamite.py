"""DynaMITe: official state-dict layout, strict loading, and hand-checkable units."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import dynamite_golden as dg
import numpy as np
import pytest
import torch
from isbench.reference_models.dynamite.interactive_transformer import (
    normalised_click_coords,
    ordered_clicks,
    unmask_full_rows,
)
from isbench.reference_models.dynamite.model import (
    CONFIGS,
    DynamiteModel,
    build_model,
    instance_masks_from_logits,
    load_checkpoint,
    preprocess_image,
    resized_size,
    scale_clicks,
)
from isbench.reference_models.dynamite.pixel_decoder import (
    MSDeformAttnPixelDecoder,
    num_fpn_levels,
)
from isbench.reference_models.dynamite.position import (
    position_embedding_sine,
    spatiotemporal_encoding,
)
from isbench.reference_models.dynamite.swin import SwinTransformer

# Copies of specs/dynamite_keys/*.tsv (key, shape, dtype of the five released models).
KEYS_DIR = Path(__file__).parent / "dynamite_keys"
KEY_FILES = {
    "swin-t": "swin_tiny_bs32_ep50.tsv",
    "swin-l": "swin_large_bs32_ep100.tsv",
    "mitb0": "mitb0_bs32_ep50.tsv",
    "r50": "R50_bs32_ep50_DERIVED.tsv",
    "hrnet32": "hrnet32_bs32_ep50.tsv",
}
TINY = {"min_size": 64, "max_size": 96}


def _expected_keys(config: str) -> list[tuple[str, str, str]]:
    rows = (KEYS_DIR / KEY_FILES[config]).read_text().splitlines()[1:]
    return [tuple(r.split("\t")) for r in rows]


@pytest.mark.parametrize("config", sorted(KEY_FILES))
def test_state_dict_matches_official_listing(config):
    with torch.device("meta"):
        model = DynamiteModel(CONFIGS[config])
    got = [
        (k, str(list(v.shape)), str(v.dtype).removeprefix("torch."))
        for k, v in model.state_dict().items()
    ]
    assert got == _expected_keys(config)


@pytest.fixture(scope="module")
def mitb0_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model = build_model("mitb0")
    path = tmp_path_factory.mktemp("dynamite") / "mitb0.pth"
    torch.save({"model": model.state_dict(), "iteration": 0}, path)
    return path


def _tiny_image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 96, 3), dtype=np.uint8)


def _run(model: DynamiteModel) -> torch.Tensor:
    model.set_resize(**TINY)
    feats = model.encode_image(_tiny_image())
    return model.predict_logits(feats, [[(10.0, 20.0, 0.0)], [(40.0, 50.0, 1.0)]], [], 1)


@pytest.mark.parametrize("config", ["mitb0", "swin-t", "r50", "hrnet32"])
def test_official_file_round_trip_gives_identical_outputs(config, tmp_path):
    torch.manual_seed(1)
    model = build_model(config)
    path = tmp_path / "w.pth"
    torch.save({"model": model.state_dict(), "trainer": {}, "iteration": 9}, path)
    loaded = load_checkpoint(path)
    assert loaded.cfg.name == config
    expected, got = _run(model), _run(loaded)
    assert got.shape == (2 + 9, 64, 96)
    assert torch.isfinite(got).all()
    assert torch.equal(expected, got)


def test_strict_loading_names_missing_and_unexpected_keys(mitb0_file, tmp_path):
    state = torch.load(mitb0_file, weights_only=True)["model"]
    state.pop("sem_seg_head.interactive_transformer.query_embed")
    state["sem_seg_head.extra.weight"] = torch.zeros(1)
    bad = tmp_path / "bad.pth"
    torch.save({"model": state}, bad)
    with pytest.raises(
        ValueError,
        match=r"missing sem_seg_head\.interactive_transformer\.query_embed"
        r"; unexpected sem_seg_head\.extra\.weight",
    ) as err:
        load_checkpoint(bad)
    assert "\n" not in str(err.value)


def test_loader_refuses_wrong_format_and_wrong_config(mitb0_file, tmp_path):
    bare = tmp_path / "bare.pth"
    torch.save(torch.load(mitb0_file, weights_only=True)["model"], bare)
    with pytest.raises(ValueError, match="expected a detectron2 file"):
        load_checkpoint(bare)
    with pytest.raises(ValueError, match="holds the 'mitb0' configuration.*dynamite-mitb0"):
        load_checkpoint(mitb0_file, config="swin-t")
    with pytest.raises(ValueError, match="file not found"):
        load_checkpoint(tmp_path / "nope.pth")


def test_spatiotemporal_encoding_by_hand():
    coords = normalised_click_coords([(200.0, 544.0, 5.0)], height=800, width=1088, max_timestamp=7)
    assert coords[0].tolist() == pytest.approx([0.25, 0.5, 0.01])
    e = spatiotemporal_encoding(coords)[0]
    assert e.shape == (384,)
    # y = 0.25: slot 0 sin(pi/2), slot 1 cos(pi/2); slot 2 uses frequency 10000^(2/128).
    assert e[0].item() == pytest.approx(1.0, abs=1e-6)
    assert e[1].item() == pytest.approx(0.0, abs=1e-6)
    assert e[2].item() == pytest.approx(math.sin(math.pi / 2 / 10000 ** (2 / 128)), abs=1e-6)
    assert e[3].item() == pytest.approx(math.cos(math.pi / 2 / 10000 ** (2 / 128)), abs=1e-6)
    # x = 0.5 -> angle pi; t = 5/500 -> angle 0.02*pi.
    assert e[128].item() == pytest.approx(0.0, abs=1e-6)
    assert e[129].item() == pytest.approx(-1.0, abs=1e-6)
    assert e[256].item() == pytest.approx(math.sin(0.02 * math.pi), abs=1e-6)
    # more than 500 clicks: t is divided by max_timestamp instead.
    assert normalised_click_coords([(0, 0, 300)], 32, 32, 600)[0, 2].item() == pytest.approx(0.5)
    # padding (-1, -1, -1) encodes to zeros.
    pad = spatiotemporal_encoding(torch.tensor([[-1.0, -1.0, -1.0]]))
    assert pad.abs().max().item() < 1e-6


def test_sine_position_embedding_by_hand():
    pe = position_embedding_sine(2, 4)
    assert pe.shape == (256, 2, 4)
    # y code first: row r angle (r+1)/2*2pi; x code at channel 128: column c angle (c+1)/4*2pi.
    assert pe[0, 0, 3].item() == pytest.approx(math.sin(math.pi), abs=1e-5)
    assert pe[1, 1, 0].item() == pytest.approx(math.cos(2 * math.pi), abs=1e-5)
    assert pe[128, 1, 0].item() == pytest.approx(1.0, abs=1e-5)
    assert pe[129, 0, 1].item() == pytest.approx(-1.0, abs=1e-5)
    assert pe[130, 0, 0].item() == pytest.approx(
        math.sin(math.pi / 2 / 10000 ** (2 / 128)), abs=1e-5
    )


def test_query_order_and_count():
    a, b, c, d, e = [(float(i), float(i), float(i)) for i in range(5)]
    assert ordered_clicks([[a, c], [b]], [e, d]) == [a, c, b, e, d]
    model = build_model("mitb0")
    model.set_resize(**TINY)
    feats = model.encode_image(_tiny_image())
    logits = model.predict_logits(feats, [[a, c], [b]], [e, d], 4)
    assert logits.shape == (5 + 9, 64, 96)


def test_resize_of_480x640_and_its_clicks():
    assert resized_size(480, 640) == (800, 1067)
    assert resized_size(300, 1000) == (400, 1333)
    assert scale_clicks([(240, 320), (0, 639)], (480, 640), (800, 1067)) == [
        (400.0, 533.5),
        (0.0, 639 * 1067 / 640),
    ]
    image = np.full((480, 640, 3), 128, np.uint8)
    x, size = preprocess_image(image, CONFIGS["mitb0"])
    assert size == (800, 1067)
    assert x.shape == (1, 3, 800, 1088)
    assert x[0, 0, 0, 0].item() == pytest.approx((128 - 123.675) / 58.395, abs=1e-6)
    assert x[0, 2, 799, 1066].item() == pytest.approx((128 - 103.530) / 57.375, abs=1e-6)
    assert (x[..., 1067:] == 0).all()
    small = replace(CONFIGS["mitb0"], **TINY)
    assert preprocess_image(_tiny_image(), small)[0].shape == (1, 3, 64, 96)


def test_max_then_argmax_post_processing():
    # 3 pixels; channels: object 0 (2 clicks), object 1 (1 click), 1 bg click, 2 static bg.
    logits = torch.tensor(
        [
            [5.0, -1.0, 0.0],
            [1.0, 3.0, 0.0],
            [2.0, 4.0, 0.0],
            [0.0, 0.0, 9.0],
            [0.0, 0.0, 0.0],
            [6.0, 0.0, 0.0],
        ]
    )[:, None, :]
    scores = instance_masks_from_logits(logits, [2, 1])
    assert scores[:, 0, :].tolist() == [
        [5.0, 3.0, 0.0],
        [2.0, 4.0, 0.0],
        [0.0, 0.0, 9.0],
        [0.0, 0.0, 0.0],
        [6.0, 0.0, 0.0],
    ]
    # pixel 0: a static bg query wins; pixel 1: object 1; pixel 2: the bg click.
    assert scores.argmax(0)[0].tolist() == [4, 1, 2]


def test_fully_masked_rows_are_unmasked():
    mask = torch.tensor([[[True, True, True], [True, False, True], [False, False, False]]])
    assert unmask_full_rows(mask).tolist() == [
        [[False, False, False], [True, False, True], [False, False, False]]
    ]


def test_object_scores_equal_the_reduced_full_stack():
    torch.manual_seed(2)
    model = build_model("mitb0")
    model.set_resize(**TINY)
    feats = model.encode_image(_tiny_image(4))
    fg = [[(3.0, 4.0, 0.0), (20.0, 30.0, 3.0)], [(40.0, 60.0, 1.0)]]
    bg = [(60.0, 90.0, 2.0)]
    full = instance_masks_from_logits(model.predict_logits(feats, fg, bg, 3), [2, 1])
    scores = model.object_scores(feats, fg, bg, 3)
    assert scores.shape == (3, 64, 96)
    assert torch.equal(scores[:2], full[:2])
    assert torch.equal(scores[2], full[2:].max(dim=0).values)


def test_hrnet_declared_stride_gives_two_fpn_levels():
    assert num_fpn_levels([8, 16, 32]) == 1
    assert num_fpn_levels([1, 1, 1]) == -2
    decoder = MSDeformAttnPixelDecoder([32, 64, 128, 256], num_fpn_levels=-2)
    assert decoder.fpn_channels == [32, 64]
    feats = [torch.randn(1, c, 16 // 2**i, 24 // 2**i) for i, c in enumerate([32, 64, 128, 256])]
    mask_features, multi_scale = decoder(feats)
    assert mask_features.shape == (1, 256, 16, 24)
    assert [tuple(m.shape[-2:]) for m in multi_scale] == [(2, 3), (4, 6), (8, 12)]


def test_swin_window_12_on_a_small_input():
    backbone = SwinTransformer(embed_dim=24, depths=[2, 2, 2, 2], heads=[1, 2, 4, 8], window=12)
    outs = backbone(torch.randn(1, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [
        (1, 24, 16, 24),
        (1, 48, 8, 12),
        (1, 96, 4, 6),
        (1, 192, 2, 3),
    ]
    assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize("config", ["mitb0", "swin-t", "hrnet32"])
def test_outputs_equal_the_official_code_on_the_same_weights(config):
    """Reference values: the official modules (commit ed865f6, detectron2 stubbed, pure-PyTorch
    deformable attention) on ``dynamite_golden.fill_state_dict`` weights, same image and clicks."""
    golden = np.load(Path(__file__).parent / "dynamite_golden_official.npz")[config]
    model = build_model(config)
    model.set_resize(*dg.RESIZE)
    with torch.no_grad():
        dg.fill_state_dict(model.state_dict())
    feats = model.encode_image(dg.golden_image())
    fg, bg = dg.golden_clicks(feats.resized_size)
    logits = model.predict_logits(feats, fg, bg, dg.MAX_TIMESTAMP)
    assert logits.shape == (sum(dg.CLICKS_PER_OBJECT) + len(bg) + 9, *dg.IMAGE_SHAPE[:2])
    # float32 summation order (thread count) moves HRNet's deep BN chain by ~1e-3.
    np.testing.assert_allclose(dg.logits_sample(logits), golden, rtol=2e-3, atol=2e-3)
