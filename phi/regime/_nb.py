"""Numba kernels of the regime engine: arrays in, arrays out, causal (bar t reads bars <= t).

Rolling windows count only non-NaN values (like pandas' ``min_periods``); a window with fewer
than ``minp`` valid values gives NaN. Every kernel walks the bars in order and sums each
window afresh (or updates a sorted buffer), so the value at bar t is bit-identical whatever
follows t.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _mean_std_exact_nb(x: np.ndarray, lo: int, hi: int, ddof: int) -> tuple[float, float, float, float, int]:
    """(sum, sum of squares, mean, std) of the valid x[lo:hi] and their count, two passes."""
    s = 0.0
    q = 0.0
    c = 0
    for i in range(lo, hi):
        v = x[i]
        if v == v:
            s += v
            q += v * v
            c += 1
    if c == 0:
        return 0.0, 0.0, np.nan, np.nan, 0
    m = s / c
    sd = np.nan
    if c - ddof > 0:
        ss = 0.0
        for i in range(lo, hi):
            v = x[i]
            if v == v:
                ss += (v - m) * (v - m)
        sd = np.sqrt(ss / (c - ddof))
    return s, q, m, sd, c


@njit(cache=True)
def rolling_mean_std_nb(
    x: np.ndarray, window: int, minp: int, ddof: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and standard deviation (``ddof`` like pandas) of the valid values.

    Running sums of x and x^2, re-summed from scratch every ``window`` bars (so rounding does
    not build up); where the sum of squared deviations is under 1e-6 of the sum of squares
    (a flat or near-flat window, where running sums would lose digits) the window is summed
    again in two passes, so a constant window has a standard deviation of exactly 0. The
    value at bar t depends on the bars <= t only.
    """
    n = x.shape[0]
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    s = 0.0
    q = 0.0
    c = 0
    for t in range(n):
        lo = max(0, t - window + 1)
        if t % window == 0:
            s, q, m, sd, c = _mean_std_exact_nb(x, lo, t + 1, ddof)
        else:
            if t >= window:
                old = x[t - window]
                if old == old:
                    s -= old
                    q -= old * old
                    c -= 1
            v = x[t]
            if v == v:
                s += v
                q += v * v
                c += 1
            if c == 0:
                s = 0.0
                q = 0.0
        if c < minp or c == 0:
            continue
        m = s / c
        mean[t] = m
        if c - ddof > 0:
            ss = q - s * m
            if not ss > 1e-6 * q:
                _, _, m2, sd2, _ = _mean_std_exact_nb(x, lo, t + 1, ddof)
                mean[t] = m2
                std[t] = sd2
            else:
                std[t] = np.sqrt(ss / (c - ddof))
    return mean, std


@njit(cache=True)
def rolling_mean_nb(x: np.ndarray, window: int, minp: int) -> np.ndarray:
    """Rolling mean of the valid values (NaN below ``minp`` of them)."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    s = 0.0
    c = 0
    for t in range(n):
        if t >= window:
            old = x[t - window]
            if old == old:
                s -= old
                c -= 1
                if c == 0:
                    s = 0.0
        v = x[t]
        if v == v:
            s += v
            c += 1
        if c >= minp and c > 0:
            out[t] = s / c
    return out


@njit(cache=True)
def efficiency_ratio_nb(r: np.ndarray, window: int, minp: int, eps: float) -> np.ndarray:
    """Kaufman efficiency on returns: ``|sum r| / (sum |r| + eps)`` over the window."""
    n = r.shape[0]
    out = np.full(n, np.nan)
    s = 0.0
    a = 0.0
    c = 0
    for t in range(n):
        if t >= window:
            old = r[t - window]
            if old == old:
                s -= old
                a -= abs(old)
                c -= 1
                if c == 0:
                    s = 0.0
                    a = 0.0
        v = r[t]
        if v == v:
            s += v
            a += abs(v)
            c += 1
        if c >= minp and c > 0:
            out[t] = abs(s) / (max(a, 0.0) + eps)
    return out


@njit(cache=True)
def rolling_corr_nb(x: np.ndarray, y: np.ndarray, window: int, minp: int) -> np.ndarray:
    """Rolling Pearson correlation over the pairs where both are valid; 0 if either is flat."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(n):
        lo = max(0, t - window + 1)
        sx = 0.0
        sy = 0.0
        c = 0
        for i in range(lo, t + 1):
            if x[i] == x[i] and y[i] == y[i]:
                sx += x[i]
                sy += y[i]
                c += 1
        if c < minp or c < 2:
            continue
        mx = sx / c
        my = sy / c
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for i in range(lo, t + 1):
            if x[i] == x[i] and y[i] == y[i]:
                dx = x[i] - mx
                dy = y[i] - my
                sxx += dx * dx
                syy += dy * dy
                sxy += dx * dy
        if sxx <= 1e-300 or syy <= 1e-300:
            out[t] = 0.0
        else:
            out[t] = min(1.0, max(-1.0, sxy / np.sqrt(sxx * syy)))
    return out


