"""Defects found by re-checking the workbench as a trader would, with hostile input (issues 05
and 07): each test is one defect and the single message the page now shows instead."""

from __future__ import annotations

import datetime as dt

from phi.backtest.run_history import delete_run, list_runs
from tests.app.conftest import errors, run_backtest, start, warnings_

BATCH_GO = "batch:go"


def _infos(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.value for i in at.info]


def test_clicking_a_run_deleted_elsewhere_acts_on_no_other_run_and_says_which_left():
    at = start()
    run_backtest(at)
    run_backtest(at)
    (newest, oldest) = [r["run_id"] for r in list_runs()]
    at.session_state["nav"] = "Run history"
    at.run()
    at.selectbox(key="hist:selected").set_value(newest).run()
    delete_run(newest)  # phi runs delete, while the page still shows that run picked
    at.button(key="hist:rerun").click().run()  # was: re-ran the other run, silently
    assert not at.exception and not errors(at)
    gone = [i for i in _infos(at) if i.startswith("No longer in the run history")]
    assert len(gone) == 1 and newest in gone[0]
    assert [r["run_id"] for r in list_runs()] == [oldest]  # nothing re-run in its place
    at.run()  # said once: the next draw is quiet and the buttons work on what is shown
    assert not [i for i in _infos(at) if i.startswith("No longer")]


def test_a_compared_run_deleted_elsewhere_is_named_not_dropped_silently():
    at = start()
    for _ in range(3):
        run_backtest(at)
    ids = [r["run_id"] for r in list_runs()]
    at.session_state["nav"] = "Run history"
    at.run()
    at.multiselect(key="hist:compare").set_value(ids).run()
    delete_run(ids[1])
    at.run()
    assert not at.exception and not errors(at)
    gone = [i for i in _infos(at) if i.startswith("No longer in the run history")]
    assert len(gone) == 1 and ids[1] in gone[0] and ids[0] not in gone[0]


def test_a_batch_no_config_of_which_can_run_is_one_error_before_anything_runs():
    at = start()
    at.session_state["nav"] = "Batch"
    at.run()
    at.date_input(key="batch:start").set_value(dt.date(2024, 1, 1))
    at.date_input(key="batch:end").set_value(dt.date(2020, 1, 1))
    at.button(key=BATCH_GO).click().run()  # was: one warning per symbol after a batch of failures
    assert not at.exception and not warnings_(at)
    assert errors(at) == ["no config of this batch can run: dataset.start 2024-01-01 is after dataset.end 2020-01-01; swap them"]
    assert list_runs() == []


def test_a_batch_reason_shared_by_many_configs_is_one_line():
    at = start()
    at.session_state["nav"] = "Batch"
    at.run()
    at.text_input(key="batch:symbols").set_value("DEMO, DEMO2, DEMO3")
    at.text_input(key="batch:grid").set_value("period=abc,14")
    at.selectbox(key="batch:where").set_value("inline")
    at.button(key=BATCH_GO).click().run()
    assert not at.exception and not errors(at)
    assert warnings_(at) == ["3 configs failed: period=abc: indicators[0].params: rsi_band: parameter 'period' must be int, got str 'abc'"]
    assert len(list_runs()) == 3  # the valid combination ran for every symbol


def test_phiai_with_every_indicator_unpicked_says_so_and_tunes_nothing():
    at = start()
    at.session_state["nav"] = "PhiAI"
    at.run()
    at.multiselect(key="ai:indicators").set_value([])
    at.button(key="ai:go").click().run()  # was: tuned Step 2's rsi+macd silently
    assert not at.exception
    assert errors(at) == ["Cannot start PhiAI: no indicator to tune: choose at least one, or switch to full auto"]
    assert not at.success


def _head_to_head(at, **form):  # type: ignore[no-untyped-def]
    import phi.strategies as strategies
    from app_streamlit.views import backtests as view

    for p in strategies.list():
        at.checkbox(key=view.pick(p.key)).set_value(p.name in ("BuyAndHold", "RSI"))
    at.date_input(key=view.START).set_value(dt.date(2023, 1, 1))
    at.text_input(key=view.BENCHMARK).set_value("")
    for key, value in form.items():
        at.date_input(key=key).set_value(value) if "start" in key or "end" in key else at.text_input(key=key).set_value(value)
    at.button(key="bt:go").click().run()
    return at


