"""The raw features' fused numba passes against the NumPy composition they replaced (bit-identical;
log and exp computed inside a kernel taken from the C library, as the kernels call them)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from phi.regime import _nb
from phi.regime._robust_nb import rolling_median_mad_f32_nb
from phi.regime._rolling_nb import rolling_entropy_fast_nb, rolling_median_mad_fast_nb
from phi.regime.config import FeatureConfig, feature_names
from phi.regime.features import raw_feature_array


def _lag(x: np.ndarray, k: int = 1) -> np.ndarray:
    out = np.full_like(x, np.nan)
    if k < len(x):
        out[k:] = x[:-k] if k else x
    return out


def _indicator(cond: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid, cond.astype(np.float64), np.nan)


def _libm(fn: str, x: np.ndarray) -> np.ndarray:
    """``np.log`` / ``np.exp`` through the C library (``math``), as a numba kernel calls them.
    NumPy's own SIMD log and exp (used on AVX-512 hosts) may differ from libm in the last bit,
    so where the engine computes inside a kernel the reference takes libm's values."""
    f = getattr(math, fn)

    def one(v: float) -> float:
        if math.isnan(v):
            return math.nan
        if fn == "log" and v <= 0.0:
            return -math.inf if v == 0.0 else math.nan
        return f(v)

    return np.array([one(float(v)) for v in x.ravel()], dtype=np.float64).reshape(x.shape)


def _prev_ewm(x: np.ndarray, a: float) -> np.ndarray:
    """The EWM (rate a, NaN skipped, started at the first valid x) of the bars *before* each
    bar; x itself where no earlier valid x exists."""
    out = x.copy()
    g = np.nan
    for t in range(len(x)):
        if not np.isnan(g):
            out[t] = g
        if not np.isnan(x[t]):
            g = x[t] if np.isnan(g) else (1.0 - a) * g + a * x[t]
    return out


