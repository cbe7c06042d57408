"""Rule indicators: the classic strategies' buy/sell rules as held signals in {-1, 0, +1}.

A rule makes a *call* on some bars (buy: RSI below 30, a close above the prior 20-bar high,
...) and none on others. The signal holds the latest call: +1 from a buy call until a sell
call, -1 from a sell call until a buy call, 0 before the first call. With the engine's
``entry_threshold = exit_threshold = 0`` and long only, that trades exactly "buy when flat on a
buy call, sell everything on a sell call" (the reference strategies, REFERENCE §3.2), with
next-open fills. The signal is 0 (no call yet) from the last bar before the rule can first be
evaluated, so a call on that first bar is a cross the engine acts on.

The specs live in :mod:`phi.indicators.rule_specs` (registered with the registry). Raw values come from TA-Lib-convention kernels (Wilder RSI, ``talib.BBANDS``) or from
:mod:`phi.indicators._rules_nb`; all are causal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from phi.indicators import _nb, _rules_nb, raw

__all__ = [
    "bollinger_band_raw",
    "bollinger_band_signal",
    "buy_and_hold_raw",
    "buy_and_hold_signal",
    "channel_breakout_raw",
    "channel_breakout_signal",
    "liquidity_pools_raw",
    "liquidity_pools_signal",
    "rsi_band_raw",
    "rsi_band_signal",
    "wyckoff_phase_raw",
    "wyckoff_phase_signal",
]


def _series(df: pd.DataFrame, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=df.index, dtype="float64")


def _held(df: pd.DataFrame, events: np.ndarray, first: int) -> pd.Series:
    return _series(df, _rules_nb.latch_nb(np.ascontiguousarray(events, dtype=np.float64), first))


# ---------------------------------------------------------------------------- buy and hold


def buy_and_hold_raw(df: pd.DataFrame) -> pd.DataFrame:
    """Column ``hold``: 0 on the first bar, +1 on every later bar."""
    hold = np.ones(len(df))
    hold[:1] = 0.0
    return pd.DataFrame({"hold": hold}, index=df.index)


def buy_and_hold_signal(df: pd.DataFrame) -> pd.Series:
    """0 on the first bar, then +1: one buy at the second bar's close, never a sell."""
    return _series(df, buy_and_hold_raw(df)["hold"].to_numpy())


# ---------------------------------------------------------------------------- RSI bands


def _rsi_events(df: pd.DataFrame, period: int, lower: float, upper: float) -> tuple[np.ndarray, np.ndarray]:
    r, move = _nb.rsi_nb(raw.column(df, "close"), period, True)
    rsi = np.where(move > 0.0, r, np.nan)  # prices that never moved: no RSI, no call
    ev = _rules_nb.band_events_nb(rsi, np.full(len(df), float(lower)), np.full(len(df), float(upper)), period)
    ev[period:][np.isnan(ev[period:])] = 0.0
    return r, ev


def rsi_band_raw(df: pd.DataFrame, period: int, lower: float, upper: float) -> pd.DataFrame:
    """Wilder RSI (``talib.RSI``) and the call: +1 below ``lower``, -1 above ``upper``, else 0."""
    r, ev = _rsi_events(df, period, lower, upper)
    return pd.DataFrame({"rsi": r, "call": ev}, index=df.index)


def rsi_band_signal(df: pd.DataFrame, period: int, lower: float, upper: float) -> pd.Series:
    """+1 from an RSI below ``lower`` until an RSI above ``upper`` (then -1), 0 before any call."""
    return _held(df, _rsi_events(df, period, lower, upper)[1], period)


# ---------------------------------------------------------------------------- Bollinger bands


def _bands_events(df: pd.DataFrame, period: int, nbdev: float) -> tuple[pd.DataFrame, np.ndarray]:
    bands = raw.bollinger(df, period, nbdev)
    ev = _rules_nb.band_events_nb(
        raw.column(df, "close"), bands["lower"].to_numpy(), bands["upper"].to_numpy(), period - 1
    )
    return bands, ev


