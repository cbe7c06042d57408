"""The bar loop: numba kernels over NumPy arrays (no pandas here).

One column of signal is simulated by :func:`simulate_col_nb`; :func:`simulate_many_nb` runs
many columns in parallel (``prange``). Parameters travel in two small arrays, ``fp`` (floats)
and ``ip`` (ints), indexed by the ``FP_*`` / ``IP_*`` constants below; results come back in
caller-allocated arrays. ``phi.backtest.engine`` is the only caller and documents the
semantics; ``phi.backtest._reference`` is the slow oracle the tests hold this against.

Per bar ``t`` (``fill = next_open``):

1. pending market orders (decided at ``t-1``'s close) fill at ``open[t]``: exit first, then entry;
2. stops / targets / trailing stop of the open position are checked against bar ``t``
   (live from the fill bar): a gap through a level fills at the open, stop before target
   when both are touched (an *ambiguous* bar), the trailing level uses the extreme of the
   bars *before* ``t`` only;
3. the signal at ``t`` (and time exits) decide the orders for ``t+1``'s open;
4. equity and position are recorded at the close. **Ruin:** if the equity at the close is
   <= 0, the position is closed at that close (``EXIT_RUIN``), pending orders are dropped and
   nothing trades again; the equity stays at its (possibly negative) ruin value.

With ``fill = close`` step 4 fills at ``close[t]`` itself (optimistic) before step 3, and stops
are live from the bar after the entry.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from phi.backtest._nb_inputs import (  # noqa: F401  (re-exported: the engine's input kernels)
    day_end_nb,
    first_bad_bar_nb,
    first_bad_signal_nb,
    first_inconsistent_bar_nb,
    first_unsorted_nb,
)
from phi.backtest.metrics import FLAT_RETURNS_SD

# ---- float parameters (fp) ------------------------------------------------------------
FP_INIT_CASH = 0
FP_ENTRY_THR = 1
FP_EXIT_THR = 2
FP_SL = 3  # NaN = off
FP_TP = 4  # NaN = off
FP_TS = 5  # NaN = off
FP_COMM_PCT = 6
FP_COMM_FIXED = 7
FP_SLIP = 8  # fraction (bps / 1e4)
FP_SIZE_PCT = 9
FP_SIZE_CASH = 10
FP_SIZE_UNITS = 11
FP_RISK_PCT = 12
FP_ANN = 13  # periods per year of the daily returns
N_FP = 14

# ---- int parameters (ip) --------------------------------------------------------------
IP_FILL_CLOSE = 0
IP_ALLOW_SHORT = 1
IP_SIGNAL_EXIT = 2
IP_FRACTIONAL = 3
IP_TIME_EXIT = 4  # 0 = off
IP_SIZING = 5
IP_WARMUP = 6
N_IP = 7

SIZING_PERCENT_EQUITY = 0
SIZING_FIXED_CASH = 1
SIZING_FIXED_UNITS = 2
SIZING_RISK_PER_TRADE = 3

# ---- what simulate_col_nb writes besides the statistics (``record``) -----------------
RECORD_NONE = 0
RECORD_ALL = 1
RECORD_EQUITY = 2  # per-bar equity only: no positions, cash or trade records

# ---- exit reasons ---------------------------------------------------------------------
EXIT_STOP_LOSS = 1
EXIT_TAKE_PROFIT = 2
EXIT_TRAILING_STOP = 3
EXIT_TIME = 4
EXIT_SIGNAL = 5
EXIT_END_OF_DATA = 6  # the trade is still open at the last bar
EXIT_RUIN = 7  # equity <= 0 at a close: closed at that close, trading stops

# ---- trade record fields (tr_out[k, field]) ------------------------------------------
TR_ENTRY_BAR = 0
TR_EXIT_BAR = 1
TR_SIDE = 2
TR_SIZE = 3
TR_ENTRY_PRICE = 4
TR_EXIT_PRICE = 5
TR_PNL = 6
TR_COSTS = 7
TR_REASON = 8
N_TR = 9

# ---- per-column statistics (st_out[field]) -------------------------------------------
ST_FINAL_EQUITY = 0
ST_TOTAL_RETURN = 1
ST_CAGR = 2
ST_ANN_VOL = 3
ST_SHARPE = 4
ST_SORTINO = 5
ST_MAX_DD = 6
ST_MAX_DD_BARS = 7
ST_CALMAR = 8
ST_N_TRADES = 9  # closed trades
ST_N_OPEN = 10
ST_WIN_RATE = 11
ST_PROFIT_FACTOR = 12
ST_EXPOSURE = 13
ST_AMBIGUOUS = 14
ST_SKIPPED = 15  # entries skipped because the size came out as zero
ST_DIRECTION_ACC = 16
ST_RUIN_BAR = 17  # bar whose close found equity <= 0; NaN if none
N_ST = 18


@njit(cache=True, error_model="numpy")
def _entry_units_nb(equity, price_eff, fp, ip):
    """Units to open at ``price_eff`` (fill price incl. slippage), >= 0; 0 means skip."""
    comm_pct = fp[FP_COMM_PCT]
    fixed = fp[FP_COMM_FIXED]
    unit_cost = price_eff * (1.0 + comm_pct)
    sizing = ip[IP_SIZING]
    if sizing == SIZING_PERCENT_EQUITY:
        budget = equity * fp[FP_SIZE_PCT]
    elif sizing == SIZING_FIXED_CASH:
        budget = min(fp[FP_SIZE_CASH], equity)
    else:
        budget = equity
    if fixed != 0.0:
        budget = budget - fixed
    if budget <= 0.0 or not unit_cost > 0.0:
        return 0.0
    if sizing in (SIZING_FIXED_UNITS, SIZING_RISK_PER_TRADE):
        if sizing == SIZING_FIXED_UNITS:
            want = fp[FP_SIZE_UNITS]
        else:
            want = equity * fp[FP_RISK_PCT] / (price_eff * fp[FP_SL])
        afford = budget / unit_cost
        units = min(want, afford)
        if ip[IP_FRACTIONAL] == 0:
            units = np.floor(units)
    elif ip[IP_FRACTIONAL] == 0:
        units = budget // unit_cost  # Python floor-division semantics, like backtesting.py
    else:
        units = budget / unit_cost
    if not units > 0.0:
        return 0.0
    return units


@njit(cache=True, inline="always", error_model="numpy")
def _exit_fill_nb(price, side, units, entry_price, entry_costs, comm_pct, comm_fixed, slip):
    """Close ``units`` of ``side`` at market ``price``: (cash change, trade pnl, exit costs)."""
    p_eff = price * (1.0 - side * slip)
    notional = units * p_eff
    x_costs = comm_pct * notional + comm_fixed + units * price * slip
    cash_delta = side * notional - comm_pct * notional - comm_fixed
    pnl = side * units * (price - entry_price) - entry_costs - x_costs
    return cash_delta, pnl, x_costs


@njit(cache=True, inline="always", error_model="numpy")
def _entry_fill_nb(price, direction, cash, fp, ip, comm_pct, comm_fixed, slip):
    """Open ``direction`` at market ``price``: (units, cash change, entry costs); 0 units = skip."""
    p_eff = price * (1.0 + direction * slip)
    u = _entry_units_nb(cash, p_eff, fp, ip)
    if not u > 0.0:
        return 0.0, 0.0, 0.0
    notional = u * p_eff
    cash_delta = -(direction * notional + comm_pct * notional + comm_fixed)
    return u, cash_delta, comm_pct * notional + comm_fixed + u * price * slip


@njit(cache=True, inline="always")
def _write_trade_nb(
    tr_out, k, entry_bar, exit_bar, side, units, entry_price, exit_price, pnl, costs, reason
):
    """Write trade record ``k``."""
    tr_out[k, TR_ENTRY_BAR] = entry_bar
    tr_out[k, TR_EXIT_BAR] = exit_bar
    tr_out[k, TR_SIDE] = side
    tr_out[k, TR_SIZE] = units
    tr_out[k, TR_ENTRY_PRICE] = entry_price
    tr_out[k, TR_EXIT_PRICE] = exit_price
    tr_out[k, TR_PNL] = pnl
    tr_out[k, TR_COSTS] = costs
    tr_out[k, TR_REASON] = reason


@njit(cache=True, error_model="numpy")
def _write_stats_nb(
    st_out, init, ann, eq, max_dd, max_under, r_mean, r_m2, down_sq, nd, n_metric, n_closed,
    n_open, n_wins, gross_win, gross_loss, exposed, ambiguous, skipped, dir_hits, dir_n, ruin_bar
):  # fmt: skip
    """Write one simulation's compact statistics (same definitions as phi.backtest.metrics)."""
    st_out[ST_FINAL_EQUITY] = eq
    st_out[ST_TOTAL_RETURN] = eq / init - 1.0
    cagr = np.nan
    vol = np.nan
    sharpe = np.nan
    sortino = np.nan
    if nd >= 1:
        cagr = (eq / init) ** (ann / nd) - 1.0 if eq > 0.0 else -1.0
    if nd >= 2:
        std = np.sqrt(r_m2 / (nd - 1))
        if std <= FLAT_RETURNS_SD * (1.0 + abs(r_mean)):  # rounding, not dispersion (metrics._std)
            std = 0.0
        vol = std * np.sqrt(ann)
        if std > 0.0:
            sharpe = r_mean / std * np.sqrt(ann)
        elif r_mean != 0.0:
            sharpe = np.inf if r_mean > 0.0 else -np.inf
        downside = np.sqrt(down_sq / nd) * np.sqrt(ann)
        if downside > 0.0:
            sortino = r_mean * ann / downside
        elif r_mean != 0.0:
            sortino = np.inf if r_mean > 0.0 else -np.inf
    if eq <= 0.0:  # ruined: a positive mean daily return would not make it a good run
        if sharpe > 0.0:
            sharpe = 0.0
        if sortino > 0.0:
            sortino = 0.0
    st_out[ST_CAGR] = cagr
    st_out[ST_ANN_VOL] = vol
    st_out[ST_SHARPE] = sharpe
    st_out[ST_SORTINO] = sortino
    st_out[ST_MAX_DD] = max_dd if n_metric > 0 else np.nan
    st_out[ST_MAX_DD_BARS] = max_under
    st_out[ST_CALMAR] = cagr / -max_dd if max_dd < 0.0 else np.nan
    st_out[ST_N_TRADES] = n_closed
    st_out[ST_N_OPEN] = n_open
    st_out[ST_WIN_RATE] = n_wins / n_closed if n_closed > 0 else np.nan
    if n_closed == 0:
        st_out[ST_PROFIT_FACTOR] = np.nan
    elif gross_loss > 0.0:
        st_out[ST_PROFIT_FACTOR] = gross_win / gross_loss
    else:
        st_out[ST_PROFIT_FACTOR] = np.inf if gross_win > 0.0 else np.nan
    st_out[ST_EXPOSURE] = exposed / n_metric if n_metric > 0 else np.nan
    st_out[ST_AMBIGUOUS] = ambiguous
    st_out[ST_SKIPPED] = skipped
    st_out[ST_DIRECTION_ACC] = dir_hits / dir_n if dir_n > 0 else np.nan
    st_out[ST_RUIN_BAR] = ruin_bar


