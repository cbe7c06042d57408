"""Exact rolling median / MAD and the robust z-score of many columns in one pass (numba).

The window's valid values live in a sorted buffer with guards (``-inf`` before, ``+inf`` after
and in unused slots). When a finite value leaves and a finite one enters, the new sorted buffer
is written in one branch-free, SIMD pass over the old one (:func:`_replace_nb`): each slot keeps
its value, takes its neighbour's, or takes the new value, decided by comparing values (no
search, no data-dependent shift). The MAD is the k-th smallest of the deviations ``|x -
median|``; these are smallest on a contiguous stretch of the sorted window around the median,
so the k+1 smallest are the length-(k+1) stretch whose ends are closest, found by counting the
stretches whose left end is farther than their right end (:func:`_mad_nb`, again one SIMD
pass). A NaN entering or leaving, a non-finite value, or the warm-up take the general
binary-search path. Results are exact (the same order statistics as
``pandas.rolling().median()``) and do not depend on the bars after t.

Also here, as it is per-bar work of the same kind: the experts' weights in one pass
(:func:`expert_weights_nb`), the mixer's core (:func:`mix_core_nb`) and the entropy
feature with an in-place histogram (:func:`rolling_entropy_fast_nb`).
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
def _replace_nb(src: np.ndarray, dst: np.ndarray, size: int, old: float, v: float) -> None:
    """dst[1:size+1] = the sorted src[1:size+1] with one copy of ``old`` replaced by ``v`` (both
    finite; ``old`` is in src). src[0] = -inf and src[size+1] = +inf are guards; slots past the
    window's values hold +inf. One branch-free pass: with ``old < v`` the values in
    [old, v) move one slot left, otherwise those in [v, old) move one slot right, and ``v``
    lands between its neighbours (before any equal value)."""
    if old < v:
        s1 = src[1:]  # a view: s1[i] = src[i + 1], an index numba need not wrap (keeps SIMD)
        for i in range(1, size + 1):
            a = src[i]
            b = s1[i]
            y = b if (a >= old) & (b < v) else a
            dst[i] = v if (a < v) & (v <= b) else y
    else:
        for i in range(1, size + 1):
            a = src[i - 1]
            b = src[i]
            y = a if (a >= v) & (a < old) else b
            dst[i] = v if (a < v) & (v <= b) else y


@njit(cache=True, inline="always")
def _remove_insert_nb(buf: np.ndarray, cnt: int, old: float, v: float) -> int:
    """Remove ``old`` (NaN: nothing) from and insert ``v`` (NaN: nothing) into the sorted
    buf[1:cnt+1] (+inf after it); returns the new count. Binary searches and shifts."""
    if old == old:
        k = _search_nb(buf[1:], cnt, old) + 1
        for m in range(k, cnt):
            buf[m] = buf[m + 1]
        buf[cnt] = np.inf
        cnt -= 1
    if v == v:
        k = _search_nb(buf[1:], cnt, v) + 1
        for m in range(cnt + 1, k, -1):
            buf[m] = buf[m - 1]
        buf[k] = v
        cnt += 1
    return cnt


@njit(cache=True, inline="always")
def _mad_nb(b: np.ndarray, cnt: int, med: float) -> float:
    """MAD (median of |x - med|) of the sorted b[1:cnt+1] about the finite ``med``; b[0] = -inf
    and at least 16 slots of +inf follow the values.

    The deviations decrease then increase along the sorted values, so the k+1 smallest are a
    stretch b[s:s+k+1]; its cost ``max(med - b[s], b[s+k] - med)`` is smallest where the left
    term stops exceeding the right one: ``c`` = the number of stretches whose left term is the
    larger (one SIMD count), the k-th deviation is ``min(med - b[c], b[c+1+k] - med)`` (the
    guards make a missing side +inf), and the next one (for an even count) is the nearer
    neighbour of the chosen stretch. The same rounded differences as ``|x - med|``."""
    h = cnt // 2
    k = h if cnt % 2 == 1 else h - 1
    m = cnt - k
    c = 0
    bk = b[k:]  # a view, so its index is provably >= 0 (numba's wraparound test stops SIMD)
    for lo in range(1, (m + 15) // 16 * 16 + 1):  # a multiple of 16: no scalar tail (+inf pads)
        c += (med - b[lo]) > (bk[lo] - med)
    d_left = med - b[c]
    d_right = b[c + 1 + k] - med
    if d_left <= d_right:
        kth = d_left
        s0 = c
    else:
        kth = d_right
        s0 = c + 1
    if cnt % 2 == 1:
        return kth
    n1 = med - b[s0 - 1]
    n2 = b[s0 + k + 1] - med
    return 0.5 * (kth + (n1 if n1 < n2 else n2))


@njit(cache=True, inline="always")
def _window_stats_nb(b: np.ndarray, cnt: int, want_mad: bool) -> tuple[float, float]:
    """(median, MAD) of the sorted, guarded b[1:cnt+1] (cnt >= 1). A non-finite median (an
    infinite value at the middle) has a NaN MAD: the deviation inf - inf is NaN."""
    h = cnt // 2
    med = b[h + 1] if cnt % 2 == 1 else 0.5 * (b[h] + b[h + 1])
    if want_mad and med - med == 0.0:
        return med, _mad_nb(b, cnt, med)
    return med, np.nan


def _buffer_size(window: int) -> tuple[int, int]:
    """(slots scanned per update: the window rounded up to 16, buffer length with guards)."""
    w16 = (window + 15) // 16 * 16
    return w16, w16 + 18


@njit(cache=True)
def _rolling_median_mad_core_nb(
    x: np.ndarray, window: int, minp: int, w16: int, length: int, want_mad: bool
) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    bufs = np.full((2, length), np.inf)
    bufs[:, 0] = -np.inf
    cur = 0
    cnt = 0
    for t in range(n):
        v = x[t]
        old = x[t - window] if t >= window else np.nan
        if (v - v == 0.0) & (old - old == 0.0):
            _replace_nb(bufs[cur], bufs[1 - cur], w16, old, v)
            cur = 1 - cur
        else:
            cnt = _remove_insert_nb(bufs[cur], cnt, old, v)
        if cnt >= minp and cnt > 0:
            med[t], mad[t] = _window_stats_nb(bufs[cur], cnt, want_mad)
    return med, mad


def rolling_median_mad_fast_nb(
    x: np.ndarray, window: int, minp: int, want_mad: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling median and MAD (median of |x - median|) of the valid values in the window
    (NaN where it has fewer than ``minp``; the MAD is all NaN when ``want_mad`` is False)."""
    w16, length = _buffer_size(window)
    return _rolling_median_mad_core_nb(
        np.ascontiguousarray(x, dtype=np.float64), window, minp, w16, length, want_mad
    )


