"""Multi-asset portfolios: one shared cash account driven by target weights per bar.

``run_portfolio(bars, target_weights, config)`` aligns every symbol's bars on the union of
their stamps (no price is ever invented), validates the weights, turns the rebalance schedule
into decision bars and runs the numba bar loop (:mod:`phi.backtest._portfolio_nb`).

**Alignment.** Daily bars line up by *session date*, the exchange's local trading date
(:mod:`phi.backtest.portfolio_sessions`): when every symbol's bars are daily, each stamp is
replaced by its date in the exchange's zone where that is known (``attrs['exchange_tz']`` or
the symbol's Yahoo suffix: ``7203.T``, ``BHP.AX``, ``VOD.L``, ...), else in its frame's own
zone (naive = as written); a stamp at exactly 00:00 UTC keeps its UTC date in any zone it is
shown in. The dates are stamped 00:00 UTC (naive frames: naive midnight) as the data layer
stamps daily bars, and the index is the union of those dates. So a bar stamped at midnight,
one at a 21:00 UTC close, a New York-zoned one and Tokyo's midnight given in UTC (15:00 UTC
the day before) share one row per date; a 7-day symbol (crypto) beside a 5-day one adds
weekend rows on which only it has a bar. A frame of unknown zone whose dates fall on Sunday
to Thursday (a far-east midnight shown in UTC) or Tuesday to Saturday (a western close shown
far east) is refused with the fix, not paired with the wrong days. Weights on a
DatetimeIndex are mapped to session dates the same way (two different rows on one date are
refused). The session of date t is taken to close before any session of date t+1 opens.
Intraday stamps are instants: bars of two zones line up where they are the same instant (a
Tokyo-zoned 09:00 bar and a UTC 00:00 one share a row), and daily beside intraday bars is
refused (below). :func:`align_sessions` gives the frames as the engine lines them up.

Execution rules
---------------
* **Targets.** ``target_weights`` holds fractions of equity per symbol and bar (negative =
  short, with ``allow_short``); NaN means "no view": that symbol is left as it is. Weights in
  the row of bar t are decided at t's close and fill at the **next open of each symbol**.
* **Schedule** (``PortfolioConfig.rebalance``): ``"on_change"`` (default) decides on every
  bar whose row differs from the last non-empty row (so a weight held constant never
  trades again: a signal's entries and exits); ``"every_bar"``; ``"every:N"`` (the first
  non-empty row, then every N bars); ``"weekly"`` / ``"monthly"`` (the last bar of each
  week / month, so fills land on the first bar of the next); ``"drift:X"`` (whenever a
  symbol's weight at the close is more than X away from its row's target; only symbols with
  a bar at that close count, so a delisted one cannot trigger a rebalance every bar).
* **Fill size.** At the fill bar's open, equity E is marked at the opens (a symbol without
  a bar at its last close). The target is the number of units ``|w| E`` buys at that open
  with this fill's costs: ``(|w| E - fixed) / (open (1 ± slippage) (1 + commission))``
  (rounded toward 0 with ``fractional=False``). Reductions fill first (a position whose
  target has the other sign is closed), then E is re-marked and the increases fill, short
  openings before buys. Without leverage a buy never spends more than the cash (it is cut
  down and counted as *capped*). From flat, one symbol at weight w buys exactly what the
  single-asset engine's ``percent_equity`` sizing with ``size_pct = w`` buys.
* **Missing bars.** A symbol without a bar at the fill bar is not traded; its target stays
  pending and fills at its next open (a *late* fill, counted). Between bars it is marked at
  its last close. Gaps are reported per symbol in ``missing_data``. A position still held when
  its symbol's bars end (a delisting) stays at its last close to the end, never sold: the
  ledger's ``data_ended`` names it. All symbols must share one bar frequency, told from what
  the stamps are (date-only or one-a-day stamps are daily however sparse; intraday bars by
  their spacing within a day; :func:`phi.data.calendar.bar_frequency`), else
  :class:`EngineError`. The ledger's ``adjustment`` gives each symbol's price adjustment as
  recorded in its ``attrs``.
* **Costs** on every fill as in the single-asset engine (:mod:`phi.backtest.costs`
  presets): commission (share of notional + fixed per fill) and slippage against the fill.
* **Accounting.** ``equity = cash + Σ units × mark`` at every close (``positions`` is the
  net market value ``Σ units × mark``); short proceeds are held as cash; no interest or
  borrow fees. **Ruin**: equity <= 0 at a close closes everything at the marks and stops
  trading.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.backtest import _nb
from phi.backtest import _portfolio_nb as pnb
from phi.backtest._inputs import _calendar, _check_bar_order
from phi.backtest.costs import matching_preset
from phi.backtest.engine import TRADE_COLUMNS, BacktestResult, _labels
from phi.backtest.metrics import compute_metrics
from phi.backtest.portfolio_config import REBALANCE_SCHEDULES, PortfolioConfig, _parse_rebalance
from phi.backtest.portfolio_sessions import (
    align_sessions,
    exchange_index,
    session_dates,
    session_stamps,
)
from phi.data.calendar import bar_frequency
from phi.data.schema import PRICE_COLUMNS, check_bar_values, conform_ohlcv
from phi.errors import ConfigError, EngineError, unknown_choice

__all__ = [
    "FILL_COLUMNS",
    "REBALANCE_SCHEDULES",
    "PORTFOLIO_TRADE_COLUMNS",
    "PortfolioConfig",
    "PortfolioResult",
    "align_sessions",
    "run_portfolio",
    "session_dates",
]

#: Columns of ``PortfolioResult.fills``.
FILL_COLUMNS: Final = (
    "time",
    "symbol",
    "units",
    "price",
    "costs",
    "cash_change",
    "position_after",
    "decision_time",
    "late",
    "reason",
)
#: Columns of ``PortfolioResult.trades``: the engine's trade columns plus the symbol. A trade is
#: one stretch of a symbol's position from flat to flat (resizes included; a reversal is two).
PORTFOLIO_TRADE_COLUMNS: Final = ("symbol", *TRADE_COLUMNS)


@dataclass
class PortfolioResult(BacktestResult):
    """A :class:`BacktestResult` for a portfolio, plus per-symbol detail.

    ``positions`` is the net market value of the holdings at each close (so
    ``equity == cash + positions``), ``trades`` has :data:`PORTFOLIO_TRADE_COLUMNS`.

    Attributes
    ----------
    holdings : DataFrame
        Signed units of each symbol at each close.
    fills : DataFrame
        Every fill, columns :data:`FILL_COLUMNS`.
    weights : DataFrame
        The target weights on the aligned bars (NaN = no view).
    missing_data : dict
        Per symbol: its first and last stamp and the bars of the union it lacks.
    """

    holdings: pd.DataFrame = field(default_factory=pd.DataFrame)
    fills: pd.DataFrame = field(default_factory=pd.DataFrame)
    weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing_data: dict[str, dict[str, Any]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# inputs


def _align(
    bars: Mapping[str, pd.DataFrame],
) -> tuple[pd.Index, list[str], np.ndarray, np.ndarray, pd.Series | None]:
    """Union index, symbols, (n, k) opens and closes with NaN where a symbol has no bar, and
    when every frame is daily each bar's session date by its original stamp (else ``None``)."""
    if not isinstance(bars, Mapping) or not bars:
        raise EngineError("bars must be a non-empty dict of symbol -> OHLCV DataFrame")
    symbols = [str(s) for s in bars]
    if len(set(symbols)) != len(symbols):
        dup = next(s for s in symbols if symbols.count(s) > 1)
        raise EngineError(f"bars has two symbols named {dup!r} (keys are compared as text)")
    frames = list(bars.values())
    prices: list[tuple[np.ndarray, np.ndarray]] = []
    for sym, df in zip(symbols, frames, strict=True):
        if not isinstance(df, pd.DataFrame):
            raise EngineError(f"bars[{sym!r}] must be a DataFrame, got {type(df).__name__}")
        frame = conform_ohlcv(df, PRICE_COLUMNS, what=f"bars[{sym!r}]")
        if len(frame) == 0:
            raise EngineError(f"bars[{sym!r}] has no bars")
        arrs = [np.ascontiguousarray(frame[c].to_numpy()) for c in PRICE_COLUMNS]
        prices.append((arrs[0], arrs[3]))
        if _nb.first_bad_bar_nb(*arrs) >= 0 or _nb.first_inconsistent_bar_nb(*arrs) >= 0:
            check_bar_values(frame, PRICE_COLUMNS, what=f"bars[{sym!r}]")  # says which, in one line
            raise EngineError(f"bars[{sym!r}] has a bad price; phi.data.validate_ohlcv names it")
        _check_bar_order(df.index, f"bars[{sym!r}]")
    kinds = {
        sym: ("tz-aware stamps" if df.index.tz is not None else "tz-naive stamps")
        if isinstance(df.index, pd.DatetimeIndex)
        else f"a {type(df.index).__name__}"
        for sym, df in zip(symbols, frames, strict=True)
    }
    if len(set(kinds.values())) > 1:
        (a, ka), (b, kb) = next(
            ((symbols[0], kinds[symbols[0]]), (sym, k)) for sym, k in kinds.items() if k != kinds[symbols[0]]
        )
        raise EngineError(
            f"the symbols' stamps cannot be aligned: bars[{a!r}] has {ka}, bars[{b!r}] {kb}; "
            "give every frame the same kind of index (tz-aware UTC stamps)"
        )
    _check_frequency(symbols, frames)
    sessions = session_stamps(symbols, frames)
    stamps = sessions or [df.index for df in frames]
    index = stamps[0]
    try:
        for idx in stamps[1:]:
            if not idx.equals(index):
                index = index.union(idx, sort=True)
    except TypeError as exc:
        raise EngineError(
            f"the symbols' stamps cannot be aligned ({exc}); give every frame the same kind "
            "of index (tz-aware UTC stamps)"
        ) from None
    n, k = len(index), len(frames)
    o = np.full((n, k), np.nan)
    c = np.full((n, k), np.nan)
    for j, idx in enumerate(stamps):
        if idx.equals(index):
            o[:, j], c[:, j] = prices[j]
        else:
            pos = index.get_indexer(idx)
            o[pos, j], c[pos, j] = prices[j]
    session_of = None
    if sessions is not None:
        orig = [df.index.tz_convert("UTC") if df.index.tz is not None else df.index for df in frames]
        session_of = pd.Series(sessions[0].append(sessions[1:]), index=orig[0].append(orig[1:]))
        session_of = session_of[~session_of.index.duplicated()]
    return index, symbols, o, c, session_of


