"""The expected bar calendar: which bars a dataset of a given timeframe should contain.

Three calendars:

``"exchange"``
    US equity sessions (NYSE/Nasdaq) from 1950: Monday to Friday minus the NYSE's full-day
    closures of each year. Today's holidays are New Year's Day, Martin Luther King Jr. Day
    (from 1998), Presidents' Day, Good Friday, Memorial Day, Juneteenth (from 2022),
    Independence Day, Labor Day, Thanksgiving and Christmas (Sunday holidays move to Monday;
    Saturday ones to Friday, except New Year's Day). Before that the rules differed:
    Washington's Birthday was 22 February until 1970 and Memorial Day 30 May until 1969
    (its Saturday in 1970 was not made up; the Monday holidays start in 1971), Lincoln's
    Birthday, Columbus Day and Armistice/Veterans Day were holidays until 1953, Election Day
    every year until 1967 and in presidential years until 1980, and before 1954 a Saturday
    holiday was not moved to the Friday. One-off closures (funerals, weather, the 1968
    paperwork crisis, 9/11, ...) are in :data:`SPECIAL_CLOSURES`. The NYSE also traded on
    Saturdays until May 1952; Saturday sessions are not modelled.
    Intraday bars cover 09:30-16:00 America/New_York (DST-aware; today's hours for every year).
    From 1993 the session ends at 13:00 on the day after Thanksgiving, on 24 December
    (Monday-Thursday), on 3 July (Monday, Tuesday, Thursday; also Wednesday from 2013), on a
    Friday 5 July until 2012 and on the :data:`SPECIAL_EARLY_CLOSES`. Earlier early closes
    (14:00; their history is disputed) and unscheduled halts are not modelled.
    The dates follow the NYSE's historical closings list as encoded by ``exchange_calendars``'
    XNYS calendar (checked day by day in ``tests/data/test_nyse_history.py``).
``"weekdays"``
    Monday to Friday, no holidays, 09:30-16:00 New York sessions: the calendar of the
    synthetic ``demo`` vendor.
``"24/7"``
    Every calendar day; intraday bars tile the whole UTC day (crypto, FX-like data).

Intraday bars are stamped at their start and split a session the way yfinance does: 1H bars
start at 09:30, 10:30, ..., 15:30 (the last one 30 minutes long), 4H bars at 09:30 and 13:30.
All stamps are returned as int64 nanoseconds since the epoch, UTC.

The engine's *market* calendars (``exchange``, ``fx``, ``24/7``: what a trading day is for daily
returns, see :mod:`phi.backtest.periods`) live at the end of this module:
:func:`detect_market_calendar` tells them apart from the stamps and metadata,
:func:`trading_day_keys` numbers the trading days (the readable rule; the engine runs the same
rule in one numba pass with the UTC offsets of :func:`utc_offsets`).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import warnings
from typing import Any

import numpy as np
import pandas as pd

from phi.data.dates import is_date_like
from phi.data.timeframes import TIMEFRAME_MINUTES, normalize_timeframe
from phi.errors import ConfigError, DataError, shown, unknown_choice

CALENDARS: tuple[str, ...] = ("exchange", "weekdays", "24/7")
SESSION_TZ = "America/New_York"
SESSION_OPEN_MINUTE = 9 * 60 + 30  # 09:30 local
SESSION_MINUTES = 390  # 09:30-16:00
EARLY_CLOSE_MINUTES = 210  # 09:30-13:00
_NS_PER_MIN = 60_000_000_000
_NS_PER_DAY = 1440 * _NS_PER_MIN

#: One-off full-day NYSE closures on weekdays (not covered by the holiday rules), from 1950.
SPECIAL_CLOSURES: tuple[str, ...] = (
    "1956-12-24",  # Christmas Eve (Monday)
    "1958-12-26",  # day after Christmas (Friday)
    "1961-05-29",  # day before Decoration (Memorial) Day (Monday)
    "1963-11-25",  # President Kennedy's funeral
    "1968-02-12",  # Lincoln's Birthday (trading floor closed)
    "1968-04-09",  # day of mourning for Martin Luther King Jr.
    # 1968 paperwork crisis: closed each Wednesday from 12 June, or another day in the weeks
    # with a holiday (Friday 5 July, Monday 11 November, Veterans Day)
    "1968-06-12", "1968-06-19", "1968-06-26", "1968-07-05", "1968-07-10", "1968-07-17",
    "1968-07-24", "1968-07-31", "1968-08-07", "1968-08-14", "1968-08-21", "1968-08-28",
    "1968-09-11", "1968-09-18", "1968-09-25", "1968-10-02", "1968-10-09", "1968-10-16",
    "1968-10-23", "1968-10-30", "1968-11-11", "1968-11-20", "1968-12-04", "1968-12-11",
    "1968-12-18",
    "1969-02-10",  # snowstorm
    "1969-03-31",  # President Eisenhower's funeral
    "1969-07-21",  # first lunar landing (national day of participation)
    "1972-12-28",  # President Truman's funeral
    "1973-01-25",  # President Johnson's funeral
    "1977-07-14",  # New York City blackout
    "1985-09-27",  # Hurricane Gloria
    "1994-04-27",  # President Nixon's funeral
    "2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14",  # 9/11
    "2004-06-11",  # President Reagan's funeral
    "2007-01-02",  # President Ford's funeral
    "2012-10-29", "2012-10-30",  # Hurricane Sandy
    "2018-12-05",  # President G. H. W. Bush's funeral
    "2025-01-09",  # President Carter's funeral
)  # fmt: skip

#: One-off 13:00 early closes (besides the regular ones) from 1993: the Fridays after a Thursday
#: Christmas in 1997 and 2003, and 31 December 1999 (as XNYS; pandas_market_calendars doubts it).
SPECIAL_EARLY_CLOSES: tuple[str, ...] = ("1997-12-26", "1999-12-31", "2003-12-26")

_HOLIDAY_SPAN = ("1950-01-01", "2099-12-31")


def normalize_calendar(calendar: str) -> str:
    """Return the canonical calendar name or raise :class:`ConfigError`."""
    if not isinstance(calendar, str):
        raise ConfigError(f"calendar must be a string, got {shown(calendar)}")
    name = calendar.strip().lower()
    if name in ("24x7", "24-7", "always"):
        name = "24/7"
    if name not in CALENDARS:
        raise ConfigError(unknown_choice("calendar", calendar, CALENDARS))
    return name


@functools.lru_cache(maxsize=1)
def _holidays_d() -> np.ndarray:
    """All NYSE full-day closures on weekdays in ``_HOLIDAY_SPAN`` (sorted datetime64[D])."""
    from pandas.tseries.holiday import (
        MO,
        TU,
        AbstractHolidayCalendar,
        GoodFriday,
        Holiday,
        USLaborDay,
        USThanksgivingDay,
        nearest_workday,
        sunday_to_monday,
    )
    from pandas.tseries.offsets import DateOffset

    def rule(name: str, month: int, day: int, **kw: Any) -> Holiday:
        return Holiday(name, month=month, day=day, **kw)

    s2m, near = sunday_to_monday, nearest_workday
    first_tuesday = DateOffset(weekday=TU(1))  # the Tuesday after the first Monday: 2-8 Nov
    # before 1954 a holiday on a Saturday was not moved to the Friday (sunday_to_monday);
    # Saturday dates are dropped below (the NYSE's Saturday sessions are not modelled)
    rules = [
        rule("New Year's Day", 1, 1, observance=s2m),  # never moved back to 31 December
        rule("MLK Day", 1, 1, start_date="1998-01-01", offset=DateOffset(weekday=MO(3))),
        rule("Lincoln's Birthday", 2, 12, end_date="1953-12-31", observance=s2m),
        rule("Washington's Birthday", 2, 22, end_date="1963-12-31", observance=s2m),
        rule("Washington's Birthday", 2, 22, start_date="1964-01-01", end_date="1970-12-31", observance=near),
        rule("Presidents' Day", 2, 1, start_date="1971-01-01", offset=DateOffset(weekday=MO(3))),
        GoodFriday,
        rule("Memorial Day", 5, 30, end_date="1963-12-31", observance=s2m),
        # 1970: 30 May was a Saturday and the exchange stayed open on Friday 29 May
        rule("Memorial Day", 5, 30, start_date="1964-01-01", end_date="1969-12-31", observance=near),
        rule("Memorial Day", 5, 25, start_date="1971-01-01", offset=DateOffset(weekday=MO(1))),
        rule("Juneteenth", 6, 19, start_date="2022-01-01", observance=near),
        rule("Independence Day", 7, 4, end_date="1953-12-31", observance=s2m),
        rule("Independence Day", 7, 4, start_date="1954-01-01", observance=near),
        USLaborDay,
        rule("Columbus Day", 10, 12, end_date="1953-12-31", observance=s2m),
        rule("Election Day", 11, 2, end_date="1967-12-31", offset=first_tuesday),
        *(  # then in presidential election years only, until 1980
            rule("Election Day", 11, 2, start_date=f"{y}-01-01", end_date=f"{y}-12-31", offset=first_tuesday)
            for y in (1968, 1972, 1976, 1980)
        ),
        rule("Armistice Day", 11, 11, end_date="1953-12-31", observance=s2m),
        USThanksgivingDay,  # fourth Thursday (since 1942)
        rule("Christmas", 12, 25, end_date="1953-12-31", observance=s2m),
        rule("Christmas", 12, 25, start_date="1954-01-01", observance=near),
    ]  # fmt: skip

    class _NYSE(AbstractHolidayCalendar):
        """NYSE full-day holidays (the rules are attached below)."""

    _NYSE.rules = rules
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' non-vectorised Easter offset warns
        days = _NYSE().holidays(*_HOLIDAY_SPAN)
    out = np.union1d(
        days.values.astype("datetime64[D]"), np.array(SPECIAL_CLOSURES, dtype="datetime64[D]")
    )
    # weekend dates: a Saturday New Year's Day (never moved), Saturday holidays before 1954
    return out[np.is_busday(out)]


def to_date(value: Any, what: str = "date") -> np.datetime64:
    """The calendar date of ``value`` (a date string, date or timestamp; tz-aware -> UTC date)."""
    if not is_date_like(value):
        raise DataError(f"{what}: {shown(value)} is not a date (use YYYY-MM-DD)")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{what}: {shown(value)} is not a date (use YYYY-MM-DD)") from None
    if ts is pd.NaT:
        raise DataError(f"{what}: {shown(value)} is not a date (use YYYY-MM-DD)")
    if ts.tz is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return np.datetime64(ts.strftime("%Y-%m-%d"), "D")


def exchange_holidays(start: Any, end: Any) -> pd.DatetimeIndex:
    """NYSE full-day closures on weekdays from ``start`` to ``end`` (inclusive), naive dates."""
    lo, hi = to_date(start, "start"), to_date(end, "end")
    h = _holidays_d()
    return pd.DatetimeIndex(h[(h >= lo) & (h <= hi)].astype("datetime64[ns]"))


def _early_close_mask(days: np.ndarray) -> np.ndarray:
    """True where a session day (datetime64[D]) is a 13:00 early close (from 1993)."""
    d = pd.DatetimeIndex(days.astype("datetime64[ns]"))
    month, dom, dow = d.month.to_numpy(), d.day.to_numpy(), d.day_of_week.to_numpy()
    year = d.year.to_numpy()
    # day after Thanksgiving: the Friday after the 4th Thursday of November (dom 23..29)
    thanks_fri = (month == 11) & (dow == 4) & (dom >= 23) & (dom <= 29)
    xmas_eve = (month == 12) & (dom == 24) & (dow <= 3)
    # 3 July on Monday, Tuesday or Thursday; on a Wednesday only from 2013 (before that the
    # Friday 5 July closed early instead)
    jul3 = (month == 7) & (dom == 3) & ((dow <= 1) | (dow == 3) | ((dow == 2) & (year >= 2013)))
    jul5 = (month == 7) & (dom == 5) & (dow == 4) & (year <= 2012)
    regular = (thanks_fri | xmas_eve | jul3 | jul5) & (year >= 1993)
    return regular | np.isin(days, np.array(SPECIAL_EARLY_CLOSES, dtype="datetime64[D]"))


def session_days(start: Any, end: Any, calendar: str = "exchange") -> np.ndarray:
    """Session dates from ``start`` to ``end`` (inclusive) as ``datetime64[D]``.

    ``"exchange"`` skips weekends and NYSE holidays, ``"weekdays"`` only weekends,
    ``"24/7"`` nothing.
    """
    cal = normalize_calendar(calendar)
    lo, hi = to_date(start, "start"), to_date(end, "end")
    if hi < lo:
        return np.empty(0, dtype="datetime64[D]")
    days = np.arange(lo, hi + np.timedelta64(1, "D"), dtype="datetime64[D]")
    if cal == "24/7":
        return days
    days = days[np.is_busday(days)]
    if cal == "exchange":
        days = days[~np.isin(days, _holidays_d())]
    return days


def bar_layout(timeframe: str, calendar: str = "exchange") -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and lengths (minutes) of the bars of one session (or one UTC day for 24/7).

    For ``1D`` one bar covering the day. Examples: ``bar_layout("1H")`` starts at minutes
    0, 60, ..., 360 after 09:30 with lengths 60, ..., 60, 30.
    """
    tf = normalize_timeframe(timeframe)
    cal = normalize_calendar(calendar)
    span = 1440 if (tf == "1D" or cal == "24/7") else SESSION_MINUTES
    step = min(TIMEFRAME_MINUTES[tf], span)
    starts = np.arange(0, span, step, dtype=np.int64)
    lengths = np.minimum(starts + step, span) - starts
    return starts, lengths


