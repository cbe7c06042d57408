"""Ruin in the options simulator, on hand-worked scenarios that reach equity <= 0.

The rule (``phi.options.simulator``, as the equity engine and backtesting.py): when the equity
at a close is <= 0, everything still open is closed at that close (model price, haircut,
commission; ``exit_reason="ruin"``), nothing trades again, and the equity stays at the value
after those fills to the end. Cash-secured sizing bounds the loss held to expiry; these inputs
get past it: a negative rate (a short call spread's mark exceeds its width before expiry) and, on
a chain, quotes whose mids put a spread beyond its width (an early exit's haircut alone no longer
can: an exit never fills below the worst payoff at expiry). Every expected number comes
from the Black-Scholes-Merton formula written out in ``test_accounting_audit.bsm``, or on a real
chain (``phi.options.chain_sim``, same rule at the chain's quotes) from the quotes themselves.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine_config import EngineConfig
from phi.options.simulator import run_options_backtest
from tests.options.test_accounting_audit import CAP, M, _bars, _cfg, _cross, _gap_chain, bsm

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
    assert "bar 6" in res.assumptions["ruin"] and f"{final:,.2f}" in res.assumptions["ruin"]
    assert res.metrics["total_return"] == pytest.approx(final / CAP - 1.0, rel=1e-12)
    assert res.metrics["cagr"] == -1.0
    # P&L by greek still sums to the equity change, the ruin fills' haircut + commission in costs
    np.testing.assert_allclose(res.attribution.sum(axis=1), np.diff(res.equity, prepend=CAP), atol=1e-6)


def test_early_exit_haircut_deep_in_the_money_pays_at_most_the_width():
    # a 5 % haircut on buying back the 100 call and selling the 105 call, 30 deep in the money,
    # costs ~0.05 x 55 a share more than the width. It used to be paid in full: the signal exit at
    # bar 9's open left the cash < 0 and bar 9's close was the ruin. An exit now never fills below
    # the worst payoff at expiry (-5 a share, phi.options.simulator *Sizing*): the haircut is cut
    # to what keeps the proceeds there, the cash stays > 0 and the bar-10 cross is sized from it
    hc = 0.05
    closes = [100.0] * 6 + [130.0] * 6
    sig = _cross(12, 4, -1.0)
    sig[7], sig[8] = -1.0, 0.0  # cross back at bar 8's close -> exit at bar 9's open
    sig[9], sig[10] = 0.0, -1.0  # a new cross at bar 10: skipped, the cash secures no unit
    cfg = _cfg(structure="bear_call_spread", dte=30, moneyness=(0.0, 0.05), contracts=1000,
               bid_ask_haircut=hc)  # fmt: skip
    res = run_options_backtest(_bars(closes), sig, cfg, EngineConfig())
    units, cash = _spread_units(30 / 365, 0.03, hc)
    t6, t9 = 29 / 365, 26 / 365
    assert cash + units * M * (bsm(130, 105, t6, "call") - bsm(130, 100, t6, "call")) > 0
    full = units * M * (bsm(130, 105, t9, "call") * (1 - hc) - bsm(130, 100, t9, "call") * (1 + hc))
    assert cash + full - units * 2 * COMM < 0  # the old exit: ruined
    final = cash - units * 5 * M - units * 2 * COMM  # proceeds: the worst payoff, -5 a share
    assert final > 0
    assert (res.equity.iloc[:9] > 0).all()
    np.testing.assert_allclose(res.equity.iloc[9:], final, rtol=1e-12)
    tr = res.trades.iloc[0]
    assert len(res.trades) == 1 and (tr.exit_reason, tr.exit_bar) == ("signal", 9)
    assert tr.exit_value == pytest.approx(-5 * M * units, rel=1e-12)
    assert res.assumptions["ruin_bar"] is None
    assert res.assumptions["skipped_entries"] == 1  # the bar-10 cross: cash below one unit's risk


def test_a_run_that_stays_above_zero_says_so():
    closes = [100.0] * 6 + [130.0] * 6
    cfg = _cfg(structure="bear_call_spread", dte=5, moneyness=(0.0, 0.05))
    res = run_options_backtest(_bars(closes), _cross(12, 4, -1.0), cfg, EngineConfig())
    assert (res.equity > 0).all() and res.assumptions["ruin_bar"] is None
    assert res.assumptions["ruin"].startswith("none")


# ---- a run priced from a real chain (phi.options.chain_sim) ----------------------------------
# The gap chain of test_accounting_audit: daily bars 100 (days 0-3) -> 130 (days 4-10), the 100
# and 105 calls quoted on days 0-8, expiring on day 8. A bear call spread decided at day 1's
# close fills at day 2's quotes: the 100 call sold at its bid 1.0, the 105 bought at its ask 0.5
# -> credit 50 a unit, risk 5 x 100 - 50 + 2 x 2 x 0.65 = 452.6, 1000 units cut to
# floor(100,000 / 452.6) = 220, cash 100,000 + 220 x (50 - 1.3) = 110,714.

CHAIN_UNITS, CHAIN_CASH = 220, 110_714.0


def _chain(tmp_path, day4_100=(29.9, 30.1), drop_105=()):
    """The gap chain with day 4's 100-call quote replaced and the 105 call unquoted on ``drop_105``."""
    df, path = _gap_chain(tmp_path)
    q = pd.read_csv(path)
    day4 = q["date"] == f"{df.index[4]:%Y-%m-%d}"
    q.loc[day4 & (q["strike"] == 100), ["bid", "ask"]] = day4_100
    gone = q["date"].isin([f"{df.index[i]:%Y-%m-%d}" for i in drop_105]) & (q["strike"] == 105)
    q[~gone].to_csv(path, index=False)
    return df, path


