"""The options backtest on a real end-of-day chain (``OptionsConfig(chain=path)``).

Same signal rule, structures, exits and sizing as the synthetic simulator
(:mod:`phi.options.simulator`), priced from quotes instead of a model:

* **Timing.** End-of-day quotes: a decision at bar t's close (the signal, the chain listed
  that day) fills at the quotes of the next bar's day (t+1) — the first prices after the
  decision. A stock leg (covered call) fills at that bar's close.
* **Contracts.** The expiry listed on day t whose days to expiry (from day t+1) are nearest
  ``dte``; strikes among the strikes listed for it on day t: nearest the moneyness target
  from close t, or by |delta| (the chain's ``delta``, else Black-Scholes from its ``iv``).
* **Fills.** ``chain_fill="bid_ask"``: bought at the ask, sold at the bid; ``"mid"``: the mid
  ``x (1 +/- bid_ask_haircut)``; plus ``commission_per_contract``. Marks at each close: the mid.
  An early exit never fills below the position's worst payoff at expiry (the synthetic
  simulator's *Sizing*): quotes wider than that have every fill's distance from its mid cut by
  one factor (a ruin close-out, at marks already below it, fills at the quotes).
* **Missing quotes** are never invented: an entry whose legs are not all quoted on the fill
  day is skipped; an exit waits for the first day with every leg quoted (or expiry); a mark
  without a quote keeps the last mark. Every case is a row of ``OptionsResult.missing_quotes``
  and is counted in the ledger.
* **Expiry** settles at intrinsic value from the underlying's close of the last bar on or
  before the expiry day.
* **Ruin** as the synthetic simulator's (:mod:`phi.options.simulator`): at the first close
  with every open leg quoted where ``equity = cash + marks`` is <= 0, everything still open is
  closed at that day's quotes as an exit fills (ask to buy, bid to sell, or the mid -/+
  haircut; commission), ``exit_reason="ruin"``, and nothing trades again (an entry already
  filling that day is sized from the cash <= 0 and skipped). A close where a leg is unquoted
  (its mark the last mid, stale) decides no ruin: the equity curve shows that mark, but a spread
  marked beyond its width on a stale leg is not forced out at the next quotes. So the ruin
  close is always the close-out's (every leg is quoted there). The equity is constant from the
  close-out on; the ledger's ``ruin`` / ``ruin_bar`` name the bar.
* **P&L by greek** from the chain's ``iv`` (Black-Scholes greeks at the previous close); with
  no ``iv`` column all of the mark-to-market P&L is residual.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from phi.backtest._inputs import _Bars
from phi.backtest.engine_config import EngineConfig
from phi.options import _sim_nb as nb
from phi.options.black_scholes import bs_greeks, implied_vol
from phi.options.chains import OptionChain, choose_expiry, choose_strike
from phi.options.config import OptionsConfig
from phi.options.structures import STRUCTURES, get_structure

__all__ = ["simulate_chain"]

_KIND = {"call": 1.0, "put": -1.0, "stock": 0.0}


def _crosses(sig: np.ndarray, thr: float, xthr: float, directional: bool) -> tuple[np.ndarray, ...]:
    prev = np.r_[np.nan, sig[:-1]]
    with np.errstate(invalid="ignore"):
        if not directional:
            a, pa = np.abs(sig), np.abs(prev)
            up = (pa <= thr) & (a > thr)
            return up.astype(np.int64), (pa > xthr) & (a <= xthr), (pa > xthr) & (a <= xthr)
        side = np.where((prev <= thr) & (sig > thr), 1, np.where((prev >= -thr) & (sig < -thr), -1, 0))
        return side, (prev > xthr) & (sig <= xthr), (prev < -xthr) & (sig >= -xthr)


def _leg_delta(rows: pd.DataFrame, s: float, tau: float, o: OptionsConfig, kind: str) -> np.ndarray:
    if "delta" in rows and rows["delta"].notna().any():
        return np.abs(rows["delta"].to_numpy(dtype=np.float64))
    if "iv" in rows:
        vol = rows["iv"].to_numpy(dtype=np.float64)
    else:
        mid = ((rows["bid"] + rows["ask"]) / 2).to_numpy(dtype=np.float64)
        with np.errstate(all="ignore"):
            vol = implied_vol(mid, s, rows["strike"].to_numpy(), tau, o.risk_free_rate, o.dividend_yield, kind)
    k = rows["strike"].to_numpy(dtype=np.float64)
    return np.abs(bs_greeks(s, k, tau, o.risk_free_rate, o.dividend_yield, vol, kind).delta)


def _strike(listed: pd.DataFrame, kind: str, role: str, s: float, tau: float, o: OptionsConfig) -> float | None:
    """The listed strike for a leg; a far leg never takes its near leg's strike (the next one
    listed further out instead, None if there is none), so a spread never collapses."""
    k = _listed_strike(listed, kind, role, s, tau, o)
    if role != "far" or k is None or k != _listed_strike(listed, kind, "near", s, tau, o):
        return k
    ks = listed.loc[listed["kind"] == kind, "strike"].to_numpy(dtype=np.float64)
    out = ks[_KIND[kind] * (ks - k) > 0]
    return None if out.size == 0 else float(out.min() if kind == "call" else out.max())


def _listed_strike(listed: pd.DataFrame, kind: str, role: str, s: float, tau: float, o: OptionsConfig) -> float | None:
    rows = listed[listed["kind"] == kind]
    if rows.empty:
        return None
    if role == "atm":
        return choose_strike(rows["strike"].to_numpy(), s)
    i = 0 if role == "near" else 1
    if o.strike_rule == "moneyness":
        return choose_strike(rows["strike"].to_numpy(), s * (1.0 + _KIND[kind] * o.moneyness[i]))
    d = _leg_delta(rows, s, tau, o, kind)
    ok = np.isfinite(d)
    if not ok.any():
        return None
    k = rows["strike"].to_numpy(dtype=np.float64)[ok]
    return float(k[int(np.argmin(np.abs(d[ok] - o.delta[i])))])


def _fill(pay_up: np.ndarray, mid: np.ndarray, bid: np.ndarray, ask: np.ndarray, o: OptionsConfig) -> np.ndarray:
    """Per-share fill of each leg: where ``pay_up`` (buying, to open or to close) the ask or the
    mid x (1 + haircut), else the bid or the mid x (1 - haircut)."""
    if o.chain_fill == "mid":
        h = o.bid_ask_haircut
        return np.where(pay_up, mid * (1 + h), mid * (1 - h))
    return np.where(pay_up, ask, bid)


def _exit_cap(w: np.ndarray, mid: np.ndarray, px_out: np.ndarray, floor: float) -> np.ndarray:
    """An exit's per-share fills ``px_out`` (``w`` the legs' signed shares), each leg's distance
    from its ``mid`` scaled down by one factor so that the proceeds are no less than ``floor``, the
    position's worst payoff at expiry (at the mids when the mids alone are below it), as the
    synthetic kernel's exits (:func:`phi.options._sim_nb._exit_haircut`)."""
    at_mid = float(np.sum(w * mid))
    cut = at_mid - float(np.sum(w * px_out))  # what the fills cost against the mids
    if cut <= 0.0 or at_mid - cut >= floor:
        return px_out
    return mid + (px_out - mid) * (max(at_mid - floor, 0.0) / cut)


