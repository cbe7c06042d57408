"""Leftovers of the CLI audits: empty items in comma lists, the stored-model listing of
``phi rl evaluate`` / ``phi ml evaluate``, and the entry note of a signal already past the
entry threshold when trading starts.

Refusals: exit code 2, exactly one ``error:`` line, nothing written under PHI_HOME or the
working directory (the shared ``_refused`` check).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.cli import main
from tests.test_cli_hostile_more import _refused

# ---------------------------------------------------------------- 1. empty items in comma lists


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["portfolio", "run", "-s", "SPY,,QQQ"], "--symbols: empty item in 'SPY,,QQQ'"),
        (["portfolio", "run", "-s", "SPY,"], "--symbols: empty item in 'SPY,'"),  # trailing comma
        (["backtest", "-i", "rsi,,macd"], "--indicators: empty item in 'rsi,,macd'"),
        (["backtest", "-i", ",rsi"], "--indicators: empty item in ',rsi'"),  # leading comma
        (["backtest", "-i", "rsi, ,macd"], "--indicators: empty item in 'rsi, ,macd'"),  # a blank one
        (["backtest", "-p", "rsi.period=10,,macd.fast=8"], "--params: empty item in 'rsi.period=10,,macd.fast=8'"),
        (["backtest", "-w", "rsi=2,"], "--weights: empty item in 'rsi=2,'"),
        (["backtest", "--mode", "options", "--strike-delta", "0.3,"], "--strike-delta: empty item in '0.3,'"),
        (["backtest", "--mode", "options", "--strike-moneyness", ",5%"], "--strike-moneyness: empty item in ',5%'"),
        (["tune", "-i", "rsi,,macd"], "--indicators: empty item in 'rsi,,macd'"),
        (["strategies", "compare", "-s", "rsi,,macd"], "--strategies: empty item in 'rsi,,macd'"),
        (["options", "sensitivity", "-i", "rsi,"], "--indicators: empty item in 'rsi,'"),
        (["options", "sensitivity", "--iv", "1,,1.5"], "--iv: empty item in '1,,1.5'"),
        (["options", "sensitivity", "--haircuts", "0,1%,"], "--haircuts: empty item in '0,1%,'"),
        # the grid parser already refused these (its own words, same rule)
        (["batch", "run", "--grid", "period=14,,20", "--scheduler", "inline"], "--grid: period: empty value in '14,,20'"),
    ],
)
def test_an_empty_item_in_a_comma_list_is_refused_naming_the_flag(args, line, capsys, cwd) -> None:
    err = _refused(capsys, args)
    assert err.strip() == f"error: {line}"


def test_a_blank_repeated_params_value_is_refused(capsys, cwd) -> None:
    err = _refused(capsys, ["backtest", "-p", "rsi.period=10", "-p", ""], "--params: empty value")
    assert "'rsi.period=10', ''" in err


def test_split_list_keeps_items_in_order_and_refuses_empty_ones() -> None:
    from phi.cli._flags import split_list
    from phi.errors import ConfigError

    assert split_list(" SPY , QQQ,IWM ", "--symbols") == ["SPY", "QQQ", "IWM"]
    assert split_list("SPY", "--symbols") == ["SPY"]
    assert split_list("  ", "--symbols") == split_list(" , ", "--symbols") == []  # the caller says what an empty flag means
    with pytest.raises(ConfigError, match=r"^--symbols: empty item in 'SPY,,QQQ'$"):
        split_list("SPY,,QQQ", "--symbols")


def test_lists_without_empty_items_still_parse() -> None:
    from phi.cli import _flags
    from phi.cli.portfolio import build_config

    cfg = _flags.build_config(indicators="rsi, macd", params=["rsi.period=10,macd.fast=8"])
    assert [i.name for i in cfg.indicators] == ["rsi", "macd"]
    assert cfg.indicators[0].params == {"period": 10} and cfg.indicators[1].params["fast"] == 8
    assert _flags.parse_strike_pair("0.3, 0.1", "--strike-delta") == (0.3, 0.1)
    assert build_config("SPY, QQQ", "equal").symbols == ("SPY", "QQQ")


# ---------------------------------------------------------------- 2. stored models by kind


def _store(home: Path, name: str, kind: str) -> None:
    """A model folder whose metadata passes the readers' shape check (no model file: these
    tests only ask for names that are not stored)."""
    from phi.ml.store import SCHEMA_VERSION

    meta: dict[str, object] = {"schema_version": SCHEMA_VERSION, "kind": kind, "files": {}, "data": {}}
    if kind == "classifier":
        meta.update(model="lr", label={}, features=["ret_1"], cv_scores=[{"accuracy": 0.5, "n_test": 10}], holdout_scores={})
    else:
        meta.update(scores={})
    folder = home / "models" / name
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")


def test_rl_evaluate_lists_only_stored_agents(capsys, cwd, _isolated_phi_home) -> None:
    _store(_isolated_phi_home, "clf_a", "classifier")
    root = _isolated_phi_home / "models"
    err = _refused(capsys, ["rl", "evaluate", "nope"])
    assert err.strip() == f"error: no model called 'nope' under {root} (stored RL agents: none yet)"
    _store(_isolated_phi_home, "agent_b", "rl_agent")
    _store(_isolated_phi_home, "agent_c", "rl_agent")
    err = _refused(capsys, ["rl", "evaluate", "nope"])
    assert err.strip() == f"error: no model called 'nope' under {root} (stored RL agents: agent_b, agent_c)"


def test_ml_evaluate_takes_either_kind_so_it_lists_both(capsys, cwd, _isolated_phi_home) -> None:
    # `phi ml evaluate` evaluates an RL agent too (it hands it to `phi rl evaluate`)
    _store(_isolated_phi_home, "clf_a", "classifier")
    _store(_isolated_phi_home, "agent_b", "rl_agent")
    err = _refused(capsys, ["ml", "evaluate", "nope"])
    root = _isolated_phi_home / "models"
    assert err.strip() == f"error: no model called 'nope' under {root} (stored: agent_b, clf_a)"


def test_the_api_loaders_list_their_own_kind(_isolated_phi_home) -> None:
    from phi.ml.model import ModelError
    from phi.ml.store import load_model
    from phi.rl.store import load_agent

    _store(_isolated_phi_home, "clf_a", "classifier")
    _store(_isolated_phi_home, "agent_b", "rl_agent")
    with pytest.raises(ModelError, match=r"\(stored classifiers: clf_a\)$"):
        load_model("nope")
    with pytest.raises(ModelError, match=r"\(stored RL agents: agent_b\)$"):
        load_agent("nope")


# ---------------------------------------------------------------- 3. the entry note in phi backtest


def _rising_csv(path: Path, n: int = 300) -> None:
    """Close rising 0.2 % a bar: dual_sma's x = SMA10 / SMA50 - 1 is the same on every bar, so
    its signal x / (2 * RMS_60(x)) is 0.5 from its first value on (bar 49 + 59 = 108)."""
    idx = pd.bdate_range("2021-01-04", periods=n)
    c = 100.0 * 1.002 ** np.arange(n)
    frame = pd.DataFrame({"date": idx.strftime("%Y-%m-%d"), "open": c, "high": c * 1.001, "low": c * 0.999, "close": c, "volume": 1000})
    frame.to_csv(path, index=False)


def test_backtest_says_why_a_signal_past_the_threshold_from_the_start_never_entered(capsys, cwd) -> None:
    _rising_csv(cwd / "up.csv")
    args = ["backtest", "UP", "--vendor", "csv", "--path", str(cwd / "up.csv"), "--start", "2021-01-01",
            "--end", "2022-12-31", "-i", "dual_sma", "--threshold", "0.1", "--no-save"]  # fmt: skip
    assert main(args) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    first_tradable = pd.bdate_range("2021-01-04", periods=110)[109]  # the bar after the first value (108)
    assert (
        f"note: the signal was already above the entry threshold 0.1 at the first tradable bar "
        f"{first_tradable:%Y-%m-%d} (signal 0.5 there, 0.5 on the bar before); entries happen on "
        "crossings (prev <= 0.1 < cur), so no long position was opened there; no position was "
        "opened in the whole run"
    ) in out
    assert main([*args, "--ledger"]) == 0
    assert "entry note" in capsys.readouterr().out  # the full ledger lists it too


def test_backtest_without_the_condition_prints_no_note(capsys, cwd) -> None:
    assert main(["backtest", "--no-save"]) == 0  # the demo's rsi + macd start below the threshold or cross
    assert "note: the signal was already" not in capsys.readouterr().out
