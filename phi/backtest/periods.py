"""Annualisation constants: one place for the periods-per-year of each asset calendar.

Risk metrics are computed on *daily* returns (intraday equity is sampled at each calendar
day's last bar), so the only constant that matters is the number of trading days a year.
This deliberately differs from the reference implementation's bars-per-year table, which
annualised 4H bars as if they were 1H bars.
"""

from __future__ import annotations

from typing import Final

#: Trading days per year, by asset calendar (``EngineConfig.calendar``).
PERIODS_PER_YEAR: Final[dict[str, int]] = {
    "exchange": 252,  # exchange-traded assets (empyrical's APPROX_BDAYS_PER_YEAR)
    "24/7": 365,  # crypto and other markets that never close
}

CALENDARS: Final[tuple[str, ...]] = tuple(PERIODS_PER_YEAR)


def periods_per_year(calendar: str) -> int:
    """Return the annualisation factor (daily periods per year) of an asset calendar.

    Parameters
    ----------
    calendar : {"exchange", "24/7"}

    Returns
    -------
    int
        252 for ``"exchange"``, 365 for ``"24/7"``.
    """
    from phi.errors import ConfigError, unknown_choice

    try:
        return PERIODS_PER_YEAR[calendar]
    except KeyError:
        raise ConfigError(unknown_choice("calendar", calendar, CALENDARS)) from None
