"""isbench: benchmark click-based interactive image segmenters.

``evaluate`` runs a model over samples under a protocol and returns records;
``summarize`` turns records into the summary row; ``adapters.load`` finds models by name.
"""

from isbench import adapters
from isbench.evaluate import evaluate, iter_records, summarize
from isbench.types import Click, Sample

__all__ = ["Click", "Sample", "adapters", "evaluate", "iter_records", "summarize"]
__version__ = "0.1.0"
