"""Kernel edge cases: short arrays, tiny periods, falling markets, huge values leaving windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from phi.indicators import _nb


def same(ours, ref, rtol=1e-12, atol=1e-12):
    ours, ref = np.asarray(ours), np.asarray(ref)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 19, 20, 21, 40, 41, 97])
@pytest.mark.parametrize("period", [2, 3, 5, 20])
def test_rolling_extremes_any_length(n, period):
    x = np.random.default_rng(n * 100 + period).normal(size=n)
    same(_nb.rolling_max_nb(x, period), talib.MAX(x, period))
    same(_nb.rolling_min_nb(x, period), talib.MIN(x, period))


@pytest.mark.parametrize(
    "x", [np.linspace(100, 0, 500), np.linspace(0, 100, 500), np.full(500, 3.0)]
)
def test_rolling_extremes_monotonic(x):
    for p in (2, 7, 50):
        same(_nb.rolling_max_nb(x, p), talib.MAX(x, p))
        same(_nb.rolling_min_nb(x, p), talib.MIN(x, p))


@pytest.mark.parametrize(("k", "sk", "sd"), [(1, 1, 1), (2, 1, 3), (5, 4, 1), (3, 7, 2)])
def test_stoch_small_periods(k, sk, sd):
    rng = np.random.default_rng(k * 10 + sk)
    c = 100 + np.cumsum(rng.normal(size=300))
    h, lo = c + rng.uniform(0, 1, 300), c - rng.uniform(0, 1, 300)
    ref = talib.STOCH(h, lo, c, k, sk, 0, sd, 0)
    for ours, r in zip(_nb.stoch_nb(h, lo, c, k, sk, sd, 0.0), ref, strict=True):
        same(ours, r, atol=1e-9)


@pytest.mark.parametrize("n", [1, 5, 14, 15, 16, 29, 30])
def test_shorter_than_lookback_is_all_nan(n):
    x = np.linspace(1, 2, n)
    hi, lo = x + 0.1, x - 0.1
    assert np.isnan(_nb.rsi_nb(x, 14, False)[0][: min(n, 14)]).all()
    for a, b in zip(_nb.macd_nb(x, 12, 26, 9), talib.MACD(x, 12, 26, 9), strict=True):
        same(a, b)
    same(_nb.atr_nb(hi, lo, x, 14), talib.ATR(hi, lo, x, 14))
    for a, b in zip(_nb.adx_nb(hi, lo, x, 14), (talib.PLUS_DI(hi, lo, x, 14), talib.MINUS_DI(hi, lo, x, 14), talib.ADX(hi, lo, x, 14)), strict=True):  # fmt: skip
        same(a, b)
    for a, b in zip(_nb.bbands_nb(x, 20, 2.0), talib.BBANDS(x, 20, 2.0, 2.0, 0), strict=True):
        same(a, b)


def test_atr_odd_and_even_lengths_and_period_one():
    rng = np.random.default_rng(3)
    c = 100 + np.cumsum(rng.normal(size=101))
    h, lo = c + 1, c - 1
    for n in (99, 100, 101):
        same(_nb.atr_nb(h[:n], lo[:n], c[:n], 14), talib.ATR(h[:n], lo[:n], c[:n], 14), atol=1e-9)
    same(_nb.atr_nb(h, lo, c, 1), talib.TRANGE(h, lo, c))


def test_vwap_and_cmf_after_a_huge_volume_bar_then_no_volume():
    n = 200
    price = np.full(n, 50.0) + np.sin(np.arange(n))
    vol = np.full(n, 1_000.0)
    vol[60] = 1e15
    vol[61:] = 0.0
    vwap = _nb.vwap_nb(price, vol, 10)
    assert np.isfinite(vwap[60:70]).all() and np.isnan(vwap[70:]).all()  # exactly no volume left
    cmf = _nb.cmf_nb(price + 1, price - 1, price, vol, 10)
    assert (cmf[70:] == 0.0).all()
    bal = _nb.volume_balance_nb(price, vol, 10)
    assert (bal[71:] == 0.0).all()


def test_guarded_sums_match_direct_sums_with_spikes():
    rng = np.random.default_rng(5)
    n = 3000
    vol = rng.uniform(0, 1000, n)
    vol[rng.integers(0, n, 20)] *= 1e9
    vol[1500:1700] = 0.0
    price = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    direct = np.array([np.nan] * 24 + [(price[i - 24 : i + 1] * vol[i - 24 : i + 1]).sum() / vol[i - 24 : i + 1].sum() if vol[i - 24 : i + 1].sum() > 0 else np.nan for i in range(24, n)])  # fmt: skip
    same(_nb.vwap_nb(price, vol, 25), direct, rtol=1e-11, atol=0)


def test_rms_scale_forgets_a_spike_exactly():
    x = np.r_[np.full(100, 1e-3), 1e9, np.full(200, 1e-3), np.zeros(100)]
    out = _nb.rms_scale_nb(x, 60, 2.0)
    # 60 bars after the spike the window holds 1e-3 only again: a value equal to its RMS -> 0.5
    np.testing.assert_allclose(out[161:301], 0.5, rtol=1e-12)
    assert (out[360:] == 0.0).all()  # an all-zero window


def test_bbands_std_after_spike_and_on_flat():
    x = np.r_[100 + np.sin(np.arange(100)), 1e7, 100 + np.sin(np.arange(100)), np.full(100, 100.1)]
    u, m, lo = _nb.bbands_nb(x, 20, 1.0)
    ref = pd.Series(x).rolling(20).std(ddof=0).to_numpy()
    np.testing.assert_allclose((u - m)[121:], ref[121:], rtol=1e-9, atol=1e-9)
    assert ((u - m)[221:] == 0.0).all()
