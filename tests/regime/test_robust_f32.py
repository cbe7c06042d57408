"""The engine's float32-window robust z-score, refreshed every k bars, against references.

Its windows hold the values rounded to float32, so its median and MAD are the exact order
statistics of the *rounded* values: the reference below takes the median and the
MAD of the rounded values, and the EWMA fallback and the distance ``x - median`` from the
unrounded values. With ``refresh=k`` the median and MAD are taken at the bars ``t % k == k - 1``
(and at once where a window first reaches ``minp`` values) and kept in between: the reference
is a plain loop over the bars that applies that schedule to every bar's window statistics.
Tolerance 1e-9 relative (the order statistics are exact; the EWM recursion is written with
other roundings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.regime._robust_nb import (
    LANES,
    robust_z_cols_f32_nb,
    rolling_median_mad_f32_nb,
    sorting_network,
)
from phi.regime._rolling_nb import robust_z_cols_nb, rolling_median_mad_fast_nb
from tests.regime.test_rolling_kernels import _data, _hard_columns, _mad


def _window_stats(x: np.ndarray, window: int, minp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every bar's (count, median, MAD) of the valid float32-rounded values in its window, by
    ``np.median`` (an infinite median has a NaN MAD: inf - inf)."""
    with np.errstate(over="ignore"):
        rounded = x.astype(np.float32).astype(np.float64)
    n = len(x)
    count, med, mad = np.zeros(n), np.full(n, np.nan), np.full(n, np.nan)
    with np.errstate(invalid="ignore"):
        for t in range(n):
            vals = rounded[max(0, t - window + 1) : t + 1]
            vals = vals[~np.isnan(vals)]
            count[t] = len(vals)
            if len(vals) >= max(minp, 1):
                med[t] = np.median(vals)
                if np.isfinite(med[t]):
                    mad[t] = np.median(np.abs(vals - med[t]))
    return count, med, mad


def _ewm_std(x: np.ndarray, alpha: float) -> np.ndarray:
    """EWM standard deviation (adjust=False, bias=True, from the first valid value; a NaN
    keeps the state): pandas' ``ewm(alpha, adjust=False, ignore_na=True).var(bias=True)``,
    written out so that infinite values follow IEEE arithmetic."""
    out = np.full(len(x), np.nan)
    m = v = np.nan
    started = False
    with np.errstate(invalid="ignore"):
        for t, xt in enumerate(x):
            if np.isnan(xt):
                out[t] = np.sqrt(v)
                continue
            if not started:
                m, v, started = xt, 0.0, True
            else:
                d = xt - m
                m, v = m + alpha * d, (1 - alpha) * (v + alpha * d * d)
            out[t] = np.sqrt(v)
    return out


def _reference(
    x: np.ndarray, window: int, minp: int, small: float, alpha: float, floor: float, refresh: int = 1
) -> np.ndarray:
    """The refreshed robust z-score of one column, bar by bar in plain Python."""
    count, med, mad = _window_stats(x, window, minp)
    ew = _ewm_std(x, alpha)
    out = np.full(len(x), np.nan)
    last = -1  # the bar of the last refresh; -1: none valid
    with np.errstate(invalid="ignore"):
        for t in range(len(x)):
            enough = count[t] >= max(minp, 1)
            if not enough:
                last = -1
            elif t % refresh == refresh - 1 or last < 0:
                last = t
            if last < 0 or np.isnan(x[t]):
                continue
            m, d = med[last], mad[last]
            unit = abs(m) if m != 0 else 1.0
            scale = ew[t] if d < small * unit else 1.4826 * d
            if not scale >= floor * unit:
                scale = floor * unit
            out[t] = (x[t] - m) / scale
    return out


def _columns(n: int) -> np.ndarray:
    cols = [_data(n, s) for s in range(3)]
    cols.append(1000.0 + 0.01 * np.random.default_rng(9).standard_normal(n))  # level >> spread
    return np.column_stack(cols)


