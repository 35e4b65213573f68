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
from isbench.reference_models.ritm.blocks import BottleneckV1b, make_layer
from isbench.reference_models.ritm.hrnet import HighResolutionModule, transition_layers
from torch import nn

__all__ = ["HRNetW32"]


class _HRModule(HighResolutionModule):
    """RITM's HRNet module (same keys, blocks and fusion) with the official DynaMITe
    upsampling: nearest by 2^(j-i), then cropped to branch ``i``'s size."""

    def upsample(self, y: torch.Tensor, like: torch.Tensor, scale: int) -> torch.Tensor:
        z = F.interpolate(y, scale_factor=scale, mode="nearest")
        return z[:, :, : like.shape[2], : like.shape[3]]


class HRNetW32(nn.Module):
    """HRNet-W32 with the official module names (conv1, bn1, ..., stage4)."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256), modules=(1, 4, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.layer1 = make_layer(BottleneckV1b, 64, 64, 4)
        prev = [256]
        for s, n_modules in enumerate(modules):
            cur = list(widths[: s + 2])
            self.add_module(f"transition{s + 1}", transition_layers(prev, cur))
            self.add_module(
                f"stage{s + 2}", nn.Sequential(*(_HRModule(cur, 4) for _ in range(n_modules)))
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