@njit(cache=True, error_model="numpy")  # x / 0 -> inf, never an exception
def simulate_col_nb(
    o, h, lo, c, s, day_end, fp, ip, record, eq_out, pos_out, cash_out, tr_out, st_out
):
    """Simulate one signal column; return the number of trade records written.

    ``record``: ``RECORD_ALL`` (or True) writes ``eq_out``, ``pos_out``, ``cash_out`` (length n)
    and ``tr_out`` (n x N_TR); ``RECORD_EQUITY`` writes ``eq_out`` only (the others may be
    empty); ``RECORD_NONE`` (or False) none of them. ``st_out`` (N_ST) is always written.
    """
    n = c.shape[0]
    init = fp[FP_INIT_CASH]
    thr = fp[FP_ENTRY_THR]
    xthr = fp[FP_EXIT_THR]
    sl = fp[FP_SL]
    tp = fp[FP_TP]
    ts = fp[FP_TS]
    use_sl = not np.isnan(sl)
    use_tp = not np.isnan(tp)
    use_ts = not np.isnan(ts)
    comm_pct = fp[FP_COMM_PCT]
    comm_fixed = fp[FP_COMM_FIXED]
    slip = fp[FP_SLIP]
    ann = fp[FP_ANN]
    fill_close = ip[IP_FILL_CLOSE] != 0
    allow_short = ip[IP_ALLOW_SHORT] != 0
    signal_exit = ip[IP_SIGNAL_EXIT] != 0
    time_exit = ip[IP_TIME_EXIT]
    warmup = ip[IP_WARMUP]
    lag = 0 if fill_close else 1
    rec_all = record == RECORD_ALL  # True counts as RECORD_ALL
    rec_eq = record != RECORD_NONE

    cash = init
    side = 0
    units = 0.0
    entry_price = 0.0
    entry_bar = -1
    entry_costs = 0.0
    sl_lvl = 0.0
    tp_lvl = 0.0
    extreme = 0.0  # highest high (long) / lowest low (short) of the bars before the current one
    pend_exit = False
    pend_reason = 0
    pend_entry = 0

    s_prev = np.nan
    ruined = False
    ruin_bar = -1
    k = 0  # trade records written
    # The three market exits below (pending at the open, stop/target in the bar, at the close)
    # repeat the same few lines on purpose: folding them into one inline helper measured 15-20 %
    # slower on 1,000,000 bars (numba's inlining changes the loop's code generation).
    n_closed = 0
    n_wins = 0
    gross_win = 0.0
    gross_loss = 0.0
    ambiguous = 0
    skipped = 0

    # metric accumulators (bars >= warmup)
    eq_peak = init
    max_dd = 0.0
    under = 0
    max_under = 0
    exposed = 0
    dir_n = 0
    dir_hits = 0
    n_metric_bars = 0
    prev_day_eq = init
    nd = 0
    r_mean = 0.0
    r_m2 = 0.0
    down_sq = 0.0
    eq = init

    for t in range(n):
        ot = o[t]
        ht = h[t]
        lt = lo[t]
        ct = c[t]

        # 1) market orders decided at t-1's close fill at this open
        if not fill_close and (pend_exit or pend_entry != 0):
            if pend_exit and side != 0:
                cash_delta, pnl, x_costs = _exit_fill_nb(
                    ot, side, units, entry_price, entry_costs, comm_pct, comm_fixed, slip
                )
                cash += cash_delta
                if rec_all:
                    _write_trade_nb(
                        tr_out,
                        k,
                        entry_bar,
                        t,
                        side,
                        units,
                        entry_price,
                        ot,
                        pnl,
                        entry_costs + x_costs,
                        pend_reason,
                    )
                k += 1
                n_closed += 1
                if pnl > 0.0:
                    n_wins += 1
                    gross_win += pnl
                else:
                    gross_loss -= pnl
                side = 0
                units = 0.0
            if pend_entry != 0 and side == 0:
                u, cash_delta, costs = _entry_fill_nb(
                    ot, pend_entry, cash, fp, ip, comm_pct, comm_fixed, slip
                )
                if u > 0.0:
                    cash += cash_delta
                    side = pend_entry
                    units = u
                    entry_price = ot
                    entry_bar = t
                    entry_costs = costs
                    sl_lvl = ot * (1.0 - side * sl)
                    tp_lvl = ot * (1.0 + side * tp)
                    extreme = ot
                else:
                    skipped += 1
            pend_exit = False
            pend_entry = 0

        # 2) stops and targets inside the bar (live from the fill bar with next_open)
        if side != 0 and (entry_bar < t or not fill_close):
            xp = 0.0
            reason = 0
            if side > 0:
                stop = -np.inf
                stop_reason = EXIT_STOP_LOSS
                if use_sl:
                    stop = sl_lvl
                if use_ts:
                    trail = extreme * (1.0 - ts)
                    if trail > stop:
                        stop = trail
                        stop_reason = EXIT_TRAILING_STOP
                target = tp_lvl if use_tp else np.inf
                if ot <= stop:
                    xp = ot
                    reason = stop_reason
                elif ot >= target:
                    xp = ot
                    reason = EXIT_TAKE_PROFIT
                elif lt <= stop:
                    xp = stop
                    reason = stop_reason
                    if ht >= target:
                        ambiguous += 1
                elif ht >= target:
                    xp = target
                    reason = EXIT_TAKE_PROFIT
                extreme = max(extreme, ht)  # only matters while the trade stays open
            else:
                stop = np.inf
                stop_reason = EXIT_STOP_LOSS
                if use_sl:
                    stop = sl_lvl
                if use_ts:
                    trail = extreme * (1.0 + ts)
                    if trail < stop:
                        stop = trail
                        stop_reason = EXIT_TRAILING_STOP
                target = tp_lvl if use_tp else -np.inf
                if ot >= stop:
                    xp = ot
                    reason = stop_reason
                elif ot <= target:
                    xp = ot
                    reason = EXIT_TAKE_PROFIT
                elif ht >= stop:
                    xp = stop
                    reason = stop_reason
                    if lt <= target:
                        ambiguous += 1
                elif lt <= target:
                    xp = target
                    reason = EXIT_TAKE_PROFIT
                extreme = min(extreme, lt)
            if reason != 0:
                cash_delta, pnl, x_costs = _exit_fill_nb(
                    xp, side, units, entry_price, entry_costs, comm_pct, comm_fixed, slip
                )
                cash += cash_delta
                if rec_all:
                    _write_trade_nb(
                        tr_out,
                        k,
                        entry_bar,
                        t,
                        side,
                        units,
                        entry_price,
                        xp,
                        pnl,
                        entry_costs + x_costs,
                        reason,
                    )
                k += 1
                n_closed += 1
                if pnl > 0.0:
                    n_wins += 1
                    gross_win += pnl
                else:
                    gross_loss -= pnl
                side = 0
                units = 0.0

        # 3) decisions at the close: time exit, signal exit, entry crosses
        exit_now = False
        exit_reason = 0
        entry_dir = 0
        cur = s[t]
        prev = s_prev
        s_prev = cur
        if t >= warmup and not ruined:
            if side != 0:
                if time_exit > 0 and t - entry_bar + lag >= time_exit:
                    exit_now = True
                    exit_reason = EXIT_TIME
                elif signal_exit and (
                    (side > 0 and prev > xthr and cur <= xthr)
                    or (side < 0 and prev < -xthr and cur >= -xthr)
                ):
                    exit_now = True
                    exit_reason = EXIT_SIGNAL
            if side == 0 or exit_now:
                if prev <= thr and cur > thr:
                    entry_dir = 1
                elif allow_short and prev >= -thr and cur < -thr:
                    entry_dir = -1

        if fill_close:
            if exit_now and side != 0:
                cash_delta, pnl, x_costs = _exit_fill_nb(
                    ct, side, units, entry_price, entry_costs, comm_pct, comm_fixed, slip
                )
                cash += cash_delta
                if rec_all:
                    _write_trade_nb(
                        tr_out,
                        k,
                        entry_bar,
                        t,
                        side,
                        units,
                        entry_price,
                        ct,
                        pnl,
                        entry_costs + x_costs,
                        exit_reason,
                    )
                k += 1
                n_closed += 1
                if pnl > 0.0:
                    n_wins += 1
                    gross_win += pnl
                else:
                    gross_loss -= pnl
                side = 0
                units = 0.0
            if entry_dir != 0 and side == 0:
                u, cash_delta, costs = _entry_fill_nb(
                    ct, entry_dir, cash, fp, ip, comm_pct, comm_fixed, slip
                )
                if u > 0.0:
                    cash += cash_delta
                    side = entry_dir
                    units = u
                    entry_price = ct
                    entry_bar = t
                    entry_costs = costs
                    sl_lvl = ct * (1.0 - side * sl)
                    tp_lvl = ct * (1.0 + side * tp)
                    extreme = ct
                else:
                    skipped += 1
        else:
            pend_exit = exit_now
            pend_reason = exit_reason
            pend_entry = entry_dir

        # 4) mark to market at the close; ruin closes everything and ends trading
        pos = side * units
        eq = cash + pos * ct
        if eq <= 0.0 and not ruined:
            ruined = True
            ruin_bar = t
            pend_exit = False
            pend_entry = 0
            if side != 0:
                cash_delta, pnl, x_costs = _exit_fill_nb(
                    ct, side, units, entry_price, entry_costs, comm_pct, comm_fixed, slip
                )
                cash += cash_delta
                if rec_all:
                    _write_trade_nb(
                        tr_out,
                        k,
                        entry_bar,
                        t,
                        side,
                        units,
                        entry_price,
                        ct,
                        pnl,
                        entry_costs + x_costs,
                        EXIT_RUIN,
                    )
                k += 1
                n_closed += 1
                if pnl > 0.0:
                    n_wins += 1
                    gross_win += pnl
                else:
                    gross_loss -= pnl
                side = 0
                units = 0.0
                pos = 0.0
                eq = cash
        if rec_eq:
            eq_out[t] = eq
            if rec_all:
                pos_out[t] = pos
                cash_out[t] = cash
        if t >= warmup:
            n_metric_bars += 1
            # branch-free bookkeeping: these tests are coin flips the CPU cannot predict
            exposed += side != 0
            if t + 1 < n:
                dir_n += (cur > 0.0) | (cur < 0.0)
                dir_hits += cur * (c[t + 1] - ct) > 0.0
            eq_peak = max(eq_peak, eq)
            under = (under + 1) * (eq < eq_peak)
            max_under = max(max_under, under)
            max_dd = min(max_dd, eq / eq_peak - 1.0)
            if day_end[t]:
                # after a ruin the account is flat at <= 0: its later days return 0
                r = eq / prev_day_eq - 1.0 if prev_day_eq > 0.0 else 0.0
                prev_day_eq = eq
                nd += 1
                delta = r - r_mean
                r_mean += delta / nd
                r_m2 += delta * (r - r_mean)
                if r < 0.0:
                    down_sq += r * r

    # an open trade at the end is reported open, valued at the last close
    n_open = 0
    if side != 0:
        n_open = 1
        if rec_all:
            ct = c[n - 1]
            pnl = side * units * (ct - entry_price) - entry_costs
            _write_trade_nb(
                tr_out,
                k,
                entry_bar,
                n - 1,
                side,
                units,
                entry_price,
                ct,
                pnl,
                entry_costs,
                EXIT_END_OF_DATA,
            )
        k += 1

    # ---- compact statistics (same definitions as phi.backtest.metrics) ----
    _write_stats_nb(
        st_out, init, ann, eq, max_dd, max_under, r_mean, r_m2, down_sq, nd, n_metric_bars,
        n_closed, n_open, n_wins, gross_win, gross_loss, exposed, ambiguous, skipped, dir_hits,
        dir_n, ruin_bar if ruined else np.nan,
    )  # fmt: skip
    return k