@pytest.mark.parametrize(("window", "minp"), [(60, 20), (7, 1), (33, 33)])
@pytest.mark.parametrize("refresh", [1, 3, 4, 8])
def test_refreshed_z_matches_the_reference(window: int, minp: int, refresh: int) -> None:
    args = (window, minp, 1e-2, 2.0 / 21.0, 1e-6)
    x = _columns(1200)
    z = robust_z_cols_f32_nb(np.asfortranarray(x), *args, refresh=refresh)
    for j in range(x.shape[1]):
        ref = _reference(x[:, j], *args, refresh=refresh)
        np.testing.assert_allclose(z[:, j], ref, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_reference_by_hand() -> None:
    """Window 3, minp 2, refresh 2, on 1, 2, 4, 8, 16: bar 1 has 2 values (first refresh:
    median 1.5, MAD 0.5); bar 2 keeps them (z = (4 - 1.5) / 0.741); bar 3 refreshes on
    schedule (window 2, 4, 8: median 4, MAD 2); bar 4 keeps them (z = (16 - 4) / 2.9652)."""
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    s = 1.4826
    want = [np.nan, 0.5 / (s * 0.5), 2.5 / (s * 0.5), 4.0 / (s * 2.0), 12.0 / (s * 2.0)]
    np.testing.assert_allclose(_reference(x, 3, 2, 1e-9, 0.1, 1e-9, refresh=2), want, rtol=1e-12)
    z = robust_z_cols_f32_nb(x.reshape(-1, 1), 3, 2, 1e-9, 0.1, 1e-9, refresh=2)[:, 0]
    np.testing.assert_allclose(z, want, rtol=1e-12)


@pytest.mark.parametrize("refresh", [1, 4])
def test_hard_columns_match_the_reference(refresh: int) -> None:
    """Gaps longer than the window, scattered NaN, ties, constants, tiny values, infinities."""
    args = (20, 5, 1e-2, 0.1, 1e-6)
    x = _hard_columns(700, 3)
    z = robust_z_cols_f32_nb(x, *args, refresh=refresh)
    for j in range(x.shape[1]):
        ref = _reference(x[:, j], *args, refresh=refresh)
        np.testing.assert_allclose(z[:, j], ref, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_refresh_every_bar_equals_the_exact_kernel_up_to_float32() -> None:
    """``refresh=1``: against exact order statistics a z-score moves by a few float32 roundings
    (2^-24) of the window's level in units of its scale: ``|dz| <= 2^-21 (1 + |z|) (1 +
    |median| / s)``, s = 1.4826 MAD (checked where the MAD scale is used); NaN exactly where the
    exact kernel has NaN. The fifth column (values ~1e-9 with a flat stretch) has |median| / s
    up to ~2000."""
    args = (60, 20, 1e-7, 2.0 / 31.0, 1e-8)
    x = np.column_stack([_data(3000, s) for s in range(4)] + [np.abs(_data(3000, 7)) * 1e-9])
    exact = robust_z_cols_nb(np.asfortranarray(x), *args)
    z = robust_z_cols_f32_nb(np.asfortranarray(x), *args, refresh=1)
    np.testing.assert_array_equal(np.isnan(z), np.isnan(exact))
    for j in range(x.shape[1]):
        med, mad = rolling_median_mad_fast_nb(x[:, j], 60, 20)
        ok = ~np.isnan(exact[:, j]) & (mad > 0) & (mad >= 1e-7 * np.abs(med))
        bound = 2.0**-21 * (1 + np.abs(exact[ok, j])) * (1 + np.abs(med[ok]) / (1.4826 * mad[ok]))
        assert np.all(np.abs(z[ok, j] - exact[ok, j]) <= bound), j


@pytest.mark.parametrize("refresh", [2, 4, 8])
def test_refreshed_z_is_nan_where_the_every_bar_kernel_is_and_starts_with_it(refresh: int) -> None:
    """Same warm-up and NaN pattern as the exact kernel; the values themselves differ only by
    the staleness of the median and MAD (checked against the reference above)."""
    args = (60, 20, 1e-2, 0.1, 1e-6)
    x = _columns(2000)
    exact = robust_z_cols_nb(np.asfortranarray(x), *args)
    z = robust_z_cols_f32_nb(np.asfortranarray(x), *args, refresh=refresh)
    np.testing.assert_array_equal(np.isnan(z), np.isnan(exact))


def test_f32_windows_with_infinities_and_huge_values() -> None:
    """Infinite values sort to the ends of the window as in the exact kernel; a finite value
    beyond float32's range counts as infinite."""
    x = _data(800, 4)
    x[300] = np.inf
    x[320] = -np.inf
    args = (30, 10, 1e-2, 0.1, 1e-6)
    exact = robust_z_cols_nb(x.reshape(-1, 1), *args)[:, 0]
    z = robust_z_cols_f32_nb(x.reshape(-1, 1), *args, refresh=1)[:, 0]
    np.testing.assert_allclose(z, exact, rtol=1e-5, atol=1e-6, equal_nan=True)
    huge = x.copy()
    huge[300] = 1e39
    for refresh in (1, 4):
        z = robust_z_cols_f32_nb(x.reshape(-1, 1), *args, refresh=refresh)[:, 0]
        z_huge = robust_z_cols_f32_nb(huge.reshape(-1, 1), *args, refresh=refresh)[:, 0]
        np.testing.assert_array_equal(z_huge[301:320], z[301:320])


def test_refreshed_z_is_causal() -> None:
    """Cutting the input short changes no earlier bar (the refresh bars count from row 0);
    cuts inside and across the kernel's 256-bar blocks and between refreshes."""
    x = _columns(900)
    full = robust_z_cols_f32_nb(x, 60, 20, 1e-2, 0.1, 1e-6, refresh=4)
    for m in (1, 59, 61, 255, 256, 257, 514, 899):
        part = robust_z_cols_f32_nb(x[:m], 60, 20, 1e-2, 0.1, 1e-6, refresh=4)
        np.testing.assert_array_equal(part, full[:m])


def test_columns_are_independent_across_lane_groups() -> None:
    """More columns than SIMD lanes (two groups): every column equals its run alone, whatever
    the other columns' gaps do to their own refresh schedule."""
    rng = np.random.default_rng(5)
    ncol = LANES + 8
    x = np.column_stack([_data(600, s) if s % 3 == 0 else rng.normal(size=600) for s in range(ncol)])
    z = robust_z_cols_f32_nb(np.asfortranarray(x), 40, 10, 1e-2, 0.1, 1e-6, refresh=3)
    for j in (0, 1, LANES - 1, LANES, ncol - 1):
        alone = robust_z_cols_f32_nb(x[:, [j]], 40, 10, 1e-2, 0.1, 1e-6, refresh=3)[:, 0]
        np.testing.assert_array_equal(z[:, j], alone)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 20, 60, 64, 65, 200])
