"""Hostile CLI inputs found by the second audit of 2026-11-30 (beyond tests/test_cli_hostile.py
and tests/test_bad_inputs.py), each pinned to its behaviour, plus neighbours that must keep working.

Every refusal: exit code 2, exactly one ``error:`` line on stderr naming the problem, no
traceback, and nothing written under ``PHI_HOME`` or the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phi.cli import main

SHORT = ("--start", "2021-01-01", "--end", "2021-12-31")
OHLC = "date,open,high,low,close,volume\n"
CHAIN = "date,expiry,strike,kind,bid,ask,open_interest,underlying\n"


def _tree(*roots: Path) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                st = (Path(dirpath) / name).lstat()
                out[str(Path(dirpath) / name)] = (st.st_size, st.st_mtime_ns)
    return out


def _refused(capsys: pytest.CaptureFixture[str], args: list[str], *names: str) -> str:
    """Run ``phi args``; assert exit 2, one error line containing every name, nothing written."""
    watched = [Path.cwd(), Path(os.environ["PHI_HOME"])]
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


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Input files a case may name as {in}/NAME."""
    inp = tmp_path / "in"
    inp.mkdir()
    days = [f"2021-{m:02d}-{d:02d}" for m in (1, 2, 3) for d in range(1, 29)]
    rows = [f"{day},100,102,98,100.5,1000" for day in days]
    (inp / "bad_row.csv").write_text(OHLC + "\n".join(rows[:40] + ["notadate,100,102,98,100.5,1000"] + rows[40:]) + "\n")
    quotes = [f"2021-01-04,2021-02-19,{k},{kind},2,2.2,{oi},100" for k, oi in ((95, 500), (100, -500)) for kind in ("call", "put")]
    (inp / "neg_oi.csv").write_text(CHAIN + "\n".join(quotes) + "\n")
    (inp / "good_chain.csv").write_text(CHAIN + "\n".join(q.replace("-500", "500") for q in quotes) + "\n")
    return inp


# ---------------------------------------------------------------- a blank value is not "not given"

BLANK_CASES = [
    # (command, flag): the value "" or "   " used to mean "option not given" (a default run, the
    # model's vendor, no CSV written) or to name a file of spaces in the working directory
    (("backtest", *SHORT, "--no-save"), "--config"),
    (("backtest", *SHORT, "--no-save"), "--write-config"),
    (("backtest", *SHORT, "--no-save", "--blend", "regime_weighted"), "--regime-config"),
    (("backtest", *SHORT, "--no-save", "--mode", "options"), "--chain"),
    (("regime", *SHORT), "--config"),
    (("regime", *SHORT), "--chain"),
    (("runs", "compare", "a", "b"), "--equity-csv"),
    (("options", "sensitivity", *SHORT), "--csv"),
    (("options", "sensitivity", *SHORT), "--config"),
    (("options", "gex", "chain.csv"), "--date"),
    (("scan", *SHORT), "--universe"),
    (("strategies", "run", "rsi", *SHORT, "--no-save"), "--benchmark"),
    (("strategies", "compare", "-s", "rsi", *SHORT, "--no-save"), "--benchmark"),
    (("ml", "evaluate", "m1"), "--vendor"),
    (("rl", "evaluate", "a1"), "--timeframe"),
    (("plutus", "ask", *SHORT), "--url"),
    (("fetch", "MINE", "-v", "csv"), "--path"),
    (("batch", "run", *SHORT, "--scheduler", "inline"), "--symbol"),
    (("batch", "sweep", "-p", "rsi", *SHORT, "--scheduler", "inline"), "--symbols"),  # named '.' a folder
]


@pytest.mark.parametrize("value", ["", "   "])
@pytest.mark.parametrize(("cmd", "flag"), BLANK_CASES, ids=[f"{c[0]} {c[1] if len(c) > 1 else ''} {f}" for c, f in BLANK_CASES])
def test_a_blank_value_is_refused_by_name(cmd, flag, value, capsys, cwd) -> None:
    _refused(capsys, [*cmd, flag, value], f"{flag} is empty", repr(value))


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("backtest", "--mode", "options", "--strike-delta", ""), ("--strike-delta", "''")),  # ran with the default strikes
        (("backtest", "--mode", "options", "--strike-moneyness", ""), ("--strike-moneyness", "''")),
        (("options", "sensitivity", "--strike-delta", ""), ("--strike-delta", "''")),
        (("backtest", "--params", ""), ("--params is empty",)),  # ran with the default parameters
        (("backtest", "--params", " , "), ("--params is empty",)),
        (("backtest", "--weights", ""), ("--weights is empty",)),
    ],
)
def test_empty_lists_and_pairs_are_refused(args, names, capsys, cwd) -> None:
    _refused(capsys, [*args, *SHORT, "--no-save"] if args[0] == "backtest" else [*args, *SHORT], *names)


