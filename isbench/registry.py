"""Name → model lookup shared by the CLI, ``isbench list`` and ``isbench.adapters.load``.

A model is named in one of three ways: a registered name (``grabcut``,
``ritm-hrnet18``), ``package.module:ClassName``, or an entry point of an installed
plug-in in the group ``isbench.models``. Built-in entries point at their factory by
import path, so listing models imports no model code.
"""

from __future__ import annotations

import difflib
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


def _dynamite(config: str, readme_label: str) -> ModelEntry:
    """A DynaMITe configuration; its weights are the README's ``readme_label`` download."""
    return ModelEntry(
        "isbench.adapters.dynamite:DynamiteAdapter",
        "multi",
        f"DynaMITe {config} (official checkpoint: the README's '{readme_label}' .pth)",
        {"config": config},
        needs_checkpoint=True,
    )


def _ritm(variant: str, network: str) -> ModelEntry:
    """A RITM variant: official checkpoint, official inference (zoom-in, flip, 0.49)."""
    return ModelEntry(
        "isbench.adapters.ritm:RitmAdapter",
        "single",
        f"RITM {network} (official checkpoint; zoom-in + flip)",
        {"variant": variant},
        needs_checkpoint=True,
    )


MODELS: dict[str, ModelEntry] = {
    "grabcut": ModelEntry(
        "isbench.reference_models.classical.grabcut:GrabCutAdapter",
        "single",
        "OpenCV GrabCut seeded from the clicks (no weights)",
    ),
    "simpleclick-vit-xt": ModelEntry(
        "isbench.adapters.simpleclick:SimpleClickAdapter",
        "single",
        "SimpleClick ViT-xTiny/16 (ICCV 2023), official zoom-in + flip; official .pth",
        kwargs={"variant": "vit-xt"},
        needs_checkpoint=True,
    ),
    "simpleclick-vit-b": ModelEntry(
        "isbench.adapters.simpleclick:SimpleClickAdapter",
        "single",
        "SimpleClick ViT-B/16 (ICCV 2023), official zoom-in + flip; official .pth",
        kwargs={"variant": "vit-b"},
        needs_checkpoint=True,
    ),
    "simpleclick-vit-l": ModelEntry(
        "isbench.adapters.simpleclick:SimpleClickAdapter",
        "single",
        "SimpleClick ViT-L/16 (ICCV 2023), official zoom-in + flip; official .pth",
        kwargs={"variant": "vit-l"},
        needs_checkpoint=True,
    ),
    "simpleclick-vit-h": ModelEntry(
        "isbench.adapters.simpleclick:SimpleClickAdapter",
        "single",
        "SimpleClick ViT-H/14 (ICCV 2023), official zoom-in + flip; official .pth",
        kwargs={"variant": "vit-h"},
        needs_checkpoint=True,
    ),
    "dynamite": ModelEntry(
        "isbench.adapters.dynamite:DynamiteAdapter",
        "multi",
        "DynaMITe; without --checkpoint the bundled small MiT-B0 trained on the synthetic "
        "data, with one the official .pth (config detected)",
    ),
    "dynamite-mitb0-small": ModelEntry(
        "isbench.adapters.dynamite:DynamiteAdapter",
        "multi",
        "DynaMITe MiT-B0 with a small head (isbench); bundled synthetic-data weights by default",
        {"config": "mitb0-small"},
    ),
    "dynamite-swin-t": _dynamite("swin-t", "Swin-Tiny"),
    "dynamite-swin-l": _dynamite("swin-l", "Swin-Large"),
    "dynamite-r50": _dynamite("r50", "Resent50"),
    "dynamite-hrnet32": _dynamite("hrnet32", "HRNet32"),
    "dynamite-mitb0": _dynamite("mitb0", "Segformer-B0"),
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
    "ritm-hrnet18s": _ritm("ritm-hrnet18s", "HRNet-18s+OCR48"),
    "ritm-hrnet18": _ritm("ritm-hrnet18", "HRNet-18+OCR64"),
    "ritm-hrnet32": _ritm("ritm-hrnet32", "HRNet-32+OCR128"),
    "ritm-r34": _ritm("ritm-r34", "DeepLabV3+ ResNet-34 baseline"),
    "ritm-r50": _ritm("ritm-r50", "DeepLabV3+ ResNet-50 baseline"),
}

# Segment Anything family through the official packages (adapters/sam.py): name -> summary.
_SAM_MODELS = {
    "sam-vit-b": "SAM ViT-B (segment-anything; sam_vit_b_01ec64.pth)",
    "sam-vit-l": "SAM ViT-L (segment-anything; sam_vit_l_0b3195.pth)",
    "sam-vit-h": "SAM ViT-H (segment-anything; sam_vit_h_4b8939.pth)",
    **{
        f"{gen}-hiera-{size}": f"{title} Hiera-{size} ({gen}_hiera_{size.replace('-', '_')}.pt)"
        for gen, title in (("sam2", "SAM 2"), ("sam2.1", "SAM 2.1"))
        for size in ("tiny", "small", "base-plus", "large")
    },
}
MODELS.update({
    name: ModelEntry("isbench.adapters.sam:SamAdapter", "single", summary, {"variant": name},
                     needs_checkpoint=True, extra="sam")
    for name, summary in _SAM_MODELS.items()
})
MODELS.update({
    f"{name}-batched": ModelEntry(
        "isbench.adapters.sam:SamMultiAdapter", "multi",
        f"{summary.split(' (')[0]}: all objects in one batched decoder call", {"variant": name},
        needs_checkpoint=True, extra="sam")
    for name, summary in _SAM_MODELS.items()
})


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
    """The entry for a registered or plug-in name (ValueError naming the closest ones)."""
    if name in MODELS:
        return MODELS[name]
    plugins = plugin_entries()
    if name in plugins:
        return ModelEntry(plugins[name], "unknown", f"plug-in ({plugins[name]})")
    # Too many names to list them all in one line: suggest the closest few.
    close = difflib.get_close_matches(name, [*MODELS, *plugins], n=3, cutoff=0.5)
    hint = f" (closest: {', '.join(close)})" if close else ""
    raise ValueError(f"unknown model {name!r}{hint}: expected a name from 'isbench list' "
                     "or 'package.module:Class'")
