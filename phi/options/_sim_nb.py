"""The options bar loop: a numba kernel over NumPy arrays (no pandas, no validation).

:mod:`phi.options.simulator` is the only caller and documents the semantics. Per bar ``t``:

1. at ``open[t]``: a pending exit closes every leg at its model price there (the vol known
   at ``t-1``'s close), the haircut cut if needed so the proceeds are no less than the
   position's worst payoff at expiry (:func:`_exit_haircut`), then a pending entry opens the structure's legs at their model prices
   (strikes from ``open[t]``), each fill ``price * (1 +/- haircut)`` against us, plus a
   commission per contract;
2. at ``close[t]``: the legs are valued (model prices with the vol of bar ``t``); an option
   past its expiry stamp (or whose expiry falls before the next bar) settles at its intrinsic
   value; the P&L since the previous valuation is split by a Taylor step of the previous
   greeks into delta, gamma, vega, theta and a residual; equity = cash + legs' value;
   **ruin:** if that equity is <= 0, every open leg is closed at the close at its model price
   (haircut and commission as at any exit), and nothing is ordered again;
3. the close decides the next open's orders: stop, target, roll, signal exit (a cross of the
   exit threshold); then an entry when flat (or exiting) and the signal crosses the entry
   threshold (a roll reopens its side while the signal stays beyond it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from phi.options._nb import bs_one_nb, ndtri_nb, skew_limit_nb

# ---- float parameters ------------------------------------------------------------------
FP_INIT = 0
FP_ENTRY_THR = 1
FP_EXIT_THR = 2
FP_R = 3
FP_Q = 4
FP_SKEW = 5
FP_MULT = 6
FP_COMM = 7
FP_HAIRCUT = 8
FP_PT = 9
FP_SL = 10
FP_DTE_Y = 11
FP_ROLL_Y = 12
FP_RULE_DELTA = 13
FP_NEAR = 14
FP_FAR = 15
FP_STEP = 16
FP_RISK = 17
FP_CONTRACTS = 18
FP_WARMUP = 19
N_FP = 20

# ---- exit reasons ----------------------------------------------------------------------
EXIT_STOP = 1
EXIT_TARGET = 2
EXIT_EXPIRY = 3
EXIT_SIGNAL = 4
EXIT_ROLL = 5
EXIT_END = 6
EXIT_RUIN = 7

# ---- trade record columns --------------------------------------------------------------
TR_ENTRY_BAR = 0
TR_EXIT_BAR = 1
TR_SIDE = 2
TR_UNITS = 3
TR_ENTRY_SPOT = 4
TR_EXIT_SPOT = 5
TR_ENTRY_VALUE = 6
TR_EXIT_VALUE = 7
TR_PREMIUM = 8
TR_RISK = 9
TR_COSTS = 10
TR_PNL = 11
TR_REASON = 12
TR_EXPIRY = 13
TR_ATTR = 14  # 6 columns from here: P&L by delta, gamma, vega, theta, residual, costs
TR_STRUCT = 20  # index of the structure traded (into the leg tables' structures)
N_TR = 21

# ---- leg record columns ----------------------------------------------------------------
LG_TRADE = 0
LG_KIND = 1
LG_QTY = 2
LG_STRIKE = 3
LG_ENTRY_PRICE = 4
LG_EXIT_PRICE = 5
LG_ENTRY_IV = 6
LG_ENTRY_DELTA = 7
LG_ENTRY_GAMMA = 8
LG_ENTRY_VEGA = 9
LG_ENTRY_THETA = 10
LG_EXIT_IV = 11
LG_EXIT_DELTA = 12
LG_EXIT_GAMMA = 13
LG_EXIT_VEGA = 14
LG_EXIT_THETA = 15
N_LG = 16

# ---- why an entry was skipped (rows of ``skips``) ---------------------------------------
SKIP_RISK = 0  # risk_pct of the cash is below one unit's risk (the cash alone would secure one)
SKIP_CASH = 1  # the cash is below one unit's risk or its debit + commission
SKIP_NO_RISK = 2  # risk_pct sizing of a unit whose risk is 0: nothing to size by
SKIP_PRICE = 3  # no price for a leg (NaN)
SKIP_QUOTE = 4  # (a real chain only) a leg unquoted on the fill day, or no expiry listed
CUT = 5  # not a skip: a fixed ``contracts`` entry cut to what the cash secures (>= 1)
N_SKIP = 6
# columns: how many, then of the first one: bar, cash then, per-unit figure (the risk or
# debit for a skip, the units taken for a cut), structure index
SK_COUNT = 0
SK_BAR = 1
SK_CASH = 2
SK_NEED = 3
SK_STRUCT = 4
N_SK = 5

MAX_LEGS = 4
ROLE_ATM = 0
ROLE_NEAR = 1
ROLE_FAR = 2


@njit(cache=True)
def _leg_vol(iv_atm: float, s: float, k: float, skew: float) -> float:
    """The vol of strike ``k``; ``skew`` is the limited one (:func:`skew_limit_nb`), so no
    call or put vertical of one expiry is ever valued outside ``[0, exp(-rT) (K2 - K1)]``."""
    return iv_atm * (1.0 + skew * max(0.0, math.log(s / k)))


@njit(cache=True)
def _value(
    kind: float, s: float, k: float, tau: float, r: float, q: float, vol: float
) -> tuple[float, float, float, float, float]:
    """(price, delta, gamma, vega, theta) per share of one leg (a stock leg: s, 1, 0, 0, 0)."""
    if kind == 0.0:
        return s, 1.0, 0.0, 0.0, 0.0
    return bs_one_nb(s, k, max(tau, 0.0), r, q, vol, kind)


@njit(cache=True)
def _attribute(
    a: np.ndarray,
    rec: np.ndarray,
    w: float,
    d0: float,
    g0: float,
    v0: float,
    th0: float,
    ds: float,
    dvol: float,
    dt: float,
    dval: float,
) -> None:
    """Split one leg's value change ``w * dval`` by a Taylor step of its previous greeks;
    add the parts to the bar's row ``a`` and to the trade's record ``rec``."""
    pd_ = w * d0 * ds
    pg = w * 0.5 * g0 * ds * ds
    pv = w * v0 * dvol
    pt = w * th0 * dt
    parts = (pd_, pg, pv, pt, w * dval - pd_ - pg - pv - pt)
    for i in range(5):
        a[i] += parts[i]
        rec[TR_ATTR + i] += parts[i]


@njit(cache=True)
def _fill_exit(
    row: np.ndarray, px: float, vol: float, d: float, g: float, v: float, th: float,
    qty: float, mult: float, hc: float, comm: float,
) -> tuple[float, float]:
    """One leg's exit fill at model price ``px`` (haircut against us): writes the leg's exit
    row; returns the cash it brings and its cost (haircut + commission)."""
    fill = px * (1.0 - hc) if qty > 0 else px * (1.0 + hc)
    row[LG_EXIT_PRICE] = fill
    row[LG_EXIT_IV] = vol
    row[LG_EXIT_DELTA] = d
    row[LG_EXIT_GAMMA] = g
    row[LG_EXIT_VEGA] = v
    row[LG_EXIT_THETA] = th
    return qty * mult * fill, abs(qty * mult) * px * hc + comm * abs(qty)


@njit(cache=True)
def _exit_haircut(px: np.ndarray, qtys: np.ndarray, nl: int, mult: float, hc: float, floor: float) -> float:
    """The haircut an exit's fills pay (a fraction of each leg's model price ``px``): ``hc``, cut
    so that the proceeds, ``sum(q mult px) - h sum(|q| mult px)``, are no less than ``floor``, the
    position's worst payoff at expiry (0 when the mids alone are below it)."""
    mid = 0.0
    gross = 0.0
    for j in range(nl):
        mid += qtys[j] * mult * px[j]
        gross += abs(qtys[j]) * mult * px[j]
    if gross <= 0.0 or mid - hc * gross >= floor:
        return hc
    return min(hc, max(mid - floor, 0.0) / gross)


