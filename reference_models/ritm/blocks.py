"""Residual blocks and the dilated ResNet-v1b backbone shared by RITM's HRNet and DeepLab.

Module names follow the official ``resnetv1b.py`` so state-dict keys match the released
checkpoints: a block is ``conv1, bn1, conv2, bn2[, conv3, bn3][, downsample.0/1]``; no
convolution in a block has a bias. Tensors are ``(B, C, H, W)`` float32.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BasicBlockV1b", "BottleneckV1b", "ResNetV1b"]


class BasicBlockV1b(nn.Module):
    """Two 3×3 convolutions plus the (optionally projected) input, then ReLU.

    ``dilation`` applies to the first conv, ``previous_dilation`` to the second
    (the official dilated-ResNet convention)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, previous_dilation: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=dilation, dilation=dilation,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=previous_dilation,
                               dilation=previous_dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class BottleneckV1b(nn.Module):
    """1×1 reduce, 3×3 (stride and dilation here), 1×1 expand ×4, plus the input, then ReLU."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, previous_dilation: int = 1):
        super().__init__()
        del previous_dilation  # accepted for a uniform block signature; unused, as officially
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dilation, dilation=dilation,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


def make_layer(block, inplanes: int, planes: int, blocks: int, stride: int = 1,
               dilation: int = 1) -> nn.Sequential:
    """``blocks`` residual blocks; the first one projects the input when its shape changes.

    With ``dilation`` 2 the first block uses dilation 1, with 4 it uses 2 (then all later
    blocks use ``dilation``), as the official dilated ResNet does.
    """
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
            nn.BatchNorm2d(planes * block.expansion),
        )
    first_dilation = {1: 1, 2: 1, 4: 2}.get(dilation)
    if first_dilation is None:
        raise ValueError(f"resnet layer dilation {dilation}: expected 1, 2 or 4")
    layers = [block(inplanes, planes, stride, first_dilation, downsample, dilation)]
    inplanes = planes * block.expansion
    layers += [block(inplanes, planes, 1, dilation, None, dilation) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class ResNetV1b(nn.Module):
    """Dilated ResNet-v1b trunk (output stride 8: layer3/4 keep stride 1, dilation 2/4).

    depth 34: 7×7 stem, basic blocks [3, 4, 6, 3] (``resnet34_v1b``);
    depth 50: deep 3×3 stem of width 64 → 128, bottlenecks [3, 4, 6, 3] (``resnet50_v1s``).
    ``forward(x, additional)`` adds ``additional`` (zero-padded in channels) after
    ``conv1→bn1→relu``, before the max-pool, and returns ``(c1, c2, c3, c4)``.
    """

    def __init__(self, depth: int):
        super().__init__()
        if depth == 34:
            block, stem = BasicBlockV1b, 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        elif depth == 50:
            block, stem = BottleneckV1b, 128
            self.conv1 = nn.Sequential(
                nn.Conv2d(3, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
                nn.Conv2d(64, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
                nn.Conv2d(64, 128, 3, 1, 1, bias=False),
            )
        else:
            raise ValueError(f"resnet depth {depth}: expected 34 or 50")
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        e = block.expansion
        self.layer1 = make_layer(block, stem, 64, 3)
        self.layer2 = make_layer(block, 64 * e, 128, 4, stride=2)
        self.layer3 = make_layer(block, 128 * e, 256, 6, dilation=2)
        self.layer4 = make_layer(block, 256 * e, 512, 3, dilation=4)

    def forward(self, x: torch.Tensor, additional: torch.Tensor | None = None):
        x = self.relu(self.bn1(self.conv1(x)))
        if additional is not None:
            pad = x.size(1) - additional.size(1)
            x = x + nn.functional.pad(additional, [0, 0, 0, 0, 0, pad], mode="constant", value=0)
        c1 = self.layer1(self.maxpool(x))
        c2 = self.layer2(c1)
        c3 = self.layer3(c2)
        return c1, c2, c3, self.layer4(c3)
