"""Daily bars of a portfolio line up by session date, whatever time of day or zone they are stamped in.

A daily symbol stamped at midnight beside one stamped at a 21:00 close, or a New York-zoned
daily symbol beside a UTC one, share one row per date (the old union of stamps gave two rows
a day, each symbol 'missing' every other one, and filled one symbol at the open of the day
whose close the other had just shown). Checked by hand: fills at the next date's opens,
equity = cash + units x close. A 7-day symbol beside a 5-day one adds weekend rows only it
trades on; the signal at date t still sees no bar after t; daily beside intraday is refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.portfolio import align_sessions, run_portfolio
from phi.errors import EngineError
from tests.backtest.test_portfolio_frequency import _bars  # bars from opens and closes

CAP = 100_000.0
DATES = pd.bdate_range("2024-03-04", periods=10)  # Mon 4 Mar .. Fri 15 Mar (US DST starts 10 Mar)


def _a(idx: pd.DatetimeIndex) -> pd.DataFrame:  # opens 100, 101, ...; closes 0.5 higher
    n = len(idx)
    return _bars(idx, 100.0 + np.arange(n), 100.5 + np.arange(n))


def _b(idx: pd.DatetimeIndex) -> pd.DataFrame:  # opens 50, 49, ...; closes 0.25 lower
    n = len(idx)
    return _bars(idx, 50.0 - np.arange(n), 49.75 - np.arange(n))


def _by_hand(n: int) -> np.ndarray:
    """0.5 / 0.5 decided at date 0's close, zero costs: both fill at date 1's opens
    (A 101, B 49) with E = 100 000; equity = units x close from date 1 on."""
    ua, ub = 0.5 * CAP / 101.0, 0.5 * CAP / 49.0
    eq = ua * (100.5 + np.arange(n)) + ub * (49.75 - np.arange(n))
    eq[0] = CAP
    return eq


def _check(res, n: int, date_index: pd.DatetimeIndex) -> None:
    assert len(res.equity) == n
    assert res.equity.index.equals(date_index)
    assert res.equity.to_numpy() == pytest.approx(_by_hand(n), rel=1e-12)
    f = res.fills.set_index("symbol")
    assert f.loc["A", "price"] == 101.0 and f.loc["B", "price"] == 49.0
    assert f.loc["A", "time"] == f.loc["B", "time"] == date_index[1]
    assert {s: m["missing_bars"] for s, m in res.missing_data.items()} == {"A": 0, "B": 0}


def test_midnight_beside_a_21h_close_gives_one_row_per_date():
    utc = DATES.tz_localize("UTC")
    a, b = _a(utc), _b(utc + pd.Timedelta(hours=21))
    w = pd.DataFrame(0.5, index=utc, columns=["A", "B"])
    _check(run_portfolio({"A": a, "B": b}, w), len(DATES), utc)
    # the same with both at midnight (the reference layout)
    _check(run_portfolio({"A": a, "B": _b(utc)}, w), len(DATES), utc)


def test_weights_on_the_21h_stamps_are_read_on_their_dates():
    utc = DATES.tz_localize("UTC")
    b_idx = utc + pd.Timedelta(hours=21)
    res = run_portfolio({"A": _a(utc), "B": _b(b_idx)}, pd.DataFrame(0.5, index=b_idx, columns=["A", "B"]))
    _check(res, len(DATES), utc)
    two = pd.DataFrame(0.5, index=utc.append(b_idx[:1]).sort_values(), columns=["A", "B"])
    _check(run_portfolio({"A": _a(utc), "B": _b(b_idx)}, two), len(DATES), utc)  # agreeing rows merge
    two.iloc[1, 1] = 0.3
    with pytest.raises(EngineError, match="two different rows on the session date 2024-03-04"):
        run_portfolio({"A": _a(utc), "B": _b(b_idx)}, two)


def test_new_york_daily_beside_utc_daily_across_a_dst_change():
    """yfinance's daily stamps: midnight New York (05:00 / 04:00 UTC around 10 Mar)."""
    utc, ny = DATES.tz_localize("UTC"), DATES.tz_localize("America/New_York")
    res = run_portfolio({"A": _a(ny), "B": _b(utc)}, pd.DataFrame(0.5, index=utc, columns=["A", "B"]))
    _check(res, len(DATES), utc)
    # New York stamps at the 16:00 close beside the UTC ones
    close_ny = ny + pd.Timedelta(hours=16)
    res = run_portfolio({"A": _a(close_ny), "B": _b(utc)}, pd.DataFrame(0.5, index=utc, columns=["A", "B"]))
    _check(res, len(DATES), utc)


def test_utc_midnight_bars_shown_in_new_york_time_keep_their_dates():
    """00:00 UTC is 19:00 / 20:00 New York time the day before: the same bars, not a day early."""
    utc = DATES.tz_localize("UTC")
    res = run_portfolio({"A": _a(utc.tz_convert("America/New_York")), "B": _b(utc)},
                        pd.DataFrame(0.5, index=utc, columns=["A", "B"]))  # fmt: skip
    _check(res, len(DATES), utc)


