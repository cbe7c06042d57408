"""Ruin in the options simulator, on hand-worked scenarios that reach equity <= 0.

The rule (``phi.options.simulator``, as the equity engine and backtesting.py): when the equity
at a close is <= 0, everything still open is closed at that close (model price, haircut,
commission; ``exit_reason="ruin"``), nothing trades again, and the equity stays at the value
after those fills to the end. Cash-secured sizing bounds the loss held to expiry; these inputs
get past it: a negative rate (a short call spread's mark exceeds its width before expiry) and
the haircut of an early exit of a spread gapped deep in the money. Every expected number comes
from the Black-Scholes-Merton formula written out in ``test_accounting_audit.bsm``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from phi.backtest.engine_config import EngineConfig
from phi.options.simulator import run_options_backtest
from tests.options.test_accounting_audit import CAP, M, _bars, _cfg, _cross, bsm

COMM = 0.65  # per contract per fill (test_accounting_audit._cfg)


def _spread_units(t: float, r: float, hc: float) -> tuple[float, float]:
    """Units of a 100/105 bear call spread opened at 100 (cut to what the cash secures) and the
    cash after the entry fills."""
    credit = M * (bsm(100, 100, t, "call", r=r) * (1 - hc) - bsm(100, 105, t, "call", r=r) * (1 + hc))
    risk = 5 * M - credit + 2 * 2 * COMM  # width - credit + commissions both ways
    units = min(1000, math.floor(CAP / risk))
    return units, CAP + units * (credit - 2 * COMM)


def test_negative_rate_mark_below_zero_closes_everything_at_that_close():
    # r = -5 %: a year before expiry the 100/105 short call spread deep in the money is worth
    # -5 e^{0.05 T} = -5.26 a share, beyond the 5 the cash secures -> equity < 0 at bar 6
    r, hc = -0.05, 0.01
    closes = [100.0] * 6 + [200.0] * 6
    sig = _cross(12, 4, -1.0)
    sig[8], sig[9] = 0.0, -1.0  # a new cross after the ruin: must not trade
    cfg = _cfg(structure="bear_call_spread", dte=365, moneyness=(0.0, 0.05), contracts=1000,
               risk_free_rate=r, bid_ask_haircut=hc)  # fmt: skip
    res = run_options_backtest(_bars(closes), sig, cfg, EngineConfig())
    units, cash = _spread_units(1.0, r, hc)
    t6 = 364 / 365
    c100, c105 = bsm(200, 100, t6, "call", r=r), bsm(200, 105, t6, "call", r=r)
    assert cash + units * M * (c105 - c100) < 0  # the mark alone is below zero
    final = cash + units * M * (c105 * (1 - hc) - c100 * (1 + hc)) - units * 2 * COMM
    assert (res.equity.iloc[:6] > 0).all()
    np.testing.assert_allclose(res.equity.iloc[6:], final, rtol=1e-12)  # the floor: constant
    np.testing.assert_allclose(res.cash.iloc[6:], final, rtol=1e-12)
    assert (res.positions.iloc[6:] == 0).all() and (res.position_value.iloc[6:] == 0).all()
    assert len(res.trades) == 1
    tr = res.trades.iloc[0]
    assert (tr.exit_reason, tr.exit_bar, bool(tr.open)) == ("ruin", 6, False)
    assert tr.units == units and tr.pnl == pytest.approx(final - CAP, rel=1e-12)
    np.testing.assert_allclose(res.legs.exit_price, [c100 * (1 + hc), c105 * (1 - hc)], rtol=1e-12)
    assert res.assumptions["ruin_bar"] == str(res.equity.index[6])
    assert "bar 6" in res.assumptions["ruin"] and f"{final:.2f}" in res.assumptions["ruin"]
    assert res.metrics["total_return"] == pytest.approx(final / CAP - 1.0, rel=1e-12)
    assert res.metrics["cagr"] == -1.0
    # P&L by greek still sums to the equity change, the ruin fills' haircut + commission in costs
    np.testing.assert_allclose(res.attribution.sum(axis=1), np.diff(res.equity, prepend=CAP), atol=1e-6)


def test_early_exit_haircut_below_zero_stops_trading_at_that_close():
    # a 5 % haircut on buying back the 100 call and selling the 105 call, 30 deep in the money,
    # costs ~0.05 x 55 a share more than the width: the signal exit at bar 9's open leaves the
    # cash < 0, so bar 9's close is the ruin (nothing open to close) and the new cross is ignored
    hc = 0.05
    closes = [100.0] * 6 + [130.0] * 6
    sig = _cross(12, 4, -1.0)
    sig[7], sig[8] = -1.0, 0.0  # cross back at bar 8's close -> exit at bar 9's open
    sig[9], sig[10] = 0.0, -1.0  # a new cross at bar 10: no entry after the ruin
    cfg = _cfg(structure="bear_call_spread", dte=30, moneyness=(0.0, 0.05), contracts=1000,
               bid_ask_haircut=hc)  # fmt: skip
    res = run_options_backtest(_bars(closes), sig, cfg, EngineConfig())
    units, cash = _spread_units(30 / 365, 0.03, hc)
    t6, t9 = 29 / 365, 26 / 365
    assert cash + units * M * (bsm(130, 105, t6, "call") - bsm(130, 100, t6, "call")) > 0
    proceeds = units * M * (bsm(130, 105, t9, "call") * (1 - hc) - bsm(130, 100, t9, "call") * (1 + hc))
    final = cash + proceeds - units * 2 * COMM
    assert final < 0
    assert (res.equity.iloc[:9] > 0).all()
    np.testing.assert_allclose(res.equity.iloc[9:], final, rtol=1e-12)
    tr = res.trades.iloc[0]
    assert len(res.trades) == 1 and (tr.exit_reason, tr.exit_bar) == ("signal", 9)
    assert res.assumptions["ruin_bar"] == str(res.equity.index[9])
    assert res.assumptions["skipped_entries"] == 0  # no order at all after the ruin


def test_a_run_that_stays_above_zero_says_so():
    closes = [100.0] * 6 + [130.0] * 6
    cfg = _cfg(structure="bear_call_spread", dte=5, moneyness=(0.0, 0.05))
    res = run_options_backtest(_bars(closes), _cross(12, 4, -1.0), cfg, EngineConfig())
    assert (res.equity > 0).all() and res.assumptions["ruin_bar"] is None
    assert res.assumptions["ruin"].startswith("none")