# ---------------------------------------------------------------- an option given twice


@pytest.mark.parametrize(
    ("args", "names"),
    [
        # the parser kept the last value without a word
        (("backtest", "--start", "2021-01-01", "--start", "2022-01-01"), ("--start is given twice",)),
        (("backtest", "--capital=5", "--capital", "6"), ("--capital is given twice",)),
        (("backtest", "-i", "rsi", "--indicators", "macd"), ("--indicators is given twice (as -i and --indicators)",)),
        (("backtest", "--short", "--no-short"), ("--short and --no-short are both given",)),
        (("runs", "list", "-n", "3", "--limit", "4"), ("--limit is given twice",)),
        (("scan", "DEMO", "-t", "1D", "-t", "1H"), ("-t is given twice",)),
        (("options", "price", "--spot", "1", "--spot", "2", "--strike", "1", "--vol", "0.2", "--days", "3"), ("--spot is given twice",)),
    ],
)
def test_an_option_given_twice_is_refused(args, names, capsys, cwd) -> None:
    _refused(capsys, list(args), *names)


def test_repeatable_options_and_values_that_look_like_options_still_work(capsys, cwd) -> None:
    args = ["backtest", *SHORT, "--no-save", "-i", "rsi,macd", "-p", "rsi.period=10", "-p", "macd.fast=8", "--tag", "a", "--tag", "b"]
    assert main(args) == 0, capsys.readouterr().err
    assert main(["backtest", *SHORT, "--no-save", "-i", "rsi", "--description", "--start"]) == 0, capsys.readouterr().err


def test_blank_free_text_is_still_fine(capsys, cwd) -> None:
    assert main(["backtest", *SHORT, "--no-save", "-i", "rsi", "--description", ""]) == 0, capsys.readouterr().err


def test_write_config_still_writes(capsys, cwd) -> None:
    assert main(["backtest", "--write-config", "run.json"]) == 0, capsys.readouterr().err
    assert sorted(os.listdir(cwd)) == ["run.json"]


# ---------------------------------------------------------------- PHI_HOME


@pytest.mark.parametrize("home", ["   ", "\t"])
def test_a_blank_phi_home_is_refused(home, capsys, cwd, monkeypatch) -> None:
    monkeypatch.setenv("PHI_HOME", home)
    # it made a folder named by the spaces in the working directory and saved the run there
    _refused(capsys, ["backtest", *SHORT], "PHI_HOME=", "blank")
    assert os.listdir(cwd) == []


# ---------------------------------------------------------------- the check that names the problem


def test_ml_train_names_an_unknown_model_not_the_model_name_made_from_it(capsys, cwd) -> None:
    line = _refused(capsys, ["ml", "train", *SHORT, "--model", "  "], "unknown model '  '")
    assert "model name" not in line  # was: model name 'DEMO_  ' is not allowed


def test_a_csv_with_one_bad_date_names_that_date(capsys, cwd, files) -> None:
    # it named the first (good) date of the column: "e.g. '2021-01-01'"
    _refused(capsys, ["fetch", "MINE", "-v", "csv", "--path", str(files / "bad_row.csv")], "'notadate'", "1 of 85 rows")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("runs", "show", "x", "--trades", "-1"), ("--trades",)),  # showed no trades, exit 0
        (("options", "gex", "chain.csv", "--strikes", "0"), ("--strikes",)),  # an empty table, exit 0
        (("options", "gex", "chain.csv", "--strikes", "-3"), ("--strikes",)),
        # named the train_agent argument (`timesteps must be ...`), after fetching the bars
        (("rl", "train", "DEMO", "--timesteps", "128"), ("--timesteps", "256..10,000,000", "128")),
        (("rl", "train", "DEMO", "--train", "0.95"), ("--train", "0.3..0.9", "0.95")),
    ],
)
def test_counts_below_their_range(args, names, capsys, cwd) -> None:
    _refused(capsys, list(args), *names)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("-2021-01-01", ("'-2021-01-01'", "outside the supported dates")),  # a strftime traceback
        ("9999-01-01", ("'9999-01-01'", "outside the supported dates")),
        ("02/01/2021", ("'02/01/2021'", "year first")),  # read as February 1 or January 2?
        ("2021", ("'2021'", "year first")),
        ("garbage", ("'garbage'",)),
    ],
)
def test_gex_date_gets_the_shared_date_check(value, names, capsys, cwd, files) -> None:
    _refused(capsys, ["options", "gex", str(files / "good_chain.csv"), "--date", value], "quote date", *names)


