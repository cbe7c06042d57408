"""The synthetic implied-vol model: rolling realised vol x a premium, a put skew and a floor.

There are no option quotes behind it: every options result built on it says so. All of it is
causal: the vol at bar t uses closes up to bar t only.
"""

from __future__ import annotations

import numpy as np

from phi._math import rolling_std
from phi.options._nb import skew_limit_nb, skew_limits_nb

__all__ = ["bars_per_year", "realised_vol", "skew_limit", "skewed_iv", "synthetic_iv"]


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


def skewed_iv(
    iv_atm: object,
    spot: object,
    strike: object,
    skew: float,
    tau: object = None,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
) -> np.ndarray:
    """Vol at a strike: ``iv_atm * (1 + s * max(0, ln(spot / strike)))`` — strikes below the
    spot (the put wing) are richer; calls and puts of one strike share a vol (parity holds).

    ``s`` is ``skew`` limited, when ``tau`` (years to expiry) is given, to the steepest put skew
    that is free of vertical-spread arbitrage at that vol, time and carry (what the options
    simulator prices with): ``s = skew_limit(skew, iv_atm, tau, rate, dividend_yield)``.

    **Why the limit.** On the put wing a call's slope in strike is
    ``dC/dK = -D (N(d2) + s * iv_atm * sqrt(tau) * phi(d2))`` (``D = exp(-rate tau)``): the strike's
    own ``-D N(d2)`` plus its vega times the vol's slope. A call vertical ``C(K1) - C(K2)``
    (``K1 < K2``) is worth at most ``D (K2 - K1)`` (its payoff never exceeds the width), and a put
    vertical ``P(K2) - P(K1)`` at least 0, only if ``dC/dK >= -D`` at every strike, i.e.
    ``s * iv_atm * sqrt(tau) <= N(-d2) / phi(d2)`` (the Mills ratio); the upper bounds
    (``dC/dK <= 0``, a put vertical below its width) hold for any ``s >= 0``. A steep skew on
    long-dated, high-vol options breaks it (skew 5, iv 0.5, 10 years: a 1-wide call spread at
    2.5x its width; skew 2, iv 1, 2 years), so the slope is cut to the largest that keeps it
    at every strike (``phi.options._nb.skew_limit_nb``: closed form in d2, bisection in ``s``).
    The whole wing stays linear in ``ln(S/K)`` (one slope, continuous in every input); realistic
    skews are unchanged bit for bit (at a 2 % rate, 30-day options at 20 % vol keep any skew up
    to 9.46, 1-year ones up to 4.4).

    Not covered: butterflies (three strikes of one kind; no structure holds one). A wing linear
    in ``ln(S/K)`` has a negative density where ``iv sqrt(tau) (1 + s ln(S/K))`` passes
    ``sqrt(2 / s - 2 (rate - dividend_yield) tau)`` (Lee's moment bound: its total variance grows
    faster than ``2 |ln K|``), far out for realistic skews; at or near the limit a put vertical
    close to the money can be valued near 0 (its lower bound), a valid but extreme price.
    """
    moneyness = np.log(np.asarray(spot, dtype=float) / np.asarray(strike, dtype=float))
    iv = np.asarray(iv_atm, dtype=float)
    s: float | np.ndarray = skew
    if tau is not None and skew > 0.0:
        iv_b, tau_b = np.broadcast_arrays(iv, np.asarray(tau, dtype=float))
        lim = np.empty(iv_b.size)
        skew_limits_nb(
            float(skew),
            np.ascontiguousarray(iv_b, dtype=float).ravel(),
            np.ascontiguousarray(tau_b, dtype=float).ravel(),
            float(rate),
            float(dividend_yield),
            lim,
        )
        s = lim.reshape(iv_b.shape)
    return iv * (1.0 + s * np.maximum(0.0, moneyness))


def skew_limit(
    skew: float, iv_atm: float, tau: float, rate: float = 0.0, dividend_yield: float = 0.0
) -> float:
    """The put skew the model uses at this ATM vol and time to expiry: ``skew`` itself, or the
    steepest skew below it free of vertical-spread arbitrage (see :func:`skewed_iv`).

    >>> skew_limit(3.0, 0.2, 30 / 365, 0.02)  # a realistic skew: unchanged
    3.0
    >>> round(skew_limit(5.0, 0.5, 10.0, 0.02), 4)  # long-dated, high vol: cut
    1.4758
    """
    return float(
        skew_limit_nb(float(skew), float(iv_atm), float(tau), float(rate), float(dividend_yield))
    )
