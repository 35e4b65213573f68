"""FDRN B-series (Zeng et al., "Feature Decoupling-Recycling Network for Fast Interactive
Segmentation"): FocalClick-based models with a SegFormer F_θ1 and F_θ2.

No official code or weights exist; the paper is the spec. What the paper fixes:
- F_θ1 (``FeatureExtractor``) runs once per image on the original-resolution image: a MiT
  encoder truncated after stage 3; high-level features (stage 3, stride 16) give two views
  f_high1, f_high2 by separate convolutions; low-level features are at stride 4.
- F_θ2 (``MaskPredictor``) runs per click on the 256 x 256 Zoom-In crop (FocalClick's target
  crop): current and historical clicks become binary maps, each integrated with the previous
  mask and encoded by its own Conv1S, then fused by a convolution on their concatenation;
  ROI-Aligned image features are recycled by Texture Feature Integration (concatenate f_low,
  ResBlock) at stride 4 and Semantic Feature Integration (non-local: A = column-softmax of
  K Q^T from the two high views, X = A Conv3x3(f~high), concatenate, ResBlock) at stride 16.
  FocalClick's decoder, refiner and crop-and-refine inference are kept (its BNFL loss is).

Choices the paper leaves open, made here so that the parameter counts of Table 2 are met
within 10% (checked by the tests): f_low is SegFormer's MLP fusion of stages 1-3 into 256
channels at stride 4; the views are 3x3 convolutions; a ResBlock is conv3x3(in->mid)-BN-ReLU-
conv3x3(mid->out)-BN plus a 1x1-conv shortcut, with mid = in for the semantic block and
mid = out for the texture block; Conv1S is RITM's (1x1 conv to 16, LeakyReLU, strided 3x3,
ScaleLayer) and the fusion conv is a stride-2 3x3, giving stride 4; the guidance is added to
F_θ2's stage-1 output (FocalClick's injection point) and the result replaces c1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from isbench.reference_models.fdrn.blocks import ClickGuidance, Semantic, Texture, align_features
from isbench.reference_models.focalclick.model import (
    BASE_RADIUS,
    RefineLayer,
    _CoarseRefineMixin,
    register_imagenet_normalisation,
)
from isbench.reference_models.focalclick.segformer import (
    MIT_CONFIGS,
    MiT,
    MiTConfig,
    SegFormerHead,
    _Linear,
)
from torch import nn

__all__ = ["FDRN", "FeatureExtractor", "MaskPredictor"]

LOW_DIM = 256


class FeatureExtractor(nn.Module):
    """F_θ1: (B, 3, H, W) normalised RGB -> f_low (B,256,H/4,W/4), f_high1/2 (B,C3,H/16,W/16)."""

    def __init__(self, cfg: MiTConfig):
        super().__init__()
        self.backbone = MiT(cfg, num_stages=3)
        for i in range(3):
            self.add_module(f"linear_c{i + 1}", _Linear(cfg.dims[i], LOW_DIM))
        self.low_fuse = nn.Sequential(nn.Conv2d(3 * LOW_DIM, LOW_DIM, 1, bias=False),
                                      nn.BatchNorm2d(LOW_DIM), nn.ReLU())
        self.view1 = nn.Conv2d(cfg.dims[2], cfg.dims[2], 3, 1, 1)
        self.view2 = nn.Conv2d(cfg.dims[2], cfg.dims[2], 3, 1, 1)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.backbone(image)
        size = feats[0].shape[-2:]
        low = [F.interpolate(getattr(self, f"linear_c{i + 1}")(f), size=size, mode="bilinear",
                             align_corners=False) for i, f in enumerate(feats)]
        return {"low": self.low_fuse(torch.cat(low[::-1], dim=1)),
                "high1": self.view1(feats[2]), "high2": self.view2(feats[2])}


class MaskPredictor(_CoarseRefineMixin, nn.Module):
    """F_θ2: per-click coarse net on the crop (MiT-B0/B3 + SegFormer decoder) and refiner."""

    def __init__(self, cfg: MiTConfig, radius: float = BASE_RADIUS["s2"]):
        super().__init__()
        c1, c3 = cfg.dims[0], cfg.dims[2]
        self.guidance = ClickGuidance(c1, c1, stride=2, radius=radius)
        self.backbone = MiT(cfg, num_stages=4)
        self.texture = Texture(c1, LOW_DIM)
        self.semantic = Semantic(c3)
        self.decode_head = SegFormerHead(cfg)
        self.refiner = RefineLayer(cfg.decoder_dim, feature_gate=False)
        register_imagenet_normalisation(self)

    def forward(self, x: torch.Tensor, points: torch.Tensor, feats: dict, roi: tuple
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B,4,S,S) [RGB 0-1, prev]; points (B,2N,3); feats: F_θ1's maps; roi: the crop's
        half-open (y1, y2, x1, x2) in the image. -> logits (B,1,S,S), feature (B,E,S/4,S/4)."""
        image = (x[:, :3] - self.mean) / self.std
        bb = self.backbone
        c1 = bb.run_stage(0, image) + self.guidance(x[:, 3:], points)
        s = x.shape[-2:]
        low, k, q = align_features(feats, roi, c1.shape[-2:], (s[0] // 16, s[1] // 16))
        c1 = self.texture(c1, low)
        c2 = bb.run_stage(1, c1)
        c3 = self.semantic(bb.run_stage(2, c2), k, q)
        c4 = bb.run_stage(3, c3)
        logits, feature = self.decode_head([c1, c2, c3, c4])
        logits = F.interpolate(logits, size=s, mode="bilinear", align_corners=True)
        return logits, feature


class FDRN(nn.Module):
    """F_θ1 (``extractor``) + F_θ2 (``predictor``). extractor: "b0"/"b1"; predictor: "b0"/"b3"."""

    def __init__(self, extractor: str = "b0", predictor: str = "b0"):
        super().__init__()
        ecfg = MIT_CONFIGS[extractor]
        self.extractor_version, self.predictor_version = extractor, predictor
        self.extractor = FeatureExtractor(ecfg)
        self.predictor = MaskPredictor(MIT_CONFIGS[predictor])
        register_imagenet_normalisation(self)

    def encode_image(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """F_θ1 once per image: (1, 3, H, W) RGB in [0, 1] -> feature dict."""
        return self.extractor((image - self.mean) / self.std)

    def coarse(self, feats: dict, x: torch.Tensor, points: torch.Tensor, roi: tuple):
        """F_θ2's coarse pass on the crop; roi = half-open (y1, y2, x1, x2) in the image."""
        return self.predictor(x, points, feats, roi)
