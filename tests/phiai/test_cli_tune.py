"""``phi tune``: tables and verdict, --save writes the run with tuning.json, bad input is one line."""

from __future__ import annotations

import json

import pytest

from phi.backtest.run_history import load_run
from phi.cli import main
from phi.paths import runs_root


def phi(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_tune_indicators_prints_report_and_saves_with_tuning_json(capsys):
    code, out, err = phi(
        capsys,
        "tune",
        "DEMO",
        "--indicators",
        "rsi,macd",
        "--trials",
        "12",
        "--folds",
        "3",
        "--start",
        "2016-01-01",
        "--end",
        "2021-12-31",
        "--save",
    )
    assert code == 0, err
    assert "In-sample vs out-of-sample sharpe per fold" in out
    assert "DSR / p-value" in out and "PBO (CSCV)" in out
    assert "distinguishable from luck" in out
    # macd's three parameters ranked by fANOVA importance (rsi has one: no row)
    row = next(line for line in out.splitlines() if "macd: parameter" in line)
    assert all(p in row for p in ("fast", "slow", "signal")) and "rsi: parameter" not in out
    run_id = out.split("Saved run ")[1].split()[0]
    folder = runs_root() / run_id
    report = json.loads((folder / "tuning.json").read_text())
    results = json.loads((folder / "results.json").read_text())
    assert "tuning.json" in results["checksums"]
    assert set(report["tuning"]) <= {"rsi", "macd"}
    saved = load_run(run_id)
    # the saved run is the hold-out run: its metrics are the report's hold-out metrics
    assert saved.metrics["sharpe"] == pytest.approx(report["holdout"]["sharpe"], rel=0, abs=0)
    assert report["stats"]["n_trials_total"] == 24


def test_fold_dates_stay_whole_in_an_80_column_terminal(capsys, monkeypatch):
    """Each fold's first and last train and test days and its parameters stay whole (one above
    the other), never cut to an ellipsis."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = phi(
        capsys, "tune", "DEMO", "--indicators", "dual_sma", "--trials", "8", "--folds", "3",
        "--start", "2016-01-01", "--end", "2021-12-31",
    )  # fmt: skip
    assert code == 0, err
    table = out.split("per fold")[1].split("Result and how much")[0]
    assert "…" not in table
    dates = [w for line in table.splitlines() for w in line.split() if w[:2] == "20"]
    assert len(dates) == 3 * 2 * 2  # three folds: train and test, each first and last day
    assert all(len(d) == 10 and d[4] == d[7] == "-" for d in dates)
    assert table.count("fast=") == table.count("slow=") == 3


def test_tune_auto_selects(capsys):
    code, out, err = phi(
        capsys,
        "tune",
        "DEMO",
        "--auto",
        "--max-indicators",
        "2",
        "--trials",
        "6",
        "--folds",
        "3",
        "--start",
        "2016-01-01",
        "--end",
        "2021-12-31",
    )
    assert code == 0, err
    assert "Selection (walk-forward" in out and "Saved run" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "either --indicators"),
        (("--indicators", "rsi", "--auto"), "either --indicators"),
        (("--indicators", "rsx"), "rsx"),
        (("--indicators", "rsi", "--metric", "sharp"), "metric"),
        (("--indicators", "rsi", "--sampler", "cmaes"), "sampler"),
        (("--indicators", "rsi", "--max-dd", "lots"), "--max-dd"),
        # the flag a user typed is named, not the API's argument (constraints['max_drawdown'])
        (
            ("--indicators", "rsi", "--max-dd", "150%"),
            "--max-dd must be a drawdown cap between 0 and 100%, got 150%",
        ),
        (("--indicators", "rsi", "--min-trades", "-1"), "--min-trades must be 0 or more, got -1"),
        (
            ("--indicators", "rsi", "--holdout", "1.5"),
            "--holdout must be a share from 0 up to 90% of the bars, got 1.5",
        ),
        (("--indicators", "rsi", "--holdout", "95%"), "--holdout"),
        (("--indicators", "rsi", "--max-dd", "nan"), "--max-dd must be a drawdown cap"),
        (("--indicators", "rsi", "--folds", "0"), "--folds must be at least 1, got 0"),
        (("--indicators", "rsi", "--seed", "-1"), "--seed must be 0 or more, got -1"),
    ],
)
def test_tune_bad_input_is_one_line(capsys, args, message):
    code, out, err = phi(
        capsys,
        "tune",
        "DEMO",
        "--trials",
        "2",
        "--start",
        "2016-01-01",
        "--end",
        "2021-12-31",
        *args,
    )
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
