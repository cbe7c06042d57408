"""Slow, plain-Python reference of the portfolio bar loop — a test oracle only.

Written one event at a time with lists and dicts, independently of the numba kernel
(:mod:`phi.backtest._portfolio_nb`), following the rules in :mod:`phi.backtest.portfolio`.
The tests assert that the two agree. Never used by the package at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ReferencePortfolio:
    """Per-bar equity, cash and units per symbol; the fills as dicts; counters."""

    equity: list[float] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)
    units: list[list[float]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    late: int = 0
    ruin_bar: int | None = None


def _missing(x: float) -> bool:
    return math.isnan(x)


def reference_portfolio(
    opens: list[list[float]],
    closes: list[list[float]],
    weights: list[list[float]],
    decide: list[bool],
    *,
    initial_capital: float,
    commission_pct: float = 0.0,
    commission_fixed: float = 0.0,
    slippage_bps: float = 0.0,
    fractional: bool = True,
    allow_leverage: bool = False,
    drift: float | None = None,
) -> ReferencePortfolio:
    """Run the portfolio rules on nested lists (bars x symbols, NaN = no bar / no view)."""
    slip = slippage_bps / 10_000.0
    n = len(closes)
    k = len(closes[0]) if n else 0
    held = [0.0] * k
    last_close = [math.nan] * k
    pending: dict[int, tuple[float, int]] = {}  # symbol -> (weight, decision bar)
    cash = initial_capital
    out = ReferencePortfolio()
    ruined = False

    def target(weight: float, equity: float, price: float) -> float:
        if weight == 0.0:
            return 0.0
        direction = 1.0 if weight > 0 else -1.0
        budget = abs(weight) * equity - commission_fixed
        if budget <= 0.0:
            return 0.0
        units = budget / (price * (1.0 + direction * slip) * (1.0 + commission_pct))
        if not fractional:
            units = math.floor(units)
        return direction * units

    def trade(t: int, i: int, delta: float, price: float, decision: int) -> None:
        nonlocal cash
        buy = delta > 0
        fill_price = price * (1.0 + slip) if buy else price * (1.0 - slip)
        notional = abs(delta) * fill_price
        commission = commission_pct * notional + commission_fixed
        change = -delta * fill_price - commission_pct * notional - commission_fixed
        cash += change
        held[i] += delta
        if decision >= 0 and decision < t - 1:
            out.late += 1
        out.fills.append(
            {
                "bar": t,
                "symbol": i,
                "units": delta,
                "price": price,
                "costs": commission + abs(delta) * price * slip,
                "cash_change": change,
                "decision_bar": decision,
            }
        )

    def equity_at(prices: list[float]) -> float:
        total = cash
        for i in range(k):
            if held[i] != 0.0:
                p = prices[i] if not _missing(prices[i]) else last_close[i]
                total += held[i] * p
        return total

    for t in range(n):
        if pending and not ruined:
            tradable = [i for i in sorted(pending) if not _missing(opens[t][i])]
            equity = equity_at(opens[t])
            # reductions (and the closing half of a reversal)
            for i in tradable:
                weight, decision = pending[i]
                goal = target(weight, equity, opens[t][i])
                now = held[i]
                if goal == now:
                    del pending[i]
                    continue
                shrinking = (now > 0 and goal < now) or (now < 0 and goal > now)
                if not shrinking:
                    continue
                crosses = (now > 0 and goal < 0) or (now < 0 and goal > 0)
                new = 0.0 if crosses or goal == 0.0 else goal
                trade(t, i, new - now, opens[t][i], decision)
                held[i] = new  # exactly the target (no rounding drift)
                if not crosses:
                    del pending[i]
            # increases on the re-marked equity: short openings, then buys
            equity = equity_at(opens[t])
            order = [i for i in tradable if i in pending and pending[i][0] < 0]
            order += [i for i in tradable if i in pending and pending[i][0] >= 0]
            for i in order:
                weight, decision = pending.pop(i)
                goal = target(weight, equity, opens[t][i])
                now = held[i]
                delta = goal - now
                growing = (goal > 0 and delta > 0) or (goal < 0 and delta < 0)
                if not growing:
                    continue
                if delta > 0 and not allow_leverage:
                    per_unit = opens[t][i] * (1.0 + slip) * (1.0 + commission_pct)
                    if delta * per_unit + commission_fixed > cash:
                        can = (cash - commission_fixed) / per_unit
                        if not fractional:
                            can = math.floor(can)
                        if can <= 0:
                            continue
                        delta = can
                trade(t, i, delta, opens[t][i], decision)
                held[i] = now + delta

        for i in range(k):
            if not _missing(closes[t][i]):
                last_close[i] = closes[t][i]
        equity = equity_at(last_close)
        if equity <= 0.0 and not ruined:
            ruined = True
            out.ruin_bar = t
            for i in range(k):
                if held[i] != 0.0:
                    trade(t, i, -held[i], last_close[i], -1)
                    held[i] = 0.0
            pending.clear()
            equity = cash
        out.equity.append(equity)
        out.cash.append(cash)
        out.units.append(list(held))

        if ruined or t == n - 1:
            continue
        go = decide[t]
        if not go and drift is not None and equity > 0:
            for i in range(k):
                wi = weights[t][i]
                if not _missing(wi) and not _missing(closes[t][i]):  # a bar at t: correctable
                    now_w = held[i] * last_close[i] / equity if held[i] != 0.0 else 0.0
                    if abs(now_w - wi) > drift:
                        go = True
                        break
        if go:
            for i in range(k):
                if not _missing(weights[t][i]):
                    pending[i] = (weights[t][i], t)
    return out
