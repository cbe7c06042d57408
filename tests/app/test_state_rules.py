"""One source of truth: the results on screen belong to the form, or say they do not and what
differs; Run runs what the form shows (loading its dataset first, or refusing in one line); a
failed run saves nothing and clears nothing typed; an error goes when its cause is fixed."""

from __future__ import annotations

import datetime as dt

import pytest

from phi.backtest.run_history import list_runs, load_run
from tests.app.conftest import (
    assert_clean,
    errors,
    html_text,
    run_backtest,
    start,
    successes,
    warnings_,
)


@pytest.fixture
def ran():
    at = start()
    run_backtest(at)
    assert_clean(at)
    assert len(list_runs()) == 1
    return at


def _stale(at) -> list[str]:
    return [w for w in warnings_(at) if w.startswith("Previous run shown")]


def test_fresh_results_are_not_marked(ran):
    assert not _stale(ran)
    assert "rsi+macd · DEMO 1D · 2020–2024 · #1" in html_text(ran)


def test_a_setting_changed_after_the_run_marks_the_results_then_run_clears_it(ran):
    ran.slider(key="ex:entry_threshold").set_value(0.3).run()
    (stale,) = _stale(ran)
    assert "engine.entry_threshold 0.3 (run: 0.1)" in stale
    run_backtest(ran)
    assert_clean(ran)
    assert not _stale(ran)
    assert load_run(list_runs()[0]["run_id"]).config.engine.entry_threshold == 0.3


def test_symbol_edit_without_refetch_runs_on_the_forms_dataset(ran):
    ran.text_input(key="ds:symbol").set_value("XYZ").run()
    assert any("symbol XYZ instead of DEMO" in w for w in _stale(ran))
    assert "Run loads the form's dataset first" in html_text(ran)
    run_backtest(ran)  # no Fetch click: Run loads XYZ itself
    assert_clean(ran)
    newest = load_run(list_runs()[0]["run_id"])
    assert newest.config.dataset.symbol == "XYZ"
    assert "XYZ · demo · 1D" in html_text(ran) and not _stale(ran)


def test_end_before_start_then_run_refuses_and_saves_nothing(ran):
    ran.date_input(key="ds:start").set_value(dt.date(2024, 6, 1))
    ran.date_input(key="ds:end").set_value(dt.date(2024, 1, 1)).run()
    run_backtest(ran)
    assert not ran.exception
    (msg,) = [e for e in errors(ran) if e.startswith("Cannot run")]
    assert "under the dataset form" in msg  # the reason itself is said once, next to the dates
    assert [e for e in errors(ran) if "after end" in e] == ["start 2024-06-01 is after end 2024-01-01; swap them"]
    assert len(list_runs()) == 1  # nothing saved
    assert ran.date_input(key="ds:start").value == dt.date(2024, 6, 1)  # nothing typed is lost
    assert any("last Run failed" in w for w in _stale(ran))  # the results say they are the previous run's
    # fixing the cause removes the error without another click
    ran.date_input(key="ds:start").set_value(dt.date(2023, 1, 2)).run()
    assert not [e for e in errors(ran) if e.startswith("Cannot run")]


def test_failed_run_then_a_different_dataset(ran):
    # a range too short for the indicators' warm-up: the run fails, nothing is saved
    ran.date_input(key="ds:start").set_value(dt.date(2024, 12, 20)).run()
    run_backtest(ran)
    assert not ran.exception
    (failed,) = [e for e in errors(ran) if e.startswith("Run failed")]
    assert "Nothing was saved" in failed
    assert len(list_runs()) == 1
    (stale,) = _stale(ran)
    assert "last Run failed" in stale and "start 2024-12-20 instead of 2020-01-01" in stale
    # another dataset: the old error goes, and the run on it replaces the results
    ran.date_input(key="ds:start").set_value(dt.date(2022, 1, 3))
    ran.text_input(key="ds:symbol").set_value("OTHER").run()
    assert not [e for e in errors(ran) if e.startswith("Run failed")]
    run_backtest(ran)
    assert_clean(ran)
    assert not _stale(ran)
    assert load_run(list_runs()[0]["run_id"]).config.dataset.symbol == "OTHER"
    assert any("OTHER 1D · 2022–2024" in s for s in successes(ran))


def test_a_result_that_could_not_be_saved_says_so(monkeypatch):
    import phi.pipeline

    real = phi.pipeline.run

    def unsaved(config, *, save=True, progress=None, **kw):
        res = real(config, save=False, progress=progress, **kw)
        res.save_error = "disk full"  # what the run-history layer reports when saving fails
        return res

    monkeypatch.setattr(phi.pipeline, "run", unsaved)
    at = start()
    run_backtest(at)
    assert not at.exception
    # the reason once, above the results; the sidebar says the run finished and points at it
    assert [w for w in warnings_(at) if "disk full" in w] == [
        "Not saved to the run history: disk full. These results are complete — export them below."
    ]
    assert any("not saved (the reason is above the results)" in i.value for i in at.info)
    assert "run id not saved" in html_text(at)
    assert list_runs() == []


def test_no_network_is_said_plainly_and_the_loaded_dataset_named(app, monkeypatch):
    from phi.data.vendors import yfinance_vendor

    def offline(*a, **k):
        raise RuntimeError(
            "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
            "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
        )

    monkeypatch.setattr(yfinance_vendor, "request_history", offline)
    app.selectbox(key="ds:vendor").set_value("yfinance")
    app.text_input(key="ds:symbol").set_value("AAPL").run()
    app.button(key="ds:fetch").click().run()
    assert not app.exception
    (msg,) = errors(app)
    assert msg.startswith("Could not reach Yahoo Finance — no network?")
    assert "Still loaded: DEMO 1D 2020-01-01 .. 2024-12-31 (demo)." in msg
    assert "DEMO · demo · 1D" in html_text(app)  # the demo chart stays, named as what is loaded
    app.text_input(key="ds:symbol").set_value("MSFT").run()  # another request: the old error goes
    assert not errors(app)
