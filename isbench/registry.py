"""Name → model lookup shared by the CLI, ``isbench list`` and ``isbench.adapters.load``.

A model is named in one of three ways: a registered name (``grabcut``,
``ritm-hrnet18``), ``package.module:ClassName``, or an entry point of an installed
plug-in in the group ``isbench.models``. Built-in entries point at their factory by
import path, so listing models imports no model code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points

__all__ = ["ENTRY_POINT_GROUP", "MODELS", "ModelEntry", "model_entry", "resolve_target"]

ENTRY_POINT_GROUP = "isbench.models"


@dataclass(frozen=True)
class ModelEntry:
    """A registered model.

    target: ``module:attribute`` of the adapter class or factory.
    kwargs: fixed constructor arguments (e.g. the configuration name).
    kind: "single" or "multi" (what the adapter natively is).
    summary: one line for ``isbench list``.
    needs_checkpoint: whether ``--checkpoint`` is required.
    extra: the pip extra whose packages the model needs, if any.
    """

    target: str
    kind: str
    summary: str
    kwargs: dict = field(default_factory=dict)
    needs_checkpoint: bool = False
    extra: str | None = None


MODELS: dict[str, ModelEntry] = {
    "grabcut": ModelEntry(
        "isbench.reference_models.classical.grabcut:GrabCutAdapter",
        "single",
        "OpenCV GrabCut seeded from the clicks (no weights)",
    ),
    "focalclick-segformer-b0": ModelEntry(
        "isbench.adapters.focalclick:FocalClickAdapter",
        "single",
        "FocalClick SegFormer-B0 (S1/S2 read from the checkpoint), official crop-and-refine",
        kwargs={"variant": "b0"},
        needs_checkpoint=True,
    ),
    "focalclick-segformer-b3": ModelEntry(
        "isbench.adapters.focalclick:FocalClickAdapter",
        "single",
        "FocalClick SegFormer-B3 (S2), official crop-and-refine",
        kwargs={"variant": "b3"},
        needs_checkpoint=True,
    ),
    "focalclick-hrnet18s": ModelEntry(
        "isbench.adapters.focalclick:FocalClickAdapter",
        "single",
        "FocalClick HRNet18s+OCR (S1/S2 read from the checkpoint), official crop-and-refine",
        kwargs={"variant": "hrnet18s"},
        needs_checkpoint=True,
    ),
    "focalclick-hrnet32": ModelEntry(
        "isbench.adapters.focalclick:FocalClickAdapter",
        "single",
        "FocalClick HRNet32+OCR (S2), official crop-and-refine",
        kwargs={"variant": "hrnet32"},
        needs_checkpoint=True,
    ),
    "fdrn-h1-hrnet18": ModelEntry(
        "isbench.adapters.fdrn:FDRNHAdapter",
        "single",
        "FDRN-H1 (F_θ1 HRNet-18s, 3 stages; F_θ2 RITM HRNet-18); paper-only, no released weights",
        kwargs={"extractor": "hrnet18s", "predictor": "hrnet18"},
    ),
    "fdrn-h2-hrnet18s": ModelEntry(
        "isbench.adapters.fdrn:FDRNHAdapter",
        "single",
        "FDRN-H2 (F_θ1 HRNet-18, 3 stages; F_θ2 RITM HRNet-18s); paper-only, no released weights",
        kwargs={"extractor": "hrnet18", "predictor": "hrnet18s"},
    ),
    "fdrn-h2-hrnet18": ModelEntry(
        "isbench.adapters.fdrn:FDRNHAdapter",
        "single",
        "FDRN-H2 (F_θ1 HRNet-18, 3 stages; F_θ2 RITM HRNet-18); paper-only, no released weights",
        kwargs={"extractor": "hrnet18", "predictor": "hrnet18"},
    ),
    "fdrn-b0-segformerb0": ModelEntry(
        "isbench.adapters.fdrn:FDRNAdapter",
        "single",
        "FDRN-B0 (F_θ1 MiT-B0, 3 stages; F_θ2 SegFormer-B0); paper-only, no released weights",
        kwargs={"extractor": "b0", "predictor": "b0"},
    ),
    "fdrn-b1-segformerb0": ModelEntry(
        "isbench.adapters.fdrn:FDRNAdapter",
        "single",
        "FDRN-B1 (F_θ1 MiT-B1, 3 stages; F_θ2 SegFormer-B0); paper-only, no released weights",
        kwargs={"extractor": "b1", "predictor": "b0"},
    ),
    "fdrn-b0-segformerb3": ModelEntry(
        "isbench.adapters.fdrn:FDRNAdapter",
        "single",
        "FDRN-B0 (F_θ1 MiT-B0, 3 stages; F_θ2 SegFormer-B3); paper-only, no released weights",
        kwargs={"extractor": "b0", "predictor": "b3"},
    ),
}


def resolve_target(target: str):
    """Import ``package.module:attr`` and return the attribute (ValueError if absent)."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"model {target!r}: expected 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"model {target!r}: cannot import {module_name!r} ({exc})") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(f"model {target!r}: module {module_name!r} has no {attr!r}") from None


def plugin_entries() -> dict[str, str]:
    """Installed plug-ins: entry-point name → ``module:attr``."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def model_entry(name: str) -> ModelEntry:
    """The entry for a registered or plug-in name (ValueError naming the known ones)."""
    if name in MODELS:
        return MODELS[name]
    plugins = plugin_entries()
    if name in plugins:
        return ModelEntry(plugins[name], "unknown", f"plug-in ({plugins[name]})")
    known = ", ".join(sorted(MODELS) + sorted(plugins))
    raise ValueError(f"unknown model {name!r}: expected one of {known} or 'package.module:Class'")
