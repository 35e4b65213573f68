"""Test helper: write SimpleClick checkpoints exactly as the official code saves them.

The official ``config`` pickles an instance of
``isegm.model.modeling.transformer_helper.cross_entropy_loss.CrossEntropyLoss`` (whose
``cls_criterion`` attribute is that module's ``cross_entropy`` function). To write such a
file without the official package, a throwaway module of that exact dotted name is put in
``sys.modules`` while saving and removed afterwards, so the file really references those
globals and loading must cope without them.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import torch
from isbench.reference_models.simpleclick.build import build_model, official_params
from isbench.reference_models.simpleclick.checkpoint import official_config
from torch import nn

LOSS_MODULE = "isegm.model.modeling.transformer_helper.cross_entropy_loss"


def _fake_official_loss_module() -> list[str]:
    """Install ``isegm...cross_entropy_loss`` (and its parents) in sys.modules; return names."""
    parts = LOSS_MODULE.split(".")
    names = [".".join(parts[: i + 1]) for i in range(len(parts))]
    assert not any(n in sys.modules for n in names), "a real isegm package is importable"
    mod = types.ModuleType(LOSS_MODULE)

    def cross_entropy(pred, label):
        return nn.functional.cross_entropy(pred, label)

    class CrossEntropyLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.use_sigmoid, self.use_mask, self.reduction = False, False, "mean"
            self.loss_weight, self.class_weight = 1.0, None
            self.cls_criterion = cross_entropy

    for obj in (cross_entropy, CrossEntropyLoss):
        obj.__module__, obj.__qualname__ = LOSS_MODULE, obj.__name__
        setattr(mod, obj.__name__, obj)
    for name in names[:-1]:
        sys.modules[name] = types.ModuleType(name)
    sys.modules[LOSS_MODULE] = mod
    return names


def write_official_checkpoint(path: Path, variant: str = "vit-xt", seed: int = 0,
                              net: nn.Module | None = None) -> nn.Module:
    """Save ``{'state_dict', 'config'}`` for a random-init net (or ``net``) as the official
    ``save_checkpoint`` does; returns the net (eval mode)."""
    if net is None:
        torch.manual_seed(seed)
        net = build_model(official_params(variant))
    names = _fake_official_loss_module()
    try:
        loss = sys.modules[LOSS_MODULE].CrossEntropyLoss()
        torch.save({"state_dict": net.state_dict(), "config": official_config(variant, loss)},
                   path)
    finally:
        for name in names:
            sys.modules.pop(name, None)
    return net.eval()
