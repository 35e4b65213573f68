"""DynaMITe (Rana et al., ICCV 2023): configurations, the composed model, test-time
pre/post-processing and strict loading of the official checkpoints.

Loop position: ``DynamiteModel.encode_image`` runs once per image (backbone + pixel
decoder, cached by the adapter); ``DynamiteModel.predict_masks`` runs per click
(interactive transformer + decoder + post-processing at the original resolution).
Clicks reach the model as (y, x, t) in the resized frame (see ``scale_clicks``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from isbench.reference_models.dynamite.interactive_transformer import DynamiteInteractiveTransformer
from isbench.reference_models.dynamite.pixel_decoder import MSDeformAttnPixelDecoder, num_fpn_levels
from PIL import Image
from torch import nn

__all__ = [
    "CONFIGS",
    "DynamiteConfig",
    "DynamiteModel",
    "ImageFeatures",
    "build_model",
    "detect_config",
    "instance_masks_from_logits",
    "load_checkpoint",
    "preprocess_image",
    "resized_size",
    "scale_clicks",
]

PIXEL_MEAN = (123.675, 116.280, 103.530)
PIXEL_STD = (58.395, 57.120, 57.375)
MIN_SIZE_TEST, MAX_SIZE_TEST, SIZE_DIVISIBILITY = 800, 1333, 32


@dataclass(frozen=True)
class DynamiteConfig:
    """One released checkpoint: backbone constructor, its map channels and declared strides.

    backbone: ``module:Class`` under ``isbench.reference_models.dynamite``;
    backbone_args: its kwargs.
    marker_key: a state-dict key present only in this configuration (for detection).
    deform_layers, enc_layers, dec_layers, dim_feedforward: head sizes (pixel-decoder
        deformable layers, interactive-encoder layers, pixel-token decoder layers, encoder FFN).
    """

    name: str
    official_config: str
    readme_label: str
    backbone: str
    backbone_args: dict = field(default_factory=dict)
    in_channels: tuple[int, ...] = ()
    declared_strides: tuple[int, ...] = (4, 8, 16, 32)
    marker_key: str = ""
    min_size: int = MIN_SIZE_TEST
    max_size: int = MAX_SIZE_TEST
    pixel_mean: tuple[float, ...] = PIXEL_MEAN
    pixel_std: tuple[float, ...] = PIXEL_STD
    paper: str = "arXiv:2304.06668"
    deform_layers: int = 6
    enc_layers: int = 9
    dec_layers: int = 5
    dim_feedforward: int = 2048


_MITB0 = {
    "dims": [32, 64, 160, 256],
    "heads": [1, 2, 5, 8],
    "depths": [2, 2, 2, 2],
    "srs": [8, 4, 2, 1],
}

CONFIGS: dict[str, DynamiteConfig] = {
    # Not released: the official MiT-B0 model with a lighter head (1 deformable layer, 3
    # interactive-encoder layers with FFN 256, 1 decoder layer), same key names. Listed first
    # so detection checks its FFN width before the plain MiT-B0 marker.
    "mitb0-small": DynamiteConfig(
        "mitb0-small",
        "configs/coco_lvis/segformer/dynamite_mitb0_bs32_ep50.yaml (lighter head, isbench)",
        "Segformer-B0, small head (isbench)",
        "mit:MixVisionTransformer",
        _MITB0,
        (32, 64, 160, 256),
        marker_key="sem_seg_head.interactive_transformer.encoder.ffn_layers.0.linear1.weight:256",
        paper="isbench variant of arXiv:2304.06668",
        deform_layers=1,
        enc_layers=3,
        dec_layers=1,
        dim_feedforward=256,
    ),
    "swin-t": DynamiteConfig(
        "swin-t",
        "configs/coco_lvis/swin/dynamite_swin_tiny_bs32_ep50.yaml",
        "Swin-Tiny",
        "swin:SwinTransformer",
        {"embed_dim": 96, "depths": [2, 2, 6, 2], "heads": [3, 6, 12, 24], "window": 7},
        (96, 192, 384, 768),
        marker_key="backbone.norm3.weight:768",
    ),
    "swin-l": DynamiteConfig(
        "swin-l",
        "configs/coco_lvis/swin/dynamite_swin_large_bs32_ep100.yaml",
        "Swin-Large",
        "swin:SwinTransformer",
        {"embed_dim": 192, "depths": [2, 2, 18, 2], "heads": [6, 12, 24, 48], "window": 12},
        (192, 384, 768, 1536),
        marker_key="backbone.norm3.weight:1536",
    ),
    "mitb0": DynamiteConfig(
        "mitb0",
        "configs/coco_lvis/segformer/dynamite_mitb0_bs32_ep50.yaml",
        "Segformer-B0",
        "mit:MixVisionTransformer",
        _MITB0,
        (32, 64, 160, 256),
        marker_key="backbone.patch_embed1.proj.weight",
    ),
    "r50": DynamiteConfig(
        "r50",
        "configs/coco_lvis/resnet/dynamite_R50_bs32_ep50.yaml",
        "Resent50",
        "resnet:ResNet50",
        {},
        (256, 512, 1024, 2048),
        marker_key="backbone.stem.conv1.weight",
    ),
    "hrnet32": DynamiteConfig(
        "hrnet32",
        "configs/coco_lvis/hrnet/dynamite_hrnet32_bs32_ep50.yaml",
        "HRNet32",
        "hrnet:HRNetW32",
        {},
        (32, 64, 128, 256),
        declared_strides=(1, 1, 1, 1),
        marker_key="backbone.transition1.0.0.weight",
    ),
}


def build_backbone(cfg: DynamiteConfig) -> nn.Module:
    module_name, _, cls = cfg.backbone.partition(":")
    module = importlib.import_module(f"isbench.reference_models.dynamite.{module_name}")
    return getattr(module, cls)(**cfg.backbone_args)


class _Head(nn.Module):
    """``sem_seg_head``: the pixel decoder and the interactive transformer."""

    def __init__(self, cfg: DynamiteConfig):
        super().__init__()
        levels = num_fpn_levels(list(cfg.declared_strides[1:]))
        self.pixel_decoder = MSDeformAttnPixelDecoder(
            list(cfg.in_channels), levels, deform_layers=cfg.deform_layers
        )
        self.interactive_transformer = DynamiteInteractiveTransformer(
            enc_layers=cfg.enc_layers,
            dec_layers=cfg.dec_layers,
            dim_feedforward=cfg.dim_feedforward,
        )


@dataclass
class ImageFeatures:
    """What is cached per image: the padded input's sizes and the pixel-decoder outputs.

    orig_size, resized_size: (h, w) of the original and resized (unpadded) image.
    mask_features: (1, 256, Hp/4, Wp/4); multi_scale_features: [1/32, 1/16, 1/8] maps.
    """

    orig_size: tuple[int, int]
    resized_size: tuple[int, int]
    padded_size: tuple[int, int]
    mask_features: torch.Tensor
    multi_scale_features: list[torch.Tensor]


def resized_size(h: int, w: int, short: int = MIN_SIZE_TEST, max_size: int = MAX_SIZE_TEST):
    """detectron2 ``ResizeShortestEdge`` size: shortest side ``short``, longest <= ``max_size``,
    each side rounded as int(v + 0.5). Returns (new_h, new_w)."""
    scale = short / min(h, w)
    nh, nw = (short, scale * w) if h < w else (scale * h, short)
    if max(nh, nw) > max_size:
        scale = max_size / max(nh, nw)
        nh, nw = nh * scale, nw * scale
    return int(nh + 0.5), int(nw + 0.5)


def preprocess_image(
    image: np.ndarray, cfg: DynamiteConfig
) -> tuple[torch.Tensor, tuple[int, int]]:
    """(H, W, 3) uint8 RGB -> ((1, 3, Hp, Wp) float32 normalised and zero-padded to 32, (h', w')).

    Resized with PIL bilinear to ``resized_size``; padding is 0 after normalisation.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image: expected (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
    nh, nw = resized_size(image.shape[0], image.shape[1], cfg.min_size, cfg.max_size)
    resized = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR))
    x = torch.from_numpy(resized.astype(np.float32)).permute(2, 0, 1)
    x = (x - torch.tensor(cfg.pixel_mean)[:, None, None]) / torch.tensor(cfg.pixel_std)[
        :, None, None
    ]
    ph, pw = (-nh) % SIZE_DIVISIBILITY, (-nw) % SIZE_DIVISIBILITY
    return F.pad(x, (0, pw, 0, ph))[None], (nh, nw)


