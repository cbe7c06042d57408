"""Batch page: a tiny grid over two demo symbols run from the form (in this process and on a Dask
scheduler by address), what it shows against the saved runs, bad input as one line, the link
to Run history."""

from __future__ import annotations

import datetime as dt

import pytest

import phi.backtest.run_history as rh
from app_streamlit.views import batch
from tests.app.conftest import assert_clean, errors, html_text, start, tables


def _open():
    at = start()
    at.segmented_control(key="nav").set_value("Batch").run()
    assert_clean(at)
    return at


def _submit(at, **fields):
    values = {"symbols": "DEMO, DEMO2", "grid": "period=6,10", "where": "inline", **fields}
    at.selectbox(key=batch.WHERE).set_value(values["where"]).run()  # enables its own fields
    at.text_input(key=batch.SYMBOLS).set_value(values["symbols"])
    at.text_input(key=batch.GRID).set_value(values["grid"])
    if "scheduler" in values:
        at.text_input(key=batch.SCHEDULER).set_value(values["scheduler"])
    at.date_input(key=batch.START).set_value(dt.date(2023, 1, 1))
    at.date_input(key=batch.END).set_value(dt.date(2023, 12, 31))
    next(b for b in at.button if b.label == "Run batch").click()
    return at.run()


def _best(at):
    (table,) = [t for t in tables(at, "symbol", "run_id") if "status" not in t]
    return table


def test_before_a_batch_the_page_says_what_to_do():
    at = _open()
    assert any("press Run batch" in i.value for i in at.info)
    assert at.selectbox(key=batch.STRATEGY).value == "RSI" and at.text_input(key=batch.GRID).value == "period=7..28:7"
    assert "DEMO2" in at.text_input(key=batch.SYMBOLS).value


def test_only_the_fields_the_chosen_place_uses_are_editable():
    at = _open()
    expected = {"local": (False, True), "inline": (True, True), "scheduler": (True, False)}
    for where, (workers_off, scheduler_off) in expected.items():
        at.selectbox(key=batch.WHERE).set_value(where).run()
        assert_clean(at)
        assert at.number_input(key=batch.WORKERS).disabled is workers_off, where
        assert at.text_input(key=batch.SCHEDULER).disabled is scheduler_off, where


def test_a_tiny_grid_in_process_shows_the_best_per_symbol_of_the_saved_runs():
    at = _submit(_open())
    assert_clean(at)
    text = html_text(at)
    assert "configs" in text and "already saved" in text and "SYNTHETIC" in text
    saved = {r["run_id"]: rh.load_run(r["run_id"]) for r in rh.list_runs()}
    assert len(saved) == 4  # 2 symbols x 2 periods, each in the history
    best = _best(at)
    assert list(best["symbol"]) == ["DEMO", "DEMO2"]
    for _, row in best.iterrows():  # the best of each symbol's saved runs, by Sharpe
        mine = [s for s in saved.values() if s.config.dataset.symbol == row["symbol"]]
        top = max(mine, key=lambda s: s.metrics["sharpe"])
        assert row["run_id"] == top.run_id and row["period"] == top.config.indicators[0].params["period"]
        assert row["sharpe"] == pytest.approx(top.metrics["sharpe"])
        assert row["total_return"] == pytest.approx(100 * top.metrics["total_return"])  # shown in %
    (dist,) = tables(at, "over", "median")
    dist = dist.set_index("over")
    sharpes = sorted(s.metrics["sharpe"] for s in saved.values() if s.metrics["sharpe"] == s.metrics["sharpe"])
    assert dist.loc["all runs", "count"] == len(sharpes) and dist.loc["best/symbol", "count"] == 2
    assert dist.loc["all runs", "max"] == pytest.approx(sharpes[-1], abs=1e-3)
    assert dist.loc["all runs", "min"] == pytest.approx(sharpes[0], abs=1e-3)
    assert len(at.get("plotly_chart")) == 1
    again = _submit(at)  # the same batch again: nothing re-run, the same table
    assert "already saved" in html_text(again) and len(rh.list_runs()) == 4
    assert list(_best(again)["run_id"]) == list(best["run_id"])
    next(b for b in again.button if b.label == "Compare these runs in Run history").click()
    again.run()
    assert again.session_state["nav"] == "Run history" and again.session_state["hist:compare"] == list(best["run_id"])
    assert_clean(again)


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"grid": "period=28..7"}, "is empty"), ({"grid": "fast=1,2"}, "no parameter 'fast'"),
     ({"where": "scheduler", "scheduler": ""}, "no scheduler address")],
)  # fmt: skip
def test_bad_input_is_one_error_line_and_nothing_runs(fields, message):
    at = _submit(_open(), **fields)
    assert not at.exception
    (err,) = errors(at)
    assert message in err and "Traceback" not in err
    assert not rh.list_runs()


def test_a_grid_on_a_dask_scheduler_by_address():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:  # fmt: skip
        at = _submit(_open(), where="scheduler", scheduler=cluster.scheduler_address, grid="period=12")
    assert_clean(at)
    assert "worker(s)" in html_text(at) and cluster.scheduler_address in html_text(at)
    best = _best(at)
    assert list(best["symbol"]) == ["DEMO", "DEMO2"] and sorted(best["run_id"]) == sorted(r["run_id"] for r in rh.list_runs())


def test_runs_that_cannot_be_saved_are_still_ranked_without_a_run_id():
    from phi.paths import phi_home

    (phi_home() / "runs").write_text("a file where the runs folder belongs")
    at = _submit(_open())
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "were not saved" in w.value]
    assert warning.startswith("4 of 4 run(s) ran but were not saved:") and "They are ranked below" in warning
    best = _best(at)
    assert list(best["symbol"]) == ["DEMO", "DEMO2"] and best["run_id"].isna().all()
    assert at.button(key="batch:open").disabled  # nothing saved to open in Run history
