"""Backtests page, the "Run" picker under a head to head: hostile states. A run deleted from
the run history (or whose folder was damaged) after the head to head, a kept pick the page no
longer offers, a trip to another page, every run gone. The picker keeps the user's pick through
:func:`app_streamlit.ui.kept` (a stale one falls back to the best run); a deleted or damaged run
is one line on the page, never opened in silence."""

from __future__ import annotations

import pytest

import phi.strategies as strategies
from app_streamlit import forms, ui
from app_streamlit.views import backtests as view
from phi.backtest import run_history as rh
from tests.app.conftest import assert_clean, errors, start

CHOSEN = ("BuyAndHold", "RSI")


@pytest.fixture
def ran():
    """The Backtests page after a head to head of CHOSEN on the demo data (no benchmark)."""
    at = start()
    at.segmented_control(key="nav").set_value("Backtests").run()
    for p in strategies.list():
        at.checkbox(key=view.pick(p.key)).set_value(p.name in CHOSEN)
    at.text_input(key=view.BENCHMARK).set_value("")
    at.button[[b.label for b in at.button].index("Run head to head")].click().run()
    assert_clean(at)
    return at


def _ids(at):
    """Run ids of the comparison by preset name, best first (the table's order)."""
    cmp = at.session_state[view.RESULT]
    return {r.preset.name: r.run_id for r in cmp.runs}, [str(r) for r in cmp.table["run_id"]]


def _texts(at):
    return [e.value for e in (*at.info, *at.warning, *at.error)]


def test_the_pick_survives_a_trip_to_another_page(ran):
    ids, best_first = _ids(ran)
    worst = best_first[-1]
    ran.selectbox(key=view.OPEN_RUN).set_value(worst).run()
    ran.segmented_control(key="nav").set_value("History").run()
    ran.segmented_control(key="nav").set_value("Backtests").run()
    assert_clean(ran)
    assert ran.selectbox(key=view.OPEN_RUN).value == worst


def test_a_kept_pick_no_longer_offered_falls_back_to_the_best_run(ran):
    _, best_first = _ids(ran)
    # a pick from an older head to head (its run is not in this one)
    ran.session_state[ui.KEPT + view.OPEN_RUN] = "20200101-000000-000-abcdef"
    ran.segmented_control(key="nav").set_value("History").run()
    ran.segmented_control(key="nav").set_value("Backtests").run()
    assert_clean(ran)
    assert ran.selectbox(key=view.OPEN_RUN).value == best_first[0]
    assert ran.selectbox(key=view.OPEN_RUN).options == [f"{n} · {r}" for n, r in _named(ran, best_first)]


def _named(at, order):
    ids, _ = _ids(at)
    by_id = {r: n for n, r in ids.items()}
    return [(by_id[r], r) for r in order]


def test_a_picked_run_deleted_from_the_history_is_one_line_and_not_offered(ran):
    ids, best_first = _ids(ran)
    ran.selectbox(key=view.OPEN_RUN).set_value(ids["RSI"]).run()
    rh.delete_run(ids["RSI"])  # elsewhere: the History page, another tab, phi runs delete
    ran.run()
    assert not ran.exception
    said = [t for t in _texts(ran) if ids["RSI"] in t]
    assert len(said) == 1 and "RSI" in said[0] and "no longer in the run history" in said[0].lower(), _texts(ran)
    picker = ran.selectbox(key=view.OPEN_RUN)
    assert picker.options == [f"BuyAndHold · {ids['BuyAndHold']}"]
    assert picker.value == ids["BuyAndHold"]
    # Open acts on the run shown, never on the deleted one
    ran.button(key=view.OPEN).click().run()
    assert_clean(ran)
    assert ran.session_state[forms.NAV] == "Workbench"
    assert ids["BuyAndHold"] in " ".join(s.value for s in ran.success)


def test_a_damaged_run_is_one_error_and_nothing_is_opened(ran):
    ids, _ = _ids(ran)
    rid = ids["RSI"]
    with open(rh.run_dir(rid) / "trades.csv", "ab") as f:  # cut/changed after the save
        f.write(b"garbage\n")
    ran.selectbox(key=view.OPEN_RUN).set_value(rid).run()
    ran.button(key=view.OPEN).click().run()
    assert not ran.exception
    assert ran.session_state[forms.NAV] == "Backtests"
    assert forms.RUN_RESULT not in ran.session_state
    assert not ran.success
    shown = [e for e in errors(ran) if rid in e]
    assert len(shown) == 1 and "trades.csv" in shown[0], errors(ran)
    assert "Traceback" not in shown[0] and "\n" not in shown[0]


def test_every_run_deleted_leaves_no_picker_and_one_line(ran):
    ids, _ = _ids(ran)
    for rid in ids.values():
        rh.delete_run(rid)
    ran.run()
    assert not ran.exception
    assert not [s for s in ran.selectbox if s.key == view.OPEN_RUN]
    assert not [b for b in ran.button if b.key == view.OPEN]
    said = [t for t in _texts(ran) if all(r in t for r in ids.values())]
    assert len(said) == 1, _texts(ran)
    # the head to head itself is still shown: its table is what was run
    assert any("strategy" in map(str, d.value.columns) for d in ran.dataframe)


def test_a_pick_from_the_previous_head_to_head_takes_the_new_best_run(ran):
    ids, _ = _ids(ran)
    ran.selectbox(key=view.OPEN_RUN).set_value(ids["BuyAndHold"]).run()
    ran.button[[b.label for b in ran.button].index("Run head to head")].click().run()  # new runs, new ids
    assert_clean(ran)
    new, best_first = _ids(ran)
    assert ids["BuyAndHold"] not in best_first
    assert ran.selectbox(key=view.OPEN_RUN).value == best_first[0]
    assert ran.session_state.get(ui.KEPT + view.OPEN_RUN) in (None, best_first[0])
