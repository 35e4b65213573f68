"""RITM's interactive-segmentation network: click maps + previous mask → backbone → logits.

``RitmNet(arch)`` reproduces the official ``ISModel`` forward for ``HRNetModel`` and
``DeeplabModel``: normalise RGB, encode the clicks as two disk maps (``DistMaps``), stack
``[prev_mask, positive, negative]``, embed them with ``maps_transform`` (Conv1S: 1×1 conv,
LeakyReLU, stride-2 3×3 conv, learned scale) and add them inside the backbone stem, then
upsample the 1/4-resolution logits to the input size (bilinear, ``align_corners=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from isbench.reference_models.ritm.deeplab import DeepLabV3Plus, SepConvHead
from isbench.reference_models.ritm.hrnet import HRNetOCR
from torch import nn

__all__ = ["DistMaps", "RitmArch", "RitmNet"]

IMAGENET_MEAN_STD = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@dataclass(frozen=True)
class RitmArch:
    """Architecture of one RITM network (the official constructor arguments that matter).

    kind: "hrnet" (``HRNetModel``) or "deeplab" (``DeeplabModel``).
    width, ocr_width, small: HRNet branch width, OCR width, small variant.
    backbone, deeplab_ch, aspp_dropout: DeepLab backbone ("resnet34"/"resnet50"), channels,
        ASPP projection dropout.
    with_prev_mask: a 4th input channel carries the previous probability map.
    with_aux_output: also return ``instances_aux`` (HRNet OCR soft-region logits).
    use_disks, norm_radius: disk click maps of this radius (else tanh distance maps).
    use_leaky_relu: LeakyReLU(0.2) in ``maps_transform`` (else ReLU).
    binary_prev_mask: threshold the previous mask at 0.5 before use.
    norm_mean_std: RGB mean and std for input normalisation.
    """

    kind: str = "hrnet"
    width: int = 18
    ocr_width: int = 64
    small: bool = False
    backbone: str = "resnet34"
    deeplab_ch: int = 128
    aspp_dropout: float = 0.2
    with_prev_mask: bool = True
    with_aux_output: bool = True
    use_disks: bool = True
    norm_radius: float = 5
    use_leaky_relu: bool = True
    binary_prev_mask: bool = False
    norm_mean_std: tuple = IMAGENET_MEAN_STD


class DistMaps(nn.Module):
    """Click encoding: ``forward(x (B, C, H, W), points (B, 2N, 3)) -> (B, 2, H, W)`` float32.

    ``points`` rows ``0..N-1`` are positive, ``N..2N-1`` negative clicks, each ``(y, x,
    order)`` (order unused); a row with ``max(y, x) < 0`` is padding. Per channel, a pixel
    ``(r, c)`` takes the smallest ``(r-y)² + (c-x)²`` over that channel's clicks (float32,
    non-integer centres allowed); disk mode outputs ``1.0`` where it is ``<= R²``, distance
    mode ``tanh(2·sqrt(...))`` with coordinates divided by ``R`` first.
    """

    def __init__(self, norm_radius: float, use_disks: bool):
        super().__init__()
        self.norm_radius, self.use_disks = norm_radius, use_disks

    def forward(self, x: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        b, n2 = points.shape[:2]
        rows, cols = x.shape[2], x.shape[3]
        pts = points[..., :2].to(torch.float32)
        invalid = pts.max(dim=2).values < 0
        r = torch.arange(rows, dtype=torch.float32, device=x.device).view(1, 1, rows, 1)
        c = torch.arange(cols, dtype=torch.float32, device=x.device).view(1, 1, 1, cols)
        dy = r - pts[..., 0].reshape(b, n2, 1, 1)
        dx = c - pts[..., 1].reshape(b, n2, 1, 1)
        if not self.use_disks:
            dy, dx = dy.div(self.norm_radius), dx.div(self.norm_radius)
        d2 = dy * dy + dx * dx
        d2 = torch.where(invalid.view(b, n2, 1, 1), torch.full_like(d2, 1e6), d2)
        d2 = d2.view(b, 2, n2 // 2, rows, cols).min(dim=2).values
        if self.use_disks:
            return (d2 <= float(self.norm_radius) ** 2).float()
        return d2.sqrt().mul(2).tanh()


class ScaleLayer(nn.Module):
    """Multiply by ``|scale|`` (a learned scalar, initialised to ``init_value``)."""

    def __init__(self, init_value: float = 0.05):
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), init_value, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.abs(self.scale)


class RitmNet(nn.Module):
    """The whole RITM network; ``state_dict()`` keys equal the official checkpoints'.

    ``forward(image, points)``: image ``(B, 3 or 4, H, W)`` float32, RGB in [0, 1] plus the
    previous probability map as channel 3 if ``arch.with_prev_mask``; points ``(B, 2N, 3)``
    as for `DistMaps`. Returns ``{"instances": (B, 1, H, W) logits}`` (and
    ``"instances_aux"`` for HRNet with ``with_aux_output``).
    """

    def __init__(self, arch: RitmArch):
        super().__init__()
        self.arch = arch
        self.with_prev_mask = arch.with_prev_mask
        mean, std = arch.norm_mean_std
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        coord_ch = 3 if arch.with_prev_mask else 2
        act = nn.LeakyReLU(0.2) if arch.use_leaky_relu else nn.ReLU(inplace=True)
        self.maps_transform = nn.Sequential(nn.Conv2d(coord_ch, 16, 1), act,
                                            nn.Conv2d(16, 64, 3, 2, 1), ScaleLayer(0.05))
        self.dist_maps = DistMaps(arch.norm_radius, arch.use_disks)
        if arch.kind == "hrnet":
            self.feature_extractor = HRNetOCR(arch.width, arch.ocr_width, arch.small)
        elif arch.kind == "deeplab":
            depth = {"resnet34": 34, "resnet50": 50}.get(arch.backbone)
            if depth is None:
                raise ValueError(f"RITM DeepLab backbone {arch.backbone!r}: expected resnet34 "
                                 "or resnet50")
            self.feature_extractor = DeepLabV3Plus(depth, arch.deeplab_ch, arch.aspp_dropout)
            self.head = SepConvHead(1, arch.deeplab_ch, arch.deeplab_ch // 2, num_layers=2)
        else:
            raise ValueError(f"RITM architecture kind {arch.kind!r}: expected hrnet or deeplab")

    def forward(self, image: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        prev = None
        if self.with_prev_mask:
            image, prev = image[:, :3], image[:, 3:]
            if self.arch.binary_prev_mask:
                prev = (prev > 0.5).float()
        image = (image - self.mean) / self.std
        coord = self.dist_maps(image, points)
        if prev is not None:
            coord = torch.cat((prev, coord), dim=1)
        coord = self.maps_transform(coord)
        size = image.shape[2:]
        if self.arch.kind == "hrnet":
            logits, aux, _ = self.feature_extractor(image, coord)
        else:
            logits, aux = self.head(self.feature_extractor(image, coord)), None
        out = {"instances": F.interpolate(logits, size=size, mode="bilinear", align_corners=True)}
        if self.arch.with_aux_output and aux is not None:
            out["instances_aux"] = F.interpolate(aux, size=size, mode="bilinear",
                                                 align_corners=True)
        return out
