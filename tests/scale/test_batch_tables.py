"""``phi batch run`` / ``sweep`` tables read at 80 columns: every row on one line with its run id
whole, what tells the configs apart (not the whole config), the key numbers; complete at 120.

Was: a run column of min_width 26 squeezed the config column to 10 characters, so
``DEMO rsi_band(period=14, lower=30.0, upper=70.0)`` took 7 lines a row, and a sweep over three
parameters cut every cell short (``sym…``, ``-0.…``); the ranking metric (e.g. sortino) was
not shown at all.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from typing import Any

import click
import pytest
import typer
from rich.console import Console

import phi.cli.batch as batch_cli
from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig
from phi.batch import BatchResult, TaskOutcome, sweep_summary
from phi.batch.task import label, params

DATES = ("2023-01-01", "2023-12-31")


def _config(symbol: str, name: str, **kw: Any) -> RunConfig:
    return RunConfig(DatasetSpec(symbol, "demo", "1D", *DATES), (IndicatorConfig(name, kw),))


def _outcome(i: int, cfg: RunConfig, ret: float, sharpe: float, dd: float, trades: int, sortino: float = 0.5) -> TaskOutcome:
    metrics = {"total_return": ret, "sharpe": sharpe, "max_drawdown": dd, "n_trades": trades, "sortino": sortino}
    return TaskOutcome(i, "ok", label(cfg), cfg.config_hash(), cfg.dataset.symbol, params(cfg),
                       run_id=f"20261202-101500-{i:03d}-{cfg.config_hash()[:6]}", metrics=metrics)  # fmt: skip


def _render(monkeypatch: pytest.MonkeyPatch, width: int, show: Callable[[], None]) -> list[str]:
    out = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(batch_cli, "console", out)
    show()
    lines = out.export_text().splitlines()
    assert all(len(ln.rstrip()) <= width for ln in lines), "\n".join(lines)
    return lines


def _row(lines: list[str], run_id: str) -> list[str]:
    """The words of the one line holding ``run_id`` whole (it must be on exactly one line)."""
    (line,) = [ln for ln in lines if run_id in ln]
    return line.split()


# ---------------------------------------------------------------- phi batch run


def _rsi_grid() -> tuple[list[RunConfig], BatchResult]:
    configs = [_config("DEMO", "rsi", period=p) for p in (7, 14, 21, 28)]
    numbers = [(-0.0067, 0.0601, -0.3164, 15), (0.6927, 0.7731, -0.2691, 7), (0.4221, 0.6549, -0.1833, 2), (-0.0466, -0.1652, -0.158, 0)]
    outcomes = [_outcome(i, c, *n) for i, (c, n) in enumerate(zip(configs, numbers, strict=True))]
    return configs, BatchResult(outcomes, 1.0, 1, "inline")


@pytest.mark.parametrize("width", [80, 120])
def test_a_grid_run_is_one_line_a_row_with_its_parameter_numbers_and_run_id(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    configs, result = _rsi_grid()
    lines = _render(monkeypatch, width, lambda: batch_cli._report(result, "sharpe", 10, configs))
    assert "Every config: DEMO 1D from demo, 2023-01-01..2023-12-31; rsi" in lines
    header = next(ln for ln in lines if ln.startswith("#"))
    assert header.split() == ["#", "period", "Ret", "%", "Sharpe", "DD", "%", "Trades", "run"]
    # hand-formatted: returns and drawdowns in % with 2 decimals, Sharpe with 3, best first
    ids = [o.run_id or "" for o in result.outcomes]
    assert _row(lines, ids[1]) == ["1", "14", "69.27", "0.773", "-26.91", "7", ids[1]]
    assert _row(lines, ids[2]) == ["2", "21", "42.21", "0.655", "-18.33", "2", ids[2]]
    assert _row(lines, ids[0]) == ["0", "7", "-0.67", "0.060", "-31.64", "15", ids[0]]
    assert _row(lines, ids[3]) == ["3", "28", "-4.66", "-0.165", "-15.80", "0", ids[3]]
    at = [next(n for n, ln in enumerate(lines) if r in ln) for r in (ids[1], ids[2], ids[0], ids[3])]
    assert at == sorted(at)  # best first
    assert not any(ln.startswith("Not shown") for ln in lines)


def _macd_grid() -> tuple[list[RunConfig], BatchResult]:
    configs = [_config("DEMO", "macd", fast=f, slow=s, signal=g) for f in (8, 12) for s in (26, 30) for g in (6, 9)]
    outcomes = [_outcome(i, c, -0.01 * i, 0.01 * (8 - i), -0.25 - 0.001 * i, 40 + i, sortino=0.1 * (8 - i) - 0.35) for i, c in enumerate(configs)]
    return configs, BatchResult(outcomes, 1.0, 1, "inline")


def test_three_grid_parameters_at_80_columns_keep_the_ranking_metric_and_drop_the_index_and_trades(monkeypatch: pytest.MonkeyPatch) -> None:
    configs, result = _macd_grid()
    lines = _render(monkeypatch, 80, lambda: batch_cli._report(result, "sortino", 10, configs))
    header = next(ln for ln in lines if ln.lstrip().startswith("fast"))
    assert header.split() == ["fast", "slow", "signal", "Ret", "%", "Sharpe", "DD", "%", "Sortino", "run"]
    for o, c in zip(result.outcomes, configs, strict=True):
        p = c.indicators[0].params
        m = o.metrics
        # e.g. #3: fast 8, slow 30, signal 9; -3 %, Sharpe 0.05, DD -25.3 %, sortino 0.15
        assert _row(lines, o.run_id or "") == [str(p["fast"]), str(p["slow"]), str(p["signal"]), f"{100 * m['total_return']:.2f}",
                                               f"{m['sharpe']:.3f}", f"{100 * m['max_drawdown']:.2f}", f"{m['sortino']:.3f}", o.run_id]  # fmt: skip
    assert "Not shown at 80 columns: #, Trades (a wider terminal shows them)." in lines
    assert "Every config: DEMO 1D from demo, 2023-01-01..2023-12-31; macd" in lines
    wide = _render(monkeypatch, 120, lambda: batch_cli._report(result, "sortino", 10, configs))
    assert _row(wide, result.outcomes[3].run_id or "") == ["3", "8", "30", "9", "-3.00", "0.050", "-25.30", "43", "0.150", result.outcomes[3].run_id]
    assert not any(ln.startswith("Not shown") for ln in wide)


def test_mixed_configs_show_symbol_and_indicator_and_fold_only_between_words(monkeypatch: pytest.MonkeyPatch) -> None:
    configs = [_config("DEMO", "rsi_band", period=14, lower=30.0, upper=70.0), _config("DEMO2", "macd", fast=12, slow=26, signal=9),
               _config("DEMO3", "bollinger_band", period=20, nbdev=2.0), _config("DEMO3", "rsi_band", period=14, lower=30.0, upper=70.0)]  # fmt: skip
    numbers = [(0.6512, 1.128, -0.2296, 4), (-0.2027, -0.57, -0.2206, 25), (-0.0876, -0.141, -0.2102, 7), (0.1573, 0.385, -0.169, 4)]
    result = BatchResult([_outcome(i, c, *n) for i, (c, n) in enumerate(zip(configs, numbers, strict=True))], 1.0, 1, "inline")
    words = {0: ["DEMO", "rsi_band(period=14,", "lower=30,", "upper=70)"], 1: ["DEMO2", "macd(fast=12,", "slow=26,", "signal=9)"],
             2: ["DEMO3", "bollinger_band(period=20,", "nbdev=2)"], 3: ["DEMO3", "rsi_band(period=14,", "lower=30,", "upper=70)"]}  # fmt: skip
    for width in (80, 120):
        lines = _render(monkeypatch, width, lambda: batch_cli._report(result, "sharpe", 10, configs))
        assert "Every config: 1D from demo, 2023-01-01..2023-12-31" in lines
        ids = [o.run_id or "" for o in result.outcomes]
        for o in result.outcomes:
            at = next(n for n, ln in enumerate(lines) if o.run_id in ln)
            end = next(n for n in range(at + 1, len(lines) + 1) if n == len(lines) or any(r in lines[n] for r in ids)
                       or not lines[n].strip() or lines[n].startswith("Not shown"))  # fmt: skip
            tokens = " ".join(lines[at:end]).split()
            m = o.metrics
            numbers = [str(o.index), f"{100 * m['total_return']:.2f}", f"{m['sharpe']:.3f}", f"{100 * m['max_drawdown']:.2f}", str(m["n_trades"]), o.run_id]
            assert [t for t in tokens if t not in numbers] == words[o.index], (width, lines[at:end])  # whole words, in order
            assert f"{m['sharpe']:.3f}" in tokens and f"{100 * m['total_return']:.2f}" in tokens
            assert end - at == (1 if width == 120 else 2)
    assert lines[at].split()[:5] == ["3", "DEMO3", "rsi_band(period=14,", "lower=30,", "upper=70)"]  # 120: one line, with the index


def test_a_run_that_could_not_be_saved_says_so_in_its_row(monkeypatch: pytest.MonkeyPatch) -> None:
    configs, result = _rsi_grid()
    result.outcomes[1].run_id, result.outcomes[1].save_error = None, "could not save the run: disk full"
    lines = _render(monkeypatch, 80, lambda: batch_cli._report(result, "sharpe", 2, configs))
    (row,) = [ln.split() for ln in lines if ln.startswith("1 ")]
    assert row == ["1", "14", "69.27", "0.773", "-26.91", "7", "not", "saved"]
    assert "not saved #1 DEMO rsi(period=14): could not save the run: disk full" in lines


# ---------------------------------------------------------------- phi batch sweep


def _macd_sweep() -> tuple[Any, list[TaskOutcome]]:
    outcomes = []
    for s, sym in enumerate(("DEMO", "DEMO2", "DEMO3", "DEMO4")):
        for f, g in ((8, 9), (12, 9)):
            cfg = _config(sym, "macd", fast=f, slow=26 + 4 * s % 8, signal=g)
            i = len(outcomes)
            outcomes.append(_outcome(i, cfg, -0.4 * s - 0.01 * f, -0.2 * s + 0.001 * f, -0.45, 46 + s, sortino=-0.25 * s + 0.01 * f))
    return sweep_summary(BatchResult(outcomes, 1.0, 1, "inline"), "sortino"), outcomes


def test_a_sweep_over_three_parameters_at_80_columns_shows_each_symbol_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    summary, outcomes = _macd_sweep()
    lines = _render(monkeypatch, 80, lambda: batch_cli._print_sweep(summary, ["fast", "slow", "signal"], 4))
    assert not any("…" in ln for ln in lines), "\n".join(lines)
    header = next(ln for ln in lines if ln.startswith("symbol"))
    assert header.split()[:4] == ["symbol", "fast", "slow", "signal"] and "Sortino" in header and header.split()[-1] == "run"
    for s, sym in enumerate(("DEMO", "DEMO2", "DEMO3", "DEMO4")):
        best = outcomes[2 * s + 1]  # fast 12 has the higher sortino for every symbol
        row = _row(lines, best.run_id or "")
        assert row[:4] == [sym, "12", str(26 + 4 * s % 8), "9"] and f"{best.metrics['sortino']:.3f}" in row and f"{best.metrics['sharpe']:.3f}" in row
    dist = next(ln for ln in lines if ln.startswith("over"))
    assert {"count", "min", "median", "max"} <= set(dist.split())
    assert next(ln for ln in lines if ln.startswith("all runs")).split()[2] == "8"


def test_the_distribution_table_gives_up_its_quartiles_first_on_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    summary, _ = _macd_sweep()
    lines = _render(monkeypatch, 60, lambda: batch_cli._print_sweep(summary, ["fast", "slow", "signal"], 4))
    dist = next(ln for ln in lines if ln.startswith("over")).split()
    assert "25%" not in dist and "75%" not in dist and {"min", "median", "max"} <= set(dist)
    assert not any("…" in ln for ln in lines), "\n".join(lines)


# ---------------------------------------------------------------- end to end, and the help


def test_phi_batch_run_at_80_columns_end_to_end(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from phi.backtest.run_history import load_run
    from phi.cli import main
    from phi.cli._format import fmt_metric

    out = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(batch_cli, "console", out)
    code = main(["batch", "run", "--grid", "period=8..20:6", "--start", DATES[0], "--end", DATES[1], "--scheduler", "inline", "--force"])
    assert code == 0, capsys.readouterr().err
    lines = out.export_text().splitlines()
    assert all(len(ln.rstrip()) <= 80 for ln in lines), "\n".join(lines)
    header = next(ln for ln in lines if ln.startswith("#"))
    assert header.split()[:2] == ["#", "period"] and header.split()[-1] == "run"
    rows = [ln.split() for ln in lines[lines.index(header) + 2 :] if ln.strip() and ln.split()[0].isdigit()]
    assert sorted(int(r[1]) for r in rows) == [8, 14, 20]
    for r in rows:
        saved = load_run(r[-1])  # the run id is whole: it opens the run
        assert saved.config.indicators[0].params["period"] == int(r[1])
        assert r[3] == fmt_metric("sharpe", saved.metrics["sharpe"])  # n/a for a run without trades


def test_every_command_summary_is_one_paragraph_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A line break in a command's first docstring paragraph is kept by typer's rich help, so
    ``phi batch --help`` showed sweep's summary broken after "the"."""
    from phi.cli import app, main

    def walk(cmd: click.Command, path: str) -> list[str]:
        if isinstance(cmd, click.Group):
            return [p for n, sub in cmd.commands.items() for p in walk(sub, f"{path} {n}")]
        first = inspect.cleandoc(cmd.help or "").split("\n\n")[0]
        return [path] if "\n" in first else []

    assert walk(typer.main.get_command(app), "phi") == []
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["batch", "--help"]) == 0
    (line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("│ sweep ")]
    assert "sweep  Run every symbol x grid combination: each symbol's best and the metric across the universe." in line
