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

import json
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
    """``phi.run(config)`` counting where Plutus's replies came from; the count goes into the
    run's assumption ledger (``llm_replies``) and, when saved, ``plutus_replies.json``.

    Raises
    ------
    LLMUnavailableError
        No server and a reply not cached; the message adds how many replies were cached.
    """
    from phi.pipeline import run

    with count_replies() as tally:
        try:
            result = run(config, save=False, **kwargs)
        except LLMUnavailableError as exc:
            raise LLMUnavailableError(
                f"{exc} ({tally.cached} replies of this run were in the cache; the next one was not)"
            ) from None
    if isinstance(result.assumptions, dict):
        result.assumptions["llm_replies"] = tally.summary()
    if save:
        _save(result.config if result.config is not None else config, result, tally)
    return result, tally


def _save(config: RunConfig, result: RunResult, tally: ReplyTally) -> None:
    """Save like ``phi.run`` does, plus the reply counts; a failed save keeps the result."""
    from phi.backtest.run_history import save_run
    from phi.errors import PhiError

    counts = {"cached": tally.cached, "fresh": tally.fresh, "failed": tally.failed, "unsaved": tally.unsaved,
              "summary": tally.summary(), "errors": tally.errors}  # fmt: skip
    extra = {"plutus_replies.json": (json.dumps(counts, indent=2, sort_keys=True) + "\n").encode("utf-8")}
    try:
        result.run_id = save_run(config, result, data_metadata=result.data, extra_files=extra)
        result.save_error = None
    except PhiError as exc:
        result.save_error = str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever breaks the save, keep the result
        result.save_error = f"could not save the run: {type(exc).__name__}: {exc}"
