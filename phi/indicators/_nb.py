"""Numba kernels for the indicator registry: arrays in, arrays out.

Each kernel reproduces TA-Lib's algorithm operation by operation (same seeds, same running
sums, same order of floating-point operations, same zero tests), so that its output equals
TA-Lib's to a few ulps, flat and adversarial data included. Outputs have the input's length,
NaN during the warm-up (TA-Lib's "lookback"). Kernels take float64 arrays without NaN;
validation is the wrapper's job. Every kernel is causal: the value at bar ``t`` reads bars
``<= t`` only, so computing on a prefix of the data gives bit-identical values.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# TA-Lib's TA_EPSILON: TA_IS_ZERO(v) is -eps < v < eps, TA_IS_ZERO_OR_NEG(v) is v < eps.
TA_EPSILON = 1e-14


# ---------------------------------------------------------------------------- moving averages


@njit(cache=True)
def sma_nb(x, period, start):
    """TA-Lib SMA of ``x[start:]`` (running sum); first value at ``start + period - 1``."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    first = start + period - 1
    if first >= n:
        return out
    total = 0.0
    for i in range(start, first):
        total += x[i]
    trailing = start
    for i in range(first, n):
        total += x[i]
        tmp = total
        total -= x[trailing]
        trailing += 1
        out[i] = tmp / period
    return out


@njit(cache=True)
def rolling_mean_nb(x, period, start):
    """Mean of the last ``period`` values of ``x[start:]``, by a compensated running sum.

    Kahan-Babuska compensation keeps the error at a few ulps of the current window even
    after the values fall by orders of magnitude (a plain running sum, as TA-Lib's SMA,
    keeps an absolute residue of the largest values it has seen).
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
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


@njit(cache=True)
def ema_nb(x, period, k, first):
    """TA-Lib EMA with factor ``k``, seeded at bar ``first`` by the SMA of ``x[first-period+1 : first+1]``."""
    n = x.shape[0]
    out = np.full(n, np.nan)
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


@njit(cache=True)
def macd_nb(x, fast, slow, signal):
    """TA-Lib MACD (EMA fast/slow, both seeded at bar ``slow - 1``); returns macd, signal, hist."""
    n = x.shape[0]
    macd = np.full(n, np.nan)
    sig = np.full(n, np.nan)
    hist = np.full(n, np.nan)
    start = slow - 1
    lookback = start + signal - 1
    if lookback >= n:
        return macd, sig, hist
    ema_slow = ema_nb(x, slow, 2.0 / (slow + 1), start)
    ema_fast = ema_nb(x, fast, 2.0 / (fast + 1), start)
    line = np.full(n, np.nan)
    for i in range(start, n):
        line[i] = ema_fast[i] - ema_slow[i]
    sline = ema_nb(line, signal, 2.0 / (signal + 1), lookback)
    for i in range(lookback, n):
        macd[i] = line[i]
        sig[i] = sline[i]
        hist[i] = line[i] - sline[i]
    return macd, sig, hist


# ---------------------------------------------------------------------------- oscillators


@njit(cache=True)
def rsi_nb(x, period):
    """TA-Lib RSI (Wilder). Returns (rsi, avg_gain + avg_loss); rsi is 0 where that sum is 0."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    denom = np.full(n, np.nan)
    if period >= n:
        return out, denom
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
    denom[period] = s
    out[period] = 100.0 * (gain / s) if s != 0.0 else 0.0
    for i in range(period + 1, n):
        d = x[i] - prev_value
        prev_value = x[i]
        loss *= period - 1
        gain *= period - 1
        if d < 0.0:
            loss -= d
        else:
            gain += d
        loss /= period
        gain /= period
        s = gain + loss
        denom[i] = s
        out[i] = 100.0 * (gain / s) if s != 0.0 else 0.0
    return out, denom


@njit(cache=True)
def _nan_head(n, head):
    out = np.empty(n)
    out[: min(head, n)] = np.nan
    return out


