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

SUBMIT = view.GO


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
    # PBO, a share of 70 CSCV splits, in whole per cent on its card as in the sentence (was 74.29%)
    assert f">{s['pbo']:.0%}<" in text and f"Probability of backtest overfitting {s['pbo']:.0%} " in text
    assert f"{s['pbo']:.2%}" not in text or f"{s['pbo']:.2%}" == f"{s['pbo']:.0%}"
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
    assert job.wait(120)  # 100,000 trials would take hours; the batch it is in, a second
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
    from app_streamlit.views.phiai_charts import stability_text

    assert stability_text({"stability": 0.8312}) == "0.83"
    assert stability_text({"stability": float("nan"), "stability_neighbours": 0}) == "n/a: no trial near the best"
    assert stability_text({"stability": float("nan"), "stability_neighbours": 3}) == "n/a: best score ≤ 0"
    cols = view.best_columns("sharpe")
    assert cols["in-sample"]["label"] == "IS sharpe" and cols["hold-out (alone)"]["label"] == "hold-out sharpe (alone)"
    assert cols["in-sample"]["type_config"]["format"] == "%.2f"
    assert cols["weight"]["type_config"]["format"] == "percent"


def test_full_auto_disables_the_indicators_field_it_ignores() -> None:
    """Switching the mode re-draws the fields at once: in full auto the 'Indicators to tune'
    field (ignored there) is disabled and says why; back in 'choose' mode it is editable again
    with the user's choice intact, and 'Max indicators' (full auto only) is disabled instead."""
    at = _page()
    at.multiselect(key=view.INDICATORS).set_value(["roc"]).run()
    picked = at.multiselect(key=view.INDICATORS)
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


#: Edits a user makes on the panel (none of them a default), by widget kind.
EDITS = {
    "number_input": {view.MAX_INDICATORS: 5, view.TRIALS: 7, view.FOLDS: 2, view.HOLDOUT: 25.0,
                     view.DD_CAP: 12.0, view.MIN_TRADES: 4, view.SEED: 7},
    "selectbox": {view.METRIC: "sortino", view.SAMPLER: "random", view.SCHEME: "anchored"},
}  # fmt: skip


def _shown(at: AppTest) -> dict[str, object]:
    out: dict[str, object] = {k: at.number_input(key=k).value for k in EDITS["number_input"]}
    out |= {k: at.selectbox(key=k).value for k in EDITS["selectbox"]}
    return out | {view.MODE: at.radio(key=view.MODE).value, view.INDICATORS: at.multiselect(key=view.INDICATORS).value}


def test_edits_survive_mode_switches_and_a_trip_to_other_pages_and_the_run_uses_them() -> None:
    """Every field keeps what the user typed, without Run PhiAI, across both mode switches and
    a trip to the Workbench's steps and another page (was: 'Max indicators' went back to 3 on a
    mode switch and every field to its default after another page); Run PhiAI then searches with
    exactly those settings."""
    at = start(nav="PhiAI")
    at.radio(key=view.MODE).set_value(view.FULL_AUTO).run()
    for key, value in EDITS["number_input"].items():
        at.number_input(key=key).set_value(value).run()
    for key, value in EDITS["selectbox"].items():
        at.selectbox(key=key).set_value(value).run()
    at.radio(key=view.MODE).set_value(view.TUNE_SELECTED).run()
    at.multiselect(key=view.INDICATORS).set_value(["rsi"]).run()
    want = {**EDITS["number_input"], **EDITS["selectbox"], view.MODE: view.TUNE_SELECTED, view.INDICATORS: ["rsi"]}
    assert _shown(at) == want
    at.radio(key=view.MODE).set_value(view.FULL_AUTO).run()
    assert _shown(at) == {**want, view.MODE: view.FULL_AUTO}
    at.radio(key=view.MODE).set_value(view.TUNE_SELECTED).run()
    for nav, section in (("Workbench", "3 · Blend"), ("Workbench", "2 · Indicators"), ("Scanner", None)):
        at.session_state["nav"] = nav
        if section:
            at.session_state["wb:section"] = section
        at.run()
        assert_clean(at)
        assert view.MAX_INDICATORS not in at.session_state  # not drawn: Streamlit dropped the widget's state
    at.session_state["nav"] = "PhiAI"
    at.run()
    assert_clean(at)
    assert _shown(at) == want
    at.button(key=SUBMIT).click().run()
    assert_clean(at)
    saved = at.session_state[view.RESULT]
    assert {k: v for k, v in saved["settings"].items() if not k.startswith("execution ")} == {
        "select": False, "candidates": ["rsi"], "max_indicators": 1, "metric": "sortino", "sampler": "random",
        "n_trials": 7, "folds": 2, "scheme": "anchored", "holdout": 0.25,
        "constraints": {"max_drawdown": -0.12, "min_trades": 4}, "seed": 7,
    }  # fmt: skip
    assert list(saved["result"].tuning) == ["rsi"] and len(saved["result"].tuning["rsi"].trials) == 7
    assert not [w for w in warnings_(at) if w.startswith("Previous")]
    # a mode switch after the run: the result is marked, in the panel's words
    at.radio(key=view.MODE).set_value(view.FULL_AUTO).run()
    (stale,) = [w for w in warnings_(at) if w.startswith("Previous")]
    assert "the page now differs: what to tune full auto (run: the indicators chosen)." in stale


