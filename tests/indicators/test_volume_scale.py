"""Volumes near the float64 limit: every volume-weighted indicator reads them in any unit.

A window's sum of volumes near 1e307 overflowed to inf, and VWAP deviation, the Wyckoff
signals, PhiBot and the regime engine's composite came out as 0, -1 or another wrong value
without a word. Volumes above 2**64 are now rescaled by an exact power of two first.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from phi._math import VOLUME_RESCALE_ABOVE, rescale_volume
from phi.indicators import raw
from phi.indicators.batch import batch_signals
from phi.indicators.registry import ON_DEMAND, compute_signal, get_indicator, list_indicators

N = 400


def _bars(volume: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, N)))
    idx = pd.date_range("2020-01-01", periods=N, freq="B", tz="UTC")
    return pd.DataFrame(
        {"open": c, "high": c * 1.01, "low": c * 0.99, "close": c, "volume": volume}, index=idx
    )


UNITS = np.random.default_rng(4).uniform(0.5, 2.0, N)
VOLUME_READERS = sorted(
    n
    for n in list_indicators()
    if "volume" in get_indicator(n).inputs and n not in ("ml_classifier", "rl_agent") and n not in ON_DEMAND
)


def test_rescale_volume_hand_cases() -> None:
    ordinary = np.array([0.0, 1.0, 1e12, 2.0**64])
    assert rescale_volume(ordinary) is ordinary  # at or below 2**64: untouched
    huge = np.array([0.0, 1e307, 5e307, np.nan])
    out = rescale_volume(huge)
    # 5e307 = 0.8897... * 2**1023, so the factor is 2**(40 - 1023): exact, zeros and NaN kept
    assert np.array_equal(out[:3], huge[:3] * 2.0**-983)
    assert np.isnan(out[3])
    assert 2.0**39 <= out[2] < 2.0**40
    assert VOLUME_RESCALE_ABOVE == 2.0**64


def test_vwap_of_huge_volumes_equals_the_hand_value() -> None:
    """VWAP over 3 bars with volumes 1, 2, 1 (x 5e307): (tp1 + 2 tp2 + tp3) / 4."""
    df = _bars(np.tile([1.0, 2.0, 1.0, 1.0], N // 4) * 5e307)
    tp = ((df["high"] + df["low"] + df["close"]) / 3.0).to_numpy()
    out = raw.vwap_dev(df, 3)
    i = 10  # volumes of bars 8, 9, 10: 1, 2, 1
    want = (tp[8] + 2.0 * tp[9] + tp[10]) / 4.0
    assert out["vwap"].iloc[i] == pytest.approx(want, rel=1e-14)
    c = df["close"].iloc[i]
    assert out["deviation"].iloc[i] == pytest.approx((c - want) / want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", [*VOLUME_READERS, "phi_mft", "phibot"])
def test_huge_volumes_give_the_signal_of_any_other_unit(name: str) -> None:
    huge = _bars(UNITS * 5e307)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = compute_signal(name, huge).to_numpy()
    exact = compute_signal(name, _bars(rescale_volume(UNITS * 5e307))).to_numpy()
    np.testing.assert_array_equal(got, exact)  # a power of two: bit for bit
    other_unit = compute_signal(name, _bars(UNITS * 1e6)).to_numpy()
    np.testing.assert_allclose(got, other_unit, rtol=0, atol=1e-9)
    assert np.isfinite(got[-50:]).all()


@pytest.mark.parametrize("name", ["vwap_dev", "cmf", "wyckoff"])
def test_batch_path_rescales_as_the_per_set_path(name: str) -> None:
    df = _bars(UNITS * 5e307)
    spec = get_indicator(name)
    block = batch_signals(name, df, [spec.defaults])
    np.testing.assert_array_equal(block[:, 0], compute_signal(name, df).to_numpy())
