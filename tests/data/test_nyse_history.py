"""The "exchange" calendar against NYSE history: exchange_calendars' XNYS (day by day,
1950-2030) and hand-checked dates.

References: ``exchange_calendars`` (XNYS, built from the NYSE's historical closings list,
https://github.com/gerrymanoim/exchange_calendars, ``us_holidays.py``) and the list of NYSE
full-day closures since 1928 in pandas_market_calendars
(``tests/data/nyse_all_full_day_holidays_since_1928.csv``, checked against the NYSE's
"Closings" PDF), which agree with each other on every weekday from 1950 to July 2021.

Intentional difference: the NYSE traded on Saturdays until 24 May 1952; XNYS and phi are both
Monday-Friday calendars, so only weekdays are compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.data.calendar import _early_close_mask, exchange_holidays, expected_bars, session_days

START, END = "1950-01-01", "2030-12-31"


@pytest.fixture(scope="module")
def xnys():
    xc = pytest.importorskip("exchange_calendars")
    return xc.get_calendar("XNYS", start="1949-01-03", end="2031-12-31")


def _days(index: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(index.values.astype("datetime64[D]"))


def test_sessions_equal_xnys_rules_1950_2030(xnys):
    # XNYS's own session index drops regular holidays only from 1970 on (its CustomBusinessDay
    # takes the holiday rules over pandas' default 1970-2200 window), so the reference before
    # 1970 is XNYS's rules and one-off closures applied to the weekdays directly
    weekdays = pd.bdate_range(START, END)
    closed = xnys.regular_holidays.holidays(START, END).union(pd.DatetimeIndex(xnys.adhoc_holidays))
    ref = _days(weekdays[~weekdays.isin(closed)])
    got = session_days(START, END, "exchange")
    assert len(ref) == 20376
    np.testing.assert_array_equal(got, ref)


def test_sessions_equal_xnys_session_index_from_1970(xnys):
    s = xnys.sessions
    ref = _days(s[(s >= "1970-01-01") & (s <= END)])
    np.testing.assert_array_equal(session_days("1970-01-01", END, "exchange"), ref)


def test_early_closes_equal_xnys_1993_2030(xnys):
    ec = xnys.early_closes
    ref = _days(ec[(ec >= "1993-01-01") & (ec <= END)])
    closes = xnys.schedule.loc[ref.astype("datetime64[ns]"), "close"].dt.tz_convert("America/New_York")
    assert set(closes.dt.strftime("%H:%M")) == {"13:00"}
    days = session_days("1993-01-01", END, "exchange")
    np.testing.assert_array_equal(days[_early_close_mask(days)], ref)


# Hand-checked against the NYSE's historical closings list (the lists cited above) and the
# rules the NYSE followed in each year.
CLOSED = [
    "1950-01-02",  # New Year's Day on a Sunday -> Monday
    "1950-02-13",  # Lincoln's Birthday on a Sunday -> Monday (a holiday until 1953)
    "1952-10-13",  # Columbus Day on a Sunday -> Monday (a holiday until 1953)
    "1951-11-12",  # Armistice Day on a Sunday -> Monday (a holiday until 1953)
    "1954-12-24",  # Christmas on a Saturday -> Friday (from 1954)
    "1959-07-03",  # Independence Day on a Saturday -> Friday
    "1963-11-25",  # President Kennedy's funeral
    "1964-02-21",  # Washington's Birthday (22 Feb) on a Saturday -> Friday (1964-1970)
    "1964-05-29",  # Memorial Day (30 May) on a Saturday -> Friday (1964-1969)
    "1967-11-07",  # Election Day, every year until 1967
    "1968-04-09",  # day of mourning for Martin Luther King Jr.
    "1968-06-12",  # first paperwork-crisis Wednesday
    "1968-11-05",  # Election Day (presidential year)
    "1969-02-10",  # snowstorm
    "1969-03-31",  # President Eisenhower's funeral
    "1969-07-21",  # first lunar landing
    "1970-02-23",  # Washington's Birthday (22 Feb) on a Sunday -> Monday
    "1972-12-28",  # President Truman's funeral
    "1973-01-25",  # President Johnson's funeral
    "1977-07-14",  # New York City blackout
    "1980-11-04",  # Election Day, the last one closed
]
OPEN = [
    "1953-02-16",  # third Monday of February: Presidents' Day Mondays start in 1971
    "1953-05-29",  # Memorial Day on a Saturday was not moved to Friday before 1964
    "1954-12-31",  # New Year's Day on Saturday 1 January 1955 is not moved back
    "1959-05-29",  # Memorial Day (Saturday 30 May 1959) not moved before 1964
    "1968-07-03",  # paperwork-crisis week of 4 July: closed Friday 5 July instead
    "1969-05-26",  # last Monday of May: Monday Memorial Day starts in 1971
    "1969-11-04",  # Election Day in a non-presidential year after 1967
    "1970-05-29",  # Memorial Day on Saturday 30 May 1970: open on Friday (month end)
    "1984-11-06",  # Election Day no longer a holiday after 1980
    "1993-01-18",  # third Monday of January: Martin Luther King Jr. Day starts in 1998
    "2004-12-31",  # New Year's Day 2005 on a Saturday: not moved back
]


@pytest.mark.parametrize("day", CLOSED)
def test_hand_checked_closures(day):
    assert pd.Timestamp(day).day_of_week < 5
    assert pd.Timestamp(day) in exchange_holidays(day, day)
    assert session_days(day, day, "exchange").size == 0


@pytest.mark.parametrize("day", OPEN)
def test_hand_checked_sessions(day):
    assert pd.Timestamp(day).day_of_week < 5
    assert session_days(day, day, "exchange").size == 1


@pytest.mark.parametrize(
    ("day", "bars"),
    [
        ("2002-07-03", 7),  # Wednesday 3 July before 2013: full day ...
        ("2002-07-05", 4),  # ... the Friday after closed at 13:00 instead
        ("2019-07-03", 4),  # Wednesday 3 July from 2013: 13:00
        ("1999-12-31", 4),  # one-off 13:00 close (XNYS)
        ("1992-11-27", 7),  # before 1993 early closes are not modelled
    ],
)
def test_early_close_hourly_bars(day, bars):
    starts, _ = expected_bars(session_days(day, day, "exchange"), "1H", "exchange")
    assert len(starts) == bars
