"""One definition of the few run figures every front end repeats: the trade count and the
window the metrics (and buy & hold) are measured over.

The workbench's strip, Summary tab and run history, the CLI and the HTML report all show these
through this module, so they cannot disagree (``5 closed + 1 open`` everywhere; buy & hold over
the same bars as the run's metrics, with that window named).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from phi.errors import EngineError, shown

__all__ = ["MetricWindow", "TradeCount", "buy_and_hold_window", "metric_window", "trade_count"]


@dataclass(frozen=True)
class TradeCount:
    """Closed and still-open trades of a run.

    ``closed`` is what the trade metrics (win rate, profit factor, ...) are computed on; an
    open trade is marked to the last close and counts toward equity only.
    """

    closed: int
    open: int

    @property
    def total(self) -> int:
        return self.closed + self.open

    @property
    def text(self) -> str:
        """``"5 closed + 1 open"``, or ``"5 closed"`` when nothing is open."""
        return f"{self.closed:,} closed" + (f" + {self.open:,} open" if self.open else "")


def _count(value: Any) -> int:
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return int(x) if math.isfinite(x) else 0


def _warmup(value: Any) -> int:
    """A warm-up bar count: an integer (a negative one counts as 0)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise EngineError(f"warmup must be a whole number of bars, got {shown(value)}")
    return max(0, int(value))


def trade_count(source: Mapping[str, Any] | pd.DataFrame) -> TradeCount:
    """The trade count of a run, from its metrics (``n_trades``, ``n_open_trades``) or from
    its trades frame (its ``open`` column).

    Examples
    --------
    >>> trade_count({"n_trades": 5.0, "n_open_trades": 1.0}).text
    '5 closed + 1 open'
    """
    if not isinstance(source, pd.DataFrame | Mapping):
        raise EngineError(f"trade_count takes a run's metrics (a mapping) or trades frame, got {shown(source)}")
    if isinstance(source, pd.DataFrame):
        if "open" in source.columns:
            n_open = int(np.count_nonzero(source["open"].to_numpy(dtype=bool)))
        else:
            n_open = 0
        return TradeCount(len(source) - n_open, n_open)
    return TradeCount(_count(source.get("n_trades")), _count(source.get("n_open_trades")))


@dataclass(frozen=True)
class MetricWindow:
    """The bars a run's metrics cover: from ``first`` to ``last`` after ``warmup`` bars."""

    first: pd.Timestamp
    last: pd.Timestamp
    bars: int
    warmup: int

    def text(self, daily: bool = True) -> str:
        """``"2020-03-02 → 2024-12-31 (after 26 warm-up bars)"``."""
        fmt = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M"
        after = f" (after {self.warmup:,} warm-up bars)" if self.warmup else ""
        return f"{self.first:{fmt}} → {self.last:{fmt}}{after}"


def metric_window(index: Sequence[Any] | pd.Index, warmup: int) -> MetricWindow | None:
    """The metric window of a run over bars ``index`` with ``warmup`` bars left out (the engine
    measures every metric, buy & hold included, on bars ``warmup`` .. end). None when empty."""
    warmup = _warmup(warmup)
    if isinstance(index, str | bytes) or not isinstance(index, Sequence | pd.Index | np.ndarray | pd.Series):
        raise EngineError(f"metric_window takes the bars' timestamps (an index), got {shown(index)}")
    try:
        idx = pd.DatetimeIndex(index)
    except (TypeError, ValueError, OverflowError):
        raise EngineError(f"metric_window: the index must hold timestamps, got {shown(index)}") from None
    w = min(warmup, len(idx))
    if w >= len(idx):
        return None
    return MetricWindow(idx[w], idx[-1], len(idx) - w, w)


def buy_and_hold_window(close: pd.Series, warmup: int = 0) -> float:
    """Buy & hold return over the metric window: the close of the last bar over the close of
    bar ``warmup`` (the first bar the run's metrics count), minus one.

    ``warmup=0`` is buy & hold over every bar given. Same definition as the engine's
    ``buy_and_hold_return`` metric, which is computed on the same window.
    """
    from phi.backtest.metrics import buy_and_hold_return

    warmup = _warmup(warmup)
    if not isinstance(close, pd.Series):
        raise EngineError(f"buy_and_hold_window takes a Series of closes, got {shown(close)}")
    try:
        c = close.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise EngineError("buy_and_hold_window: close must be numeric prices") from None
    return buy_and_hold_return(c[warmup:])