def _check_frequency(symbols: list[str], frames: list[pd.DataFrame]) -> None:
    """One bar frequency per run, told from what the stamps are
    (:func:`phi.data.calendar.bar_frequency`, with ``attrs['timeframe']`` if the data layer
    recorded it): daily bars however sparse beside daily ones are fine; daily beside intraday
    (a daily bar stamped at its day's start would show its close before the day happened) or
    intraday bars of two lengths are refused. Intraday bars of unknown length (never two on
    one day) pass beside any intraday ones, as do intraday frames under 3 bars (one gap is no
    bar length); two bars on one date are still intraday beside daily bars."""
    daily: tuple[int, str, str] | None = None  # (position, symbol, description)
    intraday: tuple[int, str, float | None, str] | None = None
    for pos, (sym, df) in enumerate(zip(symbols, frames, strict=True)):
        if not isinstance(df.index, pd.DatetimeIndex):
            continue
        minutes, how = bar_frequency(exchange_index(sym, df), df.attrs.get("timeframe"))
        if len(df) < 3 and minutes != 1440.0:  # one gap tells intraday, not its length
            minutes = None
        if minutes == 1440.0:
            daily = daily or (pos, sym, how)
        elif intraday is None or (intraday[2] is None and minutes is not None):
            intraday = (pos, sym, minutes, how)
        elif minutes is not None and minutes != intraday[2]:
            _refuse_mixed((intraday[1], intraday[3]), (sym, how))
        if daily is not None and intraday is not None:
            first, second = sorted([daily, (intraday[0], intraday[1], intraday[3])])
            _refuse_mixed(first[1:], second[1:])


