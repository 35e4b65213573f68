"""Read and write SimpleClick checkpoints in the official ``{'state_dict', 'config'}`` format.

The released files pickle a loss object inside ``config`` (``head_params['loss_decode']``
is an instance of the official ``CrossEntropyLoss``, whose ``cls_criterion`` attribute is
the official ``cross_entropy`` function). Those two globals are the only non-torch ones,
so the file is read with ``torch.load(weights_only=True)`` and harmless stand-ins
registered under exactly those names: nothing of the official package is imported or run.
The architecture comes from ``config['params']``; the state dict then loads strictly.
Facts: ``specs/simpleclick.md`` §1.2-1.4.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from isbench.reference_models.simpleclick.build import build_model, official_params, variant_of
from isbench.reference_models.simpleclick.model import PlainVitModel
from torch import nn

__all__ = [
    "LOSS_GLOBALS",
    "OFFICIAL_CLASS",
    "load_checkpoint",
    "load_state_dict_strict",
    "official_config",
    "read_checkpoint",
]

OFFICIAL_CLASS = "isegm.model.is_plainvit_model.PlainVitModel"
_LOSS_MODULE = "isegm.model.modeling.transformer_helper.cross_entropy_loss"
LOSS_GLOBALS = (f"{_LOSS_MODULE}.CrossEntropyLoss", f"{_LOSS_MODULE}.cross_entropy")
_DEFAULTS = {"with_aux_output": False, "cpu_dist_maps": False, "use_rgb_conv": False,
             "use_leaky_relu": False,
             "norm_mean_std": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])}


class _LossStandIn(nn.Module):
    """Receives the pickled state of the official training loss; never called."""

    def forward(self, *args, **kwargs):
        raise RuntimeError("the SimpleClick training loss is not available in isbench")


def _criterion_stand_in(*args, **kwargs):
    """Stands in for the official ``cross_entropy`` function reference; never called."""
    raise RuntimeError("the SimpleClick training loss is not available in isbench")


def _load_failure(exc: Exception) -> str:
    """A short reason: the refused global if that was the cause, else the exception's type."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
    if found:
        return f"it pickles {found.group(1)}, which is not a SimpleClick checkpoint object"
    return f"not a torch checkpoint: {type(exc).__name__}"


def read_checkpoint(path: str | Path) -> dict:
    """``torch.load`` an official SimpleClick file safely -> ``{'state_dict', 'config'}``.

    Raises ValueError (one line) if the file is missing, is not a SimpleClick checkpoint,
    or pickles globals other than the two loss names.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"SimpleClick checkpoint {str(path)!r}: no such file")
    stand_ins = [(_LossStandIn, LOSS_GLOBALS[0]), (_criterion_stand_in, LOSS_GLOBALS[1])]
    try:
        with torch.serialization.safe_globals(stand_ins):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here means "not a readable file"
        raise ValueError(f"SimpleClick checkpoint {str(path)!r}: cannot be read safely "
                         f"({_load_failure(exc)})") from None
    if not isinstance(ckpt, dict) or set(ckpt) != {"state_dict", "config"}:
        keys = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"SimpleClick checkpoint {str(path)!r}: expected a dict with keys "
                         f"'state_dict' and 'config', got {keys}")
    cls = ckpt["config"].get("class") if isinstance(ckpt["config"], dict) else None
    if cls != OFFICIAL_CLASS:
        raise ValueError(f"SimpleClick checkpoint {str(path)!r}: config class is {cls!r}, "
                         f"expected {OFFICIAL_CLASS!r}")
    return ckpt


def load_state_dict_strict(net: nn.Module, state_dict: dict, what: str) -> None:
    """Load with key and shape parity, else a one-line ValueError naming the first offenders."""
    own = net.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    wrong = [f"{k} {tuple(state_dict[k].shape)} != {tuple(v.shape)}" for k, v in own.items()
             if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    if missing or unexpected or wrong:
        parts = [f"{label} ({len(keys)}): {', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''}"
                 for label, keys in (("missing", missing), ("unexpected", unexpected),
                                     ("wrong shape", wrong)) if keys]
        raise ValueError(f"{what}: state dict does not match the architecture; "
                         + "; ".join(parts))
    net.load_state_dict(state_dict, strict=True)


def load_checkpoint(path: str | Path, variant: str | None = None) -> PlainVitModel:
    """Build the network a released SimpleClick ``.pth`` describes and load it strictly.

    variant: if given ("vit-xt", "vit-b", ...), the checkpoint must hold that architecture.
    Returns the model in eval mode with gradients off, on the CPU, at its training input size.
    """
    ckpt = read_checkpoint(path)
    try:
        params = {name: p["value"] for name, p in ckpt["config"]["params"].items()}
    except (KeyError, TypeError, AttributeError):
        raise ValueError(f"SimpleClick checkpoint {str(path)!r}: config['params'] is not "
                         "{name: {'value': ...}}") from None
    found = variant_of(params)
    if variant is not None and found != variant:
        raise ValueError(f"SimpleClick checkpoint {str(path)!r} holds architecture "
                         f"{found or 'unknown'}, expected {variant}")
    try:
        net = build_model(params)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"SimpleClick checkpoint {str(path)!r}: bad config params "
                         f"({type(exc).__name__}: {exc})") from None
    load_state_dict_strict(net, ckpt["state_dict"], f"SimpleClick checkpoint {str(path)!r}")
    net.requires_grad_(False)
    return net.eval()


def official_config(variant: str, loss_decode: object) -> dict:
    """The ``config`` record the official ``@serialize`` writes for a released variant.

    Specified params in call order, then the defaulted ``ISModel`` params with
    ``specified: False``. loss_decode is stored as ``head_params['loss_decode']``.
    """
    params = {name: {"type": "builtin", "value": value, "specified": True}
              for name, value in official_params(variant, loss_decode).items()}
    for name, value in _DEFAULTS.items():
        params[name] = {"type": "builtin", "value": value, "specified": False}
    return {"class": OFFICIAL_CLASS, "params": params}
