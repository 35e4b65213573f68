"""RITM (HRNet+OCR and DeepLabV3+ click models) re-implemented to load the official checkpoints.

``load_checkpoint(path)`` reads an official ``.pth`` and returns the network in eval mode;
``inference.predict`` runs the official evaluation path (Zoom-In, flip averaging).
"""

from isbench.reference_models.ritm.checkpoint import (
    arch_from_config,
    load_checkpoint,
    official_config,
    save_checkpoint,
)
from isbench.reference_models.ritm.configs import CHECKPOINTS, VARIANTS
from isbench.reference_models.ritm.model import RitmArch, RitmNet

__all__ = ["CHECKPOINTS", "VARIANTS", "RitmArch", "RitmNet", "arch_from_config",
           "load_checkpoint", "official_config", "save_checkpoint"]