def test_sorting_network_sorts(size: int) -> None:
    """The network sorts any column of rows 1..size, ties included (0-1 principle aside, a
    direct check on random data with few distinct values)."""
    ci, cj = sorting_network(size)
    rng = np.random.default_rng(size)
    s = rng.integers(0, 4, (size + 2, 64)).astype(np.float64)
    want = np.sort(s[1 : size + 1], axis=0)
    for i, j in zip(ci.tolist(), cj.tolist(), strict=True):
        lo, hi = np.minimum(s[i], s[j]), np.maximum(s[i], s[j])
        s[i], s[j] = lo, hi
    np.testing.assert_array_equal(s[1 : size + 1], want)


def test_bad_refresh_and_shape() -> None:
    with pytest.raises(ValueError, match="window and refresh must be >= 1"):
        robust_z_cols_f32_nb(np.zeros((5, 1)), 3, 1, 0.1, 0.1, 0.1, refresh=0)
    with pytest.raises(ValueError, match="window and refresh must be >= 1"):
        robust_z_cols_f32_nb(np.zeros((5, 1)), 0, 1, 0.1, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"\(bars, columns\)"):
        robust_z_cols_f32_nb(np.zeros(5), 3, 1, 0.1, 0.1, 0.1)


@pytest.mark.parametrize(("window", "minp", "seed"), [(200, 100, 0), (7, 1, 1), (61, 5, 3)])
def test_f32_rolling_median_mad_match_pandas_on_the_rounded_values(window: int, minp: int, seed: int) -> None:
    x = _data(1500, seed) * 1e5
    med, mad = rolling_median_mad_f32_nb(x, window, minp)
    roll = pd.Series(x.astype(np.float32).astype(np.float64)).rolling(window, min_periods=minp)
    np.testing.assert_array_equal(med, roll.median().to_numpy())
    np.testing.assert_allclose(mad, roll.apply(_mad, raw=True).to_numpy(), rtol=1e-12, atol=0, equal_nan=True)


_BUILD = """
import re, sys
import numpy as np
from phi.regime import _robust_nb as R
x = np.load(sys.argv[1])
np.save(sys.argv[2], R.robust_z_cols_f32_nb(x, 60, 20, 1e-2, 0.1, 1e-6))
print(len(re.findall("zmm", "".join(R._sort_lanes_nb.inspect_asm().values()))))
"""
#: a CPU without AVX-512 (Haswell's features)
_NO_AVX512 = "+64bit,+avx,+avx2,+bmi,+bmi2,+cmov,+cx16,+f16c,+fma,+fxsr,+lzcnt,+mmx,+movbe,+popcnt,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+ssse3,+xsave"


def test_kernel_built_for_a_cpu_without_avx512_gives_the_same_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The sort asks LLVM for 512-bit vectors; compiled for a CPU without AVX-512 (numba's
    CPU name and features, a cache of its own) it has no 512-bit instruction and the same
    z-scores as the build for this machine."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    x = np.column_stack([_data(1500, s) for s in range(5)])
    np.save(tmp_path / "x.npy", x)
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": _NO_AVX512}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = root
    run = subprocess.run(
        [sys.executable, "-c", _BUILD, str(tmp_path / "x.npy"), str(tmp_path / "z.npy")],
        env=env, capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert run.stdout.split()[-1] == "0"
    here = robust_z_cols_f32_nb(x, 60, 20, 1e-2, 0.1, 1e-6)
    np.testing.assert_array_equal(np.load(tmp_path / "z.npy"), here)