def _first_quoted(quoted: np.ndarray, start: int) -> tuple[int | None, list[tuple[int, int]]]:
    """The first close (index into the trade's span) from ``start`` with every leg quoted (None:
    none to the span's end) and the ``(close, leg)`` quotes waited for until then."""
    ok = np.flatnonzero(quoted[:, start:].all(axis=0))
    stop = start + int(ok[0]) if ok.size else quoted.shape[1]
    legs, closes = np.nonzero(~quoted[:, start:stop])
    waits = [(start + int(i), int(j)) for j, i in zip(legs, closes, strict=True)]
    return (stop if ok.size else None), waits


def _max_loss(kinds: list[float], qty: list[int], strikes: list[float], debit: float, mult: float, s: float) -> float:
    """The loss per unit at expiry from a cash outlay ``debit`` (payoff at 0, every strike and
    far above); < 0 when every payout exceeds the outlay."""
    ks = [k for k, kd in zip(strikes, kinds, strict=True) if kd != 0.0]
    worst = -np.inf
    for st in [0.0, 3.0 * max([s, *ks]), *ks]:
        pay = sum(
            q * mult * (st if kd == 0.0 else max(kd * (st - k), 0.0))
            for kd, q, k in zip(kinds, qty, strikes, strict=True)
        )
        worst = max(worst, debit - pay)
    return worst


