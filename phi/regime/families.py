"""Labelled market-process families for judging the regime engine out of sample.

Each family is a seeded generator ``make(n, seed) -> Labelled``: OHLCV bars plus, per bar, a
direction label (``"up"``, ``"down"``, ``"range"``) and a volatility label (``"low"``,
``"normal"``, ``"high"``) that come from the *process* (its drift, its mean reversion, its
volatility state), never from a feature of the bars. Volume is noise that carries no regime
information (lognormal, with an intraday U-shape on hourly bars), so an engine that reads regimes
from volume gains nothing here. Segment lengths are random (60-400 bars for direction except in
``short_regimes``, 40-300 for volatility), and direction and volatility switch independently.

==================  =========================================================================
family              process
==================  =========================================================================
``trend_ou``        drift trends of several strengths (|mu| / sigma 0.06-0.25 per bar) vs
                    Ornstein-Uhlenbeck ranges of several pulls (0.02-0.2 per bar); daily
``weak_band``       weak trends in high noise (|mu| / sigma 0.04-0.08) vs a bounded band
                    (log price reflected inside +-4-10 %); daily
``vol_states``      direction x an independent three-state volatility (0.5x, 1x, 2.5x), fat-
                    tailed Student-t(3) shocks; daily
``garch``           driftless GARCH(1, 1) with a two-state long-run variance (calm / stressed);
                    the volatility label is the tercile of the true conditional volatility
``jumps``           trends / ranges with two-state volatility and Poisson jumps (5 % of bars,
                    4-8 sigma, either sign); the label is the diffusion's state; daily
``intraday``        hourly bars (7 a session, weekdays) with a U-shaped intraday volatility
                    (1.6x at the open and close, 0.7x at midday), trends / OU ranges and two-
                    state volatility; the volatility label is the state, not the seasonality
``breakouts``       bounded ranges broken by a 2-4 sigma bar and a strong trend at 1.3x vol for
                    20-60 bars, then a calmer trend; the bars of the strong phase are flagged
                    (the transitional kingdom's target); daily, constant vol label
``short_regimes``   trends (|mu| / sigma 0.15-0.4) and OU ranges (pull 0.1-0.3) of 20-80 bars;
                    daily, constant vol
==================  =========================================================================

:func:`ex_post_labels` labels any real OHLCV frame for *evaluation only*: the direction label
from the efficiency ratio of the **next** 20 bars (top third "up"/"down" by the sign of those
bars' return, bottom third "range", the middle unlabelled) and the volatility label from the
next 20 bars' realised volatility (terciles). Those labels look ahead on purpose and never
reach the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

__all__ = ["FAMILIES", "Labelled", "ex_post_labels", "make_family"]

DIRECTIONS = ("up", "down", "range")
VOLS = ("low", "normal", "high")
SIGMA = 0.01  # base per-bar volatility of the daily families


@dataclass(frozen=True)
class Labelled:
    """Bars and their true labels (both aligned to ``ohlcv.index``)."""

    ohlcv: pd.DataFrame
    direction: np.ndarray  # object array of "up" / "down" / "range" (or None: unlabelled)
    vol: np.ndarray  # object array of "low" / "normal" / "high" (or None)
    family: str
    #: True on the first bars of a move out of a range (a breakout), if the family has them
    breakout: np.ndarray | None = None


# ---------------------------------------------------------------------------- kernels


@njit(cache=True)
def _ar1_nb(e: np.ndarray, keep: np.ndarray, target: np.ndarray) -> np.ndarray:
    """x_t = target_t + keep_t (x_(t-1) - target_t) + e_t, x_(-1) = target_0."""
    n = e.shape[0]
    x = np.empty(n)
    prev = target[0] if n else 0.0
    for t in range(n):
        prev = target[t] + keep[t] * (prev - target[t]) + e[t]
        x[t] = prev
    return x


@njit(cache=True)
def _band_nb(e: np.ndarray, half: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """A random walk reflected inside [centre - half, centre + half] where half > 0, free elsewhere."""
    n = e.shape[0]
    x = np.empty(n)
    prev = centre[0] if n else 0.0
    for t in range(n):
        v = prev + e[t]
        if half[t] > 0.0:
            lo = centre[t] - half[t]
            hi = centre[t] + half[t]
            for _ in range(4):
                if v > hi:
                    v = 2.0 * hi - v
                elif v < lo:
                    v = 2.0 * lo - v
            v = min(hi, max(lo, v))
        x[t] = v
        prev = v
    return x


@njit(cache=True)
def _garch_nb(z: np.ndarray, omega: np.ndarray, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """GARCH(1, 1) returns and conditional vol with a time-varying omega."""
    n = z.shape[0]
    r = np.empty(n)
    sig = np.empty(n)
    var = omega[0] / (1.0 - a - b) if n else 0.0
    for t in range(n):
        if t > 0:
            var = omega[t] + a * r[t - 1] * r[t - 1] + b * var
        sig[t] = np.sqrt(var)
        r[t] = sig[t] * z[t]
    return r, sig


# ---------------------------------------------------------------------------- building blocks


def _segments(rng: np.random.Generator, n: int, lo: int, hi: int) -> list[tuple[int, int]]:
    out, start = [], 0
    while start < n:
        end = min(n, start + int(rng.integers(lo, hi + 1)))
        out.append((start, end))
        start = end
    return out


def _vol_path(rng: np.random.Generator, n: int, levels: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar volatility multiplier and label from random states of random length."""
    mult = np.empty(n)
    lab = np.empty(n, dtype=object)
    names = list(levels)
    prev = "normal"
    for a, b in _segments(rng, n, 40, 300):
        choices = [s for s in names if s != prev] or names
        state = str(rng.choice(choices))
        mult[a:b] = levels[state]
        lab[a:b] = state
        prev = state
    return mult, lab