@njit(cache=True, parallel=True)
def simulate_many_nb(
    o, h, lo, c, sig, day_end, fp, ip, record, eq_out, pos_out, cash_out, tr_out, st_out
):
    """Simulate every row of ``sig`` (m x n, one candidate per row) in parallel.

    Output arrays have the candidate on the first axis; with ``record`` false the
    per-bar outputs may have a zero-length second axis. Returns the trade-record
    count of each candidate.
    """
    m = sig.shape[0]
    counts = np.zeros(m, dtype=np.int64)
    for j in prange(m):
        counts[j] = simulate_col_nb(
            o,
            h,
            lo,
            c,
            sig[j],
            day_end,
            fp,
            ip,
            record,
            eq_out[j],
            pos_out[j],
            cash_out[j],
            tr_out[j],
            st_out[j],
        )
    return counts


@njit(cache=True)
def simulate_serial_nb(
    o, h, lo, c, sig, day_end, fp, ip, record, eq_out, pos_out, cash_out, tr_out, st_out
):
    """:func:`simulate_many_nb` on one thread: for small batches, where starting the parallel
    region costs more than the simulation (same columns, same results)."""
    m = sig.shape[0]
    counts = np.zeros(m, dtype=np.int64)
    for j in range(m):
        counts[j] = simulate_col_nb(
            o, h, lo, c, sig[j], day_end, fp, ip, record,
            eq_out[j], pos_out[j], cash_out[j], tr_out[j], st_out[j],
        )  # fmt: skip
    return counts


