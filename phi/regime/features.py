"""The 26 MFT features of an OHLCV frame and their rolling robust z-scores (MFT.md §1.2).

Everything is causal: each feature and its normalisation at bar t reads bars <= t only (the
reference's look-ahead multi-timeframe helper is not reproduced). Windows are in bars, so the
features work on any timeframe.

``r_t = ln(c_t / c_(t-1))`` (NaN on the first bar); volume is floored at 1. The per-bar
illiquidity (of ``illiquidity``, ``d_lambda``, ``mass = 1 / (lam + eps)``, ``d_mass_dt``) is
``lam = |r| / u``, u the bar's dollar volume ``c v`` over the geometric EWM (span
``illiquidity``) of the previous bars' ``c v``: a return per unit of *relative* dollar volume,
so no price or volume unit is left in it (MFT.md's ``|r| / (c v + 1)`` moved the probabilities
by up to 0.015 when prices were given in other units). ``true_range`` is
the true range as a share of the previous close (the first bar: of its open), so it is
scale-free (MFT.md's is in price units); ``range_expansion`` and ``absorption_score`` use it. Rolling windows
count valid values; where MFT.md gives no minimum, a W-bar window needs W // 2 values
(at least 2 for a standard deviation).

Normalisation: ``z = (x - median_W(x)) / scale`` with W = ``robust_norm`` (min
``max(W // 3, 5)``); ``scale = 1.4826 * MAD_W(x)``, or the EWMA std (span ``ewma_norm_span``,
adjust=False) where the raw MAD is below ``mad_floor * mad_small_multiplier * unit``; every
scale is floored at ``mad_floor * unit``, with ``unit = |median_W(x)|`` (1 where the median is
0). The reference's floors were absolute, which flattened features whose values are ~1e-10 on
daily bars (illiquidity, d_lambda) to a constant 0. Warm-up rows are NaN. The windows' median
and MAD are those of the values rounded to float32, refreshed every 6 bars
(:data:`phi.regime._robust_nb.REFRESH`; the bars in between use the last median and MAD with
their own value and EWMA scale; the z-scores start and are NaN on the same bars as with a
refresh on every bar; :mod:`phi.regime._robust_nb`). The 200-bar volume median and MAD of
``volume_zscore`` are those of the float32-rounded volumes on every bar (whole volumes below
2^24 are exact in float32).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from phi._math import rescale_volume
from phi.data.schema import (
    OHLCV_COLUMNS,
    PRICE_COLUMNS,
    check_bar_consistency,
    check_bar_order,
    check_bar_values,
    check_volume_sign,
    conform_ohlcv,
)
from phi.errors import OHLCVError
from phi.regime import _features_nb as _fnb
from phi.regime import _nb
from phi.regime._robust_nb import robust_z_cols_f32_nb, rolling_median_mad_f32_nb
from phi.regime._rolling_nb import rolling_entropy_fast_nb, rolling_median_mad_fast_nb
from phi.regime.config import FeatureConfig, feature_names

__all__ = [
    "compute_features",
    "feature_first_valid",
    "normalise_features",
    "raw_features",
    "regime_bars",
    "robust_zscore",
]


def _col(ohlcv: pd.DataFrame, name: str) -> np.ndarray:
    return np.ascontiguousarray(ohlcv[name].to_numpy(dtype=np.float64, na_value=np.nan))


def regime_bars(ohlcv: Any, columns: Sequence[str] = OHLCV_COLUMNS) -> pd.DataFrame:
    """``ohlcv`` as the regime engine takes bars: :func:`phi.data.schema.conform_ohlcv`
    (``columns`` required; any case, numbers or numeric text; returned as is when it conforms),
    the closes checked as every entry point checks them (:func:`phi.data.schema.check_bar_values`)
    and the bars in time order. NaN in open/high/low/volume is tolerated (a missing print);
    infinities, negative volume, inconsistent bars and bars out of time order are not (in the
    shared lines of :mod:`phi.data.schema`, but for an infinity, named as such). Every public function of
    :mod:`phi.regime` that reads bars goes through it (``columns``: the ones it reads)."""
    ohlcv = conform_ohlcv(ohlcv, columns)
    if "close" in columns:
        check_bar_values(ohlcv, ("close",))
    for name in ("open", "high", "low", "volume"):  # NaN is tolerated (a missing print); inf is
        if name not in columns:  # no price, and an infinite volume no count
            continue
        col = ohlcv[name].to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isinf(col).any():
            at = ohlcv.index[int(np.flatnonzero(np.isinf(col))[0])]
            raise OHLCVError(
                f"OHLCV {name} is infinite at {at}; repair or drop bad rows first (phi.validate_ohlcv)"
            )
    if "volume" in columns:
        check_volume_sign(ohlcv["volume"].to_numpy(dtype=np.float64, na_value=np.nan), ohlcv.index)
    check_bar_consistency(ohlcv.index, {c: _col(ohlcv, c) for c in PRICE_COLUMNS if c in columns})
    check_bar_order(ohlcv.index)
    return ohlcv


def _lag(x: np.ndarray, k: int = 1) -> np.ndarray:
    out = np.full_like(x, np.nan)
    if k < len(x):
        out[k:] = x[:-k] if k else x
    return out


def raw_features(ohlcv: pd.DataFrame, fc: FeatureConfig | None = None) -> pd.DataFrame:
    """The 26 raw features (before normalisation), one column each, aligned to ``ohlcv``.

    Raises :class:`DataError` if a column is missing or a close is not finite and positive.
    """
    fc = fc or FeatureConfig()
    return _frame(raw_feature_array(ohlcv, fc), ohlcv.index, fc)


def _frame(values: np.ndarray, index: pd.Index, fc: FeatureConfig) -> pd.DataFrame:
    return pd.DataFrame(values, index=index, columns=list(feature_names(fc)), copy=False)


def raw_feature_array(ohlcv: pd.DataFrame, fc: FeatureConfig, order: Sequence[str] | None = None) -> np.ndarray:
    """The raw features as one Fortran-ordered (bars, 26) float64 array (columns in
    :func:`~phi.regime.config.feature_names` order, or in ``order``: the same names permuted).

    The element-wise parts run in two numba passes that write into the output's rows
    (:mod:`phi.regime._features_nb`: the same operations as the NumPy composition in
    ``tests/regime``, bit-identical); the rolling statistics are the ``_nb`` kernels."""
    names = feature_names(fc)
    if order is not None and sorted(order) != sorted(names):
        raise ValueError(f"order must permute the feature names, got {list(order)}")
    ohlcv = regime_bars(ohlcv)
    out = np.empty((len(names), len(ohlcv)))  # rows = features: out.T is (bars, features), F-order
    _raw_feature_rows(ohlcv, fc, {k: out[i] for i, k in enumerate(names if order is None else order)})
    return out.T


def _raw_feature_rows(ohlcv: pd.DataFrame, fc: FeatureConfig, row: dict[str, np.ndarray]) -> None:
    """Write the raw features of ``ohlcv`` (passed :func:`regime_bars`) into ``row`` (every feature
    name -> a contiguous float64 array of the bars' length, e.g. rows of one array the caller
    lays out): the values of :func:`raw_feature_array`."""
    o, h, low, c = (_col(ohlcv, k) for k in ("open", "high", "low", "close"))
    v = rescale_volume(_col(ohlcv, "volume"))  # exact: a window's sums cannot overflow
    if not v.flags.writeable or np.may_share_memory(v, ohlcv["volume"].to_numpy()):
        v = v.copy()  # floored in place below (a frame's column may be a read-only view)
    eps = fc.epsilon
    n = len(c)
    if sorted(row) != sorted(feature_names(fc)) or any(a.shape != (n,) for a in row.values()):
        raise ValueError("row must map every feature name to an array of the bars' length")
    r, tr = row["log_return"], row["true_range"]
    _fnb.prices_nb(o, h, low, c, v, eps, r, row["gap_score"], tr, row["absorption_score"], row["ofi_proxy"])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log(r, out=r)
        np.log(row["gap_score"], out=row["gap_score"])

    # one rolling mean / std pass per window (30 is used thrice), written into the drift rows
    # (the mean, then the t-score in place) and the rv rows, else into two scratch arrays
    tmp, scratch = np.empty(n), np.empty(n)
    sd_imp = np.empty(0)
    for w in dict.fromkeys((*fc.drift, *fc.vol, fc.impulse_revert)):
        m = row[f"drift_tscore_{w}"] if w in fc.drift else tmp
        s = row[f"rv_{w}"] if w in fc.vol else (np.empty(n) if w == fc.impulse_revert else scratch)
        _nb.rolling_mean_std_into_nb(r, w, _minp_std(w), 1, m, s)
        if w == fc.impulse_revert:
            sd_imp = s
        if w in fc.drift:
            se = scratch if s is scratch else tmp
            np.add(s, eps, out=se)
            m *= np.sqrt(w)
            m /= se
    np.subtract(row[f"rv_{fc.vol[0]}"], row[f"rv_{fc.vol[1]}"], out=row["rv_delta"])

    w = fc.range_expansion
    rm = _nb.rolling_mean_nb(tr, w, _minp(w))
    rm += eps
    np.divide(tr, rm, out=row["range_expansion"])
    del rm
    for w in fc.er:
        row[f"er_{w}"][:] = _nb.efficiency_ratio_nb(r, w, _minp(w), eps)

    row["autocorr"][:] = _nb.rolling_corr_nb(
        r, _lag(r, fc.autocorr_lag), fc.autocorr_window, max(fc.autocorr_min, 2)
    )
    w = fc.median_cross
    med_c = rolling_median_mad_fast_nb(c, w, _minp(w), want_mad=False)[0]
    flip, impulse, cross = tmp, scratch, np.empty(n)
    lam, diss = row["illiquidity"], row["dissipation_proxy"]  # overwritten by their rolling means
    _fnb.finish_nb(
        r, c, v, row["ofi_proxy"], sd_imp, fc.impulse_sigma, med_c, eps,
        2.0 / (fc.illiquidity + 1.0), flip, impulse, cross, lam, row["d_lambda"], row["mass"], row["d_mass_dt"], diss,
    )  # fmt: skip
    del med_c, sd_imp
    row["flip_rate"][:] = _nb.rolling_mean_nb(flip, fc.flip, max(fc.flip_min, 1))
    row["median_cross"][:] = _nb.rolling_mean_nb(cross, w, _minp(w))
    w = fc.impulse_revert
    row["impulse_revert"][:] = _nb.rolling_mean_nb(impulse, w, _minp(w))
    del flip, impulse, cross, tmp, scratch
    w = fc.illiquidity
    lam[:] = _nb.rolling_mean_nb(lam, w, _minp(w))
    w = fc.dissipation
    diss[:] = _nb.rolling_mean_nb(diss, w, _minp(w))

    med_v, mad_v = rolling_median_mad_f32_nb(v, fc.volume_z, fc.volume_z_min)  # float32 window
    np.maximum(mad_v, fc.volume_mad_floor, out=mad_v)
    mad_v *= 1.4826
    vz = row["volume_zscore"]
    np.subtract(v, med_v, out=vz)
    vz /= mad_v
    row["entropy"][:] = rolling_entropy_fast_nb(r, fc.entropy, max(fc.entropy_min, 1), fc.entropy_bins)


def _minp(w: int) -> int:
    return max(w // 2, 1)


def _minp_std(w: int) -> int:
    return max(w // 2, 2)


def _norm_minp(fc: FeatureConfig) -> int:
    return min(max(fc.robust_norm // 3, 5), fc.robust_norm)


def feature_first_valid(fc: FeatureConfig | None = None) -> dict[str, int]:
    """Index of the first non-NaN value of every *normalised* feature (on gap-free data)."""
    fc = fc or FeatureConfig()
    short, long_ = fc.vol
    mc = _minp(fc.median_cross)
    s0 = _minp_std(fc.impulse_revert)
    raw = {
        "log_return": 1,
        **{f"drift_tscore_{w}": _minp_std(w) for w in fc.drift},
        f"rv_{short}": _minp_std(short),
        f"rv_{long_}": _minp_std(long_),
        "rv_delta": max(_minp_std(short), _minp_std(long_)),
        "true_range": 0,
        "range_expansion": _minp(fc.range_expansion) - 1,
        **{f"er_{w}": _minp(w) for w in fc.er},
        "autocorr": fc.autocorr_lag + max(fc.autocorr_min, 2),
        "flip_rate": max(fc.flip_min, 1) + 1,
        "median_cross": 2 * mc - 1,
        "impulse_revert": s0 + _minp(fc.impulse_revert),
        "illiquidity": _minp(fc.illiquidity),
        "volume_zscore": fc.volume_z_min - 1,
        "gap_score": 1,
        "entropy": max(fc.entropy_min, 1),
        "d_lambda": 2,
        "mass": 1,
        "d_mass_dt": 2,
        "ofi_proxy": 0,
        "absorption_score": 0,
        "dissipation_proxy": _minp(fc.dissipation),
    }
    k = _norm_minp(fc) - 1
    return {name: raw[name] + k for name in feature_names(fc)}


def robust_zscore(x: np.ndarray, fc: FeatureConfig | None = None) -> np.ndarray:
    """Rolling robust z-score of one array (see the module doc), NaN during its warm-up."""
    fc = fc or FeatureConfig()
    return normalise_array(np.asarray(x, dtype=np.float64).reshape(-1, 1), fc)[:, 0]


def normalise_array(raw: np.ndarray, fc: FeatureConfig) -> np.ndarray:
    """Robust z-score of every column of the (bars, features) array ``raw`` (C-ordered out;
    float32 sorted windows: :mod:`phi.regime._robust_nb`)."""
    return robust_z_cols_f32_nb(
        raw,
        fc.robust_norm,
        _norm_minp(fc),
        fc.mad_floor * fc.mad_small_multiplier,
        2.0 / (fc.ewma_norm_span + 1.0),
        fc.mad_floor,
    )


def normalise_features(raw: pd.DataFrame, fc: FeatureConfig | None = None) -> pd.DataFrame:
    """Robust z-score of every column of ``raw`` (volume_zscore is normalised a second time)."""
    fc = fc or FeatureConfig()
    z = normalise_array(raw.to_numpy(dtype=np.float64), fc)
    return pd.DataFrame(z, index=raw.index, columns=raw.columns, copy=False)


def compute_features(
    ohlcv: pd.DataFrame, fc: FeatureConfig | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(raw, normalised)`` feature frames of ``ohlcv`` (26 columns each)."""
    fc = fc or FeatureConfig()
    raw = raw_feature_array(ohlcv, fc)
    z = normalise_array(raw, fc)
    return _frame(raw, ohlcv.index, fc), _frame(z, ohlcv.index, fc)
