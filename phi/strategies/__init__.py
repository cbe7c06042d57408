"""Strategy presets: the reference's named strategies as complete run configurations.

>>> import phi.strategies as strategies
>>> strategies.get("BuyAndHold") is strategies.get("buy_and_hold")
True
>>> [p.name for p in strategies.list()][:3]
['BuyAndHold', 'MeanReversion', 'RSI']

``get(name)`` finds a preset (any case; a typo gets "did you mean"), ``list()`` lists them,
``register(preset)`` adds one (each family registers itself from its own module, listed in
``FAMILIES``). :func:`run_preset` runs one on a dataset and :func:`compare` runs several head to
head (both in :mod:`phi.strategies.runner`, imported on first use).
"""

from __future__ import annotations

import importlib
from typing import Any

from phi.strategies.catalogue import FAMILIES, Preset, get, register
from phi.strategies.catalogue import list_presets as list  # noqa: A004 - the spec's name

__all__ = ["FAMILIES", "Preset", "compare", "get", "list", "register", "run_preset"]

_LAZY = {"run_preset": "phi.strategies.runner", "compare": "phi.strategies.runner"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'phi.strategies' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