@njit(cache=True, inline="always")
def _segments_col_nb(
    j, o, h, lo, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, st_out
):
    """Candidate ``j`` on the segments ``which`` (see :func:`simulate_segments_nb`)."""
    none1 = np.empty(0)
    none2 = np.empty((0, N_TR))
    for i in range(which.shape[0]):
        s = which[i]
        a = offs[s]
        b = offs[s + 1]
        w = starts[s]
        x = sig[j, w : w + b - a]
        e = eq_cols[s]
        if e >= 0:
            simulate_col_nb(
                o[a:b], h[a:b], lo[a:b], c[a:b], x, day_end[a:b], fp[s], ip, RECORD_EQUITY,
                eq_out[j, e : e + b - a], none1, none1, none2, st_out[j, i],
            )  # fmt: skip
        else:
            simulate_col_nb(
                o[a:b], h[a:b], lo[a:b], c[a:b], x, day_end[a:b], fp[s], ip, RECORD_NONE,
                none1, none1, none1, none2, st_out[j, i],
            )  # fmt: skip


@njit(cache=True)
def first_bad_window_nb(sig, lo, hi):
    """Flat index (row * n + bar) of the first value of ``sig[:, lo:hi]`` outside [-1, 1]
    (NaN is allowed); -1 if none."""
    n_bad = 0
    for j in range(sig.shape[0]):
        for t in range(lo, hi):
            n_bad += (sig[j, t] > 1.0) | (sig[j, t] < -1.0)
    if n_bad == 0:
        return -1
    for j in range(sig.shape[0]):
        for t in range(lo, hi):
            if sig[j, t] > 1.0 or sig[j, t] < -1.0:
                return j * sig.shape[1] + t
    return -1


