"""The "Plutus" preset: a :class:`RunConfig` whose one indicator is Plutus, and a runner that
says how many replies came from the reply cache.

>>> cfg = plutus_config("DEMO", start="2022-01-01", end="2023-12-31")   # doctest: +SKIP
>>> result, tally = run_plutus(cfg)                                     # doctest: +SKIP
>>> tally.summary()                                                     # doctest: +SKIP
'250 LLM replies: 250 from the cache, 0 from the server'

A second run of the same config reads every reply from the cache, so it needs no server and
gives the same trades and metrics bit for bit. With no server and a reply missing from the
cache the run stops with one line (:class:`~phi.plutus.client.LLMUnavailableError`) that also
says how many replies were cached.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from phi.plutus.cache import ReplyTally, count_replies
from phi.plutus.client import DEFAULT_MODEL, LLMUnavailableError

if TYPE_CHECKING:
    from phi.backtest.run_config import RunConfig
    from phi.pipeline import RunResult

__all__ = ["PRESET_NAME", "plutus_config", "run_plutus"]

PRESET_NAME = "Plutus"


def plutus_config(
    symbol: str = "DEMO",
    *,
    vendor: str = "demo",
    timeframe: str = "1D",
    start: str = "2020-01-01",
    end: str = "2024-12-31",
    every: int = 1,
    min_confidence: float = 0.6,
    initial_capital: float = 100_000.0,
    cost_preset: str = "us_equities",
    path: str | None = None,
) -> RunConfig:
    """The catalogue's Plutus preset (:mod:`phi.strategies.plutus_preset`) on one dataset, with
    its question cadence and confidence bar: long only, whole units, 95 % of equity, next-open
    fills, the cost preset's commission and slippage; the model and protocol in the description."""
    from phi.backtest.run_config import DatasetSpec, IndicatorConfig
    from phi.strategies.plutus_preset import ensure_registered

    preset = ensure_registered()
    model = os.environ.get("PHI_PLUTUS_MODEL") or DEFAULT_MODEL
    protocol = os.environ.get("PHI_PLUTUS_PROTOCOL", "ollama")
    dataset = DatasetSpec(symbol=symbol, vendor=vendor, timeframe=timeframe, start=start, end=end, path=path)
    cfg = preset.config(dataset, initial_capital=initial_capital, costs=cost_preset)
    return cfg.replace(
        indicators=(IndicatorConfig("plutus", {"every": every, "min_confidence": min_confidence}),),
        description=f"{cfg.description} [LLM {model} via {protocol}]",
    )


def run_plutus(config: RunConfig, *, save: bool = True, **kwargs: Any) -> tuple[RunResult, ReplyTally]:
    """``phi.run(config)`` counting where Plutus's replies came from.

    Raises
    ------
    LLMUnavailableError
        No server and a reply not cached; the message adds how many replies were cached.
    """
    from phi.pipeline import run

    with count_replies() as tally:
        try:
            result = run(config, save=save, **kwargs)
        except LLMUnavailableError as exc:
            raise LLMUnavailableError(
                f"{exc} ({tally.cached} replies of this run were in the cache; the next one was not)"
            ) from None
    return result, tally