def _direction_path(
    rng: np.random.Generator,
    n: int,
    drift: tuple[float, float],
    pull: tuple[float, float],
    range_share: float = 0.5,
    lengths: tuple[int, int] = (60, 400),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bar drift (in units of the bar's sigma), OU keep factor (1 = no pull) and label."""
    mu = np.zeros(n)
    keep = np.ones(n)
    lab = np.empty(n, dtype=object)
    for a, b in _segments(rng, n, *lengths):
        if rng.random() < range_share:
            keep[a:b] = 1.0 - rng.uniform(*pull)
            lab[a:b] = "range"
        else:
            sign = 1.0 if rng.random() < 0.5 else -1.0
            mu[a:b] = sign * rng.uniform(*drift)
            lab[a:b] = "up" if sign > 0 else "down"
    return mu, keep, lab


def _log_price(mu: np.ndarray, keep: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    """Log price: random walk with drift where keep == 1, OU around the segment's anchor elsewhere.

    The OU part is built on the deviation from the level at which the range segment started,
    so a range starts where the previous segment ended (no jump).
    """
    n = mu.shape[0]
    x = np.empty(n)
    level = 0.0
    key = mu + 10.0 * keep  # constant within a segment
    for a, b in _segments_from_labels(key):
        seg = slice(a, b)
        if keep[a] < 1.0:
            x[seg] = level + _ar1_nb(shocks[seg], keep[seg], np.zeros(b - a))
        else:
            x[seg] = level + np.cumsum(mu[seg] + shocks[seg])
        level = x[b - 1]
    return x


def _bars(
    rng: np.random.Generator,
    logp: np.ndarray,
    sigma: np.ndarray,
    index: pd.DatetimeIndex,
    volume_shape: np.ndarray | None = None,
) -> pd.DataFrame:
    """OHLCV from a log close path: open near the previous close, high/low beyond the body."""
    n = logp.shape[0]
    close = 100.0 * np.exp(logp)
    prev = np.concatenate([[close[0]], close[:-1]])
    open_ = prev * np.exp(rng.normal(0.0, 0.15, n) * sigma)
    body_hi = np.maximum(open_, close)
    body_lo = np.minimum(open_, close)
    high = body_hi * np.exp(np.abs(rng.normal(0.0, 0.5, n)) * sigma)
    low = body_lo * np.exp(-np.abs(rng.normal(0.0, 0.5, n)) * sigma)
    vol = np.exp(rng.normal(13.0, 0.35, n))
    if volume_shape is not None:
        vol = vol * volume_shape
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": np.round(vol)},
        index=index,
    )


def _daily_index(n: int) -> pd.DatetimeIndex:
    return pd.date_range("1990-01-01", periods=n, freq="B", tz="UTC", name="timestamp")


# ---------------------------------------------------------------------------- families


def trend_ou(n: int, seed: int) -> Labelled:
    """Drift trends of several strengths vs OU ranges of several pulls (daily, constant vol)."""
    rng = np.random.default_rng([seed, 1])
    mu, keep, lab = _direction_path(rng, n, (0.06, 0.25), (0.02, 0.2))
    sigma = np.full(n, SIGMA)
    x = _log_price(mu * sigma, keep, rng.normal(0.0, 1.0, n) * sigma)
    vol = np.full(n, "normal", dtype=object)
    return Labelled(_bars(rng, x, sigma, _daily_index(n)), lab, vol, "trend_ou")


def weak_band(n: int, seed: int) -> Labelled:
    """Weak trends in high noise vs a bounded band (daily, constant vol)."""
    rng = np.random.default_rng([seed, 2])
    sigma = np.full(n, 1.5 * SIGMA)
    mu, keep, lab = _direction_path(rng, n, (0.04, 0.08), (0.5, 0.5))
    shocks = rng.normal(0.0, 1.0, n) * sigma
    x = np.empty(n)
    level = 0.0
    for a, b in _segments_from_labels(lab):
        seg = slice(a, b)
        if lab[a] == "range":
            half = np.full(b - a, rng.uniform(0.04, 0.10))
            x[seg] = _band_nb(shocks[seg], half, np.full(b - a, level))
        else:
            x[seg] = level + np.cumsum(mu[seg] * sigma[seg] + shocks[seg])
        level = x[b - 1]
    vol = np.full(n, "normal", dtype=object)
    return Labelled(_bars(rng, x, sigma, _daily_index(n)), lab, vol, "weak_band")


def _segments_from_labels(lab: np.ndarray) -> list[tuple[int, int]]:
    change = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    edges = [0, *change.tolist(), len(lab)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def vol_states(n: int, seed: int) -> Labelled:
    """Direction x an independent three-state volatility, Student-t(3) shocks (daily)."""
    rng = np.random.default_rng([seed, 3])
    mult, vlab = _vol_path(rng, n, {"low": 0.5, "normal": 1.0, "high": 2.5})
    sigma = SIGMA * mult
    mu, keep, lab = _direction_path(rng, n, (0.08, 0.25), (0.03, 0.15))
    t3 = rng.standard_t(3, n) / np.sqrt(3.0)
    x = _log_price(mu * sigma, keep, t3 * sigma)
    return Labelled(_bars(rng, x, sigma, _daily_index(n)), lab, vlab, "vol_states")


def garch(n: int, seed: int) -> Labelled:
    """Driftless GARCH(1, 1) with a two-state long-run variance; vol label = tercile of true vol."""
    rng = np.random.default_rng([seed, 4])
    mult, _ = _vol_path(rng, n, {"normal": 1.0, "high": 2.2})
    a, b = 0.08, 0.90
    omega = (SIGMA * mult) ** 2 * (1.0 - a - b)
    r, sig = _garch_nb(rng.standard_t(6, n) / np.sqrt(1.5), omega, a, b)
    lo, hi = np.quantile(sig, [1 / 3, 2 / 3])
    vlab = np.where(sig <= lo, "low", np.where(sig >= hi, "high", "normal")).astype(object)
    lab = np.full(n, "range", dtype=object)
    return Labelled(_bars(rng, np.cumsum(r), sig, _daily_index(n)), lab, vlab, "garch")


def jumps(n: int, seed: int) -> Labelled:
    """Trends / ranges with two-state volatility and Poisson jumps of 4-8 sigma (daily)."""
    rng = np.random.default_rng([seed, 5])
    mult, vlab = _vol_path(rng, n, {"low": 0.6, "normal": 1.0, "high": 2.2})
    sigma = SIGMA * mult
    mu, keep, lab = _direction_path(rng, n, (0.08, 0.25), (0.03, 0.15))
    shocks = rng.normal(0.0, 1.0, n) * sigma
    hit = rng.random(n) < 0.05
    shocks[hit] += rng.choice([-1.0, 1.0], int(hit.sum())) * rng.uniform(4.0, 8.0, int(hit.sum())) * SIGMA
    x = _log_price(mu * sigma, keep, shocks)
    return Labelled(_bars(rng, x, sigma, _daily_index(n)), lab, vlab, "jumps")


def intraday(n: int, seed: int) -> Labelled:
    """Hourly session bars with U-shaped intraday vol, trends / OU ranges, two-state vol."""
    rng = np.random.default_rng([seed, 6])
    per_day = 7
    days = pd.bdate_range("2015-01-05", periods=n // per_day + 2, tz="UTC")
    hours = pd.to_timedelta(np.arange(14, 14 + per_day), unit="h")
    index = pd.DatetimeIndex((days.values[:, None] + hours.values[None, :]).ravel()[:n], tz=None)
    index = index.tz_localize("UTC").rename("timestamp")
    season = np.array([1.6, 1.1, 0.8, 0.7, 0.8, 1.1, 1.6])[np.arange(n) % per_day]
    mult, vlab = _vol_path(rng, n, {"low": 0.5, "normal": 1.0, "high": 2.2})
    sigma = 0.003 * mult * season
    mu, keep, lab = _direction_path(rng, n, (0.08, 0.25), (0.02, 0.15))
    x = _log_price(mu * 0.003 * mult, keep, rng.normal(0.0, 1.0, n) * sigma)
    return Labelled(_bars(rng, x, sigma, index, volume_shape=season**1.5), lab, vlab, "intraday")


def breakouts(n: int, seed: int) -> Labelled:
    """Bounded ranges broken by a sudden move: a 2-4 sigma bar, then a strong trend at 1.3x
    volatility for 20-60 bars, then a calmer trend (daily; every bar's vol label "normal").
    The bars of each break (the strong phase) are flagged ``breakout``."""
    rng = np.random.default_rng([seed, 7])
    x = np.empty(n)
    sigma = np.empty(n)
    lab = np.empty(n, dtype=object)
    vlab = np.empty(n, dtype=object)
    brk = np.zeros(n, dtype=bool)
    level, t = 0.0, 0
    while t < n:
        m = min(n - t, int(rng.integers(100, 300)))  # range
        sig = np.full(m, SIGMA)
        e = rng.normal(0.0, 1.0, m) * sig
        x[t : t + m] = _band_nb(e, np.full(m, rng.uniform(0.03, 0.06)), np.full(m, level))
        sigma[t : t + m], lab[t : t + m], vlab[t : t + m] = sig, "range", "normal"
        level, t = x[t + m - 1], t + m
        if t >= n:
            break
        sign = 1.0 if rng.random() < 0.5 else -1.0
        m1 = min(n - t, int(rng.integers(20, 61)))  # the break
        sig = np.full(m1, 1.3 * SIGMA)
        steps = sign * rng.uniform(0.25, 0.4) * sig + rng.normal(0.0, 1.0, m1) * sig
        steps[0] += sign * rng.uniform(2.0, 4.0) * SIGMA
        x[t : t + m1] = level + np.cumsum(steps)
        sigma[t : t + m1], lab[t : t + m1], vlab[t : t + m1] = sig, "up" if sign > 0 else "down", "normal"
        brk[t : t + m1] = True
        level, t = x[t + m1 - 1], t + m1
        m2 = min(n - t, int(rng.integers(40, 200)))  # the trend calms down
        if m2 <= 0:
            break
        sig = np.full(m2, SIGMA)
        x[t : t + m2] = level + np.cumsum(sign * rng.uniform(0.08, 0.2) * sig + rng.normal(0.0, 1.0, m2) * sig)
        sigma[t : t + m2], lab[t : t + m2], vlab[t : t + m2] = sig, "up" if sign > 0 else "down", "normal"
        level, t = x[t + m2 - 1], t + m2
    return Labelled(_bars(rng, x, sigma, _daily_index(n)), lab, vlab, "breakouts", brk)


def short_regimes(n: int, seed: int) -> Labelled:
    """Short regimes: drift trends (|mu| / sigma 0.15-0.4) and OU ranges (pull 0.1-0.3) lasting
    20-80 bars each (daily, constant vol)."""
    rng = np.random.default_rng([seed, 8])
    mu, keep, lab = _direction_path(rng, n, (0.15, 0.4), (0.1, 0.3), lengths=(20, 80))
    sigma = np.full(n, SIGMA)
    x = _log_price(mu * sigma, keep, rng.normal(0.0, 1.0, n) * sigma)
    vol = np.full(n, "normal", dtype=object)
    return Labelled(_bars(rng, x, sigma, _daily_index(n)), lab, vol, "short_regimes")


#: name -> generator(n, seed)
FAMILIES: dict[str, Callable[[int, int], Labelled]] = {
    "trend_ou": trend_ou,
    "weak_band": weak_band,
    "vol_states": vol_states,
    "garch": garch,
    "jumps": jumps,
    "intraday": intraday,
    "breakouts": breakouts,
    "short_regimes": short_regimes,
}


def make_family(name: str, n: int = 6000, seed: int = 0) -> Labelled:
    """Bars and labels of family ``name`` (see :data:`FAMILIES`)."""
    from phi.errors import ConfigError, unknown_choice

    if name not in FAMILIES:
        raise ConfigError(unknown_choice("family", name, list(FAMILIES)))
    if n < 100:
        raise ConfigError(f"a family needs at least 100 bars, got n={n}")
    return FAMILIES[name](int(n), int(seed))


# ---------------------------------------------------------------------------- real bars


def ex_post_labels(ohlcv: pd.DataFrame, horizon: int = 20, name: str = "real") -> Labelled:
    """Label real bars from what happened over the **next** ``horizon`` bars (evaluation only).

    Direction: efficiency ratio of bars t+1..t+horizon; its top third is "up" or "down" (sign of
    the return over those bars), its bottom third "range", the rest unlabelled (None).
    Volatility: realised vol of the next ``horizon`` returns, by terciles. The last ``horizon``
    bars are unlabelled. ``ohlcv`` as :func:`phi.regime.features.regime_bars` takes it (only the
    closes are read); the result holds the conformed frame.
    """
    from phi.regime.features import regime_bars

    ohlcv = regime_bars(ohlcv, ("close",))
    c = ohlcv["close"].to_numpy(dtype=np.float64)
    r = np.diff(np.log(c), prepend=np.nan)
    n = len(c)
    fut = np.full((n, horizon), np.nan)
    for k in range(1, horizon + 1):
        fut[: n - k, k - 1] = r[k:]
    ok = ~np.isnan(fut).any(axis=1)
    s = np.nansum(fut, axis=1)
    a = np.nansum(np.abs(fut), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        er = np.where(ok & (a > 0), np.abs(s) / a, np.nan)
    filled = np.where(ok[:, None], fut, 0.0)
    rv = np.where(ok, filled.std(axis=1), np.nan)
    e_lo, e_hi = np.nanquantile(er, [1 / 3, 2 / 3])
    v_lo, v_hi = np.nanquantile(rv, [1 / 3, 2 / 3])
    direction = np.full(n, None, dtype=object)
    direction[ok & (er >= e_hi) & (s > 0)] = "up"
    direction[ok & (er >= e_hi) & (s <= 0)] = "down"
    direction[ok & (er <= e_lo)] = "range"
    vol = np.full(n, None, dtype=object)
    vol[ok] = "normal"
    vol[ok & (rv <= v_lo)] = "low"
    vol[ok & (rv >= v_hi)] = "high"
    return Labelled(ohlcv, direction, vol, name)