@njit(cache=True, nogil=True)
def simulate_segments_nb(
    o, h, lo, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, st_out
):
    """Every row of ``sig`` (m x n bars) on the segments ``which``, each simulated on its own.

    Segment ``s`` has its bars (prices and day ends) in rows ``offs[s]:offs[s + 1]`` of the
    concatenated ``o, h, lo, c, day_end`` and its signal in ``sig[:, starts[s] : starts[s] +
    offs[s + 1] - offs[s]]``; ``fp[s]`` are its float parameters. ``st_out`` is
    (m, len(which), N_ST); a segment ``s`` with ``eq_cols[s] >= 0`` also writes each row's
    per-bar equity to ``eq_out[j, eq_cols[s] : eq_cols[s] + its bars]``. The same simulations as one :func:`simulate_col_nb` call per (row, segment).
    """
    for j in range(sig.shape[0]):
        _segments_col_nb(
            j, o, h, lo, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, st_out
        )


@njit(cache=True, parallel=True)
def simulate_segments_many_nb(
    o, h, lo, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, st_out
):
    """:func:`simulate_segments_nb` with the rows in parallel (same results)."""
    for j in prange(sig.shape[0]):
        _segments_col_nb(
            j, o, h, lo, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, st_out
        )


# ---- the plain case: next-open fills, no stops, targets or time exits ----------------
#
# Most sweeps (the tuner's walk-forward segments with the default config) trade only on signal
# crosses at the next open. Their bar loop then splits into two cheap passes that give the
# general kernel's numbers bit for bit (tests hold them equal): per candidate, a scalar pass
# over the bars that finds the fills (the same decisions, fills, costs and ruin rule, but only
# the bars where the account changes are written: the cash and position from that bar on); then
# ``LANES`` candidates at a time in lock-step, the equity ``cash + position * close`` of every
# bar and its drawdown and daily-return statistics, the same float operations in the same order
# per candidate, in loops the compiler vectorises (the general kernel's running mean of daily
# returns is one long chain of divisions per candidate; side by side, LANES chains overlap).

#: Candidates simulated side by side in the second pass of the plain kernels.
LANES = 16

# per-candidate counters of the first pass (ev_int[k, field])
PA_CLOSED = 0
PA_WINS = 1
PA_OPEN = 2
PA_SKIPPED = 3
PA_EXPOSED = 4
PA_RUIN = 5  # bar whose close found equity <= 0, -1 if none
PA_RUIN_CLOSE = 6  # that bar if a position was closed there (its equity is the cash), else -1
PA_EVENTS = 7  # account changes written
N_PA = 8

# per-candidate results of the second pass (acc[field, k])
ACC_EQ = 0  # equity at the last bar
ACC_MAX_DD = 1
ACC_MAX_UNDER = 2
ACC_R_MEAN = 3
ACC_R_M2 = 4
ACC_DOWN_SQ = 5
N_ACC = 6


