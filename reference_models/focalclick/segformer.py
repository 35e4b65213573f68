"""SegFormer: the Mix Transformer (MiT) encoder and the all-MLP decoder, with ClickSEG's key names.

Reusable building block for FocalClick (full encoder + decoder, clicks injected through a
side patch embedding after stage 1) and FDRN (the same encoder truncated after stage 3).
State-dict keys match ClickSEG's ``mix_transformer.py`` / ``segformer_head.py``:
``patch_embed{1..4}``, ``patch_embed_side1``, ``block{1..4}.{i}``, ``norm{1..4}`` for the
encoder; ``linear_c{1..4}.proj``, ``linear_fuse.{conv,bn}``, ``linear_pred`` for the decoder.
Tensors are NCHW float32 unless said otherwise; tokens are (B, H*W, C) in row-major order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MIT_CONFIGS", "MiT", "MiTConfig", "SegFormerHead"]


@dataclass(frozen=True)
class MiTConfig:
    """One MiT size: per-stage widths, heads and depths; ``decoder_dim`` is SegFormer's E."""

    dims: tuple[int, int, int, int]
    heads: tuple[int, int, int, int]
    depths: tuple[int, int, int, int]
    decoder_dim: int
    sr_ratios: tuple[int, int, int, int] = (8, 4, 2, 1)
    mlp_ratio: int = 4


MIT_CONFIGS = {
    "b0": MiTConfig((32, 64, 160, 256), (1, 2, 5, 8), (2, 2, 2, 2), 256),
    "b1": MiTConfig((64, 128, 320, 512), (1, 2, 5, 8), (2, 2, 2, 2), 256),
    "b3": MiTConfig((64, 128, 320, 512), (1, 2, 5, 8), (3, 4, 18, 3), 512),
}

_LayerNorm = partial(nn.LayerNorm, eps=1e-6)


class OverlapPatchEmbed(nn.Module):
    """Strided conv + LayerNorm: (B, C_in, H, W) -> tokens (B, h*w, C), h, w."""

    def __init__(self, in_chans: int, dim: int, patch: int, stride: int):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, patch, stride, padding=patch // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        x = self.proj(x)
        h, w = x.shape[-2:]
        return self.norm(x.flatten(2).transpose(1, 2)), h, w


class EfficientAttention(nn.Module):
    """Multi-head self-attention whose keys/values come from an sr x sr-reduced map."""

    def __init__(self, dim: int, heads: int, sr_ratio: int):
        super().__init__()
        self.heads, self.sr_ratio = heads, sr_ratio
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        q = self.q(x).reshape(b, n, self.heads, c // self.heads).transpose(1, 2)
        if self.sr_ratio > 1:
            x = self.sr(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)
            x = self.norm(x)
        kv = self.kv(x).reshape(b, -1, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, kv[0], kv[1])
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class DWConv(nn.Module):
    """Depthwise 3x3 conv applied to tokens laid out as an h x w map."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        return self.dwconv(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)


class MixFFN(nn.Module):
    """fc1 -> depthwise 3x3 -> GELU -> fc2."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = DWConv(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        return self.fc2(self.act(self.dwconv(self.fc1(x), h, w)))


class Block(nn.Module):
    """Pre-norm transformer block (drop path is the identity at inference)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int, sr_ratio: int):
        super().__init__()
        self.norm1 = _LayerNorm(dim)
        self.attn = EfficientAttention(dim, heads, sr_ratio)
        self.norm2 = _LayerNorm(dim)
        self.mlp = MixFFN(dim, dim * mlp_ratio)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class MiT(nn.Module):
    """Mix Transformer encoder, optionally truncated and with FocalClick's side embedding.

    num_stages: how many of the 4 stages to build (FDRN's F_θ1 keeps 3).
    side_channels: if > 0, ``patch_embed_side1`` (7x7/4 conv + LN) embeds a side input of
        that many channels (FocalClick: [prev_mask, pos_disk, neg_disk]); its output is added
        to stage 1's output *after* that output was recorded (so c1 carries no clicks).
    """

    def __init__(self, cfg: MiTConfig, num_stages: int = 4, side_channels: int = 0):
        super().__init__()
        self.num_stages = num_stages
        ins = (3, *cfg.dims[:3])
        for i in range(num_stages):
            patch, stride = (7, 4) if i == 0 else (3, 2)
            self.add_module(f"patch_embed{i + 1}",
                            OverlapPatchEmbed(ins[i], cfg.dims[i], patch, stride))
        if side_channels:
            self.patch_embed_side1 = OverlapPatchEmbed(side_channels, cfg.dims[0], 7, 4)
        for i in range(num_stages):
            blocks = [Block(cfg.dims[i], cfg.heads[i], cfg.mlp_ratio, cfg.sr_ratios[i])
                      for _ in range(cfg.depths[i])]
            self.add_module(f"block{i + 1}", nn.ModuleList(blocks))
            self.add_module(f"norm{i + 1}", _LayerNorm(cfg.dims[i]))

    def run_stage(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Stage i (0-based): patch embed, blocks, norm; (B, C_in, H, W) -> (B, C_i, h, w)."""
        x, h, w = getattr(self, f"patch_embed{i + 1}")(x)
        for blk in getattr(self, f"block{i + 1}"):
            x = blk(x, h, w)
        x = getattr(self, f"norm{i + 1}")(x)
        return x.transpose(1, 2).reshape(x.shape[0], -1, h, w)

    def embed_side(self, side: torch.Tensor) -> torch.Tensor:
        """(B, side_channels, H, W) -> (B, C_1, H/4, W/4) side embedding."""
        x, h, w = self.patch_embed_side1(side)
        return x.transpose(1, 2).reshape(x.shape[0], -1, h, w)

    def forward(self, x: torch.Tensor, side: torch.Tensor | None = None) -> list[torch.Tensor]:
        """(B, 3, H, W) normalised RGB -> per-stage maps at strides 4, 8, 16, 32."""
        outs = []
        for i in range(self.num_stages):
            x = self.run_stage(i, x)
            outs.append(x)
            if i == 0 and side is not None:
                x = x + self.embed_side(side)
        return outs


class _Linear(nn.Module):
    """Per-stage token projection (ClickSEG's ``MLP``, key ``proj``)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        return self.proj(x.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, -1, h, w)


class _ConvBNReLU(nn.Module):
    """mmcv ``ConvModule`` as SegFormer uses it: bias-free 1x1 conv, BN (key ``bn``), ReLU."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class SegFormerHead(nn.Module):
    """All-MLP decoder: 4 stage maps -> (logits (B,1,H/4,W/4), feature (B,E,H/4,W/4))."""

    def __init__(self, cfg: MiTConfig):
        super().__init__()
        e = cfg.decoder_dim
        for i, dim in enumerate(cfg.dims):
            self.add_module(f"linear_c{i + 1}", _Linear(dim, e))
        self.linear_fuse = _ConvBNReLU(4 * e, e)
        self.linear_pred = nn.Conv2d(e, 1, 1)

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        size = feats[0].shape[-2:]
        maps = []
        for i in (3, 2, 1, 0):  # concatenation order [c4, c3, c2, c1]
            m = getattr(self, f"linear_c{i + 1}")(feats[i])
            if i:
                m = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
            maps.append(m)
        feature = self.linear_fuse(torch.cat(maps, dim=1))
        return self.linear_pred(feature), feature
