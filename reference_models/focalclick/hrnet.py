"""HRNet-W{18,32}(+small) with the OCR head, in RITM/ClickSEG's key layout (``hrnet_ocr.py``).

Minimal stand-in written for FocalClick's HRNet variants: to be merged with RITM's HRNet
(``reference_models/ritm/hrnet.py``), whose keys are identical (``specs/focalclick.md`` 2.4).
Constructor: ``HRNetOCR(width, ocr_width, small)``; 18s = (18, 48, True), 32 = (32, 128, False).
``forward(x, additional)`` adds ``additional`` (B, 64, H/2, W/2) after conv1-bn1-relu and
returns (logits, aux logits, OCR features) at stride 4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HRNetOCR"]


def _up(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """ResNet V1b basic block (two 3x3 convs), optional downsample."""

    expansion = 1

    def __init__(self, cin: int, planes: int, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """ResNet V1b bottleneck (1x1, 3x3, 1x1 x4), optional downsample."""

    expansion = 4

    def __init__(self, cin: int, planes: int, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(y)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class HRModule(nn.Module):
    """One multi-resolution module: per-branch basic blocks, then all-to-all fusion."""

    def __init__(self, channels: list[int], num_blocks: int):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicBlock(c, c) for _ in range(num_blocks)]) for c in channels)
        fuse = []
        for i, ci in enumerate(channels):
            row = []
            for j, cj in enumerate(channels):
                if j > i:
                    row.append(_conv_bn(cj, ci, 1, relu=False))
                elif j == i:
                    row.append(None)
                else:  # i - j stride-2 convs; only the last changes the width
                    steps = [_conv_bn(cj, ci if k == i - j - 1 else cj, 3, 2,
                                      relu=k != i - j - 1) for k in range(i - j)]
                    row.append(nn.Sequential(*steps))
            fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = None  # summed in branch order, as the official code does
            for j, layer in enumerate(row):
                if j == i:
                    term = xs[j]
                elif j > i:
                    term = _up(layer(xs[j]), xs[i].shape[-2:])
                else:
                    term = layer(xs[j])
                y = term if y is None else y + term
            out.append(F.relu(y))
        return out


class _ObjectAttention(nn.Module):
    """OCR's object context block (keys f_pixel, f_object, f_down, f_up)."""

    def __init__(self, cin: int, key: int):
        super().__init__()
        self.key = key

        def cbr(a: int, b: int) -> list[nn.Module]:
            return [nn.Conv2d(a, b, 1, bias=False), nn.Sequential(nn.BatchNorm2d(b), nn.ReLU())]

        self.f_pixel = nn.Sequential(*cbr(cin, key), *cbr(key, key))
        self.f_object = nn.Sequential(*cbr(cin, key), *cbr(key, key))
        self.f_down = nn.Sequential(*cbr(cin, key))
        self.f_up = nn.Sequential(*cbr(key, cin))

    def forward(self, x: torch.Tensor, proxy: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        query = self.f_pixel(x).flatten(2).transpose(1, 2)
        keys = self.f_object(proxy).flatten(2)
        value = self.f_down(proxy).flatten(2).transpose(1, 2)
        sim = torch.softmax(query @ keys * self.key**-0.5, dim=-1)
        return self.f_up((sim @ value).transpose(1, 2).reshape(b, self.key, h, w))


class _SpatialOCR(nn.Module):
    def __init__(self, cin: int, key: int):
        super().__init__()
        self.object_context_block = _ObjectAttention(cin, key)
        self.conv_bn_dropout = nn.Sequential(
            nn.Conv2d(2 * cin, cin, 1, bias=False),
            nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU()), nn.Dropout2d(0.05))

    def forward(self, feats: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return self.conv_bn_dropout(torch.cat([self.object_context_block(feats, context),
                                               feats], dim=1))


class HRNetOCR(nn.Module):
    """HRNet + OCR head (1 class). small: 2 blocks per branch and fewer modules.

    num_stages: 4 for the full network with the OCR head; 3 builds stages 1-3 only (no head),
    as FDRN's F_θ1 uses it.
    """

    def __init__(self, width: int, ocr_width: int, small: bool, num_stages: int = 4):
        super().__init__()
        nb = 2 if small else 4
        self.num_stages = num_stages
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        down = _conv_bn(64, 256, 1, relu=False)
        self.layer1 = nn.Sequential(Bottleneck(64, 64, down),
                                    *[Bottleneck(256, 64) for _ in range(nb - 1)])
        prev = [256]
        for s, modules in ((2, 1), (3, 3 if small else 4), (4, 2 if small else 3))[:num_stages - 1]:
            chans = [width * 2**i for i in range(s)]
            self.add_module(f"transition{s - 1}", self._transition(prev, chans))
            self.add_module(f"stage{s}", nn.Sequential(*[HRModule(chans, nb)
                                                         for _ in range(modules)]))
            prev = chans
        if num_stages == 4:
            last, mid = sum(prev), 2 * ocr_width
            self.conv3x3_ocr = nn.Sequential(nn.Conv2d(last, mid, 3, 1, 1),
                                             nn.BatchNorm2d(mid), nn.ReLU())
            self.ocr_distri_head = _SpatialOCR(mid, ocr_width)
            self.cls_head = nn.Conv2d(mid, 1, 1)
            self.aux_head = nn.Sequential(nn.Conv2d(last, last, 1), nn.BatchNorm2d(last),
                                          nn.ReLU(), nn.Conv2d(last, 1, 1))

    @staticmethod
    def _transition(prev: list[int], cur: list[int]) -> nn.ModuleList:
        layers = []
        for i, c in enumerate(cur):
            if i < len(prev):
                layers.append(_conv_bn(prev[i], c, 3) if prev[i] != c else None)
            else:
                n = i + 1 - len(prev)
                layers.append(nn.Sequential(*[_conv_bn(prev[-1], c if k == n - 1 else prev[-1],
                                                       3, 2) for k in range(n)]))
        return nn.ModuleList(layers)

    def stem(self, x: torch.Tensor, additional: torch.Tensor | None = None) -> list[torch.Tensor]:
        """(B, 3, H, W) normalised RGB (+ (B, 64, H/2, W/2) added after conv1) -> [layer1 out]."""
        x = F.relu(self.bn1(self.conv1(x)))
        if additional is not None:
            x = x + additional
        return [self.layer1(F.relu(self.bn2(self.conv2(x))))]

    def transition(self, s: int, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Branches entering stage s (2..4) from the previous stage's outputs."""
        trans = getattr(self, f"transition{s - 1}")
        return [xs[i] if t is None else t(xs[min(i, len(xs) - 1)]) for i, t in enumerate(trans)]

    def head(self, xs: list[torch.Tensor]):
        """Stage-4 branches -> logits, aux logits (B,1,H/4,W/4), OCR feats (B,2o,H/4,W/4)."""
        size = xs[0].shape[-2:]
        feats = torch.cat([xs[0]] + [_up(t, size) for t in xs[1:]], dim=1)
        aux = self.aux_head(feats)
        feats = self.conv3x3_ocr(feats)
        probs = torch.softmax(aux.flatten(2), dim=2)  # OCR gather: (B, 1, hw)
        context = (probs @ feats.flatten(2).transpose(1, 2)).transpose(1, 2)[..., None]
        feats = self.ocr_distri_head(feats, context)
        return self.cls_head(feats), aux, feats

    def forward(self, x: torch.Tensor, additional: torch.Tensor | None = None):
        """Full network (num_stages=4): see ``head``."""
        xs = self.stem(x, additional)
        for s in (2, 3, 4):
            xs = getattr(self, f"stage{s}")(self.transition(s, xs))
        return self.head(xs)
