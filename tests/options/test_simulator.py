"""The options simulator on cases worked by hand, and its accounting identities."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine_config import EngineConfig
from phi.errors import EngineError
from phi.options.black_scholes import bs_price
from phi.options.config import OptionsConfig
from phi.options.simulator import SYNTHETIC_NOTE, run_options_backtest
from tests.conftest import make_ohlcv

R = 0.03


def _bars(closes, start="2024-01-01", freq="D") -> pd.DataFrame:
    """Bars with open == close (so a fill at the open is the previous close's level)."""
    c = np.asarray(closes, dtype=float)
    idx = pd.date_range(start, periods=len(c), freq=freq, tz="UTC")
    return pd.DataFrame(
        {"open": c, "high": c * 1.001, "low": c * 0.999, "close": c, "volume": 1e6}, index=idx
    )


def _flat_vol(**kw) -> OptionsConfig:
    """The vol model pinned at the floor (0.2): a tiny premium on realised vol."""
    base = dict(
        iv_premium=1e-9,
        iv_floor=0.2,
        vol_window=2,
        risk_free_rate=R,
        dividend_yield=0.0,
        commission_per_contract=1.0,
        profit_target_pct=None,
        stop_loss_pct=None,
        contracts=2,
    )
    base.update(kw)
    return OptionsConfig(**base)


def _signal_once(n: int, bar: int, value: float = 1.0) -> np.ndarray:
    """A cross at ``bar``: 0 at ``bar - 1``, ``value`` at ``bar``; NaN (no opinion: no cross,
    so no entry and no signal exit) everywhere else."""
    s = np.full(n, np.nan)
    s[bar - 1] = 0.0
    s[bar] = value
    return s


def test_bull_call_spread_held_to_expiry_in_the_money():
    # flat at 100 for 7 bars, then up 1 a day to 110 and beyond
    closes = [100.0] * 7 + [100.0 + i for i in range(1, 15)]
    df = _bars(closes)
    sig = _signal_once(len(df), 5)  # decided at bar 5's close -> filled at bar 6's open
    cfg = _flat_vol(structure="bull_call_spread", dte=10, moneyness=(0.0, 0.05))
    res = run_options_backtest(df, sig, cfg, EngineConfig())
    assert len(res.trades) == 1
    tr = res.trades.iloc[0]
    assert tr.entry_bar == 6 and tr.entry_spot == 100.0
    # expiry: 10 calendar days after bar 6 = bar 16, whose close is 110
    assert tr.exit_bar == 16 and tr.exit_reason == "expiry" and tr.exit_spot == 110.0
    legs = res.legs
    assert list(legs.kind) == ["call", "call"]
    assert list(legs.strike) == [100.0, 105.0]
    assert list(legs.contracts) == [2.0, -2.0]
    assert (legs.expiry == df.index[16]).all()
    # by hand: debit = C(100) - C(105) at T = 10/365, vol 0.2; payoff (110-100) - (110-105) = 5
    t = 10 / 365
    debit = bs_price(100, 100, t, R, 0, 0.2, "call") - bs_price(100, 105, t, R, 0, 0.2, "call")
    commissions = 2 * 2 * 1.0  # two legs x two contracts, entry only (expiry is cash-settled)
    pnl = 2 * 100 * (5.0 - debit) - commissions
    assert tr.pnl == pytest.approx(pnl, rel=1e-12)
    assert list(legs.exit_price) == [10.0, 5.0]
    assert res.equity.iloc[-1] == pytest.approx(100_000 + pnl, rel=1e-12)
    assert res.equity.iloc[16:].nunique() == 1  # flat after the settlement
    assert res.assumptions["prices"] == SYNTHETIC_NOTE


def test_iron_condor_expires_worthless():
    df = _bars([100.0] * 40)
    sig = _signal_once(len(df), 3, -0.8)  # non-directional: |signal| opens it
    cfg = _flat_vol(
        structure="iron_condor", dte=30, moneyness=(0.05, 0.10), contracts=3, strike_step=0.5
    )
    res = run_options_backtest(df, sig, cfg)
    tr = res.trades.iloc[0]
    assert (tr.entry_bar, tr.exit_bar, tr.exit_reason, tr.side) == (4, 34, "expiry", "neutral")
    legs = res.legs.set_index(["kind", "strike"]).contracts
    assert legs.to_dict() == {
        ("put", 90.0): 3.0,
        ("put", 95.0): -3.0,
        ("call", 105.0): -3.0,
        ("call", 110.0): 3.0,
    }
    t = 30 / 365
    credit = (
        bs_price(100, 95, t, R, 0, 0.2, "put")
        - bs_price(100, 90, t, R, 0, 0.2, "put")
        + bs_price(100, 105, t, R, 0, 0.2, "call")
        - bs_price(100, 110, t, R, 0, 0.2, "call")
    )
    assert tr.entry_value == pytest.approx(-3 * 100 * credit, rel=1e-12)  # a credit
    assert (res.legs.exit_price == 0.0).all()
    assert tr.pnl == pytest.approx(3 * 100 * credit - 4 * 3 * 1.0, rel=1e-12)
    # sized max loss: the 5-wide wing minus the credit, plus commissions both ways
    assert tr.max_loss == pytest.approx(3 * (100 * (5 - credit) + 2 * 4 * 1.0), rel=1e-12)


def test_straddle_stopped_out():
    # a straddle bought at 100 loses time value while the price sits still: stop at -20 %
    df = _bars([100.0] * 60)
    sig = _signal_once(len(df), 2)
    cfg = _flat_vol(structure="straddle", dte=30, stop_loss_pct=0.2)
    res = run_options_backtest(df, sig, cfg)
    tr = res.trades.iloc[0]
    assert tr.exit_reason == "stop_loss"
    # by hand: the first close where the straddle's value is 80 % of what was paid, exit at the next open
    t_entry = 30 / 365
    paid = bs_price(100, 100, t_entry, R, 0, 0.2, "call") + bs_price(
        100, 100, t_entry, R, 0, 0.2, "put"
    )
    held = np.arange(1, 30)
    value = bs_price(100, 100, (30 - held) / 365, R, 0, 0.2, "call") + bs_price(
        100, 100, (30 - held) / 365, R, 0, 0.2, "put"
    )
    first = int(held[np.argmax(value - paid <= -0.2 * paid)])
    assert tr.exit_bar == 3 + first + 1


def test_structure_decides_the_legs_never_the_sign():
    df = make_ohlcv(300, seed=3)
    up = np.where(np.arange(len(df)) % 40 < 20, 0.9, 0.0)  # a cross every 40 bars
    down = -up
    cfg = dict(contracts=1)
    assert run_options_backtest(df, up, OptionsConfig(structure="long_put", **cfg)).trades.empty
    assert run_options_backtest(df, down, OptionsConfig(structure="long_call", **cfg)).trades.empty
    puts = run_options_backtest(df, down, OptionsConfig(structure="long_put", **cfg))
    assert (
        len(puts.trades) > 0
        and set(puts.legs.kind) == {"put"}
        and set(puts.trades.side) == {"short"}
    )
    straddle = run_options_backtest(df, down, OptionsConfig(structure="straddle", **cfg))
    assert set(straddle.legs.kind) == {"call", "put"} and set(straddle.trades.side) == {"neutral"}


@pytest.mark.parametrize(
    "structure",
    [
        "long_call",
        "long_put",
        "bull_call_spread",
        "bear_put_spread",
        "straddle",
        "strangle",
        "iron_condor",
        "covered_call",
    ],
)
def test_equity_is_cash_plus_position_value_every_bar(structure):
    df = make_ohlcv(400, seed=11)
    rng = np.random.default_rng(5)
    sig = np.clip(np.sin(np.arange(len(df)) / 12.0) + rng.normal(0, 0.2, len(df)), -1, 1)
    cfg = OptionsConfig(
        structure=structure, dte=21, roll_dte=3, skew=0.5, bid_ask_haircut=0.02, risk_pct=0.5
    )
    res = run_options_backtest(df, sig, cfg, EngineConfig(entry_threshold=0.3))
    assert len(res.trades) > 3
    # position value rebuilt independently from the legs: model prices at every close
    value = np.zeros(len(df))
    years = (df.index - df.index[0]) / pd.Timedelta(days=365)
    for _, leg in res.legs.iterrows():
        trade = res.trades.iloc[leg.trade]
        last = len(df) if trade.open else trade.exit_bar
        bars = np.arange(trade.entry_bar, last)
        if trade.exit_reason == "expiry":
            bars = bars[bars < trade.exit_bar]
        spot = df.close.to_numpy()[bars]
        if leg.kind == "stock":
            px = spot
        else:
            tau = (leg.expiry - df.index[0]) / pd.Timedelta(days=365) - np.asarray(years)[bars]
            vol = res.iv.to_numpy()[bars] * (1 + 0.5 * np.maximum(0, np.log(spot / leg.strike)))
            px = bs_price(
                spot, leg.strike, np.maximum(tau, 0), cfg.risk_free_rate, 0, vol, leg.kind
            )
        value[bars] += leg.contracts * 100 * px
    np.testing.assert_allclose(res.position_value, value, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(res.equity, res.cash + res.position_value, rtol=0, atol=1e-6)
    # P&L by greek: the six parts add up to each bar's equity change
    change = np.diff(np.r_[100_000.0, res.equity.to_numpy()])
    np.testing.assert_allclose(res.attribution.sum(axis=1), change, atol=1e-6)


def test_no_look_ahead():
    df = make_ohlcv(300, seed=2)
    sig = np.sin(np.arange(len(df)) / 9.0)
    cfg = OptionsConfig(structure="straddle", contracts=1)
    base = run_options_backtest(df, sig, cfg)
    cut = 200
    changed = df.copy()
    changed.iloc[cut + 1 :, :4] *= 1.3
    sig2 = sig.copy()
    sig2[cut + 1 :] = -sig2[cut + 1 :]
    other = run_options_backtest(changed, sig2, cfg)
    np.testing.assert_array_equal(base.equity.iloc[: cut + 1], other.equity.iloc[: cut + 1])
    np.testing.assert_array_equal(base.iv.iloc[: cut + 1], other.iv.iloc[: cut + 1])


def test_intraday_bars_use_calendar_time():
    df = make_ohlcv(24 * 20, seed=4, freq="h")
    sig = _signal_once(len(df), 30)
    res = run_options_backtest(
        df,
        sig,
        OptionsConfig(
            structure="long_call", dte=3, contracts=1, profit_target_pct=None, stop_loss_pct=None
        ),
    )
    tr = res.trades.iloc[0]
    assert tr.expiry == df.index[31] + pd.Timedelta(days=3)
    assert tr.exit_reason == "expiry" and df.index[tr.exit_bar] == tr.expiry  # 72 hourly bars later
    assert tr.exit_bar - tr.entry_bar == 72


def test_bad_inputs():
    df = make_ohlcv(50)
    with pytest.raises(EngineError, match="signal has 10 bars"):
        run_options_backtest(df, np.zeros(10), OptionsConfig())
    with pytest.raises(EngineError, match="DatetimeIndex"):
        run_options_backtest(df.reset_index(drop=True), np.zeros(50), OptionsConfig())


def test_all_entries_skipped_is_a_ledger_note_not_a_warning():
    # was a UserWarning (an error under filterwarnings=error, unseen in the workbench) that said
    # "set contracts" whatever the case; tests/options/test_sizing.py checks each reason's words
    df = make_ohlcv(100)
    res = run_options_backtest(
        df,
        np.r_[np.zeros(30), np.ones(len(df) - 30)],  # a cross after the vol warm-up
        OptionsConfig(structure="covered_call", risk_pct=0.01),
    )
    note = res.assumptions["skipped_note"]
    assert len(res.trades) == 0 and res.assumptions["skipped_entries"] == 1
    assert note.startswith("1 of 1 entry skipped because one covered_call unit's risk") and "risk_pct=0.01" in note


def test_covered_call_assigned_at_expiry():
    # stock bought at 100 with a call sold at 105; the stock ends at 112: the shares go at 105
    closes = [100.0] * 5 + list(np.linspace(101, 112, 12)) + [112.0] * 5
    df = _bars(closes)
    sig = _signal_once(len(df), 3)
    cfg = _flat_vol(structure="covered_call", dte=12, moneyness=(0.0, 0.05), contracts=1)
    res = run_options_backtest(df, sig, cfg)
    tr = res.trades.iloc[0]
    assert (tr.entry_bar, tr.exit_bar, tr.exit_reason) == (4, 16, "expiry")
    stock, call = res.legs.iloc[0], res.legs.iloc[1]
    assert (stock.kind, stock.contracts, stock.entry_price, stock.exit_price) == (
        "stock",
        1.0,
        100.0,
        112.0,
    )
    assert (call.kind, call.strike, call.contracts, call.exit_price) == ("call", 105.0, -1.0, 7.0)
    premium = bs_price(100, 105, 12 / 365, R, 0, 0.2, "call")
    # by hand: the position is worth the strike at expiry (112 - 7 = 105 per share)
    assert tr.exit_value == pytest.approx(100 * 105.0, rel=1e-12)
    assert tr.pnl == pytest.approx(100 * (105.0 - 100.0 + premium) - 2 * 1.0, rel=1e-12)


def test_pnl_by_greek_per_trade_sums_to_trade_pnl():
    df = make_ohlcv(500, seed=8)
    sig = np.sin(np.arange(len(df)) / 10.0)
    cfg = OptionsConfig(structure="strangle", dte=30, bid_ask_haircut=0.01, risk_pct=0.2)
    res = run_options_backtest(df, sig, cfg, EngineConfig(entry_threshold=0.5))
    parts = res.trades[
        [f"pnl_{k}" for k in ("delta", "gamma", "vega", "theta", "residual", "costs")]
    ]
    np.testing.assert_allclose(parts.sum(axis=1), res.trades.pnl, rtol=1e-10, atol=1e-6)
    np.testing.assert_allclose(res.trades.pnl_costs, -res.trades.costs, rtol=1e-10)
    # a daily Taylor step explains most of it: the residual is small next to the greek parts
    greek = parts[["pnl_delta", "pnl_gamma", "pnl_vega", "pnl_theta"]].abs().sum().sum()
    assert parts.pnl_residual.abs().sum() < 0.25 * greek


def test_profit_target_exit_fills_next_open():
    closes = [100.0] * 6 + [100.0 + 2 * i for i in range(1, 20)]
    df = _bars(closes)
    sig = _signal_once(len(df), 3)
    cfg = _flat_vol(structure="long_call", dte=30, profit_target_pct=0.5, contracts=1)
    res = run_options_backtest(df, sig, cfg)
    tr = res.trades.iloc[0]
    assert tr.exit_reason == "take_profit"
    # the first close where the call's model value is >= 1.5 x what was paid; out at the next open
    paid = bs_price(100, 100, 30 / 365, R, 0, 0.2, "call")
    bars = np.arange(4, len(df))
    val = bs_price(df.close.to_numpy()[bars], 100, (30 - (bars - 4)) / 365, R, 0, 0.2, "call")
    first = int(bars[np.argmax(val - paid >= 0.5 * paid)])
    assert tr.exit_bar == first + 1
    assert tr.exit_spot == df.open.iloc[first + 1]
    assert res.legs.exit_price.iloc[0] == pytest.approx(
        bs_price(df.open.iloc[first + 1], 100, (30 - (first + 1 - 4)) / 365, R, 0, 0.2, "call"),
        rel=1e-12,
    )


def test_entries_are_crosses_like_the_equity_engine():
    # a signal that starts above the threshold and stays there never crosses: no trade; one
    # that dips to 0 and comes back crosses once; a roll reopens without a new cross
    closes = [100.0] * 40
    df = _bars(closes)
    cfg = _flat_vol(structure="long_call", dte=10, contracts=1)
    assert run_options_backtest(df, np.full(len(df), 0.9), cfg).trades.empty
    dip = np.full(len(df), 0.9)
    dip[10] = 0.05  # below the 0.1 entry threshold, above the 0 exit threshold: no exit
    once = run_options_backtest(df, dip, cfg)
    assert once.trades.entry_bar.tolist() == [12]
    rolled = run_options_backtest(df, dip, dataclasses.replace(cfg, roll_dte=5))
    # opened at 12 with expiry at day 22; rolled out at the open after the close with <= 5 days
    # left (bar 17) and reopened at that same open, and so on while the signal stays above
    assert rolled.trades.entry_bar.tolist()[:3] == [12, 18, 24]
    assert rolled.trades.exit_reason.tolist()[:2] == ["roll", "roll"]


def test_engine_fields_an_options_run_ignores_are_named():
    df = make_ohlcv(60)
    with pytest.warns(UserWarning, match=r"stop_loss_pct.*do\(es\) not apply"):
        run_options_backtest(
            df, np.zeros(len(df)), OptionsConfig(), EngineConfig(stop_loss_pct=0.05)
        )


def test_zero_signal_is_flat_equity():
    df = make_ohlcv(200, seed=9)
    res = run_options_backtest(df, np.zeros(len(df)), OptionsConfig(structure="straddle"))
    assert res.trades.empty and res.legs.empty
    assert (res.equity == 100_000.0).all() and (res.greeks == 0.0).all().all()


@pytest.mark.parametrize("structure", ["bull_call_spread", "iron_condor", "strangle"])
def test_higher_costs_never_raise_final_equity(structure):
    df = make_ohlcv(400, seed=12)
    sig = np.sin(np.arange(len(df)) / 11.0)
    finals = []
    for haircut, commission in [(0.0, 0.0), (0.01, 0.65), (0.03, 1.5)]:
        cfg = OptionsConfig(
            structure=structure,
            contracts=2,
            profit_target_pct=None,
            stop_loss_pct=None,
            bid_ask_haircut=haircut,
            commission_per_contract=commission,
        )
        finals.append(run_options_backtest(df, sig, cfg).equity.iloc[-1])
    assert finals[0] > finals[1] > finals[2]


def test_strikes_by_target_delta_and_skew():
    df = make_ohlcv(200, seed=6)
    sig = _signal_once(len(df), 60, -1.0)
    cfg = OptionsConfig(
        structure="bear_put_spread",
        strike_rule="delta",
        delta=(0.4, 0.2),
        skew=1.0,
        contracts=1,
        profit_target_pct=None,
        stop_loss_pct=None,
    )
    res = run_options_backtest(df, sig, cfg)
    near, far = res.legs.iloc[0], res.legs.iloc[1]
    assert (near.kind, far.kind, near.contracts, far.contracts) == ("put", "put", 1.0, -1.0)
    assert near.entry_delta == pytest.approx(-0.4, abs=1e-9)
    assert far.entry_delta == pytest.approx(-0.2, abs=1e-9)
    spot = res.trades.entry_spot.iloc[0]
    atm = res.iv.iloc[60]
    assert far.strike < near.strike < spot
    # the put wing is richer: iv(K) = iv_atm * (1 + skew * ln(S / K))
    assert far.entry_iv == pytest.approx(atm * (1 + np.log(spot / far.strike)), rel=1e-12)
    assert far.entry_iv > near.entry_iv > atm


def test_a_vol_window_longer_than_the_bars_is_refused():
    from phi.errors import ConfigError

    df = make_ohlcv(120)
    with pytest.raises(ConfigError, match=r"vol_window=500 needs more than the 120 bars given"):
        run_options_backtest(df, np.ones(len(df)), OptionsConfig(vol_window=500))
    # a window the bars can fill still runs
    assert run_options_backtest(df, np.ones(len(df)), OptionsConfig(vol_window=100)) is not None


def test_a_frame_without_bars_is_refused_like_the_equity_engine():
    # an empty frame died in an IndexError while measuring the bars' years (before the bar checks)
    empty = _bars([100.0, 101.0]).iloc[:0]
    with pytest.raises(EngineError, match="^ohlcv has no bars$"):
        run_options_backtest(empty, np.zeros(0))
