"""ResNet-50 backbone in detectron2's layout (``build_resnet_backbone`` defaults).

Stem: 7x7/2 conv + FrozenBN + ReLU + 3x3/2 max-pool. Bottleneck blocks with the stride
on the 3x3 conv (``STRIDE_IN_1X1 False``), FrozenBN everywhere (four buffers, no
``num_batches_tracked``). Input (B, 3, H, W) float32 normalised; output res2..res5 of
(B, 256*2^i, H/2^(i+2), W/2^(i+2)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FrozenBatchNorm2d", "ResNet50"]


class FrozenBatchNorm2d(nn.Module):
    """Affine batch norm with fixed statistics, stored as buffers (eps 1e-5)."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(channels))
        self.register_buffer("bias", torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels) - eps)

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]


class _ConvFrozenBN(nn.Module):
    """detectron2 ``Conv2d(bias=False, norm=FrozenBN)``: keys ``weight`` and ``norm.*``."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.empty(cout, cin, kernel, kernel))
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        self.norm = FrozenBatchNorm2d(cout)

    def forward(self, x):
        pad = self.weight.shape[-1] // 2
        return self.norm(F.conv2d(x, self.weight, stride=self.stride, padding=pad))


class _Bottleneck(nn.Module):
    def __init__(self, cin: int, mid: int, cout: int, stride: int):
        super().__init__()
        self.shortcut = _ConvFrozenBN(cin, cout, 1, stride) if cin != cout else None
        self.conv1 = _ConvFrozenBN(cin, mid, 1)
        self.conv2 = _ConvFrozenBN(mid, mid, 3, stride)
        self.conv3 = _ConvFrozenBN(mid, cout, 1)

    def forward(self, x):
        out = F.relu(self.conv1(x))
        out = F.relu(self.conv2(out))
        out = self.conv3(out)
        return F.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


class _Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = _ConvFrozenBN(3, 64, 7, stride=2)

    def forward(self, x):
        return F.max_pool2d(F.relu(self.conv1(x)), kernel_size=3, stride=2, padding=1)


class ResNet50(nn.Module):
    """Depth 50: blocks 3/4/6/3, width 64, one group, no dilation."""

    def __init__(self):
        super().__init__()
        self.stem = _Stem()
        cin = 64
        for i, depth in enumerate((3, 4, 6, 3)):
            mid, cout = 64 * 2**i, 256 * 2**i
            blocks = []
            for b in range(depth):
                stride = 2 if (b == 0 and i > 0) else 1
                blocks.append(_Bottleneck(cin, mid, cout, stride))
                cin = cout
            self.add_module(f"res{i + 2}", nn.Sequential(*blocks))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        outs = []
        for i in range(2, 6):
            x = getattr(self, f"res{i}")(x)
            outs.append(x)
        return outs