@njit(cache=True)
def _book_exit(
    rec: np.ndarray, a: np.ndarray, t: int, s: float, proceeds: float, cost: float,
    entry_comm: float, exit_comm: float, reason: int,
) -> None:
    """Record a filled exit in the trade's record ``rec`` and its costs in the bar's row ``a``."""
    a[5] -= cost
    rec[TR_ATTR + 5] -= cost
    rec[TR_EXIT_BAR] = t
    rec[TR_EXIT_SPOT] = s
    rec[TR_EXIT_VALUE] = proceeds
    rec[TR_COSTS] += cost
    rec[TR_PNL] = proceeds - rec[TR_ENTRY_VALUE] - entry_comm - exit_comm
    rec[TR_REASON] = reason


@njit(cache=True)
def _note_skip(skips: np.ndarray, why: int, t: int, cash: float, need: float, struct: int) -> None:
    """Count an entry skipped (or cut) for reason ``why``; keep the first one's figures."""
    row = skips[why]
    if row[SK_COUNT] == 0.0:
        row[SK_BAR] = t
        row[SK_CASH] = cash
        row[SK_NEED] = need
        row[SK_STRUCT] = struct
    row[SK_COUNT] += 1.0


@njit(cache=True)
def _strike(kind: float, role: int, s: float, tau: float, iv_atm: float, fp: np.ndarray) -> float:
    """The leg's strike, rounded to ``FP_STEP``; a far strike that rounds onto (or inside) its
    near one moves one step further out, so a spread never collapses into one strike."""
    k = _raw_strike(kind, role, s, tau, iv_atm, fp)
    step = fp[FP_STEP]
    if kind == 0.0 or step <= 0.0:
        return k
    k = max(step, round(k / step) * step)
    if role == ROLE_FAR:
        kn = max(step, round(_raw_strike(kind, ROLE_NEAR, s, tau, iv_atm, fp) / step) * step)
        if kind * (k - kn) < 0.5 * step and kn + kind * step > 0.0:
            k = kn + kind * step
    return k


