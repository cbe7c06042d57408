"""Engine: configuration, input errors and hand-worked execution cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import (
    TRADE_COLUMNS,
    BacktestResult,
    EngineConfig,
    run_backtest,
    run_backtest_many,
)
from phi.errors import ConfigError, EngineError
from tests.conftest import make_ohlcv

NAN = np.nan


def bars(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """A frame from (open, high, low, close) rows, daily UTC stamps."""
    idx = pd.date_range("2024-01-01", periods=len(rows), freq="D", tz="UTC", name="timestamp")
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx, dtype=float)
    df["volume"] = 1000.0
    return df


FLAT = (100.0, 101.0, 99.0, 100.0)


def one(ohlcv, signal, **cfg) -> BacktestResult:
    res = run_backtest(
        ohlcv, pd.Series(signal, index=ohlcv.index, dtype=float), EngineConfig(**cfg)
    )
    assert isinstance(res, BacktestResult)
    return res


# ---- configuration -------------------------------------------------------------------


def test_config_round_trips_through_json():
    cfg = EngineConfig(stop_loss_pct=0.02, time_exit_bars=5, allow_short=True, calendar="24/7")
    again = EngineConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert EngineConfig.from_dict({"initial_capital": 5000}).initial_capital == 5000.0


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (
            {"stop_los_pct": 0.02},
            "unknown EngineConfig field 'stop_los_pct'. Did you mean 'stop_loss_pct'",
        ),
        ({"initial_capital": -1}, r"initial_capital must be > 0, got -1"),
        ({"initial_capital": "100"}, "initial_capital must be a finite number"),
        ({"initial_capital": True}, "initial_capital must be a finite number"),
        ({"entry_threshold": 1.5}, r"entry_threshold must be in \[0, 1\]"),
        ({"exit_threshold": -0.1}, r"exit_threshold must be in \[0, 1\]"),
        (
            {"entry_threshold": 0.1, "exit_threshold": 0.3},
            "exit_threshold .* must be <= entry_threshold",
        ),
        ({"stop_loss_pct": 0.0}, r"stop_loss_pct must be in \(0, 1\]"),
        ({"trailing_stop_pct": 2.0}, r"trailing_stop_pct must be in \(0, 1\]"),
        ({"size_pct": 1.2}, r"size_pct must be in \(0, 1\]"),
        ({"take_profit_pct": -0.1}, "take_profit_pct must be > 0"),
        ({"time_exit_bars": 0}, "time_exit_bars must be >= 1"),
        ({"time_exit_bars": 2.5}, "time_exit_bars must be an integer"),
        ({"allow_short": "yes"}, "allow_short must be true or false"),
        ({"fill": "open"}, "unknown fill 'open'.*Valid choices: close, next_open"),
        (
            {"sizing": "kelly"},
            "Valid choices: fixed_cash, fixed_units, percent_equity, risk_per_trade",
        ),
        ({"calendar": "crypto"}, "Valid choices: 24/7, auto, exchange, fx"),
        ({"initial_capital": 10**400}, "initial_capital must be a finite number, got an integer of about 401 digits"),
        ({"initial_capital": 10**5000}, "initial_capital must be a finite number, got an integer of about 5,001 digits"),
        ({"initial_capital": 1e300}, "initial_capital must be at most 1e"),
        ({"commission_fixed": -(10**400)}, "commission_fixed must be a finite number"),
        ({"stop_loss_pct": float("inf")}, "stop_loss_pct must be a finite number"),
        ({"time_exit_bars": 99999999999999999999}, "time_exit_bars must be at most 1,000,000,000 bars"),
        ({"time_exit_bars": 10**5000}, "time_exit_bars must be at most .* got an integer of about 5,001 digits"),
        ({"warmup_bars": 2**70}, "warmup_bars must be at most"),
        ({"periods_per_year": 0}, r"periods_per_year must be in \(0, 1e\+07\]"),
        ({"periods_per_year": 10**400}, "periods_per_year must be a finite number"),
        ({"sizing": "fixed_cash"}, "needs size_cash"),
        ({"sizing": "risk_per_trade", "risk_pct": 0.01}, "needs stop_loss_pct"),
        ({"commission_pct": 1.0}, r"commission_pct must be in \[0, 1\)"),
        ({"slippage_bps": -1}, "slippage_bps must be in"),
        ({"warmup_bars": -3}, "warmup_bars must be >= 0"),
    ],
)
def test_bad_config_is_a_one_line_config_error(fields, match):
    with pytest.raises(ConfigError, match=match) as info:
        EngineConfig.from_dict(fields)
    assert "\n" not in str(info.value)


def test_config_is_frozen_and_coerces_ints():
    cfg = EngineConfig(initial_capital=10_000, time_exit_bars=3.0)  # type: ignore[arg-type]
    assert isinstance(cfg.initial_capital, float) and cfg.time_exit_bars == 3
    with pytest.raises(AttributeError):
        cfg.initial_capital = 1.0  # type: ignore[misc]


# ---- input errors --------------------------------------------------------------------


def test_bad_inputs_are_engine_errors():
    df = bars([FLAT] * 5)
    with pytest.raises(EngineError, match="missing column"):
        run_backtest(df.drop(columns="low"), np.zeros(5))
    bad = df.copy()
    bad.iloc[2, 3] = NAN
    with pytest.raises(EngineError, match=r"^ohlcv column 'close' has 1 NaN value\(s\), first at 2024-01-03 .*\(row 2\)"):
        run_backtest(bad, np.zeros(5))
    with pytest.raises(EngineError, match=r"must lie in \[-1, 1\].*got 2.0"):
        run_backtest(df, np.array([0, 0, 2.0, 0, 0]))
    with pytest.raises(EngineError, match="signal has 4 bars but ohlcv has 5"):
        run_backtest(df, np.zeros(4))
    with pytest.raises(ConfigError):
        run_backtest(df, np.zeros(5), config="fast")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [NAN, np.inf, -np.inf, 0.0, -1.0])
@pytest.mark.parametrize("col", range(4))
def test_every_kind_of_bad_price_in_every_column_is_found(col: int, value: float):
    from phi.backtest import _nb

    a = [np.linspace(10.0, 11.0, 1_000) * f for f in (1.0, 1.01, 0.99, 1.0)]
    assert _nb.first_bad_bar_nb(*a) == -1
    a[col][700] = value
    a[col][900] = value
    assert _nb.first_bad_bar_nb(*a) == 700


def test_capitalised_columns_and_a_plain_array_signal_work():
    df = bars([FLAT] * 6)
    sig = np.array([NAN, -1.0, 1.0, 1.0, 1.0, 1.0])
    res = run_backtest(df.rename(columns=str.capitalize), sig, EngineConfig())
    assert res.trades["entry_bar"].tolist() == [3]
    assert np.isnan(res.signal.iloc[0])


# ---- execution rules, hand-worked ------------------------------------------------------


def test_next_open_fill_and_signal_exit():
    df = bars([FLAT, FLAT, FLAT, (102, 103, 101, 102), FLAT, FLAT, (104, 105, 103, 104), FLAT])
    res = one(df, [NAN, -1, 1, 1, 1, -1, -1, -1], initial_capital=10_000, size_pct=0.5)
    t = res.trades
    assert list(t.columns) == list(TRADE_COLUMNS)
    assert len(t) == 1
    row = t.iloc[0]
    assert (row["entry_bar"], row["exit_bar"], row["bars_held"]) == (3, 6, 3)
    assert (row["entry_price"], row["exit_price"]) == (102.0, 104.0)  # next opens
    assert row["size"] == pytest.approx(5000 / 102)
    assert row["pnl"] == pytest.approx(5000 / 102 * 2)
    assert row["return_pct"] == pytest.approx(2 / 102)
    assert row["side"] == "long" and row["exit_reason"] == "signal" and not row["open"]
    assert res.equity.iloc[2] == 10_000  # nothing happens on the signal bar itself
    assert res.equity.iloc[-1] == pytest.approx(10_000 + row["pnl"])
    assert res.positions.iloc[3] == pytest.approx(5000 / 102) and res.positions.iloc[6] == 0
    assert "t+1's open" in res.assumptions["fill_timing"]


def test_close_fill_is_same_bar_and_labelled_optimistic():
    df = bars([FLAT, FLAT, (100, 103, 99, 102), FLAT, (100, 105, 99, 104), FLAT])
    res = one(df, [NAN, -1, 1, 1, -1, -1], fill="close", size_pct=1.0)
    row = res.trades.iloc[0]
    assert (row["entry_bar"], row["exit_bar"]) == (2, 4)
    assert (row["entry_price"], row["exit_price"]) == (102.0, 104.0)
    assert "OPTIMISTIC" in res.assumptions["fill_timing"]


def test_nan_previous_bar_is_not_a_cross_and_levels_need_a_cross():
    df = bars([FLAT] * 6)
    assert one(df, [NAN, 1, 1, 1, 1, 1]).trades.empty  # first valid bar never trades
    assert one(df, [0.5, 0.5, NAN, 1, 1, 1]).trades.empty  # above the threshold all along
    assert one(df, [0, 0.1, 0.1, 0, 0, 0]).trades.empty  # touching 0.1 is not crossing it
    assert len(one(df, [0, 0.1, 0.11, 0, 0, 0]).trades) == 1


def test_stop_is_live_on_the_fill_bar():
    df = bars([FLAT, FLAT, FLAT, (100, 100.5, 97, 99), FLAT])
    row = one(df, [NAN, -1, 1, 1, 1], stop_loss_pct=0.02).trades.iloc[0]
    assert (row["entry_bar"], row["exit_bar"], row["bars_held"]) == (3, 3, 0)
    assert row["exit_price"] == pytest.approx(98.0) and row["exit_reason"] == "stop_loss"


def test_gap_through_stop_fills_at_the_open():
    df = bars([FLAT, FLAT, FLAT, FLAT, (95, 96, 94, 95), FLAT])
    row = one(df, [NAN, -1, 1, 1, 1, 1], stop_loss_pct=0.02).trades.iloc[0]
    assert row["exit_bar"] == 4 and row["exit_price"] == 95.0 and row["exit_reason"] == "stop_loss"


def test_gap_through_target_fills_at_the_open_even_if_the_stop_trades_later():
    df = bars([FLAT, FLAT, FLAT, FLAT, (106, 107, 96, 100), FLAT])
    res = one(df, [NAN, -1, 1, 1, 1, 1], stop_loss_pct=0.02, take_profit_pct=0.04)
    row = res.trades.iloc[0]
    assert (row["exit_price"], row["exit_reason"]) == (106.0, "take_profit")
    assert res.assumptions["ambiguous_bars"] == 0


def test_stop_before_target_when_both_touched_and_counted():
    df = bars([FLAT, FLAT, FLAT, FLAT, (100, 105, 97, 100), FLAT])
    res = one(df, [NAN, -1, 1, 1, 1, 1], stop_loss_pct=0.02, take_profit_pct=0.04)
    row = res.trades.iloc[0]
    assert (row["exit_price"], row["exit_reason"]) == (pytest.approx(98.0), "stop_loss")
    assert res.assumptions["ambiguous_bars"] == 1


def test_short_stop_and_target_mirror_the_long_ones():
    df = bars([FLAT, FLAT, FLAT, FLAT, (100, 100.5, 95, 96), FLAT])
    row = one(df, [NAN, 1, -1, -1, -1, -1], allow_short=True, stop_loss_pct=0.02,
              take_profit_pct=0.04).trades.iloc[0]  # fmt: skip
    assert (row["side"], row["exit_price"], row["exit_reason"]) == (
        "short",
        pytest.approx(96.0),
        "take_profit",
    )
    df2 = bars([FLAT, FLAT, FLAT, FLAT, (100, 102.5, 99, 100), FLAT])
    row = one(df2, [NAN, 1, -1, -1, -1, -1], allow_short=True, stop_loss_pct=0.02).trades.iloc[0]
    assert (row["exit_price"], row["exit_reason"]) == (pytest.approx(102.0), "stop_loss")
    assert row["pnl"] == pytest.approx(-row["size"] * 2.0)


def test_trailing_stop_never_ratchets_and_stops_on_the_same_bar():
    # entry 100 at bar 3's open; bar 3 runs to 110 and closes at 105: the level on bar 3 is
    # 95 (from the entry), so no exit; from bar 4 on it is 110 * 0.95 = 104.5.
    df = bars([FLAT, FLAT, FLAT, (100, 110, 100, 105), (105, 106, 104, 105), FLAT])
    row = one(df, [NAN, -1, 1, 1, 1, 1], trailing_stop_pct=0.05).trades.iloc[0]
    assert (row["exit_bar"], row["exit_reason"]) == (4, "trailing_stop")
    assert row["exit_price"] == pytest.approx(104.5)


def test_time_exit_after_n_bars():
    df = bars([FLAT] * 10)
    for fill in ("next_open", "close"):
        row = one(df, [NAN, -1, 1, 1, 1, 1, 1, 1, 1, 1], time_exit_bars=3, fill=fill).trades.iloc[0]
        assert row["bars_held"] == 3 and row["exit_reason"] == "time_exit"


def test_open_trade_at_the_end_is_reported_open_at_last_close():
    df = bars([FLAT, FLAT, FLAT, FLAT, (100, 111, 99, 110)])
    res = one(df, [NAN, -1, 1, 1, 1], size_pct=1.0, commission_fixed=1.0)
    row = res.trades.iloc[0]
    assert bool(row["open"]) and row["exit_reason"] == "end_of_data"
    assert row["exit_price"] == 110.0 and row["exit_bar"] == 4
    assert row["costs"] == 1.0  # entry commission only
    assert row["pnl"] == pytest.approx(row["size"] * 10 - 1.0)
    assert res.equity.iloc[-1] == pytest.approx(100_000 + row["pnl"])
    assert res.metrics["n_trades"] == 0 and res.metrics["n_open_trades"] == 1


def test_flat_prices_round_trips_create_no_money_long_or_short():
    """REFERENCE §2.4 BUG: double-counted cash turned $100k into $1.4M on a flat series."""
    df = bars([FLAT] * 40)
    sig = np.tile([1.0, 1.0, -1.0, -1.0, -1.0], 8)
    sig[0] = NAN
    res = one(df, sig, allow_short=True, size_pct=1.0)
    assert len(res.trades) >= 8 and set(res.trades["side"]) == {"long", "short"}
    np.testing.assert_allclose(res.equity.to_numpy(), 100_000.0, rtol=0, atol=1e-6)
    costly = one(df, sig, allow_short=True, size_pct=1.0, commission_pct=0.001)
    assert costly.equity.iloc[-1] < 100_000.0


def test_costs_hand_worked():
    df = bars([FLAT, FLAT, FLAT, (100, 101, 99, 100), FLAT, (110, 111, 109, 110), FLAT])
    res = one(df, [NAN, -1, 1, 1, -1, -1, -1], initial_capital=10_000, size_pct=0.5,
              commission_pct=0.001, commission_fixed=1.0, slippage_bps=10)  # fmt: skip
    row = res.trades.iloc[0]
    buy = 100 * 1.001  # pays 10 bps more
    units = (5000 - 1.0) / (buy * 1.001)
    assert row["size"] == pytest.approx(units)
    entry_costs = 0.001 * units * buy + 1.0 + units * 100 * 0.001
    sell = 110 * 0.999
    exit_costs = 0.001 * units * sell + 1.0 + units * 110 * 0.001
    assert row["costs"] == pytest.approx(entry_costs + exit_costs)
    assert row["pnl"] == pytest.approx(units * 10 - entry_costs - exit_costs)
    assert (row["entry_price"], row["exit_price"]) == (100.0, 110.0)  # market prices
    assert res.equity.iloc[-1] == pytest.approx(10_000 + row["pnl"])


def test_whole_units_and_other_sizings():
    df = bars([FLAT, FLAT, FLAT, (33, 34, 32, 33), FLAT])
    sig = [NAN, -1, 1, 1, 1]
    assert (
        one(df, sig, initial_capital=1000, size_pct=1.0, fractional=False).trades["size"][0] == 30
    )
    assert one(df, sig, sizing="fixed_cash", size_cash=330.0).trades["size"][0] == pytest.approx(10)
    assert one(df, sig, sizing="fixed_units", size_units=7.0).trades["size"][0] == 7
    capped = one(df, sig, initial_capital=100, sizing="fixed_units", size_units=7.0).trades
    assert capped["size"][0] == pytest.approx(100 / 33)  # never more than the equity pays for
    risk = one(df, sig, sizing="risk_per_trade", risk_pct=0.01, stop_loss_pct=0.05).trades
    assert risk["size"][0] == pytest.approx(100_000 * 0.01 / (33 * 0.05))
    too_small = one(df, sig, initial_capital=20, size_pct=1.0, fractional=False)
    assert too_small.trades.empty and too_small.assumptions["skipped_entries"] == 1


def test_reversal_on_the_same_open_and_signal_exit_off():
    df = bars([FLAT, FLAT, FLAT, FLAT, FLAT, (101, 102, 100, 101), FLAT])
    sig = [NAN, -1, 1, 1, -1, -1, -1]
    t = one(df, sig, allow_short=True).trades
    assert t["side"].tolist() == ["long", "short"]
    assert t["exit_bar"][0] == t["entry_bar"][1] == 5
    assert t["exit_price"][0] == t["entry_price"][1] == 101.0
    held = one(df, sig, allow_short=True, signal_exit=False).trades
    assert held["side"].tolist() == ["long"] and bool(held["open"][0])


def test_warmup_blocks_entries_and_metrics():
    df = bars([FLAT] * 8)
    sig = [NAN, -1, 1, 1, -1, 1, 1, 1]
    assert one(df, sig).trades["entry_bar"].tolist() == [3, 6]
    assert one(df, sig, warmup_bars=3).trades["entry_bar"].tolist() == [6]


def test_two_d_signal_runs_every_column_like_single_runs():
    df = make_ohlcv(400, seed=2)
    c = df["close"]
    sigs = pd.DataFrame({n: np.sign(c - c.rolling(n).mean()) for n in (5, 10, 20)})
    cfg = EngineConfig(allow_short=True, stop_loss_pct=0.03, trailing_stop_pct=0.05)
    many = run_backtest(df, sigs, cfg)
    assert isinstance(many, list) and len(many) == 3
    for name, res in zip(sigs.columns, many, strict=True):
        single = run_backtest(df, sigs[name], cfg)
        assert isinstance(single, BacktestResult)
        pd.testing.assert_series_equal(res.equity, single.equity)
        pd.testing.assert_frame_equal(res.trades, single.trades)
        assert res.signal is not None and res.signal.name == name
    lean = run_backtest_many(df, sigs.to_numpy(), cfg)
    np.testing.assert_array_equal(lean["final_equity"], [r.equity.iloc[-1] for r in many])
    arr = run_backtest(df, sigs.to_numpy(), cfg)  # a 2-D array is a 2-D signal too
    assert isinstance(arr, list) and len(arr) == 3


def test_assumption_ledger_is_complete_and_json_ready():
    df = make_ohlcv(50, seed=1)
    df.attrs["adjustment"] = "split_adjusted"
    res = run_backtest(df, np.zeros(50), EngineConfig(calendar="24/7", warmup_bars=5))
    a = res.assumptions
    for key in ("fill_timing", "tie_break", "gap_rule", "costs", "adjustment", "annualisation",
                "warmup_bars", "ambiguous_bars", "signal_rule", "trailing_stop"):  # fmt: skip
        assert key in a
    assert a["adjustment"] == "split_adjusted" and "365" in str(a["annualisation"])
    json.dumps(a)
    json.dumps(res.metrics)


def test_engine_never_imports_reference_libraries():
    import subprocess
    import sys

    code = (
        "import sys, phi.backtest.engine, phi.backtest.metrics; "
        "bad = {'backtesting', 'vectorbt', 'empyrical'} & set(sys.modules); "
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ruin_closes_everything_at_that_close_and_stops_trading():
    # short 1000 units at 100 with $100k; the price doubles: equity reaches exactly 0 at bar
    # 5's close (200). The short is closed there and nothing trades again, though the signal
    # keeps asking for new shorts.
    prices = [100.0, 100, 100, 100, 150, 200, 250, 300, 300]
    df = bars([(p, p, p, p) for p in prices])
    sig = [NAN, 1, -1, -1, 1, -1, 1, -1, -1]
    res = one(df, sig, allow_short=True, size_pct=1.0, signal_exit=False)
    t = res.trades
    assert len(t) == 1 and t["exit_reason"][0] == "ruin" and t["exit_bar"][0] == 5
    assert t["exit_price"][0] == 200.0 and t["pnl"][0] == pytest.approx(-100_000.0)
    np.testing.assert_allclose(res.equity.to_numpy()[5:], 0.0, atol=1e-9)
    assert (res.positions.to_numpy()[5:] == 0).all()
    assert res.assumptions["ruin_bar"] == str(df.index[5])
    assert "bar 5" in str(res.assumptions["ruin"])
    m = res.metrics
    assert m["total_return"] == pytest.approx(-1.0) and m["cagr"] == -1.0
    assert m["sharpe"] <= 0 and m["sortino"] <= 0 and m["max_drawdown"] == pytest.approx(-1.0)


def test_a_gap_through_zero_equity_is_kept_as_the_ruin_bars_loss():
    # the price jumps from 100 to 250 overnight: the equity falls to -$50k at that close; the
    # run keeps that real figure (total return -150 %), closes the short and stops there.
    prices = [100.0, 100, 100, 100, 250, 300, 100]
    df = bars([(p, p, p, p) for p in prices])
    res = one(df, [NAN, 1, -1, -1, -1, -1, -1], allow_short=True, size_pct=1.0,
              commission_pct=0.001)  # fmt: skip
    units = 100_000 / (100 * 1.001)
    ruin_equity = 100_000 - 0.001 * units * 100 + units * (100 - 250) - 0.001 * units * 250
    np.testing.assert_allclose(res.equity.to_numpy()[4:], ruin_equity, rtol=1e-12)
    assert str(res.assumptions["ruin"]).startswith(f"equity reached {ruin_equity:,.2f} (<= 0)")  # -50,199.80
    m = res.metrics
    assert m["total_return"] == pytest.approx(ruin_equity / 100_000 - 1)
    assert m["cagr"] == -1.0 and m["sharpe"] <= 0 and m["sortino"] <= 0
    assert all(np.isfinite([m["total_return"], m["max_drawdown"], m["calmar"], m["sharpe"]]))
    lean = run_backtest_many(df, np.array([[NAN, 1, -1, -1, -1, -1, -1]]).T,
                             EngineConfig(allow_short=True, size_pct=1.0, commission_pct=0.001))  # fmt: skip
    assert lean["ruin_bar"][0] == 4
    assert lean["final_equity"][0] == pytest.approx(ruin_equity, rel=1e-12)


def test_fixed_fees_can_ruin_a_flat_account():
    # a $60 fee per fill on a $100 account: the round trip leaves -$20 in cash with no position
    df = bars([FLAT] * 8)
    res = one(df, [NAN, -1, 1, -1, 1, -1, 1, -1], initial_capital=100, commission_fixed=60.0)
    assert len(res.trades) == 1 and res.trades["exit_reason"][0] == "signal"
    assert res.assumptions["ruin_bar"] == str(df.index[4])
    assert res.equity.iloc[-1] == pytest.approx(-20.0)
    assert res.metrics["cagr"] == -1.0


@pytest.mark.parametrize("kind", ["array", "series", "frame", "list"])
def test_a_complex_signal_is_refused_not_cut_to_its_real_part(kind):
    # 0.5+2j ran as a flat 0.5 signal (NumPy drops the imaginary part with only a warning)
    df = make_ohlcv(40)
    values = np.full(40, 0.5 + 2j)
    signal = {
        "array": values,
        "series": pd.Series(values, index=df.index),
        "frame": pd.DataFrame({"a": values}, index=df.index),
        "list": list(values),
    }[kind]
    want = r"^signal holds complex numbers; a signal is real numbers"
    with pytest.raises(EngineError, match=want):
        run_backtest(df, signal)
    with pytest.raises(EngineError, match=r"^signal holds complex numbers"):
        run_backtest_many(df, signal)
