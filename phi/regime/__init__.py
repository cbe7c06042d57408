"""The MFT ("Market Field Theory") regime engine: causal regime probabilities from OHLCV.

Importing ``phi.regime`` is cheap; the engine loads on first use of the names below.

>>> from phi.regime import RegimeEngine          # doctest: +SKIP
>>> res = RegimeEngine().run(ohlcv)              # doctest: +SKIP
>>> res.regime_probs.iloc[-1]                    # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "RegimeEngine": "phi.regime.engine",
    "RegimeResult": "phi.regime.engine",
    "engine_warmup": "phi.regime.engine",
    "MFTConfig": "phi.regime.config",
    "load_config": "phi.regime.config",
    "save_config": "phi.regime.config",
    "REGIMES": "phi.regime.taxonomy",
    "default_regime_weights": "phi.regime.blend",
    "regime_weighted_blend": "phi.regime.blend",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'phi.regime' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
