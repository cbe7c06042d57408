"""Rule indicators of the strategy presets: TA-Lib parity, plain-Python references, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from phi.indicators.registry import INDICATORS, compute_raw, compute_signal
from phi.indicators.rule_specs import PRESET_RULES, RULE_INDICATORS
from tests.conftest import make_ohlcv
from tests.indicators import frames

RULES = [s.name for s in RULE_INDICATORS]


def held(calls: np.ndarray, first: int) -> np.ndarray:
    """Reference latch: NaN before first - 1, 0 there, then the last non-zero call."""
    out = np.full(len(calls), np.nan)
    if first >= 1:
        out[first - 1] = 0.0
    state = 0.0
    for t in range(first, len(calls)):
        if calls[t] > 0:
            state = 1.0
        elif calls[t] < 0:
            state = -1.0
        out[t] = state
    return out


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return make_ohlcv(600, 11)


def test_buy_and_hold_is_zero_then_one(df):
    s = compute_signal("buy_and_hold", df).to_numpy()
    assert s[0] == 0.0 and (s[1:] == 1.0).all()


def test_rsi_band_matches_talib_and_the_rule(df):
    raw = compute_raw("rsi_band", df, {"period": 10, "lower": 35, "upper": 65})
    ref = talib.RSI(df["close"].to_numpy(), 10)
    np.testing.assert_allclose(raw["rsi"], ref, rtol=0, atol=1e-12, equal_nan=True)
    calls = np.where(ref < 35, 1.0, np.where(ref > 65, -1.0, 0.0))
    sig = compute_signal("rsi_band", df, {"period": 10, "lower": 35, "upper": 65})
    np.testing.assert_array_equal(sig.to_numpy(), held(calls, 10))
    assert (np.abs(np.diff(sig.dropna())) > 0).sum() >= 4  # it does change its mind


def test_rsi_band_makes_no_call_on_prices_that_never_moved():
    s = compute_signal("rsi_band", frames.flat(100))  # TA-Lib's RSI is 0 there: not "oversold"
    assert (s.dropna() == 0.0).all()


def test_bollinger_band_matches_talib_and_the_rule(df):
    raw = compute_raw("bollinger_band", df)
    up, mid, lo = talib.BBANDS(df["close"].to_numpy(), 20, 2.0, 2.0, 0)
    np.testing.assert_allclose(raw[["upper", "middle", "lower"]].to_numpy(), np.c_[up, mid, lo], rtol=1e-10, equal_nan=True)
    c = df["close"].to_numpy()
    calls = np.where(c < lo, 1.0, np.where(c > up, -1.0, 0.0))
    np.testing.assert_array_equal(compute_signal("bollinger_band", df).to_numpy(), held(calls, 19))


def test_channel_breakout_uses_the_prior_bars_only(df):
    raw = compute_raw("channel_breakout", df, {"period": 15})
    up = pd.Series(talib.MAX(df["high"].to_numpy(), 15)).shift(1).to_numpy()
    lo = pd.Series(talib.MIN(df["low"].to_numpy(), 15)).shift(1).to_numpy()
    np.testing.assert_array_equal(raw["upper"].to_numpy(), up)
    np.testing.assert_array_equal(raw["lower"].to_numpy(), lo)
    c = df["close"].to_numpy()
    calls = np.where(c > up, 1.0, np.where(c < lo, -1.0, 0.0))
    np.testing.assert_array_equal(compute_signal("channel_breakout", df, {"period": 15}).to_numpy(), held(calls, 15))


def test_channel_breakout_hand_made():
    """Flat at 10 (high 10.5, low 9.5) for 5 bars; a close of 11 breaks out, 9 breaks down."""
    close = np.array([10, 10, 10, 10, 10, 11, 10.8, 10.2, 9.0, 9.2])
    idx = pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC")
    bars = pd.DataFrame({"open": close, "high": close + 0.5, "low": close - 0.5, "close": close, "volume": 1.0}, index=idx)
    s = compute_signal("channel_breakout", bars, {"period": 3}).to_numpy()
    # bar 5: 11 > max(10.5) -> +1; bar 8: 9.0 < min(low of bars 5..7 = 9.7) -> -1
    np.testing.assert_array_equal(s, [np.nan, np.nan, 0, 0, 0, 1, 1, 1, -1, -1])


def wyckoff_reference(df: pd.DataFrame, lookback: int, r: float) -> np.ndarray:
    c, v = df["close"].to_numpy(), df["volume"].to_numpy()
    calls = np.full(len(c), np.nan)
    for t in range(lookback, len(c)):
        w = c[t - lookback : t + 1]
        d = np.diff(w)
        vol = v[t - lookback + 1 : t + 1]
        up = vol[d > 0].mean() if (d > 0).any() else 0.0
        down = vol[d < 0].mean() if (d < 0).any() else 0.0
        width = w.max() - w.min()
        pos = (c[t] - w.min()) / width if width > 0 else np.nan
        calls[t] = 1.0 if width > 0 and pos <= r and up > down else (-1.0 if width > 0 and pos >= 1 - r and down > up else 0.0)
    return calls


def test_wyckoff_phase_matches_the_rule(df):
    calls = wyckoff_reference(df, 20, 0.25)
    raw = compute_raw("wyckoff_phase", df, {"lookback": 20, "range_pct": 0.25})
    np.testing.assert_array_equal(raw["call"].to_numpy(), calls)
    s = compute_signal("wyckoff_phase", df, {"lookback": 20, "range_pct": 0.25})
    np.testing.assert_array_equal(s.to_numpy(), held(calls, 20))
    assert (raw["call"] == 1).any() and (raw["call"] == -1).any()


def pools_reference(df: pd.DataFrame, lookback: int, k: int) -> np.ndarray:
    """The liquidity-pool rule written out bar by bar (REFERENCE §3.2)."""
    o, h, lo, c = (df[col].to_numpy() for col in ("open", "high", "low", "close"))
    calls = np.full(len(c), np.nan)
    for t in range(lookback, len(c)):
        win = range(t - lookback, t + 1)
        highs = [h[i] for i in win if win[0] + k <= i <= t - k and all(h[i] > h[i - j] and h[i] > h[i + j] for j in range(1, k + 1))]
        lows = [lo[i] for i in win if win[0] + k <= i <= t - k and all(lo[i] < lo[i - j] and lo[i] < lo[i + j] for j in range(1, k + 1))]
        if not highs and not lows:
            calls[t] = 0.0
        elif any(h[t - 1] >= x > c[t - 1] for x in highs):
            calls[t] = -1.0
        elif any(lo[t - 1] <= x < c[t - 1] for x in lows):
            calls[t] = 1.0
        else:
            above = min([x for x in highs if x > c[t]], default=None)
            below = max([x for x in lows if x < c[t]], default=None)
            da = above - c[t] if above is not None else np.inf
            db = c[t] - below if below is not None else np.inf
            bull = c[t] > o[t]
            if above is not None and da <= db:
                calls[t] = 1.0 if bull else 0.0
            elif below is not None and db < da:
                calls[t] = 0.0 if bull else -1.0
            else:
                calls[t] = 0.0
    return calls


@pytest.mark.parametrize(("lookback", "k"), [(40, 3), (12, 1), (25, 2)])
def test_liquidity_pools_matches_the_rule(df, lookback, k):
    small = df.iloc[:250]
    calls = pools_reference(small, lookback, k)
    params = {"lookback": lookback, "strength": k}
    np.testing.assert_array_equal(compute_raw("liquidity_pools", small, params)["call"].to_numpy(), calls)
    np.testing.assert_array_equal(compute_signal("liquidity_pools", small, params).to_numpy(), held(calls, lookback))


def test_liquidity_pools_hand_made_sweeps():
    """A swing high at 12 (bar 3) is swept by bar 8 (high 12.5, close 11.5): a sell call on bar 9.
    A swing low at 8 (bar 11) is swept by bar 16 (low 7.5, close 8.5): a buy call on bar 17."""
    close = np.array([10, 10.5, 11, 11.5, 11, 10.5, 10.2, 10.4, 11.5, 11, 10, 8.5, 9, 9.5, 9.4, 9.2, 8.5, 9, 9.2, 9.4])
    high = close + 0.2
    low = close - 0.2
    high[3], high[8] = 12.0, 12.5
    low[11], low[16] = 8.0, 7.5
    idx = pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC")
    bars = pd.DataFrame({"open": close, "high": high, "low": low, "close": close, "volume": 1.0}, index=idx)
    raw = compute_raw("liquidity_pools", bars, {"lookback": 8, "strength": 2})
    assert raw["call"].iloc[9] == -1.0 and raw["sweep"].iloc[9] == -1.0
    assert raw["call"].iloc[17] == 1.0 and raw["sweep"].iloc[17] == 1.0
    np.testing.assert_array_equal(raw["call"].to_numpy(), pools_reference(bars, 8, 2))


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("cut", [0.1, 0.5, 0.93])
def test_no_lookahead_truncation(name, df, cut):
    spec = INDICATORS[name]
    warm = spec.warmup(spec.defaults)
    k = warm + 1 + int(cut * (len(df) - warm - 1))
    np.testing.assert_array_equal(compute_signal(name, df.iloc[:k]).to_numpy(), compute_signal(name, df).to_numpy()[:k])
    np.testing.assert_array_equal(compute_raw(name, df.iloc[:k]).to_numpy(), compute_raw(name, df).to_numpy()[:k])


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("maker", [frames.flat, frames.zero_volume, frames.partly_flat, frames.gaps])
def test_held_values_and_warmup_on_adversarial_frames(name, maker):
    bars = maker()
    spec = INDICATORS[name]
    s = compute_signal(name, bars).to_numpy()
    warm = spec.warmup(spec.defaults)
    assert np.isnan(s[:warm]).all() and set(np.unique(s[warm:])) <= {-1.0, 0.0, 1.0}
    if warm:
        assert s[warm] == 0.0 or name == "buy_and_hold"


def test_preset_rules_are_registered_and_named():
    assert set(RULES) | {"phibot"} == PRESET_RULES
    assert all(name in INDICATORS for name in PRESET_RULES)
