"""A series whose first bars are missing (NaN), on jump-diffusion data: phi refuses the NaN bars
with one line saying to drop them, and on the dropped frame equals TA-Lib run on the NaN-led
arrays (TA-Lib's wrapper starts after a leading NaN run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from phi.errors import DataError
from phi.indicators.registry import compute_raw, compute_signal

LEAD = 25


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 400
    r = 0.0003 + 0.012 * rng.standard_t(3, n) / np.sqrt(3.0)
    jumps = rng.random(n) < 0.03
    r[jumps] += rng.normal(-0.03, 0.08, int(jumps.sum()))
    c = 40.0 * np.exp(np.cumsum(r))
    o = np.r_[c[0], c[:-1]] * np.exp(rng.normal(0.0, 0.004, n))
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0.0, 0.004, n)))
    low = np.minimum(o, c) * (1 - np.abs(rng.normal(0.0, 0.004, n)))
    idx = pd.date_range("2019-01-01", periods=n, freq="B", tz="UTC")
    led = pd.DataFrame({"open": o, "high": h, "low": low, "close": c, "volume": 1e4}, index=idx)
    led.iloc[:LEAD, :4] = np.nan
    return led, led.dropna()


def _same(ours: pd.Series, ref: np.ndarray) -> None:
    ref = np.asarray(ref)[LEAD:]
    np.testing.assert_array_equal(np.isnan(ours.to_numpy()), np.isnan(ref))
    np.testing.assert_allclose(ours.to_numpy(), ref, rtol=1e-9, atol=1e-9)


def test_leading_nan_bars_are_refused_with_the_fix(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    led, _ = frames
    with pytest.raises(DataError) as info:
        compute_signal("rsi", led)
    msg = str(info.value)
    assert "\n" not in msg and f"{LEAD} NaN value(s)" in msg and "dropna" in msg


def test_dropped_frame_equals_talib_on_the_nan_led_arrays(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    led, clean = frames
    c, h, low = (led[k].to_numpy() for k in ("close", "high", "low"))
    _same(compute_raw("rsi", clean, {"period": 14})["rsi"], talib.RSI(c, 14))
    macd = compute_raw("macd", clean)
    m, s, hist = talib.MACD(c, 12, 26, 9)
    _same(macd["macd"], m)
    _same(macd["signal"], s)
    _same(macd["hist"], hist)
    _same(compute_raw("bollinger", clean)["upper"], talib.BBANDS(c, 20, 2.0, 2.0, talib.MA_Type.SMA)[0])
    adx = compute_raw("adx", clean, {"period": 14})
    _same(adx["adx"], talib.ADX(h, low, c, 14))
    _same(adx["plus_di"], talib.PLUS_DI(h, low, c, 14))
    _same(compute_raw("atr_ratio", clean)["atr"], talib.ATR(h, low, c, 14))
