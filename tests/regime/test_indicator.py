"""phi_mft in the registry: the indicator tests' generic properties, applied to it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phi.indicators.registry import INDICATORS, compute_all_signals, compute_raw, compute_signal
from phi.indicators.signals import NORM_WINDOW
from phi.regime.engine import RegimeEngine, engine_warmup
from tests.indicators import frames
from tests.indicators.test_properties import check_signal, ohlcv_frames

SPEC = INDICATORS["phi_mft"]
WARM = SPEC.warmup(SPEC.defaults)


def test_registered_with_type_mft() -> None:
    assert SPEC.type == "MFT" and SPEC.params == () and engine_warmup() + NORM_WINDOW - 1 == WARM


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=ohlcv_frames(n_min=WARM + 5, n_max=WARM + 120))
def test_in_range_with_nan_only_in_warmup(df) -> None:
    check_signal("phi_mft", compute_signal("phi_mft", df), df, WARM)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=ohlcv_frames(n_min=WARM + 40, n_max=WARM + 120), cut=st.floats(0.0, 1.0))
def test_no_lookahead_truncation(df, cut) -> None:
    k = WARM + 1 + int(cut * (len(df) - WARM - 1))
    np.testing.assert_array_equal(compute_signal("phi_mft", df.iloc[:k]).to_numpy(), compute_signal("phi_mft", df).to_numpy()[:k])
    np.testing.assert_array_equal(compute_raw("phi_mft", df.iloc[:k]).to_numpy(), compute_raw("phi_mft", df).to_numpy()[:k])


def test_future_bars_change_nothing_before() -> None:
    df = frames.random_ohlcv(400, 7)
    other = df.copy()
    other.iloc[300:, :4] *= np.linspace(0.5, 3.0, len(df) - 300)[:, None]
    a, b = compute_signal("phi_mft", df).to_numpy(), compute_signal("phi_mft", other).to_numpy()
    np.testing.assert_array_equal(a[:300], b[:300])


@pytest.mark.parametrize("maker", [frames.flat, frames.zero_volume, frames.partly_flat, frames.huge_bar, frames.gaps])
def test_adversarial_frames(maker) -> None:
    df = maker()
    check_signal("phi_mft", compute_all_signals(df, ["phi_mft", "rsi"])["phi_mft"], df, WARM)


def test_flat_prices_are_neutral() -> None:
    out = compute_signal("phi_mft", frames.flat(400)).dropna()
    assert len(out) > 0 and (out == 0.0).all()


def test_raw_is_the_engine_composite() -> None:
    df = frames.gaps()
    raw = compute_raw("phi_mft", df)
    res = RegimeEngine().run(df)
    np.testing.assert_array_equal(raw["composite"].to_numpy(), res.composite.to_numpy())
    assert {"confidence", "TREND_UP", "HIGHVOL"} <= set(raw.columns)