def scale_clicks(yx: list[tuple[int, int]], orig_size, new_size) -> list[tuple[float, float]]:
    """Original integer (y, x) -> float (y*h'/h, x*w'/w) in the resized frame.

    No half-pixel shift, as the official mapper.
    """
    (h, w), (nh, nw) = orig_size, new_size
    return [(y * nh / h, x * nw / w) for y, x in yx]


def instance_masks_from_logits(logits: torch.Tensor, clicks_per_object: list[int]) -> torch.Tensor:
    """(Q, H, W) query logits -> (N, H, W) scores used for the argmax.

    Object k's score is the max over its ``clicks_per_object[k]`` consecutive channels; the
    remaining channels (background clicks, static background queries) are returned after them,
    so ``argmax(dim=0) == k`` is object k's mask (ties to the lower channel, as torch.argmax).
    Returns (N + #background channels, H, W).
    """
    n_fg = sum(clicks_per_object)
    objects = [part.max(dim=0).values for part in torch.split(logits[:n_fg], clicks_per_object)]
    return torch.cat([torch.stack(objects), logits[n_fg:]])


class DynamiteModel(nn.Module):
    """``backbone`` + ``sem_seg_head`` with the official state-dict layout."""

    def __init__(self, cfg: DynamiteConfig):
        super().__init__()
        self.cfg = cfg
        self.backbone = build_backbone(cfg)
        self.sem_seg_head = _Head(cfg)

    def set_resize(self, min_size: int | None = None, max_size: int | None = None) -> None:
        """Override the test-time resize (None keeps the current value)."""
        self.cfg = replace(
            self.cfg, min_size=min_size or self.cfg.min_size, max_size=max_size or self.cfg.max_size
        )

    @torch.no_grad()
    def encode_image(self, image: np.ndarray) -> ImageFeatures:
        """Backbone + pixel decoder on the preprocessed image (run once per image)."""
        x, new_size = preprocess_image(image, self.cfg)
        x = x.to(next(self.parameters()).device)
        mask_features, multi_scale = self.sem_seg_head.pixel_decoder(self.backbone(x))
        return ImageFeatures(
            image.shape[:2], new_size, tuple(x.shape[-2:]), mask_features, multi_scale
        )

    @torch.no_grad()
    def predict_logits(self, feats: ImageFeatures, fg_coords, bg_coords, max_timestamp: int):
        """Per-query logits at the original resolution: (Q, H, W) float32.

        fg_coords / bg_coords: (y, x, t) in the resized frame, as for the transformer.
        """
        logits = self._query_logits(feats, fg_coords, bg_coords, max_timestamp)
        return self._to_original(logits, feats)

    @torch.no_grad()
    def object_scores(self, feats: ImageFeatures, fg_coords, bg_coords, max_timestamp: int):
        """(N + 1, H, W): per object the max of its query logits, then the max of all
        background channels, at the original resolution.

        Equal to reducing ``predict_logits`` (upsample first, then max), computed one object
        at a time so memory stays at (max clicks per object) full-size maps, not Q.
        """
        logits = self._query_logits(feats, fg_coords, bg_coords, max_timestamp)
        sizes = [len(obj) for obj in fg_coords]
        n_fg = sum(sizes)
        groups = list(torch.split(logits[:n_fg], sizes)) + [logits[n_fg:]]
        return torch.stack([self._to_original(g, feats).max(dim=0).values for g in groups])

    def _query_logits(self, feats: ImageFeatures, fg_coords, bg_coords, max_timestamp: int):
        """(Q, H/4, W/4) logits of the interactive transformer (padded frame)."""
        return self.sem_seg_head.interactive_transformer(
            feats.multi_scale_features, feats.mask_features, fg_coords, bg_coords, max_timestamp
        )[0]

    @staticmethod
    def _to_original(logits: torch.Tensor, feats: ImageFeatures) -> torch.Tensor:
        """(q, H/4, W/4) -> (q, H, W): bilinear to the padded size, crop, bilinear to original."""
        logits = F.interpolate(
            logits[None], size=feats.padded_size, mode="bilinear", align_corners=False
        )
        nh, nw = feats.resized_size
        return F.interpolate(
            logits[:, :, :nh, :nw], size=feats.orig_size, mode="bilinear", align_corners=False
        )[0]


