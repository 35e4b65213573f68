"""The released SimpleClick configurations and the builder that turns checkpoint params into a net.

Each variant passes only what differs (width, depth, heads, patch, pyramid and head
widths) to one builder; `build_model` takes the official constructor parameters (as
stored in a checkpoint's ``config['params']``) and refuses any it cannot reproduce.
Facts: ``specs/simpleclick.md`` §1.2, §1.5.
"""

from __future__ import annotations

from dataclasses import dataclass

from isbench.reference_models.simpleclick.model import PlainVitModel, SegHead, SimpleFPN
from isbench.reference_models.simpleclick.vit import VisionTransformer

__all__ = ["VARIANTS", "Variant", "build_model", "official_params", "variant_of"]

PAPER = "SimpleClick: Interactive Image Segmentation with Simple Vision Transformers (ICCV 2023)"


@dataclass(frozen=True)
class Variant:
    """One released SimpleClick architecture and its preprocessing facts.

    checkpoints: released file names (weights on the authors' Google Drive).
    input_size: (H, W) training and evaluation size; davis_size: the DAVIS evaluation size.
    """

    name: str
    embed_dim: int
    depth: int
    num_heads: int
    patch: int
    out_dims: tuple[int, int, int, int]
    channels: int
    checkpoints: tuple[str, ...]
    input_size: tuple[int, int] = (448, 448)
    davis_size: tuple[int, int] = (672, 672)
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    paper: str = PAPER


VARIANTS: dict[str, Variant] = {
    "vit-xt": Variant("vit-xt", 160, 8, 4, 16, (96, 192, 288, 384), 128,
                      ("cocolvis_vit_xtiny.pth", "sbd_vit_xtiny.pth")),
    "vit-b": Variant("vit-b", 768, 12, 12, 16, (128, 256, 512, 1024), 256,
                     ("cocolvis_vit_base.pth", "sbd_vit_base.pth")),
    "vit-l": Variant("vit-l", 1024, 24, 16, 16, (192, 384, 768, 1536), 256,
                     ("cocolvis_vit_large.pth", "sbd_vit_large.pth")),
    "vit-h": Variant("vit-h", 1280, 32, 16, 14, (240, 480, 960, 1920), 256,
                     ("cocolvis_vit_huge.pth", "sbd_vit_huge.pth")),
}

_BACKBONE_KEYS = {"img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
                  "mlp_ratio", "qkv_bias", "num_classes"}
_NECK_KEYS = {"in_dim", "out_dims"}
_HEAD_KEYS = {"in_channels", "in_index", "dropout_ratio", "num_classes", "loss_decode",
              "align_corners", "upsample", "channels"}


def official_params(variant: str, loss_decode: object = None) -> dict:
    """The constructor keywords the official training config passes, in call order.

    loss_decode: the object stored as ``head_params['loss_decode']`` (the official code
    stores a CrossEntropyLoss instance there; it plays no part at inference).
    """
    v = VARIANTS[variant]
    return {
        "use_disks": True,
        "norm_radius": 5,
        "with_prev_mask": True,
        "backbone_params": {
            "img_size": v.input_size, "patch_size": (v.patch, v.patch), "in_chans": 3,
            "embed_dim": v.embed_dim, "depth": v.depth, "num_heads": v.num_heads,
            "mlp_ratio": 4, "qkv_bias": True,
        },
        "neck_params": {"in_dim": v.embed_dim, "out_dims": list(v.out_dims)},
        "head_params": {
            "in_channels": list(v.out_dims), "in_index": [0, 1, 2, 3], "dropout_ratio": 0.1,
            "num_classes": 1, "loss_decode": loss_decode, "align_corners": False,
            "upsample": "x1", "channels": v.channels,
        },
        "random_split": False,
    }


def _check_keys(what: str, params: dict, allowed: set) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(f"SimpleClick checkpoint: unsupported {what} {unknown}")


def build_model(params: dict) -> PlainVitModel:
    """Build a random-init PlainVitModel from official constructor params (plain values).

    Raises ValueError for settings the released models never use and isbench does not
    reproduce (no previous-mask channel, Gaussian click maps, RITM's conv stem, aux output).
    """
    required = {"with_prev_mask": True, "use_disks": True}
    for name, value in required.items():
        if params.get(name, False) != value:
            raise ValueError(f"SimpleClick checkpoint: expected {name}={value}, "
                             f"got {params.get(name)!r}")
    for name in ("with_aux_output", "use_rgb_conv"):
        if params.get(name, False):
            raise ValueError(f"SimpleClick checkpoint: {name}=True is not supported")
    bb, neck, head = (dict(params.get(k) or {}) for k in
                      ("backbone_params", "neck_params", "head_params"))
    _check_keys("backbone_params", bb, _BACKBONE_KEYS)
    _check_keys("neck_params", neck, _NECK_KEYS)
    _check_keys("head_params", head, _HEAD_KEYS)
    if bb.get("in_chans", 3) != 3 or list(head.get("in_index", [0, 1, 2, 3])) != [0, 1, 2, 3]:
        raise ValueError("SimpleClick checkpoint: expected in_chans 3 and in_index [0, 1, 2, 3]")
    backbone = VisionTransformer(
        img_size=tuple(bb.get("img_size", (224, 224))),
        patch_size=tuple(bb.get("patch_size", (16, 16))),
        num_classes=bb.get("num_classes", 1000), embed_dim=bb.get("embed_dim", 768),
        depth=bb.get("depth", 12), num_heads=bb.get("num_heads", 12),
        mlp_ratio=bb.get("mlp_ratio", 4.0), qkv_bias=bb.get("qkv_bias", True),
        global_attention=bool(params.get("random_split", False)),
    )
    fpn = SimpleFPN(neck.get("in_dim", 768), tuple(neck.get("out_dims", (128, 256, 512, 1024))))
    seg = SegHead(head["in_channels"], head["channels"], head.get("num_classes", 1),
                  head.get("upsample", "x1"), head.get("align_corners", False))
    mean, std = params.get("norm_mean_std", ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))
    return PlainVitModel(backbone, fpn, seg, params.get("norm_radius", 5), mean, std)


def variant_of(params: dict) -> str | None:
    """The released variant whose width, depth and patch these params have, else None."""
    bb = params.get("backbone_params") or {}
    patch = tuple(bb.get("patch_size", (16, 16)))
    for name, v in VARIANTS.items():
        if (bb.get("embed_dim"), bb.get("depth"), patch) == (v.embed_dim, v.depth,
                                                             (v.patch, v.patch)):
            return name
    return None
