"""Plutus over a whole frame, bar by bar in simulated time: decisions and a signal in [-1, +1].

On each decision bar t (every ``every`` bars from the first bar with a regime reading) Plutus
sees the bars up to t, the regime engine's values on t (the engine is causal, so one run over
the frame gives at bar t what a run on the bars up to t gives) and the journal of its earlier
decisions with their known outcomes. A BUY with confidence >= ``min_confidence`` sets the
signal to +confidence, a SELL to -confidence; a HOLD, a low-confidence call or an unusable
reply keeps the previous signal (the position is held until the next actionable call). The
signal is NaN before the first decision. The engine fills the signal of bar t at t+1's open.

One LLM request per decision bar: this is a loop over decisions, not a numeric hot loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from phi.errors import ConfigError, DataError
from phi.plutus.advisor import PlutusAdvisor
from phi.plutus.journal import TradeJournal
from phi.plutus.prompt import _messages, plutus_bars, regime_snapshot

__all__ = ["DECISION_COLUMNS", "decision_signal", "plutus_decisions"]

DECISION_COLUMNS = ("signal", "confidence", "error", "from_cache", "reasoning", "risk_note")
#: Bars of history the OHLCV brief needs (20-bar returns and volatility) when no regime is used.
MIN_HISTORY = 21


def _check(every: int, min_confidence: float) -> None:
    if not (isinstance(every, int | np.integer) and 1 <= every <= 10_000):
        raise ConfigError(f"Plutus 'every' must be an integer number of bars >= 1, got {every!r}")
    if not (isinstance(min_confidence, int | float) and 0.0 <= min_confidence <= 1.0):
        raise ConfigError(f"Plutus min_confidence must be in [0, 1], got {min_confidence!r}")


def plutus_decisions(
    ohlcv: pd.DataFrame,
    advisor: PlutusAdvisor,
    *,
    every: int = 1,
    use_regime: bool = True,
    journal_size: int = 20,
    symbol: str | None = None,
) -> tuple[pd.DataFrame, TradeJournal]:
    """Ask Plutus on every decision bar; return the decisions (indexed by bar) and the journal.
    ``ohlcv`` as :func:`phi.plutus.prompt.plutus_bars` takes it."""
    _check(every, 0.5)
    ohlcv = plutus_bars(ohlcv)
    n = len(ohlcv)
    regime: Any = None
    first = MIN_HISTORY - 1
    if use_regime:
        from phi.regime.engine import RegimeEngine

        regime = RegimeEngine().run(ohlcv)
        first = max(first, int(regime.warmup))
    if n <= first:
        raise DataError(f"Plutus needs more than {first} bars before its first decision; the frame has {n}")
    journal = TradeJournal(journal_size)
    close = ohlcv["close"].to_numpy(dtype=np.float64)
    rows: list[dict[str, Any]] = []
    stamps = []
    for t in range(first, n, every):
        snap = regime_snapshot(regime, t) if regime is not None else None
        advice = advisor.ask(_messages(ohlcv.iloc[: t + 1], snap, journal, symbol))
        journal.record(ohlcv.index[t], advice.signal, advice.confidence, float(close[t]))
        stamps.append(ohlcv.index[t])
        rows.append({k: getattr(advice, k) for k in DECISION_COLUMNS})
    frame = pd.DataFrame(rows, index=pd.DatetimeIndex(stamps, name=ohlcv.index.name), columns=list(DECISION_COLUMNS))
    return frame, journal


def decision_signal(decisions: pd.DataFrame, index: pd.Index, min_confidence: float = 0.6) -> pd.Series:
    """The signal on every bar of ``index`` from the decisions (see the module doc)."""
    _check(1, min_confidence)
    conf = decisions["confidence"].to_numpy(dtype=np.float64)
    sig = decisions["signal"].to_numpy()
    act = np.where((sig == "BUY") & (conf >= min_confidence), conf, np.where((sig == "SELL") & (conf >= min_confidence), -conf, np.nan))
    out = pd.Series(np.nan, index=index, dtype="float64")
    if len(decisions):
        out.loc[decisions.index] = act
        first = index.get_loc(decisions.index[0])
        out.iloc[first:] = out.iloc[first:].ffill().fillna(0.0)
    return out

