"""SimpleClick's plain ViT backbone: MAE-style blocks with window attention.

The backbone sees two patch embeddings summed token by token (the RGB image and
the 3-channel click/previous-mask map, see `model.py`), adds the position
embedding (its class-token slot 0 is kept for the state dict but unused) and runs
pre-norm transformer blocks. Most blocks attend inside non-overlapping windows of
224/patch tokens per side (the MAE pre-training size); every k-th block is
global, with k = 6 for depth 12 and depth / 4 otherwise. There is no final norm:
``fc_norm``, ``cls_token`` and the 1000-way ``head`` exist only so that official
checkpoints load strictly. Facts: ``specs/simpleclick.md`` §2.2-2.3, §2.8.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Attention", "Block", "Mlp", "PatchEmbed", "VisionTransformer"]

# Windows are as large as the pre-training image: 224 pixels per side.
_PRETRAIN_SIZE = 224


class PatchEmbed(nn.Module):
    """Non-overlapping patch projection: (B, C_in, H, W) -> (B, H/p * W/p, C) row-major tokens."""

    def __init__(self, img_size: tuple, patch_size: tuple, in_chans: int, embed_dim: int):
        super().__init__()
        self.patch_size = tuple(patch_size)
        self.grid_size = (img_size[0] // patch_size[0], img_size[1] // patch_size[1])
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=self.patch_size,
                              stride=self.patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    """Multi-head self-attention with a fused q, k, v projection (rows ordered q, k, v)."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, N, C) float32 -> (B, N, C)."""
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    """fc1 -> exact (erf) GELU -> fc2."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + Attn(LN(x)), then x + MLP(LN(x)); LayerNorm eps 1e-6."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, qkv_bias: bool):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """The plain ViT trunk; `forward_tokens` is the only forward SimpleClick uses.

    Constructor arguments are the official ``backbone_params`` names. ``global_attention``
    makes every block global (the official ``random_split=True`` branch is exactly that).
    """

    def __init__(self, img_size: tuple = (224, 224), patch_size: tuple = (16, 16),
                 in_chans: int = 3, num_classes: int = 1000, embed_dim: int = 768,
                 depth: int = 12, num_heads: int = 12, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, global_attention: bool = False):
        super().__init__()
        if depth % 4:
            raise ValueError(f"SimpleClick ViT: depth must be a multiple of 4, got {depth}")
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.grid_size[0] * self.patch_embed.grid_size[1]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.blocks = nn.Sequential(
            *[Block(embed_dim, num_heads, mlp_ratio, qkv_bias) for _ in range(depth)]
        )
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)
        self.global_every = 6 if depth == 12 else depth // 4
        self.global_attention = global_attention
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.pos_embed, std=0.02)

    def global_blocks(self) -> list[int]:
        """0-based indices of the blocks that attend over all tokens."""
        return [i for i in range(len(self.blocks))
                if self.global_attention or (i + 1) % self.global_every == 0]

    def window_layout(self) -> tuple[int, int, int, int]:
        """(windows per column, windows per row, window height, window width) in tokens.

        Raises ValueError when the token grid cannot be tiled exactly (e.g. 464 px at p16).
        """
        (gh, gw), (ph, pw) = self.patch_embed.grid_size, self.patch_embed.patch_size
        nh, nw = gh // (_PRETRAIN_SIZE // ph), gw // (_PRETRAIN_SIZE // pw)
        if nh < 1 or nw < 1 or gh % nh or gw % nw:
            raise ValueError(
                f"SimpleClick ViT: token grid {gh}x{gw} cannot be split into windows of about "
                f"{_PRETRAIN_SIZE // ph}x{_PRETRAIN_SIZE // pw} tokens"
            )
        return nh, nw, gh // nh, gw // nw

    def _partition(self, x: torch.Tensor, layout: tuple) -> torch.Tensor:
        """(B, gh*gw, C) -> (B*nh*nw, sh*sw, C), windows in row-major order."""
        nh, nw, sh, sw = layout
        b, _, c = x.shape
        x = x.view(b, nh, sh, nw, sw, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(b * nh * nw, sh * sw, c)

    def _merge(self, x: torch.Tensor, layout: tuple) -> torch.Tensor:
        """Inverse of `_partition`."""
        nh, nw, sh, sw = layout
        b, c = x.shape[0] // (nh * nw), x.shape[2]
        x = x.view(b, nh, nw, sh, sw, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(b, nh * sh * nw * sw, c)

    def forward_tokens(self, image: torch.Tensor, coord_tokens: torch.Tensor) -> torch.Tensor:
        """Run the trunk.

        image: (B, 3, H, W) normalised RGB with H, W = grid_size * patch_size.
        coord_tokens: (B, N, C) embedded click/previous-mask map (N = grid tokens).
        Returns (B, N, C) tokens in row-major grid order.
        """
        x = self.patch_embed(image) + coord_tokens
        x = x + self.pos_embed[:, 1:]
        global_set = set(self.global_blocks())
        layout = None if len(global_set) == len(self.blocks) else self.window_layout()
        windowed = False
        for i, block in enumerate(self.blocks):
            if (i in global_set) == windowed:
                x = self._merge(x, layout) if windowed else self._partition(x, layout)
                windowed = not windowed
            x = block(x)
        return x

    @torch.no_grad()
    def resize_pos_embed(self, grid: tuple[int, int]) -> None:
        """Re-interpolate the position embedding to a (rows, cols) token grid, in place.

        Bicubic, align_corners=False, on the patch slots only (slot 0 kept), as the official
        evaluation does once before running at a size other than the training size.
        """
        grid = (int(grid[0]), int(grid[1]))
        if grid == tuple(self.patch_embed.grid_size):
            return
        gh, gw = self.patch_embed.grid_size
        dim = self.pos_embed.shape[-1]
        tokens = self.pos_embed[:, 1:].reshape(1, gh, gw, dim).permute(0, 3, 1, 2)
        tokens = F.interpolate(tokens, size=grid, mode="bicubic", align_corners=False)
        tokens = tokens.permute(0, 2, 3, 1).flatten(1, 2)
        self.pos_embed = nn.Parameter(torch.cat([self.pos_embed[:, :1], tokens], dim=1),
                                      requires_grad=False)
        self.patch_embed.grid_size = grid
