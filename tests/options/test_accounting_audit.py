"""Backtest accounting of simulated option positions on unseen, hand-worked scenarios.

Every expected number is derived here from the Black-Scholes-Merton formula (written out below
with ``math.erf``, independent of :mod:`phi.options`) and the simulator's stated conventions:
time in calendar days / 365 from the bars' stamps, expiry ``dte`` days after the entry bar,
fills at the next open with the previous close's vol, ``price * (1 +/- haircut)``, commission
per contract per fill, settlement at intrinsic (no costs) at the last bar at or before expiry.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine_config import EngineConfig
from phi.options.config import OptionsConfig
from phi.options.simulator import run_options_backtest

R, Q, VOL, M = 0.03, 0.01, 0.2, 100.0
CAP = 100_000.0


def _n(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def bsm(s: float, k: float, t: float, kind: str, vol: float = VOL, r: float = R, q: float = Q) -> float:
    """Black-Scholes-Merton by hand; at t = 0 or vol = 0 the discounted forward's intrinsic."""
    if t <= 0.0 or vol <= 0.0:
        fwd = s * math.exp(-q * max(t, 0)) - k * math.exp(-r * max(t, 0))
        return max(fwd if kind == "call" else -fwd, 0.0)
    v = vol * math.sqrt(t)
    d1 = (math.log(s / k) + (r - q + 0.5 * vol * vol) * t) / v
    d2 = d1 - v
    if kind == "call":
        return s * math.exp(-q * t) * _n(d1) - k * math.exp(-r * t) * _n(d2)
    return k * math.exp(-r * t) * _n(-d2) - s * math.exp(-q * t) * _n(-d1)


def _bars(closes, idx=None, opens=None) -> pd.DataFrame:
    c = np.asarray(closes, dtype=float)
    o = c if opens is None else np.asarray(opens, dtype=float)
    if idx is None:
        idx = pd.date_range("2025-02-03", periods=len(c), freq="D", tz="UTC")
    hi, lo = np.maximum(o, c) * 1.001, np.minimum(o, c) * 0.999
    return pd.DataFrame({"open": o, "high": hi, "low": lo, "close": c, "volume": 1e6}, index=idx)


def _cfg(**kw) -> OptionsConfig:
    """Vol pinned at the floor (VOL): a negligible premium on realised vol."""
    base = dict(iv_premium=1e-9, iv_floor=VOL, vol_window=2, risk_free_rate=R, dividend_yield=Q,
                commission_per_contract=0.65, profit_target_pct=None, stop_loss_pct=None, contracts=1)  # fmt: skip
    base.update(kw)
    return OptionsConfig(**base)


def _cross(n: int, bar: int, value: float = 1.0) -> np.ndarray:
    s = np.full(n, np.nan)
    s[bar - 1], s[bar] = 0.0, value
    return s


def _days(a: pd.Timestamp, b: pd.Timestamp) -> float:
    return (b - a) / pd.Timedelta(days=365)


# ---- 1. long call: expiry ITM, expiry OTM, closed on a signal flip --------------------------


@pytest.mark.parametrize("up", [True, False])
def test_long_call_to_expiry_every_mark_fill_and_settlement(up):
    closes = [100.0] * 6 + [100.0 + (3 if up else -3) * i for i in range(1, 11)]
    df = _bars(closes)
    h, comm, u = 0.01, 0.65, 2
    res = run_options_backtest(df, _cross(len(df), 4), _cfg(structure="long_call", dte=7, moneyness=(0.02, 0.1), bid_ask_haircut=h, contracts=u), EngineConfig())
    tr, leg = res.trades.iloc[0], res.legs.iloc[0]
    k, expiry = 102.0, df.index[5] + pd.Timedelta(days=7)
    assert (tr.entry_bar, leg.strike, leg.contracts) == (5, k, u)
    fill = bsm(100.0, k, 7 / 365, "call") * (1 + h)
    assert leg.entry_price == pytest.approx(fill, rel=1e-12)
    cash = CAP - u * M * fill - u * comm
    for t in range(5, 12):  # every close while open: cash + model value with the time left
        value = u * M * bsm(closes[t], k, _days(df.index[t], expiry), "call")
        assert res.cash.iloc[t] == pytest.approx(cash, rel=1e-12)
        assert res.equity.iloc[t] == pytest.approx(cash + value, rel=1e-12)
    intrinsic = max(closes[12] - k, 0.0)  # bar 12 is the expiry stamp: settled, no costs
    assert tr.exit_bar == 12 and tr.exit_reason == "expiry" and leg.exit_price == intrinsic
    assert (intrinsic > 0) == up
    final = cash + u * M * intrinsic
    assert tr.pnl == pytest.approx(final - CAP, rel=1e-12)
    np.testing.assert_allclose(res.equity.iloc[12:], final, rtol=1e-12)
    assert res.position_value.iloc[12:].eq(0).all() and len(res.trades) == 1