def test_seven_day_symbol_beside_a_five_day_one():
    """Crypto C every calendar day (UTC), stock S on weekdays stamped 16:00 New York. Rows: the
    14 calendar dates (to Sun 17 Mar); S lacks the weekend 9-10 Mar and ends on Fri 15 Mar. 0.5 / 0.5 at Mon 4 Mar's
    close: both fill at Tue 5 Mar's opens; on Sat 9 Mar S is marked at Friday's close."""
    cal = pd.date_range("2024-03-04", periods=14, tz="UTC")
    c = _bars(cal, 200.0 + np.arange(14.0), 201.0 + np.arange(14.0))  # open 200+i, close 201+i
    s_idx = DATES.tz_localize("America/New_York") + pd.Timedelta(hours=16)
    s = _b(s_idx)  # open 50 - j, close 49.75 - j on weekday j
    res = run_portfolio({"C": c, "S": s}, pd.DataFrame(0.5, index=cal[:1], columns=["C", "S"]))
    assert res.equity.index.equals(cal)
    assert res.missing_data["S"]["missing_bars"] == 2 and res.missing_data["S"]["bars_after_last"] == 2
    assert res.missing_data["C"]["missing_bars"] == 0
    uc, us = 0.5 * CAP / 201.0, 0.5 * CAP / 49.0
    f = res.fills.set_index("symbol")
    assert f.loc["C", "time"] == f.loc["S", "time"] == cal[1]
    assert f.loc["C", "units"] == pytest.approx(uc, rel=1e-12) and f.loc["S", "units"] == pytest.approx(us, rel=1e-12)
    sat = 5  # Sat 9 Mar; S's last close before it is Fri 8 Mar's (weekday 4: 45.75)
    assert res.equity.iloc[sat] == pytest.approx(uc * 206.0 + us * 45.75, rel=1e-12)
    assert res.equity.iloc[7] == pytest.approx(uc * 208.0 + us * 44.75, rel=1e-12)  # Mon 11 Mar


def test_a_signal_sees_every_close_up_to_its_date_and_fills_next_date():
    """Weights from the closes up to t only (B above its first close -> hold A) give the same
    fills and equity up to T on the bars cut at T; B's fill is never at an open on or before
    the date whose close decided it (the old layout filled B at the open of A's decision date)."""
    utc = DATES.tz_localize("UTC")
    bars = {"A": _a(utc), "B": _bars(utc + pd.Timedelta(hours=21), 50.0 + np.r_[0, 1, -1, 2, -2, 3, -3, 4, -4, 5],
                                     50.0 + np.r_[1, -1, 2, -2, 3, -3, 4, -4, 5, -5.0])}  # fmt: skip

    def weights(bs: dict[str, pd.DataFrame]) -> pd.DataFrame:
        closes = pd.DataFrame({k: v["close"] for k, v in align_sessions(bs).items()})
        up = (closes["B"] > closes["B"].iloc[0]).astype(float)
        return pd.DataFrame({"A": 1.0 - up, "B": up})

    full = run_portfolio(bars, weights(bars), {"rebalance": "every_bar"})
    assert len(full.equity) == len(DATES)
    for t in (3, 6, 8):
        cut = {k: v.iloc[: t + 1] for k, v in bars.items()}
        part = run_portfolio(cut, weights(cut), {"rebalance": "every_bar"})
        assert part.equity.to_numpy() == pytest.approx(full.equity.iloc[: t + 1].to_numpy(), rel=1e-12)
    fills = full.fills
    assert (pd.DatetimeIndex(fills["time"]) > pd.DatetimeIndex(fills["decision_time"])).all()
    b = fills[fills["symbol"] == "B"].iloc[0]  # B up first at date 2's close (52 > 51): fills date 3
    assert b["decision_time"] == utc[2] and b["time"] == utc[3] and b["price"] == 52.0


def test_daily_beside_intraday_is_still_refused():
    ny = DATES.tz_localize("America/New_York")
    hours = pd.date_range("2024-03-04 14:30", periods=40, freq="h", tz="UTC")
    with pytest.raises(EngineError, match="one bar frequency"):
        run_portfolio({"A": _a(ny), "H": _b(hours)}, pd.DataFrame(0.5, index=ny, columns=["A"]))


def test_intraday_bars_keep_their_stamps():
    h = pd.date_range("2024-03-04 14:30", periods=6, freq="h", tz="UTC")
    out = align_sessions({"A": _a(h), "B": _b(h + pd.Timedelta(minutes=30))})
    assert out["A"].index.equals(h) and out["B"].index.equals(h + pd.Timedelta(minutes=30))


def test_a_bars_session_date_never_depends_on_the_bars_after_it():
    """New York bars stamped 19:00 all year: 19:00 EST is 00:00 UTC, 19:00 EDT is not. The date of
    each stamp is decided on its own: a winter stamp takes its UTC date (the next day, a lag,
    never a date before its local one), a summer stamp its New York date; cut anywhere, the
    index gets the same dates (the rule read the whole index before, so a January-February run
    dated 3 January's bar 4 January and a January-June run 3 January)."""
    from phi.backtest.portfolio import session_dates

    ny = pd.bdate_range("2023-01-02", "2023-06-30").tz_localize("America/New_York") + pd.Timedelta(hours=19)
    full = session_dates(ny)
    for k in (1, 20, 40, 48, 49, 50, 100, len(ny)):
        assert session_dates(ny[:k]).equals(full[:k]), k
    assert full[0] == pd.Timestamp("2023-01-03", tz="UTC")  # Mon 2 Jan 19:00 EST = Tue 3 Jan 00:00 UTC
    summer = list(ny).index(pd.Timestamp("2023-03-13 19:00", tz="America/New_York"))
    assert full[summer] == pd.Timestamp("2023-03-13", tz="UTC")  # 23:00 UTC: its own date
    assert full.is_unique and (full >= ny.tz_localize(None).normalize().tz_localize("UTC")).all()