def simulate_chain(
    bars: _Bars,
    sig: np.ndarray,
    o: OptionsConfig,
    engine: EngineConfig,
    chain: OptionChain,
    structure_at: np.ndarray | None = None,
) -> dict[str, Any]:
    """Run the chain-priced backtest; returns arrays and tables for the result builder.

    ``structure_at`` (``structure="auto"``): per bar, the structure an entry decided at that
    close opens (None: no entry); default: ``o.structure`` on every bar."""
    n = len(bars.index)
    days = bars.index.normalize()
    close = bars.close
    mult, comm = o.multiplier, o.commission_per_contract
    thr, xthr = engine.entry_threshold, engine.exit_threshold
    if structure_at is None:
        structure_at = np.full(n, o.structure, dtype=object)
    directional_at = np.array([get_structure(x).directional if x else True for x in structure_at])
    d_side, d_xl, d_xs = _crosses(sig, thr, xthr, True)
    n_side, n_xl, _ = _crosses(sig, thr, xthr, False)
    has = np.array([x is not None for x in structure_at])
    entry_side = np.where(has, np.where(directional_at, d_side, n_side), 0)
    exits = {True: (d_xl, d_xs), False: (n_xl, n_xl)}
    eq = np.full(n, np.nan)
    cash_arr = np.full(n, np.nan)
    value = np.zeros(n)
    units_arr = np.zeros(n)
    greeks = np.zeros((n, 4))
    attr = np.zeros((n, 6))
    trades: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    cash = engine.initial_capital
    skipped = 0
    skips = np.zeros((nb.N_SKIP, nb.N_SK))  # why entries were skipped or cut, as the kernel's
    codes = {name: i for i, name in enumerate(STRUCTURES)}

    def skip(why: int, bar: int, need: float = np.nan, name: str = o.structure) -> None:
        row = skips[why]
        if row[nb.SK_COUNT] == 0:
            row[nb.SK_BAR], row[nb.SK_CASH], row[nb.SK_NEED] = bar, cash, need
            row[nb.SK_STRUCT] = codes.get(name, 0)
        row[nb.SK_COUNT] += 1
    t = max(engine.warmup_bars, 0)
    reopen: tuple[int, int] | None = None
    ruin_bar = -1  # the close with equity <= 0, where everything still open is closed (-1: none)

    def miss(day: pd.Timestamp, exp: Any, k: Any, kind: str, use: str) -> None:
        missing.append({"date": day, "expiry": exp, "strike": k, "kind": kind, "use": use})

    while t < n - 1:
        if reopen is not None:
            c, side = reopen
            reopen = None
        else:
            cand = np.flatnonzero(entry_side[t : n - 1])
            if len(cand) == 0:
                break
            c = t + int(cand[0])
            side = int(entry_side[c])
        if 0 <= ruin_bar <= c:  # ruined: no order after the ruin close
            break
        f = c + 1
        t = c + 1
        if structure_at[c] is None:
            continue
        st = get_structure(str(structure_at[c]))
        exit_long, exit_short = exits[st.directional]
        side_legs = st.bullish if (side > 0 or not st.directional) else st.bearish
        if not side_legs or np.isnan(close[c]):
            continue
        listed = chain.listed_on(days[c])
        expiry = choose_expiry(listed, days[f], o.dte) if len(listed) else None
        if expiry is None:
            miss(days[c], None, None, "any", "entry: no expiry listed")
            skipped += 1
            skip(nb.SKIP_QUOTE, f, name=st.name)
            continue
        listed = listed[listed["expiry"] == expiry]
        tau_c = (expiry - days[c]).days / 365.0
        kinds, qty, strikes = [], [], []
        for leg in side_legs:
            k = close[f] if leg.kind == "stock" else _strike(listed, leg.kind, leg.role, close[c], tau_c, o)
            kinds.append(_KIND[leg.kind])
            qty.append(leg.qty)
            strikes.append(np.nan if k is None else k)
        s_bar = int(np.searchsorted(days, expiry, side="right")) - 1  # last bar on/before expiry
        span = days[f : s_bar + 1]
        quotes = [
            None if kd == 0.0 else chain.series(expiry, k, leg.kind, span)
            for kd, k, leg in zip(kinds, strikes, side_legs, strict=True)
        ]
        gone = [j for j, qf in enumerate(quotes) if qf is not None and not np.isfinite(qf["bid"].iloc[0] + qf["ask"].iloc[0])]
        if any(np.isnan(strikes)) or gone:
            for j in gone or range(len(side_legs)):
                miss(days[f], expiry, strikes[j], side_legs[j].kind, "entry")
            skipped += 1
            skip(nb.SKIP_QUOTE, f, name=st.name)
            continue
        # marks (mid; stock: close) and fills
        m = len(span)
        mid = np.empty((len(kinds), m))
        bid = np.empty((len(kinds), m))
        ask = np.empty((len(kinds), m))
        iv = np.full((len(kinds), m), np.nan)
        for j, qf in enumerate(quotes):
            if qf is None:
                mid[j] = bid[j] = ask[j] = close[f : s_bar + 1]
                continue
            bid[j], ask[j] = qf["bid"].to_numpy(), qf["ask"].to_numpy()
            mid[j] = (bid[j] + ask[j]) / 2.0
            if "iv" in qf:
                iv[j] = qf["iv"].ffill().to_numpy()
        quoted = np.isfinite(mid)
        mark = pd.DataFrame(mid.T).ffill().to_numpy().T.copy()
        q = np.asarray(qty, dtype=np.float64)
        px_in = _fill(q > 0, mid[:, 0], bid[:, 0], ask[:, 0], o)
        is_opt = np.asarray(kinds) != 0.0
        px_in[~is_opt] = mid[~is_opt, 0]
        debit_u = float(np.sum(q * mult * px_in))
        mid_u = float(np.sum(q * mult * mid[:, 0]))
        hc_u = debit_u - mid_u  # the entry's haircut (ask - mid / mid - bid, or mid x haircut)
        comm_u = comm * float(np.sum(np.abs(q)))
        # cash-secured (no margin), as the synthetic kernel (phi.options._sim_nb.simulate_nb): the
        # maximum loss at expiry from the mids (>= 0), the entry's haircut and the commissions
        # both ways never exceed the cash, so the fills alone leave the equity at the entry close
        # (marked at those mids) >= the maximum loss from there
        loss_u = _max_loss(kinds, qty, strikes, mid_u, mult, close[f])
        risk_u = max(loss_u, 0.0) + hc_u + 2 * comm_u
        fixed = o.contracts is not None
        u = float(o.contracts) if o.contracts is not None else (np.floor(cash * o.risk_pct / risk_u) if risk_u > 0 else 0.0)
        need = max(risk_u, debit_u + comm_u)
        if debit_u + comm_u > 0:
            u = min(u, np.floor(cash / (debit_u + comm_u)))
        if risk_u > 0:
            u = min(u, np.floor(cash / risk_u))
        if u < 1 or cash <= 0:  # cash <= 0: an entry filling at a ruinous exit's quotes
            skipped += 1
            why = nb.SKIP_CASH if cash < need or cash <= 0 else (nb.SKIP_RISK if fixed or risk_u > 0 else nb.SKIP_NO_RISK)
            skip(why, f, need, st.name)
            continue
        if o.contracts is not None and u < o.contracts:
            skip(nb.CUT, f, u, st.name)
        w = q * u * mult
        cash -= float(np.sum(w * px_in)) + comm_u * u
        cash_hold = cash
        entry_value = debit_u * u
        prem = abs(float(np.sum((q * mult * px_in)[is_opt]))) * u
        vals = (w[:, None] * mark).sum(axis=0)  # position value at each close of the span
        pnl = vals - entry_value
        # exit decision at a close d in [f, s_bar): stop, target, roll, signal (in that order)
        dd = np.arange(f, s_bar + 1)
        rs = np.full(m, "", dtype=object)
        sig_x = exit_long[dd] if (side > 0 or not st.directional) else exit_short[dd]
        rs[sig_x] = "signal"
        if o.roll_dte is not None:
            rs[((expiry - span).days.to_numpy() <= o.roll_dte)] = "roll"
        if o.profit_target_pct is not None:
            rs[pnl >= o.profit_target_pct * prem] = "take_profit"
        if o.stop_loss_pct is not None:
            rs[pnl <= -o.stop_loss_pct * prem] = "stop_loss"
        rs[(dd >= s_bar) | (dd + 1 >= n)] = ""
        dec = np.flatnonzero(rs != "")
        x, reason, proceeds, x_cost = s_bar, "expiry", 0.0, 0.0
        fill_i: int | None = None
        waits: list[tuple[int, int]] = []
        if dec.size:
            d = int(dec[0])
            fill_i, waits = _first_quoted(quoted, d + 1)
            if fill_i is not None:
                reason = str(rs[d])
        # ruin: the first close the position is open at (before the exit fills; to the last bar
        # if it stays open) with every leg quoted that day and equity <= 0 (a leg's stale mark,
        # the last mid kept while it is unquoted, is no evidence of ruin: it could force a solvent
        # spread out at the next quotes) -> closed at that close's quotes. Never later: every leg
        # is quoted there; and no exit decided earlier is waiting for a quote then (it fills at the
        # first close from its decision with every leg quoted, so that close would come first)
        held = fill_i if fill_i is not None else (m if days[s_bar] < expiry and s_bar == n - 1 else m - 1)
        below = np.flatnonzero((cash_hold + vals[:held] <= 0.0) & quoted[:, :held].all(axis=0))
        if below.size:
            i_r = int(below[0])
            ruin_bar = f + i_r
            fill_i, waits, reason = i_r, [], "ruin"
        exit_missing = [(span[i], j) for i, j in waits]
        if fill_i is not None:
            x = f + fill_i
            px_out = _fill(q < 0, mid[:, fill_i], bid[:, fill_i], ask[:, fill_i], o)
            px_out[~is_opt] = mid[~is_opt, fill_i]
            if reason != "ruin":  # a ruin close-out pays the full spread (its marks are below the floor)
                px_out = _exit_cap(w, mid[:, fill_i], px_out, (mid_u - loss_u) * u)
            proceeds = float(np.sum(w * px_out))
            x_cost = float(np.sum(w * (mark[:, fill_i] - px_out))) + comm_u * u
            cash += proceeds - comm_u * u
        if reason == "expiry":
            if days[s_bar] < expiry and s_bar == n - 1:
                reason = "end_of_data"
                px_out = mark[:, -1]
            else:
                s = close[s_bar]
                px_out = np.where(is_opt, np.maximum(np.asarray(kinds) * (s - np.asarray(strikes)), 0.0), s)
                mark[:, -1] = px_out
            proceeds = float(np.sum(w * px_out))
            if reason == "expiry":
                cash += proceeds
        i_x = x - f
        # the quotes this trade needed and did not find: marks before the exit (and the last
        # one of a trade still open), then the days an exit waited for a quote
        for j, i in zip(*np.nonzero(~quoted[:, : i_x + (reason == "end_of_data")]), strict=True):
            miss(span[i], expiry, strikes[j], side_legs[j].kind, "mark")
        for day, j in exit_missing:
            miss(day, expiry, strikes[j], side_legs[j].kind, "exit")
        vals = (w[:, None] * mark).sum(axis=0)
        value[f : x + 1] = vals[: i_x + 1]
        units_arr[f:x] = u
        open_end = reason == "end_of_data"
        if open_end:
            units_arr[x] = u
        else:
            value[x] = 0.0
        eq[f:x] = cash_hold + value[f:x]
        cash_arr[f:x] = cash_hold
        eq[x] = cash + value[x]
        cash_arr[x] = cash
        # greeks at each close (from the chain's iv) and P&L by greek
        kk = np.asarray(strikes, dtype=np.float64)
        tau = np.maximum((expiry - span[: i_x + 1]).days.to_numpy() / 365.0, 0.0)
        kinds_a = np.asarray(kinds)
        S = close[f : x + 1]
        g = np.zeros((4, len(kinds), i_x + 1))
        for j in range(len(kinds)):
            if kinds_a[j] == 0.0:
                g[0, j] = 1.0
                continue
            with np.errstate(all="ignore"):
                gr = bs_greeks(S, kk[j], tau, o.risk_free_rate, o.dividend_yield, iv[j, : i_x + 1], "call" if kinds_a[j] > 0 else "put")
            g[:, j] = np.nan_to_num(np.vstack([gr.delta, gr.gamma, gr.vega, gr.theta]))
        port = (w[None, :, None] * g).sum(axis=1).T
        greeks[f : x + (1 if open_end else 0)] = port[: i_x + (1 if open_end else 0)]
        dS = np.diff(S)
        dv = np.nan_to_num(np.diff(iv[:, : i_x + 1], axis=1))
        dt = np.diff(span[: i_x + 1].asi8) / (365 * 86_400e9)
        parts = np.zeros((i_x, 4))
        parts[:, 0] = (w[:, None] * g[0, :, :-1] * dS).sum(axis=0)
        parts[:, 1] = (w[:, None] * 0.5 * g[1, :, :-1] * dS**2).sum(axis=0)
        parts[:, 2] = (w[:, None] * g[2, :, :-1] * dv).sum(axis=0)
        parts[:, 3] = (w[:, None] * g[3, :, :-1] * dt).sum(axis=0)
        dval = np.diff(vals[: i_x + 1])
        attr[f + 1 : x + 1, :4] += parts
        attr[f + 1 : x + 1, 4] += dval - parts.sum(axis=1)
        in_cost = float(np.sum(w * (px_in - mark[:, 0]))) + comm_u * u
        attr[f, 5] -= in_cost
        attr[x, 5] -= x_cost
        pnl_x = proceeds - entry_value - comm_u * u * (1 if open_end or reason == "expiry" else 2)
        tot = parts.sum(axis=0)
        trades.append(
            {
                "entry_bar": f, "exit_bar": x, "side": side if st.directional else 0, "units": u,
                "structure": st.name,
                "entry_spot": close[f], "exit_spot": close[x], "entry_value": entry_value,
                "exit_value": proceeds, "premium": prem, "max_loss": risk_u * u, "pnl": pnl_x,
                "exit_reason": reason, "costs": in_cost + x_cost, "expiry": expiry,
                "pnl_delta": tot[0], "pnl_gamma": tot[1], "pnl_vega": tot[2], "pnl_theta": tot[3],
                "pnl_residual": float(dval.sum() - tot.sum()), "pnl_costs": -(in_cost + x_cost),
            }
        )  # fmt: skip
        for j, leg in enumerate(side_legs):
            legs.append(
                {
                    "trade": len(trades) - 1, "kind": leg.kind, "contracts": qty[j] * u,
                    "strike": np.nan if leg.kind == "stock" else strikes[j], "expiry": expiry,
                    "entry_time": bars.index[f], "exit_time": bars.index[x],
                    "entry_price": px_in[j], "exit_price": px_out[j],
                    "entry_iv": iv[j, 0], "entry_delta": g[0, j, 0], "entry_gamma": g[1, j, 0],
                    "entry_vega": g[2, j, 0], "entry_theta": g[3, j, 0], "exit_iv": iv[j, i_x],
                    "exit_delta": g[0, j, i_x], "exit_gamma": g[1, j, i_x],
                    "exit_vega": g[2, j, i_x], "exit_theta": g[3, j, i_x],
                }
            )  # fmt: skip
        if ruin_bar >= 0:  # ruined while open: closed out above, nothing trades again
            break
        if open_end:
            break
        if cash <= 0.0:  # flat at x: an exit's fills (or the settlement) took the equity to <= 0
            ruin_bar = x
        if reason == "roll" and dec.size and x == f + int(dec[0]) + 1:
            d_bar = f + int(dec[0])
            s_d = sig[d_bar]
            beyond = abs(s_d) > engine.entry_threshold if not st.directional else side * s_d > engine.entry_threshold
            if beyond:
                reopen = (d_bar, side)
        t = x - 1 if reason != "expiry" else x  # the exit's decision bar may open the next
    eq[0] = engine.initial_capital if np.isnan(eq[0]) else eq[0]
    cash_arr[0] = engine.initial_capital if np.isnan(cash_arr[0]) else cash_arr[0]
    eq = pd.Series(eq).ffill().to_numpy()
    cash_arr = pd.Series(cash_arr).ffill().to_numpy()
    return {
        "equity": eq, "cash": cash_arr, "value": value, "units": units_arr, "greeks": greeks,
        "attr": attr, "trades": trades, "legs": legs, "skipped": skipped, "skips": skips,
        "ruin_bar": ruin_bar,
        "missing": pd.DataFrame(missing, columns=["date", "expiry", "strike", "kind", "use"]),
    }  # fmt: skip
