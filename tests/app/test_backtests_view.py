"""Backtests page: presets head to head, the table, the overlaid equity curves, open a run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import phi.strategies as strategies
from app_streamlit import forms
from app_streamlit.views import backtests as view
from phi.backtest import run_history as rh
from phi.backtest.run_config import DatasetSpec
from tests.app.conftest import assert_clean, figure, start, tables

CHOSEN = ("BuyAndHold", "RSI", "ChannelBreakout")


@pytest.fixture
def page():
    at = start()
    at.segmented_control(key="nav").set_value("Backtests").run()
    assert_clean(at)
    return at


def _run(at, start_day=dt.date(2023, 1, 1), benchmark="SPY"):
    for p in strategies.list():
        at.checkbox(key=view.pick(p.key)).set_value(p.name in CHOSEN)
    at.date_input(key=view.START).set_value(start_day)
    at.text_input(key=view.BENCHMARK).set_value(benchmark)
    at.selectbox(key=view.METRIC).set_value("total_return")
    at.button[[b.label for b in at.button].index("Run head to head")].click().run()
    assert_clean(at)
    return at


def test_a_card_per_preset_and_an_empty_state(page):
    keys = {c.key for c in page.checkbox}
    assert {view.pick(p.key) for p in strategies.list()} <= keys
    assert any("Run head to head" in i.value for i in page.info)


def test_run_head_to_head_shows_the_table_and_the_curves(page):
    at = _run(page)
    at.multiselect(key=view.SHOWN).set_value([*at.multiselect(key=view.SHOWN).value, "Accuracy", "run"]).run()
    (table,) = tables(at, "strategy", "Return", "run")
    assert set(table["strategy"]) == set(CHOSEN)
    # sorted by total return, as a trader reads it; every run saved
    cmp = at.session_state[view.RESULT]
    returns = cmp.table["total_return"].to_numpy()
    assert (np.diff(returns) <= 0).all() and list(table["strategy"]) == list(cmp.table["strategy"])
    assert len(rh.list_runs()) == len(CHOSEN) and all(r.startswith("20") for r in table["run"])
    assert "Excess" in table.columns and "Accuracy" in table.columns
    traces = {t["name"]: t for t in figure(at, "bt:chart:equity")["data"]}
    assert set(traces) == {*CHOSEN, "benchmark SPY"}
    rsi = next(r for r in cmp.runs if r.preset.name == "RSI")
    np.testing.assert_allclose(traces["RSI"]["y"][-1], rsi.result.equity.iloc[-1])


def test_nothing_picked_is_one_error(page):
    for p in strategies.list():
        page.checkbox(key=view.pick(p.key)).set_value(False)
    page.button[[b.label for b in page.button].index("Run head to head")].click().run()
    assert not page.exception
    assert [e.value for e in page.error] == ["Pick at least one strategy (tick Include on its card)."]


def test_open_puts_the_run_into_the_five_steps(page):
    at = _run(page, benchmark="")
    cmp = at.session_state[view.RESULT]
    rsi = next(r for r in cmp.runs if r.preset.name == "RSI")
    at.selectbox(key=view.OPEN_RUN).set_value(rsi.run_id)
    at.button(key=view.OPEN).click().run()
    assert_clean(at)
    assert at.session_state[forms.NAV] == "Workbench" and at.session_state[forms.SECTION] == "Results"
    # the five steps now describe exactly the preset's config: building it back gives the same run
    spec = {"symbol": "DEMO", "vendor": "demo", "timeframe": "1D", "start": "2023-01-01", "end": "2024-12-31"}
    rebuilt = forms.build_run_config(at.session_state, spec)
    expected = strategies.get("RSI").config(DatasetSpec(**spec))
    assert rebuilt.config_hash() == expected.config_hash()
    assert any("opened" in s.value for s in at.success)


def test_config_values_round_trip_every_single_symbol_preset():
    spec = {"symbol": "DEMO", "vendor": "demo", "timeframe": "1D", "start": "2021-01-01", "end": "2022-12-31"}
    for p in strategies.list():
        if p.is_portfolio:
            continue
        cfg = p.config(DatasetSpec(**spec), initial_capital=25_000, stop_loss_pct=0.04)
        assert forms.build_run_config(view.config_values(cfg), spec).config_hash() == cfg.config_hash(), p.name
