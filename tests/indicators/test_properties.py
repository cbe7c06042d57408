"""Invariants over random OHLCV frames: range, warm-up, no look-ahead, flat/zero-volume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phi.indicators.registry import (
    INDICATORS,
    compute_all_signals,
    compute_raw,
    compute_signal,
    list_indicators,
)
from tests.indicators import frames

NAMES = list_indicators()[:14]
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ohlcv_frames(draw, n_min: int = 130, n_max: int = 260) -> pd.DataFrame:
    n = draw(st.integers(n_min, n_max))
    return frames.random_ohlcv(
        n,
        seed=draw(st.integers(0, 10_000)),
        flat_from=draw(st.integers(-1, n)),
        flat_len=draw(st.sampled_from([0, 5, 40, 120])),
        zero_vol=draw(st.booleans()),
        jump=draw(st.sampled_from([1.0, 1.0, 5.0, 0.1])),
    )


@st.composite
def params_for(draw, name: str) -> dict:
    """Random valid parameters (respecting fast < slow), kept short enough for the frames."""
    spec = INDICATORS[name]
    out = {}
    for p in spec.params:
        high = min(p.high, 40) if p.kind is int else p.high
        out[p.name] = (
            draw(st.integers(p.low, high)) if p.kind is int else draw(st.floats(p.low, high))
        )
    if spec.constraint is not None and spec.constraint(out):
        out["fast"], out["slow"] = min(out["fast"], out["slow"] - 1), out["slow"]
        if out["fast"] < spec.param("fast").low or out["fast"] >= out["slow"]:
            out = spec.defaults
    return out


def check_signal(name: str, s: pd.Series, df: pd.DataFrame, warm: int) -> None:
    assert s.name == name and s.dtype == np.float64 and s.index.equals(df.index)
    v = s.to_numpy()
    assert np.isnan(v[:warm]).all(), f"{name}: values before the warm-up of {warm}"
    assert np.isfinite(v[warm:]).all(), f"{name}: NaN/inf after the warm-up of {warm}"
    assert (np.abs(v[warm:]) <= 1.0).all()


@SETTINGS
@given(df=ohlcv_frames())
def test_all_signals_in_range_with_nan_only_in_warmup(df):
    out = compute_all_signals(df, NAMES)
    assert list(out.columns) == NAMES
    for name in NAMES:
        spec = INDICATORS[name]
        check_signal(name, out[name], df, spec.warmup(spec.defaults))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_random_params_in_range(name, data):
    df = data.draw(ohlcv_frames(n_min=200, n_max=300))
    params = data.draw(params_for(name))
    spec = INDICATORS[name]
    check_signal(name, compute_signal(name, df, params), df, spec.warmup(spec.resolve(params)))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(df=ohlcv_frames(n_min=200, n_max=260), cut=st.floats(0.0, 1.0))
def test_no_lookahead_truncation(name, df, cut):
    """Computing on the first k bars gives exactly the values the full frame gives there."""
    spec = INDICATORS[name]
    warm = spec.warmup(spec.defaults)
    k = warm + 1 + int(cut * (len(df) - warm - 1))
    full_sig = compute_signal(name, df)
    part_sig = compute_signal(name, df.iloc[:k])
    np.testing.assert_array_equal(part_sig.to_numpy(), full_sig.to_numpy()[:k])
    full_raw = compute_raw(name, df)
    part_raw = compute_raw(name, df.iloc[:k])
    np.testing.assert_array_equal(part_raw.to_numpy(), full_raw.to_numpy()[:k])


@pytest.mark.parametrize("name", NAMES)
def test_future_bars_change_nothing_before(name):
    """Perturbing bars after t (prices and volume) leaves every value at or before t unchanged."""
    df = frames.random_ohlcv(300, 7)
    other = df.copy()
    other.iloc[200:, :4] *= np.linspace(0.5, 3.0, 100)[:, None]
    other.iloc[200:, 4] *= 7.0
    a, b = compute_signal(name, df).to_numpy(), compute_signal(name, other).to_numpy()
    np.testing.assert_array_equal(a[:200], b[:200])


@pytest.mark.parametrize(
    "maker", [frames.flat, frames.zero_volume, frames.partly_flat, frames.huge_bar, frames.gaps]
)
def test_adversarial_frames_are_finite_after_warmup(maker):
    df = maker()
    out = compute_all_signals(df, NAMES)
    for name in NAMES:
        spec = INDICATORS[name]
        check_signal(name, out[name], df, spec.warmup(spec.defaults))


def test_flat_prices_are_neutral():
    """A market that does not move: every signal is the neutral 0 after its warm-up."""
    out = compute_all_signals(frames.flat(300), NAMES).dropna()
    assert len(out) > 0 and (out == 0.0).all().all()
