"""A kept field (ui.kept) whose value the page no longer offers: a preset gone from the list, a
worker count above this machine's bound, an indicator no longer registered. The page shows its
own default (or the choices still offered), not Streamlit's first option or minimum, and forgets
the stale value; two sessions never share kept values."""

from __future__ import annotations

import pytest

from app_streamlit import ui
from app_streamlit.views import batch
from app_streamlit.views import phiai as ai
from tests.app.conftest import assert_clean, start


def test_a_kept_preset_no_longer_listed_falls_back_to_the_page_default() -> None:
    at = start(nav="Batch", **{ui.KEPT + batch.STRATEGY: "A preset since deleted"})
    assert_clean(at)
    assert at.selectbox(key=batch.STRATEGY).value == "RSI"  # the page's default, not the list's first
    assert ui.KEPT + batch.STRATEGY not in at.session_state


def test_a_kept_worker_count_above_the_bound_falls_back_to_the_page_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import phi.batch.runner

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(phi.batch.runner, "max_local_workers", lambda: 3)  # kept 8 on a machine allowing 3
    at = start(nav="Batch", **{ui.KEPT + batch.WORKERS: 8})
    assert_clean(at)
    assert at.number_input(key=batch.WORKERS).value == 2  # min(2, cores 4, bound 3), not the minimum 1
    assert ui.KEPT + batch.WORKERS not in at.session_state


def test_a_widget_drawn_last_run_whose_options_shrank_takes_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    at = start(nav="Batch")
    at.selectbox(key=batch.STRATEGY).set_value("stochastic").run()  # the user's choice, kept
    assert_clean(at)
    names = [n for n in batch.strategies() if n != "stochastic"]
    monkeypatch.setattr(batch, "strategies", lambda: names)  # then it leaves the list
    at.run()
    assert_clean(at)
    assert at.selectbox(key=batch.STRATEGY).value == "RSI"
    assert ui.KEPT + batch.STRATEGY not in at.session_state


def test_kept_indicators_keep_those_still_registered() -> None:
    at = start(nav="PhiAI", **{ui.KEPT + ai.INDICATORS: ["rsi", "no_such_indicator"]})
    assert_clean(at)
    assert at.multiselect(key=ai.INDICATORS).value == ["rsi"]
    assert at.session_state[ui.KEPT + ai.INDICATORS] == ["rsi"]


def test_two_sessions_do_not_share_kept_values() -> None:
    one, two = start(nav="Batch"), start(nav="Batch")
    one.text_input(key=batch.SYMBOLS).set_value("ZZZ").run()
    one.selectbox(key=batch.STRATEGY).set_value("stochastic").run()
    two.run()
    assert_clean(one)
    assert_clean(two)
    assert two.text_input(key=batch.SYMBOLS).value == batch.DEFAULT_SYMBOLS
    assert two.selectbox(key=batch.STRATEGY).value == "RSI"
    assert ui.KEPT + batch.SYMBOLS not in two.session_state
    assert one.session_state[ui.KEPT + batch.SYMBOLS] == "ZZZ"
