"""RITM's registered architectures and released checkpoints (facts from ``specs/ritm.md``).

`VARIANTS` maps an isbench model name to the architecture family a checkpoint must have;
`CHECKPOINTS` lists the official ``.pth`` files (README "Pretrained models", release v1.0)
with the constructor arguments their training scripts pass, which is what the files'
``config`` records hold as ``specified``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from isbench.reference_models.ritm.model import RitmArch

__all__ = ["CHECKPOINTS", "RELEASE_URL", "VARIANTS", "RitmCheckpoint", "RitmVariant"]

RELEASE_URL = ("https://github.com/SamsungLabs/ritm_interactive_segmentation/releases/"
               "download/v1.0/")
PAPER = "Sofiiuk et al., Reviving Iterative Training with Mask Guidance for IIS, ICIP 2022"

_CLICKS = {"with_aux_output": True, "use_leaky_relu": True, "use_rgb_conv": False,
           "use_disks": True, "norm_radius": 5}


@dataclass(frozen=True)
class RitmVariant:
    """A registered RITM architecture family.

    name: isbench model name. kind: "hrnet" or "deeplab". width, small: HRNet width and
    small flag; backbone: DeepLab backbone. specified: the official constructor call of
    its reference configuration (used to build random-weight checkpoints and benchmarks).
    """

    name: str
    kind: str
    summary: str
    specified: dict = field(default_factory=dict)
    width: int | None = None
    small: bool = False
    backbone: str | None = None

    def matches(self, arch: RitmArch) -> bool:
        """Whether a checkpoint's architecture belongs to this family."""
        if arch.kind != self.kind:
            return False
        if self.kind == "hrnet":
            return arch.width == self.width and arch.small == self.small
        return arch.backbone == self.backbone

    def describe(self, arch: RitmArch) -> str:
        """Short name of an architecture, for error messages."""
        if arch.kind == "hrnet":
            return f"HRNet-W{arch.width}{' small' if arch.small else ''} (OCR {arch.ocr_width})"
        return f"DeepLabV3+ {arch.backbone}"


@dataclass(frozen=True)
class RitmCheckpoint:
    """One released file: its name, the variant it runs as, its training call and data."""

    file: str
    variant: str
    specified: dict
    trained_on: str
    paper: str = PAPER

    @property
    def url(self) -> str:
        return RELEASE_URL + self.file


_H18 = {"width": 18, "ocr_width": 64, **_CLICKS}
VARIANTS: dict[str, RitmVariant] = {v.name: v for v in (
    RitmVariant("ritm-hrnet18s", "hrnet", "RITM HRNet-18s+OCR48 (IT-M)",
                {"width": 18, "ocr_width": 48, "small": True, **_CLICKS, "with_prev_mask": True},
                width=18, small=True),
    RitmVariant("ritm-hrnet18", "hrnet", "RITM HRNet-18+OCR64 (IT-M or baseline)",
                {**_H18, "with_prev_mask": True}, width=18),
    RitmVariant("ritm-hrnet32", "hrnet", "RITM HRNet-32+OCR128 (IT-M)",
                {"width": 32, "ocr_width": 128, **_CLICKS, "with_prev_mask": True}, width=32),
    RitmVariant("ritm-r34", "deeplab", "RITM DeepLabV3+ ResNet-34 baseline (no release)",
                {"backbone": "resnet34", "deeplab_ch": 128, "aspp_dropout": 0.2,
                 "use_leaky_relu": True, "use_rgb_conv": False, "use_disks": True,
                 "norm_radius": 5}, backbone="resnet34"),
    # No training script exists for ResNet-50: the DeeplabModel defaults (256 channels,
    # dropout 0.5) with the ResNet-34 script's click settings; the checkpoint decides.
    RitmVariant("ritm-r50", "deeplab", "RITM DeepLabV3+ ResNet-50 baseline (no release)",
                {"backbone": "resnet50", "use_leaky_relu": True, "use_rgb_conv": False,
                 "use_disks": True, "norm_radius": 5}, backbone="resnet50"),
)}

CHECKPOINTS: dict[str, RitmCheckpoint] = {c.file: c for c in (
    RitmCheckpoint("sbd_h18_itermask.pth", "ritm-hrnet18", {**_H18, "with_prev_mask": True},
                   "SBD"),
    RitmCheckpoint("coco_lvis_h18_baseline.pth", "ritm-hrnet18", dict(_H18), "COCO+LVIS"),
    RitmCheckpoint("coco_lvis_h18s_itermask.pth", "ritm-hrnet18s",
                   VARIANTS["ritm-hrnet18s"].specified, "COCO+LVIS"),
    RitmCheckpoint("coco_lvis_h18_itermask.pth", "ritm-hrnet18", {**_H18, "with_prev_mask": True},
                   "COCO+LVIS"),
    RitmCheckpoint("coco_lvis_h32_itermask.pth", "ritm-hrnet32",
                   VARIANTS["ritm-hrnet32"].specified, "COCO+LVIS"),
)}
