"""FDRN weights files. No official FDRN weights or code were released, so isbench defines the
format: ``{"state_dict": model.state_dict(), "config": {"model": "fdrn", "extractor": ...,
"predictor": ...}}`` (B-series: "b0"/"b1" and "b0"/"b3"; H-series: "hrnet18s"/"hrnet18"),
loaded strictly."""

from __future__ import annotations

from pathlib import Path

import torch
from isbench.reference_models.fdrn.hrnet_model import FDRNH
from isbench.reference_models.fdrn.model import FDRN
from isbench.reference_models.focalclick.checkpoint import strict_load

__all__ = ["build", "load_checkpoint", "save_checkpoint"]


def build(extractor: str, predictor: str) -> FDRN | FDRNH:
    """A randomly initialised FDRN of either series (HRNet names select the H-series)."""
    return FDRNH(extractor, predictor) if extractor.startswith("hrnet") else FDRN(
        extractor, predictor)


def save_checkpoint(model: FDRN | FDRNH, path: str | Path) -> None:
    """Write ``model`` in isbench's FDRN format."""
    config = {"model": "fdrn", "extractor": model.extractor_version,
              "predictor": model.predictor_version}
    torch.save({"state_dict": model.state_dict(), "config": config}, str(path))


def load_checkpoint(path: str | Path, extractor: str, predictor: str
                    ) -> tuple[FDRN | FDRNH, dict]:
    """Load an isbench FDRN file that must be the (extractor, predictor) variant; eval mode."""
    name = str(path)
    if not Path(path).is_file():
        raise ValueError(f"checkpoint {name!r}: no such file")
    try:
        ckpt = torch.load(name, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error here
        raise ValueError(f"checkpoint {name!r}: cannot read it as a torch file "
                         f"({type(exc).__name__})") from None
    config = ckpt.get("config") if isinstance(ckpt, dict) else None
    if not isinstance(config, dict) or config.get("model") != "fdrn":
        raise ValueError(f"checkpoint {name!r}: expected an isbench FDRN file "
                         "({'state_dict', 'config': {'model': 'fdrn', ...}})")
    found = (config.get("extractor"), config.get("predictor"))
    if found != (extractor, predictor):
        raise ValueError(f"checkpoint {name!r} is FDRN {found}, expected {(extractor, predictor)}")
    model = build(extractor, predictor)
    strict_load(model, ckpt["state_dict"], f"checkpoint {name!r}")
    return model.eval(), {"file": name, **config}
