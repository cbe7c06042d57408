"""The regime engine's eight regimes, by name (a light module: no kernels are loaded with it)."""

from __future__ import annotations

from typing import Final

__all__ = ["REGIMES"]

REGIMES: Final[tuple[str, ...]] = (
    "TREND_UP", "TREND_DN", "RANGE", "BREAKOUT_UP", "BREAKOUT_DN", "EXHAUST_REV", "LOWVOL", "HIGHVOL",
)  # fmt: skip
