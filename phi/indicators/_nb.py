"""Numba kernels for the indicator registry: arrays in, arrays out.

Kernels for TA-Lib functions reproduce TA-Lib's algorithm (same seeds, same running sums,
same order of operations, same zero tests), so that their output equals TA-Lib's to a few
ulps, flat and adversarial data included. ``fastmath={"arcp"}`` (division by a loop
constant as a multiplication by its reciprocal) is what TA-Lib 0.8's RSI does: with it RSI
matches TA-Lib bit for bit; EMA, MACD line, ADX, +DI, -DI, MOM, ROC, MAX and MIN are
bit-identical too, SMA and the rest within ~1e-13 relative. Outputs have the input's length and are NaN during the
warm-up (TA-Lib's "lookback"). Kernels take float64 arrays without NaN (validation is the
wrapper's job) and are causal: the value at bar ``t`` reads bars ``<= t`` only, and the
operations done for bar ``t`` do not depend on later bars, so a prefix of the data gives
bit-identical values.

Rolling sums outside TA-Lib (VWAP, CMF, volume balance, rolling RMS) are running sums that
are recomputed exactly over the window when cancellation threatens (the value leaving the
window dominates what remains) and every ``_refresh(period)`` bars, so a huge bar leaves no
residue and an all-zero window sums to exactly 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# TA-Lib's TA_EPSILON: TA_IS_ZERO(v) is -eps < v < eps, TA_IS_ZERO_OR_NEG(v) is v < eps.
TA_EPSILON = 1e-14
# A running sum is recomputed when the value leaving it is GUARD times what remains.
GUARD = 100.0
_ARCP = {"arcp"}


@njit(cache=True)
def _nan_head(n, head):
    """An uninitialised float64 array of length ``n`` whose first ``head`` values are NaN."""
    out = np.empty(n)
    for i in range(min(head, n)):
        out[i] = np.nan
    return out


@njit(cache=True)
def _refresh(period):
    return max(period, 512)


# ---------------------------------------------------------------------------- moving averages


@njit(cache=True, nogil=True, fastmath=_ARCP)
def sma_nb(x, period, start):
    """TA-Lib SMA of ``x[start:]`` (running sum); first value at ``start + period - 1``."""
    n = x.shape[0]
    first = start + period - 1
    out = _nan_head(n, first)
    if first >= n:
        return out
    total = 0.0
    for i in range(start, first):
        total += x[i]
    for i in range(first, n):
        total += x[i]
        tmp = total
        total -= x[i - period + 1]
        out[i] = tmp / period
    return out


@njit(cache=True, nogil=True, parallel=True)
def averages_into_nb(x, windows, simple, table, row0):
    """Row ``row0 + i`` of ``table`` = :func:`sma_nb` (``simple``) or the EMA of
    :func:`ema_nb` (factor ``2 / (w + 1)``, seeded at bar ``w - 1``) of ``x`` for window
    ``w = windows[i]``: the very kernels, called from here (one call and the windows in parallel
    instead of one Python call each)."""
    for i in prange(windows.shape[0]):
        w = windows[i]
        if simple:
            table[row0 + i, :] = sma_nb(x, w, 0)
        else:
            table[row0 + i, :] = ema_nb(x, w, 2.0 / (w + 1), w - 1)


@njit(cache=True)
def rolling_mean_nb(x, period, start):
    """Mean of the last ``period`` values of ``x[start:]``, by a compensated running sum.

    Kahan-Babuska compensation keeps the error at a few ulps of the current window even
    after the values fall by orders of magnitude (a plain running sum, as TA-Lib's SMA,
    keeps an absolute residue of the largest values it has seen).
    """
    n = x.shape[0]
    out = _nan_head(n, start + period - 1)
    total = 0.0
    comp = 0.0
    for i in range(start, n):
        v = x[i]
        t = total + v
        if abs(total) >= abs(v):
            comp += (total - t) + v
        else:
            comp += (v - t) + total
        total = t
        if i - start >= period:
            v = -x[i - period]
            t = total + v
            if abs(total) >= abs(v):
                comp += (total - t) + v
            else:
                comp += (v - t) + total
            total = t
        if i - start >= period - 1:
            out[i] = (total + comp) / period
    return out


@njit(cache=True, nogil=True, fastmath=_ARCP)
def ema_nb(x, period, k, first):
    """TA-Lib EMA with factor ``k``, seeded at bar ``first`` by the SMA of ``x[first-period+1 : first+1]``."""
    n = x.shape[0]
    out = _nan_head(n, first)
    if first >= n:
        return out
    total = 0.0
    for i in range(first - period + 1, first + 1):
        total += x[i]
    prev = total / period
    out[first] = prev
    for i in range(first + 1, n):
        prev = ((x[i] - prev) * k) + prev
        out[i] = prev
    return out


@njit(cache=True, nogil=True, fastmath=_ARCP)
def macd_nb(x, fast, slow, signal):
    """TA-Lib MACD; returns macd, signal, hist (NaN before bar ``slow + signal - 2``).

    As TA-Lib, both EMAs are seeded at bar ``slow - 1``: the slow one with the SMA of the
    first ``slow`` closes, the fast one with the SMA of the ``fast`` closes ending there; the
    signal EMA is seeded with the SMA of the first ``signal`` MACD values.
    """
    n = x.shape[0]
    start = slow - 1
    lookback = start + signal - 1
    macd = _nan_head(n, lookback)
    sig = _nan_head(n, lookback)
    hist = _nan_head(n, lookback)
    if lookback >= n:
        return macd, sig, hist
    k_slow = 2.0 / (slow + 1)
    k_fast = 2.0 / (fast + 1)
    k_sig = 2.0 / (signal + 1)
    total = 0.0
    for i in range(0, slow):
        total += x[i]
    e_slow = total / slow
    total = 0.0
    for i in range(slow - fast, slow):
        total += x[i]
    e_fast = total / fast
    s_total = e_fast - e_slow
    for i in range(slow, lookback + 1):
        xi = x[i]
        e_slow = ((xi - e_slow) * k_slow) + e_slow
        e_fast = ((xi - e_fast) * k_fast) + e_fast
        s_total += e_fast - e_slow
    line = e_fast - e_slow
    s = s_total / signal
    macd[lookback] = line
    sig[lookback] = s
    hist[lookback] = line - s
    for i in range(lookback + 1, n):
        xi = x[i]
        e_slow = ((xi - e_slow) * k_slow) + e_slow
        e_fast = ((xi - e_fast) * k_fast) + e_fast
        line = e_fast - e_slow
        s = ((line - s) * k_sig) + s
        macd[i] = line
        sig[i] = s
        hist[i] = line - s
    return macd, sig, hist


# ---------------------------------------------------------------------------- oscillators


@njit(cache=True, fastmath=_ARCP)
def rsi_nb(x, period, with_move):
    """TA-Lib RSI (Wilder). Returns (rsi, avg_gain + avg_loss); rsi is 0 where that sum is 0.

    The second array is empty unless ``with_move``.
    """
    n = x.shape[0]
    out = _nan_head(n, period)
    move = _nan_head(n if with_move else 0, period)
    if period >= n:
        return out, move
    prev_value = x[0]
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        d = x[i] - prev_value
        prev_value = x[i]
        if d < 0.0:
            loss -= d
        else:
            gain += d
    loss /= period
    gain /= period
    s = gain + loss
    out[period] = 100.0 * (gain / s) if s != 0.0 else 0.0
    if with_move:
        move[period] = s
    pm1 = period - 1.0
    for i in range(period + 1, n):
        # branch-free (adding 0.0 changes nothing): up and down moves are ~50/50
        d = x[i] - prev_value
        prev_value = x[i]
        loss = (loss * pm1 - min(d, 0.0)) / period
        gain = (gain * pm1 + max(d, 0.0)) / period
        s = gain + loss
        out[i] = 100.0 * (gain / s) if s != 0.0 else 0.0
        if with_move:
            move[i] = s
    return out, move


@njit(cache=True, fastmath=_ARCP)
def bbands_nb(x, period, nbdev):
    """TA-Lib BBANDS (SMA middle band, population std); returns upper, middle, lower.

    The middle band is TA-Lib's running-sum SMA. The std uses running sums of deviations
    from a shift ``k``; they are recomputed exactly, with ``k`` re-centred on the window,
    whenever cancellation threatens (the value leaving the window dominates what remains,
    or ``k`` drifted far from the mean relative to the spread) and every ``_refresh`` bars.
    Flat stretches give exactly 0 and a huge bar leaves no residue once it has left the
    window, as in TA-Lib >= 0.6 (matched to ~1e-12 relative; older TA-Lib used a raw running
    sum of squares, which does neither).

    One convention of ours: a window whose std is below ``sqrt(TA_EPSILON) = 1e-7`` of its mean
    counts as flat (std 0, the bands on the middle), at any price scale; TA-Lib reports the
    std down to the rounding level there (e.g. ~1e-9 of the price for closes that differ in the
    ninth digit), which no real tick size produces.
    """
    n = x.shape[0]
    first = period - 1
    upper = _nan_head(n, first)
    middle = _nan_head(n, first)
    lower = _nan_head(n, first)
    if first >= n:
        return upper, middle, lower
    inv_p = 1.0 / period
    refresh = _refresh(period)
    total = 0.0
    k = x[0]
    s1 = 0.0
    s2 = 0.0
    for i in range(0, first):
        total += x[i]
        d = x[i] - k
        s1 += d
        s2 += d * d
    since = 0
    for i in range(first, n):
        xi = x[i]
        total += xi
        mid = total / period
        total -= x[i - first]
        d = xi - k
        s1 += d
        s2 += d * d
        recompute = since >= refresh
        if i >= period:
            d_old = x[i - period] - k
            s1 -= d_old
            s2 -= d_old * d_old
            if d_old * d_old > 1e3 * s2:
                recompute = True
        off2 = s1 * s1 * inv_p
        if off2 > 1e4 * (s2 - off2):
            recompute = True
        if recompute:
            m = 0.0
            for j in range(i - first, i + 1):
                m += x[j]
            k = m * inv_p
            s1 = 0.0
            s2 = 0.0
            for j in range(i - first, i + 1):
                d = x[j] - k
                s1 += d
                s2 += d * d
            off2 = s1 * s1 * inv_p
            since = 0
        since += 1
        var = (s2 - off2) * inv_p
        sd = np.sqrt(var) if var > TA_EPSILON * mid * mid else 0.0
        dev = sd if nbdev == 1.0 else sd * nbdev
        middle[i] = mid
        upper[i] = mid + dev
        lower[i] = mid - dev
    return upper, middle, lower


def _rolling_extreme_kernel(pick):
    """A rolling-extreme kernel (``pick`` = ``max`` or ``min``) over ``period`` bars, current
    bar included.

    Van Herk / Gil-Werman: blocks of ``period`` bars; a window ending inside block b+1 is the
    suffix extreme of block b joined with the prefix extreme of block b+1. O(n) whatever the
    data (a falling market does not make it rescan), exact. One kernel per ``pick`` so that
    the comparison compiles to a branch-free min/max instruction.
    """

    @njit(cache=True)
    def kernel(x, period):
        n = x.shape[0]
        out = _nan_head(n, period - 1)
        buf = np.empty(period)
        b0 = 0
        while b0 + period - 1 < n:
            e = b0 + period
            m = x[e - 1]
            buf[period - 1] = m
            for j in range(period - 2, -1, -1):
                m = pick(x[b0 + j], m)
                buf[j] = m
            out[e - 1] = m
            stop = min(e + period - 1, n)
            if e < stop:  # the windows ending in the next block (period >= 2 here)
                m = x[e]
                out[e] = pick(buf[1], m)
                for i in range(e + 1, stop):
                    m = pick(x[i], m)
                    out[i] = pick(buf[i - e + 1], m)
            b0 = e
        return out

    return kernel


# TA-Lib MAX / MIN: highest / lowest value of the last ``period`` bars (current included).
rolling_max_nb = _rolling_extreme_kernel(max)
rolling_min_nb = _rolling_extreme_kernel(min)


@njit(cache=True, fastmath=_ARCP)
def stoch_nb(high, low, close, fastk, slowk, slowd, flat_value):
    """TA-Lib STOCH with SMA smoothing; returns slow %K, slow %D.

    Fast %K is ``(close - lowest) / ((highest - lowest) / 100)`` over ``fastk`` bars; where the
    range is 0 TA-Lib writes 0, this kernel writes ``flat_value`` (0.0 reproduces TA-Lib).
    Slow %K is TA-Lib's running-sum SMA of fast %K from bar ``fastk - 1``, slow %D that of
    slow %K.
    """
    n = close.shape[0]
    lookback = (fastk - 1) + (slowk - 1) + (slowd - 1)
    k_out = _nan_head(n, lookback)
    d_out = _nan_head(n, lookback)
    if lookback >= n:
        return k_out, d_out
    hh = rolling_max_nb(high, fastk)
    ll = rolling_min_nb(low, fastk)
    ring_k = np.empty(slowk)  # the last slowk fast %K values
    ring_d = np.empty(slowd)  # the last slowd slow %K values
    total_k = 0.0
    total_d = 0.0
    for i in range(fastk - 1, n):
        diff = (hh[i] - ll[i]) / 100.0
        fk = (close[i] - ll[i]) / diff if diff != 0.0 else flat_value
        jk = i - (fastk - 1)  # index in the fast %K series
        ring_k[jk % slowk] = fk
        total_k += fk
        if jk < slowk - 1:
            continue
        tmp = total_k
        total_k -= ring_k[(jk + 1) % slowk]  # fast %K of bar jk - slowk + 1
        sk = tmp / slowk
        jd = jk - (slowk - 1)  # index in the slow %K series
        ring_d[jd % slowd] = sk
        total_d += sk
        if jd < slowd - 1:
            continue
        tmp = total_d
        total_d -= ring_d[(jd + 1) % slowd]
        k_out[i] = sk
        d_out[i] = tmp / slowd
    return k_out, d_out


# ---------------------------------------------------------------------------- volatility / trend


@njit(cache=True, inline="always")
def _true_range(high, low, close, i):
    """TA-Lib TRANGE of bar ``i >= 1``: ``max(h - l, |c[i-1] - h|, |c[i-1] - l|)``.

    Computed as ``max(h, c[i-1]) - min(l, c[i-1])``, the same floating-point subtraction in
    each of the three cases (for ``h >= l``), so bit-identical, and branch-free.
    """
    yc = close[i - 1]
    return max(high[i], yc) - min(low[i], yc)


@njit(cache=True, fastmath=_ARCP)
def atr_nb(high, low, close, period):
    """TA-Lib ATR (Wilder): SMA of the first ``period`` true ranges, then Wilder smoothing.

    The smoothing ``atr = a * atr + b * tr`` (a = (p-1)/p, b = 1/p) is applied two bars at a
    time (``atr2 = a^2 * atr + (a*b * tr1 + b * tr2)``, the odd bar by one step from the
    same ``atr``) to halve the dependency chain: within ~2e-15 relative of TA-Lib's one-step
    loop, and, as every value depends only on the pairing fixed by ``period``, causal.
    """
    n = close.shape[0]
    out = _nan_head(n, period)
    if period >= n:
        return out
    total = 0.0
    for i in range(1, period + 1):
        total += _true_range(high, low, close, i)
    prev = total / period
    out[period] = prev
    a = (period - 1.0) / period
    b = 1.0 / period
    a2 = a * a
    ab = a * b
    i = period + 1
    while i + 1 < n:
        t1 = _true_range(high, low, close, i)
        t2 = _true_range(high, low, close, i + 1)
        out[i] = a * prev + b * t1
        prev = a2 * prev + (ab * t1 + b * t2)
        out[i + 1] = prev
        i += 2
    if i < n:
        out[i] = a * prev + b * _true_range(high, low, close, i)
    return out


@njit(cache=True)
def adx_nb(high, low, close, period):
    """TA-Lib PLUS_DI, MINUS_DI (from bar ``period``) and ADX (from bar ``2*period - 1``).

    Where the smoothed true range is 0 TA-Lib writes DI = 0, and where +DI + -DI is 0 it keeps
    the previous ADX. Both tests are exact (TA-Lib >= 0.6, checked down to subnormal ranges):
    an absolute epsilon would depend on the price scale (DI 0 after a long flat stretch at
    $1, but not at $1e6) and part from TA-Lib there.
    """
    n = close.shape[0]
    pdi = _nan_head(n, period)
    mdi = _nan_head(n, period)
    adx = _nan_head(n, 2 * period - 1)
    if period >= n:
        return pdi, mdi, adx
    prev_high = high[0]
    prev_low = low[0]
    prev_close = close[0]
    pdm = 0.0
    mdm = 0.0
    tr = 0.0
    sum_dx = 0.0
    prev_adx = 0.0
    pm1 = period - 1.0
    for today in range(1, n):
        th = high[today]
        tl = low[today]
        diff_p = th - prev_high
        diff_m = prev_low - tl
        prev_high = th
        prev_low = tl
        if today >= period:
            mdm -= mdm / period
            pdm -= pdm / period
        if diff_m > 0 and diff_p < diff_m:
            mdm += diff_m
        elif diff_p > 0 and diff_p > diff_m:
            pdm += diff_p
        rng = th - tl
        t = abs(th - prev_close)
        if t > rng:
            rng = t
        t = abs(tl - prev_close)
        if t > rng:
            rng = t
        if today >= period:
            tr = tr - tr / period + rng
        else:
            tr += rng
        prev_close = close[today]
        if today < period:
            continue
        if tr != 0.0:
            m = 100.0 * (mdm / tr)
            p = 100.0 * (pdm / tr)
            pdi[today] = p
            mdi[today] = m
            s = m + p
            if s != 0.0:
                dx = 100.0 * (abs(m - p) / s)
                if today < 2 * period:
                    sum_dx += dx
                else:
                    prev_adx = (prev_adx * pm1 + dx) / period
        else:
            pdi[today] = 0.0
            mdi[today] = 0.0
        if today == 2 * period - 1:
            prev_adx = sum_dx / period
        if today >= 2 * period - 1:
            adx[today] = prev_adx
    return pdi, mdi, adx


@njit(cache=True)
def mom_nb(x, period):
    """TA-Lib MOM: ``x[t] - x[t - period]``."""
    n = x.shape[0]
    out = _nan_head(n, period)
    for i in range(period, n):
        out[i] = x[i] - x[i - period]
    return out


@njit(cache=True)
def roc_nb(x, period):
    """TA-Lib ROC: ``((x[t] / x[t - period]) - 1) * 100``, 0 where the old value is 0."""
    n = x.shape[0]
    out = _nan_head(n, period)
    for i in range(period, n):
        prev = x[i - period]
        out[i] = ((x[i] / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0
    return out


@njit(cache=True)
def ratio_nb(num, den, start):
    """``num / den`` from bar ``start``; 1.0 where both are 0 (``den`` >= 0, ``num <= den``-scale)."""
    n = num.shape[0]
    out = _nan_head(n, start)
    for i in range(start, n):
        out[i] = num[i] / den[i] if den[i] > 0.0 else 1.0
    return out


@njit(cache=True)
def range_position_nb(close, highest, lowest, start):
    """``(close - lowest) / (highest - lowest)`` from bar ``start``; 0.5 on a zero range."""
    n = close.shape[0]
    out = _nan_head(n, start)
    for i in range(start, n):
        rng = highest[i] - lowest[i]
        out[i] = (close[i] - lowest[i]) / rng if rng > 0.0 else 0.5
    return out


# ---------------------------------------------------------------------------- volume


@njit(cache=True)
def _window_sums(num, weight, lo, hi):
    a = 0.0
    w = 0.0
    for j in range(lo, hi):
        a += num[j]
        w += weight[j]
    return a, w


@njit(cache=True)
def _guarded_sums(num, weight, period, first, guard_num):
    """Rolling sums of ``num`` and ``weight`` (>= 0) over ``period`` bars from bar ``first``.

    Recomputed exactly when the weight leaving the window dominates what remains (and, with
    ``guard_num``, when ``|num|`` leaving does), and every ``_refresh(period)`` bars.
    """
    n = weight.shape[0]
    s_num = np.full(n, np.nan)
    s_w = np.full(n, np.nan)
    if first + period - 1 >= n:
        return s_num, s_w
    a, w = _window_sums(num, weight, first, first + period - 1)
    refresh = _refresh(period)
    since = 0
    for i in range(first + period - 1, n):
        a += num[i]
        w += weight[i]
        if since >= refresh:
            a, w = _window_sums(num, weight, i - period + 1, i + 1)
            since = 0
        since += 1
        s_num[i] = a
        s_w[i] = w
        j = i - period + 1
        a -= num[j]
        w -= weight[j]
        if weight[j] > GUARD * w or (guard_num and abs(num[j]) > GUARD * abs(a)):
            a, w = _window_sums(num, weight, j + 1, i + 1)
            since = 0
    return s_num, s_w


@njit(cache=True)
def cmf_nb(high, low, close, volume, period):
    """Chaikin Money Flow over ``period`` bars; money-flow multiplier as in TA-Lib's AD.

    A bar with ``high == low`` adds no money flow (as AD); a window with zero total volume
    has CMF 0.
    """
    n = close.shape[0]
    mfv = np.zeros(n)
    for i in range(n):
        rng = high[i] - low[i]
        if rng > 0.0:
            mfv[i] = (((close[i] - low[i]) - (high[i] - close[i])) / rng) * volume[i]
    s_mf, s_v = _guarded_sums(mfv, volume, period, 0, False)
    out = _nan_head(n, period - 1)
    for i in range(period - 1, n):
        out[i] = s_mf[i] / s_v[i] if s_v[i] > 0.0 else 0.0
    return out


@njit(cache=True)
def vwap_nb(price, volume, period):
    """Rolling volume-weighted average of ``price`` over ``period`` bars (NaN where volume is 0)."""
    n = price.shape[0]
    s_pv, s_v = _guarded_sums(price * volume, volume, period, 0, True)
    out = np.full(n, np.nan)
    for i in range(period - 1, n):
        if s_v[i] > 0.0:
            out[i] = s_pv[i] / s_v[i]
    return out


@njit(cache=True)
def volume_balance_nb(close, volume, period):
    """(up-volume - down-volume) / volume over the last ``period`` bars, in [-1, 1].

    Up-volume is the volume of bars closing above the previous close, down-volume of bars
    closing below it. First value at bar ``period``; 0 where the window's volume is 0.
    """
    n = close.shape[0]
    signed = np.zeros(n)
    for i in range(1, n):
        if close[i] > close[i - 1]:
            signed[i] = volume[i]
        elif close[i] < close[i - 1]:
            signed[i] = -volume[i]
    s_sig, s_v = _guarded_sums(signed, volume, period, 1, False)
    out = _nan_head(n, period)
    for i in range(period, n):
        v = s_sig[i] / s_v[i] if s_v[i] > 0.0 else 0.0
        out[i] = min(1.0, max(-1.0, v))
    return out


# ---------------------------------------------------------------------------- signal maps


@njit(cache=True, nogil=True)
def rms_scale_nb(x, window, gain):
    """Causal scaling: ``clip(x / (gain * rms), -1, 1)`` with rms over the last ``window`` values.

    ``x`` is NaN during its own warm-up only; the result is NaN until ``window`` values are
    available and 0 where the rolling rms is 0 (a flat market).
    """
    n = x.shape[0]
    first = 0
    while first < n and np.isnan(x[first]):
        first += 1
    out = _nan_head(n, first + window - 1)
    if first + window - 1 >= n:
        return out
    s2 = 0.0
    for j in range(first, first + window - 1):
        s2 += x[j] * x[j]
    refresh = _refresh(window)
    since = 0
    for i in range(first + window - 1, n):
        s2 += x[i] * x[i]
        if since >= refresh:
            s2 = 0.0
            for j in range(i - window + 1, i + 1):
                s2 += x[j] * x[j]
            since = 0
        since += 1
        if s2 > 0.0:
            v = x[i] / (gain * np.sqrt(s2 / window))
            out[i] = 1.0 if v > 1.0 else (-1.0 if v < -1.0 else v)
        else:
            out[i] = 0.0
        old = x[i - window + 1] * x[i - window + 1]
        s2 -= old
        if old > GUARD * s2:
            s2 = 0.0
            for j in range(i - window + 2, i + 1):
                s2 += x[j] * x[j]
            since = 0
    return out