def _chain_run(df, path, sig):
    cfg = _cfg(structure="bear_call_spread", dte=7, moneyness=(0.0, 0.05), chain=path, contracts=1000)
    return run_options_backtest(df, sig, cfg, EngineConfig())


def _chain_sig(n: int, exit_at: int | None = None) -> np.ndarray:
    sig = _cross(n, 1, -1.0)
    sig[2:] = -1.0
    if exit_at is not None:  # a cross back at that close: the exit fills at the next day's quotes
        sig[exit_at] = 0.0
    sig[5], sig[6] = 0.0, -1.0  # a new cross at day 6's close: no order after a ruin
    return sig


def test_chain_exit_fill_below_zero_is_ruin_at_that_close_and_nothing_after(tmp_path):
    # the cross back at day 5 closes at day 6's quotes. At its ask 30.1 and bid 24.95 the 100 /
    # 105 calls cost 5.15 a share, more than the width 5: an exit now fills no worse than the
    # worst payoff (chain_sim), here day 6's mids 30 / 25 (cash 428, no ruin; at the quotes it was
    # -2,872, the ruin this test was about). Day 6's 100 call quoted 30.9 / 31.1 (mid 31) puts the mids
    # beyond the width: filled there, 220 x 100 x (25 - 31) - 220 x 2 x 0.65 takes the cash to
    # 110,714 - 132,000 - 286 = -21,572 (the old loop went on and sized the day-6 cross)
    df, path = _chain(tmp_path)
    q = pd.read_csv(path)
    q.loc[(q["date"] == f"{df.index[6]:%Y-%m-%d}") & (q["strike"] == 100), ["bid", "ask"]] = (30.9, 31.1)
    q.to_csv(path, index=False)
    res = _chain_run(df, path, _chain_sig(len(df), exit_at=5))
    final = CHAIN_CASH + CHAIN_UNITS * M * (25.0 - 31.0) - CHAIN_UNITS * 2 * COMM
    assert final == pytest.approx(-21_572.0)
    np.testing.assert_allclose(res.equity.iloc[:4], [CAP, CAP, 96_414.0, 96_414.0], rtol=1e-12)
    np.testing.assert_allclose(res.equity.iloc[4:6], CHAIN_CASH - CHAIN_UNITS * M * 5.0, rtol=1e-12)
    np.testing.assert_allclose(res.equity.iloc[6:], final, rtol=1e-12)
    np.testing.assert_allclose(res.cash.iloc[6:], final, rtol=1e-12)
    assert len(res.trades) == 1 and (res.trades.exit_reason.iloc[0], res.trades.exit_bar.iloc[0]) == ("signal", 6)
    assert res.assumptions["ruin_bar"] == str(df.index[6])
    assert "bar 6" in res.assumptions["ruin"] and "-21,572.00" in res.assumptions["ruin"]
    assert "the chain's quotes, bought at the ask, sold at the bid" in res.assumptions["ruin"]
    assert res.assumptions["skipped_entries"] == 0  # the day-6 cross is no order at all
    assert res.metrics["cagr"] == -1.0


def test_chain_mark_below_zero_closes_at_that_days_quotes(tmp_path):
    # a stale day-4 quote of the 100 call (35.9 / 36.1, mid 36: the spread's mid is 11 > its
    # width 5): equity 110,714 - 220 x 100 x (36 - 25) = -131,286 at day 4's close -> closed at
    # day 4's quotes, the 100 call bought at its ask 36.1 and the 105 sold at its bid 24.95
    df, path = _chain(tmp_path, day4_100=(35.9, 36.1))
    res = _chain_run(df, path, _chain_sig(len(df)))
    assert CHAIN_CASH - CHAIN_UNITS * M * (36.0 - 25.0) < 0  # the mark alone is below zero
    final = CHAIN_CASH + CHAIN_UNITS * M * (24.95 - 36.1) - CHAIN_UNITS * 2 * COMM  # -134,872
    assert (res.equity.iloc[:4] > 0).all()
    np.testing.assert_allclose(res.equity.iloc[4:], final, rtol=1e-12)  # the floor: constant
    assert (res.positions.iloc[4:] == 0).all() and (res.position_value.iloc[4:] == 0).all()
    tr = res.trades.iloc[0]
    assert len(res.trades) == 1 and (tr.exit_reason, tr.exit_bar, bool(tr.open)) == ("ruin", 4, False)
    assert tr.pnl == pytest.approx(final - CAP, rel=1e-12)
    np.testing.assert_allclose(res.legs.exit_price, [36.1, 24.95], rtol=1e-12)
    assert res.assumptions["ruin_bar"] == str(df.index[4]) and f"{final:,.2f}" in res.assumptions["ruin"]
    assert res.assumptions["skipped_entries"] == 0
    np.testing.assert_allclose(res.attribution.sum(axis=1), np.diff(res.equity, prepend=CAP), atol=1e-6)