#: Bars per block of :func:`_plain_quiet_until_nb`'s scan (tested without an early exit).
_SCAN = 32


@njit(cache=True, error_model="numpy")
def _plain_quiet_until_nb(c, s, t, warmup, side, pos, cash, thr, xthr, allow_short, signal_exit):
    """The first bar ``>= t`` at which :func:`_plain_fills_nb`'s account may change when no
    order is pending and no ruin has happened: flat (``cash > 0``), a signal cross that enters;
    in a position, a cross that exits (with ``signal_exit``) or a close where
    ``cash + pos * close <= 0`` (ruin); ``n`` if none. Every bar before it only passes. Blocks
    of ``_SCAN`` bars are tested whole (loops without an early exit or a runtime flag inside,
    which the compiler vectorises); the block with a hit is searched bar by bar."""
    n = c.shape[0]
    nthr = -thr
    nx = -xthr
    if side == 0:
        i = max(t, warmup, 1)
        while i + _SCAN <= n:
            hit = False
            if allow_short:
                for q in range(i, i + _SCAN):
                    prev = s[q - 1]
                    cur = s[q]
                    hit |= ((prev <= thr) & (cur > thr)) | ((prev >= nthr) & (cur < nthr))
            else:
                for q in range(i, i + _SCAN):
                    hit |= (s[q - 1] <= thr) & (s[q] > thr)
            if hit:
                break
            i += _SCAN
        for q in range(i, n):
            prev = s[q - 1]
            cur = s[q]
            if (prev <= thr and cur > thr) or (allow_short and prev >= nthr and cur < nthr):
                return q
        return n
    if not signal_exit:
        for i in range(t, n):
            if cash + pos * c[i] <= 0.0:
                return i
        return n
    lo = max(t, 1)
    for i in range(t, min(lo, n)):  # bar 0: no previous signal
        if cash + pos * c[i] <= 0.0:
            return i
    i = max(lo, warmup)
    for q in range(lo, min(i, n)):  # before the warm-up: only a ruin
        if cash + pos * c[q] <= 0.0:
            return q
    long = side > 0
    while i + _SCAN <= n:
        hit = False
        if long:
            for q in range(i, i + _SCAN):
                hit |= ((s[q - 1] > xthr) & (s[q] <= xthr)) | (cash + pos * c[q] <= 0.0)
        else:
            for q in range(i, i + _SCAN):
                hit |= ((s[q - 1] < nx) & (s[q] >= nx)) | (cash + pos * c[q] <= 0.0)
        if hit:
            break
        i += _SCAN
    for q in range(i, n):
        prev = s[q - 1]
        cur = s[q]
        cross = (prev > xthr and cur <= xthr) if long else (prev < nx and cur >= nx)
        if cross or cash + pos * c[q] <= 0.0:
            return q
    return n


@njit(cache=True, error_model="numpy")
def _plain_fills_nb(o, c, s, fp, ip, k, ev_bar, ev_cash, ev_pos, pa, gross):
    """First pass for candidate ``k``: :func:`simulate_col_nb`'s decisions and fills without
    stops or time exits. Writes the bars where the account changes with the cash and position
    from that bar's close on (``ev_*[:pa[k, PA_EVENTS], k]``: a row per change, candidates side
    by side, so that few memory pages are touched) and the trade counters."""
    n = c.shape[0]
    thr = fp[FP_ENTRY_THR]
    xthr = fp[FP_EXIT_THR]
    comm_pct = fp[FP_COMM_PCT]
    comm_fixed = fp[FP_COMM_FIXED]
    slip = fp[FP_SLIP]
    allow_short = ip[IP_ALLOW_SHORT] != 0
    signal_exit = ip[IP_SIGNAL_EXIT] != 0
    warmup = ip[IP_WARMUP]
    cash = fp[FP_INIT_CASH]
    side = 0
    units = 0.0
    entry_price = 0.0
    entry_costs = 0.0
    pend_exit = False
    pend_entry = 0
    s_prev = np.nan
    ruined = False
    ruin_bar = -1
    ruin_close = -1
    n_ev = 0
    n_closed = 0
    n_wins = 0
    gross_win = 0.0
    gross_loss = 0.0
    skipped = 0
    exposed = 0
    t = 0
    while t < n:
        if not (pend_exit or pend_entry != 0 or ruined) and (side != 0 or cash > 0.0):
            # Nothing fills at this open: skip the bars where nothing can happen (no signal
            # cross that counts, no close that ruins), then do the next one in full.
            nxt = _plain_quiet_until_nb(c, s, t, warmup, side, side * units, cash, thr, xthr,
                                        allow_short, signal_exit)  # fmt: skip
            if side != 0:
                exposed += max(0, nxt - max(t, warmup))
            t = nxt
            if t >= n:
                break
            s_prev = s[t - 1] if t > 0 else np.nan
        ct = c[t]
        if pend_exit or pend_entry != 0:
            ot = o[t]
            if pend_exit and side != 0:
                cash_delta, pnl, x_costs = _exit_fill_nb(
                    ot, side, units, entry_price, entry_costs, comm_pct, comm_fixed, slip
                )
                cash += cash_delta
                n_closed += 1
                if pnl > 0.0:
                    n_wins += 1
                    gross_win += pnl
                else:
                    gross_loss -= pnl
                side = 0
                units = 0.0
            if pend_entry != 0 and side == 0:
                u, cash_delta, costs = _entry_fill_nb(
                    ot, pend_entry, cash, fp, ip, comm_pct, comm_fixed, slip
                )
                if u > 0.0:
                    cash += cash_delta
                    side = pend_entry
                    units = u
                    entry_price = ot
                    entry_costs = costs
                else:
                    skipped += 1
            pend_exit = False
            pend_entry = 0
            ev_bar[n_ev, k] = t
            ev_cash[n_ev, k] = cash
            ev_pos[n_ev, k] = side * units
            n_ev += 1
        exit_now = False
        entry_dir = 0
        cur = s[t]
        prev = s_prev
        s_prev = cur
        if t >= warmup and not ruined:
            if (
                side != 0
                and signal_exit
                and (
                    (side > 0 and prev > xthr and cur <= xthr)
                    or (side < 0 and prev < -xthr and cur >= -xthr)
                )
            ):
                exit_now = True
            if side == 0 or exit_now:
                if prev <= thr and cur > thr:
                    entry_dir = 1
                elif allow_short and prev >= -thr and cur < -thr:
                    entry_dir = -1
        pend_exit = exit_now
        pend_entry = entry_dir
        pos = side * units
        eq = cash + pos * ct
        if eq <= 0.0 and not ruined:
            ruined = True
            ruin_bar = t
            pend_exit = False
            pend_entry = 0
            if side != 0:
                cash_delta, pnl, x_costs = _exit_fill_nb(
                    ct, side, units, entry_price, entry_costs, comm_pct, comm_fixed, slip
                )
                cash += cash_delta
                n_closed += 1
                if pnl > 0.0:
                    n_wins += 1
                    gross_win += pnl
                else:
                    gross_loss -= pnl
                side = 0
                units = 0.0
                ruin_close = t
                if n_ev > 0 and ev_bar[n_ev - 1, k] == t:  # a fill at this bar's open
                    n_ev -= 1
                ev_bar[n_ev, k] = t
                ev_cash[n_ev, k] = cash
                ev_pos[n_ev, k] = 0.0
                n_ev += 1
        if t >= warmup:
            exposed += side != 0
        if ruined:  # nothing trades again, the account is flat
            break
        t += 1
    pa[k, PA_CLOSED] = n_closed
    pa[k, PA_WINS] = n_wins
    pa[k, PA_OPEN] = side != 0
    pa[k, PA_SKIPPED] = skipped
    pa[k, PA_EXPOSED] = exposed
    pa[k, PA_RUIN] = ruin_bar
    pa[k, PA_RUIN_CLOSE] = ruin_close
    pa[k, PA_EVENTS] = n_ev
    gross[k, 0] = gross_win
    gross[k, 1] = gross_loss


