"""Raw indicator values, one function per registry indicator, following TA-Lib's conventions.

Each function takes an OHLCV frame and that indicator's parameters (already validated by
:func:`phi.indicators.registry.resolve_params`) and returns a float64 DataFrame aligned to the
frame's index, NaN during the warm-up. Where TA-Lib has the indicator, the columns equal
TA-Lib's output (``talib.RSI``, ``talib.MACD``, ``talib.BBANDS`` with an SMA, ``talib.STOCH``
with SMA smoothing, ``talib.SMA``, ``talib.EMA``, ``talib.MOM``, ``talib.ROC``, ``talib.ATR``,
``talib.ADX``/``PLUS_DI``/``MINUS_DI``, ``talib.MAX``/``MIN``), including TA-Lib's values for
undefined cases (RSI 0 on flat prices, %K 0 on a zero range, DI 0 on a zero true range).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from phi._math import rescale_volume
from phi.indicators import _nb


def column(df: pd.DataFrame, name: str) -> np.ndarray:
    """A frame column as a contiguous float64 array (``volume``: through
    :func:`~phi._math.rescale_volume`, so a window's sum cannot overflow)."""
    arr = np.ascontiguousarray(df[name].to_numpy(dtype=np.float64))
    return rescale_volume(arr) if name == "volume" else arr


def _frame(df: pd.DataFrame, **cols: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(cols, index=df.index, copy=False)


def rsi(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """Wilder's RSI (``talib.RSI``); column ``rsi`` (0 where prices have not moved at all)."""
    r, _ = _nb.rsi_nb(column(df, "close"), period, False)
    return _frame(df, rsi=r)


def macd(df: pd.DataFrame, fast: int, slow: int, signal: int) -> pd.DataFrame:
    """``talib.MACD``: columns ``macd``, ``signal``, ``hist`` (both EMAs seeded at bar slow-1)."""
    m, s, h = _nb.macd_nb(column(df, "close"), fast, slow, signal)
    return _frame(df, macd=m, signal=s, hist=h)


def bollinger(df: pd.DataFrame, period: int, nbdev: float) -> pd.DataFrame:
    """``talib.BBANDS`` (SMA, population std, same multiplier both sides): upper, middle, lower.

    A window whose std is below 1e-7 of its mean is flat here (std 0, all three bands equal),
    where TA-Lib keeps the rounding-level std (see :func:`phi.indicators._nb.bbands_nb`).
    """
    u, m, lo = _nb.bbands_nb(column(df, "close"), period, float(nbdev))
    return _frame(df, upper=u, middle=m, lower=lo)


def stochastic(df: pd.DataFrame, k_period: int, d_period: int) -> pd.DataFrame:
    """``talib.STOCH(fastk=k_period, slowk=d_period, slowd=d_period, SMA)``: slowk, slowd."""
    k, d = _nb.stoch_nb(
        column(df, "high"),
        column(df, "low"),
        column(df, "close"),
        k_period,
        d_period,
        d_period,
        0.0,
    )
    return _frame(df, slowk=k, slowd=d)


def dual_sma(df: pd.DataFrame, fast: int, slow: int) -> pd.DataFrame:
    """``talib.SMA`` of the close over ``fast`` and ``slow`` bars: sma_fast, sma_slow."""
    c = column(df, "close")
    return _frame(df, sma_fast=_nb.sma_nb(c, fast, 0), sma_slow=_nb.sma_nb(c, slow, 0))


def ema_crossover(df: pd.DataFrame, fast: int, slow: int) -> pd.DataFrame:
    """``talib.EMA`` (seeded with the SMA of the first ``period`` closes): ema_fast, ema_slow."""
    c = column(df, "close")
    return _frame(
        df,
        ema_fast=_nb.ema_nb(c, fast, 2.0 / (fast + 1), fast - 1),
        ema_slow=_nb.ema_nb(c, slow, 2.0 / (slow + 1), slow - 1),
    )


def momentum(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """``talib.MOM``: ``close - close[t - period]`` in price units; column ``mom``."""
    return _frame(df, mom=_nb.mom_nb(column(df, "close"), period))


def roc(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """``talib.ROC``: ``(close / close[t - period] - 1) * 100`` (0 where the old close is 0)."""
    return _frame(df, roc=_nb.roc_nb(column(df, "close"), period))


def atr_ratio(df: pd.DataFrame, atr_period: int, ma_period: int) -> pd.DataFrame:
    """``talib.ATR`` (Wilder), its mean over ``ma_period`` bars, and their ratio.

    ``atr_sma`` is the rolling mean of the ATR by a compensated running sum: it equals
    ``talib.SMA(atr)`` except where the ATR decays by orders of magnitude (a flat stretch),
    where TA-Lib's plain running sum keeps a residue that distorts the ratio.
    ``ratio`` is 1.0 (ATR equal to its average) where both are 0, i.e. on flat prices.
    """
    a = _nb.atr_nb(column(df, "high"), column(df, "low"), column(df, "close"), atr_period)
    avg = _nb.rolling_mean_nb(a, ma_period, atr_period)
    ratio = _nb.ratio_nb(a, avg, atr_period + ma_period - 1)
    return _frame(df, atr=a, atr_sma=avg, ratio=ratio)


def _typical(df: pd.DataFrame) -> np.ndarray:
    return (column(df, "high") + column(df, "low") + column(df, "close")) / 3.0


def vwap_dev(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """Rolling VWAP of the typical price ``(h + l + c) / 3`` over ``period`` bars, and
    ``deviation = (close - vwap) / vwap``. Both NaN where the window's volume is 0."""
    vwap = _nb.vwap_nb(_typical(df), column(df, "volume"), period)
    dev = (column(df, "close") - vwap) / vwap
    return _frame(df, vwap=vwap, deviation=dev)


def cmf(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """Chaikin Money Flow: sum of money-flow volume / sum of volume over ``period`` bars.

    Money-flow volume is ``((c - l) - (h - c)) / (h - l) * v``, 0 where ``h == l`` (as
    ``talib.AD``); CMF is 0 where the window's volume is 0.
    """
    c = _nb.cmf_nb(
        column(df, "high"), column(df, "low"), column(df, "close"), column(df, "volume"), period
    )
    return _frame(df, cmf=c)


def adx(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """``talib.ADX``, ``talib.PLUS_DI``, ``talib.MINUS_DI`` (Wilder smoothing): adx, plus_di, minus_di."""
    p, m, a = _nb.adx_nb(column(df, "high"), column(df, "low"), column(df, "close"), period)
    return _frame(df, adx=a, plus_di=p, minus_di=m)


def wyckoff(df: pd.DataFrame, lookback: int) -> pd.DataFrame:
    """Volume-price inputs of the Wyckoff divergence over ``lookback`` bars.

    ``vwma``: volume-weighted mean close; ``price_dev = (close - vwma) / vwma`` (both NaN where
    the window's volume is 0); ``volume_balance``: (up-volume - down-volume) / volume, where a
    bar's volume counts as up (down) when it closed above (below) the previous close, in
    [-1, 1] and 0 where the window's volume is 0.
    """
    c = column(df, "close")
    v = column(df, "volume")
    vwma = _nb.vwap_nb(c, v, lookback)
    return _frame(
        df,
        vwma=vwma,
        price_dev=(c - vwma) / vwma,
        volume_balance=_nb.volume_balance_nb(c, v, lookback),
    )


def range_pos(df: pd.DataFrame, period: int) -> pd.DataFrame:
    """Highest high (``talib.MAX``), lowest low (``talib.MIN``) over ``period`` bars and the
    close's position in that range, 0 (at the low) to 1 (at the high); 0.5 on a zero range."""
    hh = _nb.rolling_max_nb(column(df, "high"), period)
    ll = _nb.rolling_min_nb(column(df, "low"), period)
    pos = _nb.range_position_nb(column(df, "close"), hh, ll, period - 1)
    return _frame(df, highest=hh, lowest=ll, position=pos)