@njit(cache=True)
def rolling_entropy_nb(r: np.ndarray, window: int, minp: int, bins: int) -> np.ndarray:
    """Shannon entropy (nats) of a ``bins``-bin histogram of the window over [min, max].

    Bins are equal-width and the last one is closed, like ``numpy.histogram``; a degenerate
    window (max == min) has entropy 0.
    """
    n = r.shape[0]
    out = np.full(n, np.nan)
    counts = np.zeros(bins, dtype=np.int64)
    for t in range(n):
        lo = max(0, t - window + 1)
        c = 0
        mn = np.inf
        mx = -np.inf
        for i in range(lo, t + 1):
            v = r[i]
            if v == v:
                c += 1
                if v < mn:
                    mn = v
                if v > mx:
                    mx = v
        if c < minp or c == 0:
            continue
        if not mx > mn:
            out[t] = 0.0
            continue
        counts[:] = 0
        width = mx - mn
        for i in range(lo, t + 1):
            v = r[i]
            if v == v:
                k = int((v - mn) / width * bins)
                if k >= bins:
                    k = bins - 1
                counts[k] += 1
        h = 0.0
        for k in range(bins):
            if counts[k] > 0:
                p = counts[k] / c
                h -= p * np.log(p)
        out[t] = h
    return out


