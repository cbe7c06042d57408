"""PhiAI page: a small search on the demo bars, its report, and carrying the result to the Workbench."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app_streamlit.views import phiai as view
from tests.app.conftest import (
    assert_clean,
    errors,
    figures,
    html_text,
    start,
    successes,
    tables,
    warnings_,
)

SUBMIT = "FormSubmitter:ai:form-Run PhiAI"


def _page(**state: object) -> AppTest:
    at = start(nav="PhiAI", **state)
    assert_clean(at)
    at.number_input(key=view.TRIALS).set_value(6)
    at.number_input(key=view.FOLDS).set_value(3)
    return at


def _search(at: AppTest) -> AppTest:
    at.button(key=SUBMIT).click().run()
    assert_clean(at)
    return at


@pytest.fixture(scope="module")
def tuned() -> AppTest:
    """rsi + macd (the Workbench's default selection) tuned with 6 trials each on 3 folds."""
    return _search(_page())


def test_report_shows_in_and_out_of_sample_the_luck_verdict_and_best_parameters(
    tuned: AppTest,
) -> None:
    saved = tuned.session_state[view.RESULT]
    result = saved["result"]
    s = result.stats
    assert set(result.tuning) == {"rsi", "macd"}
    assert s["n_trials_total"] == sum(len(t.trials) for t in result.tuning.values())
    assert any(m.startswith("PhiAI finished") for m in successes(tuned))
    # the verdict in plain words, as a warning when it is luck
    verdict = [m for m in warnings_(tuned) + successes(tuned) if "distinguishable from luck" in m]
    assert len(verdict) == 1
    assert verdict[0].startswith("Not") == (not s["dsr_pvalue"] < 0.05)
    text = html_text(tuned)
    for label in (
        "sharpe in-sample",
        "sharpe walk-forward OOS",
        "sharpe hold-out",
        "DSR p-value",
        "PSR",
        "PBO",
    ):
        assert label in text
    assert f"{s['dsr_pvalue']:,.3f}" in text
    best = tables(tuned, "indicator", "best parameters")[0]
    assert list(best["indicator"]) == ["rsi", "macd"]
    assert best.loc[0, "best parameters"] == ", ".join(
        f"{k}={v}" for k, v in result.tuning["rsi"].best_params.items()
    )
    # IS beside OOS per fold: one bar per fold and indicator in each of the two traces
    folds = figures(tuned)["ai:chart:folds"]
    assert [t["name"] for t in folds["data"]] == ["in-sample (train)", "out-of-sample (test)"]
    assert len(folds["data"][0]["y"]) == len(result.folds) == 2 * 3
    assert folds["data"][1]["y"] == pytest.approx(result.folds["oos_score"].tolist(), nan_ok=True)
    assert "ai:chart:slice" in figures(tuned)


def test_parameter_importance_of_the_indicator_picked_for_the_slice_plot(tuned: AppTest) -> None:
    from phi.phiai.importance import param_importance

    assert "ai:chart:importance" not in figures(tuned)  # rsi, shown first, has one parameter
    tuned.selectbox(key=view.SLICE).set_value("macd").run()
    assert_clean(tuned)
    want = param_importance(tuned.session_state[view.RESULT]["result"].tuning["macd"])
    bars = figures(tuned)["ai:chart:importance"]["data"][0]
    assert dict(zip(bars["y"], bars["x"], strict=True)) == pytest.approx(want)
    assert sum(bars["x"]) == pytest.approx(1.0) and set(bars["y"]) == {"fast", "slow", "signal"}
    assert "ai:chart:slice" in figures(tuned)
    tuned.selectbox(key=view.SLICE).set_value("rsi").run()


def test_apply_puts_the_best_parameters_into_step_2(tuned: AppTest) -> None:
    result = tuned.session_state[view.RESULT]["result"]
    tuned.button(key=view.APPLY).click().run()
    assert_clean(tuned)
    for name, t in result.tuning.items():
        for param, value in t.best_params.items():
            assert tuned.session_state[f"ind:{name}:p:{param}"] == value
    tuned.session_state["nav"] = "Workbench"
    tuned.session_state["wb:section"] = "2 · Indicators"
    tuned.run()
    assert_clean(tuned)
    assert tuned.slider(key="ind:rsi:p:period").value == result.tuning["rsi"].best_params["period"]
    tuned.session_state["nav"] = "PhiAI"
    tuned.run()


def test_open_config_then_run_scores_exactly_the_reported_hold_out(tuned: AppTest) -> None:
    result = tuned.session_state[view.RESULT]["result"]
    config = result.run_config
    tuned.session_state["nav"] = "PhiAI"
    tuned.run()
    tuned.button(key=view.OPEN).click().run()
    assert_clean(tuned)
    assert tuned.session_state["nav"] == "Workbench"
    assert tuned.session_state["ex:warmup_bars"] == config.engine.warmup_bars > 0
    assert any("PhiAI config opened" in m for m in successes(tuned))
    for ind in config.enabled_indicators:
        assert tuned.session_state[f"bl:w:{ind.name}"] == pytest.approx(ind.weight)
    tuned.button(key="run:go").click().run()
    assert_clean(tuned)
    ran = tuned.session_state["run:result"]["result"]
    assert [(i.name, i.params, i.weight) for i in ran.config.enabled_indicators] == [
        (i.name, i.params, i.weight) for i in config.enabled_indicators
    ]
    for key in ("sharpe", "total_return", "n_trades"):
        assert ran.metrics[key] == pytest.approx(result.holdout[key], rel=1e-12, nan_ok=True)


def test_full_auto_selects_from_the_registry_and_shows_the_selection() -> None:
    at = _page()
    at.radio(key=view.MODE).set_value(view.FULL_AUTO).run()  # outside the form: re-draws it at once
    at.number_input(key=view.MAX_INDICATORS).set_value(1)  # enabled in full auto only
    at.number_input(key=view.TRIALS).set_value(4)
    _search(at)
    result = at.session_state[view.RESULT]["result"]
    sel = tables(at, "name", "chosen", "why")[0]
    assert len(sel) == len(result.selection) > 5
    assert sel["chosen"].sum() == len(result.tuning) == 1
    # the trial count includes the selection's probes
    assert result.stats["n_trials_total"] > len(next(iter(result.tuning.values())).trials)


def test_settings_translate_percent_widgets_and_refuse_an_empty_choice() -> None:
    kwargs = view.search_settings(
        {
            view.HOLDOUT: 25.0,
            view.DD_CAP: 40.0,
            view.MIN_TRADES: 3,
            view.INDICATORS: ["roc"],
            "ind:selected": ["rsi"],
        }
    )
    assert kwargs["holdout"] == 0.25
    assert kwargs["constraints"] == {"max_drawdown": -0.40, "min_trades": 3}
    assert kwargs["candidates"] == ["roc"] and kwargs["select"] is False
    auto = view.search_settings({view.MODE: view.FULL_AUTO, view.MAX_INDICATORS: 2})
    assert auto["candidates"] is None and auto["max_indicators"] == 2 and auto["select"] is True
    at = _page(**{"ind:selected": []})
    at.multiselect(key=view.INDICATORS).set_value([])
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    assert errors(at) == [
        "Cannot start PhiAI: no indicator to tune: choose at least one, or switch to full auto"
    ]
    assert view.RESULT not in at.session_state


def test_when_no_parameter_set_meets_the_constraints_the_page_says_so() -> None:
    at = _page()
    at.number_input(key=view.MIN_TRADES).set_value(1000)
    _search(at)
    result = at.session_state[view.RESULT]["result"]
    assert all(t.stats["feasible_trials"] == 0 for t in result.tuning.values())
    said = [w for w in warnings_(at) if "met the constraints" in w]
    assert [w.split()[4] for w in said] == list(result.tuning)


# An asynchronous cancel (PyThreadState_SetAsyncExc) lands at the worker's next bytecode, which
# may be inside a gc callback (hypothesis installs one) or a __del__: CPython then reports it as
# unraisable and the job stops at its next progress call instead, which this test asserts.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_cancel_stops_a_long_search_after_its_current_batch() -> None:
    import time

    from phi.backtest.engine import EngineConfig
    from tests.phiai.frames import random_walk

    kwargs = view.search_settings({view.TRIALS: 100_000, view.FOLDS: 3, view.INDICATORS: ["rsi"]})
    job = view.search_job(random_walk(600, seed=1), EngineConfig(), None, kwargs).start()
    t0 = time.monotonic()
    while not job.stage.startswith("tune rsi") and time.monotonic() - t0 < 60:
        time.sleep(0.01)
    assert job.stage.startswith("tune rsi ·") and 0 < job.fraction < 1
    assert job.cancel()
    assert job.wait(30)
    assert job.cancelled and job.result is None and job.error is None


def test_tables_and_importance_chart_read_as_a_trader_expects():
    """The tuner's tables show labelled scores (metric named, two decimals, drawdown in per
    cent) and the importance chart leaves room for the longest parameter name."""
    cols = view.score_columns("sortino", folds=2)
    assert cols["is_score"]["label"] == "IS sortino" and cols["oos_score"]["label"] == "OOS sortino"
    assert cols["is_f2"]["label"] == "IS fold 2" and cols["oos_f1"]["label"] == "OOS fold 1"
    assert cols["max_drawdown"]["type_config"]["format"] == "percent"
    assert "is_f3" not in cols
    fig = view.importance_chart({"k_period": 0.2, "d_period": 0.8}, "stochastic").figure
    assert fig.layout.yaxis.automargin is True
    assert list(fig.data[0].y) == ["k_period", "d_period"]  # largest on top


def test_best_parameters_table_names_the_metric_and_never_shows_a_bare_none() -> None:
    """The stability column said "None" (NaN) and the scores had four decimals without the metric."""
    tuned = _search(_page())  # its own search: the module's one is moved on by the tests above
    best = tables(tuned, "indicator", "best parameters")[0]
    result = tuned.session_state[view.RESULT]["result"]
    for name, text in zip(best["indicator"], best["stability"], strict=True):
        stab = result.tuning[name].stats["stability"]
        assert text != "None" and text.startswith("n/a: ") == (stab != stab)
    # stats.stability's own rule, by hand: nan with no neighbour, or when the best score is not > 0
    assert view.stability_text({"stability": 0.8312}) == "0.83"
    assert view.stability_text({"stability": float("nan"), "stability_neighbours": 0}) == "n/a: no trial near the best"
    assert view.stability_text({"stability": float("nan"), "stability_neighbours": 3}) == "n/a: best score ≤ 0"
    cols = view.best_columns("sharpe")
    assert cols["in-sample"]["label"] == "IS sharpe" and cols["hold-out (alone)"]["label"] == "hold-out sharpe (alone)"
    assert cols["in-sample"]["type_config"]["format"] == "%.2f"
    assert cols["weight"]["type_config"]["format"] == "percent"


def test_full_auto_disables_the_indicators_field_it_ignores() -> None:
    """The mode switch sits outside the form, so it re-draws the form at once: in full auto the
    'Indicators to tune' field (ignored there) is disabled and says why; back in 'choose' mode it
    is editable again with the user's choice intact, and 'Max indicators' (full auto only) is
    disabled instead."""
    at = _page(**{view.INDICATORS: ["roc"]})  # the user's choice (a submitted form's value)
    mode, picked = at.radio(key=view.MODE), at.multiselect(key=view.INDICATORS)
    assert mode.proto.form_id == ""  # the switch is not in the form ...
    assert picked.proto.form_id == view.FORM  # ... the fields are
    assert (picked.disabled, at.number_input(key=view.MAX_INDICATORS).disabled) == (False, True)
    assert picked.value == ["roc"]
    at.radio(key=view.MODE).set_value(view.FULL_AUTO).run()
    assert not at.exception
    picked = at.multiselect(key=view.INDICATORS)
    assert picked.disabled is True and "Not used in full auto" in picked.help
    assert at.number_input(key=view.MAX_INDICATORS).disabled is False
    assert any("indicators field is not used" in c.value for c in at.caption)
    # what the page would run: full auto over the registry, not the greyed-out choice
    assert view.search_settings(at.session_state)["candidates"] is None
    at.radio(key=view.MODE).set_value(view.TUNE_SELECTED).run()
    picked = at.multiselect(key=view.INDICATORS)
    assert picked.disabled is False and picked.value == ["roc"]
    assert at.number_input(key=view.MAX_INDICATORS).disabled is True
    assert view.search_settings(at.session_state)["candidates"] == ["roc"]
