"""End-to-end tests of `phi backtest`, `phi demo`, `phi runs ...` and `run_backtest.py`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import run_backtest
from phi.backtest import run_history as rh
from phi.backtest.run_config import RunConfig
from phi.cli import main
from phi.paths import runs_root

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["--start", "2021-01-01", "--end", "2022-12-31"]


def phi(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("error: ")
    return lines[0]


# ---------------------------------------------------------------------------- happy paths


def test_demo_runs_end_to_end_prints_tables_and_saves(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = phi(capsys, "demo")
    assert code == 0, err
    # compact by default: headline KPIs and the trades summary, the ledger behind --ledger
    for text in ("SYNTHETIC", "Total return [%]", "Sharpe ratio", "Final equity [cash]", "Closed trades",
                 "Win rate [%]", "Trades by side: long", "exits: ", "add --ledger", "Saved as run"):
        assert text in out, text
    for text in ("Assumption ledger", "Max drawdown duration [bars]", "tie break"):
        assert text not in out, text
    rows = rh.list_runs()
    assert len(rows) == 1 and rows[0]["indicators"] == ["rsi", "macd", "dual_sma"]
    assert rows[0]["run_id"] in out

    code, out, err = phi(capsys, "demo", "--no-save", "--ledger")
    assert code == 0, err
    for text in ("Total return [%]", "Max drawdown duration [bars]", "Final equity [cash]",
                 "Assumption ledger", "fill timing", "t+1's open", "tie break"):
        assert text in out, text
    assert len(rh.list_runs()) == 1


def test_backtest_flags_build_the_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg_path = tmp_path / "run.json"
    code, out, err = phi(
        capsys, "backtest", "DEMO", *SHORT, "-i", "rsi,macd,bollinger", "--params", "rsi.period=10,bollinger.nbdev=2.5",
        "-p", "macd.fast=8", "--weights", "rsi=2", "--blend", "voting", "--dead-zone", "0.2", "--threshold", "0.3",
        "--exit-threshold", "0.1", "--short", "--sl", "5%", "--tp", "0.1", "--trail", "8%", "--time-exit", "20",
        "--commission", "0.1%", "--commission-fixed", "1", "--slippage", "2", "--sizing", "risk_per_trade",
        "--size", "1%", "--capital", "50000", "--whole-units", "--tag", "x", "--seed", "3",
        "--write-config", str(cfg_path),
    )  # fmt: skip
    assert code == 0, err
    cfg = RunConfig.from_json(cfg_path.read_text())
    assert [i.name for i in cfg.indicators] == ["rsi", "macd", "bollinger"]
    assert cfg.indicators[0].params == {"period": 10} and cfg.indicators[0].weight == 2.0
    assert cfg.indicators[1].params["fast"] == 8 and cfg.indicators[2].params["nbdev"] == 2.5
    assert cfg.blend.mode == "voting" and cfg.blend.params == {"dead_zone": 0.2}
    e = cfg.engine
    assert (e.entry_threshold, e.exit_threshold, e.allow_short) == (0.3, 0.1, True)
    assert (e.stop_loss_pct, e.take_profit_pct, e.trailing_stop_pct, e.time_exit_bars) == (0.05, 0.1, 0.08, 20)
    assert (e.commission_pct, e.commission_fixed, e.slippage_bps) == (0.001, 1.0, 2.0)
    assert (e.sizing, e.risk_pct, e.initial_capital, e.fractional) == ("risk_per_trade", 0.01, 50_000.0, False)
    assert cfg.tags == ("x",) and cfg.seed == 3
    assert not runs_root().exists()  # --write-config does not run

    # the written config runs as is, and flags still override it
    code, out, err = phi(capsys, "backtest", "--config", str(cfg_path), "--capital", "60000", "--no-save", "--ledger")
    assert code == 0, err
    assert "rsi(period=10) x2" in out and "blend: voting" in out
    assert "sizing" in out and "risk 0.01 of equity" in out
    assert not runs_root().exists()


def test_runs_list_show_compare_rerun_delete(capsys: pytest.CaptureFixture[str]) -> None:
    assert phi(capsys, "runs", "list")[1].startswith("No saved runs")
    assert phi(capsys, "backtest", *SHORT, "--sl", "4%")[0] == 0
    assert phi(capsys, "backtest", *SHORT, "--sl", "8%", "-i", "rsi,cmf")[0] == 0
    new, old = (r["run_id"] for r in rh.list_runs())

    code, out, err = phi(capsys, "runs", "list")
    assert code == 0 and out.index(new) < out.index(old)
    assert "Sharpe" in out and "DEMO 1D*" in out

    code, out, err = phi(capsys, "runs", "show", old, "--trades", "3")
    assert code == 0, err
    assert "Assumption ledger" not in out and "Closed trades" in out and "Trades by side" in out
    assert "Last 3 of" in out and "config hash" in out
    code, out, err = phi(capsys, "runs", "show", old, "--ledger")
    assert code == 0, err
    assert "Assumption ledger" in out and "Max drawdown duration [bars]" in out

    code, out, err = phi(capsys, "runs", "compare", old, new, "--equity-csv", str(runs_root() / "eq.csv"))
    assert code == 0, err
    assert f"A = {old}" in out and f"B = {new}" in out
    assert "engine.stop_loss_pct" in out and "0.04" in out and "0.08" in out
    assert "indicators[1].name" in out
    assert (runs_root() / "eq.csv").read_text().startswith("timestamp,")
    (runs_root() / "eq.csv").unlink()

    code, out, err = phi(capsys, "runs", "rerun", old, "--no-save", "--ledger")
    assert code == 0, err
    assert f"Identical to {old}: same trades and metrics." in out.replace("\n", " ")
    assert "Assumption ledger" in out

    code, out, err = phi(capsys, "runs", "delete", old, "--yes")
    assert code == 0 and f"Deleted run {old}" in out
    assert [r["run_id"] for r in rh.list_runs()] == [new]


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "-i", "rsx"], "error: indicators[0].name: unknown indicator 'rsx'. Did you mean 'rsi'?"),
        (["backtest", "--sl", "5"], "error: engine.stop_loss_pct must be in (0, 1], got 5.0"),
        (["backtest", "--sl", "five"], "error: --sl must be a number like 0.05 or 5%, got 'five'"),
        (["backtest", "--params", "rsi.perod=3"], "error: indicators[0].params: rsi: unknown parameter 'perod'. Did you mean 'period'?"),
        (["backtest", "--params", "rsx.period=3"], "error: --params names 'rsx', which is not among the indicators (rsi, macd). Did you mean 'rsi'?"),
        (["backtest", "--weights", "macd=heavy"], "error: --weights: the weight of 'macd' must be a number, got 'heavy'"),
        (["backtest", "--weights", "rsi=0,macd=0"], "error: indicators: every enabled indicator has weight 0"),
        (["backtest", "--blend", "tanh"], "error: blend.mode: unknown blend mode 'tanh'."),
        (["backtest", "--start", "2024-01-01", "--end", "2023-01-01"], "error: dataset.start 2024-01-01 is after dataset.end 2023-01-01; swap them"),
        (["backtest", "--capital", "-5"], "error: engine.initial_capital must be > 0, got -5.0"),
        (["backtest", "--fill", "open"], "error: engine.fill: unknown fill 'open'. Did you mean 'next_open'?"),
        (["backtest", "../etc"], "error: dataset.symbol: symbol '../etc' contains '/'"),
        (["backtest", "--config", "/nonexistent/run.json"], "error: cannot read --config file '/nonexistent/run.json'"),
        (["runs", "show", "nope"], "error: no run 'nope'"),
        (["runs", "delete", "../x", "-y"], "error: '../x' is not a run id"),
        (["runs", "compare", "a"], "error: compare needs at least two run ids, got 1"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = phi(capsys, *args)
    assert code == 2
    assert one_line_error(err).startswith(message)


def test_unknown_run_id_suggests_the_close_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert phi(capsys, "backtest", *SHORT)[0] == 0
    rid = rh.list_runs()[0]["run_id"]
    typo = rid[:-1] + ("x" if rid[-1] != "x" else "y")
    code, _, err = phi(capsys, "runs", "delete", typo, "--yes")
    assert code == 2 and f"Did you mean '{rid}'?" in one_line_error(err)


def test_a_corrupt_run_does_not_break_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert phi(capsys, "backtest", *SHORT)[0] == 0
    bad = runs_root() / "20200101-000000-000-aaaaaa"
    bad.mkdir()
    (bad / "results.json").write_text("{")
    code, out, err = phi(capsys, "runs", "list")
    assert code == 0
    assert "warning:" in err and "20200101-000000-000-aaaaaa" in err and "unreadable" in err
    assert "DEMO 1D*" in out


def test_mistyped_flag_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = phi(capsys, "backtest", "--capital", "abc")
    assert code == 2 and "Traceback" not in err


# ---------------------------------------------------------------------------- speed, legacy script


def test_runs_list_does_not_import_numba(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert phi(capsys, "backtest", *SHORT)[0] == 0
    code = (
        "import sys\n"
        "from phi.cli import main\n"
        "assert main(['runs', 'list']) == 0\n"
        "heavy = [m for m in ('numba', 'phi.backtest.engine', 'phi.indicators.registry', 'talib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PHI_HOME": os.environ["PHI_HOME"]}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "DEMO 1D*" in proc.stdout


def test_indicators_list_and_show_read_only_the_declared_specs() -> None:
    code = (
        "import sys\n"
        "from phi.cli import main\n"
        "assert main(['indicators', 'list']) == 0\n"
        "assert main(['indicators', 'show', 'macd']) == 0\n"
        "heavy = [m for m in ('numba', 'pandas', 'phi.indicators.signals', 'phi.regime.engine') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "COLUMNS": "250"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # every declared spec is listed; ranges in brackets survive (they are not read as markup)
    for text in ("rsi", "phi_mft", "wyckoff", "period=14 [2..50]", "nbdev=2.0 [1.0..3.5 step 0.25]"):
        assert text in proc.stdout, text


def test_run_backtest_py_legacy_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_backtest.main(["--strategy", "rsi", "--budget", "50000", *SHORT]) == 0
    out = capsys.readouterr().out
    # rsi is the RSI preset (RSI 14 below 30 buys, above 70 sells): the rsi_band rule indicator
    assert "indicators: rsi_band(period=14, lower=30.0, upper=70.0)" in out and "Final equity [cash]" in out
    assert "SYNTHETIC" in out and "Prediction scorecard" in out
    assert "Assumption ledger" not in out
    assert run_backtest.main(["--strategy", "rsi", "--no-save", "--ledger", *SHORT]) == 0
    assert "Assumption ledger" in capsys.readouterr().out
    (row,) = rh.list_runs()
    saved = rh.load_run(row["run_id"])
    assert saved.config.engine.initial_capital == 50_000.0
    assert [i.name for i in saved.config.indicators] == ["rsi_band"]
    assert saved.config.dataset.vendor == "demo"
    legacy = run_backtest.to_phi_args(run_backtest.parse_args(["--timestep", "minute"]))
    assert legacy[legacy.index("--timeframe") + 1] == "1m"

    assert run_backtest.main(["--strategy", "rsx", "--no-save"]) == 2
    assert "unknown strategy 'rsx'. Did you mean 'RSI'?" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        run_backtest.parse_args(["--budget", "-5"])
    assert info.value.code == 2
    assert "--budget must be > 0, got -5" in capsys.readouterr().err


@pytest.mark.slow  # a fresh interpreter: ~4 s warm, more while numba caches are cold
def test_run_backtest_py_as_the_spec_runs_it() -> None:
    env = {**os.environ}
    proc = subprocess.run(
        [sys.executable, "run_backtest.py", "--strategy", "rsi", "--budget", "50000", "--no-save"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Final equity [cash]" in proc.stdout and "Closed trades" in proc.stdout
    assert "SYNTHETIC" in proc.stdout


def test_phiai_blend_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = phi(capsys, "backtest", "-i", "rsi,macd", "--blend", "phiai", "--no-save", "--ledger")
    assert code == 0, err
    assert "phiai weights in force from" in out and "refreshes" in out
    assert "phiai: weights" in out  # the ledger's blend line


def test_runs_show_trades_table_fits_an_80_column_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from phi.cli import runs as runs_cli

    assert phi(capsys, "backtest", *SHORT, "--no-short")[0] == 0
    run_id = rh.list_runs()[0]["run_id"]
    trades = rh.load_run(run_id).trades
    narrow = Console(width=80, force_terminal=False, record=True)
    monkeypatch.setattr(runs_cli, "console", narrow)
    code, _, err = phi(capsys, "runs", "show", run_id, "--trades", "4")
    assert code == 0, err
    out = narrow.export_text()
    table = out[out.index("Last 4 of") :]
    assert "…" not in table  # no cell cut
    last = trades.iloc[-1]
    assert f"{last.entry_time:%Y-%m-%d}" in table and f"{last.pnl:,.2f}" in table
    assert "all long" in table and "exit price" not in table  # one side: no side column; narrow: no exit price


def test_runs_list_counts_trades_as_the_result_does(capsys: pytest.CaptureFixture[str]) -> None:
    from phi.backtest.summary import trade_count

    assert phi(capsys, "backtest", *SHORT)[0] == 0
    (row,) = rh.list_runs()
    assert "n_open_trades" in row
    code, out, _ = phi(capsys, "runs", "list")
    assert code == 0 and trade_count(row).text in out
