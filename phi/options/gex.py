"""Dealer gamma exposure (GEX) from an option chain with open interest.

Convention (the usual one: dealers long calls, short puts, as customers sell calls and buy
puts; stated in every output):

``GEX = sign * gamma * open_interest * multiplier * S**2 * 0.01``, ``sign = +1`` for calls,
``-1`` for puts: the change of the dealers' dollar delta for a 1 % move of the underlying
(dollars per 1 % move). Positive GEX: dealers hedge against the move (dampening); negative:
with it (amplifying).

* **Gamma** from the chain's ``gamma`` column where a row has one, else Black-Scholes from its
  ``iv``, else from the implied vol of the quotes' mid. A row with none of these is dropped and
  counted (``GexSurface.dropped``), never given an invented gamma.
* **Days to expiry** from the chain's own quote date (never from today); ``T = days / 365``.
* **Spot** from the ``underlying`` column, else given by the caller, else put-call parity
  at the nearest expiry's strike where ``|call mid - put mid|`` is smallest
  (``S = (C - P + K e^{-rT}) e^{qT}``); the source is recorded.
* **Filters** as in the seed's GammaSurface: open interest >= ``min_open_interest`` and days to
  expiry <= ``max_dte``; expiry-day contracts (0 days) are left out (their gamma is a spike).
* **Smoothing** across strikes: a Gaussian kernel average, sigma = 0.5 % of spot.
* **Zero-gamma level**: the spot at which the total GEX, with every contract's gamma recomputed
  by Black-Scholes at that hypothetical spot (vols held), changes sign - the root nearest the
  spot within +/- 20 % (NaN if none).
* **Walls**: the call wall is the strike with the largest call GEX (all expiries), the put wall
  the strike with the largest absolute put GEX.
* **Features** (the seed's): ``gamma_net`` = smoothed GEX interpolated at spot / max |smoothed
  GEX| in [-1, 1]; ``gamma_wall_distance`` = signed (K - S) / S to the nearer of the largest
  |smoothed GEX| strike above and below the spot, clipped to +/-0.20; ``gamma_expiry_days`` =
  days to the expiry with the largest sum of gamma x OI; ``gex_flip_zone`` = 1 if the smoothed
  per-strike GEX changes sign within 10 % of spot.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from phi.data.schema import conform_bars
from phi.errors import ConfigError, DataError
from phi.options.black_scholes import bs_greeks, implied_vol_detail
from phi.options.chains import OptionChain, load_chain

__all__ = [
    "GEX_CONVENTION",
    "GexSurface",
    "GEX_FEATURES",
    "gamma_exposure",
    "gex_asof",
    "gex_features",
    "gex_profile",
    "gex_regime_inputs",
]

GEX_CONVENTION: Final = (
    "GEX = sign x gamma x open interest x 100 x spot^2 x 0.01 (dollars of dealer delta per 1 % "
    "move); sign +1 calls, -1 puts (dealers long calls, short puts)"
)
_SMOOTH: Final = 0.005  # Gaussian sigma across strikes, fraction of spot
_WALL_CLIP: Final = 0.20
_FLIP_BAND: Final = 0.10
_PROFILE_BAND: Final = 0.20
#: The per-date features joined onto bars (ML inputs, shown beside the regime engine).
GEX_FEATURES: Final = ("gamma_net", "gamma_wall_distance", "gamma_expiry_days", "gex_flip_zone")
#: Default: a chain older than this many calendar days is not carried to a bar (NaN instead).
MAX_AGE_DAYS: Final = 4


@dataclass(frozen=True)
class GexSurface:
    """Gamma exposure of one day's chain.

    Attributes
    ----------
    date : Timestamp
        The chain's quote date.
    spot, spot_source : float, str
        The underlying price used and where it came from.
    contracts : DataFrame
        One row per contract kept: ``expiry, strike, kind, open_interest, dte, gamma, iv,
        gamma_source, gex``.
    surface : DataFrame
        GEX by strike (rows) x expiry (columns), calls + puts.
    by_strike : DataFrame
        Per strike over all expiries: ``call_gex, put_gex, gex, smoothed``.
    zero_gamma : float
        The spot at which the total GEX changes sign (NaN: none within +/-20 % of spot).
    call_wall, put_wall : float
        Strikes of the largest call GEX and the largest absolute put GEX (NaN: none).
    features : dict
        ``gamma_net, gamma_wall_distance, gamma_expiry_days, gex_flip_zone``.
    dropped : dict
        Rows left out, by reason.
    multiplier : float
    """

    date: pd.Timestamp
    spot: float
    spot_source: str
    contracts: pd.DataFrame
    surface: pd.DataFrame
    by_strike: pd.DataFrame
    zero_gamma: float
    call_wall: float
    put_wall: float
    features: dict[str, float]
    dropped: dict[str, int] = field(default_factory=dict)
    multiplier: float = 100.0

    @property
    def total(self) -> float:
        """Total GEX over every contract kept (dollars per 1 % move)."""
        return float(self.contracts["gex"].sum())


def _mid(df: pd.DataFrame) -> np.ndarray:
    return ((df["bid"] + df["ask"]) / 2.0).to_numpy(dtype=np.float64)


def _parity_spot(day: pd.DataFrame, r: float, q: float) -> float:
    """Spot implied by put-call parity at the nearest expiry with a quoted call/put pair."""
    quoted = day[day["bid"].notna() & day["ask"].notna()]
    for expiry in sorted(quoted["expiry"].unique()):
        sub = quoted[quoted["expiry"] == expiry]
        c = sub[sub["kind"] == "call"].set_index("strike")
        p = sub[sub["kind"] == "put"].set_index("strike")
        both = c.index.intersection(p.index)
        if len(both) == 0:
            continue
        diff = _mid(c.loc[both]) - _mid(p.loc[both])
        i = int(np.argmin(np.abs(diff)))
        k = float(both[i])
        t = (pd.Timestamp(expiry) - day["date"].iloc[0]).days / 365.0
        return float((diff[i] + k * np.exp(-r * t)) * np.exp(q * t))
    raise DataError(
        "cannot tell the underlying's price: the chain has no 'underlying' column and no "
        "expiry with a quoted call and put at one strike; pass the spot (--spot)"
    )


def _smooth(strikes: np.ndarray, values: np.ndarray, spot: float) -> np.ndarray:
    sigma = _SMOOTH * spot
    w = np.exp(-0.5 * ((strikes[:, None] - strikes[None, :]) / sigma) ** 2)
    return (w @ values) / w.sum(axis=1)


def _sign_change(x: np.ndarray, y: np.ndarray, centre: float) -> float:
    """The zero of y(x) nearest ``centre`` (NaN if y never changes sign). Values within
    1e-9 of max |y| count as zero (rounding noise is no crossing); between two neighbours of
    opposite sign the zero is interpolated linearly, across a run of zeros it is the run's middle."""
    y = np.asarray(y, dtype=np.float64)
    top = float(np.nanmax(np.abs(y))) if len(y) else 0.0
    if not np.isfinite(top) or top == 0.0:
        return float("nan")
    nz = np.flatnonzero(np.abs(y) > 1e-9 * top)
    roots = []
    for i, j in zip(nz[:-1], nz[1:], strict=True):
        if np.sign(y[i]) == np.sign(y[j]):
            continue
        if j == i + 1:
            roots.append(x[i] - y[i] * (x[j] - x[i]) / (y[j] - y[i]))
        else:
            roots.append(0.5 * (x[i + 1] + x[j - 1]))
    if not roots:
        return float("nan")
    r = np.asarray(roots, dtype=np.float64)
    return float(r[int(np.argmin(np.abs(r - centre)))])



