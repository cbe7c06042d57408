"""Slow, plain-Python reference of the engine's bar loop — a test oracle only.

Written for readability, one event at a time, independently of the numba kernel
(:mod:`phi.backtest._nb`); the tests assert the two agree on random OHLC and signals.
Never used by the package at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from phi.backtest.engine import EngineConfig


@dataclass
class _Position:
    side: int  # +1 long, -1 short
    units: float
    entry_price: float
    entry_bar: int
    entry_costs: float
    best: float  # best price seen on completed bars since entry (trailing anchor)


@dataclass
class ReferenceResult:
    """Per-bar equity/position/cash, trade dicts, the ambiguous-bar count and the ruin bar
    (the first bar whose close found the equity <= 0; None if none)."""

    equity: list[float] = field(default_factory=list)
    positions: list[float] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    ambiguous_bars: int = 0
    skipped_entries: int = 0
    ruin_bar: int | None = None


def _valid(prev: float, cur: float) -> bool:
    return not (math.isnan(prev) or math.isnan(cur))


def _entered_above(prev: float, cur: float, level: float) -> bool:
    """The signal moved from at-or-below ``level`` to above it (NaN never crosses)."""
    return _valid(prev, cur) and not prev > level and cur > level


def _entered_below(prev: float, cur: float, level: float) -> bool:
    """The signal moved from at-or-above ``level`` to below it."""
    return _valid(prev, cur) and not prev < level and cur < level


def _left_above(prev: float, cur: float, level: float) -> bool:
    """The signal was above ``level`` and no longer is."""
    return _valid(prev, cur) and prev > level and not cur > level


def _left_below(prev: float, cur: float, level: float) -> bool:
    """The signal was below ``level`` and no longer is."""
    return _valid(prev, cur) and prev < level and not cur < level


def reference_backtest(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    signal: np.ndarray,
    config: EngineConfig,
) -> ReferenceResult:
    """Simulate one signal with the engine's documented rules, slowly and plainly.

    Ruin: when the equity at a close is <= 0, the position is closed at that close (with the
    usual costs), pending orders are forgotten and nothing trades for the rest of the run.
    """
    cfg = config
    slip = cfg.slippage_bps / 10_000.0
    out = ReferenceResult()
    cash = cfg.initial_capital
    pos: _Position | None = None
    pending_exit: str | None = None
    pending_entry = 0

    def fill_price(side_of_order: int, market: float) -> float:
        # an order that buys pays more, an order that sells receives less
        return market * (1.0 + slip) if side_of_order > 0 else market * (1.0 - slip)

    def commission(notional: float) -> float:
        return cfg.commission_pct * notional + cfg.commission_fixed

    def open_position(side: int, market: float, bar: int) -> None:
        nonlocal cash, pos
        price = fill_price(side, market)
        per_unit = price * (1.0 + cfg.commission_pct)
        equity = cash
        if cfg.sizing == "percent_equity":
            budget = equity * cfg.size_pct - cfg.commission_fixed
            wanted = None
        elif cfg.sizing == "fixed_cash":
            assert cfg.size_cash is not None
            budget = min(cfg.size_cash, equity) - cfg.commission_fixed
            wanted = None
        else:
            budget = equity - cfg.commission_fixed
            if cfg.sizing == "fixed_units":
                wanted = cfg.size_units
            else:
                assert cfg.risk_pct is not None and cfg.stop_loss_pct is not None
                wanted = equity * cfg.risk_pct / (price * cfg.stop_loss_pct)
        if budget <= 0:
            out.skipped_entries += 1
            return
        if wanted is None:
            units = budget // per_unit if not cfg.fractional else budget / per_unit
        else:
            units = min(wanted, budget / per_unit)
            if not cfg.fractional:
                units = math.floor(units)
        if not units > 0:
            out.skipped_entries += 1
            return
        notional = units * price
        fee = commission(notional)
        if side > 0:
            cash -= notional + fee
        else:
            cash += notional - fee
        pos = _Position(side, units, market, bar, fee + units * market * slip, market)

    def close_position(market: float, bar: int, reason: str) -> None:
        nonlocal cash, pos
        assert pos is not None
        price = fill_price(-pos.side, market)
        notional = pos.units * price
        fee = commission(notional)
        if pos.side > 0:
            cash += notional - fee
        else:
            cash -= notional + fee
        exit_costs = fee + pos.units * market * slip
        gross = pos.side * pos.units * (market - pos.entry_price)
        out.trades.append(
            {
                "entry_bar": pos.entry_bar,
                "exit_bar": bar,
                "side": pos.side,
                "size": pos.units,
                "entry_price": pos.entry_price,
                "exit_price": market,
                "pnl": gross - pos.entry_costs - exit_costs,
                "costs": pos.entry_costs + exit_costs,
                "exit_reason": reason,
            }
        )
        pos = None

    n = len(close)
    for t in range(n):
        # the open: orders decided at the previous close
        if cfg.fill == "next_open":
            if pending_exit is not None and pos is not None:
                close_position(open_[t], t, pending_exit)
            if pending_entry and pos is None:
                open_position(pending_entry, open_[t], t)
            pending_exit, pending_entry = None, 0

        # inside the bar: stops and targets
        stops_live = pos is not None and (cfg.fill == "next_open" or pos.entry_bar < t)
        if stops_live:
            assert pos is not None
            sd = pos.side
            stop_levels: list[tuple[float, str]] = []
            if cfg.stop_loss_pct is not None:
                stop_levels.append((pos.entry_price * (1 - sd * cfg.stop_loss_pct), "stop_loss"))
            if cfg.trailing_stop_pct is not None:
                stop_levels.append((pos.best * (1 - sd * cfg.trailing_stop_pct), "trailing_stop"))
            stop: tuple[float, str] | None = None
            for level in stop_levels:
                # the stop nearest the price is the one hit first; a tie goes to the fixed stop
                if stop is None or sd * level[0] > sd * stop[0]:
                    stop = level
            target = (
                pos.entry_price * (1 + sd * cfg.take_profit_pct)
                if cfg.take_profit_pct is not None
                else None
            )

            worst = low[t] if sd > 0 else high[t]
            best = high[t] if sd > 0 else low[t]
            # "at or beyond" a level, seen from the position's side
            open_hits_stop = stop is not None and sd * open_[t] <= sd * stop[0]
            open_hits_target = target is not None and sd * open_[t] >= sd * target
            bar_hits_stop = stop is not None and sd * worst <= sd * stop[0]
            bar_hits_target = target is not None and sd * best >= sd * target
            if open_hits_stop:
                assert stop is not None
                close_position(open_[t], t, stop[1])
            elif open_hits_target:
                close_position(open_[t], t, "take_profit")
            elif bar_hits_stop:
                assert stop is not None
                if bar_hits_target:
                    out.ambiguous_bars += 1
                close_position(stop[0], t, stop[1])
            elif bar_hits_target:
                assert target is not None
                close_position(target, t, "take_profit")
            else:
                pos.best = max(pos.best, best) if sd > 0 else min(pos.best, best)

        # the close: decisions
        exit_reason: str | None = None
        entry = 0
        if t >= cfg.warmup_bars and out.ruin_bar is None:
            prev = float(signal[t - 1]) if t > 0 else float("nan")
            cur = float(signal[t])
            if pos is not None:
                held = t - pos.entry_bar + (1 if cfg.fill == "next_open" else 0)
                if cfg.time_exit_bars is not None and held >= cfg.time_exit_bars:
                    exit_reason = "time_exit"
                elif cfg.signal_exit and (
                    (pos.side > 0 and _left_above(prev, cur, cfg.exit_threshold))
                    or (pos.side < 0 and _left_below(prev, cur, -cfg.exit_threshold))
                ):
                    exit_reason = "signal"
            if pos is None or exit_reason is not None:
                if _entered_above(prev, cur, cfg.entry_threshold):
                    entry = 1
                elif cfg.allow_short and _entered_below(prev, cur, -cfg.entry_threshold):
                    entry = -1
        if cfg.fill == "close":
            if exit_reason is not None and pos is not None:
                close_position(close[t], t, exit_reason)
            if entry and pos is None:
                open_position(entry, close[t], t)
        else:
            pending_exit, pending_entry = exit_reason, entry

        units = 0.0 if pos is None else pos.side * pos.units
        if out.ruin_bar is None and cash + units * close[t] <= 0:
            out.ruin_bar = t  # bankrupt: close out at this close and stop trading
            if pos is not None:
                close_position(close[t], t, "ruin")
            pending_exit, pending_entry = None, 0
            units = 0.0
        out.positions.append(units)
        out.cash.append(cash)
        out.equity.append(cash + units * close[t])

    if pos is not None:
        last = close[n - 1]
        out.trades.append(
            {
                "entry_bar": pos.entry_bar,
                "exit_bar": n - 1,
                "side": pos.side,
                "size": pos.units,
                "entry_price": pos.entry_price,
                "exit_price": last,
                "pnl": pos.side * pos.units * (last - pos.entry_price) - pos.entry_costs,
                "costs": pos.entry_costs,
                "exit_reason": "end_of_data",
            }
        )
    return out
