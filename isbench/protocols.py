"""Protocol presets: the official codebases disagree on details that change the numbers.

A preset fixes the probability threshold, which pixels a later click may not reuse,
how NoF/NFO count failures and how MIST random choices are seeded. The chosen preset is
written into ``config.json`` and every summary row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["PROTOCOLS", "Protocol", "get_protocol"]


@dataclass(frozen=True)
class Protocol:
    """One preset.

    name: preset name.
    threshold: probability threshold (mask = prob > threshold) for models without their own.
    single_exclusion_radius: radius of the disk around earlier clicks that later clicks
        avoid in the single-instance protocol (0 = only the clicked pixel, as RITM).
    mist_exclusion_radius: the same for MIST (DynaMITe: 5).
    nof_rule: "noc-at-max" (RITM: NoC equals the click limit) or "never-reached".
    mist_rng: "per-sample" (a generator per (seed, sample id); shardable) or
        "per-dataset" (DynaMITe: one Python ``random`` stream seeded 123456 + seed).
    """

    name: str
    threshold: float
    single_exclusion_radius: int
    mist_exclusion_radius: int
    nof_rule: str
    mist_rng: str

    def as_dict(self) -> dict:
        """Plain dict for ``config.json``."""
        return asdict(self)


PROTOCOLS: dict[str, Protocol] = {
    "ritm": Protocol("ritm", 0.49, 0, 5, "noc-at-max", "per-sample"),
    "focalclick": Protocol("focalclick", 0.5, 0, 5, "noc-at-max", "per-sample"),
    "dynamite": Protocol("dynamite", 0.5, 5, 5, "never-reached", "per-dataset"),
    "isbench": Protocol("isbench", 0.49, 0, 5, "noc-at-max", "per-sample"),
}


def get_protocol(name: str) -> Protocol:
    """The preset called ``name`` (ValueError naming the known presets)."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(
            f"unknown protocol {name!r}: expected one of {', '.join(PROTOCOLS)}"
        ) from None
