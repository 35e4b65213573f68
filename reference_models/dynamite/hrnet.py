"""HRNet-W32 backbone in the official DynaMITe (``HigherResolutionNet``) layout.

Stem: two 3x3/2 convs + BN + ReLU, ``layer1`` = 4 bottlenecks (64 -> 256). Stages 2-4 have
1 / 4 / 3 modules of 2 / 3 / 4 branches (32, 64, 128, 256 channels, 4 basic blocks each).
Plain ``BatchNorm2d`` (eval mode). Input (B, 3, H, W); output p1..p4 of (B, C_i, H/2^(i+2),
W/2^(i+2)). The official code declares stride 1 for all four maps; the pixel decoder
reproduces its consequences (see ``pixel_decoder.num_fpn_levels``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HRNetW32"]


def _conv_bn(cin: int, cout: int, kernel: int, stride: int, relu: bool) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([nn.ReLU()] if relu else []))


class _BasicBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + x)


class _Bottleneck(nn.Module):
    def __init__(self, cin: int, planes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = _conv_bn(cin, planes * 4, 1, 1, False) if cin != planes * 4 else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class _HRModule(nn.Module):
    """Parallel branches of basic blocks, then every branch fused into every other.

    fuse_layers[i][j]: j > i 1x1 conv + BN then nearest upsampling by 2^(j-i) (cropped);
    j < i a chain of i-j stride-2 3x3 conv + BN (ReLU between, not after the last).
    """

    def __init__(self, channels: list[int], blocks: int = 4):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*(_BasicBlock(c) for _ in range(blocks))) for c in channels
        )
        fuse = []
        for i, ci in enumerate(channels):
            row = []
            for j, cj in enumerate(channels):
                if j > i:
                    row.append(_conv_bn(cj, ci, 1, 1, relu=False))
                elif j == i:
                    row.append(None)
                else:
                    steps = [_conv_bn(cj, cj, 3, 2, relu=True) for _ in range(i - j - 1)]
                    row.append(nn.Sequential(*steps, _conv_bn(cj, ci, 3, 2, relu=False)))
            fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(1, len(xs)):
                if j == i:
                    y = y + xs[j]
                elif j > i:
                    z = F.interpolate(row[j](xs[j]), scale_factor=2 ** (j - i), mode="nearest")
                    y = y + z[:, :, : y.shape[2], : y.shape[3]]
                else:
                    y = y + row[j](xs[j])
            out.append(F.relu(y))
        return out


def _transition(prev: list[int], cur: list[int]) -> nn.ModuleList:
    """Existing branches: 3x3 conv if the width changes (else None); new branch: 3x3/2 chain."""
    layers = []
    for i, c in enumerate(cur):
        if i < len(prev):
            layers.append(_conv_bn(prev[i], c, 3, 1, relu=True) if prev[i] != c else None)
        else:
            steps = [
                _conv_bn(prev[-1], c if k == i - len(prev) else prev[-1], 3, 2, relu=True)
                for k in range(i + 1 - len(prev))
            ]
            layers.append(nn.Sequential(*steps))
    return nn.ModuleList(layers)


class HRNetW32(nn.Module):
    """HRNet-W32 with the official module names (conv1, bn1, ..., stage4)."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256), modules=(1, 4, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.layer1 = nn.Sequential(*(_Bottleneck(64 if b == 0 else 256, 64) for b in range(4)))
        prev = [256]
        for s, n_modules in enumerate(modules):
            cur = list(widths[: s + 2])
            self.add_module(f"transition{s + 1}", _transition(prev, cur))
            self.add_module(
                f"stage{s + 2}", nn.Sequential(*(_HRModule(cur) for _ in range(n_modules)))
            )
            prev = cur

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer1(F.relu(self.bn2(self.conv2(x))))
        ys = [x]
        for s in range(3):
            transition = getattr(self, f"transition{s + 1}")
            # As the official code: a transition always reads the last (lowest-resolution) map.
            xs = [ys[i] if t is None else t(ys[-1]) for i, t in enumerate(transition)]
            for module in getattr(self, f"stage{s + 2}"):
                xs = module(xs)
            ys = xs
        return ys