@njit(cache=True)
def _raw_strike(kind: float, role: int, s: float, tau: float, iv_atm: float, fp: np.ndarray) -> float:
    if kind == 0.0:
        return s
    if role == ROLE_ATM:
        k = s
    elif fp[FP_RULE_DELTA] == 0.0:
        m = fp[FP_NEAR] if role == ROLE_NEAR else fp[FP_FAR]
        k = s * (1.0 + kind * m)
    else:  # the strike whose |delta| is the target, with the vol of that strike (skew)
        target = fp[FP_NEAR] if role == ROLE_NEAR else fp[FP_FAR]
        r, q = fp[FP_R], fp[FP_Q]
        fwd = s * math.exp((r - q) * tau)
        p = min(target * math.exp(q * tau), 1.0 - 1e-12)
        x = ndtri_nb(p)
        d1 = x if kind > 0.0 else -x
        k = s
        skew = skew_limit_nb(fp[FP_SKEW], iv_atm, tau, r, q)
        for _ in range(20):
            v = _leg_vol(iv_atm, s, k, skew) * math.sqrt(tau)
            nk = fwd * math.exp(-d1 * v + 0.5 * v * v)
            if abs(nk - k) <= 1e-12 * k:
                k = nk
                break
            k = nk
    return k


@njit(cache=True)
def simulate_nb(
    op: np.ndarray,
    cl: np.ndarray,
    tyr: np.ndarray,
    exp_y: np.ndarray,
    iv: np.ndarray,
    sig: np.ndarray,
    st_up: np.ndarray,
    st_dn: np.ndarray,
    dirs: np.ndarray,
    leg_kind: np.ndarray,
    leg_qty: np.ndarray,
    leg_role: np.ndarray,
    n_legs: np.ndarray,
    fp: np.ndarray,
    equity: np.ndarray,
    cash_out: np.ndarray,
    value_out: np.ndarray,
    greeks: np.ndarray,
    attr: np.ndarray,
    tr: np.ndarray,
    lg: np.ndarray,
    counts: np.ndarray,
    skips: np.ndarray,
) -> None:
    """Run the options bar loop (see the module notes).

    ``leg_*`` are ``(2 * S, MAX_LEGS)`` for ``S`` structures: row ``2 i`` structure ``i``'s
    bullish side, row ``2 i + 1`` its bearish side; ``leg_kind`` +1 call, -1 put, 0 stock;
    ``dirs[i]`` 1 if structure ``i`` is directional; ``exp_y[t]`` the expiry (years, as
    ``tyr``) of a position opened at bar t. ``st_up[t]`` / ``st_dn[t]`` name the
    structure an up / down cross at bar t's close opens (-1: none). ``greeks`` is ``(n, 4)`` (delta, gamma, vega,
    theta of the whole position); ``attr`` is ``(n, 6)`` (delta, gamma, vega, theta,
    residual, costs: they sum to the bar's equity change). ``counts`` gets the number of
    trades, legs and skipped entries, and the ruin bar (-1: none); ``skips`` (``(N_SKIP, N_SK)``,
    zeros) why entries were skipped or cut (``SKIP_*``, ``CUT``: count and the first one's bar,
    cash, per-unit figure and structure).

    **Sizing** (cash-secured, no margin): one unit's *risk* is
    ``max(L, 0) + H + 2 C`` with ``L`` its maximum loss at expiry from the entry's model (mid)
    prices (payoff at 0, every strike and far above), ``H`` the haircut its entry fills pay and
    ``C`` its commission per fill; ``n <= cash / risk`` (and ``n <= cash * risk_pct / risk``
    without fixed ``contracts``; a debit: ``n <= cash / (debit + C)``). Right after the fills,
    marked at those mid prices, the equity is ``cash - n (H + C) >= n (max(L, 0) + C)``: the entry's
    own costs never leave less than the structure's maximum loss from there (and never <= 0).
    An early exit's proceeds are never below the worst payoff at expiry ``n (mid - L)`` (its
    haircut, at most ``value - n (mid - L)``, is cut to keep them there), so the cash after it is
    ``>= cash - n (L + H + 2 C) >= 0``: the ``L`` reserved bounds the exit haircut too.
    """
    n = op.shape[0]
    r, q, skew, mult = fp[FP_R], fp[FP_Q], fp[FP_SKEW], fp[FP_MULT]
    comm, hc = fp[FP_COMM], fp[FP_HAIRCUT]
    thr, xthr = fp[FP_ENTRY_THR], fp[FP_EXIT_THR]
    directional = True  # of the open position's structure
    pos_struct = 0
    pend_struct = 0
    warmup = int(fp[FP_WARMUP])
    cash = fp[FP_INIT]
    # open position
    is_open = False
    side = 0
    nl = 0
    expiry = 0.0
    kinds = np.zeros(MAX_LEGS)
    qtys = np.zeros(MAX_LEGS)  # signed contracts (qty per unit x units)
    strikes = np.zeros(MAX_LEGS)
    # last valuation of each leg (per share): spot, time, vol, value, greeks
    p_s = 0.0
    p_t = 0.0
    p_vol = np.zeros(MAX_LEGS)
    p_val = np.zeros(MAX_LEGS)
    p_d = np.zeros(MAX_LEGS)
    p_g = np.zeros(MAX_LEGS)
    p_v = np.zeros(MAX_LEGS)
    p_th = np.zeros(MAX_LEGS)
    trade = -1
    leg0 = 0
    n_legs_rec = 0
    skipped = 0
    entry_comm = 0.0
    floor = 0.0  # the open position's worst payoff at expiry (all its units): no exit fills below it
    x_px = np.zeros(MAX_LEGS)  # an exit's model prices, per share
    pend_exit = 0
    pend_side = 0
    iv_last = math.nan
    value = 0.0
    s_prev = math.nan  # the signal at the previous close: entries and signal exits are crosses
    ruin_bar = -1  # the close at which the equity reached <= 0: all closed, no orders after

    for t in range(n):
        a = attr[t]
        # ---- 1. fills at the open --------------------------------------------------------
        if pend_exit != 0 and is_open:
            s = op[t]
            tau = expiry - tyr[t]
            dt = tyr[t] - p_t
            proceeds = 0.0
            cost = 0.0
            sk = skew_limit_nb(skew, iv_last, tau, r, q)
            for j in range(nl):
                vol = _leg_vol(iv_last, s, strikes[j], sk) if kinds[j] != 0.0 else 0.0
                x_px[j] = _value(kinds[j], s, strikes[j], tau, r, q, vol)[0]
            hc_x = _exit_haircut(x_px, qtys, nl, mult, hc, floor)
            for j in range(nl):
                vol = _leg_vol(iv_last, s, strikes[j], sk) if kinds[j] != 0.0 else 0.0
                px, d, g, v, th = _value(kinds[j], s, strikes[j], tau, r, q, vol)
                w = qtys[j] * mult
                _attribute(
                    a,
                    tr[trade],
                    w,
                    p_d[j],
                    p_g[j],
                    p_v[j],
                    p_th[j],
                    s - p_s,
                    vol - p_vol[j],
                    dt,
                    px - p_val[j],
                )
                got, c_j = _fill_exit(lg[leg0 + j], px, vol, d, g, v, th, qtys[j], mult, hc_x, comm)
                proceeds += got
                cost += c_j
            exit_comm = 0.0
            for j in range(nl):
                exit_comm += comm * abs(qtys[j])
            cash += proceeds - exit_comm
            _book_exit(tr[trade], a, t, s, proceeds, cost, entry_comm, exit_comm, pend_exit)
            is_open = False
            value = 0.0
        pend_exit = 0
        if pend_side != 0 and not is_open:
            s = op[t]
            pdir = dirs[pend_struct] != 0.0
            row_i = 2 * pend_struct + (0 if (pend_side > 0 or not pdir) else 1)
            nl = n_legs[row_i]
            tau = exp_y[t] - tyr[t]  # dte calendar days (a DST change in between: +-1 hour)
            debit_u = 0.0  # cash paid per structure unit at the fills (negative: a credit)
            mid_u = 0.0  # the same at the model prices (no haircut)
            prem_u = 0.0
            comm_u = 0.0
            hc_u = 0.0
            sk = skew_limit_nb(skew, iv_last, tau, r, q)
            for j in range(nl):
                kinds[j] = leg_kind[row_i, j]
                strikes[j] = _strike(kinds[j], leg_role[row_i, j], s, tau, iv_last, fp)
                vol = _leg_vol(iv_last, s, strikes[j], sk) if kinds[j] != 0.0 else 0.0
                px, d, g, v, th = _value(kinds[j], s, strikes[j], tau, r, q, vol)
                p_vol[j], p_val[j], p_d[j], p_g[j], p_v[j], p_th[j] = vol, px, d, g, v, th
                qu = leg_qty[row_i, j]
                fill = px * (1.0 + hc) if qu > 0 else px * (1.0 - hc)
                debit_u += qu * mult * fill
                mid_u += qu * mult * px
                if kinds[j] != 0.0:
                    prem_u += qu * mult * px
                comm_u += comm * abs(qu)
                hc_u += abs(qu) * mult * px * hc
            # maximum loss per unit at expiry from the model prices: payoff checked at 0, every
            # strike and far above (may be < 0: a credit above the widest payout, at a negative rate)
            top = s
            for j in range(nl):
                top = max(top, strikes[j])
            worst = -math.inf
            for m in range(nl + 2):
                st = 0.0 if m == 0 else (3.0 * top if m == 1 else strikes[m - 2])
                pay = 0.0
                for j in range(nl):
                    kj = kinds[j]
                    if kj == 0.0:
                        leg_pay = st
                    elif kj > 0.0:
                        leg_pay = max(st - strikes[j], 0.0)
                    else:
                        leg_pay = max(strikes[j] - st, 0.0)
                    pay += leg_qty[row_i, j] * mult * leg_pay
                worst = max(worst, mid_u - pay)
            # cash-secured (no margin): the loss at expiry from the mid, the haircut and the
            # commissions both ways never exceed the cash (see the docstring)
            risk_u = max(worst, 0.0) + hc_u + 2.0 * comm_u
            fixed = not math.isnan(fp[FP_CONTRACTS])
            if fixed:
                u = fp[FP_CONTRACTS]
            else:
                u = math.floor(cash * fp[FP_RISK] / risk_u) if risk_u > 0.0 else 0.0
            outlay = debit_u + comm_u
            need = max(risk_u, outlay)  # what the cash must hold for one unit
            if outlay > 0.0:
                u = min(u, math.floor(cash / outlay))
            if risk_u > 0.0:
                u = min(u, math.floor(cash / risk_u))
            if math.isnan(debit_u) or math.isnan(risk_u):
                _note_skip(skips, SKIP_PRICE, t, cash, need, pend_struct)
            elif u < 1.0:
                if cash < need:
                    why = SKIP_CASH
                elif fixed or risk_u > 0.0:
                    why = SKIP_RISK
                else:
                    why = SKIP_NO_RISK
                _note_skip(skips, why, t, cash, need, pend_struct)
            elif fixed and u < fp[FP_CONTRACTS]:
                _note_skip(skips, CUT, t, cash, u, pend_struct)
            if u >= 1.0 and not math.isnan(debit_u) and not math.isnan(risk_u):
                is_open = True
                side = pend_side
                pos_struct = pend_struct
                directional = pdir
                expiry = exp_y[t]
                entry_comm = comm_u * u
                floor = (mid_u - worst) * u
                cash -= debit_u * u + entry_comm
                a[5] -= (hc_u + comm_u) * u
                trade += 1
                rec = tr[trade]
                rec[TR_ENTRY_BAR] = t
                rec[TR_SIDE] = side if directional else 0
                rec[TR_UNITS] = u
                rec[TR_ENTRY_SPOT] = s
                rec[TR_ENTRY_VALUE] = debit_u * u
                rec[TR_PREMIUM] = abs(prem_u) * u
                rec[TR_RISK] = risk_u * u
                rec[TR_COSTS] = (hc_u + comm_u) * u
                for i in range(5):
                    rec[TR_ATTR + i] = 0.0
                rec[TR_ATTR + 5] = -(hc_u + comm_u) * u
                rec[TR_EXPIRY] = expiry
                rec[TR_STRUCT] = pos_struct
                leg0 = n_legs_rec
                for j in range(nl):
                    qtys[j] = leg_qty[row_i, j] * u
                    row = lg[leg0 + j]
                    row[LG_TRADE] = trade
                    row[LG_KIND] = kinds[j]
                    row[LG_QTY] = qtys[j]
                    row[LG_STRIKE] = strikes[j]
                    qu = leg_qty[row_i, j]
                    row[LG_ENTRY_PRICE] = p_val[j] * (1.0 + hc) if qu > 0 else p_val[j] * (1.0 - hc)
                    row[LG_ENTRY_IV] = p_vol[j]
                    row[LG_ENTRY_DELTA] = p_d[j]
                    row[LG_ENTRY_GAMMA] = p_g[j]
                    row[LG_ENTRY_VEGA] = p_v[j]
                    row[LG_ENTRY_THETA] = p_th[j]
                    row[LG_EXIT_PRICE] = math.nan
                n_legs_rec += nl
                p_s = s
                p_t = tyr[t]
            else:
                skipped += 1
        pend_side = 0

        # ---- 2. valuation at the close -----------------------------------------------------
        if not math.isnan(iv[t]):
            iv_last = iv[t]
        value = 0.0
        gd = gg = gv = gt = 0.0
        if is_open:
            s = cl[t]
            tau = expiry - tyr[t]
            dt = tyr[t] - p_t
            settle = tau <= 1e-12 or (t + 1 < n and tyr[t + 1] > expiry + 1e-12)
            sk = skew if settle else skew_limit_nb(skew, iv_last, tau, r, q)
            for j in range(nl):
                if settle:
                    kj = kinds[j]
                    px = s if kj == 0.0 else max(kj * (s - strikes[j]), 0.0)
                    vol = p_vol[j]
                    d = 1.0 if kj == 0.0 else 0.0
                    g = v = th = 0.0
                else:
                    vol = _leg_vol(iv_last, s, strikes[j], sk) if kinds[j] != 0.0 else 0.0
                    px, d, g, v, th = _value(kinds[j], s, strikes[j], tau, r, q, vol)
                w = qtys[j] * mult
                _attribute(
                    a,
                    tr[trade],
                    w,
                    p_d[j],
                    p_g[j],
                    p_v[j],
                    p_th[j],
                    s - p_s,
                    vol - p_vol[j],
                    dt,
                    px - p_val[j],
                )
                p_vol[j], p_val[j], p_d[j], p_g[j], p_v[j], p_th[j] = vol, px, d, g, v, th
                value += w * px
                if settle:
                    row = lg[leg0 + j]
                    row[LG_EXIT_PRICE] = px
                    row[LG_EXIT_IV] = vol
                    row[LG_EXIT_DELTA] = d
                    row[LG_EXIT_GAMMA] = 0.0
                    row[LG_EXIT_VEGA] = 0.0
                    row[LG_EXIT_THETA] = 0.0
                else:
                    gd += w * d
                    gg += w * g
                    gv += w * v
                    gt += w * th
            p_s = s
            p_t = tyr[t]
            if settle:  # cash-settled at intrinsic: no haircut, no commission
                cash += value
                rec = tr[trade]
                rec[TR_EXIT_BAR] = t
                rec[TR_EXIT_SPOT] = s
                rec[TR_EXIT_VALUE] = value
                rec[TR_PNL] = value - rec[TR_ENTRY_VALUE] - entry_comm
                rec[TR_REASON] = EXIT_EXPIRY
                is_open = False
                value = 0.0
        if ruin_bar < 0 and cash + value <= 0.0:
            ruin_bar = t
            if is_open:  # closed at this close: model prices, haircut and commission
                proceeds = 0.0
                cost = 0.0
                exit_comm = 0.0
                for j in range(nl):  # the full haircut: the marks are already below the floor
                    got, c_j = _fill_exit(
                        lg[leg0 + j], p_val[j], p_vol[j], p_d[j], p_g[j], p_v[j], p_th[j],
                        qtys[j], mult, hc, comm,
                    )
                    proceeds += got
                    cost += c_j
                    exit_comm += comm * abs(qtys[j])
                cash += proceeds - exit_comm
                _book_exit(tr[trade], a, t, cl[t], proceeds, cost, entry_comm, exit_comm, EXIT_RUIN)
                is_open = False
                value = 0.0
                gd = gg = gv = gt = 0.0
        equity[t] = cash + value
        cash_out[t] = cash
        value_out[t] = value
        greeks[t, 0] = gd
        greeks[t, 1] = gg
        greeks[t, 2] = gv
        greeks[t, 3] = gt

        # ---- 3. orders for the next open ---------------------------------------------------
        if t + 1 >= n:
            break
        if ruin_bar >= 0:  # ruined: nothing trades again
            continue
        s_t = sig[t]
        s_p = s_prev
        s_prev = s_t
        if is_open:
            pnl = value - tr[trade, TR_ENTRY_VALUE]
            prem = tr[trade, TR_PREMIUM]
            if not math.isnan(fp[FP_SL]) and pnl <= -fp[FP_SL] * prem:
                pend_exit = EXIT_STOP
            elif not math.isnan(fp[FP_PT]) and pnl >= fp[FP_PT] * prem:
                pend_exit = EXIT_TARGET
            elif not math.isnan(fp[FP_ROLL_Y]) and expiry - tyr[t] <= fp[FP_ROLL_Y] + 1e-12:
                pend_exit = EXIT_ROLL
            elif t >= warmup and (  # a cross of the exit threshold (NaN: no cross)
                (not directional and abs(s_p) > xthr and abs(s_t) <= xthr)
                or (directional and side > 0 and s_p > xthr and s_t <= xthr)
                or (directional and side < 0 and s_p < -xthr and s_t >= -xthr)
            ):
                pend_exit = EXIT_SIGNAL
        can_enter = not is_open or pend_exit != 0
        if can_enter and t >= warmup and not math.isnan(iv_last) and not math.isnan(s_t):
            # entries on crosses of the entry threshold, like the equity engine; a roll reopens
            # the rolled side while the signal is still beyond the threshold (no cross needed)
            roll_side = side if (is_open and pend_exit == EXIT_ROLL) else 0
            stc = st_up[t] if s_t > thr else (st_dn[t] if s_t < -thr else -1)
            if stc >= 0:
                if dirs[stc] == 0.0:  # non-directional: opens on |signal|
                    if n_legs[2 * stc] > 0 and (roll_side != 0 or abs(s_p) <= thr):
                        pend_side = 1 if s_t > 0.0 else -1
                        pend_struct = stc
                elif s_t > thr and n_legs[2 * stc] > 0 and (roll_side > 0 or s_p <= thr):
                    pend_side = 1
                    pend_struct = stc
                elif s_t < -thr and n_legs[2 * stc + 1] > 0 and (roll_side < 0 or s_p >= -thr):
                    pend_side = -1
                    pend_struct = stc

    if is_open:  # still open at the end: reported open, valued at the last close
        rec = tr[trade]
        rec[TR_EXIT_BAR] = n - 1
        rec[TR_EXIT_SPOT] = cl[n - 1]
        rec[TR_EXIT_VALUE] = value
        rec[TR_PNL] = value - rec[TR_ENTRY_VALUE] - entry_comm
        rec[TR_REASON] = EXIT_END
        for j in range(nl):
            row = lg[leg0 + j]
            row[LG_EXIT_PRICE] = p_val[j]
            row[LG_EXIT_IV] = p_vol[j]
            row[LG_EXIT_DELTA] = p_d[j]
            row[LG_EXIT_GAMMA] = p_g[j]
            row[LG_EXIT_VEGA] = p_v[j]
            row[LG_EXIT_THETA] = p_th[j]
    counts[0] = trade + 1
    counts[1] = n_legs_rec
    counts[2] = skipped
    counts[3] = ruin_bar