def _number(name: str, value: object, low: float, high: float, rule: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number {rule}, got {value!r}")
    x = float(value)
    if not low <= x <= high:
        raise ConfigError(f"{name} must be {rule}, got {value!r}")
    return x


def _settings(r: object, q: object, min_open_interest: object, max_dte: object, multiplier: object = 100.0) -> None:
    """One-line ConfigErrors for the GEX settings (before any quote is read)."""
    _number("r", r, -0.5, 1.0, "in [-0.5, 1]")
    _number("q", q, -0.5, 1.0, "in [-0.5, 1]")
    _number("min_open_interest", min_open_interest, 0.0, 1e15, "in [0, 1e15]")
    _number("multiplier", multiplier, 1e-9, 1e9, "> 0")
    if max_dte is not None and (
        isinstance(max_dte, (bool, np.bool_)) or not isinstance(max_dte, (int, np.integer)) or not 1 <= max_dte <= 36500
    ):
        raise ConfigError(f"max_dte must be a whole number of days >= 1 or None, got {max_dte!r}")


def _chain(chain: object) -> OptionChain:
    if isinstance(chain, OptionChain):
        return chain
    if isinstance(chain, (str, os.PathLike)):
        return load_chain(os.fspath(chain))
    raise ConfigError(f"chain must be an OptionChain or the path of a chain CSV, got {type(chain).__name__}")


def _day(date: object) -> pd.Timestamp:
    if isinstance(date, (bool, np.bool_)) or not isinstance(date, (str, pd.Timestamp, datetime.date, np.datetime64)):
        raise ConfigError(f"date must be a date (YYYY-MM-DD or a Timestamp), got {date!r}")
    try:
        ts = pd.Timestamp(date)
    except (ValueError, TypeError, OverflowError):
        raise ConfigError(f"date {date!r} is not a date (use YYYY-MM-DD)") from None
    if ts is pd.NaT:
        raise ConfigError(f"date {date!r} is not a date (use YYYY-MM-DD)")
    from phi.data.dates import SPAN, in_span

    if not in_span(ts):  # year -2021 or 9999: no chain holds it, and strftime cannot print it
        raise ConfigError(f"date {date!r} is outside the supported dates {SPAN}")
    return ts


def gex_profile(surface: GexSurface, spots: np.ndarray, r: float = 0.0, q: float = 0.0) -> np.ndarray:
    """Total GEX at each hypothetical spot in ``spots``: every contract's gamma recomputed by
    Black-Scholes at that spot with its own vol held (contracts without a vol are left out)."""
    try:
        spots = np.asarray(spots, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(f"spots must be an array of prices, got {spots!r}") from None
    c = surface.contracts
    ok = np.isfinite(c["iv"].to_numpy(dtype=np.float64))
    if not ok.any():
        return np.full(len(spots), np.nan)
    k = c["strike"].to_numpy(dtype=np.float64)[ok]
    t = c["dte"].to_numpy(dtype=np.float64)[ok] / 365.0
    vol = c["iv"].to_numpy(dtype=np.float64)[ok]
    sign = np.where(c["kind"].to_numpy()[ok] == "call", 1.0, -1.0)
    w = sign * c["open_interest"].to_numpy(dtype=np.float64)[ok] * surface.multiplier
    s = np.asarray(spots, dtype=np.float64)[:, None]
    g = bs_greeks(np.broadcast_to(s, (len(s), len(k))), k, t, r, q, vol, "call").gamma
    return np.asarray((g * w).sum(axis=1) * s[:, 0] ** 2 * 0.01)


def gamma_exposure(
    chain: OptionChain | str,
    date: str | pd.Timestamp | None = None,
    *,
    spot: float | None = None,
    r: float = 0.0,
    q: float = 0.0,
    min_open_interest: float = 100.0,
    max_dte: int | None = 60,
    multiplier: float = 100.0,
) -> GexSurface:
    """Dealer gamma exposure of one day of ``chain`` (a path or a loaded chain; see the module
    notes for the convention).

    Parameters
    ----------
    chain : OptionChain or str
        Needs an ``open_interest`` column.
    date : str or Timestamp, optional
        The quote date (default: the chain's last date).
    spot : float, optional
        The underlying's price (default: the chain's ``underlying`` column, else put-call parity).
    r, q : float
        Rate and dividend yield for Black-Scholes gammas and parity.
    min_open_interest, max_dte
        Filters (``max_dte=None``: every expiry).
    multiplier : float
        Shares per contract.

    Returns
    -------
    GexSurface
    """
    _settings(r, q, min_open_interest, max_dte, multiplier)
    ch = _chain(chain)
    qt = ch.quotes
    if "open_interest" not in qt.columns:
        raise DataError(f"option chain {ch.path}: no column 'open_interest' (GEX needs open interest)")
    day_ts = qt["date"].max() if date is None else _day(date)
    if day_ts.tzinfo is None:
        day_ts = day_ts.tz_localize("UTC")
    day_ts = day_ts.normalize()
    day = qt[qt["date"] == day_ts]
    if day.empty:
        dates = pd.DatetimeIndex(qt["date"].unique())
        raise DataError(
            f"option chain {ch.path}: no quotes on {day_ts:%Y-%m-%d} (it covers "
            f"{dates.min():%Y-%m-%d}..{dates.max():%Y-%m-%d}, {len(dates)} dates)"
        )
    if spot is not None:
        if isinstance(spot, (bool, np.bool_)) or not isinstance(spot, (int, float, np.integer, np.floating)):
            raise DataError(f"spot must be a positive number, got {spot!r}")
        s, src = float(spot), "given"
        if not np.isfinite(s) or s <= 0:
            raise DataError(f"spot must be a positive number, got {spot!r}")
    elif "underlying" in day.columns and day["underlying"].notna().any():
        s, src = float(day["underlying"].dropna().iloc[0]), "the chain's underlying column"
    else:
        s, src = _parity_spot(day, r, q), "put-call parity (nearest expiry, strike of min |C - P|)"

    dropped: dict[str, int] = {}
    dte = (day["expiry"] - day_ts).dt.days.to_numpy(dtype=np.int64)
    oi = day["open_interest"].to_numpy(dtype=np.float64)
    keep = np.ones(len(day), dtype=bool)
    for reason, bad in (
        ("no open interest", ~np.isfinite(oi)),
        (f"open interest < {min_open_interest:g}", np.isfinite(oi) & (oi < min_open_interest)),
        ("expiry day (0 days left)", dte <= 0),
        (f"more than {max_dte} days to expiry", dte > max_dte if max_dte is not None else np.zeros(len(day), bool)),
    ):
        n_bad = int((bad & keep).sum())
        if n_bad:
            dropped[reason] = n_bad
        keep &= ~bad
    rows = day[keep].copy()
    rows["dte"] = dte[keep]
    t = rows["dte"].to_numpy(dtype=np.float64) / 365.0
    k = rows["strike"].to_numpy(dtype=np.float64)
    kind = rows["kind"].to_numpy()
    iv_col = rows["iv"].to_numpy(dtype=np.float64) if "iv" in rows else np.full(len(rows), np.nan)
    iv = iv_col.copy()
    need_iv = ~np.isfinite(iv)
    if need_iv.any():
        with np.errstate(all="ignore"):
            solved, _ = implied_vol_detail(_mid(rows)[need_iv], s, k[need_iv], t[need_iv], r, q, kind[need_iv])
        iv[need_iv] = solved
    gamma = rows["gamma"].to_numpy(dtype=np.float64) if "gamma" in rows else np.full(len(rows), np.nan)
    model = ~np.isfinite(gamma) & np.isfinite(iv)
    if model.any():
        gamma[model] = bs_greeks(s, k[model], t[model], r, q, iv[model], kind[model]).gamma
    src_g = np.where(
        ~model,
        "chain",
        np.where(np.isfinite(iv_col), "black-scholes from iv", "black-scholes from the mid's implied vol"),
    )
    no_gamma = ~np.isfinite(gamma)
    if no_gamma.any():
        dropped["no gamma, iv or usable quote"] = int(no_gamma.sum())
    rows["gamma"], rows["iv"], rows["gamma_source"] = gamma, iv, src_g
    rows = rows[~no_gamma]
    sign = np.where(rows["kind"].to_numpy() == "call", 1.0, -1.0)
    rows["gex"] = (
        sign * rows["gamma"].to_numpy() * rows["open_interest"].to_numpy() * multiplier * s * s * 0.01
    )
    contracts = rows[
        ["expiry", "strike", "kind", "open_interest", "dte", "gamma", "iv", "gamma_source", "gex"]
    ].reset_index(drop=True)
    return _summarise(day_ts, s, src, contracts, dropped, multiplier, r, q)


def _summarise(
    day: pd.Timestamp,
    s: float,
    src: str,
    c: pd.DataFrame,
    dropped: dict[str, int],
    multiplier: float,
    r: float,
    q: float,
) -> GexSurface:
    nan = float("nan")
    surface = c.pivot_table(index="strike", columns="expiry", values="gex", aggfunc="sum", fill_value=0.0)
    by = pd.DataFrame(
        {
            "call_gex": c[c["kind"] == "call"].groupby("strike")["gex"].sum(),
            "put_gex": c[c["kind"] == "put"].groupby("strike")["gex"].sum(),
        }
    ).fillna(0.0)
    by.index.name = "strike"
    by["gex"] = by["call_gex"] + by["put_gex"]
    features = {"gamma_net": nan, "gamma_wall_distance": nan, "gamma_expiry_days": nan, "gex_flip_zone": 0.0}
    call_wall = put_wall = zero = nan
    if len(by):
        strikes = by.index.to_numpy(dtype=np.float64)
        sm = _smooth(strikes, by["gex"].to_numpy(), s)
        by["smoothed"] = sm
        top = float(np.max(np.abs(sm)))
        if top > 0:
            features["gamma_net"] = float(np.interp(s, strikes, sm) / top)
        cands = []
        for side in (strikes >= s, strikes < s):
            if side.any():
                j = int(np.argmax(np.abs(sm[side])))
                cands.append((strikes[side][j] - s) / s)
        if cands:
            d = min(cands, key=abs)
            features["gamma_wall_distance"] = float(np.clip(d, -_WALL_CLIP, _WALL_CLIP))
        gxo = (c["gamma"] * c["open_interest"]).groupby(c["dte"]).sum()
        features["gamma_expiry_days"] = float(gxo.idxmax())
        zc = _sign_change(strikes, sm, s)
        features["gex_flip_zone"] = float(np.isfinite(zc) and abs(zc - s) <= _FLIP_BAND * s)
        if (by["call_gex"] > 0).any():
            call_wall = float(by["call_gex"].idxmax())
        if (by["put_gex"] < 0).any():
            put_wall = float(by["put_gex"].idxmin())
    out = GexSurface(day, s, src, c, surface, by, nan, call_wall, put_wall, features, dropped, multiplier)
    if len(c):
        grid = s * np.linspace(1.0 - _PROFILE_BAND, 1.0 + _PROFILE_BAND, 401)
        zero = _sign_change(grid, gex_profile(out, grid, r, q), s)
    return GexSurface(day, s, src, c, surface, by, zero, call_wall, put_wall, features, dropped, multiplier)


def gex_features(
    chain: OptionChain | str,
    *,
    spots: pd.Series | None = None,
    r: float = 0.0,
    q: float = 0.0,
    min_open_interest: float = 100.0,
    max_dte: int | None = 60,
) -> pd.DataFrame:
    """The four GEX features, the zero-gamma level and the walls for every date of ``chain``
    (one row per quote date; ``spots`` indexed by date gives the underlying's price, e.g. the
    bars' closes; else the chain's ``underlying`` column or put-call parity).
    Each row uses that date's quotes only."""
    _settings(r, q, min_open_interest, max_dte)
    if spots is not None and not isinstance(spots, pd.Series):
        raise ConfigError(f"spots must be a pandas Series of prices indexed by date, got {type(spots).__name__}")
    ch = _chain(chain)
    rows = []
    for day in pd.DatetimeIndex(ch.quotes["date"].unique()).sort_values():
        s = None
        if spots is not None and day in spots.index and np.isfinite(spots.loc[day]):
            s = float(spots.loc[day])
        g = gamma_exposure(ch, day, spot=s, r=r, q=q, min_open_interest=min_open_interest, max_dte=max_dte)
        rows.append(
            {
                "date": day,
                **g.features,
                "gex_total": g.total,
                "zero_gamma": g.zero_gamma,
                "call_wall": g.call_wall,
                "put_wall": g.put_wall,
                "spot": g.spot,
            }
        )
    return pd.DataFrame(rows).set_index("date")


def _bar_days(index: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, bool]:
    """Each bar's calendar date (in the bars' own time zone) as UTC midnight, and whether the
    bars are intraday (some stamp is not a midnight)."""
    local = index.tz_localize(None) if index.tz is not None else index
    days = local.normalize()
    return days.tz_localize("UTC"), bool((local != days).any())


def gex_asof(
    index: pd.DatetimeIndex, features: pd.DataFrame, max_age_days: int = MAX_AGE_DAYS
) -> pd.DataFrame:
    """Join per-date GEX ``features`` (indexed by chain date, UTC midnight) onto bar stamps,
    causally.

    An end-of-day chain dated d is known at d's close. A daily bar (every stamp a midnight)
    dated t sees the latest chain dated <= t; intraday bars on day t see the latest chain
    dated < t (the day's own chain is not known until its close). A chain more than
    ``max_age_days`` calendar days older than the bar is not carried: the bar stays NaN.
    Columns: ``features``' columns, ``gex_date`` (the chain date used) and ``gex_age_days``;
    ``attrs["gex_missing"]`` counts the bars with no chain.
    """
    if isinstance(max_age_days, bool) or not isinstance(max_age_days, (int, np.integer)) or max_age_days < 0:
        raise DataError(f"max_age_days must be a non-negative integer, got {max_age_days!r}")
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(f"index must be the bars' DatetimeIndex, got {type(index).__name__}")
    days, intraday = _bar_days(index)
    src = features.sort_index()
    chain_days = pd.DatetimeIndex(src.index).to_numpy()
    # position of the latest chain date <= the bar's day (< on intraday bars)
    pos = np.searchsorted(chain_days, days.to_numpy(), side="left" if intraday else "right") - 1
    got = pos >= 0
    used = pd.DatetimeIndex(np.where(got, chain_days[np.clip(pos, 0, None)], np.datetime64("NaT")), tz="UTC")
    age = np.asarray((days - used).days, dtype=np.float64)
    ok = got & (age <= max_age_days)
    out = pd.DataFrame(
        np.where(ok[:, None], src.to_numpy(dtype=np.float64)[np.clip(pos, 0, None)], np.nan),
        index=index,
        columns=src.columns,
    )
    out["gex_date"] = used.where(ok)
    out["gex_age_days"] = np.where(ok, age, np.nan)
    out.attrs["gex_missing"] = int((~ok).sum())
    out.attrs["gex_max_age_days"] = int(max_age_days)
    return out


def gex_regime_inputs(
    bars: pd.DataFrame,
    chain: OptionChain | str,
    *,
    max_age_days: int = MAX_AGE_DAYS,
    r: float = 0.0,
    q: float = 0.0,
    min_open_interest: float = 100.0,
    max_dte: int | None = 60,
) -> pd.DataFrame:
    """The four GEX features of ``chain`` (:data:`GEX_FEATURES`) as-of joined onto ``bars``
    (see :func:`gex_asof` for the causal rule and the staleness limit), to read beside the
    regime engine's result or to feed a classifier.

    The calibrated regime taxonomy does NOT use these columns: its probabilities are the same
    with or without a chain. Each chain date's spot is that day's last close of ``bars`` where
    there is one (else the chain's ``underlying`` column or put-call parity). ``bars`` as
    :func:`phi.data.schema.conform_bars` takes them (only the closes are read).

    Returns
    -------
    DataFrame
        Indexed like ``bars``: ``gamma_net, gamma_wall_distance, gamma_expiry_days,
        gex_flip_zone, gex_date, gex_age_days``; ``attrs["gex_missing"]`` bars without a chain,
        ``attrs["chain_fingerprint"]`` the chain file's SHA-256.
    """
    if not isinstance(bars, pd.DataFrame) or not isinstance(bars.index, pd.DatetimeIndex):
        raise ConfigError(f"bars must be an OHLCV DataFrame with a DatetimeIndex, got {type(bars).__name__}")
    bars = conform_bars(bars, ("close",))  # the bars every entry point takes (only closes read)
    _settings(r, q, min_open_interest, max_dte)
    ch = _chain(chain)
    days, _ = _bar_days(bars.index)
    if len(days) == 0:
        raise DataError("no bars to join the option chain's GEX features onto")
    # only chain dates a bar can see: from max_age_days before the first bar to the last bar
    cd = ch.quotes["date"]
    near = (cd >= days.min() - pd.Timedelta(days=max_age_days)) & (cd <= days.max())
    if not near.any():
        raise DataError(
            f"option chain {ch.path} covers {cd.min():%Y-%m-%d}..{cd.max():%Y-%m-%d}, the bars "
            f"{days.min():%Y-%m-%d}..{days.max():%Y-%m-%d}: no chain date a bar can use"
        )
    if not near.all():
        ch = OptionChain(ch.quotes[near].reset_index(drop=True), ch.path, ch.fingerprint)
    spots = pd.Series(bars["close"].to_numpy(dtype=np.float64), index=days).groupby(level=0).last()
    feats = gex_features(ch, spots=spots, r=r, q=q, min_open_interest=min_open_interest, max_dte=max_dte)
    out = gex_asof(pd.DatetimeIndex(bars.index), feats[list(GEX_FEATURES)], max_age_days)
    out.attrs["chain_fingerprint"] = ch.fingerprint
    out.attrs["chain_path"] = ch.path
    return out