def _refuse_mixed(a: tuple[str, str], b: tuple[str, str]) -> None:
    raise EngineError(
        f"bars[{a[0]!r}] are {a[1]} but bars[{b[0]!r}] are {b[1]}: a portfolio runs on one bar "
        "frequency; resample them to one timeframe"
    )


def _adjustment_text(bars: Mapping[str, pd.DataFrame]) -> str:
    """Each symbol's price adjustment as recorded with its bars (``attrs['adjustment']``)."""
    unknown = "unknown (not recorded with the data)"
    adj = {str(s): str(df.attrs.get("adjustment", unknown)) for s, df in bars.items()}
    if len(set(adj.values())) == 1:
        return next(iter(adj.values()))
    return "; ".join(f"{s}: {a}" for s, a in adj.items())


def _ended_text(index: pd.Index, symbols: list[str], c: np.ndarray, pos: np.ndarray) -> str:
    """Symbols whose bars end before the run's last bar while a position is held."""
    have = ~np.isnan(c)
    last = len(index) - 1 - np.argmax(have[::-1], axis=0)
    held = [
        f"{sym}: bars end {index[last[j]]} with {pos[last[j], j]:g} units held, kept at its last "
        f"close {c[last[j], j]:g} to the end (never sold; later targets for it cannot fill)"
        for j, sym in enumerate(symbols)
        if last[j] < len(index) - 1 and pos[last[j], j] != 0.0
    ]
    return "; ".join(held) if held else "none: no position was held past its symbol's last bar"


