"""Read and write FocalClick checkpoints in ClickSEG's released format.

A released file is ``{"state_dict": net.state_dict(), "config": {"class": dotted path,
"params": {name: {"type", "value", "specified"}}}}`` (``isegm/utils/misc.py``,
``isegm/utils/serialization.py``). S1 and S2 state dicts have identical keys: only
``config.params.pipeline_version`` tells them apart, and RITM checkpoints carry the same
``HRNetModel`` class path, so the config decides, never the keys (``specs/focalclick.md`` 1.2).
Loading is strict: any missing or unexpected key is an error.
"""

from __future__ import annotations

from pathlib import Path

import torch
from isbench.reference_models.focalclick.model import FocalClickHRNet, FocalClickSegFormer
from torch import nn

__all__ = ["VARIANTS", "build", "load_checkpoint", "official_config", "save_official_checkpoint"]

SEGFORMER_CLASS = "isegm.model.is_segformer_model.SegFormerModel"
HRNET_CLASS = "isegm.model.is_hrnet_model.HRNetModel"
_BN = "torch.nn.modules.batchnorm.BatchNorm2d"

#: Released variants: (class path, the constructor params that identify them).
VARIANTS = {
    "b0": (SEGFORMER_CLASS, {"model_version": "b0"}),
    "b3": (SEGFORMER_CLASS, {"model_version": "b3"}),
    "hrnet18s": (HRNET_CLASS, {"width": 18, "ocr_width": 48, "small": True}),
    "hrnet32": (HRNET_CLASS, {"width": 32, "ocr_width": 128, "small": False}),
}

FocalClickNet = FocalClickSegFormer | FocalClickHRNet


def build(variant: str, pipeline_version: str) -> FocalClickNet:
    """A randomly initialised network of a released variant."""
    cls, params = VARIANTS[variant]
    if cls == SEGFORMER_CLASS:
        return FocalClickSegFormer(params["model_version"], pipeline_version)
    return FocalClickHRNet(**params, pipeline_version=pipeline_version)


def official_config(variant: str, pipeline_version: str) -> dict:
    """The ``config`` ClickSEG records for a FocalClick variant as its training config builds it."""
    cls, identity = VARIANTS[variant]
    specified = {
        "pipeline_version": pipeline_version, **identity, "use_leaky_relu": True,
        "use_rgb_conv": False, "use_disks": True, "norm_radius": 5, "with_prev_mask": True,
        "with_aux_output": True,
    }
    defaults = {
        "feature_stride": 4, "backbone_lr_mult": 0.1, "cpu_dist_maps": False,
        "clicks_groups": None, "conv_extend": False,
        "norm_mean_std": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    }
    if cls == SEGFORMER_CLASS:
        specified["binary_prev_mask"] = False
    else:
        defaults["binary_prev_mask"] = False
    params = {k: {"type": "builtin", "value": v, "specified": True} for k, v in specified.items()}
    params.update({k: {"type": "builtin", "value": v, "specified": False}
                   for k, v in defaults.items()})
    params["norm_layer"] = {"type": "class", "value": _BN, "specified": False}
    return {"class": cls, "params": params}


def variant_of(model: FocalClickNet) -> str:
    """The VARIANTS key of a built network."""
    if isinstance(model, FocalClickSegFormer):
        return model.model_version
    return "hrnet18s" if model.width == 18 else "hrnet32"


def save_official_checkpoint(model: FocalClickNet, path: str | Path) -> None:
    """Write ``model`` as ClickSEG's ``save_checkpoint`` would (for tests and tools)."""
    config = official_config(variant_of(model), model.pipeline_version)
    torch.save({"state_dict": model.state_dict(), "config": config}, str(path))


def _param(config: dict, name: str):
    entry = config.get("params", {}).get(name)
    return entry.get("value") if isinstance(entry, dict) else None


def _read(path: str | Path) -> tuple[dict, dict]:
    """(state_dict, config) of a ClickSEG file; ValueError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r}: no such file")
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error here
        raise ValueError(f"checkpoint {str(path)!r}: cannot read it as a torch file "
                         f"({type(exc).__name__})") from None
    if (not isinstance(ckpt, dict) or not isinstance(ckpt.get("state_dict"), dict)
            or not isinstance(ckpt.get("config"), dict)):
        raise ValueError(f"checkpoint {str(path)!r}: expected ClickSEG's "
                         "{'state_dict', 'config'} dict")
    return ckpt["state_dict"], ckpt["config"]


def strict_load(model: nn.Module, state_dict: dict, what: str) -> None:
    """``load_state_dict(strict=True)`` with a one-line ValueError naming the first bad keys."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if missing or unexpected:
        raise ValueError(f"{what}: key mismatch, missing {missing[:3]} ({len(missing)}), "
                         f"unexpected {unexpected[:3]} ({len(unexpected)})")
    bad = [k for k, v in state_dict.items() if tuple(v.shape) != tuple(own[k].shape)]
    if bad:
        raise ValueError(f"{what}: shape mismatch at {bad[0]}: file "
                         f"{tuple(state_dict[bad[0]].shape)}, model {tuple(own[bad[0]].shape)}")
    model.load_state_dict(state_dict, strict=True)


def _variant(config: dict, name: str) -> str:
    """The VARIANTS key a config describes; ValueError for RITM and unknown models."""
    cls = config.get("class")
    if cls == HRNET_CLASS and _param(config, "pipeline_version") is None:
        raise ValueError(f"checkpoint {name!r} is a RITM checkpoint (HRNetModel config "
                         "without pipeline_version): load it with a ritm-* model")
    for variant, (vcls, identity) in VARIANTS.items():
        if cls == vcls and all(_param(config, k) == v for k, v in identity.items()):
            return variant
    found = {k: _param(config, k) for k in ("model_version", "width", "ocr_width", "small")}
    raise ValueError(f"checkpoint {name!r}: class {cls!r} with {found} is not a released "
                     f"FocalClick variant ({', '.join(VARIANTS)})")


def load_checkpoint(path: str | Path, variant: str | None = None) -> tuple[FocalClickNet, dict]:
    """Build the FocalClick network a released file describes and load it strictly.

    variant: if given (a VARIANTS key), the file must be that variant. Returns the model in
    eval mode and the facts read from the config (class, variant, pipeline version, file).
    """
    state_dict, config = _read(path)
    name = str(path)
    found = _variant(config, name)
    if variant is not None and found != variant:
        raise ValueError(f"checkpoint {name!r} is FocalClick {found}, expected {variant}")
    pipeline = _param(config, "pipeline_version")
    if pipeline not in ("s1", "s2"):
        raise ValueError(f"checkpoint {name!r}: pipeline_version {pipeline!r}, "
                         "expected 's1' or 's2'")
    model = build(found, pipeline)
    strict_load(model, state_dict, f"checkpoint {name!r}")
    facts = {"file": name, "class": config["class"], "variant": found,
             "pipeline_version": pipeline}
    return model.eval(), facts