@njit(cache=True)
def _robust_z_core_nb(
    x: np.ndarray,
    window: int,
    minp: int,
    mad_small: float,
    alpha: float,
    floor: float,
    w16: int,
    length: int,
    out: np.ndarray,
) -> None:
    n, k = x.shape
    bufs = np.full((k, 2, length), np.inf)
    bufs[:, :, 0] = -np.inf
    cur = np.zeros(k, dtype=np.int64)
    cnt = np.zeros(k, dtype=np.int64)
    m_ew = np.zeros(k)
    v_ew = np.zeros(k)
    started = np.zeros(k, dtype=np.bool_)
    # rows are read in blocks (each column's stretch copied contiguously, whatever x's layout:
    # 26 strided streams defeat the prefetcher on long inputs), and the value leaving a window
    # comes from a ring of the last ``window`` rows rather than from x
    block = 512
    rows = np.empty((block, k))
    ring = np.empty((window, k))
    for t0 in range(0, n, block):
        t1 = min(n, t0 + block)
        for j in range(k):
            for t in range(t0, t1):
                rows[t - t0, j] = x[t, j]
        for t in range(t0, t1):
            row = rows[t - t0]
            slot = t % window
            # all windows first, then all statistics: a buffer is read long after it was written
            for j in range(k):
                v = row[j]
                old = ring[slot, j] if t >= window else np.nan
                ring[slot, j] = v
                if (v - v == 0.0) & (old - old == 0.0):
                    _replace_nb(bufs[j, cur[j]], bufs[j, 1 - cur[j]], w16, old, v)
                    cur[j] = 1 - cur[j]
                else:
                    cnt[j] = _remove_insert_nb(bufs[j, cur[j]], cnt[j], old, v)
            for j in range(k):
                v = row[j]
                if v != v:
                    out[t, j] = np.nan
                    continue
                if not started[j]:
                    m_ew[j] = v
                    v_ew[j] = 0.0
                    started[j] = True
                else:
                    d = v - m_ew[j]
                    m_ew[j] = m_ew[j] + alpha * d
                    v_ew[j] = (1.0 - alpha) * (v_ew[j] + alpha * d * d)
                c = cnt[j]
                if c < minp or c == 0:
                    out[t, j] = np.nan
                    continue
                med, mad = _window_stats_nb(bufs[j, cur[j]], c, True)
                unit = abs(med)
                if unit == 0.0:
                    unit = 1.0
                s = np.sqrt(v_ew[j]) if mad < mad_small * unit else 1.4826 * mad
                if not s >= floor * unit:
                    s = floor * unit
                out[t, j] = (v - med) / s


