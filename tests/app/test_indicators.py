"""Step 2 — Indicators: search, add, remove, enable, widgets generated from the ParamSpecs, and
mini charts computed by the registry."""

from __future__ import annotations

import numpy as np
import pytest

from phi.backtest.run_history import list_runs, load_run
from phi.data.store import get_dataset
from phi.indicators.registry import INDICATORS, compute_signal
from tests.app.conftest import assert_clean, errors, figure, html_text, run_backtest, start


@pytest.fixture
def app():
    """The workbench with this step's section open (a hidden section draws no charts)."""
    at = start(**{"wb:section": "2 · Indicators"})
    assert_clean(at)
    return at


def _demo_frame():
    return get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame


def test_defaults_and_mini_charts_match_the_registry(app):
    assert app.session_state["ind:selected"] == ["rsi", "macd"]
    spec = figure(app, "chart:ind:rsi")
    expected = compute_signal("rsi", _demo_frame())
    np.testing.assert_allclose(spec["data"][0]["y"], expected.to_numpy(), equal_nan=True)
    assert spec["layout"]["yaxis"]["range"] == [-1.05, 1.05]


def test_search_filters_the_catalogue(app):
    app.text_input(key="ind:search").set_value("volume").run()
    keys = {b.key for b in app.button}
    assert {"ind:cmf:add", "ind:wyckoff:add", "ind:vwap_dev:add"} <= keys
    assert "ind:bollinger:add" not in keys
    app.text_input(key="ind:search").set_value("zzz-nothing").run()
    assert not any(k.endswith(":add") for k in (b.key for b in app.button))


def test_every_indicator_gets_one_widget_per_paramspec():
    names = list(INDICATORS)
    at = start(**{"ind:selected": names[:-1]})
    at.button(key=f"ind:{names[-1]}:add").click().run()
    assert not at.exception  # duplicate widget keys would raise here
    assert at.session_state["ind:selected"] == list(INDICATORS)
    for name, spec in INDICATORS.items():
        for p in spec.params:
            w = at.slider(key=f"ind:{name}:p:{p.name}")
            assert (w.min, w.max, w.step, w.value) == (p.low, p.high, p.step, p.default), (name, p.name)
            assert w.help == p.description
        assert at.button(key=f"ind:{name}:add").disabled
    assert_clean(at)


def test_parameters_enable_and_remove_reach_the_run(app):
    app.button(key="ind:bollinger:add").click().run()
    app.slider(key="ind:bollinger:p:period").set_value(30)
    app.slider(key="ind:bollinger:p:nbdev").set_value(2.5).run()
    assert_clean(app)
    spec = figure(app, "chart:ind:bollinger")
    expected = compute_signal("bollinger", _demo_frame(), {"period": 30, "nbdev": 2.5})
    np.testing.assert_allclose(spec["data"][0]["y"], expected.to_numpy(), equal_nan=True)
    assert "period=30" in spec["layout"]["title"]["text"]
    app.toggle(key="ind:macd:enabled").set_value(False).run()
    app.button(key="ind:rsi:remove").click().run()
    assert app.session_state["ind:selected"] == ["macd", "bollinger"]
    run_backtest(app)
    assert_clean(app)
    cfg = load_run(list_runs()[0]["run_id"]).config
    assert [(i.name, i.enabled) for i in cfg.indicators] == [("macd", False), ("bollinger", True)]
    assert cfg.indicators[1].params == {"period": 30, "nbdev": 2.5}


def test_removed_indicator_comes_back_with_defaults(app):
    app.slider(key="ind:rsi:p:period").set_value(7).run()
    app.button(key="ind:rsi:remove").click().run()
    app.button(key="ind:rsi:add").click().run()
    assert app.slider(key="ind:rsi:p:period").value == 14


def test_invalid_parameter_combination_is_an_error_in_the_card(app):
    app.slider(key="ind:macd:p:fast").set_value(30)
    app.slider(key="ind:macd:p:slow").set_value(20).run()
    assert not app.exception
    assert any("fast must be smaller than slow" in e for e in errors(app))
    run_backtest(app)
    assert any(e.startswith("Cannot run:") and "fast must be smaller than slow" in e for e in errors(app))
    assert list_runs() == []


def test_no_indicator_selected_is_an_error_not_a_run(app):
    app.button(key="ind:rsi:remove").click().run()
    app.button(key="ind:macd:remove").click().run()
    assert any("No indicator selected" in i.value for i in app.info)
    run_backtest(app)
    assert not app.exception
    assert any("no indicator selected" in e for e in errors(app))
    assert list_runs() == []
    # nothing lost: the dataset is still loaded
    assert "DEMO · demo · 1D" in html_text(app)


def test_catalogue_buttons_are_icons_that_fit_their_column(app):
    """The catalogue's column for its button is ~55 px: "Add"/"Added" showed as "A…". The
    buttons are icons now (+ to add, a check when selected), their help says what they do."""
    rsi, bollinger = app.button(key="ind:rsi:add"), app.button(key="ind:bollinger:add")
    assert (rsi.label, rsi.proto.icon, rsi.disabled) == ("", ":material/check:", True)  # selected by default
    assert rsi.help == "rsi is selected (its card is on the right)"
    assert (bollinger.label, bollinger.proto.icon, bollinger.disabled) == ("", ":material/add:", False)
    assert bollinger.help == "Add bollinger"
    bollinger.click().run()
    assert app.session_state["ind:selected"] == ["rsi", "macd", "bollinger"]
    assert app.button(key="ind:bollinger:add").proto.icon == ":material/check:"
    assert_clean(app)
