"""SimpleClick (Liu et al., ICCV 2023) re-implemented to load the official checkpoints.

``load_checkpoint(path)`` reads a released ``.pth`` without the official package and
returns the network in eval mode; `SimpleClickPredictor` runs the official inference
path (fixed-size zoom-in, flip averaging). Facts: ``specs/simpleclick.md``.
"""

from isbench.reference_models.simpleclick.build import VARIANTS, Variant, build_model
from isbench.reference_models.simpleclick.checkpoint import load_checkpoint, read_checkpoint
from isbench.reference_models.simpleclick.model import PlainVitModel
from isbench.reference_models.simpleclick.predictor import SimpleClickPredictor

__all__ = [
           "VARIANTS",
           "PlainVitModel",
           "SimpleClickPredictor",
           "Variant",
           "build_model",
           "load_checkpoint",
           "read_checkpoint",
]