def test_long_call_closed_on_a_signal_flip_at_the_next_open_with_a_gap():
    closes = [100.0] * 6 + [104.0, 108.0, 112.0, 111.0, 110.0, 109.0]
    opens = closes[:9] + [120.0] + closes[10:]  # bar 9 gaps up through nothing: the fill sees it
    df = _bars(closes, opens=opens)
    sig = np.full(len(df), np.nan)
    sig[3:8], sig[8] = [0.0, 1.0, 1.0, 1.0, 1.0], -1.0  # up at 4, flipped at 8's close
    h, comm = 0.02, 0.5
    cfg = _cfg(structure="long_call", dte=30, moneyness=(0.0, 0.1), bid_ask_haircut=h, commission_per_contract=comm, contracts=3)
    res = run_options_backtest(df, sig, cfg, EngineConfig(entry_threshold=0.5, exit_threshold=0.1))
    tr, leg = res.trades.iloc[0], res.legs.iloc[0]
    expiry = df.index[5] + pd.Timedelta(days=30)
    assert (tr.entry_bar, tr.exit_bar, tr.exit_reason, leg.strike) == (5, 9, "signal", 100.0)
    fin = bsm(100.0, 100.0, 30 / 365, "call") * (1 + h)
    fout = bsm(120.0, 100.0, _days(df.index[9], expiry), "call") * (1 - h)
    assert leg.exit_price == pytest.approx(fout, rel=1e-12) and tr.exit_spot == 120.0
    pnl = 3 * M * (fout - fin) - 2 * 3 * comm
    assert tr.pnl == pytest.approx(pnl, rel=1e-12)
    assert res.equity.iloc[-1] == pytest.approx(CAP + pnl, rel=1e-12)
    # the costs: both haircuts (on the model price) and both commissions
    mid_in, mid_out = fin / (1 + h), fout / (1 - h)
    costs = 3 * M * h * (mid_in + mid_out) + 6 * comm
    assert tr.costs == pytest.approx(costs, rel=1e-12) and tr.pnl_costs == pytest.approx(-costs, rel=1e-12)


# ---- 2. expiry on a weekend / NYSE holiday; data ending before expiry -----------------------


def test_expiry_on_a_saturday_settles_at_friday_close():
    idx = pd.bdate_range("2025-03-03", periods=12, tz="UTC")  # Mon 3 Mar ..
    closes = [100.0 + i for i in range(12)]
    res = run_options_backtest(_bars(closes, idx), _cross(12, 4), _cfg(structure="long_call", dte=5, moneyness=(0.0, 0.1)), EngineConfig())
    tr = res.trades.iloc[0]
    assert idx[tr.entry_bar].day_name() == "Monday"  # Mon 10 Mar + 5 days = Sat 15 Mar
    assert tr.expiry == pd.Timestamp("2025-03-15", tz="UTC")
    assert idx[tr.exit_bar] == pd.Timestamp("2025-03-14", tz="UTC") and tr.exit_reason == "expiry"
    assert res.legs.exit_price.iloc[0] == closes[tr.exit_bar] - closes[5]  # intrinsic at Friday close
    thu = tr.exit_bar - 1  # the Thursday mark still has 2 days of time value
    value = M * bsm(closes[thu], closes[5], 2 / 365, "call")
    assert res.position_value.iloc[thu] == pytest.approx(value, rel=1e-12)


