"""HRNetV2-W{width} with the OCR head: RITM's backbone (reusable by FocalClick's HRNet variants).

``HRNetOCR(width, ocr_width, small)`` keeps the official ``HighResolutionNet`` module names
(``conv1, bn1, conv2, bn2, layer1, transition1-3, stage2-4, conv3x3_ocr, ocr_gather_head,
ocr_distri_head, cls_head, aux_head``), so ``state_dict()`` keys match the checkpoints.
All resizing is bilinear with ``align_corners=True``; tensors are ``(B, C, H, W)`` float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from isbench.reference_models.ritm.blocks import BasicBlockV1b, BottleneckV1b, make_layer
from isbench.reference_models.ritm.ocr import SpatialGather, SpatialOCR
from torch import nn

__all__ = ["HRNetOCR"]


def _upsample(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=True)


def _conv3x3_bn(cin: int, cout: int, stride: int, relu: bool) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU(True)) if relu else nn.Sequential(*layers)


class HighResolutionModule(nn.Module):
    """Parallel branches of ``num_blocks`` basic blocks, then exchange between all resolutions.

    Output ``i`` = ReLU(sum over inputs ``j``): ``j == i`` as is; ``j > i`` 1×1 conv + BN
    then upsampled; ``j < i`` ``i - j`` stride-2 3×3 conv + BN (ReLU except on the last).
    """

    def __init__(self, channels: list[int], num_blocks: int):
        super().__init__()
        self.branches = nn.ModuleList(
            make_layer(BasicBlockV1b, c, c, num_blocks) for c in channels)
        n = len(channels)
        fuse = []
        for i in range(n):
            row = []
            for j in range(n):
                if j > i:
                    row.append(nn.Sequential(nn.Conv2d(channels[j], channels[i], 1, bias=False),
                                             nn.BatchNorm2d(channels[i])))
                elif j == i:
                    row.append(None)
                else:
                    steps = [_conv3x3_bn(channels[j], channels[j], 2, True)
                             for _ in range(i - j - 1)]
                    row.append(nn.Sequential(*steps, _conv3x3_bn(channels[j], channels[i], 2,
                                                                 False)))
            fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)
        self.relu = nn.ReLU(True)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(1, len(xs)):
                if j == i:
                    y = y + xs[j]
                elif j > i:
                    y = y + _upsample(row[j](xs[j]), xs[i])
                else:
                    y = y + row[j](xs[j])
            out.append(self.relu(y))
        return out


def _transition(prev: list[int], cur: list[int]) -> nn.ModuleList:
    """Map ``len(prev)`` branches to ``len(cur)``: 3×3 conv where widths differ (None where
    equal), and a new lowest-resolution branch by stride-2 3×3 convs from the last one."""
    layers = []
    for i, c in enumerate(cur):
        if i < len(prev):
            layers.append(None if c == prev[i] else _conv3x3_bn(prev[i], c, 1, True))
        else:
            extra = i + 1 - len(prev)
            steps = [_conv3x3_bn(prev[-1], c if k == extra - 1 else prev[-1], 2, True)
                     for k in range(extra)]
            layers.append(nn.Sequential(*steps))
    return nn.ModuleList(layers)


class HRNetOCR(nn.Module):
    """HRNetV2-W``width`` (+ OCR head if ``ocr_width > 0``), official configurations.

    width: channels of the highest-resolution branch (branches ``w, 2w, 4w, 8w``).
    ocr_width: OCR key channels ``o`` (mid channels ``2o``); 0 means a plain conv head.
    small: the "s" variant (2 blocks per branch, 3 + 2 modules in stages 3 + 4 instead of
        4 blocks and 4 + 3 modules).
    num_classes: output logit channels.

    ``forward(x (B, 3, H, W), additional (B, 64, H/2, W/2) or None)`` returns
    ``(logits, aux_logits)``, both ``(B, num_classes, H/4, W/4)`` (aux is None without OCR).
    ``additional`` is added to the stem after ``conv1→bn1→relu``.
    """

    def __init__(self, width: int, ocr_width: int = 256, small: bool = False,
                 num_classes: int = 1):
        super().__init__()
        self.width, self.ocr_width, self.small = width, ocr_width, small
        blocks = 2 if small else 4
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(True)
        self.layer1 = make_layer(BottleneckV1b, 64, 64, blocks)
        widths = [[width * 2 ** b for b in range(n)] for n in (2, 3, 4)]
        modules = (1, 3 if small else 4, 2 if small else 3)
        self.transition1 = _transition([64 * BottleneckV1b.expansion], widths[0])
        self.stage2 = nn.Sequential(*(HighResolutionModule(widths[0], blocks)
                                      for _ in range(modules[0])))
        self.transition2 = _transition(widths[0], widths[1])
        self.stage3 = nn.Sequential(*(HighResolutionModule(widths[1], blocks)
                                      for _ in range(modules[1])))
        self.transition3 = _transition(widths[1], widths[2])
        self.stage4 = nn.Sequential(*(HighResolutionModule(widths[2], blocks)
                                      for _ in range(modules[2])))
        feats = sum(widths[2])
        if ocr_width > 0:
            mid = 2 * ocr_width
            self.conv3x3_ocr = nn.Sequential(nn.Conv2d(feats, mid, 3, 1, 1),
                                             nn.BatchNorm2d(mid), nn.ReLU(True))
            self.ocr_gather_head = SpatialGather()
            self.ocr_distri_head = SpatialOCR(mid, ocr_width, dropout=0.05)
            self.cls_head = nn.Conv2d(mid, num_classes, 1)
            self.aux_head = nn.Sequential(nn.Conv2d(feats, feats, 1), nn.BatchNorm2d(feats),
                                          nn.ReLU(True), nn.Conv2d(feats, num_classes, 1))
        else:
            self.cls_head = nn.Sequential(nn.Conv2d(feats, feats, 3, 1, 1), nn.BatchNorm2d(feats),
                                          nn.ReLU(True), nn.Conv2d(feats, num_classes, 1))

    @staticmethod
    def _next_inputs(transition: nn.ModuleList, ys: list[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for i, t in enumerate(transition):
            src = ys[i] if i < len(ys) else ys[-1]
            out.append(src if t is None else t(src))
        return out

    def features(self, x: torch.Tensor, additional: torch.Tensor | None = None) -> torch.Tensor:
        """Aggregated multi-resolution features ``(B, 15·width, H/4, W/4)``."""
        x = self.relu(self.bn1(self.conv1(x)))
        if additional is not None:
            x = x + additional
        x = self.layer1(self.relu(self.bn2(self.conv2(x))))
        ys = self.stage2(self._next_inputs(self.transition1, [x]))
        ys = self.stage3(self._next_inputs(self.transition2, ys))
        ys = self.stage4(self._next_inputs(self.transition3, ys))
        return torch.cat([ys[0]] + [_upsample(y, ys[0]) for y in ys[1:]], 1)

    def forward(self, x: torch.Tensor, additional: torch.Tensor | None = None):
        feats = self.features(x, additional)
        if self.ocr_width <= 0:
            return self.cls_head(feats), None
        aux = self.aux_head(feats)
        feats = self.conv3x3_ocr(feats)
        context = self.ocr_gather_head(feats, aux)
        return self.cls_head(self.ocr_distri_head(feats, context)), aux
