"""isbench: benchmark click-based interactive image segmenters."""

from isbench.types import Click, Sample

__all__ = ["Click", "Sample"]
__version__ = "0.1.0"
