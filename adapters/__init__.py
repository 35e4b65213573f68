"""Adapters: the protocol a model implements, ArgmaxFusion, and name-based loading."""

from __future__ import annotations

from isbench.adapters.base import MultiInstanceAdapter, SingleInstanceAdapter

from isbench.registry import ModelEntry, model_entry, resolve_target

__all__ = ["MultiInstanceAdapter", "SingleInstanceAdapter", "load", "lookup"]


def lookup(name: str) -> tuple[str, ModelEntry]:
    """Resolve a model name (registered, plug-in, or ``pkg.mod:Class``) to its entry."""
    if ":" in name:
        return name, ModelEntry(name, "unknown", f"user class {name}")
    return name, model_entry(name)


def load(name: str, **kwargs) -> SingleInstanceAdapter | MultiInstanceAdapter:
    """Instantiate a model by name, passing ``kwargs`` (e.g. ``checkpoint=``) to its constructor.

    Raises ValueError with a one-line message for an unknown name, a missing required
    checkpoint, or a class that is not an adapter.
    """
    _, entry = lookup(name)
    if entry.needs_checkpoint and not kwargs.get("checkpoint"):
        raise ValueError(f"model {name!r} needs --checkpoint (the official released weights file)")
    factory = resolve_target(entry.target)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    try:
        adapter = factory(**{**entry.kwargs, **kwargs})
    except TypeError as exc:
        raise ValueError(f"model {name!r}: bad constructor arguments ({exc})") from None
    if not isinstance(adapter, (SingleInstanceAdapter, MultiInstanceAdapter)):
        raise ValueError(
            f"model {name!r}: {type(adapter).__name__} is not an adapter "
            "(expected a subclass of isbench.adapters.SingleInstanceAdapter or "
            "MultiInstanceAdapter)"
        )
    return adapter
