"""DynaMITe, implemented natively (plain PyTorch): see ``model`` for the entry points."""

from isbench.reference_models.dynamite.model import (
    CONFIGS,
    DynamiteConfig,
    DynamiteModel,
    build_model,
    load_checkpoint,
)

__all__ = ["CONFIGS", "DynamiteConfig", "DynamiteModel", "build_model", "load_checkpoint"]