def test_gex_on_a_listed_date_still_works(capsys, cwd, files) -> None:
    assert main(["options", "gex", str(files / "good_chain.csv"), "--date", "2021-01-04"]) == 0, capsys.readouterr().err
    assert "Gamma exposure 2021-01-04" in capsys.readouterr().out


def test_a_chain_with_negative_open_interest_is_refused(capsys, cwd, files) -> None:
    # its GEX was computed with the negative open interest, exit 0
    _refused(capsys, ["options", "gex", str(files / "neg_oi.csv")], "open_interest must be >= 0", "row 4")


def test_a_good_chain_still_gives_gex(capsys, cwd, files) -> None:
    assert main(["options", "gex", str(files / "good_chain.csv"), "--strikes", "1"]) == 0, capsys.readouterr().err
    assert "contracts used" in capsys.readouterr().out


# ---------------------------------------------------------------- deletions without a terminal


def test_deletions_without_a_terminal_ask_for_yes(capsys, cwd, _isolated_phi_home) -> None:
    from phi.backtest.run_history import list_runs

    assert main(["backtest", *SHORT, "-i", "rsi"]) == 0
    (run,) = (r["run_id"] for r in list_runs())
    capsys.readouterr()
    # both read end-of-file as "no" and said "aborted" with exit 1
    _refused(capsys, ["runs", "delete", run], f"Delete run {run}", "add --yes")
    _refused(capsys, ["cache", "clear"], "Delete 1 cached dataset(s)", "add --yes")
    assert main(["runs", "delete", run, "--yes"]) == 0 and main(["cache", "clear", "--yes"]) == 0
    assert list_runs() == []


# ---------------------------------------------------------------- a PHI_HOME the command cannot write

READ_ONLY = "/proc/self/phi_home"  # unwritable even for root (as is a chmod 555 folder for others)


@pytest.mark.parametrize(
    ("args", "folder"),
    [
        (("backtest", *SHORT), "runs/"),  # ran, printed, then "could not save the run" (+ a cache warning)
        (("strategies", "run", "rsi", *SHORT), "runs/"),
        (("fetch", "DEMO", *SHORT), "data_cache/"),  # exit 0 with "could not cache": nothing fetched for later
        (("ml", "train", *SHORT), "models/"),
        (("tune", *SHORT, "-i", "rsi", "--study", "s1"), "phiai/"),
    ],
)
def test_a_read_only_phi_home_is_refused_before_any_work(args, folder, capsys, cwd, monkeypatch) -> None:
    monkeypatch.setenv("PHI_HOME", READ_ONLY)
    _refused(capsys, list(args), f"cannot write {folder} under PHI_HOME={READ_ONLY!r}", "'/proc/self' is read-only")


def test_a_read_only_phi_home_still_serves_what_writes_nothing(capsys, cwd, monkeypatch) -> None:
    monkeypatch.setenv("PHI_HOME", READ_ONLY)
    assert main(["runs", "list"]) == 0
    assert main(["backtest", *SHORT, "--no-save", "-i", "rsi"]) == 0  # the cache miss is a warning
    err = capsys.readouterr().err
    assert [ln.split(":")[0] for ln in err.splitlines() if ln.strip()] == ["warning"], err


@pytest.mark.parametrize("cmd", [("backtest",), ("portfolio", "run", "-s", "DEMO,DEMO2")])
def test_a_file_where_runs_should_be_is_refused_before_the_run(cmd, capsys, cwd, _isolated_phi_home) -> None:
    (_isolated_phi_home / "runs").write_text("mine")
    _refused(capsys, [*cmd, *SHORT], "cannot write runs/", "is a file, not a folder", "--no-save")
    assert (_isolated_phi_home / "runs").read_text() == "mine"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes in a chmod 555 folder")
