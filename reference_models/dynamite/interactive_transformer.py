"""DynaMITe's interactive transformer: click queries -> per-query mask logits.

Runs on every click, reusing the per-image ``multi_scale_features`` [1/32, 1/16, 1/8]
and ``mask_features`` (1/4) of the pixel decoder. Batch size 1 (evaluation).
Query order (= output channel order): the clicks of object 0 in order, object 1, ...,
then the background clicks in order, then the 9 static background queries.
Click coordinates are (y, x, t) in the resized, unpadded frame's pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from isbench.reference_models.dynamite.position import (
    position_embedding_sine,
    spatiotemporal_encoding,
)
from torch import nn

__all__ = [
    "DynamiteInteractiveTransformer",
    "normalised_click_coords",
    "ordered_clicks",
    "unmask_full_rows",
]

Coord = tuple[float, float, float]


def ordered_clicks(fg_coords: Sequence[Sequence[Coord]], bg_coords: Sequence[Coord]) -> list[Coord]:
    """All clicks in query order: object 0's clicks, object 1's, ..., then background clicks."""
    return [c for obj in fg_coords for c in obj] + list(bg_coords)


def normalised_click_coords(
    clicks: Sequence[Coord], height: int, width: int, max_timestamp: int
) -> torch.Tensor:
    """(Q, 3) float32 (y/height, x/width, t/max(max_timestamp, 500)), height/width = padded size."""
    t_norm = max(max_timestamp, 500)
    return torch.tensor(
        [[y / height, x / width, t / t_norm] for y, x, t in clicks], dtype=torch.float32
    )


def unmask_full_rows(attn_mask: torch.Tensor) -> torch.Tensor:
    """(B*heads, Q, L) bool, True = may not attend: rows masked everywhere become all False."""
    full = attn_mask.all(dim=-1, keepdim=True)
    return attn_mask & ~full


class SelfAttentionLayer(nn.Module):
    """q = k = x + pos, v = x; residual; LayerNorm (post-norm)."""

    def __init__(self, d_model: int = 256, nhead: int = 8):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x, pos):
        q = x + pos
        return self.norm(x + self.self_attn(q, q, value=x)[0])


class CrossAttentionLayer(nn.Module):
    """q = x + query_pos, k = memory + pos, v = memory; residual; LayerNorm."""

    def __init__(self, d_model: int = 256, nhead: int = 8):
        super().__init__()
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x, memory, pos, query_pos, attn_mask=None):
        out = self.multihead_attn(x + query_pos, memory + pos, value=memory, attn_mask=attn_mask)[0]
        return self.norm(x + out)


class FFNLayer(nn.Module):
    """Linear -> ReLU -> Linear, residual, LayerNorm."""

    def __init__(self, d_model: int = 256, dim_feedforward: int = 2048):
        super().__init__()
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x):
        return self.norm(x + self.linear2(F.relu(self.linear1(x))))


class MLP(nn.Module):
    """``num_layers`` Linear layers with ReLU between them (``mask_embed``)."""

    def __init__(self, dim: int = 256, num_layers: int = 3):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(dim, dim) for _ in range(num_layers))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == len(self.layers) - 1 else F.relu(layer(x))
        return x


class _Encoder(nn.Module):
    def __init__(self, num_layers: int, dim_feedforward: int):
        super().__init__()
        self.self_attention_layers = nn.ModuleList(SelfAttentionLayer() for _ in range(num_layers))
        self.cross_attention_layers = nn.ModuleList(
            CrossAttentionLayer() for _ in range(num_layers)
        )
        self.ffn_layers = nn.ModuleList(
            FFNLayer(dim_feedforward=dim_feedforward) for _ in range(num_layers)
        )


class _Decoder(nn.Module):
    """Pixel tokens attend to the queries (no self-attention), FFN 256->512->256."""

    def __init__(self, num_layers: int, d_model: int = 256):
        super().__init__()
        self.cross_attention_layers = nn.ModuleList(
            CrossAttentionLayer() for _ in range(num_layers)
        )
        self.ffn_layers = nn.ModuleList(
            FFNLayer(dim_feedforward=2 * d_model) for _ in range(num_layers)
        )

    def forward(self, mask_features, queries, query_pos):
        """mask_features (B, C, h, w); queries, query_pos (Q, B, C) -> refined (B, C, h, w)."""
        b, c, h, w = mask_features.shape
        pixel_pos = position_embedding_sine(h, w, device=mask_features.device).flatten(1).T[:, None]
        x = mask_features.flatten(2).permute(2, 0, 1)
        for cross, ffn in zip(self.cross_attention_layers, self.ffn_layers):
            x = ffn(cross(x, queries, pos=query_pos, query_pos=pixel_pos))
        return x.permute(1, 2, 0).reshape(b, c, h, w)


class DynamiteInteractiveTransformer(nn.Module):
    """Click-query encoder (9 masked-attention layers) + pixel decoder (5 layers) + mask head."""

    def __init__(
        self,
        hidden_dim: int = 256,
        enc_layers: int = 9,
        dec_layers: int = 5,
        dim_feedforward: int = 2048,
        num_static_bg: int = 9,
        nheads: int = 8,
    ):
        super().__init__()
        self.num_heads = nheads
        self.query_embed = nn.Parameter(torch.randn(hidden_dim))
        self.static_bg_pe = nn.Parameter(torch.randn(num_static_bg, hidden_dim))
        self.static_bg_query = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(num_static_bg, hidden_dim))
        )
        self.bg_query = nn.Parameter(torch.zeros(hidden_dim), requires_grad=False)
        self.encoder = _Encoder(enc_layers, dim_feedforward)
        self.decoder = _Decoder(dec_layers, hidden_dim)
        self.layer_norm = nn.LayerNorm(hidden_dim)
        self.queries_nonlinear_projection = nn.Sequential(
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim)
        )
        self.ca_qpos_sine_proj = nn.Linear(3 * (hidden_dim // 2), hidden_dim)
        self.level_embed = nn.Embedding(3, hidden_dim)
        self.mask_embed = MLP(hidden_dim, 3)

    def click_descriptors(self, multi_scale_features: list[torch.Tensor], clicks: Sequence[Coord]):
        """Mean over the 3 maps of the bilinear feature at each click -> (Q, C).

        Coordinates are divided by the padded size 8*(h, w) of the 1/8 map.
        """
        h8, w8 = multi_scale_features[-1].shape[-2:]
        yx = torch.tensor(
            [[y, x] for y, x, _ in clicks],
            dtype=torch.float32,
            device=multi_scale_features[0].device,
        )
        grid = torch.stack((yx[:, 1] / float(w8 * 8), yx[:, 0] / float(h8 * 8)), -1) * 2 - 1
        samples = [
            F.grid_sample(f, grid[None, :, None], mode="bilinear", align_corners=False)[
                0, :, :, 0
            ].T
            for f in multi_scale_features
        ]
        return torch.stack(samples, -1).mean(-1)

    def prediction_head(self, queries, mask_features, target_size):
        """queries (Q, 1, C) -> (logits (1, Q, h4, w4), attention mask (heads, Q, h*w) bool)."""
        embed = self.mask_embed(self.layer_norm(queries).transpose(0, 1))
        logits = torch.einsum("bqc,bchw->bqhw", embed, mask_features)
        small = F.interpolate(logits, size=target_size, mode="bilinear", align_corners=False)
        attn_mask = (
            small.sigmoid().flatten(2).unsqueeze(1).repeat(1, self.num_heads, 1, 1).flatten(0, 1)
            < 0.5
        )
        return logits, attn_mask

    def forward(
        self,
        multi_scale_features,
        mask_features,
        fg_coords,
        bg_coords,
        max_timestamp: int,
        with_aux: bool = False,
    ):
        """Per-query mask logits (1, Q, H/4, W/4) for Q = #clicks + 9 static background queries.

        fg_coords: per object, its clicks (y, x, t); bg_coords: background clicks (y, x, t).
        with_aux: also return the intermediate predictions (the initial queries' and each
            encoder layer's, same shape), used for deep supervision in training.
        """
        clicks = ordered_clicks(fg_coords, bg_coords)
        h4, w4 = mask_features.shape[-2:]
        coords = normalised_click_coords(clicks, 4 * h4, 4 * w4, max_timestamp).to(
            mask_features.device
        )
        click_pos = self.query_embed + self.ca_qpos_sine_proj(spatiotemporal_encoding(coords))
        query_pos = torch.cat((click_pos, self.static_bg_pe))[:, None]
        content = torch.cat(
            (self.click_descriptors(multi_scale_features, clicks), self.static_bg_query)
        )
        queries = self.queries_nonlinear_projection(content)[:, None]

        memory, memory_pos, sizes = [], [], []
        for lvl, f in enumerate(multi_scale_features):
            sizes.append(tuple(f.shape[-2:]))
            memory.append(
                (f.flatten(2) + self.level_embed.weight[lvl][None, :, None]).permute(2, 0, 1)
            )
            memory_pos.append(
                position_embedding_sine(*sizes[-1], device=f.device).flatten(1).T[:, None]
            )

        aux, attn_mask = self.prediction_head(queries, mask_features, sizes[0])
        aux_logits = [aux]
        enc = self.encoder
        for i in range(len(enc.cross_attention_layers)):
            lvl = i % 3
            queries = enc.cross_attention_layers[i](
                queries,
                memory[lvl],
                memory_pos[lvl],
                query_pos,
                attn_mask=unmask_full_rows(attn_mask),
            )
            queries = enc.self_attention_layers[i](queries, query_pos)
            queries = enc.ffn_layers[i](queries)
            aux, attn_mask = self.prediction_head(queries, mask_features, sizes[(i + 1) % 3])
            aux_logits.append(aux)
        refined = self.decoder(mask_features, queries, query_pos)
        logits = self.prediction_head(queries, refined, sizes[0])[0]
        return (logits, aux_logits) if with_aux else logits
