"""Every preset end to end on demo data: run_backtest.py, phi strategies run/compare, PhiBot's
gates, MomentumRotation's holdings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import phi.strategies as strategies
import run_backtest
from phi.backtest import run_history as rh
from phi.backtest.run_config import DatasetSpec
from phi.cli import main as phi_main
from phi.data.demo import generate_demo
from phi.indicators.registry import compute_raw
from phi.strategies.runner import run_preset

SHORT = ["--start", "2023-01-01", "--end", "2024-06-30"]  # enough bars for every warm-up (PhiBot's: 118)
NAMES = [p.name for p in strategies.list()]
SINGLE = [p.name for p in strategies.list() if not p.is_portfolio]


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_runs_from_run_backtest_py(name, capsys):
    assert run_backtest.main(["--strategy", name.lower(), "--budget", "50000", "--no-save", *SHORT]) == 0
    out = capsys.readouterr().out
    assert "Final equity [cash]" in out and "Prediction scorecard" in out and "Accuracy [%]" in out


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_runs_from_phi_strategies_run(name, capsys):
    assert phi_main(["strategies", "run", name, "DEMO", *SHORT, "--benchmark", "SPY"]) == 0
    out = capsys.readouterr().out
    assert "Against the benchmark SPY" in out and "Information ratio" in out
    rows = rh.list_runs()
    if name in SINGLE:
        (row,) = rows
        saved = rh.load_run(row["run_id"])
        assert saved.config.tags == (f"preset:{strategies.get(name).key}",)
        card = json.loads(rh.saved_file(saved, "scorecard.json"))
        bench = json.loads(rh.saved_file(saved, "benchmark.json"))
        assert card["n_predictions"] > 0 and bench["symbol"] == "SPY"
    else:  # a portfolio preset: saved with its per-symbol files, reopens as a portfolio config
        (row,) = rows
        saved = rh.load_run(row["run_id"])
        assert saved.config.mode == "portfolio" and saved.config.tags == (f"preset:{strategies.get(name).key}",)
        assert rh.saved_file(saved, "holdings.csv") is not None and "Contribution by symbol" in out


def test_compare_saves_one_run_per_preset_that_ran(capsys):
    assert phi_main(["strategies", "compare", "DEMO", *SHORT, "--metric", "total_return"]) == 0
    out = capsys.readouterr().out
    ran = [n for n in NAMES if f"{n} failed" not in out]
    assert "MomentumRotation" in ran and f"Saved {len(ran)} runs" in out
    saved = {rh.load_run(r["run_id"]).config.tags[0] for r in rh.list_runs()}
    assert saved == {f"preset:{strategies.get(n).key}" for n in ran}  # the portfolio preset too
    for name in NAMES:
        assert name in out


def test_compare_table_is_sorted_by_the_chosen_metric():
    cmp = strategies.compare(["rsi", "macd", "bah", "ChannelBreakout"], DatasetSpec("DEMO", start="2023-01-01", end="2024-06-30"), metric="max_drawdown", save=False)
    dd = cmp.table["max_drawdown"].to_numpy()
    assert list(cmp.table["strategy"]) != [] and (np.diff(dd) <= 0).all()  # closest to 0 first
    assert set(cmp.table["strategy"]) == {"RSI", "MACD", "BuyAndHold", "ChannelBreakout"}


def test_a_bad_strategy_or_metric_is_one_line_and_exit_code_2(capsys):
    assert phi_main(["strategies", "run", "buyandhld"]) == 2
    assert "Did you mean 'BuyAndHold'?" in capsys.readouterr().err
    assert phi_main(["strategies", "compare", "--metric", "luck"]) == 2
    assert "cannot sort by 'luck'" in capsys.readouterr().err


def test_phibot_trades_on_demo_data_and_respects_its_gates():
    ds = DatasetSpec("DEMO", start="2022-01-01", end="2024-12-31")
    run = run_preset("PhiBot", ds, save=False)
    trades = run.result.trades
    assert len(trades) >= 3  # the reference bot never traded
    bars = generate_demo("DEMO", "2022-01-01", "2024-12-31")
    raw = compute_raw("phibot", bars, {"threshold": 0.15, "confidence": 0.30})
    # each entry fills the bar after a gated-in buy call (|composite| >= 0.15, confidence >= 0.30)
    for t in trades.itertuples():
        decision = raw.iloc[t.entry_bar - 1]
        assert decision["call"] == 1.0 and decision["composite"] >= 0.15 and decision["confidence"] >= 0.30
        if not t.open:
            assert raw["call"].iloc[t.exit_bar - 1] == -1.0
    gated = int(((raw["call"] == 0) & raw["composite"].notna()).sum())
    assert run.result.assumptions["phibot_gated_out_bars"] == gated > 0
    assert f"{gated} gated out" in run.result.assumptions["phibot_gate"]
    # a floor no bar reaches gates everything out: no trade
    strict = strategies.get("PhiBot").config(ds).replace(indicators=[{"name": "phibot", "params": {"confidence": 0.95}}])
    from phi.pipeline import run as phi_run

    assert len(phi_run(strict, save=False).trades) == 0


def test_momentum_rotation_holds_the_best_20_bar_momentum():
    ds = DatasetSpec("DEMO", start="2023-01-01", end="2024-06-30")
    run = run_preset("MomentumRotation", ds, save=False)
    res = run.result
    closes = pd.DataFrame({s: generate_demo(s, "2023-01-01", "2024-06-30")["close"] for s in ("SPY", "VEU", "AGG", "GLD")})
    mom = closes / closes.shift(20)
    first = 20  # the first bar with a 20-bar momentum
    held = res.holdings
    for d in range(first, len(closes) - 1, 5):  # a rotation every 5 bars, filled at the next open
        best = mom.iloc[d].idxmax()
        assert held.iloc[d + 1][best] > 0, (closes.index[d], best)
        assert (held.iloc[d + 1].drop(best) == 0).all()
    assert res.metrics["n_trades"] > 5 and run.scorecard["n_predictions"] > 0


def test_presets_too_long_for_the_data_are_reported_and_the_rest_still_run(capsys):
    short = ["--start", "2024-06-01", "--end", "2024-09-30", "--no-save"]  # 86 bars
    assert phi_main(["strategies", "compare", "-s", "rsi,macd,phibot,momentum", *short]) == 0
    out = capsys.readouterr().out
    assert "MACD failed: macd(fast=12, slow=26, signal=9) needs more than 92 bars" in out
    assert "PhiBot failed" in out and "RSI" in out and "MomentumRota" in out and "MomentumRotation failed" not in out
    assert phi_main(["strategies", "compare", "-s", "macd,momentum", "--start", "2024-09-01", "--end", "2024-09-10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no preset ran: MACD:") and "MomentumRotation: weight rule rotation(lookback=20, every=5, top_n=1) needs more than 21 bars" in err