def build_model(config: str) -> DynamiteModel:
    """A randomly initialised model of configuration ``config`` (a ``CONFIGS`` name), eval mode."""
    if config not in CONFIGS:
        raise ValueError(f"DynaMITe config {config!r}: expected one of {', '.join(CONFIGS)}")
    return DynamiteModel(CONFIGS[config]).eval()


def detect_config(state_dict: dict) -> str:
    """The configuration whose marker key (and channel count, ``key:channels``) is present."""
    for name, cfg in CONFIGS.items():
        key, _, channels = cfg.marker_key.partition(":")
        if key in state_dict and (not channels or state_dict[key].shape[0] == int(channels)):
            return name
    raise ValueError(
        "DynaMITe checkpoint: cannot recognise the backbone from its keys "
        f"(expected one of {', '.join(CONFIGS)}; pass --model-arg config=NAME)"
    )


def _try_detect(state_dict: dict) -> str | None:
    try:
        return detect_config(state_dict)
    except ValueError:
        return None


def _read_checkpoint(path: str | Path) -> tuple[dict, dict]:
    """(state_dict, isbench section or {}) of a ``{"model": state_dict, ...}`` file."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"DynaMITe checkpoint {str(path)!r}: file not found") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error
        raise ValueError(
            f"DynaMITe checkpoint {str(path)!r}: not a readable torch file ({exc})"
        ) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("model"), dict):
        raise ValueError(  # noqa: TRY004 - a wrong file is a user error (CLI exit code 2)
            f"DynaMITe checkpoint {str(path)!r}: "
            "expected a detectron2 file {'model': state_dict, ...}"
        )
    section = obj.get("isbench")
    return obj["model"], section if isinstance(section, dict) else {}


def load_checkpoint(path: str | Path, config: str | None = None) -> DynamiteModel:
    """Build the model for the official ``.pth`` at ``path`` and load it strictly (eval mode).

    config: force a configuration name; by default it is detected from the keys.
    A file written by ``isbench train`` carries an ``isbench`` section: its ``eval_size``
    (else ``input_size``) becomes the test-time shortest side, and the section is kept as
    ``model.isbench_section`` ({} for official files). Float16 tensors are cast to float32
    on loading.
    Raises ValueError naming the first missing/unexpected/mis-shaped keys on any mismatch.
    """
    state, section = _read_checkpoint(path)
    if config is not None and config not in CONFIGS:
        raise ValueError(f"DynaMITe config {config!r}: expected one of {', '.join(CONFIGS)}")
    detected = detect_config(state) if config is None else _try_detect(state)
    if config is not None and detected not in (None, config):
        raise ValueError(
            f"DynaMITe checkpoint {str(path)!r} holds the {detected!r} configuration, "
            f"not {config!r} (use --model dynamite-{detected})"
        )
    model = build_model(config or detected)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = [
            f"{label} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("wrong shape", shapes),
            )
            if keys
        ]
        raise ValueError(
            f"DynaMITe checkpoint {str(path)!r} ({model.cfg.name}): " + "; ".join(parts)
        )
    model.load_state_dict(state, strict=True)
    model.isbench_section = section
    size = section.get("eval_size") or section.get("input_size")
    if size:
        model.set_resize(min_size=int(size))
    return model