def _weights(
    target_weights: pd.DataFrame, index: pd.Index, symbols: list[str], config: PortfolioConfig,
    session_of: pd.Series | None = None,
) -> np.ndarray:
    if not isinstance(target_weights, pd.DataFrame):
        raise EngineError(
            f"target_weights must be a DataFrame (bars x symbols), got {type(target_weights).__name__}"
        )
    cols = [str(col) for col in target_weights.columns]
    for col in cols:
        if col not in symbols:
            raise EngineError(
                "target_weights: " + unknown_choice("symbol", col, symbols) + " (keys of bars)"
            )
    if len(set(cols)) != len(cols):
        raise EngineError("target_weights has a duplicate symbol column")
    if not target_weights.index.is_unique:
        raise EngineError("target_weights has duplicate stamps; keep one row per bar")
    widx = target_weights.index
    if isinstance(widx, pd.DatetimeIndex) and isinstance(index, pd.DatetimeIndex) and (widx.tz is None) != (index.tz is None):
        kinds = ("tz-naive", "tz-aware") if widx.tz is None else ("tz-aware", "tz-naive")
        raise EngineError(
            f"target_weights has {kinds[0]} stamps but the bars {kinds[1]} ones; give the weights the "
            "bars' kind of stamps (e.g. weights.tz_localize('UTC'))"
        )
    if session_of is not None and not target_weights.index.equals(index):
        target_weights = _on_sessions(target_weights, session_of)
    same_index = target_weights.index.equals(index)
    if not same_index:
        pos = index.get_indexer(target_weights.index)
        outside = pos < 0
        if outside.any():  # rows on stamps without any bar may only be empty
            bad = outside & target_weights.notna().any(axis=1).to_numpy()
            if bad.any():
                first = target_weights.index[int(np.flatnonzero(bad)[0])]
                raise EngineError(
                    f"target_weights has a stamp no symbol has a bar at ({first}); weights must "
                    "be on the bars' stamps"
                )
            target_weights = target_weights[~outside]
            pos = pos[~outside]
    else:
        pos = np.arange(len(index))
    try:
        vals = target_weights.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"target_weights must be numeric ({exc})") from None
    if cols == symbols and same_index:
        w = np.array(vals, dtype=np.float64, order="C", copy=True)
    else:
        w = np.full((len(index), len(symbols)), np.nan)
        w[np.ix_(pos, [symbols.index(col) for col in cols])] = vals
    if np.isinf(w).any():
        r, j = np.argwhere(np.isinf(w))[0]
        raise EngineError(f"target_weights[{symbols[j]!r}] is infinite at {index[r]}")
    if not config.allow_short and (w < 0).any():
        r, j = np.argwhere(w < 0)[0]
        raise ConfigError(
            f"target_weights[{symbols[j]!r}] is {w[r, j]:g} at {index[r]}: a short; set "
            "PortfolioConfig.allow_short=True or clip the weights at 0"
        )
    gross = np.nansum(np.abs(w), axis=1)
    over = np.flatnonzero(gross > config.max_gross + 1e-9)
    if over.size:
        r = int(over[0])
        how = (
            f"at most max_gross={config.max_gross:g}"
            if config.allow_leverage
            else "at most 1 without leverage (set allow_leverage=True and max_gross)"
        )
        raise ConfigError(
            f"target weights at {index[r]} sum to {gross[r]:g} (gross, Σ|w|) on {over.size} "
            f"bar(s); PortfolioConfig allows {how}; scale them down"
        )
    return w


