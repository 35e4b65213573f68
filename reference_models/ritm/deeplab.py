"""DeepLabV3+ on a dilated ResNet-v1b: RITM's ResNet-34/50 baselines (official module names).

``DeepLabV3Plus`` = backbone → ASPP (rates 12/24/36 + image pooling) on ``c4``, upsampled to
``c1`` (stride 4) and concatenated with a 32-channel projection of ``c1``, then two separable
convs and a 1×1 conv to ``ch`` channels. Tensors are ``(B, C, H, W)`` float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from isbench.reference_models.ritm.blocks import ResNetV1b
from torch import nn

__all__ = ["DeepLabV3Plus", "SepConvHead"]


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=True)


class SeparableConv2d(nn.Module):
    """Depthwise k×k conv, pointwise 1×1 conv (both bias-free), BN, ReLU (keys ``body.0-2``)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, padding: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cin, kernel, 1, padding, bias=False, groups=cin),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SepConvHead(nn.Module):
    """``num_layers`` separable convs to ``mid`` channels, then a 1×1 conv to ``num_outputs``."""

    def __init__(self, num_outputs: int, in_channels: int, mid_channels: int, num_layers: int):
        super().__init__()
        layers = [SeparableConv2d(in_channels if i == 0 else mid_channels, mid_channels)
                  for i in range(num_layers)]
        self.layers = nn.Sequential(*layers, nn.Conv2d(mid_channels, num_outputs, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def _conv_bn_relu(cin: int, cout: int, kernel: int = 1, dilation: int = 1) -> nn.Sequential:
    pad = dilation if kernel == 3 else 0
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=pad, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class _AsppPooling(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.gap = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), *_conv_bn_relu(cin, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _resize(self.gap(x), x.shape[2:])


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1×1, three dilated 3×3, image pooling → 1×1 project."""

    def __init__(self, cin: int, cout: int, rates=(12, 24, 36), dropout: float = 0.5):
        super().__init__()
        self.concurent = nn.ModuleList([_conv_bn_relu(cin, cout)]
                                       + [_conv_bn_relu(cin, cout, 3, r) for r in rates]
                                       + [_AsppPooling(cin, cout)])
        project = list(_conv_bn_relu(5 * cout, cout))
        self.project = nn.Sequential(*project, *([nn.Dropout(dropout)] if dropout > 0 else []))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.concurent], 1))


class _SkipProject(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.skip_project = _conv_bn_relu(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip_project(x)


class _DeepLabHead(nn.Module):
    def __init__(self, cin: int, ch: int):
        super().__init__()
        self.block = nn.Sequential(SeparableConv2d(cin, ch), SeparableConv2d(ch, ch),
                                   nn.Conv2d(ch, ch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class DeepLabV3Plus(nn.Module):
    """DeepLabV3+ with a dilated ResNet-``depth`` (34 or 50) backbone and ``ch`` channels.

    ``forward(x (B, 3, H, W), additional (B, 64, H/2, W/2) or None) -> (B, ch, H/4, W/4)``.
    """

    def __init__(self, depth: int, ch: int = 256, project_dropout: float = 0.5):
        super().__init__()
        self.backbone = ResNetV1b(depth)
        c1_ch, c4_ch = (64, 512) if depth == 34 else (256, 2048)
        self.head = _DeepLabHead(ch + 32, ch)
        self.skip_project = _SkipProject(c1_ch, 32)
        self.aspp = ASPP(c4_ch, ch, dropout=project_dropout)

    def forward(self, x: torch.Tensor, additional: torch.Tensor | None = None) -> torch.Tensor:
        c1, _, _, c4 = self.backbone(x, additional)
        c1 = self.skip_project(c1)
        x = _resize(self.aspp(c4), c1.shape[2:])
        return self.head(torch.cat((x, c1), 1))
