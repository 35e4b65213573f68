"""SimpleClick's network: click disks, symmetric patch embeddings, ViT, simple pyramid, MLP head.

Input (B, 4, H, W): RGB in [0, 1] plus the previous-mask probability; clicks as
(B, 2N, 3) rows ``(y, x, index)`` in network-input pixels, positives first, padding
rows ``(-1, -1, -1)``. Output: (B, 1, H, W) logits. The coordinate map
[prev, positive disks, negative disks] is patch-embedded exactly like the image
and the two token sets are added (§2.2 of ``specs/simpleclick.md``); the trunk's
token grid goes through the simple feature pyramid (strides 4, 8, 16, 32 for
p16) and the SegFormer-style all-MLP head, whose stride-4 logits are upsampled
bilinearly (align_corners=True) to the input size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from isbench.reference_models.simpleclick.vit import PatchEmbed, VisionTransformer
from torch import nn

__all__ = ["ConvModule", "PlainVitModel", "SegHead", "SimpleFPN", "disk_maps"]


def disk_maps(points: torch.Tensor, rows: int, cols: int, radius: float) -> torch.Tensor:
    """Binary click disks: (B, 2N, 3) float points -> (B, 2, rows, cols) float32 in {0, 1}.

    Channel 0 = union of the positive clicks (rows 0..N-1), channel 1 = negatives.
    A pixel (i, j) is in a click's disk iff (i - y)^2 + (j - x)^2 <= radius^2, computed in
    float32 on the integer pixel grid; rows whose max(y, x) < 0 are padding and ignored.
    """
    b, two_n, _ = points.shape
    yx = points[..., :2].to(torch.float32)
    grid_r = torch.arange(rows, dtype=torch.float32, device=points.device)
    grid_c = torch.arange(cols, dtype=torch.float32, device=points.device)
    dr = (grid_r.view(1, 1, rows, 1) - yx[..., 0].view(b, two_n, 1, 1)) ** 2
    dc = (grid_c.view(1, 1, 1, cols) - yx[..., 1].view(b, two_n, 1, 1)) ** 2
    dist = dr + dc
    invalid = yx.max(dim=2).values < 0
    dist = dist.masked_fill(invalid.view(b, two_n, 1, 1), 1e6)
    dist = dist.view(b, 2, two_n // 2, rows, cols).min(dim=2).values
    return (dist <= radius * radius).to(torch.float32)


class SimpleFPN(nn.Module):
    """Four maps from one (B, C, g, g) token map: up x4, up x2, same, down x2 (GroupNorm(1, .))."""

    def __init__(self, in_dim: int = 768, out_dims: Sequence[int] = (128, 256, 512, 1024)):
        super().__init__()
        c4, c8, c32 = max(2 * out_dims[0], in_dim // 2), max(out_dims[1], in_dim // 2), \
            max(out_dims[3], 2 * in_dim)
        self.down_4 = nn.Sequential(
            nn.ConvTranspose2d(in_dim, c4, 2, stride=2), nn.GroupNorm(1, c4), nn.GELU(),
            nn.ConvTranspose2d(c4, c4 // 2, 2, stride=2), nn.GroupNorm(1, c4 // 2),
            nn.Conv2d(c4 // 2, out_dims[0], 1), nn.GroupNorm(1, out_dims[0]), nn.GELU(),
        )
        self.down_8 = nn.Sequential(
            nn.ConvTranspose2d(in_dim, c8, 2, stride=2), nn.GroupNorm(1, c8),
            nn.Conv2d(c8, out_dims[1], 1), nn.GroupNorm(1, out_dims[1]), nn.GELU(),
        )
        self.down_16 = nn.Sequential(
            nn.Conv2d(in_dim, out_dims[2], 1), nn.GroupNorm(1, out_dims[2]), nn.GELU(),
        )
        self.down_32 = nn.Sequential(
            nn.Conv2d(in_dim, c32, 2, stride=2), nn.GroupNorm(1, c32),
            nn.Conv2d(c32, out_dims[3], 1), nn.GroupNorm(1, out_dims[3]), nn.GELU(),
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.down_4(x), self.down_8(x), self.down_16(x), self.down_32(x)]


class ConvModule(nn.Module):
    """1x1 Conv (with bias) + ReLU, no norm: mmcv's ConvModule as the official head builds it."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x))


