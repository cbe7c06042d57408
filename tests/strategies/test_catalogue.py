"""The preset catalogue: names, lookup, registration, configs."""

from __future__ import annotations

import pytest

import phi.strategies as strategies
from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.errors import ConfigError
from phi.strategies.catalogue import Preset, register

#: REFERENCE §3.2 without the ML / RL / LLM strategies (issues 13 and 14), plus PhiBot (§3.3).
EXPECTED = {
    "BuyAndHold", "MomentumRotation", "MeanReversion", "RSI", "Bollinger", "MACD", "DualSMA",
    "ChannelBreakout", "Wyckoff", "LiquidityPools", "PhiBot",
}  # fmt: skip


def test_every_reference_strategy_is_a_preset():
    assert {p.name for p in strategies.list()} >= EXPECTED


@pytest.mark.parametrize("name", ["BuyAndHold", "buy_and_hold", "buyandhold", "BUY-AND-HOLD", " buy and hold "])
def test_names_are_case_and_punctuation_insensitive(name):
    assert strategies.get(name).name == "BuyAndHold"


def test_a_typo_gets_did_you_mean_with_the_display_name():
    with pytest.raises(ConfigError, match=r"unknown strategy 'chanelbreakout'\. Did you mean 'ChannelBreakout'\?"):
        strategies.get("chanelbreakout")
    with pytest.raises(ConfigError, match="Valid strategies: BuyAndHold"):
        strategies.get("zzz")


def test_register_refuses_a_taken_name_and_accepts_a_new_family():
    taken = Preset("Buy_And_Hold", "x", "d", "r", "long only", "-", "-")
    with pytest.raises(ConfigError, match="already taken by BuyAndHold"):
        register(taken)
    mine = Preset("ZzTestOnly", "test", "d", "r", "long only", "-", "-", indicators=strategies.get("rsi").indicators)
    try:
        assert register(mine) is strategies.get("zz_test_only")
        assert mine in strategies.list()
    finally:
        from phi.strategies import catalogue

        catalogue._PRESETS.pop("zztestonly")


@pytest.mark.parametrize("preset", [p for p in strategies.list() if not p.is_portfolio], ids=lambda p: p.name)
def test_every_single_symbol_preset_is_a_complete_runconfig(preset):
    cfg = preset.config(DatasetSpec("AAPL", "yfinance", "1D", "2021-01-01", "2023-12-31"), initial_capital=5_000)
    assert RunConfig.from_json(cfg.to_json()) == cfg  # opens, changes and re-runs like any config
    assert cfg.engine.initial_capital == 5_000 and cfg.engine.commission_pct == 0.0005  # us_equities costs
    assert cfg.engine.allow_short is False and cfg.engine.entry_threshold == preset.engine_settings()["entry_threshold"]
    assert cfg.tags == (f"preset:{preset.key}",) and preset.rule in cfg.description
    assert preset.config(cfg.dataset, allow_short=True, stop_loss_pct=0.05).engine.stop_loss_pct == 0.05


def test_a_portfolio_preset_has_no_single_symbol_config():
    rot = strategies.get("momentum")
    assert rot.is_portfolio and rot.symbols == ("SPY", "VEU", "AGG", "GLD")
    with pytest.raises(ConfigError, match="several symbols"):
        rot.config(DatasetSpec("DEMO"))


def test_every_preset_documents_itself():
    for p in strategies.list():
        assert all((p.description, p.rule, p.sides, p.defaults, p.source)), p.name
        assert p.sides in ("long only", "long / short")