def test_expiry_on_good_friday_settles_at_thursday_close_and_truncated_data_stays_open():
    idx = pd.bdate_range("2024-03-18", "2024-04-05", tz="UTC").drop(pd.Timestamp("2024-03-29", tz="UTC"))
    closes = list(np.linspace(100.0, 114.0, len(idx)))
    df, sig = _bars(closes, idx), _cross(len(idx), 3)
    cfg = _cfg(structure="long_call", dte=7, moneyness=(0.0, 0.1))
    res = run_options_backtest(df, sig, cfg, EngineConfig())
    tr = res.trades.iloc[0]  # entry Fri 22 Mar, expiry Good Friday 29 Mar (no bar)
    assert tr.expiry == pd.Timestamp("2024-03-29", tz="UTC")
    assert idx[tr.exit_bar] == pd.Timestamp("2024-03-28", tz="UTC") and tr.exit_reason == "expiry"
    k = closes[4]
    assert res.legs.exit_price.iloc[0] == pytest.approx(closes[tr.exit_bar] - k, rel=1e-12)
    # the bars end on Tue 26 Mar: the trade is reported open at its model value there
    cut = run_options_backtest(df.iloc[:7], sig[:7], cfg, EngineConfig())
    tr = cut.trades.iloc[0]
    assert tr.exit_reason == "end_of_data" and bool(tr.open)
    value = M * bsm(closes[6], k, _days(idx[6], pd.Timestamp("2024-03-29", tz="UTC")), "call")
    cash = CAP - M * bsm(k, k, 7 / 365, "call") - 0.65
    assert cut.equity.iloc[-1] == pytest.approx(cash + value, rel=1e-12)
    assert tr.pnl == pytest.approx(cash + value - CAP, rel=1e-12)


def test_expiry_across_a_daylight_saving_change_keeps_its_calendar_day():
    # New York midnight bars; entry Fri 1 Nov 2024 (EDT) + 5 days = Wed 6 Nov 00:00 EST, 121
    # hours later. Before the fix the expiry was 120 hours later (Tue 5 Nov 23:00 EST) and the
    # call settled a day early, at Tuesday's close.
    idx = pd.date_range("2024-10-28", periods=14, freq="D", tz="America/New_York")
    closes = [100.0 + i for i in range(14)]
    res = run_options_backtest(_bars(closes, idx), _cross(14, 3), _cfg(structure="long_call", dte=5), EngineConfig())
    tr = res.trades.iloc[0]
    assert idx[tr.entry_bar] == pd.Timestamp("2024-11-01", tz="America/New_York")
    assert tr.expiry == pd.Timestamp("2024-11-06", tz="America/New_York")
    assert idx[tr.exit_bar] == tr.expiry and tr.exit_reason == "expiry"
    k = closes[4]
    assert res.legs.exit_price.iloc[0] == closes[tr.exit_bar] - k
    t = (5 + 1 / 24) / 365  # the calendar time to that expiry
    assert res.legs.entry_price.iloc[0] == pytest.approx(bsm(k, k, t, "call"), rel=1e-12)


# ---- 3. multi-leg: iron condor, straddle, a vertical sized by risk --------------------------


def test_iron_condor_gapped_through_both_call_strikes_loses_its_stated_max_loss():
    closes = [100.0] * 6 + [130.0] * 8
    h, comm = 0.01, 0.65
    cfg = _cfg(structure="iron_condor", dte=5, moneyness=(0.05, 0.10), bid_ask_haircut=h)
    res = run_options_backtest(_bars(closes), _cross(14, 4), cfg, EngineConfig())
    tr, legs = res.trades.iloc[0], res.legs
    assert list(legs.kind) == ["put", "put", "call", "call"] and list(legs.contracts) == [1, -1, -1, 1]
    np.testing.assert_allclose(legs.strike, [90.0, 95.0, 105.0, 110.0], rtol=1e-15)
    t = 5 / 365
    p90, p95, c105, c110 = (bsm(100, k, t, kd) for k, kd in ((90, "put"), (95, "put"), (105, "call"), (110, "call")))
    debit = M * ((p90 + c110) * (1 + h) - (p95 + c105) * (1 - h))  # negative: a credit
    assert debit < 0 and tr.entry_value == pytest.approx(debit, rel=1e-12)
    assert res.cash.iloc[5] == pytest.approx(CAP - debit - 4 * comm, rel=1e-12)
    max_loss = 5 * M + debit + 2 * 4 * comm  # wing width - credit + commissions both ways
    assert tr.max_loss == pytest.approx(max_loss, rel=1e-12)
    np.testing.assert_allclose(legs.exit_price, [0.0, 0.0, 25.0, 20.0], atol=1e-12)
    assert tr.exit_reason == "expiry"
    pnl = -5 * M - debit - 4 * comm  # settled at intrinsic, no exit commission
    assert tr.pnl == pytest.approx(pnl, rel=1e-12) and -max_loss <= tr.pnl
    assert res.equity.iloc[-1] == pytest.approx(CAP + pnl, rel=1e-12)