def _on_sessions(target_weights: pd.DataFrame, session_of: pd.Series) -> pd.DataFrame:
    """Weights on a bar's own stamp moved to its session date (other stamps kept); rows that
    land on one date merge if their non-NaN values agree, else :class:`EngineError`."""
    idx = target_weights.index
    if not isinstance(idx, pd.DatetimeIndex) or (idx.tz is None) != (session_of.index.tz is None):
        return target_weights
    utc = idx.tz_convert("UTC") if idx.tz is not None else idx
    pos = session_of.index.get_indexer(utc)
    ns = np.where(pos >= 0, pd.DatetimeIndex(session_of).as_unit("ns").asi8[pos], utc.as_unit("ns").asi8)
    days = pd.DatetimeIndex(ns.astype("datetime64[ns]"))
    days = days.tz_localize("UTC") if idx.tz is not None else days
    moved = target_weights.set_axis(days, axis=0)
    if days.is_unique:
        return moved
    g = moved.groupby(level=0, sort=True)
    first, last = g.first(), g.last()
    clash = (first.notna() & (first != last)).to_numpy().any(axis=1)
    if clash.any():
        day = first.index[int(np.argmax(clash))]
        raise EngineError(
            f"target_weights has two different rows on the session date {day:%Y-%m-%d}: daily "
            "bars are lined up by session date; give one row per date"
        )
    return last


