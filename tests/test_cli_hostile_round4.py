"""Hostile CLI inputs found by the fourth audit (2026-12-01), aimed at batch, portfolio,
strategies, ml, rl, plutus, scan, options, runs and cache (beyond tests/test_cli_hostile*.py,
tests/test_api_hostile*.py, tests/test_bad_inputs.py and tests/test_storage_failures_more.py).

Every refusal: exit code 2, exactly one ``error:`` line on stderr naming the problem, no
traceback, and nothing written under ``PHI_HOME`` or the working directory.
"""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pytest

from phi.cli import main
from tests.test_cli_hostile_more import _refused  # one copy of the shared checks

# ---------------------------------------------------------------- batch: a grid value twice


@pytest.mark.parametrize(
    ("grid", "names"),
    [
        # ran one config and reported the second as "skipped (already run; --force runs them
        # again)", even with --force
        ("period=14,14", ("--grid: period: 14 is listed twice",)),
        ("period=14,14.0", ("--grid: period: 14.0 is listed twice",)),  # the same number
        ("period=7 lower=30,25,30", ("--grid: lower: 30 is listed twice",)),
    ],
)
def test_a_grid_value_listed_twice_is_refused(grid, names, capsys, cwd) -> None:
    _refused(capsys, ["batch", "run", "--grid", grid, "--scheduler", "inline", "--force"], *names)


def test_distinct_grid_values_still_expand() -> None:
    from phi.batch import parse_grid

    # hand-worked: a list keeps its order, a range runs first..last by step
    assert parse_grid("period=14,7 lower=25..35:5") == {"period": [14, 7], "lower": [25, 30, 35]}
    assert parse_grid("x=a,A") == {"x": ["a", "A"]}  # text values are case-sensitive


# ---------------------------------------------------------------- batch sweep: no metric to rank