def test_straddle_net_premium_and_settlement_on_a_down_move():
    closes = [100.0] * 6 + [97.0, 93.0, 88.0, 86.0, 86.0]
    res = run_options_backtest(_bars(closes), _cross(11, 4, -1.0), _cfg(structure="straddle", dte=4, contracts=2), EngineConfig())
    tr = res.trades.iloc[0]  # non-directional: opens on |signal|
    prem = 2 * M * (bsm(100, 100, 4 / 365, "call") + bsm(100, 100, 4 / 365, "put"))
    assert tr.premium == pytest.approx(prem, rel=1e-12) and tr.side == "neutral"
    assert tr.exit_bar == 9 and list(res.legs.exit_price) == [0.0, 14.0]
    assert tr.pnl == pytest.approx(2 * M * 14.0 - prem - 4 * 0.65, rel=1e-12)


def test_bear_put_spread_sized_by_risk_pct():
    closes = [100.0] * 6 + [99.0] * 4
    cfg = _cfg(structure="bear_put_spread", dte=30, moneyness=(0.0, 0.05), contracts=None, risk_pct=0.02)
    res = run_options_backtest(_bars(closes), _cross(10, 4, -1.0), cfg, EngineConfig())
    t = 30 / 365
    debit_u = M * (bsm(100, 100, t, "put") - bsm(100, 95, t, "put"))
    risk_u = debit_u + 2 * 2 * 0.65  # a debit spread loses at most what it paid
    units = math.floor(CAP * 0.02 / risk_u)
    tr = res.trades.iloc[0]
    assert tr.units == units and tr.max_loss == pytest.approx(units * risk_u, rel=1e-12)


# ---- 4. short legs: credit as cash, assignment at intrinsic, no loss beyond the capital -----


def test_bull_put_spread_credit_held_as_cash_and_assigned_at_expiry():
    closes = [100.0] * 6 + [92.0, 85.0, 80.0, 80.0]
    cfg = _cfg(structure="bull_put_spread", dte=3, moneyness=(0.05, 0.10), contracts=4)
    res = run_options_backtest(_bars(closes), _cross(10, 4), cfg, EngineConfig())
    t = 3 / 365
    credit = 4 * M * (bsm(100, 95, t, "put") - bsm(100, 90, t, "put"))
    cash = CAP + credit - 8 * 0.65
    assert res.cash.iloc[5] == pytest.approx(cash, rel=1e-12)
    val6 = 4 * M * (bsm(92, 90, 2 / 365, "put") - bsm(92, 95, 2 / 365, "put"))  # short: negative
    assert res.equity.iloc[6] == pytest.approx(cash + val6, rel=1e-12)
    assert list(res.legs.exit_price) == [15.0, 10.0]  # the short 95 put assigned at 80
    assert res.equity.iloc[-1] == pytest.approx(cash - 4 * M * 5.0, rel=1e-12)


def test_fixed_contracts_of_a_credit_spread_cannot_lose_more_than_the_cash():
    # 1000 bear call spreads (5 wide) on 100k gapped 30 % through both strikes: before the fix
    # the account ended at about -670k; now the units are cut to what the cash secures
    closes = [100.0] * 6 + [130.0] * 6
    cfg = _cfg(structure="bear_call_spread", dte=5, moneyness=(0.0, 0.05), contracts=1000)
    res = run_options_backtest(_bars(closes), _cross(12, 4, -1.0), cfg, EngineConfig())
    t = 5 / 365
    credit_u = M * (bsm(100, 100, t, "call") - bsm(100, 105, t, "call"))
    risk_u = 5 * M - credit_u + 2 * 2 * 0.65
    units = math.floor(CAP / risk_u)
    tr = res.trades.iloc[0]
    assert tr.units == units < 1000
    assert (res.equity > 0).all()
    assert res.equity.iloc[-1] == pytest.approx(CAP + units * (credit_u - 5 * M - 2 * 0.65), rel=1e-12)
    assert "cash-secured" in res.assumptions["sizing"]


