"""The engine's market calendar (exchange, fx, 24/7) of thinly traded intraday bars: daily or
intraday is told by what the stamps are (phi.data.calendar.bar_frequency, the rule of the CSV
vendor and portfolios), not by a median gap under 20 hours, which read a bar or two a day as
daily bars and then judged them by their UTC dates.

Stamps are built by hand from each market's hours (ASX 10:00-16:00 Sydney, UTC+11 in summer;
FX Sunday 17:00 to Friday 17:00 New York; NYSE 09:30-16:00 New York; crypto around the clock).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import BacktestResult, EngineConfig, run_backtest
from phi.data.calendar import detect_market_calendar
from tests.conftest import make_ohlcv


def thin_asx_hourly() -> pd.DatetimeIndex:
    """A thinly traded ASX stock: one hourly bar a session, its hour cycling 10:00..15:00 Sydney
    (AEDT, UTC+11: Monday's 10:00 bar is Sunday 23:00 UTC), stamped in UTC."""
    days = pd.bdate_range("2023-02-06", "2023-03-31")  # no ASX holiday; AEDT until 2 April
    local = [pd.Timestamp(f"{d:%Y-%m-%d} {10 + i % 6}:00", tz="Australia/Sydney") for i, d in enumerate(days)]
    return pd.DatetimeIndex(local).tz_convert("UTC")


def thin_fx_hourly() -> pd.DatetimeIndex:
    """A thinly traded currency pair: every 29th hour of the FX week (Sunday 17:00 to Friday
    17:00 New York) traded, none in Sunday evening's first hours, stamped in UTC."""
    hours = pd.date_range("2023-01-01 17:00", "2023-03-31 17:00", freq="h", tz="America/New_York")
    dow, hour = hours.day_of_week, hours.hour
    week = hours[~((dow == 5) | ((dow == 4) & (hour >= 17)) | (dow == 6))]
    return week[::29].tz_convert("UTC")


def test_the_hand_built_thin_indexes() -> None:
    asx = thin_asx_hourly()
    assert len(asx) == 40 and asx[0] == pd.Timestamp("2023-02-05 23:00", tz="UTC")  # Monday 10:00 Sydney
    assert (asx.day_of_week == 6).sum() == 2  # two Monday-10:00 bars fall on a Sunday in UTC
    fx = thin_fx_hourly()
    assert not (fx.day_of_week >= 5).any()
    assert len(np.unique(fx.hour)) == 24  # every hour of the day traded some day: around the clock
    # a bar or two a day: median gap 29 hours, the old rule's "daily bars"
    assert pd.Series(fx).diff().median() == pd.Timedelta(hours=29)
    assert pd.Series(asx).diff().median() >= pd.Timedelta(hours=20)


def test_thin_asx_hourly_bars_in_utc_are_an_exchange_not_fx() -> None:
    # was: ("fx", "daily bars on Sundays but none on Saturdays"): Monday's first hour is Sunday in UTC
    assert detect_market_calendar(thin_asx_hourly()) == ("exchange", "detected: intraday bars in session hours on weekdays")
    df = make_ohlcv(40).set_axis(thin_asx_hourly())
    res = run_backtest(df, np.zeros(len(df)), EngineConfig())
    assert isinstance(res, BacktestResult)
    assert res.assumptions["calendar"] == "exchange" and res.assumptions["periods_per_year"] == 252  # was 260


def test_thin_fx_hourly_bars_are_fx_not_an_exchange() -> None:
    # was: ("exchange", "daily bars on weekdays only"): no Sunday bars, so not a 24/5 daily series
    assert detect_market_calendar(thin_fx_hourly()) == (
        "fx",
        "detected: intraday bars around the clock on weekdays, none on weekends",
    )


def _sessions(start: str, end: str) -> pd.DatetimeIndex:
    holidays = ["2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29", "2023-06-19",
                "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25"]  # fmt: skip
    return pd.bdate_range(start, end, freq="C", holidays=holidays, tz="UTC")


@pytest.mark.parametrize(
    ("index", "calendar"),
    [
        # daily bars with long halts: every 10th NYSE session, March to May missing
        (lambda: (d := _sessions("2023-01-01", "2023-12-31"))[(d < "2023-03-01") | (d >= "2023-06-01")][::10], "exchange"),
        # crypto daily bars with a two-week outage, and weekly ones
        (lambda: (d := pd.date_range("2023-01-01", "2023-06-30", tz="UTC"))[(d < "2023-03-01") | (d >= "2023-03-15")], "24/7"),
        # FX daily bars stamped on the day the session opens (Sunday to Thursday), a holiday week out
        (lambda: (d := pd.date_range("2023-01-01", "2023-06-30"))[(d.day_of_week != 4) & (d.day_of_week != 5) & ((d < "2023-04-02") | (d > "2023-04-08"))], "fx"),
        # hourly NYSE bars in UTC across the DST change, and a thinly traded one (the first hour only)
        (lambda: pd.DatetimeIndex([t for d in _sessions("2023-03-01", "2023-03-31") for t in pd.date_range(f"{d:%Y-%m-%d} 09:30", periods=7, freq="h", tz="America/New_York")]).tz_convert("UTC"), "exchange"),
        (lambda: pd.DatetimeIndex([pd.Timestamp(f"{d:%Y-%m-%d} 09:30", tz="America/New_York") for d in _sessions("2023-03-01", "2023-04-30")]).tz_convert("UTC"), "exchange"),
        # crypto hourly bars
        (lambda: pd.date_range("2023-03-01", "2023-03-15", freq="h", tz="UTC"), "24/7"),
    ],
)
def test_answers_that_were_right_stay(index: object, calendar: str) -> None:
    assert detect_market_calendar(index())[0] == calendar  # type: ignore[operator]