def _up_block(ch: int) -> nn.Sequential:
    """ConvT(ch -> ch/2, k2 s2), GN, Conv1x1, GN, GELU: the head's optional x2 upsampler."""
    half = ch // 2
    return nn.Sequential(
        nn.ConvTranspose2d(ch, half, 2, stride=2), nn.GroupNorm(1, half),
        nn.Conv2d(half, half, 1), nn.GroupNorm(1, half), nn.GELU(),
    )


class SegHead(nn.Module):
    """All-MLP head: per-level 1x1 conv + ReLU, resize to the 1/4 map, fuse, classify.

    Arguments are the official ``head_params`` names (``in_index`` must be 0..3 in order).
    ``upsample`` 'x1' (released), 'x2' or 'x4' selects how many ``up_conv`` blocks run;
    both are always built because official checkpoints hold their weights.
    """

    def __init__(self, in_channels: Sequence[int], channels: int, num_classes: int = 1,
                 upsample: str = "x1", align_corners: bool = False):
        super().__init__()
        if upsample not in ("x1", "x2", "x4"):
            raise ValueError(f"SimpleClick head: upsample must be x1, x2 or x4, got {upsample!r}")
        width = {"x1": 1, "x2": 2, "x4": 4}[upsample] * channels
        self.upsample, self.align_corners = upsample, align_corners
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)  # first, as in the official order
        self.convs = nn.ModuleList([ConvModule(c, width) for c in in_channels])
        self.fusion_conv = ConvModule(width * len(in_channels), width)
        self.up_conv1 = _up_block(width)
        self.up_conv2 = _up_block(width // 2)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """feats: 4 maps, finest first -> (B, num_classes, h4, w4) logits (x2/x4: finer)."""
        size = feats[0].shape[2:]
        outs = [F.interpolate(conv(f), size=size, mode="bilinear", align_corners=self.align_corners)
                for conv, f in zip(self.convs, feats)]
        x = self.fusion_conv(torch.cat(outs, dim=1))
        if self.upsample == "x2":
            x = self.up_conv1(x)
        elif self.upsample == "x4":
            x = self.up_conv2(self.up_conv1(x))
        return self.conv_seg(x)


class PlainVitModel(nn.Module):
    """The whole SimpleClick network (the official ``PlainVitModel``, with_prev_mask=True).

    norm_radius: disk radius in network-input pixels. mean, std: RGB normalisation.
    """

    def __init__(self, backbone: VisionTransformer, neck: SimpleFPN, head: SegHead,
                 norm_radius: float = 5, mean: Sequence[float] = (0.485, 0.456, 0.406),
                 std: Sequence[float] = (0.229, 0.224, 0.225)):
        super().__init__()
        pe = backbone.patch_embed
        img_size = (pe.grid_size[0] * pe.patch_size[0], pe.grid_size[1] * pe.patch_size[1])
        self.patch_embed_coords = PatchEmbed(img_size, pe.patch_size, 3,
                                             backbone.pos_embed.shape[-1])
        self.backbone, self.neck, self.head = backbone, neck, head
        self.norm_radius = norm_radius
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def input_size(self) -> tuple[int, int]:
        """(H, W) in pixels the network currently runs at (grid * patch)."""
        pe = self.backbone.patch_embed
        return pe.grid_size[0] * pe.patch_size[0], pe.grid_size[1] * pe.patch_size[1]

    def set_input_size(self, size: tuple[int, int]) -> None:
        """Run at (H, W) pixels from now on (bicubic position-embedding re-interpolation)."""
        ph, pw = self.backbone.patch_embed.patch_size
        if size[0] % ph or size[1] % pw:
            raise ValueError(f"SimpleClick: input size {size} must be a multiple of the patch "
                             f"size {(ph, pw)}")
        self.backbone.resize_pos_embed((size[0] // ph, size[1] // pw))
        self.backbone.window_layout()

    def forward(self, image: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """image: (B, 4, H, W) float32, points: (B, 2N, 3) -> (B, 1, H, W) float32 logits."""
        rgb = (image[:, :3] - self.mean) / self.std
        h, w = image.shape[2:]
        coords = torch.cat([image[:, 3:], disk_maps(points, h, w, self.norm_radius)], dim=1)
        tokens = self.backbone.forward_tokens(rgb, self.patch_embed_coords(coords))
        gh, gw = self.backbone.patch_embed.grid_size
        fmap = tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], gh, gw)
        logits = self.head(self.neck(fmap))
        return F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=True)
