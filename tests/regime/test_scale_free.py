"""The regime probabilities do not depend on the units of price or volume.

GOOG daily bars (backtesting.py's test data), where the volume gate is open on ~94 % of the
bars, so the volume features (illiquidity, d_lambda, mass, d_mass_dt, ...) reach the
probabilities. MFT.md's illiquidity ``|r| / (c v + 1)`` and its ``mass = 1 / (illiquidity +
1e-10)`` were not scale-free: prices x0.01 moved the probabilities by up to 0.015. The
illiquidity is now the return per unit of *relative* dollar volume (``c v`` over the geometric
EWM of the previous bars' ``c v``), which has no unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from phi.regime.engine import RegimeEngine

ENGINE = RegimeEngine()
PRICES = ("open", "high", "low", "close")


@pytest.fixture(scope="module")
def goog() -> tuple[pd.DataFrame, np.ndarray]:
    df = GOOG.rename(columns=str.lower).tz_localize("UTC")
    res = ENGINE.run(df)
    assert np.mean(res.volume_gate > 0) > 0.9  # the volume features do reach the probabilities
    return df, res.regime_probs.to_numpy()


def _probs(df: pd.DataFrame) -> np.ndarray:
    return ENGINE.run(df).regime_probs.to_numpy()


@pytest.mark.parametrize("k", [0.01, 3.7, 1e4])
def test_prices_in_other_units_leave_the_probabilities_unchanged(goog, k: float) -> None:
    df, ref = goog
    got = _probs(df.assign(**{c: df[c] * k for c in PRICES}))
    # what is left is the rounding of k * price (returns and ratios move by ~1e-16)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)


def test_volume_in_other_units_leaves_the_probabilities_unchanged(goog) -> None:
    df, ref = goog
    # x1024 is exact in binary: every feature and every float32-rounded window is unchanged
    np.testing.assert_allclose(_probs(df.assign(volume=df["volume"] * 1024.0)), ref, rtol=0, atol=1e-12)
    # x1000 is not: the rolling medians / MADs are taken of float32-rounded values (the robust
    # z-scores, volume_zscore), and float32(1000 v) is not 1000 float32(v) once 1000 v > 2^24;
    # one float32 rounding step (6e-8 relative) moves a probability by ~1e-8 (measured 1.1e-8)
    np.testing.assert_allclose(_probs(df.assign(volume=df["volume"] * 1000.0)), ref, rtol=0, atol=1e-7)


def test_both_at_once_and_the_dominant_regime(goog) -> None:
    df, _ = goog
    moved = df.assign(**{c: df[c] * 0.01 for c in PRICES}, volume=df["volume"] * 1024.0)
    a, b = ENGINE.run(df), ENGINE.run(moved)
    np.testing.assert_allclose(b.regime_probs.to_numpy(), a.regime_probs.to_numpy(), rtol=0, atol=1e-9)
    assert a.dominant_regime().equals(b.dominant_regime())