def test_a_chmod_555_phi_home_is_refused(capsys, cwd, tmp_path, monkeypatch) -> None:
    home = tmp_path / "ro_home"
    home.mkdir()
    home.chmod(0o555)
    monkeypatch.setenv("PHI_HOME", str(home))
    try:
        _refused(capsys, ["backtest", *SHORT], "cannot write runs/", "read-only")
    finally:
        home.chmod(0o755)


# ---------------------------------------------------------------- a file where PHI_HOME needs a folder


@pytest.mark.parametrize("flags", [("--study", "s1"), ("--storage", "sqlite")])
def test_tune_sqlite_storage_with_a_file_in_place_of_its_folder(flags, capsys, cwd, _isolated_phi_home) -> None:
    (_isolated_phi_home / "phiai").write_text("mine")
    # a FileExistsError traceback (from the CLI with --study, from the tuner with --storage)
    _refused(capsys, ["tune", *SHORT, "-i", "rsi", "--trials", "2", "--folds", "2", *flags], "phiai", "a file")
    assert (_isolated_phi_home / "phiai").read_text() == "mine"


@pytest.mark.parametrize("storage", ["memory", "optuna.sqlite3", "study"])
def test_tune_storage_that_is_no_database_writes_no_file(storage, capsys, cwd, _isolated_phi_home) -> None:
    # a shared study with a bare word as its storage made sqlite:///memory, a database file in
    # the working directory, before the tuner refused the word
    _refused(
        capsys,
        ["tune", *SHORT, "-i", "rsi", "--trials", "2", "--folds", "2", "--study", "s1", "--storage", storage],
        "--storage",
        repr(storage),
    )
    assert not (cwd / storage).exists()


# ---------------------------------------------------------------- plutus: the request before the server

NO_SERVER = ("--url", "http://127.0.0.1:9", "--timeout", "1")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--start", "garbage"), ("'garbage'",)),
        (("--start", "2021-06-01", "--end", "2021-01-01"), ("after",)),
        (("../x",), ("'../x'",)),
        (("-v", "nope"), ("unknown vendor 'nope'",)),
        (("-t", "2H"), ("unknown timeframe '2H'",)),
        (("MINE", "-v", "csv"), ("--vendor csv needs a file",)),
    ],
)
def test_plutus_ask_names_a_bad_request_before_probing_the_server(args, names, capsys, cwd) -> None:
    # every one of these said "no LLM server at ..." (the probe ran first)
    line = _refused(capsys, ["plutus", "ask", *args, *NO_SERVER], *names)
    assert "LLM server" not in line


def test_plutus_ask_with_a_good_request_still_names_the_missing_server(capsys, cwd) -> None:
    _refused(capsys, ["plutus", "ask", *SHORT, *NO_SERVER], "no LLM server at http://127.0.0.1:9")


# ---------------------------------------------------------------- an RL agent on too few bars


@pytest.fixture(scope="module")
def agent_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("stable_baselines3")
    home = tmp_path_factory.mktemp("rl_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI_HOME", str(home))
        assert main(["rl", "train", "--start", "2021-01-01", "--end", "2022-06-30", "--timesteps", "256", "--name", "t1"]) == 0
    return home


@pytest.mark.parametrize(("start", "end"), [("2021-01-01", "2021-02-01"), ("2021-06-01", "2021-06-01")])
def test_rl_evaluate_refuses_bars_shorter_than_the_warm_up(start, end, agent_home, capsys, cwd, monkeypatch) -> None:
    monkeypatch.setenv("PHI_HOME", str(agent_home))
    capsys.readouterr()
    # it printed "return +0.00 %, Sharpe nan, max drawdown +nan %, 0 trades" with exit 0
    _refused(capsys, ["rl", "evaluate", "t1", "DEMO", "--start", start, "--end", end], "agent 't1' needs at least", "warm-up")


def test_rl_evaluate_on_enough_bars_still_runs(agent_home, capsys, cwd, monkeypatch) -> None:
    monkeypatch.setenv("PHI_HOME", str(agent_home))
    assert main(["rl", "evaluate", "t1", "DEMO", *SHORT]) == 0, capsys.readouterr().err
    assert "trades" in capsys.readouterr().out
