"""FDRN's building blocks shared by the B (SegFormer) and H (HRNet) series.

Decoupled click encoding (``ClickGuidance``), Texture Feature Integration (``Texture``),
Semantic Feature Integration (``Semantic``), the ResBlock and Conv1S they use, and the ROI
Align of F_θ1's image features. Layout choices the paper leaves open are listed in
``reference_models/fdrn/model.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from isbench.reference_models.focalclick.model import ScaleLayer, click_disks
from torch import nn
from torchvision.ops import roi_align

__all__ = ["ClickGuidance", "Conv1S", "ResBlock", "Semantic", "Texture", "align_features",
           "split_current"]


class ResBlock(nn.Module):
    """conv3x3(in->mid)-BN-ReLU-conv3x3(mid->out)-BN + 1x1-conv-BN shortcut, then ReLU."""

    def __init__(self, in_ch: int, out_ch: int, mid: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, mid, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, bias=False),
                                      nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.shortcut(x))


class Conv1S(nn.Module):
    """RITM's Conv1S click encoder: (B, 3, H, W) -> (B, out, H/2, W/2)."""

    def __init__(self, out_ch: int):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(3, 16, 1), nn.LeakyReLU(0.2),
                                    nn.Conv2d(16, out_ch, 3, 2, 1), ScaleLayer(0.05))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def split_current(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split (B, 2N, 3) click rows into (current, historical): the current click is the row
    with the largest index; the other rows become padding (-1) in its copy and vice versa."""
    idx = points[..., 2]
    current = (idx == idx.amax(dim=1, keepdim=True)) & (idx >= 0)
    pad = torch.full_like(points, -1.0)
    return (torch.where(current[..., None], points, pad),
            torch.where(current[..., None], pad, points))


class ClickGuidance(nn.Module):
    """Current and historical clicks, each with the previous mask, through separate Conv1S,
    fused by a 3x3 conv (stride ``stride``) on their concatenation.

    (B, 1, S, S) prev mask, (B, 2N, 3) clicks -> (B, out, S/(2*stride), S/(2*stride)).
    """

    def __init__(self, enc_ch: int, out_ch: int, stride: int, radius: float):
        super().__init__()
        self.radius = radius
        self.encode_current = Conv1S(enc_ch)
        self.encode_history = Conv1S(enc_ch)
        self.fuse = nn.Conv2d(2 * enc_ch, out_ch, 3, stride, 1)

    def forward(self, prev: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        h, w = prev.shape[-2:]
        current, history = split_current(points)
        cur = torch.cat([prev, click_disks(current, h, w, self.radius)], dim=1)
        hist = torch.cat([prev, click_disks(history, h, w, self.radius)], dim=1)
        return self.fuse(torch.cat([self.encode_current(cur), self.encode_history(hist)], 1))


class Texture(nn.Module):
    """Texture Feature Integration: concatenate f_low, ResBlock back to ``ch`` channels."""

    def __init__(self, ch: int, low_ch: int):
        super().__init__()
        self.res = ResBlock(ch + low_ch, ch, mid=ch)

    def forward(self, f: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        return self.res(torch.cat([f, low], dim=1))


class Semantic(nn.Module):
    """Semantic Feature Integration (non-local, eqs. 2-4): W = K Q^T, A = softmax over the
    first index (each column sums to 1), X = A Conv3x3(f), then ResBlock([X, f]) -> ch."""

    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, 1, 1)
        self.res = ResBlock(2 * ch, ch, mid=2 * ch)

    def forward(self, f: torch.Tensor, k: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """f (B,C,h,w) guidance features; k, q (B,Ck,h,w) ROI-aligned views of f_high."""
        b, c, h, w = f.shape
        kt, qt = k.flatten(2).transpose(1, 2), q.flatten(2).transpose(1, 2)  # (B, hw, Ck)
        affinity = torch.softmax(kt @ qt.transpose(1, 2), dim=1)
        v = self.conv(f).flatten(2).transpose(1, 2)  # (B, hw, C)
        x = (affinity @ v).transpose(1, 2).reshape(b, c, h, w)
        return self.res(torch.cat([x, f], dim=1))


def align_features(feats: dict, roi: tuple, low_size, high_size, low_stride: int = 4,
                   high_stride: int = 16) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ROI Align of F_θ1's ``low``/``high1``/``high2`` maps to F_θ2's grid sizes.

    roi: half-open (y1, y2, x1, x2) in image pixels; sizes are (h, w) of F_θ2's maps.
    """
    y1, y2, x1, x2 = roi
    box = torch.tensor([[0, x1, y1, x2, y2]], dtype=torch.float32)
    low = roi_align(feats["low"], box, tuple(low_size), 1 / low_stride, aligned=True)
    k = roi_align(feats["high1"], box, tuple(high_size), 1 / high_stride, aligned=True)
    q = roi_align(feats["high2"], box, tuple(high_size), 1 / high_stride, aligned=True)
    return low, k, q