def test_the_indicators_to_tune_follow_step_2_until_the_user_edits_them() -> None:
    at = start(nav="PhiAI")
    assert at.multiselect(key=view.INDICATORS).value == ["rsi", "macd"]  # Step 2's
    at.session_state["ind:selected"] = ["rsi", "macd", "roc"]  # Step 2 edited elsewhere
    at.run()
    assert at.multiselect(key=view.INDICATORS).value == ["rsi", "macd", "roc"]  # not edited here: follows
    assert view.USE_STEP_2 not in [b.key for b in at.button]
    at.multiselect(key=view.INDICATORS).set_value(["roc"]).run()
    at.session_state["nav"] = "Workbench"
    at.run()
    at.session_state["ind:selected"] = ["rsi", "adx"]
    at.session_state["nav"] = "PhiAI"
    at.run()
    assert_clean(at)
    assert at.multiselect(key=view.INDICATORS).value == ["roc"]  # the user's own choice
    assert "Your own choice (kept). Step 2 has: rsi, adx." in [c.value for c in at.caption]
    at.button(key=view.USE_STEP_2).click().run()
    assert at.multiselect(key=view.INDICATORS).value == ["rsi", "adx"]
    assert view.USE_STEP_2 not in [b.key for b in at.button]
    at.session_state["nav"] = "Workbench"
    at.run()
    at.session_state["ind:selected"] = ["adx"]
    at.session_state["nav"] = "PhiAI"
    at.run()
    assert at.multiselect(key=view.INDICATORS).value == ["adx"]  # follows Step 2 again


def test_a_changed_setting_is_said_as_the_panel_names_it() -> None:
    ran = {"select": False, "candidates": ["rsi", "macd"], "max_indicators": 2, "metric": "sharpe",
           "sampler": "tpe", "n_trials": 100, "folds": 5, "scheme": "rolling", "holdout": 0.2,
           "constraints": {"max_drawdown": -0.3, "min_trades": 10}, "seed": 0, "execution fill": "next_open"}  # fmt: skip
    assert view.described(ran) == {
        "what to tune": "the indicators chosen", "indicators to tune": "rsi, macd", "metric": "sharpe",
        "sampler": "tpe", "trials per indicator": "100", "walk-forward folds": "5", "fold scheme": "rolling",
        "hold-out": "20%", "drawdown cap": "30%", "minimum trades": "10", "seed": "0", "execution fill": "next_open",
    }  # fmt: skip
    auto = {**ran, "select": True, "candidates": None, "max_indicators": 3}
    assert view.described(auto)["max indicators"] == "3" and "indicators to tune" not in view.described(auto)


def test_folds_chart_labels_each_fold_under_its_bars_and_the_indicator_under_its_folds() -> None:
    """One "vwap_dev · fold 5" label per bar pair was tilted and cut by the chart's bottom edge;
    the x axis is two rows now (the fold, then the indicator), upright, with room made for them."""
    import pandas as pd

    folds = pd.DataFrame({"indicator": ["rsi", "rsi", "vwap_dev", "vwap_dev"], "fold": [1, 2, 1, 2],
                          "is_score": [1.0, 0.5, 2.0, -0.1], "oos_score": [0.2, -0.3, 1.1, 0.4]})  # fmt: skip
    fig = view.folds_chart(folds, "sharpe").figure
    want = [["rsi", "rsi", "vwap_dev", "vwap_dev"], ["1", "2", "1", "2"]]
    assert [[list(level) for level in t.x] for t in fig.data] == [want, want]
    assert [list(t.y) for t in fig.data] == [[1.0, 0.5, 2.0, -0.1], [0.2, -0.3, 1.1, 0.4]]
    assert (fig.layout.xaxis.tickangle, fig.layout.xaxis.automargin) == (0, True)
    assert fig.layout.yaxis.title.text == "sharpe"
