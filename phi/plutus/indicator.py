"""The ``plutus`` indicator: Plutus's decisions as a signal in [-1, +1], for a :class:`RunConfig`.

Not part of the default registry: it registers itself when this module is imported (the
Plutus preset and ``phi plutus backtest`` import it; :func:`register` again), because computing it asks an LLM server — so the
tuner's "all indicators" and the workbench's indicator list never call a server by surprise.
Replies come from the reply cache under ``PHI_HOME`` first; the server, model and protocol
come from the environment (``OLLAMA_HOST`` / ``OPENAI_BASE_URL``, ``PHI_PLUTUS_MODEL``,
``PHI_PLUTUS_PROTOCOL``), since they are not numbers a tuner could search. See
:mod:`phi.plutus.signals` for the rule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from phi.indicators.params import ALL_INPUTS, IndicatorSpec, ParamSpec
from phi.indicators.registry import register_indicator

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PLUTUS", "advisor_from_env", "plutus_raw", "plutus_signal", "register"]


def advisor_from_env() -> Any:
    """A caching :class:`~phi.plutus.advisor.PlutusAdvisor` configured from the environment."""
    from phi.errors import ConfigError
    from phi.plutus.advisor import PlutusAdvisor

    text = os.environ.get("PHI_PLUTUS_TIMEOUT", "60")
    try:
        timeout = float(text)
    except ValueError:
        raise ConfigError(f"PHI_PLUTUS_TIMEOUT={text!r} is not a number of seconds") from None
    return PlutusAdvisor(
        model=os.environ.get("PHI_PLUTUS_MODEL") or None,
        protocol=os.environ.get("PHI_PLUTUS_PROTOCOL", "ollama"),
        timeout=timeout,
        cache=True,
    )


def _decisions(df: pd.DataFrame, every: int) -> pd.DataFrame:
    from phi.plutus.signals import plutus_decisions

    decisions, _ = plutus_decisions(df, advisor_from_env(), every=int(every))
    return decisions


def plutus_signal(df: pd.DataFrame, every: int = 1, min_confidence: float = 0.6) -> pd.Series:
    """+confidence after an actionable BUY, -confidence after a SELL, held until the next one."""
    from phi.plutus.signals import decision_signal

    return decision_signal(_decisions(df, every), df.index, float(min_confidence))


def plutus_raw(df: pd.DataFrame, every: int = 1, min_confidence: float = 0.6) -> pd.DataFrame:
    """Every decision (signal, confidence, error, from_cache, reasoning, risk note) by bar."""
    return _decisions(df, every).reindex(df.index)


def _warmup(params: Mapping[str, Any]) -> int:
    from phi.plutus.signals import MIN_HISTORY
    from phi.regime.engine import engine_warmup

    return max(engine_warmup(), MIN_HISTORY - 1)


PLUTUS = IndicatorSpec(
    name="plutus",
    type="MFT",
    description="Plutus: a local LLM's BUY/SELL/HOLD from an OHLCV brief, the MFT regime brief and its trade journal",
    signal_mapping=(
        "+confidence after a BUY with confidence >= min_confidence, -confidence after such a SELL; "
        "HOLD, weaker calls and unusable replies keep the previous value"
    ),
    params=(
        ParamSpec("every", int, 1, 1, 20, 1, "bars between two questions to the LLM"),
        ParamSpec("min_confidence", float, 0.6, 0.5, 0.95, 0.05, "confidence a BUY or SELL needs to act"),
    ),
    compute=plutus_signal,
    raw=plutus_raw,
    warmup=_warmup,
    inputs=ALL_INPUTS,
)



def register() -> None:
    """Put ``plutus`` in the registry (idempotent; also done on import)."""
    register_indicator(PLUTUS)


register()
