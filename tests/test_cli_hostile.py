"""Hostile CLI inputs found by the audit of 2026-11-30, each pinned to its exact behaviour.

Every refusal: exit code 2, exactly one ``error:`` line on stderr naming the problem, no
traceback, and nothing written under ``PHI_HOME`` or the working directory. Cases run
:func:`phi.cli.main` in-process (the pattern of tests/test_bad_inputs.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phi.cli import main

SHORT = ("--start", "2021-01-01", "--end", "2021-12-31")
OHLC = "date,open,high,low,close,volume\n"


def _tree(*roots: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                out[str(p)] = p.lstat().st_size
    return out


def _refused(capsys: pytest.CaptureFixture[str], args: list[str], *names: str, home: Path | None = None) -> str:
    """Run ``phi args``; assert exit 2, one error line containing every name, nothing written."""
    watched = [Path.cwd()] + ([home] if home is not None else [])
    before = _tree(*watched)
    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert code == 2, (code, lines[0])
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert _tree(*watched) == before, "something was written"
    return lines[0]


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize("cmd", [("fetch", "DEMO"), ("data", "health", "DEMO"), ("regime",), ("tune", "-i", "rsi", "--trials", "2", "--folds", "2")])
def test_an_empty_start_date_is_refused_not_read_as_the_default(cmd, capsys, cwd, _isolated_phi_home) -> None:
    # it used to mean "two years up to today" for these commands (and was refused by backtest)
    _refused(capsys, [*cmd, "--start", "", "--end", "2021-12-31"], "''", home=_isolated_phi_home)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2021", "no day: read as 2021-01-01"),
        ("2021-06", "no day: read as 2021-06-01"),
        ("02/01/2021", "month and day order unknowable"),
        ("1.5.2021", "a European date read as January 5"),
        ("21-06-01", "read as 2001-06-21"),
        ("June 2021", "no day"),
    ],
)
@pytest.mark.parametrize("cmd", [("fetch", "DEMO"), ("backtest", "--no-save")])
def test_dates_pandas_would_guess_are_refused(value, why, cmd, capsys, cwd, _isolated_phi_home) -> None:
    line = _refused(capsys, [*cmd, "--start", "2020-01-01", "--end", value], repr(value), "YYYY-MM-DD", home=_isolated_phi_home)
    assert "year first" in line


def test_year_first_dates_in_every_spelling_still_work(capsys, cwd) -> None:
    for start, end in [("2021/01/04", "2021/03/31"), ("20210104", "20210331"), ("2021-1-4", "2021-3-31"), ("2021-01-04 09:30", "2021-03-31T16:00:00Z")]:
        assert main(["data", "health", "DEMO", "--start", start, "--end", end]) == 0, capsys.readouterr().err
        assert "2021-01-04 .. 2021-03-31" in capsys.readouterr().out


# ---------------------------------------------------------------- scan


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (("--end", "garbage"), ("end date", "'garbage'")),  # was a DateParseError traceback
        (("--start", "2021-02-30"), ("start date", "'2021-02-30'")),
        (("--start", "2021-06-01", "--end", "2021-01-01"), ("after",)),
        (("-v", "nope"), ("unknown vendor 'nope'",)),
        (("-t", "2H"), ("unknown timeframe '2H'",)),
    ],
)
def test_scan_checks_the_shared_request_once(flags, names, capsys, cwd, _isolated_phi_home) -> None:
    line = _refused(capsys, ["scan", "DEMO", "DEMO2", *flags], *names, home=_isolated_phi_home)
    assert "no symbol could be scanned" not in line  # the request is named, not a failure per symbol


def test_scan_names_the_reason_when_every_symbol_failed_alike(capsys, cwd) -> None:
    line = _refused(capsys, ["scan", "SPY", "QQQ", "-v", "csv", *SHORT], "all 2 failed alike", "needs a file")
    assert line.startswith("error: no symbol could be scanned")


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("flag", "value", "names"),
    [
        ("--params", "rsi.period=14,rsi.period=15", ("'rsi.period' twice", "'14'", "'15'")),
        ("--weights", "rsi=1,rsi=2", ("'rsi' twice",)),
        ("--costs", "", ("cost preset ''",)),
    ],
)
def test_backtest_flags_that_were_silently_resolved(flag, value, names, capsys, cwd, _isolated_phi_home) -> None:
    _refused(capsys, ["backtest", *SHORT, "-i", "rsi,macd", flag, value], *names, home=_isolated_phi_home)


def test_params_given_twice_across_flags_are_refused_too(capsys, cwd) -> None:
    _refused(capsys, ["backtest", *SHORT, "--no-save", "-p", "rsi.period=10", "-p", "rsi.period=10"], "'rsi.period' twice")


@pytest.mark.parametrize("cmd", [("fetch", "DEMO"), ("data", "health", "DEMO"), ("regime",)])
def test_path_without_vendor_csv_is_refused(cmd, capsys, cwd, tmp_path, _isolated_phi_home) -> None:
    bars = tmp_path / "mine.csv"
    bars.write_text(OHLC + "2021-01-04,1,2,0.5,1.5,10\n")
    # the file used to be ignored without a word: synthetic DEMO bars came back instead
    _refused(capsys, [*cmd, *SHORT, "--path", str(bars)], "--path", "--vendor csv", "'demo'", home=_isolated_phi_home)


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (("--trials", "99999999999999999999"), ("--trials", "100,000")),  # ran "forever" before
        (("--trials", "0"), ("--trials",)),
        (("--jobs", "0"), ("--jobs",)),
        (("--jobs", "-5"), ("--jobs",)),
        (("-i", "rsi,rsi"), ("'rsi'", "more than once")),
        (("--study", ""), ("--study needs a name",)),
    ],
)
def test_tune_counts_and_names(flags, names, capsys, cwd, _isolated_phi_home) -> None:
    args = ["tune", *SHORT, "--folds", "2"] + ([] if "--trials" in flags else ["--trials", "2"])  # an option given twice is refused
    if "-i" not in flags:
        args += ["-i", "rsi"]
    _refused(capsys, [*args, *flags], *names, home=_isolated_phi_home)


def test_tune_max_indicators_below_one_with_auto(capsys, cwd) -> None:
    _refused(capsys, ["tune", "--auto", "--max-indicators", "0", *SHORT], "--max-indicators")


@pytest.mark.parametrize(
    ("cmd", "flag", "value", "names"),
    [
        ("price", "--spot", "nan", ("--spot", "finite", "nan")),  # printed "nan" with exit 0 before
        ("price", "--rate", "nan", ("--rate", "finite")),
        ("price", "--div", "inf", ("--div", "finite")),
        ("price", "--vol", "nan", ("--vol", "finite")),
        ("price", "--days", "nan", ("--days", "finite")),
        ("greeks", "--strike", "nan", ("--strike", "finite")),
        ("greeks", "--rate", "-inf", ("--rate", "finite")),
    ],
)
def test_options_numbers_that_are_not_finite(cmd, flag, value, names, capsys, cwd) -> None:
    args = {"--spot": "100", "--strike": "100", "--vol": "0.2", "--days": "30"}
    args[flag] = value
    _refused(capsys, ["options", cmd, *(x for kv in args.items() for x in kv)], *names)


def test_options_iv_of_a_nan_price(capsys, cwd) -> None:
    _refused(capsys, ["options", "iv", "--price", "nan", "--spot", "100", "--strike", "100", "--days", "30"], "--price", "finite")


def test_options_gex_refuses_nan_spot_before_reading_the_chain(capsys, cwd, tmp_path) -> None:
    _refused(capsys, ["options", "gex", str(tmp_path / "missing.csv"), "--spot", "nan"], "--spot", "finite")
    _refused(capsys, ["options", "gex", str(tmp_path / "missing.csv"), "--max-dte", "-5"], "--max-dte")


# ---------------------------------------------------------------- batch


def test_batch_where_nothing_ran_is_one_error_line_and_exit_2(capsys, cwd, tmp_path, _isolated_phi_home) -> None:
    bad = tmp_path / "configs.json"
    bad.write_text('{"dataset": {"symbol": 5}, "indicators": ["rsi"]}')
    # it was exit 1 with nothing on stderr
    _refused(capsys, ["batch", "run", str(bad), "--scheduler", "inline"], "no config could be run", "dataset.symbol must be a string", home=_isolated_phi_home)


def test_batch_usage_hint_is_said_once(capsys, cwd) -> None:
    line = _refused(capsys, ["batch", "run"], "give a config FILE")
    assert line.count("phi batch run --help") == 1


# ---------------------------------------------------------------- PHI_HOME


def test_phi_home_inside_a_file_is_refused_before_any_work(capsys, cwd, tmp_path, monkeypatch) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    monkeypatch.setenv("PHI_HOME", str(afile / "sub" / "home"))
    # it ran the backtest, then failed to save it (and fetch warned it could not cache)
    _refused(capsys, ["backtest", *SHORT], "PHI_HOME=", str(afile), "not a folder")
    assert afile.read_text() == "mine"


def test_phi_home_that_does_not_exist_yet_is_made(capsys, cwd, tmp_path, monkeypatch) -> None:
    home = tmp_path / "new" / "home"
    monkeypatch.setenv("PHI_HOME", str(home))
    assert main(["fetch", "DEMO", *SHORT]) == 0, capsys.readouterr().err
    assert (home / "data_cache").is_dir()


# ---------------------------------------------------------------- strategies


def test_strategies_compare_says_a_data_failure_once(capsys, cwd, _isolated_phi_home) -> None:
    # it was one line repeating the same demo-epoch error for each of the ~16 presets
    line = _refused(capsys, ["strategies", "compare", "--start", "2021-01-01", "--end", "2199-12-31"], "outside the synthetic epoch",
                    home=_isolated_phi_home)  # fmt: skip
    assert line.count("outside the synthetic epoch") == 1 and "no preset ran" not in line


# ---------------------------------------------------------------- workbench


@pytest.fixture
def no_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the workbench would have started")

    monkeypatch.setattr(os, "execv", refuse)


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (("--port", "-1"), ("--port", "greater than or equal to 1")),  # a Streamlit OverflowError traceback after the warm-up
        (("--port", "99999"), ("--port", "less than or equal to 65535")),
        (("--address", "nope.invalid"), ("nope.invalid:8501", "--address")),
    ],
)
def test_workbench_refuses_what_it_cannot_serve_on(flags, names, capsys, cwd, no_exec) -> None:
    _refused(capsys, ["workbench", "--no-warmup", "--no-browser", *flags], *names)


def test_workbench_refuses_a_port_in_use(capsys, cwd, no_exec) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _refused(capsys, ["workbench", "--no-warmup", "--no-browser", "--address", "127.0.0.1", "--port", str(port)], f"127.0.0.1:{port}", "in use")


@pytest.mark.parametrize("value", ["", " , "])
def test_strategies_compare_with_an_empty_list_is_refused(value, capsys, cwd, _isolated_phi_home) -> None:
    # it ran (and saved) every preset
    _refused(capsys, ["strategies", "compare", "-s", value, *SHORT], "--strategies is empty", home=_isolated_phi_home)


# ---------------------------------------------------------------- ml / rl


@pytest.mark.parametrize("group", ["ml", "rl"])
def test_an_empty_model_name_is_refused_before_training(group, capsys, cwd, _isolated_phi_home) -> None:
    # `--name ""` used to mean the default name (SYMBOL_model): a model stored under a name not asked for
    _refused(capsys, [group, "train", *SHORT, "--name", ""], "model name ''", home=_isolated_phi_home)


# ---------------------------------------------------------------- portfolio


def test_a_long_symbol_list_makes_a_valid_portfolio_config() -> None:
    from phi.cli.portfolio import build_config

    syms = ",".join(f"SYM{i}" for i in range(600))  # "+".join of them was 4,000+ characters
    cfg = build_config(syms, "equal", start="2021-01-01", end="2021-12-31")
    assert len(cfg.symbols) == 600
    assert cfg.description.startswith("portfolio SYM0+SYM1+") and "and 588 more" in cfg.description
    assert len(cfg.description) <= 500
