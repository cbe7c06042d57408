"""Phi-nance: a backtesting workbench for traders and quants.

Importing ``phi`` is cheap: it touches no disk or network, and the heavy modules
(numba kernels, pandas I/O) load on first use of the names below.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # data
    "fetch": "phi.data.fetchers",
    "get_dataset": "phi.data.store",
    "validate_ohlcv": "phi.data.schema",
    "data_health": "phi.data.health",
    # indicators
    "INDICATORS": "phi.indicators.registry",
    "list_indicators": "phi.indicators.registry",
    "compute_signal": "phi.indicators.registry",
    "compute_all_signals": "phi.indicators.registry",
    # blending
    "blend": "phi.blending.blender",
    # backtest
    "EngineConfig": "phi.backtest.engine",
    "BacktestResult": "phi.backtest.engine",
    "run_backtest": "phi.backtest.engine",
    "RunConfig": "phi.backtest.run_config",
    # regime engine
    "RegimeEngine": "phi.regime.engine",
    # pipeline
    "run": "phi.pipeline",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'phi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
