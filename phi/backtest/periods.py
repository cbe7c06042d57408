"""Annualisation constants: one place for the periods-per-year of each market calendar.

Risk metrics are computed on *daily* returns (intraday equity is sampled at each trading
day's last bar, the trading day given by the calendar), so the only constant that matters is
the number of trading days a year. This deliberately differs from the reference
implementation's bars-per-year table, which annualised 4H bars as if they were 1H bars.

Calendars (``EngineConfig.calendar``):

``"exchange"``
    Exchange-traded assets: 252 trading days (empyrical's ``APPROX_BDAYS_PER_YEAR``); a
    trading day is a calendar date in the exchange's time zone.
``"fx"``
    Foreign exchange, 24 hours five days a week: 260 trading days (52 weeks x 5); a trading
    day ends at 17:00 America/New_York (the New York close), so Sunday evening's bars belong to
    Monday and there are no weekend days.
``"24/7"``
    Markets that never close (crypto): 365 days; a trading day is a calendar date (UTC for a
    UTC index).
``"auto"``
    Detected from the data and its metadata (:func:`phi.data.calendar.detect_market_calendar`).
"""

from __future__ import annotations

from typing import Final

#: Trading days per year, by market calendar (``EngineConfig.calendar``).
PERIODS_PER_YEAR: Final[dict[str, int]] = {
    "exchange": 252,  # exchange-traded assets (empyrical's APPROX_BDAYS_PER_YEAR)
    "fx": 260,  # 24/5 foreign exchange: 52 weeks x 5 trading days
    "24/7": 365,  # crypto and other markets that never close
}

#: The concrete market calendars.
CALENDARS: Final[tuple[str, ...]] = tuple(PERIODS_PER_YEAR)

#: Valid values of ``EngineConfig.calendar``: a calendar, or ``"auto"`` to detect it.
CALENDAR_CHOICES: Final[tuple[str, ...]] = ("auto", *CALENDARS)


def periods_per_year(calendar: str) -> int:
    """Return the annualisation factor (daily periods per year) of a market calendar.

    Parameters
    ----------
    calendar : {"exchange", "fx", "24/7"}

    Returns
    -------
    int
        252 for ``"exchange"``, 260 for ``"fx"``, 365 for ``"24/7"``.
    """
    from phi.errors import ConfigError, unknown_choice

    try:
        return PERIODS_PER_YEAR[calendar]
    except KeyError:
        raise ConfigError(unknown_choice("calendar", calendar, CALENDARS)) from None
