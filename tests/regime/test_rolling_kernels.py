"""The regime engine's rolling kernels against plain pandas / NumPy references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numba import njit

from phi.regime import _nb
from phi.regime._rolling_nb import (
    _search_nb,
    robust_z_cols_nb,
    rolling_entropy_fast_nb,
    rolling_median_mad_fast_nb,
)


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


# ---- the previous kernel (commit 56ee333), kept as a reference: a sorted window updated by a
# count and a shift, the MAD found by stepping; the new one must give bit-identical z-scores


@njit(cache=False)
def _kth_dev_ref(
    buf: np.ndarray, cnt: int, med: float, j: int, k: int, a0: int
) -> tuple[float, float, int]:
    """k-th and (k+1)-th smallest (0-based) of |buf[:cnt] - med| (sorted buf, buf[:j] <= med
    <= buf[j:]), and the number ``a`` of them taken from the left run, found by stepping from
    the hint ``a0``. L[a] = med - buf[j-1-a], R[b] = buf[j+b] - med are both increasing."""
    n_l = j
    n_r = cnt - j
    lo = max(0, k + 1 - n_r)
    hi = min(k + 1, n_l)
    a = min(max(a0, lo), hi)
    while True:
        b = k + 1 - a
        if a < hi and b > 0 and buf[j + b - 1] - med > med - buf[j - 1 - a]:
            a += 1  # R[b-1] > L[a]: take more from L
        elif a > lo and b < n_r and med - buf[j - a] > buf[j + b] - med:
            a -= 1  # L[a-1] > R[b]: take fewer from L
        else:
            break
    b = k + 1 - a
    kth = -np.inf
    if a > 0:
        kth = med - buf[j - a]
    if b > 0:
        d = buf[j + b - 1] - med
        if d > kth:
            kth = d
    nxt = np.inf
    if a < n_l:
        nxt = med - buf[j - 1 - a]
    if b < n_r:
        d = buf[j + b] - med
        if d < nxt:
            nxt = d
    return kth, nxt, a


@njit(cache=False)
def _median_mad_ref(buf: np.ndarray, cnt: int, a0: int) -> tuple[float, float, int]:
    """Median and MAD of the sorted buf[:cnt] (cnt >= 1), and the MAD split for the next bar."""
    h = cnt // 2
    if cnt % 2 == 1:
        med = buf[h]
        kth, _, a = _kth_dev_ref(buf, cnt, med, h, h, a0)
        return med, kth, a
    med = 0.5 * (buf[h - 1] + buf[h])
    lower, upper, a = _kth_dev_ref(buf, cnt, med, h, h - 1, a0)
    return med, 0.5 * (lower + upper), a


@njit(cache=False)
def _update_ref(buf: np.ndarray, cnt: int, old: float, v: float) -> int:
    if old == old:
        k = _search_nb(buf, cnt, old)
        for m in range(k, cnt - 1):
            buf[m] = buf[m + 1]
        cnt -= 1
    if v == v:
        k = _search_nb(buf, cnt, v)
        for m in range(cnt, k, -1):
            buf[m] = buf[m - 1]
        buf[k] = v
        cnt += 1
    return cnt


@njit(cache=False)
def _robust_z_ref(x, window, minp, mad_small, alpha, floor):  # type: ignore[no-untyped-def]
    n, k = x.shape
    out = np.empty((n, k))
    buf = np.empty(window)
    for j in range(k):
        cnt = 0
        a = 0
        m_ew = 0.0
        v_ew = 0.0
        started = False
        for t in range(n):
            v = x[t, j]
            old = x[t - window, j] if t >= window else np.nan
            cnt = _update_ref(buf, cnt, old, v)
            if v != v:
                out[t, j] = np.nan
                continue
            if not started:
                m_ew = v
                v_ew = 0.0
                started = True
            else:
                d = v - m_ew
                m_ew = m_ew + alpha * d
                v_ew = (1.0 - alpha) * (v_ew + alpha * d * d)
            if cnt < minp or cnt == 0:
                out[t, j] = np.nan
                continue
            med, mad, a = _median_mad_ref(buf, cnt, a)
            unit = abs(med)
            if unit == 0.0:
                unit = 1.0
            s = np.sqrt(v_ew) if mad < mad_small * unit else 1.4826 * mad
            if not s >= floor * unit:
                s = floor * unit
            out[t, j] = (v - med) / s
    return out


def _hard_columns(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cols = [
        _data(n, seed),
        rng.normal(size=n),  # no gaps: the branch-free path throughout
        np.round(rng.normal(size=n), 1),  # heavy ties
        np.cumsum(rng.normal(size=n)),  # a smooth level
        1e-10 * rng.random(n),  # tiny values
        np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 3, n).astype(float)),  # 3 values + gaps
        np.full(n, 2.0),  # constant
    ]
    x = np.column_stack(cols)
    x[rng.random(x.shape) < 0.002] = np.inf  # rare infinities take the general path
    x[rng.random(x.shape) < 0.002] = -np.inf
    return x


@pytest.mark.parametrize(("window", "minp"), [(60, 20), (1, 1), (2, 1), (15, 5), (16, 16), (17, 3), (33, 11), (200, 100)])
def test_robust_z_bit_identical_to_the_previous_kernel(window: int, minp: int) -> None:
    args = (window, minp, 1e-2, 2.0 / 21.0, 1e-6)
    for seed in range(3):
        x = _hard_columns(900, seed)
        with np.errstate(invalid="ignore"):
            ref = _robust_z_ref(x, *args)
        got = robust_z_cols_nb(np.asfortranarray(x), *args)
        np.testing.assert_array_equal(got, ref)
        assert got.flags.c_contiguous


@pytest.mark.parametrize("window", [1, 2, 16, 30, 31, 200])
def test_rolling_median_mad_bit_identical_to_the_previous_kernel(window: int) -> None:
    x = _hard_columns(700, window)
    for j in range(x.shape[1]):
        col = np.ascontiguousarray(x[:, j])
        med, mad = rolling_median_mad_fast_nb(col, window, 1)
        buf = np.empty(window)
        cnt, a = 0, 0
        ref_med, ref_mad = np.full(len(col), np.nan), np.full(len(col), np.nan)
        for t in range(len(col)):  # the previous kernel's loop, driven from Python
            cnt = _update_ref(buf, cnt, col[t - window] if t >= window else np.nan, col[t])
            if cnt > 0:
                with np.errstate(invalid="ignore"):
                    ref_med[t], ref_mad[t], a = _median_mad_ref(buf, cnt, a)
        np.testing.assert_array_equal(med, ref_med)
        finite = np.isfinite(ref_med)  # an infinite median: the MAD is NaN (inf - inf), as numpy's
        np.testing.assert_array_equal(mad[finite], ref_mad[finite])
        assert np.isnan(mad[~finite]).all()
        only_med, no_mad = rolling_median_mad_fast_nb(col, window, 1, want_mad=False)
        np.testing.assert_array_equal(only_med, ref_med)
        assert np.isnan(no_mad).all()


@pytest.mark.parametrize(("window", "minp", "bins"), [(30, 10, 10), (5, 1, 3), (64, 32, 7)])
def test_rolling_entropy_fast_bit_identical_to_the_plain_kernel(window: int, minp: int, bins: int) -> None:
    for seed in range(3):
        x = _hard_columns(1500, seed)
        x = np.where(np.isinf(x), np.nan, x)
        for j in range(x.shape[1]):
            col = np.ascontiguousarray(x[:, j])
            np.testing.assert_array_equal(rolling_entropy_fast_nb(col, window, minp, bins),
                                          _nb.rolling_entropy_nb(col, window, minp, bins))


def _corr_ref(x: np.ndarray, y: np.ndarray, window: int, minp: int) -> np.ndarray:
    """The rolling correlation kernel before its NaN-free fast path: every window summed in
    two passes over its valid pairs (plain Python, the same operations in the same order)."""
    out = np.full(len(x), np.nan)
    for t in range(len(x)):
        lo = max(0, t - window + 1)
        pairs = [(a, b) for a, b in zip(x[lo : t + 1], y[lo : t + 1], strict=True) if a == a and b == b]
        if len(pairs) < max(minp, 2):
            continue
        sx = sy = 0.0
        for a, b in pairs:
            sx += a
            sy += b
        mx, my = sx / len(pairs), sy / len(pairs)
        sxx = syy = sxy = 0.0
        for a, b in pairs:
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
            sxy += (a - mx) * (b - my)
        out[t] = 0.0 if sxx <= 1e-300 or syy <= 1e-300 else min(1.0, max(-1.0, sxy / np.sqrt(sxx * syy)))
    return out


@pytest.mark.parametrize(("window", "minp"), [(40, 15), (5, 2), (1, 1)])
def test_rolling_corr_matches_the_two_pass_reference(window: int, minp: int) -> None:
    """The kernel may reorder its sums (SIMD reductions), so to a few ulps of the sums: 1e-13
    on correlations in [-1, 1] (sums of <= 40 terms of order 1); the same NaN and exact 0
    (flat window) bars."""
    x = _data(900, 4)
    y = np.roll(x, 10)
    y[50:53] = np.nan
    got, ref = _nb.rolling_corr_nb(x, y, window, minp), _corr_ref(x, y, window, minp)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(got == 0.0, ref == 0.0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13, equal_nan=True)