@njit(cache=True)
def bbands_nb(x, period, nbdev):
    """TA-Lib BBANDS (SMA middle band, population std); returns upper, middle, lower.

    The middle band is TA-Lib's running-sum SMA. The std uses running sums of deviations
    from a shift ``k``; they are recomputed exactly, with ``k`` re-centred on the window,
    whenever cancellation threatens (the value leaving the window dominates what remains,
    or ``k`` drifted far from the mean relative to the spread) and every max(period, 1024)
    bars to bound round-off drift. Flat stretches give exactly 0 and a huge bar leaves no
    residue once it has left the window, as in TA-Lib >= 0.6 (matched to ~1e-12 relative;
    older TA-Lib used a raw running sum of squares, which does neither).
    """
    n = x.shape[0]
    first = period - 1
    upper = _nan_head(n, first)
    middle = _nan_head(n, first)
    lower = _nan_head(n, first)
    if first >= n:
        return upper, middle, lower
    inv_p = 1.0 / period
    refresh = max(period, 1024)
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


@njit(cache=True)
def rolling_max_nb(x, period):
    """TA-Lib MAX: highest value of the last ``period`` bars (current included)."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    if period - 1 >= n:
        return out
    highest_idx = -1
    highest = 0.0
    for today in range(period - 1, n):
        trailing = today - period + 1
        tmp = x[today]
        if highest_idx < trailing:
            highest_idx = trailing
            highest = x[highest_idx]
            for i in range(highest_idx + 1, today + 1):
                if x[i] >= highest:
                    highest_idx = i
                    highest = x[i]
        elif tmp >= highest:
            highest_idx = today
            highest = tmp
        out[today] = highest
    return out


@njit(cache=True)
def rolling_min_nb(x, period):
    """TA-Lib MIN: lowest value of the last ``period`` bars (current included)."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    if period - 1 >= n:
        return out
    lowest_idx = -1
    lowest = 0.0
    for today in range(period - 1, n):
        trailing = today - period + 1
        tmp = x[today]
        if lowest_idx < trailing:
            lowest_idx = trailing
            lowest = x[lowest_idx]
            for i in range(lowest_idx + 1, today + 1):
                if x[i] <= lowest:
                    lowest_idx = i
                    lowest = x[i]
        elif tmp <= lowest:
            lowest_idx = today
            lowest = tmp
        out[today] = lowest
    return out


@njit(cache=True)
def stoch_nb(high, low, close, fastk, slowk, slowd, flat_value):
    """TA-Lib STOCH with SMA smoothing; returns slow %K, slow %D.

    Fast %K is ``(close - lowest) / ((highest - lowest) / 100)`` over ``fastk`` bars; where the
    range is 0 TA-Lib writes 0, this kernel writes ``flat_value`` (0.0 reproduces TA-Lib).
    """
    n = close.shape[0]
    k_out = np.full(n, np.nan)
    d_out = np.full(n, np.nan)
    lookback = (fastk - 1) + (slowk - 1) + (slowd - 1)
    if lookback >= n:
        return k_out, d_out
    hh = rolling_max_nb(high, fastk)
    ll = rolling_min_nb(low, fastk)
    fk = np.full(n, np.nan)
    for i in range(fastk - 1, n):
        diff = (hh[i] - ll[i]) / 100.0
        if diff != 0.0:
            fk[i] = (close[i] - ll[i]) / diff
        else:
            fk[i] = flat_value
    sk = sma_nb(fk, slowk, fastk - 1)
    sd = sma_nb(sk, slowd, fastk + slowk - 2)
    for i in range(lookback, n):
        k_out[i] = sk[i]
        d_out[i] = sd[i]
    return k_out, d_out


# ---------------------------------------------------------------------------- volatility / trend


@njit(cache=True)
def true_range_nb(high, low, close):
    """TA-Lib TRANGE; bar 0 has no previous close and is NaN."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    for i in range(1, n):
        th = high[i]
        tl = low[i]
        yc = close[i - 1]
        greatest = th - tl
        v2 = abs(yc - th)
        if v2 > greatest:
            greatest = v2
        v3 = abs(yc - tl)
        if v3 > greatest:
            greatest = v3
        out[i] = greatest
    return out


@njit(cache=True)
def atr_nb(high, low, close, period):
    """TA-Lib ATR (Wilder): SMA of the first ``period`` true ranges, then Wilder smoothing."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    if period >= n:
        return out
    tr = true_range_nb(high, low, close)
    if period == 1:
        return tr
    total = 0.0
    for i in range(1, period + 1):
        total += tr[i]
    prev = total / period
    out[period] = prev
    for i in range(period + 1, n):
        prev *= period - 1
        prev += tr[i]
        prev /= period
        out[i] = prev
    return out