def _gap_chain(tmp_path) -> tuple[pd.DataFrame, str]:
    """Daily bars 100 -> 130 on the 4th day and a chain of the 100 and 105 calls (no iv)."""
    days = pd.date_range("2024-01-02", "2024-01-12", freq="D", tz="UTC")
    closes = [100.0] * 4 + [130.0] * 7
    quotes = {100: {100.0: (1.0, 1.2), 130.0: (29.9, 30.1)}, 105: {100.0: (0.4, 0.5), 130.0: (24.95, 25.05)}}
    rows = [f"{d:%Y-%m-%d},2024-01-10,{k},call,{quotes[k][c][0]},{quotes[k][c][1]}"
            for d, c in zip(days[:9], closes[:9], strict=True) for k in (100, 105)]  # fmt: skip
    path = tmp_path / "chain.csv"
    path.write_text("date,expiry,strike,kind,bid,ask\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return _bars(closes, days), str(path)


def test_chain_credit_spread_is_cash_secured_and_settles_without_an_iv_column(tmp_path):
    # a chain without iv (allowed): at the expiry close T = 0 with a NaN vol made the greeks
    # kernel raise ZeroDivisionError; and 1000 fixed units lost ~5x the capital
    df, chain = _gap_chain(tmp_path)
    cfg = _cfg(structure="bear_call_spread", dte=7, moneyness=(0.0, 0.05), chain=chain, contracts=1000)
    res = run_options_backtest(df, _cross(len(df), 1, -1.0), cfg, EngineConfig())
    credit_u = M * (1.0 - 0.5)  # sold the 100 call at its bid, bought the 105 at its ask
    risk_u = 5 * M - credit_u + 2 * 2 * 0.65
    units = math.floor(CAP / risk_u)
    tr = res.trades.iloc[0]
    assert tr.units == units and tr.exit_reason == "expiry" and (res.equity > 0).all()
    assert res.equity.iloc[-1] == pytest.approx(CAP + units * (credit_u - 2 * 0.65 - 5 * M), rel=1e-12)


def test_chain_far_strike_is_never_the_near_one(tmp_path):
    # near 100 and far 102 are both nearest the listed 100: before the fix the spread bought and
    # sold the same call (paying the bid-ask and commissions for nothing)
    df, chain = _gap_chain(tmp_path)
    cfg = _cfg(structure="bull_call_spread", dte=7, moneyness=(0.0, 0.02), chain=chain, contracts=10)
    res = run_options_backtest(df, _cross(len(df), 1), cfg, EngineConfig())
    assert list(res.legs.strike) == [100.0, 105.0]
    debit_u = M * (1.2 - 0.4)  # bought the 100 call at its ask, sold the 105 at its bid
    assert res.equity.iloc[-1] == pytest.approx(CAP + 10 * (5 * M - debit_u - 2 * 0.65), rel=1e-12)


def test_greeks_at_expiry_with_a_nan_vol_are_nan_not_an_exception():
    from phi.options.black_scholes import bs_greeks

    g = bs_greeks(np.array([130.0, 90.0]), 100.0, 0.0, 0.02, 0.0, np.array([np.nan, np.nan]), "call")
    assert all(np.isnan(x).all() for x in g)


# ---- 5. strike selection ---------------------------------------------------------------------


def test_strikes_by_moneyness_round_to_the_nearest_grid_strike():
    df = _bars([100.0] * 10)
    cfg = _cfg(moneyness=(0.03, 0.07), strike_step=2.5, dte=30)
    up = run_options_backtest(df, _cross(10, 4), dataclass_replace(cfg, structure="bull_call_spread"), EngineConfig())
    dn = run_options_backtest(df, _cross(10, 4, -1.0), dataclass_replace(cfg, structure="bear_put_spread"), EngineConfig())
    assert list(up.legs.strike) == [102.5, 107.5]  # 103 -> 102.5, 107 -> 107.5
    assert list(dn.legs.strike) == [97.5, 92.5]  # 97 -> 97.5, 93 -> 92.5


@pytest.mark.parametrize(("structure", "side", "strikes"), [("bull_call_spread", 1.0, [100.0, 105.0]), ("bear_put_spread", -1.0, [100.0, 95.0])])
def test_a_far_strike_rounded_onto_the_near_one_moves_a_step_out(structure, side, strikes):
    # near 100, far 102 / 98 both round to 100 on a 5 grid: before the fix a zero-width
    # "spread" of 1,250 units traded only commissions
    cfg = _cfg(structure=structure, moneyness=(0.0, 0.02), strike_step=5.0, dte=30)
    res = run_options_backtest(_bars([100.0] * 10), _cross(10, 4, side), cfg, EngineConfig())
    assert list(res.legs.strike) == strikes


def test_strikes_by_target_delta_match_a_hand_solved_strike():
    cfg = _cfg(structure="bull_call_spread", strike_rule="delta", delta=(0.4, 0.2), dte=60)
    res = run_options_backtest(_bars([100.0] * 10), _cross(10, 4), cfg, EngineConfig())
    t = 60 / 365

    def delta(k: float) -> float:
        d1 = (math.log(100 / k) + (R - Q + 0.5 * VOL**2) * t) / (VOL * math.sqrt(t))
        return math.exp(-Q * t) * _n(d1)

    for target, k in zip((0.4, 0.2), res.legs.strike, strict=True):
        lo, hi = 50.0, 200.0  # bisection: delta falls as the strike rises
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if delta(mid) > target else (lo, mid)
        assert k == pytest.approx(lo, rel=1e-9)
    stepped = run_options_backtest(_bars([100.0] * 10), _cross(10, 4), dataclass_replace(cfg, strike_step=1.0), EngineConfig())
    assert list(stepped.legs.strike) == [round(k) for k in res.legs.strike]


# ---- 6. vol input: warm-up, a zero-vol stretch, a jump ---------------------------------------


def test_realised_vol_warm_up_then_entry_with_the_previous_close_vol():
    closes = [100.0, 101.0, 99.0, 102.0, 100.0, 103.0, 101.0, 104.0, 102.0, 105.0]
    sig = np.full(10, np.nan)
    sig[1], sig[2], sig[4], sig[5] = 0.0, 1.0, 0.0, 1.0  # a cross at 2 (no vol yet) and at 5
    cfg = _cfg(structure="long_call", dte=30, vol_window=3, iv_premium=1.3, iv_floor=0.0)
    res = run_options_backtest(_bars(closes), sig, cfg, EngineConfig(periods_per_year=252))
    lr = np.diff(np.log(closes))
    iv = [np.nan] * 3 + [float(np.std(lr[t - 3 : t], ddof=1)) * math.sqrt(252) * 1.3 for t in range(3, 10)]
    np.testing.assert_allclose(res.iv.to_numpy(), iv, rtol=1e-12)
    assert list(res.trades.entry_bar) == [6]  # the cross at bar 2 came before any vol
    assert res.legs.entry_iv.iloc[0] == pytest.approx(iv[5], rel=1e-12)
    assert res.legs.entry_price.iloc[0] == pytest.approx(bsm(101.0, 101.0, 30 / 365, "call", vol=iv[5]), rel=1e-12)
    # the close marks use that close's vol
    assert res.position_value.iloc[8] == pytest.approx(M * bsm(102.0, 101.0, 28 / 365, "call", vol=iv[8]), rel=1e-12)


def test_zero_vol_stretch_prices_the_discounted_forward():
    cfg = _cfg(structure="long_call", dte=30, moneyness=(0.0, 0.1), iv_premium=1.0, iv_floor=0.0)
    res = run_options_backtest(_bars([100.0] * 10), _cross(10, 4), cfg, EngineConfig())
    assert res.iv.iloc[4] == 0.0
    px = 100 * math.exp(-Q * 30 / 365) - 100 * math.exp(-R * 30 / 365)  # > 0 as r > q
    assert res.legs.entry_price.iloc[0] == pytest.approx(px, rel=1e-12)
    t9 = 26 / 365
    assert res.position_value.iloc[9] == pytest.approx(M * (100 * math.exp(-Q * t9) - 100 * math.exp(-R * t9)), rel=1e-12)


def test_a_jump_through_the_strikes_uses_the_jump_vol_at_the_next_open():
    closes = [100.0, 100.5, 100.0, 100.5, 100.0, 100.0, 100.5, 140.0, 141.0, 141.0]
    opens = closes[:8] + [150.0, 141.0]
    sig = np.full(10, np.nan)
    sig[3:7], sig[7] = [0.0, 1.0, 1.0, 1.0], 0.0  # open at 5; exit decided at 7 (the jump close)
    cfg = _cfg(structure="bull_call_spread", dte=20, moneyness=(0.0, 0.1), iv_premium=1.0, iv_floor=0.0, vol_window=3)
    res = run_options_backtest(_bars(closes, opens=opens), sig, cfg, EngineConfig(periods_per_year=252))
    lr = np.diff(np.log(closes))
    iv4, iv7 = (float(np.std(lr[t - 3 : t], ddof=1)) * math.sqrt(252) for t in (4, 7))
    t_in, t_out = 20 / 365, 17 / 365
    debit = M * (bsm(100, 100, t_in, "call", iv4) - bsm(100, 110, t_in, "call", iv4))
    exit_v = M * (bsm(150, 100, t_out, "call", iv7) - bsm(150, 110, t_out, "call", iv7))
    tr = res.trades.iloc[0]
    assert (tr.entry_bar, tr.exit_bar, tr.exit_reason) == (5, 8, "signal")
    assert tr.pnl == pytest.approx(exit_v - debit - 4 * 0.65, rel=1e-12)
    assert exit_v <= 10 * M  # a 10-wide spread is worth at most its width


# ---- 7. commissions and haircut per contract, per leg, per fill ------------------------------


def test_iron_condor_costs_per_leg_per_contract_per_fill():
    closes = [100.0] * 6 + [101.0, 102.0, 101.5, 101.0]
    sig = np.full(10, np.nan)
    sig[3:7], sig[7] = [0.0, 1.0, 1.0, 1.0], 0.0  # |signal| down through the exit threshold
    h, comm, u = 0.03, 1.25, 3
    cfg = _cfg(structure="iron_condor", dte=30, moneyness=(0.05, 0.1), bid_ask_haircut=h, commission_per_contract=comm, contracts=u)
    res = run_options_backtest(_bars(closes), sig, cfg, EngineConfig())
    tr = res.trades.iloc[0]
    assert (tr.entry_bar, tr.exit_bar) == (5, 8)
    legs = ((90, "put", 1), (95, "put", -1), (105, "call", -1), (110, "call", 1))
    t_in, t_out = 30 / 365, _days(pd.Timestamp("2025-02-11"), pd.Timestamp("2025-03-10"))
    mid_in = [bsm(100.0, k, t_in, kd) for k, kd, _ in legs]
    mid_out = [bsm(101.5, k, t_out, kd) for k, kd, _ in legs]
    pay_in = sum(q * u * M * p * (1 + q * h) for (_, _, q), p in zip(legs, mid_in, strict=True))
    get_out = sum(q * u * M * p * (1 - q * h) for (_, _, q), p in zip(legs, mid_out, strict=True))
    commissions = 2 * 4 * u * comm  # 4 legs x 3 contracts x 2 fills
    haircuts = u * M * h * (sum(mid_in) + sum(mid_out))
    assert tr.costs == pytest.approx(haircuts + commissions, rel=1e-12)
    assert tr.pnl == pytest.approx(get_out - pay_in - commissions, rel=1e-12)
    np.testing.assert_allclose(res.legs.exit_price, [p * (1 - q * h) for (_, _, q), p in zip(legs, mid_out, strict=True)], rtol=1e-12)
    assert res.equity.iloc[-1] == pytest.approx(CAP + tr.pnl, rel=1e-12)


def dataclass_replace(cfg: OptionsConfig, **kw) -> OptionsConfig:
    import dataclasses

    return dataclasses.replace(cfg, **kw)