def session_open_ns(days: np.ndarray) -> np.ndarray:
    """UTC nanoseconds of 09:30 New York on each date (datetime64[D]), DST-aware."""
    local = pd.DatetimeIndex(days.astype("datetime64[ns]")) + pd.Timedelta(minutes=SESSION_OPEN_MINUTE)
    utc = local.tz_localize(SESSION_TZ).tz_convert("UTC").as_unit("ns")
    return np.asarray(utc.asi8, dtype=np.int64)


def expected_bars(days: np.ndarray, timeframe: str, calendar: str = "exchange") -> tuple[np.ndarray, np.ndarray]:
    """Start and end (int64 UTC ns) of every expected bar on the session ``days``.

    Daily bars run from 00:00 UTC of the date to 00:00 UTC of the next day (daily bars are
    stamped at 00:00 UTC of the session date). Intraday bars follow :func:`bar_layout`;
    on the ``"exchange"`` calendar, bars after an early close are dropped and the bar
    straddling it is shortened.
    """
    tf = normalize_timeframe(timeframe)
    cal = normalize_calendar(calendar)
    days = np.asarray(days, dtype="datetime64[D]")
    day_ns = days.astype("datetime64[ns]").astype(np.int64)
    if tf == "1D":
        return day_ns, day_ns + _NS_PER_DAY
    starts, lengths = bar_layout(tf, cal)
    base = day_ns if cal == "24/7" else session_open_ns(days)
    s = base[:, None] + starts[None, :] * _NS_PER_MIN
    e = s + lengths[None, :] * _NS_PER_MIN
    if cal == "exchange":
        early = _early_close_mask(days)
        if early.any():
            cut = base[:, None] + EARLY_CLOSE_MINUTES * _NS_PER_MIN
            keep = ~early[:, None] | (s < cut)
            e = np.where(early[:, None], np.minimum(e, cut), e)
            return s[keep], e[keep]
    return s.ravel(), e.ravel()