@njit(cache=True)
def _direction_nb(c, s, warmup):
    """(signals with a side, of which the next bar's move agreed) over bars ``warmup..n-2``:
    :func:`simulate_col_nb`'s direction accuracy counts."""
    dir_n = 0
    dir_hits = 0
    for t in range(warmup, c.shape[0] - 1):
        cur = s[t]
        dir_n += (cur > 0.0) | (cur < 0.0)
        dir_hits += cur * (c[t + 1] - c[t]) > 0.0
    return dir_n, dir_hits


@njit(cache=True, error_model="numpy")
def _plain_equity_nb(
    c, day_end, init, warmup, ev_bar, ev_cash, ev_pos, pa, eq_out, eq_col, ret_out, ret_col, j0,
    nl, acc,
):  # fmt: skip
    """Second pass, ``LANES`` candidates in lock-step: every bar's equity from the first pass's
    account changes, and :func:`simulate_col_nb`'s drawdown and daily-return accumulators
    (written to ``acc[field, k]``: ACC_*); with ``eq_col >= 0``, ``nl`` rows of ``eq_out`` from
    ``j0`` on get each candidate's per-bar equity from column ``eq_col`` on, and with
    ``ret_col >= 0`` rows of ``ret_out`` its per-bar returns ``equity[t] / equity[t - 1] - 1``
    (t >= 1) from column ``ret_col`` on. Returns (metric bars, trading days)."""
    n = c.shape[0]
    cash = np.full(LANES, init)
    pos = np.zeros(LANES)
    ruin_close = np.empty(LANES, dtype=np.int64)
    nxt = np.empty(LANES, dtype=np.int64)  # each candidate's next account change
    ptr = np.zeros(LANES, dtype=np.int64)
    for k in range(LANES):
        ruin_close[k] = pa[k, PA_RUIN_CLOSE]
        nxt[k] = ev_bar[0, k] if pa[k, PA_EVENTS] > 0 else n
    nxt_any = nxt.min()
    eq = np.empty(LANES)
    last = np.empty(LANES)  # the previous bar's equity (for ret_out)
    eq_peak = np.full(LANES, init)
    max_dd = np.zeros(LANES)
    under = np.zeros(LANES, dtype=np.int64)
    max_under = np.zeros(LANES, dtype=np.int64)
    prev_day_eq = np.full(LANES, init)
    r_mean = np.zeros(LANES)
    r_m2 = np.zeros(LANES)
    down_sq = np.zeros(LANES)
    nd = 0
    n_metric = 0
    for t in range(n):
        if t == nxt_any:
            for k in range(LANES):
                if nxt[k] == t:
                    p = ptr[k]
                    cash[k] = ev_cash[p, k]
                    pos[k] = ev_pos[p, k]
                    p += 1
                    ptr[k] = p
                    nxt[k] = ev_bar[p, k] if p < pa[k, PA_EVENTS] else n
            nxt_any = nxt.min()
        ct = c[t]
        for k in range(LANES):
            e = cash[k] + pos[k] * ct
            eq[k] = cash[k] if t == ruin_close[k] else e
        if eq_col >= 0:
            for k in range(nl):
                eq_out[j0 + k, eq_col + t] = eq[k]
        if ret_col >= 0:
            if t > 0:
                for k in range(nl):
                    ret_out[j0 + k, ret_col + t - 1] = eq[k] / last[k] - 1.0
            for k in range(LANES):
                last[k] = eq[k]
        if t < warmup:
            continue
        n_metric += 1
        for k in range(LANES):
            e = eq[k]
            pk = max(eq_peak[k], e)
            eq_peak[k] = pk
            u = (under[k] + 1) * (e < pk)
            under[k] = u
            max_under[k] = max(max_under[k], u)
            max_dd[k] = min(max_dd[k], e / pk - 1.0)
        if day_end[t]:
            nd += 1
            for k in range(LANES):
                e = eq[k]
                p = prev_day_eq[k]
                # after a ruin the account is flat at <= 0: its later days return 0
                r = e / p - 1.0 if p > 0.0 else 0.0
                prev_day_eq[k] = e
                delta = r - r_mean[k]
                rm = r_mean[k] + delta / nd
                r_mean[k] = rm
                r_m2[k] += delta * (r - rm)
                d2 = down_sq[k]
                down_sq[k] = d2 + r * r if r < 0.0 else d2
    acc[ACC_EQ] = eq
    acc[ACC_MAX_DD] = max_dd
    acc[ACC_MAX_UNDER] = max_under
    acc[ACC_R_MEAN] = r_mean
    acc[ACC_R_M2] = r_m2
    acc[ACC_DOWN_SQ] = down_sq
    return n_metric, nd


