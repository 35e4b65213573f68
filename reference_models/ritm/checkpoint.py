"""Read and write RITM checkpoints in the official file format, loading strictly.

An official ``.pth`` is ``{"state_dict": OrderedDict, "config": {"class": str, "params":
{name: {"type", "value", "specified"}}}}`` (``isegm/utils/serialization.py``). The class
path picks ``HRNetModel`` or ``DeeplabModel``; the params' values pick the architecture.
Every value is a plain builtin (a ``"class"`` param is stored as its dotted-path string),
so the file loads with ``torch.load(weights_only=True)``: nothing is imported from the
official package and no pickled code runs. Unlike the official loader (``strict=False``),
any missing, unexpected or mis-shaped key is an error.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from isbench.reference_models.ritm.model import IMAGENET_MEAN_STD, RitmArch, RitmNet

__all__ = ["arch_from_config", "load_checkpoint", "official_config", "save_checkpoint"]

HRNET_CLASS = "isegm.model.is_hrnet_model.HRNetModel"
DEEPLAB_CLASS = "isegm.model.is_deeplab_model.DeeplabModel"
BATCHNORM = "torch.nn.modules.batchnorm.BatchNorm2d"

# Constructor defaults in the official MRO order (model class first, then ISModel), the
# order `serialize` writes the unspecified ones in.
_OWN_DEFAULTS = {
    "HRNetModel": {"width": 48, "ocr_width": 256, "small": False, "backbone_lr_mult": 0.1,
                   "norm_layer": BATCHNORM},
    "DeeplabModel": {"backbone": "resnet50", "deeplab_ch": 256, "aspp_dropout": 0.5,
                     "backbone_norm_layer": None, "backbone_lr_mult": 0.1,
                     "norm_layer": BATCHNORM},
}
_ISMODEL_DEFAULTS = {
    "use_rgb_conv": True, "with_aux_output": False, "norm_radius": 260, "use_disks": False,
    "cpu_dist_maps": False, "clicks_groups": None, "with_prev_mask": False,
    "use_leaky_relu": False, "binary_prev_mask": False, "conv_extend": False,
    "norm_layer": BATCHNORM, "norm_mean_std": tuple(list(v) for v in IMAGENET_MEAN_STD),
}
# Values this implementation cannot reproduce (the released models use none of them).
_UNSUPPORTED = {"use_rgb_conv": True, "conv_extend": True}


def _defaults(class_name: str) -> dict:
    own = _OWN_DEFAULTS[class_name]
    return {**own, **{k: v for k, v in _ISMODEL_DEFAULTS.items() if k not in own}}


def arch_from_config(config: dict, name: str = "checkpoint") -> RitmArch:
    """The `RitmArch` an official ``config`` record describes (ValueError if unsupported)."""
    if not isinstance(config, dict) or not isinstance(config.get("params"), dict):
        raise ValueError(f"{name}: 'config' must be a dict with 'class' and 'params' "
                         "(an official RITM checkpoint)")
    class_name = str(config.get("class", "")).rsplit(".", 1)[-1]
    if class_name not in _OWN_DEFAULTS:
        raise ValueError(f"{name}: config class {config.get('class')!r}: expected "
                         f"{HRNET_CLASS} or {DEEPLAB_CLASS}")
    values = _defaults(class_name)
    for key, param in config["params"].items():
        if key not in values:
            raise ValueError(f"{name}: unknown {class_name} parameter {key!r} in config")
        values[key] = param["value"] if isinstance(param, dict) else param
    for key, bad in _UNSUPPORTED.items():
        if values[key] == bad:
            raise ValueError(f"{name}: {key}={bad!r} is not supported (no released RITM model "
                             "uses it)")
    if values["clicks_groups"] is not None:
        raise ValueError(f"{name}: clicks_groups={values['clicks_groups']!r} is not supported")
    for key in ("norm_layer", "backbone_norm_layer"):
        if values.get(key) not in (None, BATCHNORM):
            raise ValueError(f"{name}: {key}={values[key]!r}: expected {BATCHNORM}")
    mean, std = values["norm_mean_std"]
    common = dict(
        with_prev_mask=bool(values["with_prev_mask"]),
        with_aux_output=bool(values["with_aux_output"]), use_disks=bool(values["use_disks"]),
        norm_radius=values["norm_radius"], use_leaky_relu=bool(values["use_leaky_relu"]),
        binary_prev_mask=bool(values["binary_prev_mask"]),
        norm_mean_std=(tuple(mean), tuple(std)))
    if class_name == "HRNetModel":
        return RitmArch(kind="hrnet", width=int(values["width"]),
                        ocr_width=int(values["ocr_width"]), small=bool(values["small"]), **common)
    return RitmArch(kind="deeplab", backbone=str(values["backbone"]),
                    deeplab_ch=int(values["deeplab_ch"]),
                    aspp_dropout=float(values["aspp_dropout"]), **common)


def official_config(arch: RitmArch, specified: dict) -> dict:
    """The ``config`` record the official ``@serialize`` writes for a model built with the
    keyword arguments ``specified`` (in call order): those first, then every default."""
    class_name = "HRNetModel" if arch.kind == "hrnet" else "DeeplabModel"
    params = {k: {"type": "builtin", "value": v, "specified": True} for k, v in specified.items()}
    for key, value in _defaults(class_name).items():
        if key not in params:
            kind = "class" if key.endswith("norm_layer") and value is not None else "builtin"
            params[key] = {"type": kind, "value": value, "specified": False}
    if arch_from_config({"class": class_name, "params": params}) != arch:
        raise ValueError(f"official_config: {specified} does not describe {arch}")
    return {"class": HRNET_CLASS if arch.kind == "hrnet" else DEEPLAB_CLASS, "params": params}


def save_checkpoint(net: RitmNet, path: str | Path, specified: dict) -> None:
    """Write ``net`` as the official training code would: ``{"state_dict", "config"}``."""
    torch.save({"state_dict": net.state_dict(), "config": official_config(net.arch, specified)},
               str(path))


def _load_strict(net: RitmNet, state: dict, name: str) -> None:
    expected = net.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
        raise ValueError(f"{name}: state_dict does not match {net.arch}: " + "; ".join(parts))
    for key, ref in expected.items():
        got = state[key]
        if not isinstance(got, torch.Tensor) or got.shape != ref.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise ValueError(f"{name}: state_dict key {key!r} has shape {shape}, expected "
                             f"{tuple(ref.shape)}")
    net.load_state_dict(state, strict=True)


def read_checkpoint(path: str | Path) -> dict:
    """``torch.load`` an official RITM file safely; ValueError if it is not one."""
    name = f"checkpoint {str(path)!r}"
    if not Path(path).is_file():
        raise ValueError(f"{name}: no such file")
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name}: not a loadable RITM checkpoint ({first})") from None
    if isinstance(ckpt, list):
        raise ValueError(f"{name}: multi-stage checkpoints (a list of models) are not supported")
    if not isinstance(ckpt, dict) or not {"state_dict", "config"} <= set(ckpt):
        keys = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"{name}: expected a dict with 'state_dict' and 'config', got {keys}")
    return ckpt


def load_checkpoint(path: str | Path) -> RitmNet:
    """Build the network an official RITM ``.pth`` describes and load its weights strictly.

    Returns the `RitmNet` in eval mode with ``requires_grad`` off. ValueError (one line)
    for a file that is not an official RITM checkpoint, an unsupported configuration, or
    any missing/unexpected/mis-shaped state-dict key.
    """
    name = f"checkpoint {str(path)!r}"
    ckpt = read_checkpoint(path)
    net = RitmNet(arch_from_config(ckpt["config"], name))
    _load_strict(net, ckpt["state_dict"], name)
    net.requires_grad_(False)
    return net.eval()
