"""Raw values against TA-Lib (and plain pandas where TA-Lib has no such function), to 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from phi.indicators.registry import compute_raw
from tests.conftest import make_ohlcv
from tests.indicators import frames

FRAMES = {"realistic": lambda: make_ohlcv(600, 11), **frames.ADVERSARIAL}


@pytest.fixture(params=list(FRAMES), scope="module")
def df(request) -> pd.DataFrame:
    return FRAMES[request.param]()


def assert_close(ours, ref) -> None:
    """Equal to 1e-9 (relative for large values), with NaN in the same places."""
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def hlc(df):
    return df["high"].to_numpy(), df["low"].to_numpy(), df["close"].to_numpy()


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi(df, period):
    assert_close(
        compute_raw("rsi", df, {"period": period})["rsi"], talib.RSI(df["close"].to_numpy(), period)
    )


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (2, 5, 2)])
def test_macd(df, fast, slow, signal):
    r = compute_raw("macd", df, {"fast": fast, "slow": slow, "signal": signal})
    m, s, h = talib.MACD(df["close"].to_numpy(), fast, slow, signal)
    assert_close(r["macd"], m)
    assert_close(r["signal"], s)
    assert_close(r["hist"], h)


@pytest.mark.parametrize(("period", "nbdev"), [(20, 2.0), (5, 1.0), (40, 2.75)])
def test_bollinger(df, period, nbdev):
    r = compute_raw("bollinger", df, {"period": period, "nbdev": nbdev})
    u, m, lo = talib.BBANDS(df["close"].to_numpy(), period, nbdev, nbdev, talib.MA_Type.SMA)
    assert_close(r["upper"], u)
    assert_close(r["middle"], m)
    assert_close(r["lower"], lo)


@pytest.mark.parametrize(("k", "d"), [(14, 3), (5, 1), (30, 7)])
def test_stochastic(df, k, d):
    r = compute_raw("stochastic", df, {"k_period": k, "d_period": d})
    sk, sd = talib.STOCH(*hlc(df), k, d, talib.MA_Type.SMA, d, talib.MA_Type.SMA)
    assert_close(r["slowk"], sk)
    assert_close(r["slowd"], sd)


def test_dual_sma(df):
    r = compute_raw("dual_sma", df, {"fast": 7, "slow": 50})
    assert_close(r["sma_fast"], talib.SMA(df["close"].to_numpy(), 7))
    assert_close(r["sma_slow"], talib.SMA(df["close"].to_numpy(), 50))


def test_ema_crossover(df):
    r = compute_raw("ema_crossover", df, {"fast": 3, "slow": 40})
    assert_close(r["ema_fast"], talib.EMA(df["close"].to_numpy(), 3))
    assert_close(r["ema_slow"], talib.EMA(df["close"].to_numpy(), 40))


@pytest.mark.parametrize("period", [2, 10, 60])
def test_momentum_and_roc(df, period):
    c = df["close"].to_numpy()
    assert_close(compute_raw("momentum", df, {"period": period})["mom"], talib.MOM(c, period))
    assert_close(compute_raw("roc", df, {"period": period})["roc"], talib.ROC(c, period))


@pytest.mark.parametrize(("a", "m"), [(14, 50), (5, 10)])
def test_atr_ratio(df, a, m):
    r = compute_raw("atr_ratio", df, {"atr_period": a, "ma_period": m})
    atr = talib.ATR(*hlc(df), a)
    assert_close(r["atr"], atr)
    # pandas' rolling mean (compensated sums) as the reference; TA-Lib's SMA agrees to 1e-9
    avg = pd.Series(atr).rolling(m).mean().to_numpy()
    assert_close(r["atr_sma"], avg)
    assert_close(r["atr_sma"], talib.SMA(atr, m))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(avg > 0, atr / avg, np.where(np.isnan(avg), np.nan, 1.0))
    assert_close(r["ratio"], ratio)


@pytest.mark.parametrize("period", [5, 14, 28])
def test_adx(df, period):
    r = compute_raw("adx", df, {"period": period})
    assert_close(r["adx"], talib.ADX(*hlc(df), period))
    assert_close(r["plus_di"], talib.PLUS_DI(*hlc(df), period))
    assert_close(r["minus_di"], talib.MINUS_DI(*hlc(df), period))


def test_range_pos(df):
    r = compute_raw("range_pos", df, {"period": 20})
    hh = talib.MAX(df["high"].to_numpy(), 20)
    ll = talib.MIN(df["low"].to_numpy(), 20)
    assert_close(r["highest"], hh)
    assert_close(r["lowest"], ll)
    pos = (df["close"] - ll) / (hh - ll)
    pos = pos.where(hh > ll, np.where(np.isnan(hh), np.nan, 0.5))
    assert_close(r["position"], pos)


# ---------------------------------------------------------------------------- pandas references


def test_cmf_against_pandas_and_talib_ad(df):
    h, lo, c = df["high"], df["low"], df["close"]
    rng = h - lo
    mfv = (((c - lo) - (h - c)) / rng * df["volume"]).where(rng > 0, 0.0)
    # the money-flow volume is the step of TA-Lib's accumulation/distribution line
    ad = talib.AD(*hlc(df), df["volume"].to_numpy())
    np.testing.assert_allclose(mfv.cumsum(), ad, rtol=1e-9, atol=1e-6)
    sum_v = df["volume"].rolling(20).sum()
    ref = (mfv.rolling(20).sum() / sum_v).where(sum_v > 0, 0.0).where(sum_v.notna())
    assert_close(compute_raw("cmf", df, {"period": 20})["cmf"], ref)


def test_vwap_against_pandas(df):
    tp = (df["high"] + df["low"] + df["close"]) / 3.0
    sum_v = df["volume"].rolling(20).sum()
    vwap = ((tp * df["volume"]).rolling(20).sum() / sum_v).where(sum_v > 0)
    r = compute_raw("vwap_dev", df, {"period": 20})
    assert_close(r["vwap"], vwap)
    assert_close(r["deviation"], (df["close"] - vwap) / vwap)


def test_wyckoff_inputs_against_pandas(df):
    c, v = df["close"], df["volume"]
    sum_v = v.rolling(30).sum()
    vwma = ((c * v).rolling(30).sum() / sum_v).where(sum_v > 0)
    signed = np.sign(c.diff()).fillna(0.0) * v
    bal = (signed.rolling(30).sum() / sum_v).where(sum_v > 0, 0.0)
    bal.iloc[:30] = np.nan  # the first bar has no previous close
    r = compute_raw("wyckoff", df, {"lookback": 30})
    assert_close(r["vwma"], vwma)
    assert_close(r["price_dev"], (c - vwma) / vwma)
    assert_close(r["volume_balance"], bal)
