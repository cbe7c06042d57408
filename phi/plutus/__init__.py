"""Plutus: a local LLM (Ollama or any OpenAI-compatible server) as a trading advisor.

>>> from phi.plutus import PlutusAdvisor            # doctest: +SKIP
>>> PlutusAdvisor().advise(ohlcv).signal            # doctest: +SKIP
'HOLD'

Importing ``phi.plutus`` is cheap and contacts no server; the names below load on first use.
Modules: ``advice`` (reply record and strict parser), ``client`` (the HTTP client), ``prompt``
(the briefs), ``journal`` (the trade journal in simulated time), ``cache`` (replies by request
hash under ``PHI_HOME``), ``advisor``, ``signals`` (decisions over a frame), ``indicator`` (the
``plutus`` indicator) and ``preset`` (the strategy-catalogue preset).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "PlutusAdvisor": "phi.plutus.advisor",
    "Advice": "phi.plutus.advice",
    "parse_reply": "phi.plutus.advice",
    "TradeJournal": "phi.plutus.journal",
    "ReplyCache": "phi.plutus.cache",
    "count_replies": "phi.plutus.cache",
    "LLMError": "phi.plutus.client",
    "LLMUnavailableError": "phi.plutus.client",
    "plutus_decisions": "phi.plutus.signals",
    "plutus_config": "phi.plutus.preset",
    "run_plutus": "phi.plutus.preset",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'phi.plutus' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
