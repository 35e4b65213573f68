"""FocalClick's networks: the SegFormer coarse segmentor and the local refiner (ClickSEG keys).

``FocalClickSegFormer`` has ClickSEG's ``SegFormerModel`` state-dict layout (257 keys for B0):
``maps_transform`` (built and saved by the official code, never called), ``feature_extractor``
(``backbone`` = MiT with a side patch embedding, ``decode_head`` = SegFormer's MLP decoder) and
``refiner``. Facts: ``specs/focalclick.md`` sections 2.1-2.7.

Coarse input: (B, 4, 256, 256) = RGB in [0, 1] and the previous probability map; clicks are
(B, 2N, 3) rows (y, x, index) in input pixels, positives first, padding rows (-1, -1, -1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from isbench.reference_models.focalclick.segformer import (
    MIT_CONFIGS,
    MiT,
    MiTConfig,
    SegFormerHead,
)
from isbench.reference_models.ritm.hrnet import HRNetOCR
from torch import nn
from torchvision.ops import roi_align

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "register_imagenet_normalisation",
    "FocalClickHRNet",
    "FocalClickSegFormer",
    "RefineLayer",
    "ScaleLayer",
    "click_disks",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Disk radius of the coarse click maps per pipeline version, and of the refiner's.
BASE_RADIUS = {"s1": 3, "s2": 5}
HRNET_BASE_RADIUS = {"s1": 2, "s2": 5}
REFINE_RADIUS = 5


def click_disks(points: torch.Tensor, h: int, w: int, radius: float) -> torch.Tensor:
    """Binary click disks: (B, 2N, 3) (y, x, index) rows -> (B, 2, h, w) float [pos, neg].

    A pixel (r, c) is 1 where (r - y)^2 + (c - x)^2 <= radius^2 for some click of that sign;
    rows with max(y, x) < 0 are padding. Coordinates are input pixels (floats allowed).
    As in the official evaluation, where click coordinates arrive as float64, r - y is
    computed in float64 and rounded to float32 before squaring (this decides boundary pixels).
    """
    b, n2, _ = points.shape
    rows = torch.arange(h, dtype=torch.float64, device=points.device).view(1, 1, h, 1)
    cols = torch.arange(w, dtype=torch.float64, device=points.device).view(1, 1, 1, w)
    dy = (rows - points[..., 0].double().view(b, n2, 1, 1)).float()
    dx = (cols - points[..., 1].double().view(b, n2, 1, 1)).float()
    d2 = dy * dy + dx * dx
    invalid = points[..., :2].amax(dim=-1) < 0
    d2 = d2.masked_fill(invalid.view(b, n2, 1, 1), 1e6)
    d2 = d2.view(b, 2, n2 // 2, h, w).amin(dim=2)
    return (d2 <= radius**2).float()



def register_imagenet_normalisation(module: nn.Module) -> None:
    """Give ``module`` non-persistent ``mean``/``std`` buffers (1, 3, 1, 1) of ImageNet."""
    module.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                           persistent=False)
    module.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

class ScaleLayer(nn.Module):
    """Multiplies by |scale| (ClickSEG ``ScaleLayer``; key ``scale``, shape (1,))."""

    def __init__(self, init_value: float = 0.05):
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), init_value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale.abs()


class _ConvNormReLU(nn.Module):
    """The refiner's local ``ConvModule``: conv with bias, BN (key ``norm``), ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2)
        self.norm = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class _XConvBnRelu(nn.Module):
    """Depthwise 3x3, pointwise 1x1, BN, ReLU (ClickSEG ``XConvBnRelu``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv3x3 = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)
        self.conv1x1 = nn.Conv2d(dim, dim, 1)
        self.norm = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv1x1(self.conv3x3(x))))


def _up(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


class RefineLayer(nn.Module):
    """Local refiner: focus crop (RGB, disks, coarse prob) + cropped feature -> refined logits.

    feature_gate: the SegFormer refiner owns an unused ``feature_gate`` (1x1 conv + sigmoid);
    HRNet's does not. Output logits = pred * sigmoid(trimap) + coarse * (1 - sigmoid(trimap)).
    """

    def __init__(self, feature_dim: int, mid: int = 32, feature_gate: bool = True):
        super().__init__()
        self.image_conv1 = _ConvNormReLU(6, mid, 3, stride=2)
        self.image_conv2 = _XConvBnRelu(mid)
        self.image_conv3 = _XConvBnRelu(mid)
        self.refine_fusion = _ConvNormReLU(feature_dim, mid, 1)
        self.refine_fusion2 = _XConvBnRelu(mid)
        self.refine_fusion3 = _XConvBnRelu(mid)
        if feature_gate:
            self.feature_gate = nn.Sequential(nn.Conv2d(mid, 1, 1), nn.Sigmoid())
        self.refine_pred = nn.Conv2d(mid, 1, 3, 1, 1)
        self.refine_trimap = nn.Conv2d(mid, 1, 3, 1, 1)

    def forward(self, image: torch.Tensor, click_map: torch.Tensor, feature: torch.Tensor,
                coarse_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """image (B,3,S,S) raw RGB, click_map (B,2,S,S), feature (B,E,h,w), logits (B,1,S,S)."""
        x = torch.cat([image, click_map, torch.sigmoid(coarse_logits)], dim=1)
        x = self.image_conv3(self.image_conv2(self.image_conv1(x)))
        x = x + _up(self.refine_fusion(feature), x.shape[-2:])
        x = self.refine_fusion3(self.refine_fusion2(x))
        size = image.shape[-2:]
        pred, trimap = _up(self.refine_pred(x), size), _up(self.refine_trimap(x), size)
        gate = torch.sigmoid(trimap)
        return pred * gate + coarse_logits * (1 - gate), trimap


class _CoarseRefineMixin:
    """The refine step shared by FocalClick and FDRN-B (both own ``refiner``)."""

    refiner: RefineLayer

    def refine(self, image: torch.Tensor, points: torch.Tensor, feature: torch.Tensor,
               logits: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
        """Refined (1, 1, S, S) logits of the focus crop.

        image: (1, 3, S, S) raw RGB focus crop; points: (1, 2N, 3) in the focus-crop frame;
        feature/logits: coarse outputs in the S x S target-crop frame; box: (1, 5)
        [0, x1, y1, x2, y2] of the focus crop in that frame.
        """
        size = image.shape[-2:]
        scale = feature.shape[-1] / logits.shape[-1]
        crop_feat = roi_align(feature, box, tuple(feature.shape[-2:]), spatial_scale=scale,
                              aligned=True)
        crop_logits = roi_align(logits, box, tuple(size), spatial_scale=1.0, aligned=True)
        disks = click_disks(points, size[0], size[1], REFINE_RADIUS)
        return self.refiner(image, disks, crop_feat, crop_logits)[0]


class _FeatureExtractor(nn.Module):
    """ClickSEG's ``SegFormer`` wrapper: ``backbone`` + ``decode_head``."""

    def __init__(self, cfg: MiTConfig):
        super().__init__()
        self.backbone = MiT(cfg, num_stages=4, side_channels=3)
        self.decode_head = SegFormerHead(cfg)


