"""Step 4 — Execution: one test per engine setting, proving it reached the engine.

Each test sets the widget(s) in the page, presses Run, and then checks three things on the
saved run: its config holds the setting, its trades/assumptions show the setting's effect, and
its metrics equal those of ``phi.pipeline.run`` on a config built here directly with that one
engine setting (so the page passed exactly that value, and nothing else changed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from phi.backtest.costs import DEFAULT_COST_PRESET, cost_preset
from phi.backtest.engine import EngineConfig
from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.backtest.run_history import list_runs, load_run
from phi.data.store import get_dataset
from phi.pipeline import run
from tests.app.conftest import assert_clean, run_backtest, start


@dataclass
class Case:
    widgets: list[tuple[str, str, Any]]  # (kind, key, value) in the order to set them
    engine: dict[str, Any]  # the EngineConfig fields the widgets mean
    effect: Callable[[pd.DataFrame, dict[str, Any], pd.DataFrame], None]  # (trades, assumptions, bars)
    capital: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _reasons(trades: pd.DataFrame) -> set[str]:
    return set(trades["exit_reason"])


def _entry_rule(tr, a, bars):
    assert "crosses above 0.3 (prev <= 0.3 < cur)" in a["signal_rule"]


def _exit_rule(tr, a, bars):
    assert "when it crosses 0.05 the other way" in a["signal_rule"]


def _short(tr, a, bars):
    assert "short" in set(tr["side"]) and "short entry" in a["signal_rule"]


def _close_fill(tr, a, bars):
    assert a["fill"] == "close"
    np.testing.assert_allclose(tr["entry_price"], bars["close"].to_numpy()[tr["entry_bar"].to_numpy()])


def _stop(tr, a, bars):
    assert "stop_loss" in _reasons(tr)


def _target(tr, a, bars):
    assert "take_profit" in _reasons(tr)


def _trail(tr, a, bars):
    assert "trailing_stop" in _reasons(tr)


def _time(tr, a, bars):
    assert "time_exit" in _reasons(tr) and tr["bars_held"].max() <= 5
    assert a["time_exit"] == "exit fills 5 bars after the entry bar"


#: the workbench starts from the default cost preset, not from the engine's frictionless defaults
WORKBENCH_COSTS = cost_preset(DEFAULT_COST_PRESET).engine_fields()
#: what one unit of entry notional costs with those: the slipped price plus the commission on it
_ENTRY_COST = (1 + WORKBENCH_COSTS["slippage_bps"] / 1e4) * (1 + WORKBENCH_COSTS["commission_pct"])


def _no_signal_exit(tr, a, bars):
    assert "signal" not in _reasons(tr) and "signal exits off" in a["signal_rule"]


def _commission(tr, a, bars):
    assert (tr["costs"] > 0).all() and a["costs"].startswith("commission 0.001 of notional")


def _fixed_commission(tr, a, bars):
    closed = tr[~tr["open"]]
    np.testing.assert_allclose(closed["costs"], 10.0)
    assert "+ 5 per fill" in a["costs"]


def _slippage(tr, a, bars):
    assert (tr["costs"] > 0).all() and "slippage 10 bps" in a["costs"]


def _fixed_cash(tr, a, bars):
    np.testing.assert_allclose(tr["size"] * tr["entry_price"] * _ENTRY_COST, 5_000.0, rtol=1e-9)
    assert a["sizing"].startswith("5000 cash per entry")


def _fixed_units(tr, a, bars):
    np.testing.assert_allclose(tr["size"], 10.0)


def _risk(tr, a, bars):
    assert a["sizing"].startswith("risk 0.01 of equity to the 0.05 stop")


def _size_pct(tr, a, bars):
    first = tr.iloc[0]
    # half the equity buys the units at the slipped price plus the commission on that notional
    assert first["size"] * first["entry_price"] * _ENTRY_COST == pytest.approx(0.5 * 100_000.0, rel=1e-9)


def _whole_units(tr, a, bars):
    assert (tr["size"] == np.floor(tr["size"])).all() and a["fractional"] is False


def _calendar(tr, a, bars):
    assert a["periods_per_year"] == 365 and "24/7 calendar" in a["annualisation"]


def _warmup(tr, a, bars):
    assert a["warmup_bars"] >= 300 and tr["entry_bar"].min() >= 300


def _capital(tr, a, bars):
    first = tr.iloc[0]
    assert first["size"] * first["entry_price"] * _ENTRY_COST == pytest.approx(0.95 * 50_000.0, rel=1e-9)


CASES: dict[str, Case] = {
    "entry_threshold": Case([("slider", "ex:entry_threshold", 0.3)], {"entry_threshold": 0.3}, _entry_rule),
    "exit_threshold": Case([("slider", "ex:exit_threshold", 0.05)], {"exit_threshold": 0.05}, _exit_rule),
    "allow_short": Case([("toggle", "ex:allow_short", True)], {"allow_short": True}, _short),
    "fill": Case([("selectbox", "ex:fill", "close")], {"fill": "close"}, _close_fill),
    "stop_loss_pct": Case([("number_input", "ex:stop_loss_pct", 2.0)], {"stop_loss_pct": 0.02}, _stop),
    "take_profit_pct": Case([("number_input", "ex:take_profit_pct", 3.0)], {"take_profit_pct": 0.03}, _target),
    "trailing_stop_pct": Case([("number_input", "ex:trailing_stop_pct", 3.0)], {"trailing_stop_pct": 0.03}, _trail),
    "time_exit_bars": Case([("number_input", "ex:time_exit_bars", 5)], {"time_exit_bars": 5}, _time),
    "signal_exit": Case(
        [("number_input", "ex:stop_loss_pct", 5.0), ("toggle", "ex:signal_exit", False)],
        {"signal_exit": False, "stop_loss_pct": 0.05},
        _no_signal_exit,
    ),
    "commission_pct": Case([("selectbox", "ex:cost_preset", "none"), ("number_input", "ex:commission_pct", 0.1)], {"commission_pct": 0.001, "slippage_bps": 0.0}, _commission),
    "commission_fixed": Case([("selectbox", "ex:cost_preset", "none"), ("number_input", "ex:commission_fixed", 5.0)], {"commission_fixed": 5.0, "commission_pct": 0.0, "slippage_bps": 0.0}, _fixed_commission),
    "slippage_bps": Case([("number_input", "ex:slippage_bps", 10.0)], {"slippage_bps": 10.0}, _slippage),
    "size_pct": Case([("number_input", "ex:size_pct", 50.0)], {"size_pct": 0.5}, _size_pct),
    "sizing_fixed_cash": Case(
        [("selectbox", "ex:sizing", "fixed_cash"), ("number_input", "ex:size_cash", 5_000.0)],
        {"sizing": "fixed_cash", "size_cash": 5_000.0},
        _fixed_cash,
    ),
    "sizing_fixed_units": Case(
        [("selectbox", "ex:sizing", "fixed_units"), ("number_input", "ex:size_units", 10.0)],
        {"sizing": "fixed_units", "size_units": 10.0},
        _fixed_units,
    ),
    "sizing_risk_per_trade": Case(
        [("number_input", "ex:stop_loss_pct", 5.0), ("selectbox", "ex:sizing", "risk_per_trade"),
         ("number_input", "ex:risk_pct", 1.0)],
        {"sizing": "risk_per_trade", "risk_pct": 0.01, "stop_loss_pct": 0.05},
        _risk,
    ),  # fmt: skip
    "fractional": Case([("toggle", "ex:fractional", False)], {"fractional": False}, _whole_units),
    "calendar": Case([("selectbox", "ex:calendar", "24/7")], {"calendar": "24/7"}, _calendar),
    "warmup_bars": Case([("number_input", "ex:warmup_bars", 300)], {"warmup_bars": 300}, _warmup),
    "initial_capital": Case([("number_input", "ds:capital", 50_000.0)], {"initial_capital": 50_000.0}, _capital),
}




def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


@pytest.fixture(scope="module")
def bars(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    # Module scope runs before the per-test PHI_HOME exists: give it a PHI_HOME of its own.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI_HOME", str(tmp_path_factory.mktemp("phi_home")))
        return get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame


@pytest.mark.parametrize("name", list(CASES))
def test_setting_reaches_the_engine(name, bars):
    case = CASES[name]
    at = start()
    for kind, key, value in case.widgets:
        getattr(at, kind)(key=key).set_value(value)
        at.run()
    run_backtest(at)
    assert_clean(at)
    (summary,) = list_runs()
    saved = load_run(summary["run_id"])
    # 1. the config as run holds the setting(s)
    for field_name, value in case.engine.items():
        assert getattr(saved.config.engine, field_name) == value, field_name
    # 2. the setting shows in the trades / assumption ledger
    case.effect(saved.trades, saved.assumptions, bars)
    # 3. the engine with exactly this setting gives exactly these metrics
    direct = RunConfig(
        DatasetSpec("DEMO", "demo", "1D", "2020-01-01", "2024-12-31"),
        ["rsi", "macd"],
        engine=EngineConfig(**{**WORKBENCH_COSTS, **case.engine}),
    )
    expected = run(direct, save=False)
    assert _same(saved.metrics, expected.metrics)
    assert len(saved.trades) == len(expected.trades)
    default = run(RunConfig(direct.dataset, ["rsi", "macd"], engine=EngineConfig(**WORKBENCH_COSTS)), save=False)
    assert not _same(expected.metrics, default.metrics), "the setting must change the run"


def test_percent_widgets_map_to_fractions_and_zero_means_off():
    from app_streamlit import forms

    values = {forms.EX_SL: 0.0, forms.EX_TP: 12.5, forms.EX_TS: 0, forms.EX_TIME: 0, forms.EX_COMM_PCT: 0.05}
    eng = forms.engine_settings(values, 1_000.0)
    assert eng["stop_loss_pct"] is None and eng["trailing_stop_pct"] is None and eng["time_exit_bars"] is None
    assert eng["take_profit_pct"] == 0.125 and eng["commission_pct"] == pytest.approx(0.0005)
    assert set(eng) == {f for f in EngineConfig.__dataclass_fields__}  # every engine setting has a widget
    EngineConfig(**eng)


def test_cost_preset_fills_the_cost_widgets_and_defaults_are_not_zero():
    from app_streamlit import forms

    at = start()
    assert at.number_input(key=forms.EX_COMM_PCT).value == pytest.approx(0.05)
    assert at.number_input(key=forms.EX_SLIP).value == 2.0
    at.selectbox(key=forms.EX_COST_PRESET).set_value("crypto").run()
    assert_clean(at)
    assert at.number_input(key=forms.EX_COMM_PCT).value == pytest.approx(0.1)
    assert at.number_input(key=forms.EX_SLIP).value == 5.0
    at.selectbox(key=forms.EX_COST_PRESET).set_value("none").run()
    assert at.number_input(key=forms.EX_SLIP).value == 0.0
    assert any("No costs: optimistic" in c.value for c in at.caption)
