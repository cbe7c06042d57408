"""``phi portfolio run`` on demo data: every weight rule, saved runs that ``phi runs`` shows and
re-runs, bad input as one line and exit code 2."""

from __future__ import annotations

import pytest

from phi.backtest import run_history as rh
from phi.backtest.portfolio_run_config import PortfolioRunConfig
from phi.cli import main as phi_main

BASKET = ["--symbols", "SPY,VEU,AGG,GLD", "--start", "2023-01-01", "--end", "2023-12-31"]


@pytest.mark.parametrize(
    ("args", "rule", "rebalance"),
    [
        (["--weights", "equal"], "equal({})", "monthly"),
        (["--weights", "inverse_vol", "--lookback", "30", "--rebalance", "weekly"], "inverse_vol(lookback=30)", "weekly"),
        (["--weights", "top_n_momentum", "--lookback", "15", "--top", "2", "--rebalance", "every:10"],
         "top_n_momentum(lookback=15, n=2)", "every:10"),
        (["--weights", "rotation", "--rebalance", "drift:0.05", "--whole-units"], "rotation(lookback=20, every=5, top_n=1)", "drift:0.05"),
    ],
)  # fmt: skip
def test_every_weight_rule_runs_and_is_saved(args, rule, rebalance, capsys):
    assert phi_main(["portfolio", "run", *BASKET, *args]) == 0
    out = capsys.readouterr().out
    assert "SPY+VEU+AGG+GLD 1D from demo, 2023-01-01..2023-12-31" in out and "Total return [%]" in out
    assert "Contribution by symbol" in out and "contributions sum to the total return" in out
    assert "Missing data: none" in out and "SYNTHETIC" in out
    (row,) = rh.list_runs()
    assert f"Saved as run {row['run_id']}" in out and row["blend_mode"] == f"portfolio, rebalance {rebalance}"
    cfg = rh.load_run(row["run_id"]).config
    assert isinstance(cfg, PortfolioRunConfig) and cfg.weights.text() == rule.replace("({})", "()")
    assert cfg.portfolio.fractional == ("--whole-units" not in args)


def test_runs_show_and_rerun_know_a_portfolio_run(capsys):
    assert phi_main(["portfolio", "run", *BASKET, "--weights", "inverse_vol", "--no-save"]) == 0
    assert rh.list_runs() == []
    assert phi_main(["portfolio", "run", *BASKET, "--weights", "top_n_momentum", "--top", "2"]) == 0
    (row,) = rh.list_runs()
    capsys.readouterr()
    assert phi_main(["runs", "show", row["run_id"]]) == 0
    out = capsys.readouterr().out
    assert "weights: top_n_momentum(lookback=20, n=2); rebalance: monthly" in out and "Total return [%]" in out
    assert phi_main(["runs", "rerun", row["run_id"], "--no-save"]) == 0
    assert f"Identical to {row['run_id']}: same trades and metrics." in capsys.readouterr().out
    assert phi_main(["runs", "list", "--where", "mode = 'portfolio'"]) == 0  # the run index knows the mode
    assert "matching mode = 'portfolio': 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--symbols", " , "], "--symbols: give at least one symbol"),
        (["--symbols", "SPY,../x"], "--symbols: symbol '../x' contains '/'"),
        (["--symbols", "SPY,SPY"], "--symbols: 'SPY' is listed twice"),
        (["--symbols", "SPY,AGG", "--weights", "inverse_voll"], "--weights: unknown weight rule 'inverse_voll'. Did you mean 'inverse_vol'?"),
        (["--symbols", "SPY,AGG", "--weights", "equal", "--top", "2"], "--top is not a setting of --weights equal"),
        (["--symbols", "SPY,AGG", "--rebalance", "monthy"], "--rebalance: unknown schedule 'monthy'. Did you mean 'monthly'?"),
        (["--symbols", "SPY,AGG", "--rebalance", "every:0"], "--rebalance 'every:0': after 'every:' give a whole number"),
        (["--symbols", "SPY,AGG", "--weights", "inverse_vol", "--lookback", "1"], "--lookback must be >= 2, got 1"),
        (["--symbols", "SPY", "--weights", "top_n_momentum", "--top", "2"], "holds 2 symbols but only 1 are given"),
        (["--symbols", "SPY,AGG", "--start", "2024-13-01"], "--start is not a date"),
        (["--symbols", "SPY,AGG", "--weights", "rotation", "--start", "2024-01-01", "--end", "2024-01-20"], "needs more than 21 bars"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_code_2(args, message, capsys):
    assert phi_main(["portfolio", "run", *args, "--no-save"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
