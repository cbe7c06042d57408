"""Step 3 — Blend: modes, weights, the regime matrix and the preview (phi's own blender)."""

from __future__ import annotations

import numpy as np
import pytest

from phi.backtest.run_history import list_runs, load_run
from phi.blending.blender import BLEND_MODES, blend
from phi.data.store import get_dataset
from phi.indicators.registry import compute_all_signals
from tests.app.conftest import assert_clean, errors, figure, figures, run_backtest, start


@pytest.fixture
def app():
    """The workbench with this step's section open (a hidden section draws no charts)."""
    at = start(**{"wb:section": "3 · Blend"})
    assert_clean(at)
    return at


def _signals():
    frame = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame
    return frame, compute_all_signals(frame, ["rsi", "macd"])


def _blend_trace(at):
    spec = figure(at, "chart:blend")
    (trace,) = [t for t in spec["data"] if t["name"] == "blend"]
    return np.asarray(trace["y"], dtype=float)


def test_all_four_modes_are_offered(app):
    assert app.selectbox(key="bl:mode").options == list(BLEND_MODES)


def test_weighted_sum_preview_is_phis_blend(app):
    app.slider(key="bl:w:rsi").set_value(2.0)
    app.slider(key="bl:w:macd").set_value(-0.5).run()
    assert_clean(app)
    _, signals = _signals()
    expected = blend(signals, "weighted_sum", {"rsi": 2.0, "macd": -0.5})
    np.testing.assert_allclose(_blend_trace(app), expected.to_numpy(), equal_nan=True)
    run_backtest(app)
    cfg = load_run(list_runs()[0]["run_id"]).config
    assert cfg.weights == {"rsi": 2.0, "macd": -0.5}
    assert cfg.blend.mode == "weighted_sum"


def test_voting_dead_zone_reaches_preview_and_config(app):
    app.selectbox(key="bl:mode").set_value("voting").run()
    app.slider(key="bl:dead_zone").set_value(0.3).run()
    assert_clean(app)
    _, signals = _signals()
    expected = blend(signals, "voting", {"rsi": 1.0, "macd": 1.0}, dead_zone=0.3)
    np.testing.assert_allclose(_blend_trace(app), expected.to_numpy(), equal_nan=True)
    run_backtest(app)
    cfg = load_run(list_runs()[0]["run_id"]).config
    assert cfg.blend.mode == "voting" and cfg.blend.params == {"dead_zone": 0.3}


def test_phiai_settings_reach_the_config(app):
    app.selectbox(key="bl:mode").set_value("phiai").run()
    assert app.get("slider") and not [s for s in app.slider if s.key.startswith("bl:w:")]  # no user weights
    app.number_input(key="bl:train_bars").set_value(200)
    app.number_input(key="bl:step").set_value(50)
    app.selectbox(key="bl:window").set_value("rolling")
    app.selectbox(key="bl:metric").set_value("sortino").run()
    assert_clean(app)
    assert "chart:blend" not in figures(app)  # the walk-forward fit runs on request only
    app.button(key="bl:phiai_preview").click().run()
    assert_clean(app)
    trace = _blend_trace(app)
    assert np.isnan(trace[:200]).all() and np.isfinite(trace[-100:]).all()
    run_backtest(app)
    assert_clean(app)
    cfg = load_run(list_runs()[0]["run_id"]).config
    assert cfg.blend.params == {"train_bars": 200, "step": 50, "window": "rolling", "metric": "sortino"}


def test_regime_weighted_matrix_is_prefilled_and_reaches_the_run(app):
    pytest.importorskip("phi.regime.blend")
    from phi.regime.blend import default_regime_weights
    from phi.regime.engine import RegimeEngine

    app.selectbox(key="bl:mode").set_value("regime_weighted").run()
    assert_clean(app)
    default = default_regime_weights(["rsi", "macd"])
    (editor,) = app.data_editor
    shown = editor.value
    assert list(shown.index) == list(default.index) and list(shown.columns) == ["rsi", "macd"]
    np.testing.assert_allclose(shown.to_numpy(), default.to_numpy())
    assert not [s for s in app.slider if s.key.startswith("bl:w:")]  # the matrix is the weights
    # the preview equals phi's regime_weighted blend with the engine's probabilities
    frame, signals = _signals()
    probs = RegimeEngine().run(frame).regime_probs
    matrix = app.session_state["bl:regime_matrix"]
    expected = blend(signals, "regime_weighted", {"rsi": 1.0, "macd": 1.0}, regime_probs=probs, regime_weights=matrix)
    np.testing.assert_allclose(_blend_trace(app), expected.to_numpy(), equal_nan=True)


def test_edited_regime_matrix_reaches_the_engine(app):
    pytest.importorskip("phi.regime.blend")
    from phi.regime.blend import default_regime_weights

    # AppTest cannot type into a data_editor; the editor keeps its edits in this state entry
    edited = default_regime_weights(["rsi", "macd"])
    edited.loc["RANGE", "rsi"] = 2.0
    edited.loc["TREND_UP", "macd"] = -1.0
    matrix = {r: {c: float(v) for c, v in row.items()} for r, row in edited.iterrows()}
    app.session_state["bl:regime_matrix"] = matrix
    app.selectbox(key="bl:mode").set_value("regime_weighted").run()
    np.testing.assert_allclose(app.data_editor[0].value.to_numpy(), edited.to_numpy())
    run_backtest(app)
    assert_clean(app)
    cfg = load_run(list_runs()[0]["run_id"]).config
    assert cfg.blend.mode == "regime_weighted"
    assert cfg.blend.regime_weights == matrix


def test_regime_view_settings_reach_the_regime_weighted_blend_and_its_run(app):
    pytest.importorskip("phi.regime.engine")
    from phi.regime import MFTConfig, RegimeEngine

    app.selectbox(key="bl:mode").set_value("regime_weighted").run()
    assert any("calibrated default settings" in c.value for c in app.caption)
    # what the Regime view's form stores on submit (its sliders; see test_regime_view.py)
    settings = {"probability": {"direction_scale": 0.5}, "taxonomy": {"gate_default": 2.0}}
    app.session_state["regime:overrides"] = settings
    app.run()
    assert_clean(app)
    assert any("settings submitted in the Regime view" in c.value for c in app.caption)
    frame, signals = _signals()
    probs = RegimeEngine(MFTConfig.from_dict(settings)).run(frame).regime_probs
    matrix = app.session_state["bl:regime_matrix"]
    expected = blend(signals, "regime_weighted", {"rsi": 1.0, "macd": 1.0}, regime_probs=probs, regime_weights=matrix)
    np.testing.assert_allclose(_blend_trace(app), expected.to_numpy(), equal_nan=True)
    run_backtest(app)
    assert_clean(app)
    cfg = load_run(list_runs()[0]["run_id"]).config
    assert cfg.blend.regime == settings


def test_blend_errors_are_shown_not_raised(app):
    app.slider(key="bl:w:rsi").set_value(0.0)
    app.slider(key="bl:w:macd").set_value(0.0).run()
    assert not app.exception
    assert any("zero" in e for e in errors(app))
    run_backtest(app)
    assert any("non-zero weight" in e for e in errors(app))
    assert list_runs() == []