def test_a_head_to_head_is_marked_stale_when_a_card_or_the_dataset_changes_or_a_rerun_fails():
    from app_streamlit.views import backtests as view

    at = start()
    at.session_state["nav"] = "Backtests"
    at.run()
    _head_to_head(at)
    assert not at.exception and not errors(at) and not warnings_(at)
    at.checkbox(key=view.pick("macd")).set_value(True).run()  # was: the old table, unmarked
    assert warnings_(at) == ["Previous head to head shown — the page now differs: added MACD. Press Run head to head to update."]
    at.checkbox(key=view.pick("macd")).set_value(False).run()
    assert not warnings_(at)
    _head_to_head(at, **{view.START: dt.date(2025, 1, 1), view.END: dt.date(2024, 1, 1)})  # end before start
    assert errors(at) == ["dataset.start 2025-01-01 is after dataset.end 2024-01-01; swap them"]
    (stale,) = warnings_(at)
    assert stale.startswith("Previous head to head shown — the last Run head to head failed (the reason is above); ")
    assert "start 2025-01-01 (run: 2023-01-01)" in stale
    at.segmented_control(key="nav").set_value("Workbench").run()
    at.segmented_control(key="nav").set_value("Backtests").run()  # a trip to another page changes nothing
    (stale,) = warnings_(at)
    assert stale.startswith("Previous head to head shown — the last Run head to head failed; the page now differs: ")


def test_a_phiai_result_is_marked_stale_when_step_4_changes_or_a_new_search_is_refused():
    at = start()
    at.session_state["nav"] = "PhiAI"
    at.run()
    at.number_input(key="ai:trials").set_value(5)
    at.button(key="ai:go").click().run()
    assert not at.exception and at.success and not [w for w in warnings_(at) if w.startswith("Previous")]
    at.session_state["ex:commission_pct"] = 0.5  # Step 4 (the search's engine) edited since: was unmarked
    at.run()
    (stale,) = [w for w in warnings_(at) if w.startswith("Previous")]
    assert "execution commission_pct 0.005 (run: " in stale and stale.endswith("Press Run PhiAI to update.")
    at.multiselect(key="ai:indicators").set_value([])
    at.button(key="ai:go").click().run()
    assert errors(at) == ["Cannot start PhiAI: no indicator to tune: choose at least one, or switch to full auto"]
    (stale,) = [w for w in warnings_(at) if w.startswith("Previous")]
    assert stale.startswith("Previous PhiAI result shown — the last Run PhiAI failed (the reason is above); ")
    assert "indicators to tune none (run: rsi, macd)" in stale


def test_the_options_pnl_by_greek_reads_as_cash_with_thousands_separators():
    import json

    from tests.app.conftest import open_tab

    at = start()
    at.segmented_control(key="op:mode").set_value("options").run()
    run_backtest(at)
    at = open_tab(at, "Options")
    assert not at.exception and not errors(at)
    (table,) = [d for d in at.dataframe if "pnl" in set(map(str, d.value.columns))]
    cols = json.loads(table.proto.columns)
    assert cols["pnl"]["type_config"]["format"] == "accounting"  # was "%.2f": -5163.41 beside KPIs reading -10,743.09
    assert cols["component"]["width"] == "medium"  # "net = equity change" was cut off


def test_the_cache_manager_counts_rows_with_thousands_separators():
    import json

    at = start()  # the demo dataset is fetched and cached on the first run
    at.session_state["nav"] = "Cache manager"
    at.run()
    (table,) = [d for d in at.dataframe if "rows" in set(map(str, d.value.columns))]
    assert json.loads(table.proto.columns)["rows"]["type_config"]["format"] == "localized"  # was 1305, now 1,305


def test_the_scanner_table_shows_every_score_with_three_decimals():
    import json

    at = start()
    at.session_state["nav"] = "Scanner"
    at.run()
    at.text_input(key="scan:symbols").set_value("DEMO, DEMO2")
    at.button(key="scan:go").click().run()
    assert not at.exception and not errors(at)
    (table,) = [d for d in at.dataframe if "score" in set(map(str, d.value.columns))]
    cols = json.loads(table.proto.columns)
    for col in ("score", "composite", "confidence", "field conf.", "consensus", "liquidity", "its prob."):
        assert cols[col]["type_config"]["format"] == "%.3f", col  # was 0.16 beside 0.097


def test_a_new_chain_file_clears_the_refusal_that_named_the_previous_one():
    at = start()
    at.segmented_control(key="op:mode").set_value("options").run()
    at.file_uploader(key="op:chain_upload").upload("empty.csv", b"", "text/csv").run()
    run_backtest(at)
    assert any(e.startswith("Cannot run: option chain 'empty.csv'") for e in errors(at))
    at.file_uploader(key="op:chain_upload").upload("cols.csv", b"a,b\n1,2\n", "text/csv").run()
    assert not at.exception  # was: the sidebar still refused 'empty.csv' beside the new file's error
    assert errors(at) == ["option chain 'cols.csv': no column 'date' (needs date, expiry, strike, kind, bid, ask)"]
