"""The ledger's ``entry_note``: a signal already past the entry threshold when trading can
start opens nothing there (entries happen on crossings, DESIGN §4), and the result says so.

Every expectation is worked by hand from the crossing rule ``prev <= thr < cur`` (long),
``prev >= -thr > cur`` (short), a NaN on either bar being no cross, and next-open fills.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import EngineConfig, run_backtest, run_backtest_many

N = 30
IDX = pd.bdate_range("2015-03-02", periods=N, tz="UTC")  # Mon 2 Mar 2015, business days


def _bars() -> pd.DataFrame:
    c = np.linspace(100.0, 110.0, N)
    return pd.DataFrame({"open": c, "high": c + 1, "low": c - 1, "close": c, "volume": 1.0}, index=IDX)


def _run(sig: pd.Series, **cfg: object):
    res = run_backtest(_bars(), sig, EngineConfig(entry_threshold=0.5, **cfg))  # type: ignore[arg-type]
    assert not isinstance(res, list)
    return res


def test_a_constant_plus_one_never_enters_and_the_ledger_says_why() -> None:
    res = _run(pd.Series(1.0, index=IDX))
    # bar 0 has no previous bar, so bar 1 (Tue 3 Mar) is the first that could see a cross
    assert res.assumptions["entry_note"] == (
        "the signal was already above the entry threshold 0.5 at the first tradable bar 2015-03-03 "
        "(signal 1 there, 1 on the bar before); entries happen on crossings (prev <= 0.5 < cur), "
        "so no long position was opened there; no position was opened in the whole run"
    )
    assert res.trades.empty and res.metrics["final_equity"] == 100_000.0  # nothing changed


def test_after_a_nan_warm_up_the_note_names_the_first_bar_with_two_values_and_the_first_entry() -> None:
    sig = pd.Series(1.0, index=IDX)
    sig.iloc[:3] = np.nan  # first value at bar 3 (Thu 5 Mar): bar 4 (Fri 6 Mar) is the first tradable bar
    sig.iloc[10] = 0.2  # dips below (bar 10, Mon 16 Mar) and crosses back up at bar 11 (Tue 17 Mar)
    res = _run(sig)
    assert res.assumptions["entry_note"] == (
        "the signal was already above the entry threshold 0.5 at the first tradable bar 2015-03-06 "
        "(signal 1 there, 1 on the bar before); entries happen on crossings (prev <= 0.5 < cur), "
        "so no long position was opened there; the first trade entered at 2015-03-18"  # bar 12's open
    )
    assert list(res.trades["entry_bar"]) == [12] and list(res.trades["side"]) == ["long"]
    closing = _run(sig, fill="close")  # filled at the crossing bar's own close
    assert str(closing.assumptions["entry_note"]).endswith("the first trade entered at 2015-03-17")


def test_the_warm_up_moves_the_first_tradable_bar() -> None:
    res = _run(pd.Series(0.9, index=IDX), warmup_bars=5)  # decisions from bar 5 (Mon 9 Mar)
    assert "at the first tradable bar 2015-03-09 (signal 0.9 there, 0.9 on the bar before)" in str(
        res.assumptions["entry_note"]
    )


def test_a_short_signal_past_minus_the_threshold_is_noted_only_when_shorts_are_allowed() -> None:
    sig = pd.Series(-1.0, index=IDX)
    res = _run(sig, allow_short=True)
    assert res.assumptions["entry_note"] == (
        "the signal was already below the short entry threshold -0.5 at the first tradable bar "
        "2015-03-03 (signal -1 there, -1 on the bar before); entries happen on crossings "
        "(prev >= -0.5 > cur), so no short position was opened there; no position was opened in "
        "the whole run"
    )
    assert "entry_note" not in _run(sig).assumptions  # long only: -1 is no entry to miss


@pytest.mark.parametrize(
    "start",
    [
        [0.0, 1.0],  # crosses on bar 1: enters
        [0.5, 0.6],  # at the threshold is not past it: 0.5 <= 0.5 < 0.6 is a cross
        [1.0, 0.2],  # past it, then back below on the first tradable bar: no entry was due there
        [1.0, -1.0],  # long side then short side (long only): nothing due on bar 1
    ],
)
def test_no_note_when_nothing_was_skipped_at_the_start(start: list[float]) -> None:
    sig = pd.Series(0.0, index=IDX)
    sig.iloc[: len(start)] = start
    assert "entry_note" not in _run(sig).assumptions


def test_an_entry_on_the_first_tradable_bar_is_unchanged() -> None:
    sig = pd.Series(1.0, index=IDX)
    sig.iloc[0] = 0.0  # 0 <= 0.5 < 1 at bar 1: the long fills at bar 2's open
    res = _run(sig)
    assert "entry_note" not in res.assumptions and list(res.trades["entry_bar"]) == [2]


def test_an_all_nan_or_one_bar_signal_has_no_note() -> None:
    assert "entry_note" not in _run(pd.Series(np.nan, index=IDX)).assumptions
    one = pd.Series(np.nan, index=IDX)
    one.iloc[-1] = 1.0  # a single value: no bar ever has two
    assert "entry_note" not in _run(one).assumptions


def test_each_column_of_a_2d_signal_gets_its_own_note_and_the_sweep_is_unchanged() -> None:
    sigs = pd.DataFrame({"flat_plus": 1.0, "from_zero": 0.0}, index=IDX)
    sigs.iloc[5:, 1] = 1.0  # crosses at bar 5
    a, b = run_backtest(_bars(), sigs, EngineConfig(entry_threshold=0.5))  # type: ignore[misc]
    assert "no position was opened in the whole run" in str(a.assumptions["entry_note"])
    assert "entry_note" not in b.assumptions
    sweep = run_backtest_many(_bars(), sigs, EngineConfig(entry_threshold=0.5))
    assert list(sweep["n_trades"] + sweep["n_open_trades"]) == [0, 1]  # same trades as the full runs
