"""HRNetV2-W{width} with the OCR head: RITM's backbone, also FocalClick's and FDRN's HRNet.

``HRNetOCR(width, ocr_width, small, num_classes, num_stages)`` keeps the official
``HighResolutionNet`` module names (``conv1, bn1, conv2, bn2, layer1, transition1-3, stage2-4,
conv3x3_ocr, ocr_gather_head, ocr_distri_head, cls_head, aux_head``), so ``state_dict()`` keys
match the checkpoints (RITM's, and FocalClick's ``feature_extractor``).
All resizing is bilinear with ``align_corners=True``; tensors are ``(B, C, H, W)`` float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from isbench.reference_models.ritm.blocks import BasicBlockV1b, BottleneckV1b, make_layer
from isbench.reference_models.ritm.ocr import SpatialGather, SpatialOCR
from torch import nn

__all__ = ["HRNetOCR", "HighResolutionModule", "transition_layers"]


def _upsample(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=True)


def _conv3x3_bn(cin: int, cout: int, stride: int, relu: bool) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU(True)) if relu else nn.Sequential(*layers)


class HighResolutionModule(nn.Module):
    """Parallel branches of ``num_blocks`` basic blocks, then exchange between all resolutions.

    Output ``i`` = ReLU(sum over inputs ``j``): ``j == i`` as is; ``j > i`` 1×1 conv + BN
    then ``upsample``d; ``j < i`` ``i - j`` stride-2 3×3 conv + BN (ReLU except on the last).
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

    def upsample(self, y: torch.Tensor, like: torch.Tensor, scale: int) -> torch.Tensor:
        """``y`` to the size of ``like`` (``scale`` = 2^(j-i)): bilinear, corners aligned."""
        return _upsample(y, like)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(1, len(xs)):
                if j == i:
                    y = y + xs[j]
                elif j > i:
                    y = y + self.upsample(row[j](xs[j]), xs[i], 2 ** (j - i))
                else:
                    y = y + row[j](xs[j])
            out.append(self.relu(y))
        return out


def transition_layers(prev: list[int], cur: list[int]) -> nn.ModuleList:
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
    num_stages: 4 for the whole network with its head; 3 builds the stem and stages 2-3 only
        (no ``transition3``, ``stage4`` or head: FDRN's F_θ1).

    The pieces run one at a time for models that work between stages (FocalClick, FDRN):
    ``stem`` → for each stage ``s`` in 2..num_stages ``stage{s}(transition(s, xs))`` (each
    ``stage{s}`` is an ``nn.Sequential`` of modules taking and returning the branch list) →
    ``head``. ``forward(x, additional)`` runs them all (``num_stages`` 4 only).
    """

    def __init__(self, width: int, ocr_width: int = 256, small: bool = False,
                 num_classes: int = 1, num_stages: int = 4):
        super().__init__()
        if num_stages not in (3, 4):
            raise ValueError(f"HRNet num_stages {num_stages}: expected 3 or 4")
        self.width, self.ocr_width, self.small = width, ocr_width, small
        self.num_stages = num_stages
        blocks = 2 if small else 4
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(True)
        self.layer1 = make_layer(BottleneckV1b, 64, 64, blocks)
        prev = [64 * BottleneckV1b.expansion]
        modules = (1, 3 if small else 4, 2 if small else 3)
        for s in range(2, num_stages + 1):
            widths = [width * 2 ** b for b in range(s)]
            self.add_module(f"transition{s - 1}", transition_layers(prev, widths))
            self.add_module(f"stage{s}", nn.Sequential(
                *(HighResolutionModule(widths, blocks) for _ in range(modules[s - 2]))))
            prev = widths
        if num_stages < 4:
            return
        feats = sum(prev)
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

    def stem(self, x: torch.Tensor, additional: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``x`` (B, 3, H, W) normalised RGB → ``[layer1 output (B, 256, H/4, W/4)]``.

        ``additional`` (B, 64, H/2, W/2), if given, is added after ``conv1→bn1→relu``."""
        x = self.relu(self.bn1(self.conv1(x)))
        if additional is not None:
            x = x + additional
        return [self.layer1(self.relu(self.bn2(self.conv2(x))))]

    def transition(self, s: int, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        """The branches entering stage ``s`` (2..num_stages) from the previous outputs ``xs``;
        branch ``b`` is ``(B, width·2^b, H/2^(b+2), W/2^(b+2))``."""
        out = []
        for i, t in enumerate(getattr(self, f"transition{s - 1}")):
            src = xs[i] if i < len(xs) else xs[-1]
            out.append(src if t is None else t(src))
        return out

    def run_stages(self, x: torch.Tensor,
                   additional: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``stem``, then every built stage: the last stage's ``num_stages`` branches."""
        xs = self.stem(x, additional)
        for s in range(2, self.num_stages + 1):
            xs = getattr(self, f"stage{s}")(self.transition(s, xs))
        return xs

    def head(self, xs: list[torch.Tensor]):
        """Stage-4 branches → ``(logits, aux_logits, feats)``.

        logits, aux_logits: ``(B, num_classes, H/4, W/4)`` (aux is None without OCR);
        feats: what ``cls_head`` reads, the OCR features ``(B, 2·ocr_width, H/4, W/4)``, or
        the aggregated branches ``(B, 15·width, H/4, W/4)`` without OCR.
        """
        feats = torch.cat([xs[0]] + [_upsample(y, xs[0]) for y in xs[1:]], 1)
        if self.ocr_width <= 0:
            return self.cls_head(feats), None, feats
        aux = self.aux_head(feats)
        feats = self.conv3x3_ocr(feats)
        context = self.ocr_gather_head(feats, aux)
        feats = self.ocr_distri_head(feats, context)
        return self.cls_head(feats), aux, feats

    def forward(self, x: torch.Tensor, additional: torch.Tensor | None = None):
        """``x`` (B, 3, H, W), ``additional`` as in ``stem`` → ``head``'s triple."""
        return self.head(self.run_stages(x, additional))