def test_chain_stale_mark_decides_no_ruin_the_next_quoted_close_does(tmp_path):
    # the 105 call unquoted on day 4: its mark stays at day 3's mid 0.45, so day 4's equity shows
    # 110,714 - 220 x 100 x (30 - 0.45) = -539,386, a spread marked 29.55 beyond its width of 5.
    # That stale mark decides no ruin (audit: it forced the solvent spread out at day 5's quotes):
    # day 5, both quoted, marks 110,714 - 220 x 100 x (30 - 25) = 714 > 0; the cross back at day 5
    # exits at day 6's quotes, whose mids 31 / 25 (the 100 call quoted 30.9 / 31.1) are beyond the
    # width: filled at those mids (no worse fill than the worst payoff where the mids allow it),
    # 110,714 - 220 x 100 x 6 - 286 = -21,572, the ruin
    df, path = _chain(tmp_path, drop_105=(4,))
    q = pd.read_csv(path)
    q.loc[(q["date"] == f"{df.index[6]:%Y-%m-%d}") & (q["strike"] == 100), ["bid", "ask"]] = (30.9, 31.1)
    q.to_csv(path, index=False)
    res = _chain_run(df, path, _chain_sig(len(df)))
    final = CHAIN_CASH + CHAIN_UNITS * M * (25.0 - 31.0) - CHAIN_UNITS * 2 * COMM  # -21,572
    assert res.equity.iloc[4] == pytest.approx(CHAIN_CASH - CHAIN_UNITS * M * (30.0 - 0.45), rel=1e-12)
    assert res.equity.iloc[5] == pytest.approx(CHAIN_CASH - CHAIN_UNITS * M * 5.0, rel=1e-12)  # 714
    np.testing.assert_allclose(res.equity.iloc[6:], final, rtol=1e-12)
    tr = res.trades.iloc[0]
    assert len(res.trades) == 1 and (tr.exit_reason, tr.exit_bar) == ("signal", 6)
    assert res.assumptions["ruin_bar"] == str(df.index[6]) and "bar 6" in res.assumptions["ruin"]
    assert "-21,572.00" in res.assumptions["ruin"] and res.assumptions["skipped_entries"] == 0
    mq = res.missing_quotes
    assert sorted(zip(mq["use"], mq["date"], mq["strike"], strict=True)) == [("mark", df.index[4], 105.0)]


def test_chain_leg_never_quoted_again_is_no_ruin_and_settles_at_expiry(tmp_path):
    # the 105 call unquoted from day 4 to its expiry (day 8): marks stale at 0.45 (equity shown
    # -539,386 on days 4-7) decide no ruin; the cross back at day 5 waits for a quote that never
    # comes, so the spread settles at intrinsic on day 8: 110,714 + 220 x 100 x (25 - 30) = 714
    df, path = _chain(tmp_path, drop_105=range(4, 9))
    res = _chain_run(df, path, _chain_sig(len(df)))
    tr = res.trades.iloc[0]
    assert len(res.trades) == 1 and (tr.exit_reason, tr.exit_bar) == ("expiry", 8)
    np.testing.assert_allclose(res.equity.iloc[4:8], CHAIN_CASH - CHAIN_UNITS * M * (30.0 - 0.45), rtol=1e-12)
    np.testing.assert_allclose(res.equity.iloc[8:], CHAIN_CASH - CHAIN_UNITS * M * 5.0, rtol=1e-12)
    note = res.assumptions["ruin"]
    assert res.assumptions["ruin_bar"] is None and note.startswith("none: the equity was <= 0 only at closes")
    assert f"first bar 4 ({df.index[4]})" in note and "\n" not in note
    assert res.assumptions["skipped_entries"] == 0


def test_a_chain_run_that_stays_above_zero_says_so(tmp_path):
    df, path = _chain(tmp_path)
    res = _chain_run(df, path, _cross(len(df), 1, -1.0))
    assert res.trades.exit_reason.iloc[0] == "expiry" and (res.equity > 0).all()
    assert res.assumptions["ruin_bar"] is None and res.assumptions["ruin"].startswith("none")
