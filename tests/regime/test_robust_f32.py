"""The engine's float32-window robust z-score against references.

Its windows hold the values rounded to float32, so its median and MAD are the exact order
statistics of the *rounded* values: the reference below takes pandas' rolling median and the
MAD of the rounded values, and the EWMA fallback and the distance ``x - median`` from the
unrounded values. Tolerance 1e-9 relative: as the exact kernel's test (pandas' EWM variance
rounds differently from the kernel's recursion); the order statistics themselves are exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.regime._robust_nb import robust_z_cols_f32_nb, rolling_median_mad_f32_nb
from phi.regime._rolling_nb import robust_z_cols_nb, rolling_median_mad_fast_nb
from tests.regime.test_rolling_kernels import _data, _mad


def _reference(x: np.ndarray, window: int, minp: int, small: float, alpha: float, floor: float) -> np.ndarray:
    with np.errstate(over="ignore"):
        rounded = pd.Series(x.astype(np.float32).astype(np.float64))
    roll = rounded.rolling(window, min_periods=minp)
    med = roll.median().to_numpy()
    mad = roll.apply(_mad, raw=True).to_numpy()
    ew = pd.Series(x).ewm(alpha=alpha, adjust=False, ignore_na=True).var(bias=True)
    unit = np.where(np.abs(med) == 0, 1.0, np.abs(med))
    scale = np.where(mad < small * unit, np.sqrt(ew.to_numpy()), 1.4826 * mad)
    scale = np.maximum(np.nan_to_num(scale, nan=0.0), floor * unit)
    return (x - med) / scale


@pytest.mark.parametrize(("window", "minp"), [(60, 20), (7, 1), (33, 33)])
def test_f32_windows_match_the_rounded_order_statistics(window: int, minp: int) -> None:
    args = (window, minp, 1e-2, 2.0 / 21.0, 1e-6)
    cols = [_data(1200, s) for s in range(3)]
    cols.append(1000.0 + 0.01 * np.random.default_rng(9).standard_normal(1200))  # level >> spread
    x = np.column_stack(cols)
    z = robust_z_cols_f32_nb(np.asfortranarray(x), *args)
    for j in range(x.shape[1]):
        np.testing.assert_allclose(z[:, j], _reference(x[:, j], *args), rtol=1e-9, atol=1e-12, equal_nan=True)


def test_f32_windows_stay_close_to_the_exact_kernel() -> None:
    """Against exact order statistics a z-score moves by a few float32 roundings (2^-24) of
    the window's level in units of its scale: ``|dz| <= 2^-21 (1 + |z|) (1 + |median| / s)``,
    s = 1.4826 MAD (checked where the MAD scale is used); NaN exactly where the exact kernel has
    NaN. The fifth column (values ~1e-9 with a flat stretch) has |median| / s up to ~2000."""
    args = (60, 20, 1e-7, 2.0 / 31.0, 1e-8)
    x = np.column_stack([_data(3000, s) for s in range(4)] + [np.abs(_data(3000, 7)) * 1e-9])
    exact = robust_z_cols_nb(np.asfortranarray(x), *args)
    z = robust_z_cols_f32_nb(np.asfortranarray(x), *args)
    np.testing.assert_array_equal(np.isnan(z), np.isnan(exact))
    for j in range(x.shape[1]):
        med, mad = rolling_median_mad_fast_nb(x[:, j], 60, 20)
        ok = ~np.isnan(exact[:, j]) & (mad > 0) & (mad >= 1e-7 * np.abs(med))
        bound = 2.0**-21 * (1 + np.abs(exact[ok, j])) * (1 + np.abs(med[ok]) / (1.4826 * mad[ok]))
        assert np.all(np.abs(z[ok, j] - exact[ok, j]) <= bound), j


def test_f32_windows_with_infinities_and_huge_values() -> None:
    """Infinite values sort to the ends of the window as in the exact kernel; a finite value
    beyond float32's range counts as infinite."""
    x = _data(800, 4)
    x[300] = np.inf
    x[320] = -np.inf
    args = (30, 10, 1e-2, 0.1, 1e-6)
    exact = robust_z_cols_nb(x.reshape(-1, 1), *args)[:, 0]
    z = robust_z_cols_f32_nb(x.reshape(-1, 1), *args)[:, 0]
    np.testing.assert_allclose(z, exact, rtol=1e-5, atol=1e-6, equal_nan=True)
    huge = x.copy()
    huge[300] = 1e39
    z_huge = robust_z_cols_f32_nb(huge.reshape(-1, 1), *args)[:, 0]
    np.testing.assert_array_equal(z_huge[301:320], z[301:320])


@pytest.mark.parametrize(("window", "minp", "seed"), [(200, 100, 0), (7, 1, 1), (61, 5, 3)])
def test_f32_rolling_median_mad_match_pandas_on_the_rounded_values(window: int, minp: int, seed: int) -> None:
    x = _data(1500, seed) * 1e5
    med, mad = rolling_median_mad_f32_nb(x, window, minp)
    roll = pd.Series(x.astype(np.float32).astype(np.float64)).rolling(window, min_periods=minp)
    np.testing.assert_array_equal(med, roll.median().to_numpy())
    np.testing.assert_allclose(mad, roll.apply(_mad, raw=True).to_numpy(), rtol=1e-12, atol=0, equal_nan=True)