@njit(cache=True)
def adx_nb(high, low, close, period):
    """TA-Lib PLUS_DI, MINUS_DI (from bar ``period``) and ADX (from bar ``2*period - 1``).

    Where the smoothed true range is ~0 TA-Lib writes DI = 0 and keeps the previous ADX.
    """
    n = close.shape[0]
    pdi = np.full(n, np.nan)
    mdi = np.full(n, np.nan)
    adx = np.full(n, np.nan)
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
        tr_zero = -TA_EPSILON < tr < TA_EPSILON
        if not tr_zero:
            m = 100.0 * (mdm / tr)
            p = 100.0 * (pdm / tr)
            pdi[today] = p
            mdi[today] = m
            s = m + p
            if not (-TA_EPSILON < s < TA_EPSILON):
                dx = 100.0 * (abs(m - p) / s)
                if today < 2 * period:
                    sum_dx += dx
                else:
                    prev_adx = (prev_adx * (period - 1) + dx) / period
        else:
            pdi[today] = 0.0
            mdi[today] = 0.0
        if today == 2 * period - 1:
            prev_adx = sum_dx / period
        if today >= 2 * period - 1:
            adx[today] = prev_adx
    return pdi, mdi, adx


# ---------------------------------------------------------------------------- volume


@njit(cache=True)
def cmf_nb(high, low, close, volume, period):
    """Chaikin Money Flow over ``period`` bars; money-flow multiplier as in TA-Lib's AD.

    Returns (cmf, money-flow volume). A bar with ``high == low`` adds no money flow (as AD);
    a window with zero total volume has CMF 0.
    """
    n = close.shape[0]
    mfv = np.zeros(n)
    for i in range(n):
        rng = high[i] - low[i]
        if rng > 0.0:
            mfv[i] = (((close[i] - low[i]) - (high[i] - close[i])) / rng) * volume[i]
    out = np.full(n, np.nan)
    for i in range(period - 1, n):
        s_mf = 0.0
        s_v = 0.0
        for j in range(i - period + 1, i + 1):
            s_mf += mfv[j]
            s_v += volume[j]
        out[i] = s_mf / s_v if s_v > 0.0 else 0.0
    return out, mfv


@njit(cache=True)
def vwap_nb(price, volume, period):
    """Rolling volume-weighted average of ``price`` over ``period`` bars (NaN where volume is 0)."""
    n = price.shape[0]
    out = np.full(n, np.nan)
    for i in range(period - 1, n):
        s_pv = 0.0
        s_v = 0.0
        for j in range(i - period + 1, i + 1):
            s_pv += price[j] * volume[j]
            s_v += volume[j]
        if s_v > 0.0:
            out[i] = s_pv / s_v
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
    out = np.full(n, np.nan)
    for i in range(period, n):
        s = 0.0
        v = 0.0
        for j in range(i - period + 1, i + 1):
            s += signed[j]
            v += volume[j]
        out[i] = s / v if v > 0.0 else 0.0
    return out


# ---------------------------------------------------------------------------- signal maps


@njit(cache=True)
def rms_scale_nb(x, window, gain):
    """Causal scaling: ``clip(x / (gain * rms), -1, 1)`` with rms over the last ``window`` values.

    ``x`` is NaN during its own warm-up only; the result is NaN until ``window`` values are
    available and 0 where the rolling rms is 0 (a flat market).
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    first = 0
    while first < n and np.isnan(x[first]):
        first += 1
    for i in range(first + window - 1, n):
        ss = 0.0
        for j in range(i - window + 1, i + 1):
            ss += x[j] * x[j]
        if ss > 0.0:
            v = x[i] / (gain * np.sqrt(ss / window))
            if v > 1.0:
                v = 1.0
            elif v < -1.0:
                v = -1.0
            out[i] = v
        else:
            out[i] = 0.0
    return out