def robust_z_cols_nb(
    x: np.ndarray,
    window: int,
    minp: int,
    mad_small: float,
    alpha: float,
    floor: float,
) -> np.ndarray:
    """Rolling robust z-score of every column of x (bars, columns), all columns bar by bar.

    ``(x - median) / scale``, ``scale = 1.4826 * MAD`` or the EWM std (``alpha``, adjust=False,
    from the first valid value; NaN keeps its state) where the raw MAD is below
    ``mad_small * unit``; floored at ``floor * unit``, ``unit = |median|`` (1 if it is 0). NaN
    where x is NaN or the window has < ``minp`` values. Returns a C-ordered (bars, columns)
    float64 array.
    """
    w16, length = _buffer_size(window)
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)  # allocated by numpy (huge pages where the OS offers them): fewer page faults
    _robust_z_core_nb(x, window, minp, mad_small, alpha, floor, w16, length, out)
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
    out: np.ndarray,
) -> None:
    """``clip((1 - beta) w_val + beta w_aff, 0, 2)`` per bar (see experts.py) into out (bars, E),
    no temporaries.

    species (bars, S), validity (S, E); node_probs (bars, nodes); the affinity levels' node
    indices are ``nodes[starts[L]:starts[L + 1]]`` and their rows of the table
    ``affinity[starts[L]:starts[L + 1]]`` (E columns).
    """
    n, ns = species.shape
    ne = validity.shape[1]
    nlev = starts.shape[0] - 1
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


@njit(cache=True)
def rolling_entropy_fast_nb(r: np.ndarray, window: int, minp: int, bins: int) -> np.ndarray:
    """:func:`phi.regime._nb.rolling_entropy_nb`, bit-identical, cheaper: while the window's
    min and max stay the same, every value keeps its bin, so the counts are updated for the
    value leaving and the one entering (the same bin formula) instead of rebuilt; the
    ``p ln p`` terms come from a table filled with the same operations (every ``p`` is
    ``count / c`` with ``c <= window``)."""
    n = r.shape[0]
    out = np.full(n, np.nan)
    table = np.zeros((window + 1, window + 1))  # table[c, m] = (m / c) * log(m / c)
    for c in range(1, window + 1):
        for m in range(1, c + 1):
            p = m / c
            table[c, m] = p * np.log(p)
    counts = np.zeros(bins, dtype=np.int64)
    valid = False  # counts hold the previous window's histogram over [pmn, pmx]
    pmn = 0.0
    pmx = 0.0
    for t in range(n):
        lo = max(0, t - window + 1)
        c = 0
        mn = np.inf
        mx = -np.inf
        for i in range(lo, t + 1):
            v = r[i]
            c += v == v
            mn = v if v < mn else mn
            mx = v if v > mx else mx
        if c < minp or c == 0 or not mx > mn:
            valid = False
            if c >= minp and c > 0:
                out[t] = 0.0
            continue
        width = mx - mn
        if valid and mn == pmn and mx == pmx:
            if t >= window:
                v = r[t - window]
                if v == v:
                    k = int((v - mn) / width * bins)
                    counts[min(k, bins - 1)] -= 1
            v = r[t]
            if v == v:
                k = int((v - mn) / width * bins)
                counts[min(k, bins - 1)] += 1
        else:
            counts[:] = 0
            for i in range(lo, t + 1):
                v = r[i]
                if v == v:
                    k = int((v - mn) / width * bins)
                    counts[min(k, bins - 1)] += 1
            valid = True
            pmn = mn
            pmx = mx
        h = 0.0
        for k in range(bins):
            if counts[k] > 0:
                h -= table[c, counts[k]]
        out[t] = h
    return out