def _period_ends(index: pd.Index, kind: str) -> np.ndarray:
    """True at the last bar of each ISO week / calendar month (in the index's time zone)."""
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(
            f"PortfolioConfig.rebalance={kind!r} needs bars with a DatetimeIndex; use 'every:N'"
        )
    if kind == "weekly":
        wall = index.tz_localize(None) if index.tz is not None else index
        days = wall.to_numpy().astype("datetime64[D]").astype(np.int64)  # any stamp unit
        key = (days + 3) // 7  # weeks starting on Monday (1970-01-01 was a Thursday)
    else:
        key = np.asarray(index.year * 12 + index.month, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    out = np.zeros(len(index), dtype=bool)
    out[:-1] = key[1:] != key[:-1]
    out[-1] = True
    return out


def _decisions(w: np.ndarray, index: pd.Index, kind: str, every: float) -> np.ndarray:
    has = ~np.isnan(w).all(axis=1)
    n = len(has)
    if kind == "drift":
        return np.zeros(n, dtype=bool)
    if kind == "every_bar":
        return has
    if kind in ("weekly", "monthly"):
        return _period_ends(index, kind) & has
    if kind == "every":
        rows = np.flatnonzero(has)
        out = np.zeros(n, dtype=bool)
        if rows.size:
            t0 = int(rows[0])
            out[t0 :: int(every)] = True
        return out & has
    # on_change: a non-empty row that differs from the last non-empty row before it
    last = np.where(has, np.arange(n), -1)
    last = np.maximum.accumulate(last)
    prev = np.empty(n, dtype=np.int64)
    prev[0] = -1
    prev[1:] = last[:-1]
    prev_rows = w[np.maximum(prev, 0)]
    same = ((prev_rows == w) | (np.isnan(prev_rows) & np.isnan(w))).all(axis=1) & (prev >= 0)
    return has & ~same


def _missing_report(
    index: pd.Index, symbols: list[str], c: np.ndarray
) -> dict[str, dict[str, Any]]:
    have = ~np.isnan(c)
    n = len(index)
    first = np.argmax(have, axis=0)
    last = n - 1 - np.argmax(have[::-1], axis=0)
    count = have.sum(axis=0)
    stamps = [str(x) for x in index[np.r_[first, last]]]
    k = len(symbols)
    return {
        sym: {
            "first": stamps[j],
            "last": stamps[k + j],
            "missing_bars": int(last[j] - first[j] + 1 - count[j]),
            "bars_before_first": int(first[j]),
            "bars_after_last": int(n - 1 - last[j]),
        }
        for j, sym in enumerate(symbols)
    }


# ---------------------------------------------------------------------------------------
# results


def _fills_frame(f: np.ndarray, index: pd.Index, symbols: list[str]) -> pd.DataFrame:
    bar = f[:, pnb.FL_BAR].astype(np.int64)
    sym = f[:, pnb.FL_SYMBOL].astype(np.int64)
    dec = f[:, pnb.FL_DECISION_BAR].astype(np.int64)
    ruin = dec < 0
    dtimes = index[np.maximum(dec, 0)]
    if ruin.any():
        dtimes = dtimes.where(~ruin)
    frame = pd.DataFrame(
        {
            "time": index[bar],
            "symbol": _labels(tuple(symbols), sym),
            "units": f[:, pnb.FL_UNITS],
            "price": f[:, pnb.FL_PRICE],
            "costs": f[:, pnb.FL_COSTS],
            "cash_change": f[:, pnb.FL_CASH],
            "position_after": f[:, pnb.FL_POS_AFTER],
            "decision_time": dtimes,
            "late": (bar - dec > 1) & ~ruin,
            "reason": _labels(("rebalance", "ruin"), ruin.view(np.int8)),
        },
        columns=list(FILL_COLUMNS),
        copy=False,
    )
    if frame.empty:
        frame = frame.astype({"symbol": "str", "reason": "str"})
    return frame


def _trades_frame(
    f: np.ndarray, index: pd.Index, symbols: list[str], last_mark: np.ndarray
) -> pd.DataFrame:
    """Flat-to-flat stretches of each symbol's position, from the fills (NumPy segment sums)."""
    n = len(index)
    sym = f[:, pnb.FL_SYMBOL].astype(np.int64)
    order = np.argsort(sym, kind="stable")
    f = f[order]
    sym = sym[order]
    after = f[:, pnb.FL_POS_AFTER]
    units = f[:, pnb.FL_UNITS]
    before = after - units
    new_sym = np.ones(len(sym), dtype=bool)
    new_sym[1:] = sym[1:] != sym[:-1]
    starts = np.flatnonzero((np.abs(before) <= 1e-12 * np.maximum(np.abs(after), 1.0)) | new_sym)
    ends = np.r_[starts[1:], len(sym)] - 1 if len(starts) else starts
    price = f[:, pnb.FL_PRICE]
    bar = f[:, pnb.FL_BAR].astype(np.int64)
    grow = np.abs(after) > np.abs(before)
    qty = np.abs(units)

    def seg_sum(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, starts) if len(starts) else x[:0]

    in_q, in_v = seg_sum(np.where(grow, qty, 0.0)), seg_sum(np.where(grow, qty * price, 0.0))
    out_q, out_v = seg_sum(np.where(grow, 0.0, qty)), seg_sum(np.where(grow, 0.0, qty * price))
    size = np.maximum.reduceat(np.abs(after), starts) if len(starts) else after[:0]
    seg_sym = sym[starts]
    last_after = after[ends]
    is_open = last_after != 0.0
    mark = last_mark[seg_sym]
    pnl = seg_sum(f[:, pnb.FL_CASH]) + np.where(is_open, last_after * mark, 0.0)
    entry_bar = bar[starts]
    exit_bar = np.where(is_open, n - 1, bar[ends])
    with np.errstate(divide="ignore", invalid="ignore"):
        exit_price = np.where(is_open, mark, out_v / out_q)
        entry_price = in_v / in_q
        ret = pnl / in_v
    ruin = f[ends, pnb.FL_DECISION_BAR] < 0
    reason = np.where(is_open, 1, np.where(ruin, 2, 0))
    srt = np.lexsort((seg_sym, entry_bar))  # by entry bar, then symbol
    out = pd.DataFrame(
        {
            "symbol": _labels(tuple(symbols), seg_sym[srt]),
            "entry_time": index[entry_bar[srt]],
            "exit_time": index[exit_bar[srt]],
            "side": _labels(("long", "short"), (after[starts] < 0).view(np.int8)[srt]),
            "entry_price": entry_price[srt],
            "exit_price": exit_price[srt],
            "size": size[srt],
            "pnl": pnl[srt],
            "return_pct": ret[srt],
            "bars_held": (exit_bar - entry_bar)[srt],
            "exit_reason": _labels(("rebalance", "end_of_data", "ruin"), reason[srt]),
            "costs": seg_sum(f[:, pnb.FL_COSTS])[srt],
            "open": is_open[srt],
            "entry_bar": entry_bar[srt],
            "exit_bar": exit_bar[srt],
        },
        columns=list(PORTFOLIO_TRADE_COLUMNS),
        copy=False,
    )
    if out.empty:
        out = out.astype({"symbol": "str", "side": "str", "exit_reason": "str"})
    return out


def _assumptions(
    config: PortfolioConfig, st: np.ndarray, calendar: tuple[str, str, float], index: pd.Index
) -> dict[str, object]:
    preset = matching_preset(config.commission_pct, config.commission_fixed, config.slippage_bps)
    ruin = st[pnb.PS_RUIN_BAR]
    periods: float | int = calendar[2]
    if float(periods).is_integer():
        periods = int(periods)
    return {
        "fill": "next_open",
        "fill_timing": (
            "target weights of bar t's row are decided at t's close and fill at each symbol's "
            "next open; a symbol without a bar then stays pending until its next bar (late fill)"
        ),
        "rebalance": config.rebalance,
        "sizing": (
            "target units = (|w| x equity - fixed commission) / (open x (1 +/- slippage) x "
            "(1 + commission)), equity marked at the fill bar's opens; reductions first, then "
            "increases on the re-marked equity (short openings before buys)"
            + ("" if config.fractional else "; whole units (rounded toward 0)")
        ),
        "fractional": config.fractional,
        "leverage": (
            f"allowed up to gross {config.max_gross:g}"
            if config.allow_leverage
            else "none: gross weight <= 1 and a buy never spends more than the cash (capped)"
        ),
        "allow_short": config.allow_short,
        "costs": (
            f"commission {config.commission_pct:g} of notional + {config.commission_fixed:g} per "
            f"fill; slippage {config.slippage_bps:g} bps against every fill"
            + (f" (cost preset {preset})" if preset else " (custom costs, no preset)")
        ),
        "missing_bars": (
            "no price is invented: a symbol without a bar is not traded and is marked at its last "
            "close; see missing_data"
        ),
        "accounting": (
            "equity = cash + sum(units x mark) at every close; short proceeds held as cash; no "
            "interest or borrow fees"
        ),
        "ruin": (
            "none: the equity stayed above 0 at every close"
            if np.isnan(ruin)
            else f"equity <= 0 at the close of {index[int(ruin)]}: everything closed, trading stopped"
        ),
        "calendar": calendar[0],
        "calendar_source": calendar[1],
        "periods_per_year": periods,
        "annualisation": (
            f"risk metrics on daily returns (equity at each trading day's last bar), {periods} "
            "periods/year, risk-free rate 0, empyrical definitions"
        ),
        "buy_and_hold_return": "equal-weight basket of the symbols' closes, each from its first bar",
        "direction_accuracy": "not defined for a portfolio (NaN): see phi.backtest.scorecard",
        "late_fills": int(st[pnb.PS_LATE]),
        "capped_fills": int(st[pnb.PS_CAPPED]),
        "skipped_targets": int(st[pnb.PS_SKIPPED]),
        "decisions": int(st[pnb.PS_N_DECISIONS]),
    }


def _warn_never_traded(cfg: PortfolioConfig, kind: str, band: float) -> None:
    """Targets that never became a fill read like weights of zero: say why they may not have."""
    why = []
    if not cfg.fractional:
        why.append(f"whole units: with capital {cfg.initial_capital:,.2f} a target below one unit of a symbol rounds to 0")
    if kind == "drift":
        why.append(f"rebalance drift:{band:g}: no weight ever moved more than {band:g} from its target, from flat included")
    warnings.warn(
        "the portfolio never traded: its target weights are not all zero but no fill happened"
        + (f" ({'; '.join(why)})" if why else ""),
        stacklevel=3,
    )


# ---------------------------------------------------------------------------------------
# public API


def run_portfolio(
    bars: Mapping[str, pd.DataFrame],
    target_weights: pd.DataFrame,
    config: PortfolioConfig | Mapping[str, Any] | None = None,
) -> PortfolioResult:
    """Backtest target weights on several symbols with one shared cash account.

    Parameters
    ----------
    bars : dict of str -> DataFrame
        OHLCV bars per symbol (open, high, low, close; finite, positive, ``low <= open,
        close <= high``, strictly increasing stamps). Stamps may differ between symbols: the run is on their union.
    target_weights : DataFrame
        Target fraction of equity per symbol (columns, a subset of ``bars``' keys) on the
        bars' stamps; NaN = no view (leave as is). See the module notes for the schedule.
    config : PortfolioConfig, optional

    Returns
    -------
    PortfolioResult
        Equity, cash, net position value, holdings, fills, flat-to-flat trades, metrics,
        the assumption ledger and the missing-data report.

    Examples
    --------
    >>> w = momentum_rotation_weights(closes, lookback=20, every=5)  # doctest: +SKIP
    >>> res = run_portfolio(bars, w, PortfolioConfig(rebalance="every:5"))  # doctest: +SKIP
    """
    if config is None:
        cfg = PortfolioConfig()
    elif isinstance(config, PortfolioConfig):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = PortfolioConfig.from_dict(config)
    else:
        raise ConfigError(f"config must be a PortfolioConfig, got {type(config).__name__}")
    kind, x = _parse_rebalance(cfg.rebalance)
    index, symbols, o, c, session_of = _align(bars)
    w = _weights(target_weights, index, symbols, cfg, session_of)
    decide = _decisions(w, index, kind, x)
    frame0 = next(iter(bars.values()))
    probe = pd.DataFrame(index=index)
    probe.attrs = {key: v for key, v in frame0.attrs.items() if key != "symbol"}
    cal = _calendar(probe, cfg.engine_config())
    n, k = c.shape
    fp = np.empty(pnb.N_PF)
    fp[pnb.PF_INIT_CASH] = cfg.initial_capital
    fp[pnb.PF_COMM_PCT] = cfg.commission_pct
    fp[pnb.PF_COMM_FIXED] = cfg.commission_fixed
    fp[pnb.PF_SLIP] = cfg.slippage_bps / 10_000.0
    fp[pnb.PF_DRIFT] = x if kind == "drift" else np.nan
    ip = np.array([cfg.fractional, cfg.allow_leverage], dtype=np.int64)
    eq = np.empty(n)
    cash = np.empty(n)
    pos = np.empty((n, k))
    fills = np.empty((2 * n * k + k, pnb.N_FL))
    st = np.empty(pnb.N_PS)
    nf = pnb.simulate_portfolio_nb(o, c, w, decide, fp, ip, eq, cash, pos, fills, st)
    fills = fills[:nf]
    if nf == 0 and bool(np.any(np.nan_to_num(w) != 0.0)):
        _warn_never_traded(cfg, kind, x)

    have = ~np.isnan(c)
    cols = np.arange(k)
    last_mark = c[n - 1 - np.argmax(have[::-1], axis=0), cols]  # each symbol's last close
    value = eq - cash  # the kernel's sum of units x mark at each close
    trades = _trades_frame(fills, index, symbols, last_mark)
    is_open = trades["open"].to_numpy()
    # buy and hold: an equal-weight basket, each symbol from its first close (first/last only)
    basket = np.array([1.0, float(np.mean(last_mark / c[np.argmax(have, axis=0), cols]))])
    metrics = compute_metrics(
        equity=eq,
        positions=value,
        close=basket,
        day_end=cal[3],
        initial=cfg.initial_capital,
        periods=cal[2],
        closed_pnl=trades["pnl"].to_numpy()[~is_open],
        closed_return_pct=trades["return_pct"].to_numpy()[~is_open],
        n_open_trades=int(is_open.sum()),
        precomputed={"direction_accuracy": float("nan")},
    )
    metrics["n_fills"] = float(nf)
    metrics["turnover"] = (
        float(st[pnb.PS_TURNOVER] / np.mean(eq)) if np.mean(eq) > 0 else float("nan")
    )
    assumptions = _assumptions(cfg, st, cal[:3], index)
    assumptions["adjustment"] = _adjustment_text(bars)
    assumptions["data_ended"] = _ended_text(index, symbols, c, pos)
    missing = _missing_report(index, symbols, c)
    assumptions["missing_data"] = missing
    return PortfolioResult(
        trades=trades,
        equity=pd.Series(eq, index=index, name="equity", copy=False),
        positions=pd.Series(value, index=index, name="position_value", copy=False),
        metrics=metrics,
        assumptions=assumptions,
        signal=None,
        cash=pd.Series(cash, index=index, name="cash", copy=False),
        holdings=pd.DataFrame(pos, index=index, columns=symbols, copy=False),
        fills=_fills_frame(fills, index, symbols),
        weights=pd.DataFrame(w, index=index, columns=symbols, copy=False),
        missing_data=missing,
    )
