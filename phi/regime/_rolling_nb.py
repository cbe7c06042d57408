"""Exact rolling median / MAD and the robust z-score of many columns in one pass (numba).

The window's valid values live in a sorted buffer: each bar replaces the value leaving the
window by the one entering it with one shift (O(w) branch-free counts + O(w) memmove at worst). The
MAD is the k-th smallest of the deviations ``|x - median|``, which form two sorted runs around
the median; the split between the runs moves little from one bar to the next, so it is found
by stepping from the previous bar's split (amortised O(1)) rather than by a fresh binary
search. Results are exact (the same order statistics as ``pandas.rolling().median()``) and do
not depend on the bars after t.

Also here, as it is per-bar work of the same kind: the experts' weights in one pass
(:func:`expert_weights_nb`), without the temporaries of the array version.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _search_nb(buf: np.ndarray, cnt: int, v: float) -> int:
    lo = 0
    hi = cnt
    while lo < hi:
        mid = (lo + hi) >> 1
        if buf[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _update_nb(buf: np.ndarray, cnt: int, old: float, v: float) -> int:
    """Remove ``old`` (NaN: nothing) from and add ``v`` (NaN: nothing) to the sorted buf[:cnt]."""
    if old == old and v == v:
        # where old sits and where v goes: branch-free counts (vectorised; faster than two
        # binary searches on windows of tens of values), then one shift
        p = 0
        q = 0
        for i in range(cnt):
            b = buf[i]
            p += b < old
            q += b < v
        if q > p:
            for m in range(p, q - 1):
                buf[m] = buf[m + 1]
            buf[q - 1] = v
        else:
            for m in range(p, q, -1):
                buf[m] = buf[m - 1]
            buf[q] = v
        return cnt
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


@njit(cache=True, inline="always")
def _kth_dev_nb(
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


@njit(cache=True, inline="always")
def _median_mad_nb(buf: np.ndarray, cnt: int, a0: int) -> tuple[float, float, int]:
    """Median and MAD of the sorted buf[:cnt] (cnt >= 1), and the MAD split for the next bar."""
    h = cnt // 2
    if cnt % 2 == 1:
        med = buf[h]
        kth, _, a = _kth_dev_nb(buf, cnt, med, h, h, a0)
        return med, kth, a
    med = 0.5 * (buf[h - 1] + buf[h])
    lower, upper, a = _kth_dev_nb(buf, cnt, med, h, h - 1, a0)
    return med, 0.5 * (lower + upper), a


@njit(cache=True)
def rolling_median_mad_fast_nb(
    x: np.ndarray, window: int, minp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling median and MAD (median of |x - median|) of the valid values in the window."""
    n = x.shape[0]
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    buf = np.empty(window)
    cnt = 0
    a = 0
    for t in range(n):
        old = x[t - window] if t >= window else np.nan
        cnt = _update_nb(buf, cnt, old, x[t])
        if cnt >= minp and cnt > 0:
            m, d, a = _median_mad_nb(buf, cnt, a)
            med[t] = m
            mad[t] = d
    return med, mad


@njit(cache=True)
def robust_z_cols_nb(
    x: np.ndarray,
    window: int,
    minp: int,
    mad_small: float,
    alpha: float,
    floor: float,
) -> np.ndarray:
    """Rolling robust z-score of every column of x (bars, columns), one pass per column.

    ``(x - median) / scale``, ``scale = 1.4826 * MAD`` or the EWM std (``alpha``, adjust=False,
    from the first valid value; NaN keeps its state) where the raw MAD is below
    ``mad_small * unit``; floored at ``floor * unit``, ``unit = |median|`` (1 if it is 0). NaN
    where x is NaN or the window has < ``minp`` values. Returns a Fortran-ordered array.
    """
    n, k = x.shape
    out = np.empty((k, n)).T  # Fortran order: each column contiguous
    buf = np.empty(window)
    for j in range(k):
        col = x[:, j]
        cnt = 0
        a = 0
        m_ew = 0.0
        v_ew = 0.0
        started = False
        for t in range(n):
            v = col[t]
            old = col[t - window] if t >= window else np.nan
            cnt = _update_nb(buf, cnt, old, v)
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
            med, mad, a = _median_mad_nb(buf, cnt, a)
            unit = abs(med)
            if unit == 0.0:
                unit = 1.0
            s = np.sqrt(v_ew) if mad < mad_small * unit else 1.4826 * mad
            if not s >= floor * unit:
                s = floor * unit
            out[t, j] = (v - med) / s
    return out


