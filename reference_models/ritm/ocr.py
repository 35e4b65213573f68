"""Object-contextual representations (OCR) head of HRNet+OCR, with the official module names.

With one class (``num_classes=1``, as in every RITM model) the object-attention softmax
runs over a single object, so every pixel receives ``f_up(f_down(context))`` and the
``f_pixel``/``f_object`` branches cannot change the output; they are still computed, as
officially, and their weights still load.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SpatialGather", "SpatialOCR"]


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    """1×1 bias-free conv, then ``Sequential(BN, ReLU)`` (the official nesting)."""
    return [nn.Conv2d(cin, cout, 1, bias=False), nn.Sequential(nn.BatchNorm2d(cout), nn.ReLU(True))]


class SpatialGather(nn.Module):
    """Soft object regions → one context vector per class.

    ``forward(feats (B, C, h, w), logits (B, K, h, w)) -> (B, C, K, 1)``: softmax of the
    logits over all ``h·w`` positions, then the weighted sum of the features.
    """

    def forward(self, feats: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        b, k = logits.shape[:2]
        probs = F.softmax(logits.reshape(b, k, -1), dim=2)
        feats = feats.reshape(b, feats.size(1), -1).permute(0, 2, 1)
        return torch.matmul(probs, feats).permute(0, 2, 1).unsqueeze(3)


class ObjectAttentionBlock(nn.Module):
    """Pixel-to-object attention: queries from pixels, keys/values from object contexts."""

    def __init__(self, in_channels: int, key_channels: int):
        super().__init__()
        self.key_channels = key_channels
        self.f_pixel = nn.Sequential(*_conv_bn_relu(in_channels, key_channels),
                                     *_conv_bn_relu(key_channels, key_channels))
        self.f_object = nn.Sequential(*_conv_bn_relu(in_channels, key_channels),
                                      *_conv_bn_relu(key_channels, key_channels))
        self.f_down = nn.Sequential(*_conv_bn_relu(in_channels, key_channels))
        self.f_up = nn.Sequential(*_conv_bn_relu(key_channels, in_channels))

    def forward(self, x: torch.Tensor, proxy: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        query = self.f_pixel(x).reshape(b, self.key_channels, -1).permute(0, 2, 1)
        key = self.f_object(proxy).reshape(b, self.key_channels, -1)
        value = self.f_down(proxy).reshape(b, self.key_channels, -1).permute(0, 2, 1)
        sim = F.softmax((self.key_channels ** -0.5) * torch.matmul(query, key), dim=-1)
        context = torch.matmul(sim, value).permute(0, 2, 1).contiguous()
        return self.f_up(context.reshape(b, self.key_channels, h, w))


class SpatialOCR(nn.Module):
    """Augment each pixel with its object context: ``cat[context, feats]`` → 1×1 conv, BN, ReLU.

    ``forward(feats (B, C, h, w), proxy (B, C, K, 1)) -> (B, C, h, w)``; the trailing
    ``Dropout2d`` is inactive in eval mode.
    """

    def __init__(self, in_channels: int, key_channels: int, dropout: float = 0.05):
        super().__init__()
        self.object_context_block = ObjectAttentionBlock(in_channels, key_channels)
        self.conv_bn_dropout = nn.Sequential(*_conv_bn_relu(2 * in_channels, in_channels),
                                             nn.Dropout2d(dropout))

    def forward(self, feats: torch.Tensor, proxy: torch.Tensor) -> torch.Tensor:
        context = self.object_context_block(feats, proxy)
        return self.conv_bn_dropout(torch.cat([context, feats], 1))
