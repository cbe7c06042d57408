"""Cost presets: the values, the lookup, and where they are the default (CLI, demo, ledger)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phi.backtest.costs import COST_PRESETS, DEFAULT_COST_PRESET, cost_preset, matching_preset
from phi.cli import _flags, main
from phi.errors import ConfigError


def test_presets_hold_the_stated_costs() -> None:
    # (commission share of notional, fixed per fill, slippage bps), as the README states them
    assert {n: (p.commission_pct, p.commission_fixed, p.slippage_bps) for n, p in COST_PRESETS.items()} == {
        "us_equities": (0.0005, 0.0, 2.0),
        "crypto": (0.001, 0.0, 5.0),
        "fx": (0.0, 0.0, 1.0),
        "none": (0.0, 0.0, 0.0),
    }
    assert DEFAULT_COST_PRESET == "us_equities"
    assert cost_preset("us_equities").describe().startswith("US equities: 0.05 % of notional + 2 bps")


def test_unknown_preset_is_one_line_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown cost preset 'cripto'\. Did you mean 'crypto'\?"):
        cost_preset("cripto")


def test_matching_preset() -> None:
    assert matching_preset(0.0005, 0.0, 2.0) == "us_equities"
    assert matching_preset(0.0, 0.0, 0.0) == "none"
    assert matching_preset(0.0005, 0.0, 3.0) is None


def test_a_new_cli_config_starts_from_the_default_preset(tmp_path: Path) -> None:
    engine = _flags.build_config().engine
    assert (engine.commission_pct, engine.commission_fixed, engine.slippage_bps) == (0.0005, 0.0, 2.0)
    engine = _flags.build_config(costs="none").engine
    assert (engine.commission_pct, engine.slippage_bps) == (0.0, 0.0)
    # flags override the preset
    engine = _flags.build_config(costs="crypto", engine={"commission_pct": 0.002}).engine
    assert (engine.commission_pct, engine.slippage_bps) == (0.002, 5.0)
    # a config file keeps its own costs unless a preset is asked for
    cfg = _flags.build_config(costs="none")
    path = tmp_path / "run.json"
    path.write_text(cfg.to_json(), encoding="utf-8")
    assert _flags.build_config(config_file=str(path)).engine.commission_pct == 0.0
    assert _flags.build_config(config_file=str(path), costs="fx").engine.slippage_bps == 1.0


def test_cli_writes_and_states_the_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.json"
    assert main(["backtest", "--costs", "crypto", "--write-config", str(out)]) == 0
    engine = json.loads(out.read_text(encoding="utf-8"))["engine"]
    assert (engine["commission_pct"], engine["slippage_bps"]) == (0.001, 5.0)
    capsys.readouterr()
    assert main(["demo", "--no-save", "--ledger"]) == 0
    assert "(cost preset us_equities)" in capsys.readouterr().out
    assert main(["backtest", "--costs", "nope", "--no-save"]) == 2
    assert "unknown cost preset 'nope'" in capsys.readouterr().err


def test_ledger_says_when_costs_match_no_preset() -> None:
    from phi.backtest.engine import EngineConfig, run_backtest
    from tests.conftest import make_ohlcv

    bars = make_ohlcv(60)
    res = run_backtest(bars, bars["close"] * 0 + 1.0, EngineConfig(commission_pct=0.0007))
    assert "(custom costs, no preset)" in res.assumptions["costs"]
    res = run_backtest(bars, bars["close"] * 0 + 1.0, EngineConfig())
    assert "(cost preset none)" in res.assumptions["costs"]