@njit(cache=True)
def _search(buf: np.ndarray, cnt: int, v: float) -> int:
    lo = 0
    hi = cnt
    while lo < hi:
        mid = (lo + hi) // 2
        if buf[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _kth_deviation(buf: np.ndarray, cnt: int, med: float, j: int, k: int) -> tuple[float, float]:
    """k-th and (k+1)-th smallest (0-based) of |buf[:cnt] - med| for sorted buf.

    ``buf[:j] <= med <= buf[j:]``. The deviations form two sorted runs,
    L[a] = med - buf[j-1-a] and R[b] = buf[j+b] - med; a binary search finds how many of the
    k+1 smallest come from L, and the next one is the smaller of the two run heads.
    """
    n_l = j
    n_r = cnt - j
    lo = max(0, k + 1 - n_r)
    hi = min(k + 1, n_l)
    while True:
        a = (lo + hi) // 2
        b = k + 1 - a
        if a < hi and b > 0 and buf[j + b - 1] - med > med - buf[j - 1 - a]:
            lo = a + 1  # R[b-1] > L[a]: take more from L
        elif a > lo and b < n_r and med - buf[j - a] > buf[j + b] - med:
            hi = a - 1  # L[a-1] > R[b]: take fewer from L
        else:
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
            return kth, nxt


@njit(cache=True)
def _median_mad(buf: np.ndarray, cnt: int) -> tuple[float, float]:
    """Median and median absolute deviation of the sorted ``buf[:cnt]`` (cnt >= 1)."""
    # buf[:h] <= med <= buf[h:], so the deviations split into two sorted runs at h (ties
    # included: a deviation of 0 may sit in either run).
    h = cnt // 2
    if cnt % 2 == 1:
        med = buf[h]
        return med, _kth_deviation(buf, cnt, med, h, h)[0]
    med = 0.5 * (buf[h - 1] + buf[h])
    lower, upper = _kth_deviation(buf, cnt, med, h, h - 1)
    return med, 0.5 * (lower + upper)


@njit(cache=True)
def rolling_median_mad_nb(x: np.ndarray, window: int, minp: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling median and MAD (median of |x - median|) of the valid values in the window."""
    n = x.shape[0]
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    buf = np.empty(window)
    cnt = 0
    for t in range(n):
        v = x[t]
        old = x[t - window] if t >= window else np.nan
        if old == old and v == v:  # replace old by v with one shift
            k = _search(buf, cnt, old)
            if v > old:
                while k + 1 < cnt and buf[k + 1] < v:
                    buf[k] = buf[k + 1]
                    k += 1
            else:
                while k > 0 and buf[k - 1] > v:
                    buf[k] = buf[k - 1]
                    k -= 1
            buf[k] = v
        else:
            if old == old:
                k = _search(buf, cnt, old)
                for m in range(k, cnt - 1):
                    buf[m] = buf[m + 1]
                cnt -= 1
            if v == v:
                k = _search(buf, cnt, v)
                for m in range(cnt, k, -1):
                    buf[m] = buf[m - 1]
                buf[k] = v
                cnt += 1
        if cnt >= minp and cnt > 0:
            a, b = _median_mad(buf, cnt)
            med[t] = a
            mad[t] = b
    return med, mad


@njit(cache=True)
def ewm_std_nb(x: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted std (adjust=False, population) from the first valid value.

    ``m_t = (1 - a) m_(t-1) + a x_t``, ``v_t = (1 - a) (v_(t-1) + a (x_t - m_(t-1))^2)``;
    equals pandas ``ewm(alpha=a, adjust=False).var(bias=True) ** 0.5``. NaN inputs keep the
    state and give NaN.
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    m = 0.0
    var = 0.0
    started = False
    for t in range(n):
        v = x[t]
        if v != v:
            continue
        if not started:
            m = v
            var = 0.0
            started = True
        else:
            d = v - m
            m = m + alpha * d
            var = (1.0 - alpha) * (var + alpha * d * d)
        out[t] = np.sqrt(var)
    return out


@njit(cache=True)
def robust_z_nb(
    x: np.ndarray,
    window: int,
    minp: int,
    mad_small: float,
    alpha: float,
    floor: float,
) -> np.ndarray:
    """Rolling robust z-score ``(x - median) / scale``.

    ``scale = 1.4826 * MAD``, or the EWM std (``alpha``) where the raw MAD is below
    ``mad_small * unit``; floored at ``floor * unit``, where ``unit = |median|`` (1 if the
    median is 0), so tiny-valued features (illiquidity ~1e-10) are not flattened by an
    absolute floor. NaN where x is NaN or the window has < ``minp`` values.
    """
    med, mad = rolling_median_mad_nb(x, window, minp)
    ew = ewm_std_nb(x, alpha)
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(n):
        if med[t] == med[t] and x[t] == x[t]:
            unit = abs(med[t])
            if unit == 0.0:
                unit = 1.0
            s = ew[t] if mad[t] < mad_small * unit else 1.4826 * mad[t]
            if not s >= floor * unit:
                s = floor * unit
            out[t] = (x[t] - med[t]) / s
    return out


@njit(cache=True)
def sticky_logits_nb(energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """``l_t = (1 - eta) l_(t-1) + eta E_t`` per column, ``l_0 = E_0``; energy is (bars, nodes)."""
    n, k = energy.shape
    out = np.empty((n, k))
    if n == 0:
        return out
    for j in range(k):
        out[0, j] = energy[0, j]
    for t in range(1, n):
        for j in range(k):
            out[t, j] = (1.0 - eta[j]) * out[t - 1, j] + eta[j] * energy[t, j]
    return out


@njit(cache=True)
def matmul_rows_nb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` summed in a fixed order per row (bit-identical whatever the number of rows)."""
    n, m = a.shape
    k = b.shape[1]
    out = np.zeros((n, k))
    for t in range(n):
        for i in range(m):
            v = a[t, i]
            if v != 0.0:
                for j in range(k):
                    out[t, j] += v * b[i, j]
    return out


@njit(cache=True)
def project_nb(
    x: np.ndarray, probs: np.ndarray, par: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mixture mean and variance of per-regime AR(1) one-step projections (see projections.py).

    x (bars, experts); probs (bars, regimes); NaN in either counts as 0. par (regimes, 4) =
    mu, phi, beta, sigma.
    """
    n, k = x.shape
    nr = probs.shape[1]
    exp_ = np.empty((n, k))
    var = np.empty((n, k))
    xr = np.empty(nr)
    pr = np.empty(nr)
    for t in range(n):
        for r in range(nr):
            q = probs[t, r]
            pr[r] = q if q == q else 0.0
        for j in range(k):
            xt = x[t, j]
            if xt != xt:
                xt = 0.0
            xp = x[t - 1, j] if t > 0 else 0.0
            if xp != xp:
                xp = 0.0
            dx = xt - xp if t > 0 else 0.0
            e = 0.0
            v = 0.0
            for r in range(nr):
                y = par[r, 0] + par[r, 1] * (xt - par[r, 0]) + par[r, 2] * dx
                y = min(1.0, max(-1.0, y))
                xr[r] = y
                e += pr[r] * y
                v += pr[r] * par[r, 3] * par[r, 3]
            for r in range(nr):
                v += pr[r] * (xr[r] - e) * (xr[r] - e)
            exp_[t, j] = e
            var[t, j] = v
    return exp_, var


@njit(cache=True)
def interaction_nb(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """S_int per row: ``sum_ij M_ij x_i |x_j| / sum_ij |M_ij| |x_i| |x_j| * sum_k |x_k|`` (0 if x = 0)."""
    n, k = x.shape
    out = np.zeros(n)
    for t in range(n):
        num = 0.0
        den = 0.0
        size = 0.0
        for i in range(k):
            xi = x[t, i]
            if xi != 0.0:
                size += abs(xi)
                for j in range(k):
                    xj = abs(x[t, j])
                    num += m[i, j] * xi * xj
                    den += abs(m[i, j]) * abs(xi) * xj
        if den > 0.0:
            out[t] = num / den * size
    return out


@njit(cache=True)
def field_nb(
    logits: np.ndarray,
    inv_temp: np.ndarray,
    group: np.ndarray,
    group_size: np.ndarray,
    parent: np.ndarray,
    paths: np.ndarray,
    base: np.ndarray,
    n_base: int,
    u: np.ndarray,
    vol: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The probability field in one pass per bar (see probability_field.py).

    logits (bars, nodes); inv_temp, group, parent (nodes,): 1 / temperature, sibling group and
    parent node (-1: none) of each node; paths (species, levels); base (species,) base-regime
    code; u (bars,) up share; vol = node indices of LV, NV, HV. The state bins' shares use the
    species' paths without their phylum factor. Returns node log-probs within
    groups, marginal node probs, normalised group entropies, species probs and the 8 bins
    (TREND_UP, TREND_DN, RANGE, BREAKOUT_UP, BREAKOUT_DN, EXHAUST_REV, LOWVOL, HIGHVOL) for
    base codes 0 TREND, 1 RANGE, 2 BREAKOUT, 3 EXHAUST_REV.
    """
    n, k = logits.shape
    ng = group_size.shape[0]
    ns, nl = paths.shape
    node_lp = np.empty((n, k))
    node_p = np.empty((n, k))
    ent = np.empty((n, ng))
    species = np.empty((n, ns))
    regimes = np.empty((n, 8))
    gmax = np.empty(ng)
    gsum = np.empty(ng)
    glog = np.empty(ng)
    log_size = np.empty(ng)
    for g in range(ng):
        log_size[g] = np.log(group_size[g])
    bsum = np.empty(n_base)
    state = np.empty(ns)
    spec = np.empty(ns)
    e = np.empty(k)
    for t in range(n):
        gmax[:] = -np.inf
        for j in range(k):
            v = logits[t, j] * inv_temp[j]
            node_lp[t, j] = v
            if v > gmax[group[j]]:
                gmax[group[j]] = v
        gsum[:] = 0.0
        for j in range(k):
            x = np.exp(node_lp[t, j] - gmax[group[j]])
            e[j] = x
            gsum[group[j]] += x
        for g in range(ng):
            glog[g] = np.log(gsum[g])
            ent[t, g] = 0.0
        for j in range(k):
            g = group[j]
            lp = node_lp[t, j] - gmax[g] - glog[g]
            node_lp[t, j] = lp
            p = e[j] / gsum[g]
            node_p[t, j] = p
            if p > 0.0:
                ent[t, g] -= p * lp
        for g in range(ng):
            h = ent[t, g] / log_size[g]
            ent[t, g] = min(1.0, max(0.0, h))
        # species and state shares as products of the within-group probabilities (the
        # exponentials of the path log-probs); the log-sum-exp route if they underflow
        tot = 0.0
        btot = 0.0
        for s in range(ns):
            acc = 1.0
            for lvl in range(nl):
                if lvl != 1:
                    acc *= node_p[t, paths[s, lvl]]
            state[s] = acc
            acc *= node_p[t, paths[s, 1]]
            spec[s] = acc
            tot += acc
            btot += state[s]
        for j in range(k):
            if parent[j] >= 0:
                node_p[t, j] *= node_p[t, parent[j]]
        if not (tot > 1e-250 and btot > 1e-250):
            mx = -np.inf
            mx2 = -np.inf
            for s in range(ns):
                acc = 0.0
                for lvl in range(nl):
                    acc += node_lp[t, paths[s, lvl]]
                spec[s] = acc
                if acc > mx:
                    mx = acc
                st = acc - node_lp[t, paths[s, 1]]  # the state path without the phylum
                state[s] = st
                if st > mx2:
                    mx2 = st
            tot = 0.0
            btot = 0.0
            for s in range(ns):
                spec[s] = np.exp(spec[s] - mx)
                tot += spec[s]
                state[s] = np.exp(state[s] - mx2)
                btot += state[s]
        bsum[:] = 0.0
        for s in range(ns):
            species[t, s] = spec[s] / tot
            bsum[base[s]] += state[s]
        p_nv = node_p[t, vol[1]]
        up = u[t]
        regimes[t, 0] = p_nv * bsum[0] / btot * up
        regimes[t, 1] = p_nv * bsum[0] / btot * (1.0 - up)
        regimes[t, 2] = p_nv * bsum[1] / btot
        regimes[t, 3] = p_nv * bsum[2] / btot * up
        regimes[t, 4] = p_nv * bsum[2] / btot * (1.0 - up)
        regimes[t, 5] = p_nv * bsum[3] / btot
        regimes[t, 6] = node_p[t, vol[0]]
        regimes[t, 7] = node_p[t, vol[2]]
    return node_lp, node_p, ent, species, regimes


@njit(cache=True)
def rolling_percentile_nb(x: np.ndarray, window: int, minp: int) -> np.ndarray:
    """Share of the window's valid values that are <= x_t (x_t included); NaN if x_t is NaN."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(n):
        v = x[t]
        if v != v:
            continue
        c = 0
        le = 0
        for i in range(max(0, t - window + 1), t + 1):
            w = x[i]
            if w == w:
                c += 1
                if w <= v:
                    le += 1
        if c >= minp:
            out[t] = le / c
    return out


@njit(cache=True)
def deseason_nb(r: np.ndarray, slot: np.ndarray, n_slots: int, alpha: float) -> np.ndarray:
    """Returns divided by their time-of-day volatility factor, causally.

    ``f_s = sqrt(v_s / v_all)`` with ``v_s`` an EWM (``alpha``) of r^2 over the previous bars of
    slot s and ``v_all`` the mean of the slots' ``v``; a slot seen fewer than 5 times has factor 1.
    One slot (daily bars) gives ``r`` unchanged. NaN stays NaN.
    """
    n = r.shape[0]
    out = np.full(n, np.nan)
    v = np.zeros(n_slots)
    seen = np.zeros(n_slots, dtype=np.int64)
    tot = 0.0  # sum of v over the slots seen >= 5 times
    cnt = 0
    for t in range(n):
        x = r[t]
        if x != x:
            continue
        s = slot[t]
        f = 1.0
        if n_slots > 1 and seen[s] >= 5 and tot > 0.0 and v[s] > 0.0:
            f = np.sqrt(v[s] / (tot / cnt))
        out[t] = x / f
        old = v[s]
        if seen[s] == 0:
            v[s] = x * x
        else:
            v[s] = (1.0 - alpha) * v[s] + alpha * x * x
        seen[s] += 1
        if seen[s] == 5:
            tot += v[s]
            cnt += 1
        elif seen[s] > 5:
            tot += v[s] - old
    return out


@njit(cache=True)
def vol_levels_nb(
    r: np.ndarray, a_fast: float, a_slow: float, a_ref: float, clip: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(log(s_fast / s_ref), log(s_slow / s_ref), z)`` from EWM volatilities of r.

    Each ``s^2`` is an EWM of ``min(r^2, (clip * s_slow_(t-1))^2)`` (a jump counts at most
    ``clip`` slow sigmas), started at the first valid r^2. ``z = r / s_slow_(t-1)`` clipped to
    ``+-clip``: the return standardised by the volatility known before it (0 until a positive
    volatility is known). NaN r keeps the state (outputs NaN).
    """
    n = r.shape[0]
    fast = np.full(n, np.nan)
    slow = np.full(n, np.nan)
    wins = np.full(n, np.nan)
    vf = 0.0
    vs = 0.0
    vr = 0.0
    started = False
    for t in range(n):
        x = r[t]
        if x != x:
            continue
        q = x * x
        if started and vs > 0.0:
            zz = x / np.sqrt(vs)
            wins[t] = min(clip, max(-clip, zz))
        else:
            wins[t] = 0.0
        if not started:
            vf = q
            vs = q
            vr = q
            started = True
        else:
            cap = clip * clip * vs
            if vs > 0.0 and q > cap:
                q = cap
            vf = (1.0 - a_fast) * vf + a_fast * q
            vs = (1.0 - a_slow) * vs + a_slow * q
            vr = (1.0 - a_ref) * vr + a_ref * q
        if vr > 0.0 and vf > 0.0 and vs > 0.0:
            fast[t] = 0.5 * np.log(vf / vr)
            slow[t] = 0.5 * np.log(vs / vr)
        else:
            fast[t] = 0.0
            slow[t] = 0.0
    return fast, slow, wins


@njit(cache=True)
def dominant_nb(p: np.ndarray, margin: float) -> np.ndarray:
    """Dominant column per row with hysteresis: switch only when another column beats the
    current one by more than ``margin``. Rows with NaN give -1 (and reset the state)."""
    n, k = p.shape
    out = np.full(n, -1, dtype=np.int64)
    cur = -1
    for t in range(n):
        best = 0
        ok = True
        for j in range(k):
            if p[t, j] != p[t, j]:
                ok = False
                break
            if p[t, j] > p[t, best]:
                best = j
        if not ok:
            cur = -1
            continue
        if cur < 0 or p[t, best] > p[t, cur] + margin:
            cur = best
        out[t] = cur
    return out