@njit(cache=True)
def expert_weights_nb(
    species: np.ndarray,
    validity: np.ndarray,
    node_probs: np.ndarray,
    nodes: np.ndarray,
    starts: np.ndarray,
    affinity: np.ndarray,
    beta: float,
) -> np.ndarray:
    """``clip((1 - beta) w_val + beta w_aff, 0, 2)`` per bar (see experts.py), no temporaries.

    species (bars, S), validity (S, E); node_probs (bars, nodes); the affinity levels' node
    indices are ``nodes[starts[L]:starts[L + 1]]`` and their rows of the table
    ``affinity[starts[L]:starts[L + 1]]`` (E columns).
    """
    n, ns = species.shape
    ne = validity.shape[1]
    nlev = starts.shape[0] - 1
    out = np.empty((n, ne))
    val = np.empty(ne)
    aff = np.empty(ne)
    tmp = np.empty(ne)
    for t in range(n):
        val[:] = 0.0
        for s in range(ns):
            p = species[t, s]
            if p != 0.0:
                for e in range(ne):
                    val[e] += p * validity[s, e]
        aff[:] = 0.0
        for lv in range(nlev):
            lo = starts[lv]
            hi = starts[lv + 1]
            h = 0.0
            tmp[:] = 0.0
            for i in range(lo, hi):
                p = node_probs[t, nodes[i]]
                if p > 0.0:
                    h -= p * np.log(p)
                if p != 0.0:
                    for e in range(ne):
                        tmp[e] += p * affinity[i, e]
            h = min(1.0, max(0.0, h / np.log(hi - lo)))
            cert = 1.0 - h
            for e in range(ne):
                aff[e] += cert * tmp[e]
        for e in range(ne):
            v = min(1.0, max(0.0, val[e]))
            out[t, e] = min(2.0, max(0.0, (1.0 - beta) * v + beta * aff[e]))
    return out



@njit(cache=True)
def mix_core_nb(
    signals: np.ndarray, weights: np.ndarray, m: np.ndarray, eps: float, alpha: float, out: np.ndarray
) -> None:
    """Columns 0 (composite) and 2 (c_consensus) of the mixer's output, per bar (see mixer.py).

    NaN signals count as 0. ``x = w z / (sum w + eps)``, ``s_raw = sum x``,
    ``S_int = sum_ij M_ij x_i |x_j| / sum_ij |M_ij| |x_i| |x_j| * sum_k |x_k|`` (0 if x = 0); composite = clip(alpha s_raw + (1 - alpha) S_int);
    c_consensus = |s_raw| / (|s_raw| + std + eps), std the weighted std of z around s_raw.
    """
    n, k = signals.shape
    z = np.empty(k)
    x = np.empty(k)
    for t in range(n):
        wsum = 0.0
        for j in range(k):
            v = signals[t, j]
            z[j] = v if v == v else 0.0
            wsum += weights[t, j]
        s_raw = 0.0
        for j in range(k):
            x[j] = weights[t, j] * z[j] / (wsum + eps)
            s_raw += x[j]
        num = 0.0
        den = 0.0
        size = 0.0
        for i in range(k):
            xi = x[i]
            if xi != 0.0:
                size += abs(xi)
                for j in range(k):
                    xj = abs(x[j])
                    num += m[i, j] * xi * xj
                    den += abs(m[i, j]) * abs(xi) * xj
        s_int = num / den * size if den > 0.0 else 0.0
        out[t, 0] = min(1.0, max(-1.0, alpha * s_raw + (1.0 - alpha) * s_int))
        var = 0.0
        for j in range(k):
            d = z[j] - s_raw
            var += weights[t, j] * d * d
        var = var / (wsum + eps)
        std = np.sqrt(max(var, 0.0))
        out[t, 2] = abs(s_raw) / (abs(s_raw) + std + eps)
