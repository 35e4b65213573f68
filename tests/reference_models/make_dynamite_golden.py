"""Regenerate ``dynamite_golden_official.npz`` from the official DynaMITe code (not a test).

    python tests/reference_models/make_dynamite_golden.py GIT_DIR [config ...]

GIT_DIR: a git directory of github.com/amitrana001/DynaMITe (e.g. the ``fetch`` mirror).
The official model files are extracted to a temporary folder and imported with small
stand-ins for the detectron2 / fvcore / einops names they use (no CUDA op: ``MSDeformAttn``
falls back to its pure-PyTorch path). The weights come from ``dynamite_golden.fill_state_dict``
on isbench's state dict, loaded strictly into the official modules; the stored values are
``dynamite_golden.logits_sample`` of the official logits at the original resolution.
"""

from __future__ import annotations

import collections
import importlib
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import dynamite_golden as dg
from isbench.reference_models.dynamite.model import build_model, preprocess_image

_MODELING = [
    "backbone/swin.py",
    "backbone/mixvision.py",
    "backbone/hrnet.py",
    "pixel_decoder/msdeformattn.py",
    "pixel_decoder/ops/modules/__init__.py",
    "pixel_decoder/ops/modules/ms_deform_attn.py",
    "pixel_decoder/ops/functions/__init__.py",
    "pixel_decoder/ops/functions/ms_deform_attn_func.py",
    "interactive_transformer/position_encoding.py",
    "interactive_transformer/utils.py",
    "interactive_transformer/encoder.py",
    "interactive_transformer/decoder.py",
    "interactive_transformer/descriptor_initializer.py",
    "interactive_transformer/dynamite_interactive_transformer.py",
    "interactive_transformer/transformer.py",
]
OFFICIAL_FILES = [f"dynamite/modeling/{f}" for f in _MODELING] + ["dynamite/utils/train_utils.py"]


def _module(name: str, **attrs) -> None:
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m


class _Registry:
    def __init__(self, *args):
        pass

    def register(self, obj=None):
        return (lambda o: o) if obj is None else obj


