"""FDRN H-series (RITM-based): HRNet F_θ1 (stages 1-3) and RITM's HRNet+OCR as F_θ2.

Paper facts (section 4.1): F_θ1 is HRNet-18s (H1) or HRNet-18 (H2) with only the first 3
stages; f_high comes from the 1/16 branch and f_low from the 1/4 branch of stage 3 of F_θ1,
and they are integrated into the same branches of F_θ2 after its b~-th stage-3 module
(b~_low = b~_high = 2, Table 6). F_θ2 is RITM's HRNet-18s / HRNet-18 with OCR and sees the
Zoom-In crop at 288 (long side). Choices made here: F_θ1's features are taken after the last
stage-3 module (module 3 of 18s, module 4 of 18: keeping the whole stage 3 is what Table 2's
F_θ1 sizes count), and the click guidance (two Conv1S to 64 channels, fused by a 3x3 conv)
replaces RITM's ``maps_transform`` after the first stem conv. See ``model.py`` for the shared
layout choices. Both HRNets are RITM's ``reference_models/ritm/hrnet.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from isbench.reference_models.fdrn.blocks import ClickGuidance, Semantic, Texture, align_features
from isbench.reference_models.focalclick.model import register_imagenet_normalisation
from isbench.reference_models.ritm.hrnet import HRNetOCR
from torch import nn

__all__ = ["FDRNH", "HRNETS"]

#: HRNetOCR(width, ocr_width, small) of RITM's HRNet-18s and HRNet-18.
HRNETS = {"hrnet18s": (18, 48, True), "hrnet18": (18, 64, False)}
CLICK_RADIUS = 5
INTEGRATE_AFTER = 2


class FeatureExtractorH(nn.Module):
    """F_θ1: (B,3,H,W) normalised RGB -> f_low (B,w,H/4,W/4), f_high1/2 (B,4w,H/16,W/16)."""

    def __init__(self, variant: str):
        super().__init__()
        width, _, small = HRNETS[variant]
        self.backbone = HRNetOCR(width, 0, small, num_stages=3)
        self.view1 = nn.Conv2d(4 * width, 4 * width, 3, 1, 1)
        self.view2 = nn.Conv2d(4 * width, 4 * width, 3, 1, 1)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        xs = self.backbone.run_stages(image)
        return {"low": xs[0], "high1": self.view1(xs[2]), "high2": self.view2(xs[2])}


class MaskPredictorH(nn.Module):
    """F_θ2: RITM's HRNet+OCR on the crop with decoupled guidance and recycled features."""

    def __init__(self, variant: str, low_ch: int):
        super().__init__()
        width, ocr_width, small = HRNETS[variant]
        self.guidance = ClickGuidance(64, 64, stride=1, radius=CLICK_RADIUS)
        self.backbone = HRNetOCR(width, ocr_width, small)
        self.texture = Texture(width, low_ch)
        self.semantic = Semantic(4 * width)

    def forward(self, x: torch.Tensor, points: torch.Tensor, feats: dict, roi: tuple
                ) -> torch.Tensor:
        """x (B,4,h,w) [normalised RGB, prev]; -> coarse logits (B, 1, h, w)."""
        bb = self.backbone
        xs = bb.stage2(bb.transition(2, bb.stem(x[:, :3], self.guidance(x[:, 3:], points))))
        xs = bb.transition(3, xs)
        for i, module in enumerate(bb.stage3):
            xs = module(xs)
            if i + 1 == INTEGRATE_AFTER:
                low, k, q = align_features(feats, roi, xs[0].shape[-2:], xs[2].shape[-2:])
                xs = [self.texture(xs[0], low), xs[1], self.semantic(xs[2], k, q)]
        logits, _, _ = bb.head(bb.stage4(bb.transition(4, xs)))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=True)


class FDRNH(nn.Module):
    """F_θ1 (``extractor``: "hrnet18s" = H1, "hrnet18" = H2) + F_θ2 (``predictor``)."""

    def __init__(self, extractor: str = "hrnet18", predictor: str = "hrnet18"):
        super().__init__()
        self.extractor_version, self.predictor_version = extractor, predictor
        self.extractor = FeatureExtractorH(extractor)
        self.predictor = MaskPredictorH(predictor, HRNETS[extractor][0])
        register_imagenet_normalisation(self)

    def encode_image(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """F_θ1 once per image: (1, 3, H, W) RGB in [0, 1] -> feature dict."""
        return self.extractor((image - self.mean) / self.std)

    def coarse(self, feats: dict, x: torch.Tensor, points: torch.Tensor, roi: tuple):
        """F_θ2 on the crop x (1, 4, h, w) [RGB 0-1, prev]; roi half-open in the image."""
        x = torch.cat([(x[:, :3] - self.mean) / self.std, x[:, 3:]], dim=1)
        return self.predictor(x, points, feats, roi)
