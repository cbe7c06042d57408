"""The regime engine's rolling kernels against plain pandas / NumPy references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.regime import _nb
from phi.regime._rolling_nb import robust_z_cols_nb, rolling_median_mad_fast_nb


def _data(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_t(3, n)
    x[rng.random(n) < 0.1] = np.nan  # scattered gaps
    x[200:260] = np.nan  # a gap longer than the window
    x[400:480] = 1.5  # a flat stretch (MAD 0)
    x[600:700] = np.round(x[600:700])  # many ties
    return x


def _mad(a: np.ndarray) -> float:
    a = a[~np.isnan(a)]
    return float(np.median(np.abs(a - np.median(a))))


@pytest.mark.parametrize(("window", "minp", "seed"), [(60, 20, 0), (7, 1, 1), (20, 20, 2), (61, 5, 3)])
def test_rolling_median_mad_matches_pandas(window: int, minp: int, seed: int) -> None:
    x = _data(1500, seed)
    med, mad = rolling_median_mad_fast_nb(x, window, minp)
    roll = pd.Series(x).rolling(window, min_periods=minp)
    np.testing.assert_array_equal(med, roll.median().to_numpy())
    ref_mad = roll.apply(_mad, raw=True).to_numpy()
    np.testing.assert_allclose(mad, ref_mad, rtol=0, atol=1e-12, equal_nan=True)


def test_robust_z_matches_numpy_reference() -> None:
    window, minp, small, alpha, floor = 60, 20, 1e-2, 2.0 / 21.0, 1e-6
    x = np.column_stack([_data(1200, s) for s in range(3)])
    z = robust_z_cols_nb(np.asfortranarray(x), window, minp, small, alpha, floor)
    for j in range(x.shape[1]):
        col = pd.Series(x[:, j])
        med = col.rolling(window, min_periods=minp).median().to_numpy()
        mad = col.rolling(window, min_periods=minp).apply(_mad, raw=True).to_numpy()
        ew = np.sqrt(col.ewm(alpha=alpha, adjust=False, ignore_na=True).var(bias=True)).to_numpy()
        unit = np.where(np.abs(med) == 0, 1.0, np.abs(med))
        scale = np.where(mad < small * unit, ew, 1.4826 * mad)
        scale = np.maximum(np.nan_to_num(scale, nan=0.0), floor * unit)
        ref = (x[:, j] - med) / scale
        np.testing.assert_allclose(z[:, j], ref, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("window", [15, 60, 120])
def test_rolling_mean_std_matches_pandas(window: int) -> None:
    x = _data(3000, window) * 1e-3 + 1e-4
    minp = window // 2
    mean, std = _nb.rolling_mean_std_nb(x, window, minp, 1)
    roll = pd.Series(x).rolling(window, min_periods=minp)
    np.testing.assert_allclose(mean, roll.mean().to_numpy(), rtol=1e-9, atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(std, roll.std().to_numpy(), rtol=1e-9, atol=1e-15, equal_nan=True)
    flat = np.full(300, 0.25)
    assert np.all(_nb.rolling_mean_std_nb(flat, window, minp, 1)[1][minp:] == 0.0)
