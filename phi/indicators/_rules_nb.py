"""Numba kernels of the rule indicators (:mod:`phi.indicators.rules`): arrays in, arrays out.

Each rule kernel returns an *event* array: +1 on a bar where the rule calls a buy, -1 where it
calls a sell, 0 where it makes no call, NaN where it cannot be evaluated yet. :func:`latch_nb`
turns events into a held state. Every kernel is causal: the value at bar ``t`` reads bars
``<= t`` only, with the same operations whatever follows, so a prefix gives identical values.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def latch_nb(events, first):  # type: ignore[no-untyped-def]
    """Hold the last call: NaN before bar ``first - 1``, 0 there (no call yet), then the sign of
    the latest non-zero event (a 0 event keeps the previous state)."""
    n = events.shape[0]
    out = np.full(n, np.nan)
    if first - 1 >= 0 and first - 1 < n:
        out[first - 1] = 0.0
    state = 0.0
    for t in range(max(first, 0), n):
        e = events[t]
        if e > 0.0:
            state = 1.0
        elif e < 0.0:
            state = -1.0
        out[t] = state
    return out


@njit(cache=True)
def band_events_nb(x, lower, upper, first):  # type: ignore[no-untyped-def]
    """+1 where ``x < lower``, -1 where ``x > upper`` (elementwise bands), else 0; NaN before
    ``first`` and where any input is NaN."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(first, n):
        v, lo, hi = x[t], lower[t], upper[t]
        if np.isnan(v) or np.isnan(lo) or np.isnan(hi):
            continue
        out[t] = 1.0 if v < lo else (-1.0 if v > hi else 0.0)
    return out


@njit(cache=True)
def prior_channel_nb(high, low, period):  # type: ignore[no-untyped-def]
    """Highest high and lowest low of the ``period`` bars before each bar (the bar excluded)."""
    n = high.shape[0]
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    for t in range(period, n):
        hi = high[t - period]
        lo = low[t - period]
        for j in range(t - period + 1, t):
            if high[j] > hi:
                hi = high[j]
            if low[j] < lo:
                lo = low[j]
        upper[t] = hi
        lower[t] = lo
    return upper, lower


@njit(cache=True)
def wyckoff_phase_nb(close, volume, lookback, range_pct):  # type: ignore[no-untyped-def]
    """Range position of the close among the last ``lookback + 1`` closes and the mean volume of
    up-closes vs down-closes among them; events +1 (accumulation), -1 (distribution), 0."""
    n = close.shape[0]
    pos = np.full(n, np.nan)
    up_vol = np.full(n, np.nan)
    down_vol = np.full(n, np.nan)
    events = np.full(n, np.nan)
    for t in range(lookback, n):
        lo = close[t - lookback]
        hi = lo
        su = 0.0
        sd = 0.0
        nu = 0
        nd = 0
        for j in range(t - lookback + 1, t + 1):
            c = close[j]
            if c < lo:
                lo = c
            if c > hi:
                hi = c
            d = c - close[j - 1]
            if d > 0.0:
                su += volume[j]
                nu += 1
            elif d < 0.0:
                sd += volume[j]
                nd += 1
        u = su / nu if nu > 0 else 0.0
        dn = sd / nd if nd > 0 else 0.0
        up_vol[t] = u
        down_vol[t] = dn
        width = hi - lo
        if width <= 0.0:
            events[t] = 0.0
            continue
        p = (close[t] - lo) / width
        pos[t] = p
        if p <= range_pct and u > dn:
            events[t] = 1.0
        elif p >= 1.0 - range_pct and dn > u:
            events[t] = -1.0
        else:
            events[t] = 0.0
    return pos, up_vol, down_vol, events


@njit(cache=True)
def _swing_high(high, i, strength):  # type: ignore[no-untyped-def]
    for j in range(1, strength + 1):  # noqa: SIM110 - numba has no all() over a generator
        if not (high[i] > high[i - j] and high[i] > high[i + j]):
            return False
    return True


@njit(cache=True)
def _swing_low(low, i, strength):  # type: ignore[no-untyped-def]
    for j in range(1, strength + 1):  # noqa: SIM110 - numba has no all() over a generator
        if not (low[i] < low[i - j] and low[i] < low[i + j]):
            return False
    return True


@njit(cache=True)
def liquidity_pools_nb(open_, high, low, close, lookback, strength):  # type: ignore[no-untyped-def]
    """Liquidity-pool rule on the window of the last ``lookback + 1`` bars (see
    :func:`phi.indicators.rules.liquidity_pools_raw`). Returns the nearest pool above and
    below the close, the sweep of the previous bar (-1 above, +1 below, 0) and the events."""
    n = close.shape[0]
    above = np.full(n, np.nan)
    below = np.full(n, np.nan)
    sweep = np.full(n, np.nan)
    events = np.full(n, np.nan)
    for t in range(lookback, n):
        w0 = t - lookback
        price = close[t]
        ph, pl, pc = high[t - 1], low[t - 1], close[t - 1]
        n_pools = 0
        swept_high = False
        swept_low = False
        near_above = np.inf
        near_below = -np.inf
        for i in range(w0 + strength, t - strength + 1):
            if _swing_high(high, i, strength):
                n_pools += 1
                h = high[i]
                if ph >= h and h > pc:
                    swept_high = True
                if h > price and h < near_above:
                    near_above = h
            if _swing_low(low, i, strength):
                n_pools += 1
                lv = low[i]
                if pl <= lv and lv < pc:
                    swept_low = True
                if lv < price and lv > near_below:
                    near_below = lv
        if near_above < np.inf:
            above[t] = near_above
        if near_below > -np.inf:
            below[t] = near_below
        sweep[t] = -1.0 if swept_high else (1.0 if swept_low else 0.0)
        e = 0.0
        if n_pools > 0:
            if swept_high:
                e = -1.0
            elif swept_low:
                e = 1.0
            else:
                dist_above = near_above - price
                dist_below = price - near_below
                bullish = close[t] > open_[t]
                if near_above < np.inf and dist_above <= dist_below:
                    e = 1.0 if bullish else 0.0
                elif near_below > -np.inf and dist_below < dist_above:
                    e = 0.0 if bullish else -1.0
        events[t] = e
    return above, below, sweep, events
