"""Options runs through the one entry point: phi.run, the run history, rerun, compare, CLI."""

from __future__ import annotations

import io
import json
import os

import pandas as pd
import pytest

from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.backtest.run_history import compare_runs, load_run, saved_file
from phi.cli import main
from phi.options.config import OptionsConfig
from phi.options.simulator import SYNTHETIC_NOTE, run_options_backtest
from phi.pipeline import rerun, run

DS = DatasetSpec("DEMO", start="2021-01-01", end="2022-12-31")


def _cfg(**options) -> RunConfig:
    return RunConfig(DS, ["rsi", "macd"], mode="options", options=OptionsConfig(**options))


@pytest.fixture(scope="module")
def saved():
    """One options run saved under the session PHI_HOME, and its equities twin."""
    cfg = _cfg(structure="bull_call_spread", dte=30, strike_rule="delta", delta=(0.4, 0.2))
    res = run(cfg)
    eq = run(RunConfig(DS, ["rsi", "macd"]))
    return res, eq, os.environ["PHI_HOME"]


@pytest.fixture
def runs(saved, monkeypatch):
    """The saved runs, with PHI_HOME pointing at the history that holds them."""
    res, eq, home = saved
    monkeypatch.setenv("PHI_HOME", home)
    return res, eq


def test_options_run_is_the_simulator_on_the_blended_signal(runs):
    res, eq = runs
    assert res.save_error is None and res.run_id and res.options is not None
    assert res.assumptions["prices"] == SYNTHETIC_NOTE
    # the same signal, warm-up and engine settings straight into the simulator: same run
    engine = res.config.engine.__class__(warmup_bars=res.assumptions["warmup_bars"])
    from phi.data.store import get_dataset

    frame = get_dataset("DEMO", DS.start, DS.end, "1D", "demo").frame
    direct = run_options_backtest(frame, res.signal, res.config.options, engine)
    pd.testing.assert_series_equal(direct.equity, res.equity)
    pd.testing.assert_frame_equal(direct.trades, res.trades)
    # the equities run on the same config traded the underlying on the very same signal
    pd.testing.assert_series_equal(eq.signal, res.signal, check_names=False)
    assert len(res.trades) > 0 and set(res.trades.structure) == {"bull_call_spread"}


def test_saved_options_run_reloads_with_legs_and_checksums(runs):
    res, _ = runs
    loaded = load_run(res.run_id)
    assert loaded.config == res.config and loaded.config.mode == "options"
    assert loaded.config.options == res.config.options
    pd.testing.assert_frame_equal(
        loaded.trades[["size", "entry_price", "exit_price", "pnl"]],
        res.trades[["size", "entry_price", "exit_price", "pnl"]].reset_index(drop=True),
        check_dtype=False,
    )
    legs = pd.read_csv(io.BytesIO(saved_file(loaded, "legs.csv")))
    assert len(legs) == len(res.options.legs) == 2 * len(res.trades)
    assert "legs.csv" in loaded.results["checksums"]
    assert loaded.metrics["n_trades"] == res.metrics["n_trades"]


def test_options_run_reruns_identically(runs):
    res, _ = runs
    again = rerun(res.run_id, save=False)
    assert json.dumps(again.metrics, sort_keys=True) == json.dumps(res.metrics, sort_keys=True)
    assert again.trades.to_csv(index=False) == res.trades.to_csv(index=False)
    assert again.options.legs.to_csv(index=False) == res.options.legs.to_csv(index=False)


def test_compare_an_options_run_with_its_equities_twin(runs):
    res, eq = runs
    cmp = compare_runs([res.run_id, eq.run_id])
    paths = {row[0] for row in cmp.config_diff}
    assert {"mode", "options.structure", "options.dte"} <= paths
    assert cmp.metrics.loc["total_return", res.run_id] == res.metrics["total_return"]


def test_corrupt_legs_csv_is_a_one_line_error(runs):
    res, _ = runs
    from phi.backtest.run_history import RunError

    loaded = load_run(res.run_id)
    assert saved_file(loaded, "tuning.json") is None
    path = loaded.path / "legs.csv"
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-5])
        with pytest.raises(RunError, match=r"legs\.csv"):
            saved_file(loaded, "legs.csv")
    finally:
        path.write_bytes(original)


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_backtest_mode_options_end_to_end(capsys):
    code, out, err = _cli(
        capsys,
        "backtest", "--start", "2021-01-01", "--end", "2022-12-31",
        "--mode", "options", "--structure", "bull_call_spread", "--dte", "45",
        "--strike-delta", "0.3", "--iv-premium", "1.2", "--profit-target", "80%", "--stop", "off",
    )  # fmt: skip
    assert code == 0, err
    assert "bull_call_spread, 45 DTE, strikes by delta [0.3, 0.15]" in out
    assert "no option quotes" in out
    run_id = out.split("Saved as run ")[1].split()[0]
    cfg = load_run(run_id).config
    assert cfg.mode == "options"
    o = cfg.options
    assert (o.structure, o.dte, o.strike_rule, o.delta) == ("bull_call_spread", 45, "delta", (0.3, 0.15))
    assert (o.iv_premium, o.profit_target_pct, o.stop_loss_pct) == (1.2, 0.8, None)
    code, out, err = _cli(capsys, "runs", "rerun", run_id, "--no-save")
    assert code == 0, err
    assert f"Identical to {run_id}" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dte", "30"), r"options settings \(dte\) need --mode options"),
        (("--mode", "optons"), r"mode: unknown mode 'optons'\. Did you mean 'options'\?"),
        (("--mode", "options", "--structure", "straddel"), r"options\.structure: unknown structure 'straddel'"),
        (("--mode", "options", "--strike-delta", "0.3,0.4"), r"options\.delta must be \(near, far\)"),
        (("--mode", "options", "--strike-delta", "x"), r"--strike-delta must be one number or two"),
    ],
)
def test_cli_bad_options_flags_are_one_line_errors(capsys, args, message):
    import re

    code, _, err = _cli(capsys, "backtest", "--no-save", *args)
    assert code == 2
    assert re.search(message, err) and len(err.strip().splitlines()) == 1, err


def test_runs_list_says_what_an_options_run_traded(runs, capsys):
    res, eq = runs
    from phi.backtest.run_history import list_runs

    rows = {r["run_id"]: r for r in list_runs()}
    assert rows[res.run_id]["options"] == "bull_call_spread 30d" and "options" not in rows[eq.run_id]
    from phi.cli._format import runs_table

    cells = [str(c) for c in runs_table(list_runs(), "runs").columns[0]._cells]
    assert any(c.endswith("-> options bull_call_spread 30d") for c in cells)
    assert _cli(capsys, "runs", "list")[0] == 0
