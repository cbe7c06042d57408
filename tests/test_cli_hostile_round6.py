"""Hostile CLI inputs found by the sixth sweep (2026-12-02), beyond tests/test_bad_inputs.py and
tests/test_cli_hostile*.py.

Every refusal: exit code 2, exactly one ``error:`` line on stderr naming the problem (the flag
as the user typed it), no traceback, nothing written under ``PHI_HOME`` or the working directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from phi.cli import main
from tests.test_cli_hostile_more import _refused  # one copy of the shared checks

SHORT = ("--start", "2021-01-01", "--end", "2021-12-31")
CHAIN = "date,expiry,strike,kind,bid,ask,open_interest,underlying\n"

# ------------------------------------------------ a text file holding NUL bytes is not text


@pytest.mark.parametrize(
    ("args", "what"),
    [
        # was a 2,000-character error line of escaped bytes: each run of the file read as a symbol
        (("scan", *SHORT, "--universe", "{f}"), "universe file"),
        (
            ("batch", "sweep", "--symbols", "{f}", "-p", "rsi", "--scheduler", "inline", *SHORT),
            "symbols file",
        ),
        # was "config is not valid JSON: Expecting value at line 1 column 1"
        (("backtest", *SHORT, "--no-save", "--config", "{f}"), "--config file"),
    ],
)
def test_a_binary_file_named_as_text_is_one_short_line(
    args, what, capsys, cwd, tmp_path: Path
) -> None:
    binary = tmp_path / "symbols.txt"
    binary.write_bytes(b"SPY\n" + b"\x00\x01\x02\xc3\xbf" * 400)  # valid UTF-8, yet binary
    line = _refused(
        capsys, [a.replace("{f}", str(binary)) for a in args], what, "NUL byte at offset 4"
    )
    assert len(line) < 250, line


# --------------------------------- options price/greeks/iv/gex: each flag named, rates bounded


@pytest.mark.parametrize(
    ("args", "line"),
    [
        # was exit 0 with theta printed as "nan" (r = 1e308 overflows the discounting)
        (
            ["greeks", "-S", "100", "-K", "100", "--days", "30", "--vol", "0.2", "-r", "1e308"],
            "error: --rate must be in [-0.5, 1] (a share per year: 0.05 = 5%), got 1e+308",
        ),
        (
            ["greeks", "-S", "100", "-K", "100", "--days", "30", "--vol", "0.2", "-q", "1e308"],
            "error: --div must be in [-0.5, 1] (a share per year: 0.05 = 5%), got 1e+308",
        ),
        # a percentage typed as a number: 5 = 500 % a year (was priced)
        (
            ["price", "-S", "100", "-K", "100", "--days", "30", "--vol", "0.2", "--rate", "5"],
            "error: --rate must be in [-0.5, 1] (a share per year: 0.05 = 5%), got 5",
        ),
        (
            ["iv", "--price", "5", "-S", "100", "-K", "100", "--days", "30", "--div", "-0.6"],
            "error: --div must be in [-0.5, 1] (a share per year: 0.05 = 5%), got -0.6",
        ),
        # gex named the GEX function's arguments: "spot must be a positive number, got 0.0",
        # "q must be in [-0.5, 1]", "min_open_interest must be in [0, 1e15]", "max_dte ... or None"
        (["gex", "{chain}", "-S", "0"], "error: --spot must be > 0, got 0"),
        (
            ["gex", "{chain}", "-q", "1e308"],
            "error: --div must be in [-0.5, 1] (a share per year: 0.05 = 5%), got 1e+308",
        ),
        (["gex", "{chain}", "--min-oi", "-1"], "error: --min-oi must be in [0, 1e+15], got -1"),
        (
            ["gex", "{chain}", "--max-dte", "99999999999999999999"],
            "error: --max-dte must be from 0 (no limit) to 36,500 days, got 99,999,999,999,999,999,999",
        ),
    ],
)
def test_options_flags_are_named_and_rates_bounded(args, line, capsys, cwd, tmp_path: Path) -> None:
    chain = tmp_path / "chain.csv"
    chain.write_text(CHAIN + "2021-06-01,2021-07-16,100,call,2,2.2,500,100\n")
    assert _refused(capsys, ["options", *(a.replace("{chain}", str(chain)) for a in args)]) == line


def test_options_rates_at_the_bounds_still_price(capsys, cwd) -> None:
    # S = K = 100, T = 1, vol 0, r = -0.5, q = 1: the forward is 100 e^(-1.5), below the strike,
    # so a call is worth 0 and a put K e^(-rT) - S e^(-qT) = 100 (1.6487213 - 0.3678794) = 128.0842
    args = [
        "options",
        "price",
        "-S",
        "100",
        "-K",
        "100",
        "--years",
        "1",
        "--vol",
        "0",
        "-r",
        "-0.5",
        "-q",
        "1",
    ]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == "0.000000"
    assert main([*args, "--kind", "put"]) == 0
    assert capsys.readouterr().out.strip() == "128.084183"


# ------------------------------------------------------------ backtest --size for cash / units


@pytest.mark.parametrize(
    ("sizing", "size", "line"),
    [
        # was "engine.size_cash must be a finite number, got '5%'": a percentage is not infinite
        (
            "fixed_cash",
            "5%",
            "error: --size with --sizing fixed_cash is an amount of cash like 5000 (no %), got '5%'",
        ),
        (
            "fixed_units",
            "abc",
            "error: --size with --sizing fixed_units is a number of units like 10 (no %), got 'abc'",
        ),
    ],
)
def test_size_for_cash_or_units_says_what_it_takes(sizing, size, line, capsys, cwd) -> None:
    assert (
        _refused(capsys, ["backtest", *SHORT, "--no-save", "--sizing", sizing, "--size", size])
        == line
    )


def test_a_fixed_commission_dearer_than_any_capital_is_refused(capsys, cwd) -> None:
    # was a run whose warning printed commission_fixed as a 309-digit number
    line = _refused(capsys, ["backtest", *SHORT, "--no-save", "--commission-fixed", "1e308"])
    assert (
        line
        == "error: engine.commission_fixed must be at most 1e+15 (the largest initial capital), got 1e+308"
    )


# ----------------------------------------------------------- strategies --capital, named as typed


@pytest.mark.parametrize(
    ("args", "line"),
    [
        # was "EngineConfig.initial_capital must be > 0, got 0.0", after the bars were fetched
        (["run", "rsi", "--capital", "0"], "error: --capital must be > 0 and at most 1e+15, got 0"),
        (
            ["run", "rsi", "--budget", "-1"],
            "error: --capital must be > 0 and at most 1e+15, got -1",
        ),
        (["run", "rsi", "--capital", "nan"], "error: --capital must be a finite number, got nan"),
        (
            ["compare", "-s", "rsi,macd", "--capital", "1e308"],
            "error: --capital must be > 0 and at most 1e+15, got 1e+308",
        ),
    ],
)
def test_strategies_capital_is_checked_first_and_named(args, line, capsys, cwd) -> None:
    assert _refused(capsys, ["strategies", *args, *SHORT, "--no-save"]) == line


# ------------------------------------------------------------- batch run -i, runs list --limit


def test_batch_run_names_its_own_indicator_flag(capsys, cwd) -> None:
    # was "--preset: unknown strategy 'nope'": batch sweep's flag, not one batch run has
    line = _refused(
        capsys, ["batch", "run", "--scheduler", "inline", "--grid", "period=7", "-i", "nope"]
    )
    assert line.startswith("error: --indicator: unknown strategy 'nope'."), line


def test_runs_list_limit_too_large_names_the_flag(capsys, cwd) -> None:
    # was "limit must be a whole number of runs in 0..1,000,000,000 or None, got ..."
    line = _refused(capsys, ["runs", "list", "-n", "1000000001"])
    assert line == "error: --limit must be at most 1,000,000,000, got 1,000,000,001"


# --------------------------------------------------------- tune: constraints no trial could meet


def test_tune_warns_when_no_trial_met_the_constraints(capsys, cwd) -> None:
    # 2 years of daily bars cannot hold 1,000 trades: every trial breaks --min-trades, and the
    # report used to read as if the constraints had been met
    args = [
        "tune",
        "-i",
        "rsi",
        "--trials",
        "3",
        "--folds",
        "2",
        "--start",
        "2021-01-01",
        "--end",
        "2022-12-31",
    ]
    assert main([*args, "--min-trades", "1000"]) == 0
    err = capsys.readouterr().err
    assert err.strip() == (
        "warning: none of the 3 trials of rsi met the constraints (--max-dd 30%, --min-trades 1,000); "
        "its parameters are the best of trials that break them: loosen the constraints or use more bars"
    ), err
    assert main([*args, "--min-trades", "0", "--max-dd", "100%"]) == 0  # every trial meets these
    assert "warning" not in capsys.readouterr().err
