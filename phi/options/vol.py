"""The synthetic implied-vol model: rolling realised vol x a premium, a put skew and a floor.

There are no option quotes behind it: every options result built on it says so. All of it is
causal: the vol at bar t uses closes up to bar t only.
"""

from __future__ import annotations

import numpy as np

from phi._math import rolling_std

__all__ = ["bars_per_year", "realised_vol", "skewed_iv", "synthetic_iv"]


def bars_per_year(trading_days_per_year: float, day_end: np.ndarray) -> float:
    """Bars a year: the calendar's trading days x the bars per trading day of the data.

    ``day_end`` marks the last bar of each trading day (so daily bars give exactly the
    calendar's 252 / 260 / 365; hourly exchange bars about 252 x 7). Using the sample's
    average bar density is the only input taken from the whole sample; it is a property of
    the bar frequency, not of prices.
    """
    days = max(int(np.count_nonzero(day_end)), 1)
    return float(trading_days_per_year) * len(day_end) / days


def realised_vol(close: np.ndarray, window: int, periods_per_year: float) -> np.ndarray:
    """Annualised close-to-close realised vol over the last ``window`` log returns.

    ``std(ln(c_t / c_{t-1}), ddof=1) * sqrt(periods_per_year)``, NaN until ``window``
    returns exist (bar ``window`` is the first with a value).
    """
    c = np.asarray(close, dtype=np.float64)
    r = np.full(c.shape, np.nan)
    r[1:] = np.log(c[1:] / c[:-1])
    if int(window) < 2:
        return np.full(c.shape, np.nan)
    return rolling_std(r, int(window)) * np.sqrt(periods_per_year)


def synthetic_iv(
    close: np.ndarray, window: int, periods_per_year: float, premium: float, floor: float
) -> np.ndarray:
    """At-the-money implied vol per bar: ``max(realised_vol * premium, floor)`` (NaN in warm-up)."""
    rv = realised_vol(close, window, periods_per_year)
    return np.where(np.isnan(rv), np.nan, np.maximum(rv * premium, floor))


def skewed_iv(iv_atm: object, spot: object, strike: object, skew: float) -> np.ndarray:
    """Vol at a strike: ``iv_atm * (1 + skew * max(0, ln(spot / strike)))`` — strikes below the
    spot (the put wing) are richer; calls and puts of one strike share a vol (parity holds)."""
    moneyness = np.log(np.asarray(spot, dtype=float) / np.asarray(strike, dtype=float))
    return np.asarray(iv_atm, dtype=float) * (1.0 + skew * np.maximum(0.0, moneyness))
