"""Signals in [-1, +1] from raw indicator values: one sign convention for the whole project.

+1 is a full buy, -1 a full sell, 0 neutral. Mean-reversion oscillators are inverted
(oversold = buy). Every map saturates: it reaches +-1 at a documented raw level, so a signal
can use the full range. Bounded raw values are mapped linearly and clipped; unbounded ones
(MACD histogram, momentum, ...) are divided by twice their rolling root-mean-square over the
last :data:`NORM_WINDOW` bars (causal: bars ``<= t`` only) and clipped, so they saturate at
two "typical sizes". Undefined cases (flat prices, zero volume) map to a neutral 0.

The ``map_*`` functions are the pure maps (arrays in, arrays out); the ``*_signal``
functions compute raw values with :mod:`phi.indicators.raw` and apply them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from phi.indicators import _nb, raw
from phi.indicators.params import NORM_WINDOW  # declared with the specs (importing it is cheap)

#: A raw value of ``NORM_GAIN`` rolling RMS saturates the signal.
NORM_GAIN = 2.0
#: Average moves below this fraction of the price count as a flat market (RSI -> 0).
FLAT_TOL = 1e-10
#: Unbounded raw values within this fraction of their unit of 0 are round-off noise.
NOISE_TOL = 1e-12


def _clip(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -1.0, 1.0)


def _series(df: pd.DataFrame, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=df.index, dtype="float64")


def rms_scale(x: np.ndarray, start: int, scale: float | np.ndarray = 1.0) -> np.ndarray:
    """``clip(x / (NORM_GAIN * rms), -1, 1)``, rms over the last NORM_WINDOW values (causal).

    ``start`` is the first bar at which ``x`` is defined (its warm-up); NaN at or after it (an
    undefined raw value, e.g. a VWAP without volume) counts as 0. Values within
    ``NOISE_TOL * scale`` of 0 (``scale`` is the unit of ``x``: 1 for a relative spread, the
    close for a price difference) are floating-point noise, e.g. SMA_fast - SMA_slow on flat
    prices, and count as 0. The result is NaN before ``start + NORM_WINDOW - 1`` and 0 where
    the rolling rms is 0.
    """
    x = np.array(x, dtype=np.float64)
    x[:start] = np.nan
    tail = np.nan_to_num(x[start:], nan=0.0)
    floor = NOISE_TOL * (scale[start:] if isinstance(scale, np.ndarray) else scale)
    x[start:] = np.where(np.abs(tail) <= floor, 0.0, tail)
    return _nb.rms_scale_nb(x, NORM_WINDOW, NORM_GAIN)


# ---------------------------------------------------------------------------- pure maps


def map_rsi(rsi: np.ndarray) -> np.ndarray:
    """``clip((50 - RSI) / 20, -1, 1)``: RSI 30 -> +1, 40 -> +0.5, 50 -> 0, 70 -> -1."""
    return _clip((50.0 - np.asarray(rsi, dtype=np.float64)) / 20.0)


def map_bollinger(close: np.ndarray, upper: np.ndarray, middle: np.ndarray) -> np.ndarray:
    """``clip((middle - close) / (upper - middle), -1, 1)``: at the lower band +1, at the
    middle 0, at the upper band -1 (inverted %b). Zero band width -> 0."""
    half = upper - middle
    with np.errstate(divide="ignore", invalid="ignore"):
        s = _clip((middle - close) / half)
    return np.where(half > 0.0, s, np.where(np.isnan(half), np.nan, 0.0))


def map_stochastic(slowk: np.ndarray) -> np.ndarray:
    """``clip((50 - %K) / 40, -1, 1)``: slow %K 10 -> +1, 30 -> +0.5, 50 -> 0, 90 -> -1."""
    return _clip((50.0 - np.asarray(slowk, dtype=np.float64)) / 40.0)


def map_atr_ratio(ratio: np.ndarray) -> np.ndarray:
    """``clip(2 * (1 - ratio), -1, 1)``: ATR at half its average -> +1 (contracting
    volatility, calm market: buy), 0.75 -> +0.5, 1 -> 0, 1.5 times its average -> -1."""
    return _clip(2.0 * (1.0 - np.asarray(ratio, dtype=np.float64)))


def map_cmf(cmf: np.ndarray) -> np.ndarray:
    """``clip(CMF / 0.25, -1, 1)``: accumulation is bullish; CMF +0.25 -> +1, +0.125 ->
    +0.5, 0 -> 0, -0.25 -> -1."""
    return _clip(np.asarray(cmf, dtype=np.float64) / 0.25)


def map_adx(adx: np.ndarray, plus_di: np.ndarray, minus_di: np.ndarray) -> np.ndarray:
    """``sign(+DI - -DI) * clip((ADX - 20) / 30, 0, 1)``: no trend below ADX 20 -> 0; the
    direction of the DI spread scaled by trend strength, full at ADX 50 (35 -> +-0.5)."""
    strength = np.clip((np.asarray(adx, dtype=np.float64) - 20.0) / 30.0, 0.0, 1.0)
    return np.sign(plus_di - minus_di) * strength + 0.0


def map_range_pos(position: np.ndarray) -> np.ndarray:
    """``clip(1 - 2 * position, -1, 1)``: close at the range low -> +1, mid-range 0, at the
    high -> -1 (mean reversion); a zero range has position 0.5 -> 0."""
    return _clip(1.0 - 2.0 * np.asarray(position, dtype=np.float64))


def map_wyckoff(price_term: np.ndarray, volume_balance: np.ndarray) -> np.ndarray:
    """``clip(volume_balance - price_term, -1, 1)``: Wyckoff's effort vs result.

    ``price_term`` in [-1, 1] is where price stands against its volume-weighted mean;
    ``volume_balance`` in [-1, 1] is net up-volume. Buying volume while price sits low
    (accumulation) -> +1; selling volume while price sits high (distribution) -> -1; a move
    the volume confirms -> ~0; a rally on no net buying (no demand) -> negative, a decline
    on no net selling (no supply) -> positive.
    """
    return _clip(np.asarray(volume_balance, dtype=np.float64) - price_term)


# ---------------------------------------------------------------------------- signal functions


def rsi_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """RSI, inverted and linear: see :func:`map_rsi`.

    Where the average move (avg gain + avg loss) is below ``FLAT_TOL`` of the close the market
    is flat: TA-Lib reports RSI 0 there (or the last RSI while the averages decay), which is
    not an oversold market, so the signal is 0.
    """
    close = raw.column(df, "close")
    rsi, move = _nb.rsi_nb(close, period, True)
    return _series(df, np.where(move <= FLAT_TOL * close, 0.0, map_rsi(rsi)))


def macd_signal(df: pd.DataFrame, fast: int, slow: int, signal: int) -> pd.Series:
    """MACD histogram over twice its rolling RMS, clipped: hist > 0 bullish."""
    return _series(
        df,
        rms_scale(
            raw.macd(df, fast, slow, signal)["hist"].to_numpy(),
            slow + signal - 2,
            raw.column(df, "close"),
        ),
    )


def bollinger_signal(df: pd.DataFrame, period: int, nbdev: float) -> pd.Series:
    """Position in the Bollinger bands, inverted: see :func:`map_bollinger`."""
    b = raw.bollinger(df, period, nbdev)
    s = map_bollinger(raw.column(df, "close"), b["upper"].to_numpy(), b["middle"].to_numpy())
    return _series(df, s)


def stochastic_signal(df: pd.DataFrame, k_period: int, d_period: int) -> pd.Series:
    """Slow %K, inverted: see :func:`map_stochastic`. A zero high-low range counts as %K 50
    (TA-Lib's raw %K says 0 there, which would read as oversold)."""
    k, _ = _nb.stoch_nb(
        raw.column(df, "high"),
        raw.column(df, "low"),
        raw.column(df, "close"),
        k_period,
        d_period,
        d_period,
        50.0,
    )
    return _series(df, map_stochastic(k))


def dual_sma_signal(df: pd.DataFrame, fast: int, slow: int) -> pd.Series:
    """``(SMA_fast - SMA_slow) / SMA_slow`` over twice its rolling RMS: fast above slow bullish."""
    r = raw.dual_sma(df, fast, slow)
    slow_ma = r["sma_slow"].to_numpy()
    return _series(df, rms_scale((r["sma_fast"].to_numpy() - slow_ma) / slow_ma, slow - 1))


def ema_crossover_signal(df: pd.DataFrame, fast: int, slow: int) -> pd.Series:
    """``(EMA_fast - EMA_slow) / close`` over twice its rolling RMS: fast above slow bullish."""
    r = raw.ema_crossover(df, fast, slow)
    spread = (r["ema_fast"].to_numpy() - r["ema_slow"].to_numpy()) / raw.column(df, "close")
    return _series(df, rms_scale(spread, slow - 1))


def momentum_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """MOM over twice its rolling RMS: rising prices bullish."""
    return _series(
        df, rms_scale(raw.momentum(df, period)["mom"].to_numpy(), period, raw.column(df, "close"))
    )


def roc_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """ROC over twice its rolling RMS: rising prices bullish."""
    return _series(df, rms_scale(raw.roc(df, period)["roc"].to_numpy(), period, 100.0))


def atr_ratio_signal(df: pd.DataFrame, atr_period: int, ma_period: int) -> pd.Series:
    """ATR against its average: see :func:`map_atr_ratio`."""
    return _series(df, map_atr_ratio(raw.atr_ratio(df, atr_period, ma_period)["ratio"].to_numpy()))


def vwap_dev_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """``-(close - VWAP) / VWAP`` over twice its rolling RMS: below VWAP buy (mean reversion);
    windows without volume count as no deviation."""
    return _series(
        df, -rms_scale(raw.vwap_dev(df, period)["deviation"].to_numpy(), period - 1) + 0.0
    )


def cmf_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """Chaikin Money Flow: see :func:`map_cmf`."""
    return _series(df, map_cmf(raw.cmf(df, period)["cmf"].to_numpy()))


def adx_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """ADX strength with DI direction: see :func:`map_adx`."""
    r = raw.adx(df, period)
    return _series(
        df, map_adx(r["adx"].to_numpy(), r["plus_di"].to_numpy(), r["minus_di"].to_numpy())
    )


def wyckoff_signal(df: pd.DataFrame, lookback: int) -> pd.Series:
    """Volume-price divergence: see :func:`map_wyckoff`; the price term is
    ``(close - VWMA) / VWMA`` over twice its rolling RMS, clipped."""
    r = raw.wyckoff(df, lookback)
    price_term = rms_scale(r["price_dev"].to_numpy(), lookback - 1)
    return _series(df, map_wyckoff(price_term, r["volume_balance"].to_numpy()))


def range_pos_signal(df: pd.DataFrame, period: int) -> pd.Series:
    """Position in the rolling high-low range, inverted: see :func:`map_range_pos`."""
    return _series(df, map_range_pos(raw.range_pos(df, period)["position"].to_numpy()))