def wall_dates(index: pd.DatetimeIndex) -> np.ndarray:
    """The calendar date of each stamp in its own time zone (naive stamps count as UTC)."""
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return np.asarray(idx.values.astype("datetime64[D]"))


def to_utc_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """int64 UTC nanoseconds of each stamp (naive stamps count as UTC)."""
    idx = pd.DatetimeIndex(index)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)


def _per_bar(minutes: float) -> str:
    for size, unit in ((60.0, "hour"), (1.0, "minute"), (1 / 60, "second")):
        if minutes >= size or unit == "second":
            x = minutes / size
            return f"{x:g} {unit}{'' if x == 1 else 's'}"
    return ""  # unreachable


def bar_frequency(index: pd.DatetimeIndex, declared: Any = None) -> tuple[float | None, str]:
    """The bar length of a sorted stamp index in minutes and how it was read.

    Told from what the stamps are, not from their median gap (a thinly traded daily symbol,
    a weekly sample or a long halt is still daily). In order: two stamps on one calendar date
    (the stamps' own time zone; naive = UTC) make intraday bars, their length the commonest
    gap between such stamps; else stamps all at one time of day (up to a one-hour DST shift;
    midnight for date-only stamps) are daily bars however far apart, unless ``declared`` (a
    timeframe such as ``"1H"``: the data layer's ``attrs['timeframe']``) says otherwise;
    else ``declared`` if it is a timeframe; else intraday bars of unknown length (``None``).

    Returns
    -------
    (minutes, description)
        ``1440.0`` for daily bars, e.g. ``(60.0, "intraday (1 hour between stamps within a
        day)")``, ``(1440.0, "daily (date-only stamps)")``.
    """
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None and str(idx.tz) != "UTC":
        idx = idx.tz_localize(None)  # the wall clock
    wall = np.asarray(idx.asi8, dtype=np.int64) * {"s": 10**9, "ms": 10**6, "us": 10**3}.get(idx.unit, 1)
    day = wall // _NS_PER_DAY
    gaps = np.diff(wall)
    inside = gaps[(day[1:] == day[:-1]) & (gaps > 0)]
    if inside.size:
        values, counts = np.unique(inside[:: max(1, inside.size // _DETECT_SAMPLE)], return_counts=True)
        minutes = float(values[np.argmax(counts)]) / _NS_PER_MIN
        return minutes, f"intraday ({_per_bar(minutes)} between stamps within a day)"
    tf = ""
    if isinstance(declared, str):
        with contextlib.suppress(ConfigError):
            tf = normalize_timeframe(declared)
    clock = wall % _NS_PER_DAY
    if clock.size and int(clock.max() - clock.min()) <= 60 * _NS_PER_MIN and tf in ("", "1D"):
        if not clock.any():
            return 1440.0, "daily (date-only stamps)"
        ends = (int(clock.min()) // _NS_PER_MIN, int(clock.max()) // _NS_PER_MIN)
        at = sorted({f"{m // 60:02d}:{m % 60:02d}" for m in ends})
        return 1440.0, f"daily (one stamp a day at {' or '.join(at)})"
    if tf:
        return float(TIMEFRAME_MINUTES[tf]), f"{tf} bars (declared: timeframe={tf!r})"
    return None, "intraday (stamps at varying times of day, never two on one day)"


# ---------------------------------------------------------------------------------------
# market calendars of the engine: what a trading day is (for daily returns) and detection

#: Market calendars of the engine (see :mod:`phi.backtest.periods`).
MARKET_CALENDARS: tuple[str, ...] = ("exchange", "fx", "24/7")
FX_TZ = "America/New_York"
FX_DAY_END_HOUR = 17  # the FX trading day ends at 17:00 New York
#: ISO codes of the currencies an FX pair symbol like ``EUR/USD`` is recognised by.
_CURRENCIES = frozenset((
    "USD", "EUR", "JPY", "GBP", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "TRY", "ZAR", "MXN", "BRL", "CNY", "CNH", "HKD", "SGD", "KRW", "INR", "IDR", "THB",
    "TWD", "ILS", "RUB", "CLP", "COP", "PHP", "MYR", "XAU", "XAG",
))  # fmt: skip
_CRYPTO_QUOTES = ("USD", "USDT", "USDC", "BUSD", "EUR", "GBP", "BTC", "ETH")
_DETECT_SAMPLE = 65_536  # stamps looked at to detect a calendar (evenly spaced)
_NS_PER_HOUR = 60 * _NS_PER_MIN


def _symbol_calendar(symbol: str) -> str | None:
    """'fx' for FX pair symbols (``EURUSD=X``, ``JPY=X``, ``EUR/USD``, ``EURUSD``), '24/7' for
    crypto pairs (``BTC-USD``, ``ETH/USDT``, ``BTCUSDT``), else None."""
    s = symbol.strip().upper()
    if s.endswith("=X") and s[:-2].isalpha() and len(s) in (5, 8):
        return "fx"
    for sep in ("/", "_", "-"):
        if sep in s:
            base, _, quote = s.partition(sep)
            break
    else:
        if len(s) == 6 and s[:3] in _CURRENCIES and s[3:] in _CURRENCIES:
            return "fx"
        base, quote = (s[:-4], s[-4:]) if s.endswith(("USDT", "USDC", "BUSD")) else ("", "")
    if base in _CURRENCIES and quote in _CURRENCIES:
        return "fx"
    if quote in _CRYPTO_QUOTES and base.isalnum() and 2 <= len(base) <= 10:
        return "24/7"
    return None


def _sample(index: pd.Index) -> np.ndarray:
    """At most ``_DETECT_SAMPLE`` evenly spaced positions of ``index``."""
    step = max(1, len(index) // _DETECT_SAMPLE)
    return np.arange(0, len(index), step)


def detect_market_calendar(index: pd.Index, metadata: dict[str, Any] | None = None) -> tuple[str, str]:
    """The market calendar of a bar index: ``(calendar, why)``.

    In order: the metadata's ``calendar`` (one of :data:`MARKET_CALENDARS`); its ``symbol``
    (``EURUSD=X``, ``EUR/USD`` -> fx; ``BTC-USD``, ``ETH/USDT`` -> 24/7); then the stamps
    themselves: weekend bars -> 24/7; intraday bars around the clock on weekdays and none on
    weekends -> fx; daily bars on Sundays but not Saturdays -> fx; otherwise exchange.
    Daily or intraday is :func:`bar_frequency`'s answer (with the metadata's ``timeframe``), not
    a median gap: thinly traded intraday bars, one or two a day, are judged as intraday bars.
    Weekends are taken in New York time for intraday bars (Saturday 02:00 to Sunday 20:00
    UTC, when FX is closed whatever the season) and in the index's own dates for daily bars.

    Parameters
    ----------
    index : Index
        The bars' index (a DatetimeIndex; any other index gives ``"exchange"``).
    metadata : dict, optional
        ``calendar``, ``symbol`` and/or ``timeframe`` (e.g. the frame's ``attrs``).
    """
    meta = metadata or {}
    given = meta.get("calendar")
    if isinstance(given, str) and given.strip().lower() in MARKET_CALENDARS:
        name = given.strip().lower()
        return name, f"from the data's metadata (calendar={name!r})"
    symbol = meta.get("symbol")
    if isinstance(symbol, str) and symbol:
        by_symbol = _symbol_calendar(symbol)
        if by_symbol is not None:
            return by_symbol, f"from the symbol {symbol!r}"
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return "exchange", "default (too few timestamps to detect a calendar)"
    pick = _sample(index)
    at = to_utc_ns(index[pick])
    # daily or intraday by what the stamps are (the rule of the CSV vendor and portfolios), not
    # by a median gap: thin intraday bars (a bar or two a day) are intraday bars
    minutes, _ = bar_frequency(index[pick].sort_values(), meta.get("timeframe"))
    if minutes == 1440.0:
        local = wall_dates(index[pick]).astype(np.int64)
        dow = (local + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        if np.mean(dow == 5) >= 0.02:
            return "24/7", "detected: daily bars on Saturdays"
        if np.mean(dow == 6) >= 0.02:
            return "fx", "detected: daily bars on Sundays but none on Saturdays (24/5 market)"
        return "exchange", "detected: daily bars on weekdays only"
    week = (at + 3 * _NS_PER_DAY) % (7 * _NS_PER_DAY)  # ns since Monday 00:00 UTC
    sat = 5 * _NS_PER_DAY
    weekend = (week >= sat + 2 * _NS_PER_HOUR) & (week < sat + 44 * _NS_PER_HOUR)
    if np.mean(weekend) >= 0.02:
        return "24/7", "detected: intraday bars on weekends"
    minute = np.unique((at % _NS_PER_DAY) // _NS_PER_MIN)
    circular = np.diff(np.concatenate((minute, minute[:1] + 1440)))
    if int(circular.max()) <= 6 * 60:
        return "fx", "detected: intraday bars around the clock on weekdays, none on weekends"
    return "exchange", "detected: intraday bars in session hours on weekdays"


def trading_day_keys(index: pd.DatetimeIndex, calendar: str, tz: str | None = None) -> np.ndarray:
    """An int64 trading-day number for each stamp (days since 1970-01-01; equal = same day).

    ``"exchange"``: the stamp's date in ``tz`` (default: the index's own zone, UTC if naive).
    ``"24/7"``: the date in the index's own zone. ``"fx"``: the day ending 17:00 New York that
    holds the stamp (so Sunday evening's bars belong to Monday), weekend days rolled forward
    to Monday. Stamps are bar starts.
    """
    idx = pd.DatetimeIndex(index)
    if calendar == "fx":
        idx = idx.tz_localize("UTC") if idx.tz is None else idx
        local = idx.tz_convert(FX_TZ).tz_localize(None).as_unit("ns").asi8
        days = (local + (24 - FX_DAY_END_HOUR) * _NS_PER_HOUR) // _NS_PER_DAY
        dow = (days + 3) % 7
        return np.asarray(days + np.where(dow >= 5, 7 - dow, 0), dtype=np.int64)
    if calendar == "exchange" and tz and idx.tz is not None:
        idx = idx.tz_convert(tz)
    elif calendar not in MARKET_CALENDARS:
        raise ConfigError(unknown_choice("market calendar", calendar, MARKET_CALENDARS))
    if idx.tz is not None and str(idx.tz) != "UTC":
        idx = idx.tz_localize(None)
    return np.asarray(idx.as_unit("ns").asi8 // _NS_PER_DAY, dtype=np.int64)


def utc_offsets(tz: Any, start_ns: int, end_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """The UTC offsets of time zone ``tz`` between two instants, and when each one starts.

    Returns ``(at, offset)`` as int64 nanoseconds: ``offset[j]`` (local minus UTC) holds from
    ``at[j]`` on; ``at[0]`` is the smallest int64 (before everything). Transitions are found
    day by day, then to the quarter hour (every real-world transition falls on one).
    """
    # the UTC midnights a day before the first instant's day and after the last one's, in
    # integer nanoseconds (floor and ceil to the day)
    lo_ns = int(start_ns) - int(start_ns) % _NS_PER_DAY - _NS_PER_DAY
    hi_ns = -(-int(end_ns) // _NS_PER_DAY) * _NS_PER_DAY + _NS_PER_DAY
    try:  # the search depends on (tz, lo, hi) only: a repeated one is read back (copies)
        key: tuple[Any, ...] | None = (tz, lo_ns, hi_ns)
        hash(key)
    except TypeError:
        key = None
    cached = _OFFSETS.get(key) if key is not None else None
    if cached is not None:
        return cached[0].copy(), cached[1].copy()
    at_a, off_a = _search_offsets(tz, pd.Timestamp(lo_ns, tz="UTC"), pd.Timestamp(hi_ns, tz="UTC"))
    if key is not None:
        with _OFFSETS_LOCK:
            if len(_OFFSETS) >= _OFFSETS_MAX:
                _OFFSETS.pop(next(iter(_OFFSETS)))
            _OFFSETS[key] = (at_a.copy(), off_a.copy())
    return at_a, off_a


#: :func:`utc_offsets` results by ``(tz, first day, last day)``, oldest dropped first.
_OFFSETS: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
_OFFSETS_MAX = 64
_OFFSETS_LOCK = threading.Lock()


def _search_offsets(tz: Any, lo: pd.Timestamp, hi: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """:func:`utc_offsets` between the UTC midnights ``lo`` and ``hi``."""
    days = pd.date_range(lo, hi, freq="D").as_unit("ns")
    off = days.tz_convert(tz).tz_localize(None).as_unit("ns").asi8 - days.asi8
    at = [np.iinfo(np.int64).min]
    offsets = [int(off[0])]
    for i in np.flatnonzero(off[1:] != off[:-1]):
        fine = pd.date_range(days[i], days[i + 1], freq="15min").as_unit("ns")
        fine_off = fine.tz_convert(tz).tz_localize(None).as_unit("ns").asi8 - fine.asi8
        k = int(np.argmax(fine_off != off[i]))
        at.append(int(fine.asi8[k]))
        offsets.append(int(fine_off[k]))
    return np.asarray(at, dtype=np.int64), np.asarray(offsets, dtype=np.int64)
