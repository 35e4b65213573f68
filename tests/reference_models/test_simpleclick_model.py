"""SimpleClick network: official keys/shapes, window schedule, disks, input encoding."""

from pathlib import Path

import pytest
import torch
from isbench.reference_models.simpleclick.build import VARIANTS, build_model, official_params
from isbench.reference_models.simpleclick.model import disk_maps
from isbench.reference_models.simpleclick.vit import VisionTransformer
from torch import nn

# copies of specs/simpleclick_keys/*.tsv (generated from the official model code)
SPECS = Path(__file__).parent / "simpleclick_keys"
TSV = {"vit-xt": "vit_xtiny448.tsv", "vit-b": "vit_base448.tsv", "vit-l": "vit_large448.tsv",
       "vit-h": "vit_huge448.tsv"}
# specs/simpleclick.md §1.5 (exact parameter counts) and §2.3 (global blocks, 0-based)
PARAMS = {"vit-xt": 4_053_577, "vit-b": 98_025_513, "vit-l": 324_206_377, "vit-h": 662_184_793}
GLOBAL = {"vit-xt": [1, 3, 5, 7], "vit-b": [5, 11], "vit-l": [5, 11, 17, 23],
          "vit-h": [7, 15, 23, 31]}


def _meta_net(variant):
    with torch.device("meta"):
        return build_model(official_params(variant))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_state_dict_matches_official_keys_shapes_dtypes(variant):
    path = SPECS / TSV[variant]
    expected = [tuple(line.rstrip("\n").split("\t")) for line in path.read_text().splitlines(True)
                if line.strip() and not line.startswith("#")]
    net = _meta_net(variant)
    got = [(k, str(tuple(t.shape)), str(t.dtype)) for k, t in net.state_dict().items()]
    assert got == expected
    assert sum(p.numel() for p in net.parameters()) == PARAMS[variant]
    assert net.backbone.global_blocks() == GLOBAL[variant]


