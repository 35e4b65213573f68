"""DynaMITe's pixel decoder: Mask2Former's multi-scale deformable-attention encoder,
an FPN extension to stride 4 and the feature-fusion (``refine``) module.

Runs once per image. Input: backbone maps {name: (B, C, H/s, W/s) float32}. Output:
``mask_features`` (B, 256, H/4, W/4) and ``multi_scale_features`` [1/32, 1/16, 1/8]
(each (B, 256, h, w)), H, W being the padded input size. Deformable attention is the
pure-PyTorch ``grid_sample`` formulation (bilinear, zero padding, align_corners=False).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from isbench.reference_models.dynamite.position import position_embedding_sine
from torch import nn

__all__ = ["MSDeformAttn", "MSDeformAttnPixelDecoder", "num_fpn_levels"]


class MSDeformAttn(nn.Module):
    """Multi-scale deformable attention (d_model 256, n_levels, 8 heads, 4 points)."""

    def __init__(self, d_model: int = 256, n_levels: int = 3, n_heads: int = 8, n_points: int = 4):
        super().__init__()
        self.n_levels, self.n_heads, self.n_points = n_levels, n_heads, n_points
        self.sampling_offsets = nn.Linear(d_model, n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model, n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)

    def forward(self, query, reference_points, value_in, shapes: list[tuple[int, int]]):
        """query, value_in: (B, L, C); reference_points: (B, L, n_levels, 2) as (x, y) in [0, 1];
        shapes: per level (h, w), levels concatenated in that order along L. Returns (B, L, C).
        """
        b, lq, c = query.shape
        heads, levels, points = self.n_heads, self.n_levels, self.n_points
        value = self.value_proj(value_in).view(b, -1, heads, c // heads)
        offsets = self.sampling_offsets(query).view(b, lq, heads, levels, points, 2)
        weights = self.attention_weights(query).view(b, lq, heads, levels * points)
        weights = weights.softmax(-1).view(b, lq, heads, levels, points)
        normalizer = torch.tensor(
            [[w, h] for h, w in shapes], dtype=query.dtype, device=query.device
        )
        locations = (
            reference_points[:, :, None, :, None, :]
            + offsets / normalizer[None, None, None, :, None, :]
        )
        grids = 2 * locations - 1
        sampled = []
        start = 0
        for lvl, (h, w) in enumerate(shapes):
            v = (
                value[:, start : start + h * w]
                .flatten(2)
                .transpose(1, 2)
                .reshape(b * heads, c // heads, h, w)
            )
            start += h * w
            g = grids[:, :, :, lvl].transpose(1, 2).flatten(0, 1)  # (B*heads, Lq, points, 2)
            sampled.append(
                F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False)
            )
        attn = weights.transpose(1, 2).reshape(b * heads, 1, lq, levels * points)
        out = (torch.stack(sampled, dim=-2).flatten(-2) * attn).sum(-1)
        return self.output_proj(out.view(b, c, lq).transpose(1, 2))


class _EncoderLayer(nn.Module):
    """Deformable self-attention + FFN 256->1024->256, both post-norm."""

    def __init__(self, d_model: int = 256, d_ffn: int = 1024, n_levels: int = 3):
        super().__init__()
        self.self_attn = MSDeformAttn(d_model, n_levels)
        self.norm1 = nn.LayerNorm(d_model)
        self.linear1 = nn.Linear(d_model, d_ffn)
        self.linear2 = nn.Linear(d_ffn, d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, src, pos, reference_points, shapes):
        src = self.norm1(src + self.self_attn(src + pos, reference_points, src, shapes))
        return self.norm2(src + self.linear2(F.relu(self.linear1(src))))


class _Encoder(nn.Module):
    def __init__(self, num_layers: int, n_levels: int):
        super().__init__()
        self.layers = nn.ModuleList(_EncoderLayer(n_levels=n_levels) for _ in range(num_layers))


class _DeformableTransformer(nn.Module):
    """Holds ``level_embed`` and the encoder, named as in the official state dict."""

    def __init__(self, num_layers: int = 6, n_levels: int = 3, d_model: int = 256):
        super().__init__()
        self.encoder = _Encoder(num_layers, n_levels)
        self.level_embed = nn.Parameter(torch.randn(n_levels, d_model))

    def forward(self, srcs: list[torch.Tensor]) -> list[torch.Tensor]:
        """srcs: per level (B, 256, h, w), lowest resolution first; returns the same shapes."""
        shapes = [tuple(s.shape[-2:]) for s in srcs]
        flat = torch.cat([s.flatten(2).transpose(1, 2) for s in srcs], dim=1)
        pos = torch.cat(
            [
                position_embedding_sine(h, w, device=flat.device).flatten(1).T
                + self.level_embed[lvl]
                for lvl, (h, w) in enumerate(shapes)
            ]
        )[None]
        refs = []
        for h, w in shapes:
            ry, rx = torch.meshgrid(
                torch.linspace(0.5, h - 0.5, h, device=flat.device) / h,
                torch.linspace(0.5, w - 0.5, w, device=flat.device) / w,
                indexing="ij",
            )
            refs.append(torch.stack((rx.reshape(-1), ry.reshape(-1)), -1))
        reference_points = torch.cat(refs)[None, :, None].expand(flat.shape[0], -1, len(shapes), 2)
        out = flat
        for layer in self.encoder.layers:
            out = layer(out, pos, reference_points, shapes)
        maps, start = [], 0
        for h, w in shapes:
            maps.append(
                out[:, start : start + h * w].transpose(1, 2).reshape(out.shape[0], -1, h, w)
            )
            start += h * w
        return maps


class _ConvNorm(nn.Module):
    """detectron2 ``Conv2d(..., bias=False, norm=GN)``: keys ``weight`` and ``norm.*``."""

    def __init__(self, cin: int, cout: int, kernel: int, relu: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin, kernel, kernel))
        nn.init.kaiming_uniform_(self.weight, a=1)
        self.norm = nn.GroupNorm(32, cout)
        self.relu = relu

    def forward(self, x):
        x = self.norm(F.conv2d(x, self.weight, padding=self.weight.shape[-1] // 2))
        return F.relu(x) if self.relu else x


class MSDeformAttnPixelDecoder(nn.Module):
    """The pixel decoder of every released config.

    in_channels: channels of the backbone maps, ordered as the backbone declares them
        (high to low resolution, e.g. res2..res5). The last three feed the deformable encoder.
    deform_layers: deformable-encoder layers (6 in every released config).
    num_fpn_levels: 1 for true strides (4 -> lateral level on the first map); HRNet's declared
        stride 1 gives int(log2(1) - log2(4)) = -2, i.e. the slice [:-2] = the first two maps.
    """

    def __init__(
        self,
        in_channels: list[int],
        num_fpn_levels: int = 1,
        conv_dim: int = 256,
        deform_layers: int = 6,
    ):
        super().__init__()
        self.input_proj = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, conv_dim, 1), nn.GroupNorm(32, conv_dim))
            for c in in_channels[1:][::-1]
        )
        self.transformer = _DeformableTransformer(deform_layers, n_levels=len(in_channels) - 1)
        self.mask_features = nn.Conv2d(conv_dim, conv_dim, 1)
        self.fpn_channels = in_channels[:num_fpn_levels]
        for idx, c in enumerate(self.fpn_channels):
            self.add_module(f"adapter_{idx + 1}", _ConvNorm(c, conv_dim, 1, relu=False))
            self.add_module(f"layer_{idx + 1}", _ConvNorm(conv_dim, conv_dim, 3, relu=True))
        self.refine = nn.ModuleList(
            nn.Conv2d(conv_dim, conv_dim, 3, padding=1) for _ in range(len(in_channels) - 1)
        )

    def forward(self, features: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """features: backbone maps in declared order -> (mask_features, multi_scale_features)."""
        srcs = [proj(f) for proj, f in zip(self.input_proj, features[1:][::-1])]
        out = self.transformer(srcs)  # [1/32, 1/16, 1/8]
        for idx in reversed(range(len(self.fpn_channels))):
            lateral = getattr(self, f"adapter_{idx + 1}")(features[idx])
            up = F.interpolate(
                out[-1], size=lateral.shape[-2:], mode="bilinear", align_corners=False
            )
            out.append(getattr(self, f"layer_{idx + 1}")(lateral + up))
        fused = self._fuse(out[::-1][1:4])
        fused = F.interpolate(fused, size=out[-1].shape[-2:], mode="bilinear", align_corners=False)
        return self.mask_features(fused + out[-1]), out[:3]

    def _fuse(self, maps: list[torch.Tensor]) -> torch.Tensor:
        """Sum of ``refine[i](maps[i])``, each upsampled by an integer factor to maps[0]'s size."""
        x = self.refine[0](maps[0])
        for conv, m in zip(self.refine[1:], maps[1:]):
            factor = x.shape[-2] // m.shape[-2]
            if factor * m.shape[-2] != x.shape[-2] or factor * m.shape[-1] != x.shape[-1]:
                raise RuntimeError(
                    f"fusion needs integer scale factors, got {m.shape} -> {x.shape}"
                )
            x = x + F.interpolate(
                conv(m), scale_factor=factor, mode="bilinear", align_corners=False
            )
        return x


def num_fpn_levels(declared_strides: list[int], common_stride: int = 4) -> int:
    """The official count int(log2(min stride of the encoder levels) - log2(common_stride))."""
    return int(math.log2(min(declared_strides)) - math.log2(common_stride))
