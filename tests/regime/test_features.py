"""MFT features: hand-worked values on tiny frames, kernels against pandas/numpy, causality."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phi.errors import DataError
from phi.regime import _nb
from phi.regime._rolling_nb import rolling_median_mad_fast_nb
from phi.regime.config import FeatureConfig, feature_names
from phi.regime.features import compute_features, feature_first_valid, raw_features, robust_zscore
from tests.conftest import make_ohlcv

# ---------------------------------------------------------------------------- a tiny frame

R = [0.0, -0.02, 0.03, 0.005, 0.02, 0.01]  # the log returns of bars 1..6


def tiny() -> pd.DataFrame:
    close = 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(R)]))
    idx = pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": 1000.0},
        index=idx,
    )


SMALL = FeatureConfig(
    drift=(4,), vol=(3, 4), er=(4,), autocorr_lag=1, autocorr_window=4, autocorr_min=2, flip=3,
    flip_min=2, median_cross=3, impulse_revert=3, illiquidity=3, volume_z=4, volume_z_min=2,
    entropy=6, entropy_bins=3, entropy_min=6, range_expansion=3, dissipation=3, robust_norm=5,
)  # fmt: skip


def test_log_return_by_hand() -> None:
    raw = raw_features(tiny(), SMALL)
    assert math.isnan(raw["log_return"].iloc[0])
    np.testing.assert_allclose(raw["log_return"].iloc[1:], R, atol=1e-15)


def test_efficiency_ratio_by_hand() -> None:
    raw = raw_features(tiny(), SMALL)
    # er_4 at bar 4: returns 0, -0.02, 0.03, 0.005 -> |0.015| / 0.055; at bar 6: -> |0.065| / 0.065
    assert raw["er_4"].iloc[4] == pytest.approx(0.015 / (0.055 + 1e-10), rel=1e-12)
    assert raw["er_4"].iloc[6] == pytest.approx(0.065 / (0.065 + 1e-10), rel=1e-12)
    # min periods 4 // 2 = 2 valid returns: bar 1 has one, bar 2 has two
    assert math.isnan(raw["er_4"].iloc[1]) and raw["er_4"].iloc[2] == pytest.approx(0.02 / 0.02, rel=1e-8)


def test_entropy_by_hand() -> None:
    # 3 bins over [-0.02, 0.03]: [-0.02, -0.0033) holds -0.02; [-0.0033, 0.0133) holds 0, 0.005,
    # 0.01; the last (closed) bin holds 0.02, 0.03 -> counts 1, 3, 2
    raw = raw_features(tiny(), SMALL)
    expected = -(1 / 6 * math.log(1 / 6) + 1 / 2 * math.log(1 / 2) + 1 / 3 * math.log(1 / 3))
    assert raw["entropy"].iloc[6] == pytest.approx(expected, rel=1e-12)
    assert raw["entropy"].iloc[:6].isna().all()  # min 6 returns
    flat = _nb.rolling_entropy_nb(np.full(10, 0.01), 5, 3, 10)
    assert (flat[2:] == 0.0).all()  # degenerate window -> 0


def test_robust_zscore_by_hand() -> None:
    fc = FeatureConfig(robust_norm=5)
    z = robust_zscore(np.array([1.0, 2.0, 4.0, 8.0, 16.0]), fc)
    # median 4, |x - 4| = 3, 2, 0, 4, 12 -> MAD 3; z = 12 / (1.4826 * 3)
    assert np.isnan(z[:4]).all()  # min periods max(5 // 3, 5) = 5
    assert z[4] == pytest.approx(12.0 / (1.4826 * 3.0), rel=1e-12)
    # MAD 0 -> EWMA std (span 30, adjust=False) of the whole series: only the last value moves it
    z = robust_zscore(np.array([5.0, 5.0, 5.0, 5.0, 5.0, 6.0]), fc)
    a = 2.0 / 31.0
    assert z[5] == pytest.approx(1.0 / math.sqrt(a * (1.0 - a)), rel=1e-12)
    assert z[4] == 0.0  # constant window: 0 / floor


def test_tiny_valued_features_are_not_flattened_by_an_absolute_floor() -> None:
    x = np.random.default_rng(0).normal(2e-10, 5e-11, 200)  # like illiquidity on daily bars
    z = robust_zscore(x)
    assert np.nanstd(z) > 0.5


# ---------------------------------------------------------------------------- kernels vs references


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 120),
    window=st.integers(2, 30),
    seed=st.integers(0, 10_000),
    ties=st.booleans(),
    nan_share=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_rolling_kernels_match_pandas(n, window, seed, ties, nan_share) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    if ties:
        x = np.round(x, 1)
    x[rng.random(n) < nan_share] = np.nan
    minp = int(rng.integers(1, window + 1))
    s = pd.Series(x)
    roll = s.rolling(window, min_periods=minp)
    med, mad = rolling_median_mad_fast_nb(x, window, minp)

    def mad_ref(a: np.ndarray) -> float:
        a = a[~np.isnan(a)]
        return float(np.median(np.abs(a - np.median(a))))

    np.testing.assert_allclose(med, roll.median(), atol=1e-12)
    np.testing.assert_allclose(mad, roll.apply(mad_ref, raw=True), atol=1e-12)
    mean, std = _nb.rolling_mean_std_nb(x, window, minp, 1)
    np.testing.assert_allclose(mean, roll.mean(), atol=1e-10)
    np.testing.assert_allclose(std, roll.std(), atol=1e-10)
    np.testing.assert_allclose(_nb.rolling_mean_nb(x, window, minp), roll.mean(), atol=1e-10)
    y = rng.normal(size=n)
    ref_corr = s.rolling(window, min_periods=max(minp, 2)).corr(pd.Series(y))
    got = _nb.rolling_corr_nb(x, y, window, max(minp, 2))
    ok = np.isfinite(ref_corr.to_numpy())
    np.testing.assert_allclose(got[ok], ref_corr.to_numpy()[ok], atol=1e-9)


def test_entropy_matches_numpy_histogram() -> None:
    r = np.random.default_rng(1).normal(size=300)
    got = _nb.rolling_entropy_nb(r, 30, 10, 10)
    for t in range(29, 300, 17):
        counts, _ = np.histogram(r[t - 29 : t + 1], bins=10)
        p = counts[counts > 0] / 30
        assert got[t] == pytest.approx(-np.sum(p * np.log(p)), rel=1e-12)


def test_ewm_std_matches_pandas() -> None:
    x = np.random.default_rng(2).normal(size=200)
    a = 2.0 / 31.0
    ref = pd.Series(x).ewm(alpha=a, adjust=False).var(bias=True) ** 0.5
    np.testing.assert_allclose(_nb.ewm_std_nb(x, a), ref, rtol=1e-10, atol=1e-12)


def test_features_match_pandas_definitions() -> None:
    df = make_ohlcv(400, 3)
    raw = raw_features(df)
    c = df["close"]
    r = np.log(c / c.shift())
    np.testing.assert_allclose(raw["drift_tscore_30"], r.rolling(30, 15).mean() * np.sqrt(30) / (r.rolling(30, 15).std() + 1e-10), rtol=1e-9)
    np.testing.assert_allclose(raw["rv_delta"], r.rolling(30, 15).std() - r.rolling(120, 60).std(), atol=1e-12)
    tr = pd.concat([df.high - df.low, (df.high - c.shift()).abs(), (df.low - c.shift()).abs()], axis=1).max(axis=1)
    tr = tr / c.shift().fillna(df.open)  # a share of the previous close (the first bar: its open)
    np.testing.assert_allclose(raw["true_range"], tr, rtol=1e-12)
    np.testing.assert_allclose(raw["range_expansion"], tr / (tr.rolling(30, 15).mean() + 1e-10), rtol=1e-9)
    flips = (np.sign(r) != np.sign(r.shift())).astype(float).where(r.notna() & r.shift().notna())
    np.testing.assert_allclose(raw["flip_rate"], flips.rolling(30, 15).mean(), atol=1e-12)
    np.testing.assert_allclose(raw["gap_score"], np.log(df.open / c.shift()), atol=1e-15)
    # |r| per unit of *relative* dollar volume: c v over the geometric EWM (span 60) of the
    # previous bars' c v (the first bar: 1)
    ldv = np.log(c * df.volume)
    prev = ldv.ewm(span=60, adjust=False, ignore_na=True).mean().shift(1).fillna(ldv)
    lam = r.abs() / np.exp(ldv - prev)
    np.testing.assert_allclose(raw["illiquidity"], lam.rolling(60, 30).mean(), rtol=1e-9)
    np.testing.assert_allclose(raw["d_lambda"], lam.diff(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(raw["mass"], 1.0 / (lam + 1e-10), rtol=1e-12)
    v = df.volume
    med = v.rolling(200, 100).median()
    mad = v.rolling(200, 100).apply(lambda a: np.median(np.abs(a - np.median(a))), raw=True)
    np.testing.assert_allclose(raw["volume_zscore"], (v - med) / (1.4826 * mad.clip(lower=1e-6)), rtol=1e-9)
    ofi = np.sign(c - df.open) * v
    np.testing.assert_allclose(raw["dissipation_proxy"], (np.sign(ofi) * np.sign(r)).rolling(30, 15).mean(), atol=1e-12)


# ---------------------------------------------------------------------------- structure and causality


def test_26_features_and_first_valid_bars() -> None:
    df = make_ohlcv(400, 4)
    raw, z = compute_features(df)
    assert list(raw.columns) == list(feature_names(FeatureConfig())) and len(raw.columns) == 26
    for name, first in feature_first_valid().items():
        col = z[name].to_numpy()
        assert np.isnan(col[:first]).all() and np.isfinite(col[first:]).all(), name


@pytest.mark.parametrize("cut", [130, 187, 299])
def test_features_truncation(cut: int) -> None:
    df = make_ohlcv(300, 5)
    full_raw, full_z = compute_features(df)
    raw, z = compute_features(df.iloc[:cut])
    np.testing.assert_array_equal(raw.to_numpy(), full_raw.to_numpy()[:cut])
    np.testing.assert_array_equal(z.to_numpy(), full_z.to_numpy()[:cut])


def test_bad_frames_are_data_errors() -> None:
    df = make_ohlcv(50)
    with pytest.raises(DataError, match="missing column"):
        raw_features(df.drop(columns="volume"))
    bad = df.copy()
    bad.iloc[3, 3] = -1.0
    with pytest.raises(DataError, match="column 'close' has a non-positive price"):
        raw_features(bad)
    with pytest.raises(DataError, match="ohlcv must be a pandas DataFrame"):
        raw_features(df["close"])  # type: ignore[arg-type]