class _D2Conv2d(nn.Conv2d):
    """detectron2 ``Conv2d``: convolution, then optional norm, then optional activation."""

    def __init__(self, *args, norm=None, activation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.norm, self.activation = norm, activation

    def forward(self, x):
        x = super().forward(x)
        x = self.norm(x) if self.norm is not None else x
        return self.activation(x) if self.activation is not None else x


def _point_sample(inputs, coords, **kwargs):
    """detectron2 ``point_sample``: grid_sample at 2*coords-1, (N, P, 2) -> (N, C, P)."""
    return F.grid_sample(inputs, 2.0 * coords.unsqueeze(2) - 1.0, **kwargs).squeeze(3)


def _repeat(t, pattern, **ax):
    shapes = {
        "C -> 1 L C": lambda: t[None, None].expand(1, ax.get("L", 0), -1),
        "C -> Q N C": lambda: t[None, None].expand(ax.get("Q", 0), ax.get("N", 0), -1),
        "Bg C -> Bg N C": lambda: t[:, None].expand(-1, ax.get("N", 0), -1),
        "Bg C -> N Bg C": lambda: t[None].expand(ax.get("N", 0), -1, -1),
    }
    return shapes[pattern]()


def _rearrange(t, pattern, **ax):
    if pattern == "B C H W -> (H W) B C":
        return t.flatten(2).permute(2, 0, 1)
    return t.permute(1, 2, 0).reshape(ax["B"], -1, ax["H"], ax["W"])


def install_stand_ins() -> None:
    shape_spec = collections.namedtuple(
        "ShapeSpec", "channels height width stride", defaults=[None] * 4
    )
    registry = _Registry()
    backbone = type("Backbone", (nn.Module,), {})
    _module("detectron2")
    _module(
        "detectron2.modeling",
        BACKBONE_REGISTRY=registry,
        Backbone=backbone,
        ShapeSpec=shape_spec,
        SEM_SEG_HEADS_REGISTRY=registry,
    )
    _module("detectron2.modeling.backbone", Backbone=backbone, BACKBONE_REGISTRY=registry)
    _module("detectron2.modeling.backbone.backbone", Backbone=backbone)
    _module("detectron2.modeling.backbone.fpn", FPN=None, LastLevelMaxPool=None, LastLevelP6P7=None)
    _module(
        "detectron2.layers",
        ShapeSpec=shape_spec,
        Conv2d=_D2Conv2d,
        get_norm=lambda norm, ch: nn.GroupNorm(32, ch),
    )
    _module("detectron2.config", configurable=lambda fn: fn)
    _module("detectron2.utils")
    _module("detectron2.utils.registry", Registry=_Registry)
    _module("detectron2.utils.comm")
    _module("detectron2.utils.memory", retry_if_cuda_oom=lambda fn: fn)
    _module("detectron2.structures", Boxes=None, ImageList=None, Instances=None, BitMasks=None)
    _module("detectron2.projects")
    _module("detectron2.projects.point_rend")
    _module("detectron2.projects.point_rend.point_features", point_sample=_point_sample)
    _module("fvcore")
    _module("fvcore.nn")
    _module("fvcore.nn.weight_init", c2_xavier_fill=lambda m: None)
    _module("einops", repeat=_repeat, rearrange=_rearrange)
    _module("MultiScaleDeformableAttention")


def extract(git_dir: str, dest: Path) -> None:
    """Write the official files under dest/dynamite/modeling with empty package inits."""
    for rel in OFFICIAL_FILES:
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        show = ["git", "--git-dir", git_dir, "show", f"HEAD:{rel}"]
        path.write_text(subprocess.run(show, check=True, capture_output=True, text=True).stdout)
    for folder in dest.rglob("*"):
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")


class _Cfg(types.SimpleNamespace):
    def __getitem__(self, key):
        return getattr(self, key)


def official_modules(config: str, in_channels):
    """(backbone, feature names, declared strides, pixel decoder, interactive transformer)."""
    off = "dynamite.modeling."
    if config == "swin-t":
        swin = importlib.import_module(off + "backbone.swin")
        bb = swin.SwinTransformer(
            embed_dim=96,
            depths=[2, 2, 6, 2],
            num_heads=[3, 6, 12, 24],
            window_size=7,
            qkv_bias=True,
            out_indices=(0, 1, 2, 3),
        )
        names, strides = ["res2", "res3", "res4", "res5"], [4, 8, 16, 32]
    elif config == "mitb0":
        bb = importlib.import_module(off + "backbone.mixvision").mit_b0()
        names, strides = ["mit1", "mit2", "mit3", "mit4"], [4, 8, 16, 32]
    else:

        def stage(m, b, ch):
            return _Cfg(
                NUM_MODULES=m,
                NUM_BRANCHES=b,
                BLOCK="BASIC",
                NUM_BLOCKS=[4] * b,
                NUM_CHANNELS=ch,
                FUSE_METHOD="SUM",
            )

        hrnet_cfg = _Cfg(
            STEM_INPLANES=64,
            STAGE2=stage(1, 2, [32, 64]),
            STAGE3=stage(4, 3, [32, 64, 128]),
            STAGE4=stage(3, 4, [32, 64, 128, 256]),
        )
        hrnet = importlib.import_module(off + "backbone.hrnet")
        bb = hrnet.HigherResolutionNet(_Cfg(MODEL=_Cfg(HRNET=hrnet_cfg)))
        names, strides = ["p1", "p2", "p3", "p4"], [1, 1, 1, 1]
    msd = importlib.import_module(off + "pixel_decoder.msdeformattn")
    shapes = {
        n: msd.ShapeSpec(channels=c, stride=s) for n, c, s in zip(names, in_channels, strides)
    }
    pd = msd.MSDeformAttnPixelDecoder(
        shapes,
        transformer_dropout=0.0,
        transformer_nheads=8,
        refine_mask_features=True,
        transformer_dim_feedforward=1024,
        transformer_enc_layers=6,
        conv_dim=256,
        mask_dim=256,
        norm="GN",
        transformer_in_features=names[1:],
        common_stride=4,
    )
    it_mod = importlib.import_module(
        off + "interactive_transformer.dynamite_interactive_transformer"
    )
    it = it_mod.DynamiteInteractiveTransformer(
        256,
        max_num_interactions=10,
        use_decoder=True,
        dec_layers=5,
        dec_scale_factor=1.0,
        use_static_bg_queries=True,
        num_static_bg_queries=9,
        hidden_dim=256,
        nheads=8,
        dim_feedforward=2048,
        enc_layers=9,
        pre_norm=False,
        mask_dim=256,
        enforce_input_project=False,
        positional_embeddings="spatio_temporal",
    )
    return bb, pd, it


def official_logits(config: str) -> np.ndarray:
    model = build_model(config)
    model.set_resize(*dg.RESIZE)
    state = model.state_dict()
    with torch.no_grad():
        dg.fill_state_dict(state)
    bb, pd, it = official_modules(config, model.cfg.in_channels)
    for module, prefix in (
        (bb, "backbone."),
        (pd, "sem_seg_head.pixel_decoder."),
        (it, "sem_seg_head.interactive_transformer."),
    ):
        module.load_state_dict(
            {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        )
        module.eval()
    image = dg.golden_image()
    x, size = preprocess_image(image, model.cfg)
    fg, bg = dg.golden_clicks(size)
    with torch.no_grad():
        mask_features, _, multi_scale = pd.forward_features(bb(x))
        out, _ = it(
            None,
            None,
            [len(fg)],
            multi_scale,
            mask_features,
            [dg.CLICKS_PER_OBJECT],
            [[[list(c) for c in obj] for obj in fg]],
            [[list(c) for c in bg]],
            [dg.MAX_TIMESTAMP],
        )
        logits = F.interpolate(
            out["pred_masks"], size=x.shape[-2:], mode="bilinear", align_corners=False
        )[:, :, : size[0], : size[1]]
        logits = F.interpolate(logits, size=image.shape[:2], mode="bilinear", align_corners=False)
    return dg.logits_sample(logits[0])


def main() -> None:
    git_dir, configs = sys.argv[1], sys.argv[2:] or ["mitb0", "swin-t", "hrnet32"]
    install_stand_ins()
    with tempfile.TemporaryDirectory() as tmp:
        extract(git_dir, Path(tmp))
        sys.path.insert(0, tmp)
        golden = {c: official_logits(c) for c in configs}
    out = Path(__file__).parent / "dynamite_golden_official.npz"
    np.savez_compressed(out, **golden)
    print(f"wrote {out}: " + ", ".join(f"{c} {v.shape}" for c, v in golden.items()))


if __name__ == "__main__":
    main()