def bollinger_band_raw(df: pd.DataFrame, period: int, nbdev: float) -> pd.DataFrame:
    """``talib.BBANDS`` upper/middle/lower and the call: +1 below the lower band, -1 above the upper."""
    bands, ev = _bands_events(df, period, nbdev)
    return bands.assign(call=ev)


def bollinger_band_signal(df: pd.DataFrame, period: int, nbdev: float) -> pd.Series:
    """+1 from a close below the lower band until a close above the upper band (then -1)."""
    return _held(df, _bands_events(df, period, nbdev)[1], period - 1)


# ---------------------------------------------------------------------------- channel breakout


def _channel(df: pd.DataFrame, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    upper, lower = _rules_nb.prior_channel_nb(raw.column(df, "high"), raw.column(df, "low"), period)
    ev = _rules_nb.band_events_nb(-raw.column(df, "close"), -upper, -lower, period)
    return upper, lower, ev


def channel_breakout_raw(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """Donchian channel of the ``period`` bars *before* each bar (``talib.MAX``/``MIN`` shifted by
    one) and the call: +1 on a close above the upper line, -1 on a close below the lower line."""
    upper, lower, ev = _channel(df, period)
    return pd.DataFrame({"upper": upper, "lower": lower, "call": ev}, index=df.index)


def channel_breakout_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """+1 from an upside breakout until a downside breakout (then -1), 0 before the first."""
    return _held(df, _channel(df, period)[2], period)


# ---------------------------------------------------------------------------- Wyckoff phase


def wyckoff_phase_raw(df: pd.DataFrame, lookback: int, range_pct: float) -> pd.DataFrame:
    """Close's position in the range of the last ``lookback + 1`` closes, mean volume of the
    up-closes and of the down-closes among them, and the call (+1 accumulation: position <=
    ``range_pct`` and up-volume > down-volume; -1 distribution: position >= 1 - ``range_pct``
    and down-volume > up-volume; 0 otherwise or on a zero range)."""
    pos, up, down, ev = _rules_nb.wyckoff_phase_nb(
        raw.column(df, "close"), raw.column(df, "volume"), lookback, float(range_pct)
    )
    return pd.DataFrame({"position": pos, "up_volume": up, "down_volume": down, "call": ev}, index=df.index)


def wyckoff_phase_signal(df: pd.DataFrame, lookback: int, range_pct: float) -> pd.Series:
    """+1 from an accumulation call until a distribution call (then -1), 0 before the first."""
    ev = wyckoff_phase_raw(df, lookback, range_pct)["call"].to_numpy()
    return _held(df, ev, lookback)


# ---------------------------------------------------------------------------- liquidity pools


def liquidity_pools_raw(df: pd.DataFrame, lookback: int, strength: int) -> pd.DataFrame:
    """Liquidity pools in the last ``lookback + 1`` bars and the call.

    Pools are swing highs (lows): a high strictly above (low strictly below) the ``strength``
    bars on each side, all inside the window, so a swing is confirmed ``strength`` bars later.
    Columns: ``pool_above`` / ``pool_below`` (the nearest swing high above / swing low below the
    close, NaN if none), ``sweep`` (-1 when the previous bar's high reached a swing high but it
    closed below it, +1 for the mirror image at a swing low, 0 otherwise) and ``call``:
    -1 on a sweep above, else +1 on a sweep below, else, when the nearer pool is overhead, +1 on
    a bullish bar (close > open), when it is below, -1 on a bar that is not bullish; 0 without
    any pool in the window.
    """
    above, below, sweep, ev = _rules_nb.liquidity_pools_nb(
        raw.column(df, "open"), raw.column(df, "high"), raw.column(df, "low"), raw.column(df, "close"),
        lookback, strength,
    )  # fmt: skip
    return pd.DataFrame({"pool_above": above, "pool_below": below, "sweep": sweep, "call": ev}, index=df.index)


def liquidity_pools_signal(df: pd.DataFrame, lookback: int, strength: int) -> pd.Series:
    """+1 from a buy call until a sell call (then -1), 0 before the first call."""
    return _held(df, liquidity_pools_raw(df, lookback, strength)["call"].to_numpy(), lookback)
