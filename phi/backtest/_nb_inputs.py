"""Input-check and trading-day kernels of the engine (numba over NumPy arrays, no pandas).

``phi.backtest._inputs`` is the caller; :mod:`phi.backtest._nb` re-exports these names.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _bad_price(x):
    return not (0.0 < x < np.inf)


@njit(cache=True)
def first_bad_bar_nb(o, h, lo, c):
    """Index of the first bar with a missing, infinite or non-positive price; -1 if none."""
    n = c.shape[0]
    n_bad = 0
    for t in range(n):  # branch-free count first (the common, all-good case is one fast pass)
        # x - x is 0 for a finite x and NaN for NaN or +-inf (NaN != 0); min <= 0 finds the rest
        z = (o[t] - o[t]) + (h[t] - h[t]) + (lo[t] - lo[t]) + (c[t] - c[t])
        n_bad += (z != 0.0) | (min(min(o[t], h[t]), min(lo[t], c[t])) <= 0.0)
    if n_bad == 0:
        return -1
    for t in range(n):
        if _bad_price(o[t]) or _bad_price(h[t]) or _bad_price(lo[t]) or _bad_price(c[t]):
            return t
    return -1


@njit(cache=True)
def first_inconsistent_bar_nb(o, h, lo, c):
    """Index of the first bar with ``high < low`` or open/close outside ``[low, high]`` (beyond
    ``1e-9 * max(high, 1)``, the tolerance of :func:`phi.data.schema.check_ohlcv`); -1 if none."""
    n = c.shape[0]
    n_bad = 0
    for t in range(n):
        tol = 1e-9 * max(h[t], 1.0)
        top = h[t] + tol
        bottom = lo[t] - tol
        n_bad += (h[t] < bottom) | (o[t] > top) | (o[t] < bottom) | (c[t] > top) | (c[t] < bottom)
    if n_bad == 0:
        return -1
    for t in range(n):
        tol = 1e-9 * max(h[t], 1.0)
        if h[t] < lo[t] - tol or not (lo[t] - tol <= o[t] <= h[t] + tol and lo[t] - tol <= c[t] <= h[t] + tol):
            return t
    return -1


@njit(cache=True)
def first_bad_signal_nb(sig):
    """Flat index of the first signal value outside [-1, 1] (NaN is allowed); -1 if none."""
    flat = sig.ravel()
    n_bad = 0
    for i in range(flat.shape[0]):
        n_bad += (flat[i] > 1.0) | (flat[i] < -1.0)
    if n_bad == 0:
        return -1
    for i in range(flat.shape[0]):
        if flat[i] > 1.0 or flat[i] < -1.0:
            return i
    return -1


@njit(cache=True)
def first_unsorted_nb(stamps):
    """Index of the first stamp not strictly after its predecessor (unsorted or duplicate); -1."""
    n = stamps.shape[0]
    n_bad = 0
    for t in range(1, n):  # branch-free count first: the all-sorted case is one fast pass
        n_bad += stamps[t] <= stamps[t - 1]
    if n_bad == 0:
        return -1
    for t in range(1, n):
        if stamps[t] <= stamps[t - 1]:
            return t
    return -1


@njit(cache=True)
def day_end_nb(stamps, trans_at, trans_off, shift, per_day, roll_weekend, out):
    """Mark the last bar of each trading day; return ``out``.

    A bar's trading day is ``(stamp + offset + shift) // per_day`` where ``offset`` is
    ``trans_off[j]`` of the last ``trans_at[j] <= stamp`` (a time zone's UTC offsets and the
    instants they start; ``trans_at[0]`` is before every stamp) and ``shift`` moves the day's
    end (FX: +7 h, so the day ends 17:00 New York). With ``roll_weekend`` Saturday and Sunday
    count as the following Monday. ``stamps`` are sorted, all in one unit.
    """
    n = stamps.shape[0]
    if n == 0:
        return out
    m = trans_at.shape[0]
    j = 0
    key = 0
    boundary = stamps[0]  # forces the slow path on the first bar
    next_trans = trans_at[1] if m > 1 else np.iinfo(np.int64).max
    for t in range(n):
        s = stamps[t]
        if s < boundary and s < next_trans:  # same day, same offset: no division
            if t > 0:
                out[t - 1] = False
            continue
        while j + 1 < m and s >= trans_at[j + 1]:
            j += 1
        next_trans = trans_at[j + 1] if j + 1 < m else np.iinfo(np.int64).max
        local = s + trans_off[j] + shift
        day = local // per_day
        boundary = s + (day + 1) * per_day - local  # the stamp at which the next day starts
        new = day
        if roll_weekend:
            dow = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
            if dow >= 5:
                new = day + 7 - dow
        if t > 0:
            out[t - 1] = new != key
        key = new
    out[n - 1] = True
    return out