def test_a_sweep_whose_runs_have_no_sharpe_says_so_not_that_they_failed(
    capsys, cwd, tmp_path
) -> None:
    """Three months of RSI(14) on DEMO never trades: a flat equity curve, whose Sharpe ratio is
    undefined (empyrical: NaN). The sweep said "all failed or skipped; --force re-runs"."""
    from phi.backtest.run_history import list_runs, load_run

    symbols = tmp_path / "symbols.txt"
    symbols.write_text("DEMO\n", encoding="utf-8")
    args = ["batch", "sweep", "-p", "rsi", "--symbols", str(symbols), "--grid", "period=14"]
    code = main([*args, "--start", "2021-01-01", "--end", "2021-03-31", "--scheduler", "inline"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    text = " ".join(out.split())
    assert "all failed or skipped" not in text, text
    assert (
        "No run of this sweep has a sharpe to rank by (1 run(s), each with sharpe n/a)" in text
    ), text
    assert "1 run, 0 failed, 0 skipped" in text, text
    # the reference: the saved run's equity is flat, so its daily returns are all 0 and
    # empyrical's Sharpe ratio of them is NaN
    (run_id,) = [r["run_id"] for r in list_runs()]
    equity = load_run(run_id).equity.iloc[:, 0].to_numpy(dtype=float)
    returns = np.diff(equity) / equity[:-1]
    assert np.ptp(equity) == 0.0
    assert math.isnan(empyrical.sharpe_ratio(returns))


# ---------------------------------------------------------------- options sensitivity: --metric


def test_sensitivity_refuses_an_unknown_metric_before_running_the_grid(
    capsys, cwd, monkeypatch
) -> None:
    """--metric nope ran every cell of the grid (17 backtests by default, printing each
    backtest's warnings) and only then said the metric was unknown."""
    import phi.pipeline

    calls: list[object] = []
    monkeypatch.setattr(phi.pipeline, "run", lambda *a, **k: calls.append(a))
    line = _refused(
        capsys,
        ["options", "sensitivity", "--metric", "nope"],
        "--metric",
        "'nope'",
        "final_equity, total_return",
    )
    assert calls == [], line


def test_sensitivity_on_a_known_metric_still_runs(capsys, cwd) -> None:
    from phi.options import OptionsConfig

    args = ["options", "sensitivity", "--iv", "2", "--haircuts", "0", "--metric", "iv_premium"]
    code = main([*args, "--start", "2021-01-01", "--end", "2021-12-31"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    row = next(ln for ln in out.splitlines() if ln.startswith("│ 2 "))
    # hand-worked: the cell's IV premium is the multiplier times the default premium
    assert float(row.split("│")[2]) == pytest.approx(2 * OptionsConfig().iv_premium)


# ---------------------------------------------------------------- one line per distinct warning


def test_a_warning_every_cell_of_a_grid_raises_is_said_once(capsys, cwd, tmp_path) -> None:
    """An equities config (commission_pct, slippage_bps, whole units) in options sensitivity
    warned once per backtest: 17 identical lines for the default grid."""
    from phi.backtest.run_config import DatasetSpec, EngineConfig, IndicatorConfig, RunConfig

    config = RunConfig(
        DatasetSpec("DEMO", "demo", "1D", "2021-01-01", "2021-12-31"),
        (IndicatorConfig("rsi"),),
        engine=EngineConfig(commission_pct=0.0005, slippage_bps=2.0, fractional=False),
    )
    path = tmp_path / "equities.json"
    path.write_text(config.to_json(), encoding="utf-8")
    code = main(["options", "sensitivity", "--config", str(path), "--iv", "1,2", "--haircuts", "0"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    # hand count: 2 IV multipliers x 1 haircut, plus the base options run = 3 options backtests
    assert len(lines) == 1 and lines[0].startswith("warning: EngineConfig.commission_pct"), err
    assert lines[0].endswith("(3 times)"), lines[0]


# ---------------------------------------------------------------- a range-checked flag given NaN


@pytest.mark.parametrize(
    ("args", "names"),
    [
        # said "Input should be greater than or equal to 0": NaN is neither above nor below
        (
            ("runs", "clean", "--grace-minutes", "nan"),
            ("--grace-minutes must be a finite number, got nan",),
        ),
        (
            ("runs", "clean", "--grace-minutes=-inf"),
            ("--grace-minutes must be a finite number, got -inf",),
        ),
        (("doctor", "--timeout", "inf"), ("--timeout must be a finite number, got inf",)),
        (
            ("plutus", "backtest", "--min-confidence", "NaN"),
            ("--min-confidence must be a finite number, got NaN",),
        ),
        # a finite value out of range keeps the range in its words
        (
            ("runs", "clean", "--grace-minutes", "-1"),
            ("--grace-minutes", "greater than or equal to 0"),
        ),
    ],
)
def test_a_range_checked_number_that_is_not_finite_is_named_so(args, names, capsys, cwd) -> None:
    _refused(capsys, list(args), *names)


# ---------------------------------------------------------------- batch: why configs were skipped


def test_batch_says_why_each_config_was_skipped(capsys, cwd, tmp_path) -> None:
    """A config listed twice was counted as 'skipped (already run; --force runs them again)'
    even under --force, and the hint was printed with 0 skipped too."""
    import json

    from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig

    config = json.loads(
        RunConfig(
            DatasetSpec("DEMO", "demo", "1D", "2021-01-01", "2021-06-30"), (IndicatorConfig("rsi"),)
        ).to_json()
    )
    path = tmp_path / "twice.json"
    path.write_text(json.dumps([config, config]), encoding="utf-8")

    def line() -> str:
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return next(ln for ln in " ".join(out.split()).split(". ") if "config(s) in" in ln)

    assert main(["batch", "run", str(path), "--scheduler", "inline", "--force"]) == 0
    # hand count: the first copy runs; the second is the same config
    assert line().endswith(
        "1 run (1 saved), 0 failed, 1 skipped (1 a copy of an earlier config in this batch)"
    )
    assert main(["batch", "run", str(path), "--scheduler", "inline"]) == 0
    # without --force both copies match the run saved above
    assert line().endswith(
        "0 run (0 saved), 0 failed, 2 skipped (2 already run: --force runs them again)"
    )
    single = tmp_path / "once.json"
    single.write_text(json.dumps(config), encoding="utf-8")
    assert main(["batch", "run", str(single), "--scheduler", "inline", "--force"]) == 0
    assert line().endswith("1 run (1 saved), 0 failed, 0 skipped")


# ---------------------------------------------------------------- PHI_HOME the system refuses


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (
            "a" * 300,
            "file name too long",
        ),  # one name over the usual 255-byte limit: a traceback (OSError)
        ("/".join(["abcdefgh"] * 600), "file name too long"),  # a path over PATH_MAX
    ],
)
@pytest.mark.parametrize("cmd", [("runs", "list"), ("cache", "list")])
def test_a_phi_home_whose_name_is_too_long_is_one_line(
    name, why, cmd, capsys, cwd, tmp_path, monkeypatch
) -> None:
    home = tmp_path / name
    monkeypatch.setenv("PHI_HOME", str(home))
    code = main(list(cmd))
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: PHI_HOME=") and why in lines[0], err
    assert len(lines[0]) < 300, lines[0]  # the name is cut, not echoed whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "phi_home"]  # nothing made


def test_a_phi_home_inside_a_symbolic_link_loop_is_one_line(
    capsys, cwd, tmp_path, monkeypatch
) -> None:
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    monkeypatch.setenv("PHI_HOME", str(tmp_path / "loop1" / "home"))
    code = main(["runs", "list"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert (
        err.strip().startswith("error: PHI_HOME=") and "too many levels of symbolic links" in err
    ), err


# ---------------------------------------------------------------- a path over the name limit


def test_a_batch_source_whose_name_is_too_long_is_one_line(capsys, cwd, tmp_path) -> None:
    """Path.is_dir() raises ENAMETOOLONG (it returns False only for a missing path): a traceback."""
    line = _refused(
        capsys,
        ["batch", "run", str(tmp_path / ("b" * 300))],
        "cannot read config source",
        "File name too long",
    )
    assert len(line) < 200, line  # the name is cut, not echoed whole


def test_other_path_flags_with_a_name_too_long_stay_one_line(capsys, cwd, tmp_path) -> None:
    long = str(tmp_path / ("b" * 300))
    _refused(capsys, ["scan", "--universe", long], "cannot read universe file")
    _refused(capsys, ["batch", "sweep", "-p", "rsi", "--symbols", long], "cannot read symbols file")
    _refused(
        capsys, ["strategies", "run", "RSI", "X", "-v", "csv", "--path", long], "File name too long"
    )


# ---------------------------------------------------------------- control characters in a line


@pytest.mark.parametrize(
    ("symbol", "escaped"),
    [
        ("SPY\x01", "SPY\\x01"),
        (
            "\u202eSPY",
            "\\u202eSPY",
        ),  # a right-to-left override printed raw reversed the rest of the line
        ("A\x1b[2JB", "A\\x1b[2JB"),  # an escape sequence printed raw cleared the terminal
    ],
)
def test_control_characters_in_an_error_line_are_shown_escaped(
    symbol, escaped, capsys, cwd
) -> None:
    import unicodedata

    line = _refused(capsys, ["scan", symbol], f"no symbol could be scanned: {escaped}: symbol")
    assert not [ch for ch in line if unicodedata.category(ch) in ("Cc", "Cf")], repr(line)


def test_printable_unicode_in_an_error_line_is_kept(capsys, cwd) -> None:
    _refused(capsys, ["scan", "SPÝ"], "no symbol could be scanned: SPÝ: symbol 'SPÝ' contains 'Ý'")