def test_window_layout_follows_the_224_pixel_windows():
    with torch.device("meta"):
        vit = VisionTransformer(img_size=(448, 448), embed_dim=8, depth=4, num_heads=2)
    assert vit.window_layout() == (2, 2, 14, 14)  # 28x28 tokens
    for size, layout in [((672, 672), (3, 3, 14, 14)), ((400, 400), (1, 1, 25, 25)),
                         ((480, 448), (2, 2, 15, 14))]:
        vit.patch_embed.grid_size = (size[0] // 16, size[1] // 16)
        assert vit.window_layout() == layout
    vit.patch_embed.grid_size = (29, 29)  # 464 px: 2 windows of 14 leave a row over
    with pytest.raises(ValueError, match="cannot be split"):
        vit.window_layout()
    with torch.device("meta"):  # official random_split=True: every block global
        split = VisionTransformer(embed_dim=8, depth=12, num_heads=2, global_attention=True)
    assert split.global_blocks() == list(range(12))
    with pytest.raises(ValueError, match="multiple of 4"):
        VisionTransformer(depth=6)


def test_windowed_block_attends_within_each_window_only():
    torch.manual_seed(0)
    vit = VisionTransformer(img_size=(448, 448), embed_dim=8, depth=8, num_heads=2).eval()
    assert vit.global_blocks() == [1, 3, 5, 7]
    first = vit.blocks[0]
    vit.blocks = nn.Sequential(first, *[nn.Identity() for _ in range(7)])
    image = torch.randn(1, 3, 448, 448)
    coords = torch.randn(1, 784, 8)
    with torch.no_grad():
        out = vit.forward_tokens(image, coords)
        tokens = vit.patch_embed(image) + coords + vit.pos_embed[:, 1:]
        grid = tokens.view(1, 28, 28, 8)
        expected = torch.empty_like(grid)
        for wr in range(2):
            for wc in range(2):
                win = grid[:, wr * 14:(wr + 1) * 14, wc * 14:(wc + 1) * 14].reshape(1, 196, 8)
                expected[:, wr * 14:(wr + 1) * 14, wc * 14:(wc + 1) * 14] = \
                    first(win).view(1, 14, 14, 8)
    torch.testing.assert_close(out, expected.view(1, 784, 8), rtol=1e-5, atol=1e-6)


def test_disk_maps_two_clicks_by_hand():
    # positive at (10, 12), negative at (3, 3.5) (float centre), one padding row per group
    points = torch.tensor([[[10, 12, 0], [-1, -1, -1], [3, 3.5, 1], [-1, -1, -1]]])
    maps = disk_maps(points, 20, 24, 5)
    assert maps.shape == (1, 2, 20, 24) and maps.dtype == torch.float32
    pos, neg = maps[0, 0], maps[0, 1]
    assert int(pos.sum()) == 81  # integer centre, r=5: 81 lattice points with d^2 <= 25
    assert pos[10, 17] == 1 and pos[13, 16] == 1 and pos[14, 16] == 0 and pos[10, 18] == 0
    assert pos[5, 12] == 1 and pos[4, 12] == 0
    # float centre x=3.5, clipped at row/col 0: rows i=0..8 (di=-3..5) hold
    # 8, 9, 9, 9, 9, 9, 8, 6, 0 columns (|j - 3.5| <= sqrt(25 - di^2), j >= 0) = 67
    assert int(neg.sum()) == 67
    assert neg[3, 0] == 1 and neg[3, 8] == 1 and neg[3, 9] == 0 and neg[7, 1] == 1 \
        and neg[7, 0] == 0 and neg[8, 3] == 0
    only_padding = disk_maps(torch.tensor([[[-1.0, -1, -1], [-1, -1, -1]]]), 8, 8, 5)
    assert only_padding.sum() == 0


def test_network_input_encoding_normalisation_and_channel_order():
    params = official_params("vit-xt")
    params["backbone_params"] = {**params["backbone_params"], "img_size": (224, 224)}
    torch.manual_seed(0)
    net = build_model(params).eval()
    seen = {}
    net.backbone.patch_embed.register_forward_hook(lambda m, i, o: seen.update(rgb=i[0]))
    net.patch_embed_coords.register_forward_hook(lambda m, i, o: seen.update(coords=i[0]))
    image = torch.zeros(1, 4, 224, 224)
    image[:, 0], image[:, 1], image[:, 2] = 1.0, 0.5, 0.0
    image[:, 3, :100] = 0.25  # previous-mask probability, not binarised
    points = torch.tensor([[[50.0, 60, 0], [-1, -1, -1], [150, 160, 1], [-1, -1, -1]]])
    with torch.no_grad():
        logits = net(image, points)
    assert logits.shape == (1, 1, 224, 224)
    rgb = seen["rgb"][0, :, 0, 0]
    by_hand = torch.tensor([(1 - .485) / .229, (.5 - .456) / .224, (0 - .406) / .225])
    torch.testing.assert_close(rgb, by_hand)
    coords = seen["coords"][0]
    assert coords[0, 0, 0] == 0.25 and coords[0, 150, 0] == 0  # channel 0: previous mask
    assert coords[1, 50, 60] == 1 and coords[1, 150, 160] == 0  # channel 1: positives
    assert coords[2, 150, 160] == 1 and coords[2, 50, 60] == 0  # channel 2: negatives


def test_pos_embed_resize_is_bicubic_on_patch_slots_only():
    torch.manual_seed(0)
    with torch.device("cpu"):
        vit = VisionTransformer(img_size=(224, 224), embed_dim=8, depth=4, num_heads=2)
    old = vit.pos_embed.detach().clone()
    vit.resize_pos_embed((21, 28))
    assert vit.pos_embed.shape == (1, 1 + 21 * 28, 8) and vit.patch_embed.grid_size == (21, 28)
    assert torch.equal(vit.pos_embed[:, 0], old[:, 0])
    grid = old[:, 1:].reshape(1, 14, 14, 8).permute(0, 3, 1, 2)
    ref = nn.functional.interpolate(grid, size=(21, 28), mode="bicubic", align_corners=False)
    torch.testing.assert_close(vit.pos_embed[:, 1:], ref.permute(0, 2, 3, 1).reshape(1, -1, 8))