@njit(cache=True, error_model="numpy")
def _plain_stats_nb(init, ann, n_metric, nd, acc, k, pa, gross, dir_n, dir_hits, st_out):
    """:func:`simulate_col_nb`'s compact statistics of candidate ``k`` from the two passes."""
    ruin = pa[k, PA_RUIN]
    _write_stats_nb(
        st_out, init, ann, acc[ACC_EQ, k], acc[ACC_MAX_DD, k], acc[ACC_MAX_UNDER, k],
        acc[ACC_R_MEAN, k], acc[ACC_R_M2, k], acc[ACC_DOWN_SQ, k], nd, n_metric, pa[k, PA_CLOSED],
        pa[k, PA_OPEN], pa[k, PA_WINS], gross[k, 0], gross[k, 1], pa[k, PA_EXPOSED], 0,
        pa[k, PA_SKIPPED], dir_hits, dir_n, ruin if ruin >= 0 else np.nan,
    )  # fmt: skip


@njit(cache=True)
def _plain_block_nb(
    j0, o, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, ret_cols, ret_out, st_out
):
    """Candidates ``j0 .. j0 + LANES - 1`` (those that exist) on the segments ``which``."""
    m = sig.shape[0]
    nl = min(LANES, m - j0)
    longest = 0
    for i in range(which.shape[0]):
        longest = max(longest, offs[which[i] + 1] - offs[which[i]])
    ev_bar = np.empty((longest, LANES), dtype=np.int64)
    ev_cash = np.empty((longest, LANES))
    ev_pos = np.empty((longest, LANES))
    pa = np.zeros((LANES, N_PA), dtype=np.int64)  # lanes past the last candidate: no fills
    pa[:, PA_RUIN] = -1
    pa[:, PA_RUIN_CLOSE] = -1
    gross = np.empty((LANES, 2))
    acc = np.empty((N_ACC, LANES))
    warmup = ip[IP_WARMUP]
    for i in range(which.shape[0]):
        s = which[i]
        a = offs[s]
        b = offs[s + 1]
        w = starts[s]
        for k in range(nl):
            x = sig[j0 + k, w : w + b - a]
            _plain_fills_nb(o[a:b], c[a:b], x, fp[s], ip, k, ev_bar, ev_cash, ev_pos, pa, gross)
        n_metric, nd = _plain_equity_nb(
            c[a:b], day_end[a:b], fp[s, FP_INIT_CASH], warmup, ev_bar, ev_cash, ev_pos, pa,
            eq_out, eq_cols[s], ret_out, ret_cols[s], j0, nl, acc,
        )  # fmt: skip
        for k in range(nl):
            dir_n, dir_hits = _direction_nb(c[a:b], sig[j0 + k, w : w + b - a], warmup)
            _plain_stats_nb(
                fp[s, FP_INIT_CASH], fp[s, FP_ANN], n_metric, nd, acc, k, pa, gross,
                dir_n, dir_hits, st_out[j0 + k, i],
            )  # fmt: skip


@njit(cache=True, nogil=True)
def simulate_segments_plain_nb(
    o, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, ret_cols, ret_out, st_out
):
    """:func:`simulate_segments_nb` for next-open fills without stops, targets or time exits
    (any costs, sizing or sides): the same results, bit for bit, ``LANES`` candidates at a time.
    A segment ``s`` with ``ret_cols[s] >= 0`` also writes its per-bar returns ``equity[t] /
    equity[t - 1] - 1`` (t >= 1: one fewer than its bars) to ``ret_out`` from that column on."""
    for j0 in range(0, sig.shape[0], LANES):
        _plain_block_nb(
            j0, o, c, day_end, offs, starts, which, sig, fp, ip, eq_cols, eq_out, ret_cols,
            ret_out, st_out,
        )  # fmt: skip


@njit(cache=True, parallel=True)
def simulate_segments_plain_split_nb(
    o, c, day_end, offs, starts, which, cuts, sig, fp, ip, eq_cols, eq_out, ret_cols, ret_out,
    st_out,
):  # fmt: skip
    """:func:`simulate_segments_plain_nb` with every (block of candidates, group of segments)
    pair in parallel: group ``g`` is ``which[cuts[g]:cuts[g + 1]]``. Each segment of each
    candidate is simulated alone whoever runs it, so the results are the same bit for bit; a
    batch of one block still fills two threads when its segments form two groups."""
    n_groups = cuts.shape[0] - 1
    for q in prange(((sig.shape[0] + LANES - 1) // LANES) * n_groups):
        blk = q // n_groups
        g0 = cuts[q % n_groups]
        g1 = cuts[q % n_groups + 1]
        _plain_block_nb(
            blk * LANES, o, c, day_end, offs, starts, which[g0:g1], sig, fp, ip, eq_cols, eq_out,
            ret_cols, ret_out, st_out[:, g0:g1],
        )  # fmt: skip