def _reference(ohlcv: pd.DataFrame, fc: FeatureConfig) -> np.ndarray:
    """The NumPy composition of the raw features (the engine's before the fused passes)."""
    col = {k: ohlcv[k].to_numpy(dtype=np.float64, na_value=np.nan) for k in ("open", "high", "low", "close", "volume")}
    o, h, low, c = col["open"], col["high"], col["low"], col["close"]
    v = np.maximum(col["volume"], 1.0)
    eps = fc.epsilon
    minp, minp_std = (lambda w: max(w // 2, 1)), (lambda w: max(w // 2, 2))
    c_prev = _lag(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(c / c_prev)  # NumPy's log, as raw_feature_array takes it
        gap = np.log(o / c_prev)
    f: dict[str, np.ndarray] = {"log_return": r}
    for w in fc.drift:
        m, s = _nb.rolling_mean_std_nb(r, w, minp_std(w), 1)
        f[f"drift_tscore_{w}"] = m * np.sqrt(w) / (s + eps)
    for w in fc.vol:
        f[f"rv_{w}"] = _nb.rolling_mean_std_nb(r, w, minp_std(w), 1)[1]
    f["rv_delta"] = f[f"rv_{fc.vol[0]}"] - f[f"rv_{fc.vol[1]}"]
    tr = np.fmax(h - low, np.fmax(np.abs(h - c_prev), np.abs(low - c_prev)))
    tr = tr / np.where(np.isnan(c_prev), o, c_prev)
    f["true_range"] = tr
    f["range_expansion"] = tr / (_nb.rolling_mean_nb(tr, fc.range_expansion, minp(fc.range_expansion)) + eps)
    for w in fc.er:
        f[f"er_{w}"] = _nb.efficiency_ratio_nb(r, w, minp(w), eps)
    f["autocorr"] = _nb.rolling_corr_nb(r, _lag(r, fc.autocorr_lag), fc.autocorr_window, max(fc.autocorr_min, 2))
    sign_r, r_prev = np.sign(r), _lag(r)
    both = ~np.isnan(r) & ~np.isnan(r_prev)
    f["flip_rate"] = _nb.rolling_mean_nb(_indicator(sign_r != np.sign(r_prev), both), fc.flip, max(fc.flip_min, 1))
    w = fc.median_cross
    med_c = rolling_median_mad_fast_nb(c, w, minp(w), want_mad=False)[0]
    ok = ~np.isnan(med_c)
    ok_prev = np.zeros_like(ok)
    ok_prev[1:] = ok[:-1]
    above = (c > med_c).astype(np.float64)
    f["median_cross"] = _nb.rolling_mean_nb(_indicator(above != _lag(above), ok & ok_prev), w, minp(w))
    w = fc.impulse_revert
    sd_prev = _lag(_nb.rolling_mean_std_nb(r, w, minp_std(w), 1)[1])
    with np.errstate(invalid="ignore"):
        impulse = (np.abs(r_prev) > fc.impulse_sigma * sd_prev) & (sign_r != np.sign(r_prev))
    f["impulse_revert"] = _nb.rolling_mean_nb(_indicator(impulse, both & ~np.isnan(sd_prev)), w, minp(w))
    log_dollar = _libm("log", c * v)  # inside the numba pass (finish_nb): the C library's
    lam = np.abs(r) / _libm("exp", log_dollar - _prev_ewm(log_dollar, 2.0 / (fc.illiquidity + 1.0)))
    f["illiquidity"] = _nb.rolling_mean_nb(lam, fc.illiquidity, minp(fc.illiquidity))
    med_v, mad_v = rolling_median_mad_f32_nb(v, fc.volume_z, fc.volume_z_min)
    f["volume_zscore"] = (v - med_v) / (1.4826 * np.maximum(mad_v, fc.volume_mad_floor))
    f["gap_score"] = gap
    f["entropy"] = rolling_entropy_fast_nb(r, fc.entropy, max(fc.entropy_min, 1), fc.entropy_bins)
    f["d_lambda"] = lam - _lag(lam)
    mass = 1.0 / (lam + eps)
    f["mass"] = mass
    f["d_mass_dt"] = mass - _lag(mass)
    ofi = np.sign(c - o) * v
    f["ofi_proxy"] = ofi
    f["absorption_score"] = v / (tr + eps)
    f["dissipation_proxy"] = _nb.rolling_mean_nb(np.sign(ofi) * sign_r, fc.dissipation, minp(fc.dissipation))
    return np.stack([f[k] for k in feature_names(fc)], axis=1)


def _frames() -> list[pd.DataFrame]:
    rng = np.random.default_rng(11)
    n = 2500
    close = 50.0 * np.exp(np.cumsum(rng.standard_t(3, n) * 0.01))
    open_ = close * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * (1 + rng.exponential(0.004, n))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.004, n))
    vol = rng.integers(0, 5000, n).astype(np.float64)
    idx = pd.date_range("2021-01-04", periods=n, freq="15min")
    df = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": vol}, index=idx)
    holes = df.copy()
    holes.iloc[300:340, [0, 1, 2]] = np.nan  # missing open/high/low, close still valid
    holes.iloc[700:760, 4] = np.nan  # missing volume
    holes.iloc[900:905, 4] = 0.3  # volume below the floor of 1
    flat = df.copy()
    flat.iloc[1200:1700, :4] = 80.0  # flat prices: zero returns, zero ranges, open == close
    ints = df.assign(volume=rng.integers(0, 10**6, n))  # int64 volume
    return [df, holes, flat, ints, df.iloc[:30], df.iloc[:1]]


@pytest.mark.parametrize(
    "fc", [FeatureConfig(), FeatureConfig(drift=(5, 40), vol=(8, 50), impulse_revert=40, robust_norm=120)]
)
def test_raw_features_bit_identical_to_the_numpy_composition(fc: FeatureConfig) -> None:
    for df in _frames():
        before = df.copy()
        got = raw_feature_array(df, fc)
        ref = _reference(df, fc)
        assert got.shape == ref.shape and got.flags.f_contiguous
        # bit patterns, so the signs of zeros and NaN positions are checked too
        nan = np.isnan(ref)
        np.testing.assert_array_equal(np.isnan(got), nan)
        np.testing.assert_array_equal(np.where(nan, 0.0, got).view(np.int64), np.where(nan, 0.0, ref).view(np.int64))
        pd.testing.assert_frame_equal(df, before)  # the volume is floored in a copy, never in the caller's frame
