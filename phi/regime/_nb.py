"""Numba kernels of the regime engine: arrays in, arrays out, causal (bar t reads bars <= t).

Rolling windows count only non-NaN values (like pandas' ``min_periods``); a window with fewer
than ``minp`` valid values gives NaN. Every kernel walks the bars in order and sums each
window afresh (or re-sums it every ``window`` bars), so the value at bar t does not depend on
what follows t. The rolling median/MAD, the robust z-scores and the per-bar expert weights and
mixer core are in :mod:`phi.regime._rolling_nb`.
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
    mean = np.empty(n)
    std = np.empty(n)
    rolling_mean_std_into_nb(x, window, minp, ddof, mean, std)
    return mean, std


@njit(cache=True)
def rolling_mean_std_into_nb(
    x: np.ndarray, window: int, minp: int, ddof: int, mean: np.ndarray, std: np.ndarray
) -> None:
    """:func:`rolling_mean_std_nb` written into ``mean`` and ``std`` (arrays of x's length)."""
    n = x.shape[0]
    mean[:] = np.nan
    std[:] = np.nan
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


@njit(cache=True, fastmath={"reassoc", "contract", "nsz", "arcp"})
def rolling_corr_nb(x: np.ndarray, y: np.ndarray, window: int, minp: int) -> np.ndarray:
    """Rolling Pearson correlation over the pairs where both are valid; 0 if either is flat.

    Each window is summed in two passes; the sums may be reordered (SIMD, fastmath without
    the NaN / inf assumptions), so they differ from sequential sums by a few ulps; the value
    at bar t still reads only that window (the same for any number of later bars)."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    bad = 0  # pairs in the window with a NaN: none -> the same sums without the tests
    for t in range(n):
        lo = max(0, t - window + 1)
        bad += not (x[t] == x[t] and y[t] == y[t])
        if t >= window:
            bad -= not (x[t - window] == x[t - window] and y[t - window] == y[t - window])
        sx = 0.0
        sy = 0.0
        c = 0
        if bad == 0:
            for i in range(lo, t + 1):
                sx += x[i]
                sy += y[i]
            c = t + 1 - lo
        else:
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
        if bad == 0:
            for i in range(lo, t + 1):
                dx = x[i] - mx
                dy = y[i] - my
                sxx += dx * dx
                syy += dy * dy
                sxy += dx * dy
        else:
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
def project_nb(
    x: np.ndarray, probs: np.ndarray, par: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mixture mean and variance of per-regime AR(1) one-step projections (see projections.py).

    x (bars, experts); probs (bars, regimes); NaN in either counts as 0. par (regimes, 4) =
    mu, phi, beta, sigma.
    """
    n, k = x.shape
    nr = probs.shape[1]
    exp_ = np.empty((n, k), dtype=np.float32)
    var = np.empty((n, k), dtype=np.float32)
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
    node_lp: np.ndarray,
    node_p: np.ndarray,
    ent: np.ndarray,
    species: np.ndarray,
    regimes: np.ndarray,
) -> None:
    """The probability field in one pass per bar (see probability_field.py), into the
    caller's arrays (numpy allocates them: huge pages where the OS offers them, fewer page
    faults than numba's allocator on long inputs).

    logits (bars, nodes); inv_temp, group, parent (nodes,): 1 / temperature, sibling group and
    parent node (-1: none) of each node; paths (species, levels); base (species,) base-regime
    code; u (bars,) up share; vol = node indices of LV, NV, HV. The state bins' shares use the
    species' paths without their phylum factor. Writes node log-probs within groups
    (node_lp; 0 rows: not stored), marginal node probs, normalised group entropies, species
    probs (these four float32: computed in float64, rounded when stored) and the 8 bins
    (float64) (TREND_UP, TREND_DN, RANGE, BREAKOUT_UP, BREAKOUT_DN, EXHAUST_REV, LOWVOL,
    HIGHVOL) for base codes 0 TREND, 1 RANGE, 2 BREAKOUT, 3 EXHAUST_REV.
    """
    n, k = logits.shape
    ng = group_size.shape[0]
    ns, nl = paths.shape
    keep_lp = node_lp.shape[0] > 0
    lp_row = np.empty(k)
    p_row = np.empty(k)
    h_row = np.empty(ng)
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
            lp_row[j] = v
            if v > gmax[group[j]]:
                gmax[group[j]] = v
        gsum[:] = 0.0
        for j in range(k):
            x = np.exp(lp_row[j] - gmax[group[j]])
            e[j] = x
            gsum[group[j]] += x
        for g in range(ng):
            glog[g] = np.log(gsum[g])
            h_row[g] = 0.0
        for j in range(k):
            g = group[j]
            lp = lp_row[j] - gmax[g] - glog[g]
            lp_row[j] = lp
            p = e[j] / gsum[g]
            p_row[j] = p
            if p > 0.0:
                h_row[g] -= p * lp
        for g in range(ng):
            h = h_row[g] / log_size[g]
            ent[t, g] = min(1.0, max(0.0, h))
        # species and state shares as products of the within-group probabilities (the
        # exponentials of the path log-probs); the log-sum-exp route if they underflow
        tot = 0.0
        btot = 0.0
        for s in range(ns):
            acc = 1.0
            for lvl in range(nl):
                if lvl != 1:
                    acc *= p_row[paths[s, lvl]]
            state[s] = acc
            acc *= p_row[paths[s, 1]]
            spec[s] = acc
            tot += acc
            btot += state[s]
        for j in range(k):
            if parent[j] >= 0:
                p_row[j] *= p_row[parent[j]]
        if not (tot > 1e-250 and btot > 1e-250):
            mx = -np.inf
            mx2 = -np.inf
            for s in range(ns):
                acc = 0.0
                for lvl in range(nl):
                    acc += lp_row[paths[s, lvl]]
                spec[s] = acc
                if acc > mx:
                    mx = acc
                st = acc - lp_row[paths[s, 1]]  # the state path without the phylum
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
        p_nv = p_row[vol[1]]
        up = u[t]
        regimes[t, 0] = p_nv * bsum[0] / btot * up
        regimes[t, 1] = p_nv * bsum[0] / btot * (1.0 - up)
        regimes[t, 2] = p_nv * bsum[1] / btot
        regimes[t, 3] = p_nv * bsum[2] / btot * up
        regimes[t, 4] = p_nv * bsum[2] / btot * (1.0 - up)
        regimes[t, 5] = p_nv * bsum[3] / btot
        regimes[t, 6] = p_row[vol[0]]
        regimes[t, 7] = p_row[vol[2]]
        for j in range(k):
            node_p[t, j] = p_row[j]
        if keep_lp:
            for j in range(k):
                node_lp[t, j] = lp_row[j]


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
    fast = np.empty(n)
    slow = np.empty(n)
    wins = np.empty(n)
    vol_levels_into_nb(r, a_fast, a_slow, a_ref, clip, fast, slow, wins)
    return fast, slow, wins