class FocalClickSegFormer(_CoarseRefineMixin, nn.Module):
    """FocalClick with a SegFormer (MiT-B0/B3) coarse segmentor.

    pipeline_version: "s1" (coarse net sees the input halved to 128, disk radius 3) or
    "s2" (256, radius 5). model_version: "b0" or "b3".
    """

    def __init__(self, model_version: str = "b0", pipeline_version: str = "s2"):
        super().__init__()
        cfg = MIT_CONFIGS[model_version]
        self.model_version, self.pipeline_version = model_version, pipeline_version
        self.maps_transform = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 32, 3, 2, 1),
            ScaleLayer())
        self.feature_extractor = _FeatureExtractor(cfg)
        self.refiner = RefineLayer(cfg.decoder_dim, feature_gate=True)
        register_imagenet_normalisation(self)

    def forward(self, x: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 4, S, S) [RGB 0-1, prev prob], (B, 2N, 3) -> logits (B,1,S,S), feature (B,E,h,w)."""
        image, side = _coarse_inputs(x, points, BASE_RADIUS[self.pipeline_version],
                                     self.pipeline_version, self.mean, self.std)
        fe = self.feature_extractor
        logits, feature = fe.decode_head(fe.backbone(image, side))
        return _up(logits, x.shape[-2:]), feature


def _coarse_inputs(x: torch.Tensor, points: torch.Tensor, radius: float, pipeline: str,
                   mean: torch.Tensor, std: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised RGB and [prev, pos disk, neg disk], both halved (align_corners) for S1."""
    size = x.shape[-2:]
    image = (x[:, :3] - mean) / std
    side = torch.cat([x[:, 3:], click_disks(points, size[0], size[1], radius)], dim=1)
    if pipeline == "s1":
        image = F.interpolate(image, scale_factor=0.5, mode="bilinear", align_corners=True)
        side = F.interpolate(side, scale_factor=0.5, mode="bilinear", align_corners=True)
    return image, side


class FocalClickHRNet(_CoarseRefineMixin, nn.Module):
    """FocalClick with an HRNet+OCR coarse segmentor (RITM's layout plus ``refiner``).

    width/ocr_width/small: (18, 48, True) for HRNet18s, (32, 128, False) for HRNet32.
    The coord maps go through ``maps_transform`` and are added after the first stem conv.
    """

    def __init__(self, width: int = 18, ocr_width: int = 48, small: bool = True,
                 pipeline_version: str = "s2"):
        super().__init__()
        self.width, self.ocr_width, self.small = width, ocr_width, small
        self.pipeline_version = pipeline_version
        self.maps_transform = nn.Sequential(
            nn.Conv2d(3, 16, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 64, 3, 2, 1), ScaleLayer())
        self.feature_extractor = HRNetOCR(width, ocr_width, small)
        self.refiner = RefineLayer(2 * ocr_width, feature_gate=False)
        register_imagenet_normalisation(self)

    def forward(self, x: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """As ``FocalClickSegFormer.forward``; feature = OCR features (B, 2*ocr_width, h, w)."""
        image, side = _coarse_inputs(x, points, HRNET_BASE_RADIUS[self.pipeline_version],
                                     self.pipeline_version, self.mean, self.std)
        logits, _, feature = self.feature_extractor(image, self.maps_transform(side))
        return _up(logits, x.shape[-2:]), feature
