"""The multi-asset bar loop: one shared cash account, target weights, next-open fills (numba).

Arrays only; :mod:`phi.backtest.portfolio` validates inputs, documents the semantics and is
the only caller. :mod:`phi.backtest._portfolio_reference` is the slow oracle the tests hold
this against.

Shapes: ``n`` bars (the union of every symbol's stamps), ``k`` symbols. ``o`` and ``c`` are
``(n, k)`` opens and closes, NaN where a symbol has no bar; ``w`` ``(n, k)`` target weights
(NaN = no view: that symbol is left as it is); ``decide`` ``(n,)`` marks the bars whose close
sets new targets (the rebalance schedule); ``fp[PF_DRIFT]`` (NaN = off) adds drift-band
decisions.

Per bar ``t``:

1. **fills at the open** of the targets pending from earlier closes, for the symbols that
   have a bar at ``t`` (the others stay pending until their next bar; such fills are
   *late*). Equity ``E`` is marked at this bar's opens (a symbol without a bar at its last
   close). Target units ``u* = sign(w) (|w| E - fixed) / (open (1 + sign(w) slip) (1 + comm))``
   (rounded toward 0 without fractional units): what ``|w| E`` buys at this open, costs
   included. Phase A reduces positions toward their targets (a position whose target has the
   other sign is closed to 0); phase B re-marks ``E`` after phase A's costs, recomputes the
   targets and increases positions (short openings first, then buys). Without leverage a
   buy never spends more cash than the account holds (it is cut down: a *capped* fill);
2. **mark at the close** (a symbol without a bar at its last close); equity <= 0 is ruin:
   every position is closed at its mark, with costs, and nothing trades again;
3. **decide** at the close: on ``decide[t]`` or, with a drift band, when the weight of any
   symbol with a bar at ``t`` is further than the band from its target, every non-NaN
   ``w[t]`` becomes a pending target.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---- float parameters ------------------------------------------------------------------
PF_INIT_CASH = 0
PF_COMM_PCT = 1
PF_COMM_FIXED = 2
PF_SLIP = 3  # fraction (bps / 1e4)
PF_DRIFT = 4  # NaN = off
N_PF = 5

# ---- int parameters ----------------------------------------------------------------------
PI_FRACTIONAL = 0
PI_LEVERAGE = 1  # 1 = buys may spend more than the cash (leverage allowed)
N_PI = 2

# ---- fill records (fills_out[k, field]) ----------------------------------------------------
FL_BAR = 0
FL_SYMBOL = 1
FL_UNITS = 2  # signed: + bought, - sold
FL_PRICE = 3  # market price (the open, or the mark for a ruin fill)
FL_COSTS = 4  # commission + slippage of this fill
FL_CASH = 5  # cash change of this fill (costs included)
FL_DECISION_BAR = 6  # bar whose close set the target; -1 for a ruin fill
FL_POS_AFTER = 7  # signed units held after the fill
N_FL = 8

# ---- statistics ------------------------------------------------------------------------
PS_N_FILLS = 0
PS_LATE = 1  # fills later than the bar after their decision (the symbol had no bar then)
PS_CAPPED = 2  # buys cut down to the cash available (no leverage)
PS_RUIN_BAR = 3  # NaN if none
PS_TURNOVER = 4  # sum of |units| * price over all fills
PS_SKIPPED = 5  # targets that came to no trade because the fill would be empty
PS_N_DECISIONS = 6  # closes that set new targets
N_PS = 7


@njit(cache=True, inline="always", error_model="numpy")
def _target_units_nb(wi, equity, price, comm, fixed, slip, fractional):
    """Units that ``|wi| * equity`` buys (or sells short) at ``price``, costs included."""
    if wi == 0.0:
        return 0.0
    d = 1.0 if wi > 0.0 else -1.0
    budget = abs(wi) * equity - fixed
    if not budget > 0.0:
        return 0.0
    u = budget / (price * (1.0 + d * slip) * (1.0 + comm))
    if not fractional:
        u = np.floor(u)
    return d * u


@njit(cache=True, inline="always", error_model="numpy")
def _fill_nb(fills_out, nf, t, i, delta, price, comm, fixed, slip, decision, pos_after):
    """Record a fill of ``delta`` units at market ``price``; return its cash change and costs."""
    d = 1.0 if delta > 0.0 else -1.0
    p_eff = price * (1.0 + d * slip)
    notional = abs(delta) * p_eff
    cash_delta = -delta * p_eff - comm * notional - fixed
    costs = comm * notional + fixed + abs(delta) * price * slip
    fills_out[nf, FL_BAR] = t
    fills_out[nf, FL_SYMBOL] = i
    fills_out[nf, FL_UNITS] = delta
    fills_out[nf, FL_PRICE] = price
    fills_out[nf, FL_COSTS] = costs
    fills_out[nf, FL_CASH] = cash_delta
    fills_out[nf, FL_DECISION_BAR] = decision
    fills_out[nf, FL_POS_AFTER] = pos_after
    return cash_delta


@njit(cache=True, error_model="numpy")  # x / 0 -> inf, never an exception
def simulate_portfolio_nb(o, c, w, decide, fp, ip, eq_out, cash_out, pos_out, fills_out, st_out):
    """Simulate the portfolio; return the number of fill records written (see module docs)."""
    n, k = c.shape
    comm = fp[PF_COMM_PCT]
    fixed = fp[PF_COMM_FIXED]
    slip = fp[PF_SLIP]
    drift = fp[PF_DRIFT]
    use_drift = not np.isnan(drift)
    fractional = ip[PI_FRACTIONAL] != 0
    leverage = ip[PI_LEVERAGE] != 0

    cash = fp[PF_INIT_CASH]
    units = np.zeros(k)
    mark = np.full(k, np.nan)  # last close seen (NaN before a symbol's first bar)
    pend = np.full(k, np.nan)  # pending target weight (NaN = none)
    pend_bar = np.full(k, -1)
    n_pend = 0
    nf = 0
    late = 0
    capped = 0
    skipped = 0
    decisions = 0
    turnover = 0.0
    ruin_bar = -1

    for t in range(n):
        # 1) pending targets fill at this bar's open
        if n_pend > 0 and ruin_bar < 0:
            eq = cash
            for i in range(k):
                if units[i] != 0.0:
                    p = o[t, i]
                    eq += units[i] * (p if p == p else mark[i])
            # phase A: reductions toward the target (a sign change closes to 0 first)
            for i in range(k):
                p = o[t, i]
                wi = pend[i]
                if wi != wi or p != p:
                    continue
                u = units[i]
                tgt = _target_units_nb(wi, eq, p, comm, fixed, slip, fractional)
                if tgt == u:  # already there
                    pend[i] = np.nan
                    n_pend -= 1
                    continue
                if u > 0.0 and tgt < u:
                    new = tgt if tgt > 0.0 else 0.0
                elif u < 0.0 and tgt > u:
                    new = tgt if tgt < 0.0 else 0.0
                else:
                    continue
                cash += _fill_nb(
                    fills_out, nf, t, i, new - u, p, comm, fixed, slip, pend_bar[i], new
                )
                turnover += abs(new - u) * p
                nf += 1
                late += pend_bar[i] < t - 1
                units[i] = new
                if new == tgt:
                    pend[i] = np.nan
                    n_pend -= 1
            # phase B: increases, re-marked after phase A's costs; short openings first
            eq = cash
            for i in range(k):
                if units[i] != 0.0:
                    p = o[t, i]
                    eq += units[i] * (p if p == p else mark[i])
            for rnd in range(2):
                sell = rnd == 0
                for i in range(k):
                    p = o[t, i]
                    wi = pend[i]
                    if wi != wi or p != p or (wi < 0.0) != sell:
                        continue
                    pend[i] = np.nan
                    n_pend -= 1
                    u = units[i]
                    tgt = _target_units_nb(wi, eq, p, comm, fixed, slip, fractional)
                    delta = tgt - u
                    if not ((tgt > 0.0 and delta > 0.0) or (tgt < 0.0 and delta < 0.0)):
                        if tgt == u:
                            continue
                        skipped += 1  # a target the re-marked equity no longer reaches
                        continue
                    if delta > 0.0 and not leverage:
                        unit_cost = p * (1.0 + slip) * (1.0 + comm)
                        if delta * unit_cost + fixed > cash:
                            afford = (cash - fixed) / unit_cost
                            if not fractional:
                                afford = np.floor(afford)
                            if not afford > 0.0:
                                skipped += 1
                                continue
                            capped += delta - afford > 1e-9 * delta  # not a rounding cut
                            delta = afford
                    cash += _fill_nb(
                        fills_out, nf, t, i, delta, p, comm, fixed, slip, pend_bar[i], u + delta
                    )
                    turnover += abs(delta) * p
                    nf += 1
                    late += pend_bar[i] < t - 1
                    units[i] = u + delta

        # 2) mark at the close
        eq = cash
        for i in range(k):
            p = c[t, i]
            if p == p:
                mark[i] = p
            if units[i] != 0.0:
                eq += units[i] * mark[i]
        if eq <= 0.0 and ruin_bar < 0:
            ruin_bar = t
            for i in range(k):
                if units[i] != 0.0:
                    u = units[i]
                    cash += _fill_nb(fills_out, nf, t, i, -u, mark[i], comm, fixed, slip, -1, 0.0)
                    turnover += abs(u) * mark[i]
                    nf += 1
                    units[i] = 0.0
                pend[i] = np.nan
            n_pend = 0
            eq = cash
        eq_out[t] = eq
        cash_out[t] = cash
        for i in range(k):
            pos_out[t, i] = units[i]

        # 3) decide at the close
        if ruin_bar >= 0 or t == n - 1:
            continue
        go = decide[t]
        if not go and use_drift and eq > 0.0:
            for i in range(k):
                wi = w[t, i]
                if wi == wi and c[t, i] == c[t, i]:  # a symbol without a bar cannot be corrected
                    cur = units[i] * mark[i] / eq if units[i] != 0.0 else 0.0
                    if abs(cur - wi) > drift:
                        go = True
                        break
        if go:
            any_set = False
            for i in range(k):
                wi = w[t, i]
                if wi == wi:
                    if pend[i] != pend[i]:
                        n_pend += 1
                    pend[i] = wi
                    pend_bar[i] = t
                    any_set = True
            decisions += any_set

    st_out[PS_N_FILLS] = nf
    st_out[PS_LATE] = late
    st_out[PS_CAPPED] = capped
    st_out[PS_RUIN_BAR] = ruin_bar if ruin_bar >= 0 else np.nan
    st_out[PS_TURNOVER] = turnover
    st_out[PS_SKIPPED] = skipped
    st_out[PS_N_DECISIONS] = decisions
    return nf