@njit(cache=True)
def vol_levels_into_nb(
    r: np.ndarray,
    a_fast: float,
    a_slow: float,
    a_ref: float,
    clip: float,
    fast: np.ndarray,
    slow: np.ndarray,
    wins: np.ndarray,
) -> None:
    """:func:`vol_levels_nb` written into ``fast``, ``slow`` and ``wins`` (arrays of r's
    length; ``fast`` and ``slow`` may both be empty: only ``wins`` is wanted)."""
    n = r.shape[0]
    levels = fast.shape[0] > 0
    wins[:] = np.nan
    if levels:
        fast[:] = np.nan
        slow[:] = np.nan
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
        if not levels:
            continue
        if vr > 0.0 and vf > 0.0 and vs > 0.0:
            fast[t] = 0.5 * np.log(vf / vr)
            slow[t] = 0.5 * np.log(vs / vr)
        else:
            fast[t] = 0.0
            slow[t] = 0.0


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


@njit(cache=True)
def energy_logits_nb(
    z: np.ndarray,
    gamma: np.ndarray,
    mass: int,
    a_ptr: np.ndarray,
    a_idx: np.ndarray,
    a_val: np.ndarray,
    lv: np.ndarray,
    b_ptr: np.ndarray,
    b_idx: np.ndarray,
    b_val: np.ndarray,
    bias: np.ndarray,
    eta: np.ndarray,
    cls: np.ndarray,
    parent: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Energies (float32) and sticky logits (float64) of every node in one pass per bar.

    ``E = tanh(gamma z) @ alpha + lv @ beta + bias`` (NaN z or lv counts as 0; column ``mass``
    (-1: none) uses the gate ``1 - tanh(gamma |z|)``); ``l_t = (1 - eta) l_(t-1) + eta E_t``
    (``l_0 = E_0``); the class nodes ``cls`` then have their energies scaled by
    ``sigmoid(l_t[parent])`` (their kingdom's logit) before their own sticky step. The same
    sums, in the same order, as the array version (gates, two row products, bias). alpha
    (features x nodes) and beta (levels x nodes) come as compressed rows: row i's non-zero
    entries are ``val[ptr[i]:ptr[i + 1]]`` in the columns ``idx[...]`` (a skipped zero term
    changes no sum).
    """
    n, m = z.shape
    k = bias.shape[0]
    nl = lv.shape[1]
    energy = np.empty((n, k), dtype=np.float32)
    logits = np.empty((n, k))
    e1 = np.empty(k)
    e2 = np.empty(k)
    prev = np.empty(k)
    cur = np.empty(k)
    for t in range(n):
        e1[:] = 0.0
        for i in range(m):
            v = z[t, i]
            if v != v:
                v = 0.0
            # tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2 |x|): 4x faster than libm's tanh
            x = v * gamma[i]
            q = np.exp(-2.0 * abs(x))
            th = (1.0 - q) / (1.0 + q)
            sth = th if x >= 0.0 else -th
            g = (1.0 - (th if gamma[i] >= 0.0 else -th)) if i == mass else sth
            if g != 0.0:
                for p in range(a_ptr[i], a_ptr[i + 1]):
                    e1[a_idx[p]] += g * a_val[p]
        e2[:] = 0.0
        for i in range(nl):
            v = lv[t, i]
            if v == v and v != 0.0:
                for p in range(b_ptr[i], b_ptr[i + 1]):
                    e2[b_idx[p]] += v * b_val[p]
        for j in range(k):
            e1[j] = e1[j] + e2[j] + bias[j]
            cur[j] = e1[j] if t == 0 else (1.0 - eta[j]) * prev[j] + eta[j] * e1[j]
        for c in range(cls.shape[0]):
            j = cls[c]
            x = cur[parent[c]]
            q = np.exp(-abs(x))
            s = 1.0 / (1.0 + q) if x >= 0.0 else q / (1.0 + q)
            e1[j] = e1[j] * s
            cur[j] = e1[j] if t == 0 else (1.0 - eta[j]) * prev[j] + eta[j] * e1[j]
        for j in range(k):
            energy[t, j] = e1[j]
            logits[t, j] = cur[j]
            prev[j] = cur[j]
    return energy, logits


@njit(cache=True)
def entropy_rows_nb(p: np.ndarray) -> np.ndarray:
    """Normalised Shannon entropy ``-sum p ln p / ln k`` of each row of p (bars, k), clipped
    to [0, 1]; terms with p <= 0 (or NaN) count as 0."""
    n, k = p.shape
    out = np.empty(n)
    norm = np.log(k)
    for t in range(n):
        h = 0.0
        for j in range(k):
            v = p[t, j]
            if v > 0.0:
                h -= v * np.log(v)
        out[t] = min(1.0, max(0.0, h / norm))
    return out
