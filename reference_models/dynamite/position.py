"""Sine positional encodings of DynaMITe: pixel grids and (y, x, t) click coordinates.

Both use the same per-value code: a value v gives 128 numbers, element i being
sin(a_i) for even i and cos(a_i) for odd i, with a_i = v / 10000^(2*floor(i/2)/128)
(interleaved sin/cos pairs of the same frequency).
"""

from __future__ import annotations

import math

import torch

__all__ = ["position_embedding_sine", "sine_code", "spatiotemporal_encoding"]

_TEMPERATURE = 10000.0


def sine_code(
    angles: torch.Tensor, num_feats: int = 128, negative_off: bool = False
) -> torch.Tensor:
    """Interleaved sin/cos code of ``angles`` (any shape S, float32) -> (*S, num_feats).

    negative_off: where ``angles / dim_t`` is negative (padding queries), use 0 in the
        sin slots and pi/2 in the cos slots, i.e. a vector of zeros (the official rule).
    """
    i = torch.arange(num_feats, dtype=torch.float32, device=angles.device)
    dim_t = _TEMPERATURE ** (2 * torch.div(i, 2, rounding_mode="floor") / num_feats)
    a = angles[..., None] / dim_t
    sin_part, cos_part = a[..., 0::2], a[..., 1::2]
    if negative_off:
        sin_part = torch.where(sin_part < 0, torch.zeros_like(sin_part), sin_part)
        cos_part = torch.where(cos_part < 0, torch.full_like(cos_part, math.pi / 2), cos_part)
    return torch.stack((sin_part.sin(), cos_part.cos()), dim=-1).flatten(-2)


def position_embedding_sine(
    height: int, width: int, num_feats: int = 128, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """``PositionEmbeddingSine(num_feats, normalize=True)`` of an (height, width) map.

    Row r maps to (r+1)/(height+1e-6)*2pi and column c to (c+1)/(width+1e-6)*2pi.
    Returns (2*num_feats, height, width) float32: the y code first, then the x code.
    """
    eps, scale = 1e-6, 2 * math.pi
    ys = torch.arange(1, height + 1, dtype=torch.float32, device=device) / (height + eps) * scale
    xs = torch.arange(1, width + 1, dtype=torch.float32, device=device) / (width + eps) * scale
    code_y = sine_code(ys, num_feats)[:, None, :].expand(height, width, num_feats)
    code_x = sine_code(xs, num_feats)[None, :, :].expand(height, width, num_feats)
    return torch.cat((code_y, code_x), dim=-1).permute(2, 0, 1)


def spatiotemporal_encoding(coords: torch.Tensor, num_feats: int = 128) -> torch.Tensor:
    """Code of normalised click coordinates: (Q, 3) float32 (y, x, t), each in [0, 1]
    or -1 for padding -> (Q, 3*num_feats) = [code(y), code(x), code(t)], each scaled by 2pi.
    """
    angles = coords * (2 * math.pi)
    parts = [sine_code(angles[:, k], num_feats, negative_off=True) for k in range(3)]
    return torch.cat(parts, dim=-1)
