"""Hand-worked cases of every indicator's map to [-1, +1] (+1 = buy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from phi.indicators import signals
from phi.indicators.registry import ON_DEMAND, compute_raw, compute_signal, list_indicators
from tests.conftest import make_ohlcv
from tests.indicators import frames


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def rms_reference(x: pd.Series) -> np.ndarray:
    """x / (2 * rolling RMS over 60 bars), clipped, in plain pandas (0 where the RMS is 0)."""
    rms = np.sqrt((x * x).rolling(signals.NORM_WINDOW).mean())
    out = (x / (signals.NORM_GAIN * rms)).clip(-1, 1)
    return out.where(rms > 0, 0.0).where(rms.notna()).to_numpy()


# ---------------------------------------------------------------------------- the pure maps


def test_rsi_map():
    np.testing.assert_allclose(
        signals.map_rsi(arr(30, 40, 50, 60, 70, 0, 100, 20)), arr(1, 0.5, 0, -0.5, -1, 1, -1, 1)
    )


def test_bollinger_map():
    upper, middle = arr(110, 110, 110, 110, 110, 100), arr(100, 100, 100, 100, 100, 100)
    close = arr(90, 95, 100, 110, 120, 100)  # at lower, halfway down, middle, upper, beyond, flat
    np.testing.assert_allclose(
        signals.map_bollinger(close, upper, middle), arr(1, 0.5, 0, -1, -1, 0)
    )


def test_stochastic_map():
    np.testing.assert_allclose(
        signals.map_stochastic(arr(10, 30, 50, 70, 90, 0)), arr(1, 0.5, 0, -0.5, -1, 1)
    )


def test_atr_ratio_map():
    np.testing.assert_allclose(
        signals.map_atr_ratio(arr(0.5, 0.75, 1, 1.25, 1.5, 3)), arr(1, 0.5, 0, -0.5, -1, -1)
    )


def test_cmf_map():
    np.testing.assert_allclose(
        signals.map_cmf(arr(0.25, 0.125, 0, -0.125, -0.5)), arr(1, 0.5, 0, -0.5, -1)
    )


def test_adx_map():
    adx = arr(50, 35, 35, 15, 80, 40)
    plus = arr(30, 30, 10, 30, 40, 20)
    minus = arr(10, 10, 30, 10, 5, 20)
    np.testing.assert_allclose(signals.map_adx(adx, plus, minus), arr(1, 0.5, -0.5, 0, 1, 0))


def test_range_pos_map():
    np.testing.assert_allclose(
        signals.map_range_pos(arr(0, 0.25, 0.5, 0.75, 1)), arr(1, 0.5, 0, -0.5, -1)
    )


def test_wyckoff_map():
    balance = arr(0.5, -0.5, 0.5, 0.0, 0.0, 1.0)
    price = arr(-0.5, 0.5, 0.5, 0.8, -0.8, -1.0)
    # accumulation, distribution, confirmed move, rally on no demand, decline on no supply, clip
    np.testing.assert_allclose(signals.map_wyckoff(price, balance), arr(1, -1, 0, -0.8, 0.8, 1))


def test_rms_scale_hand_cases():
    ones = np.ones(60)
    assert signals.rms_scale(ones, 0)[-1] == pytest.approx(0.5)  # a value equal to its RMS -> 0.5
    x = np.r_[np.ones(59), -1.0]
    assert signals.rms_scale(x, 0)[-1] == pytest.approx(-0.5)
    x = np.r_[np.zeros(59), 1.0]  # rms = 1/sqrt(60): saturates
    assert signals.rms_scale(x, 0)[-1] == 1.0
    assert signals.rms_scale(np.zeros(80), 0)[-1] == 0.0
    out = signals.rms_scale(np.r_[np.full(5, np.nan), np.ones(70)], 5)
    assert np.isnan(out[: 5 + 59]).all() and np.isfinite(out[5 + 59 :]).all()


# ---------------------------------------------------------------------------- end to end


def test_rsi_end_to_end():
    up = frames.trending(100, up=True)
    assert (compute_signal("rsi", up).dropna() == -1.0).all()  # RSI 100: overbought
    down = frames.trending(100, up=False)
    assert (compute_signal("rsi", down).dropna() == 1.0).all()
    # TA-Lib says RSI 0 on flat prices; that is no oversold market
    flat = frames.flat(100)
    assert (compute_raw("rsi", flat)["rsi"].dropna() == 0.0).all()
    assert (compute_signal("rsi", flat).dropna() == 0.0).all()


def test_rsi_30_is_a_full_buy():
    df = make_ohlcv(800, 21)
    rsi = talib.RSI(df["close"].to_numpy(), 14)
    sig = compute_signal("rsi", df).to_numpy()
    np.testing.assert_allclose(sig[14:], np.clip((50 - rsi[14:]) / 20, -1, 1))
    assert (sig[14:][rsi[14:] <= 30] == 1.0).all()


def test_stochastic_zero_range_is_neutral():
    # TA-Lib's %K is 0 on a zero range (it would read "oversold"); our signal says 0
    flat = frames.flat(60)
    assert (compute_raw("stochastic", flat)["slowk"].dropna() == 0.0).all()
    assert (compute_signal("stochastic", flat).dropna() == 0.0).all()
    df = make_ohlcv(300, 22)
    k, _ = talib.STOCH(df["high"], df["low"], df["close"], 14, 3, 0, 3, 0)
    np.testing.assert_allclose(compute_signal("stochastic", df), np.clip((50 - k) / 40, -1, 1))


def test_bollinger_end_to_end():
    df = make_ohlcv(300, 23)
    u, m, lo = talib.BBANDS(df["close"].to_numpy(), 20, 2.0, 2.0, 0)
    ref = np.clip((m - df["close"]) / (u - m), -1, 1)
    np.testing.assert_allclose(compute_signal("bollinger", df), ref, rtol=1e-12, atol=1e-12)
    assert (compute_signal("bollinger", frames.flat(60)).dropna() == 0.0).all()


def test_range_pos_end_to_end():
    up = frames.trending(60, up=True)  # closes at the highest high -> -1
    assert (compute_signal("range_pos", up).dropna() == -1.0).all()
    down = frames.trending(60, up=False)  # closes at the lowest low -> +1
    assert (compute_signal("range_pos", down).dropna() == 1.0).all()


def test_cmf_end_to_end():
    up = frames.trending(60, up=True)  # every bar closes at its high: CMF 1 -> +1
    assert (compute_signal("cmf", up).dropna() == 1.0).all()
    down = frames.trending(60, up=False)
    assert (compute_signal("cmf", down).dropna() == -1.0).all()
    assert (compute_signal("cmf", frames.zero_volume(60)).dropna() == 0.0).all()


def test_adx_end_to_end():
    up = frames.trending(120, up=True)  # one-way market: ADX 100, +DI > -DI -> +1
    assert (compute_signal("adx", up).dropna() == 1.0).all()
    assert (compute_signal("adx", frames.trending(120, up=False)).dropna() == -1.0).all()
    assert (compute_signal("adx", frames.flat(120)).dropna() == 0.0).all()


def test_atr_ratio_end_to_end():
    df = make_ohlcv(400, 24)
    atr = pd.Series(talib.ATR(df["high"], df["low"], df["close"], 14))
    ratio = atr / atr.rolling(50).mean()
    np.testing.assert_allclose(
        compute_signal("atr_ratio", df), np.clip(2 * (1 - ratio), -1, 1), atol=1e-12
    )
    assert (compute_signal("atr_ratio", frames.flat(200)).dropna() == 0.0).all()


def test_momentum_and_roc_on_steady_trends():
    # a constant MOM (ROC) equals its own RMS: signal 0.5 (a buy of half size)
    line = frames.trending(200, up=True)
    assert compute_signal("momentum", line).dropna().to_numpy() == pytest.approx(0.5)
    expo = line.copy()
    for col in ("open", "high", "low", "close"):
        expo[col] = 100.0 * 1.01 ** np.arange(200)
    assert compute_signal("roc", expo).dropna().to_numpy() == pytest.approx(0.5)
    assert compute_signal(
        "momentum", frames.trending(200, up=False)
    ).dropna().to_numpy() == pytest.approx(-0.5)


def test_rms_scaled_signals_against_pandas():
    df = make_ohlcv(500, 25)
    c = df["close"]
    hist = pd.Series(talib.MACD(c.to_numpy(), 12, 26, 9)[2], index=df.index)
    np.testing.assert_allclose(compute_signal("macd", df), rms_reference(hist), atol=1e-12)
    sma_f, sma_s = c.rolling(10).mean(), c.rolling(50).mean()
    np.testing.assert_allclose(
        compute_signal("dual_sma", df), rms_reference((sma_f - sma_s) / sma_s), atol=1e-9
    )
    ema = (
        pd.Series(talib.EMA(c.to_numpy(), 9), index=df.index),
        pd.Series(talib.EMA(c.to_numpy(), 21), index=df.index),
    )
    np.testing.assert_allclose(
        compute_signal("ema_crossover", df), rms_reference((ema[0] - ema[1]) / c), atol=1e-12
    )
    np.testing.assert_allclose(
        compute_signal("momentum", df), rms_reference(c - c.shift(10)), atol=1e-12
    )
    np.testing.assert_allclose(
        compute_signal("roc", df), rms_reference(100 * (c / c.shift(10) - 1)), atol=1e-12
    )
    tp = (df["high"] + df["low"] + c) / 3
    vwap = (tp * df["volume"]).rolling(20).sum() / df["volume"].rolling(20).sum()
    np.testing.assert_allclose(
        compute_signal("vwap_dev", df), -rms_reference((c - vwap) / vwap), atol=1e-9
    )


def test_wyckoff_end_to_end():
    df = make_ohlcv(400, 26)
    c, v = df["close"], df["volume"]
    vwma = (c * v).rolling(30).sum() / v.rolling(30).sum()
    price = rms_reference((c - vwma) / vwma)
    balance = (np.sign(c.diff()) * v).rolling(30).sum() / v.rolling(30).sum()
    np.testing.assert_allclose(
        compute_signal("wyckoff", df), np.clip(balance - price, -1, 1), atol=1e-9
    )
    assert (compute_signal("wyckoff", frames.flat(200)).dropna() == 0.0).all()


# buy_and_hold is one-sided by design; ml_classifier is a probability (2 P - 1), not a saturating
# map; rl_agent trains PPO (tested in tests/rl)
@pytest.mark.parametrize("name", [n for n in list_indicators() if n not in ("buy_and_hold", "ml_classifier", "rl_agent") and n not in ON_DEMAND])
def test_every_signal_can_reach_both_extremes(name):
    """A saturating map: over a long frame with regimes, each signal gets within 5% of +-1."""
    parts = [make_ohlcv(400, s) for s in (30, 31, 32)]
    df = pd.concat(parts)
    df.index = pd.date_range("2020-01-01", periods=len(df), freq="D", tz="UTC", name="timestamp")
    df.iloc[400:800, :4] = (
        df.iloc[400:800, :4].to_numpy() * np.exp(np.linspace(0, 1.2, 400))[:, None]
    )
    df.iloc[800:, :4] = df.iloc[800:, :4].to_numpy() * np.exp(np.linspace(0, -1.2, 400))[:, None]
    df.iloc[1000:1100, :4] = (
        df.iloc[1000:1100, :4].to_numpy() * np.exp(np.linspace(0, 0.4, 100) ** 2)[:, None]
    )
    s = compute_signal(name, df).dropna()
    assert s.max() >= 0.95 and s.min() <= -0.95, (s.min(), s.max())
