"""Data vendors: one module per source, each split into a transport (the request) and pure
``parse_*`` functions tested offline on hand-made payloads.

Every vendor returns a :class:`VendorData`; :func:`phi.data.fetchers.fetch_result` slices it to
the requested dates, validates it (:func:`phi.data.schema.check_ohlcv`) and wraps it in a
``FetchResult``. The helpers here are shared by the vendors.

Bar stamps
----------
Daily bars are stamped 00:00 UTC of the local session date. Intraday bars are stamped at
the **start** of their interval, in UTC, the way Yahoo and Alpha Vantage stamp them: a bar
stamped ``T`` covers ``[T, T + length)`` and is known at its close. 4H bars follow the same
rule (see :func:`resample_session_4h`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from phi.data.schema import OHLCV_COLUMNS

#: time-zone names vendors send, mapped to their canonical IANA name
TZ_ALIASES: dict[str, str] = {
    "US/Eastern": "America/New_York",
    "US/Central": "America/Chicago",
    "US/Pacific": "America/Los_Angeles",
    "EST": "America/New_York",
}

FOUR_HOURS = pd.Timedelta(hours=4)


@dataclass
class VendorData:
    """What a vendor module hands back before the shared slicing and validation.

    ``frame`` has a tz-aware UTC index and (at least) the OHLCV columns; ``notes`` are
    vendor-level repairs; ``extra`` holds vendor specifics (never an API key).
    """

    frame: pd.DataFrame
    adjustment: str
    exchange_tz: str = "UTC"
    notes: list[str] = field(default_factory=list)
    coverage_start: pd.Timestamp | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    symbol: str | None = None


def canonical_tz(name: object) -> str:
    """IANA name of a vendor's time zone (``US/Eastern`` -> ``America/New_York``); 'UTC' if unknown."""
    if name is None:
        return "UTC"
    text = str(name).strip()
    if not text:
        return "UTC"
    return TZ_ALIASES.get(text, text)


def one_line(text: object, limit: int = 300) -> str:
    """Collapse ``text`` to one line of at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def empty_ohlcv() -> pd.DataFrame:
    """An OHLCV frame with no rows (UTC index)."""
    idx = pd.DatetimeIndex([], tz="UTC", name="timestamp")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in OHLCV_COLUMNS}, index=idx)


def daily_stamps(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """00:00 UTC of each stamp's *local* date (a 00:00 New York stamp stays on its date)."""
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize().tz_localize("UTC").rename("timestamp")


def localize_wall_times(index: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """Naive wall-clock stamps in ``tz`` -> UTC."""
    idx = pd.DatetimeIndex(index)
    return (
        idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        .tz_convert("UTC")
        .rename("timestamp")
    )


def session_anchor(index_utc: pd.DatetimeIndex, tz: str) -> pd.Timedelta:
    """The most common local time of the first bar of each day (e.g. 09:30 for NYSE)."""
    return _anchor_of(pd.DatetimeIndex(index_utc).tz_convert(tz).tz_localize(None))


def _anchor_of(local: pd.DatetimeIndex) -> pd.Timedelta:
    days = local.normalize()
    first = pd.Series(local, index=days).groupby(level=0).min()
    tods = (first - first.index).value_counts()
    # most common first-bar time; ties go to the earliest
    best = tods[tods == tods.max()].index.min()
    return pd.Timedelta(best)


def resample_session_4h(
    frame: pd.DataFrame,
    tz: str,
    anchor: pd.Timedelta | None = None,
    *,
    wall: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Resample intraday bars (e.g. 1H) to 4H bins anchored at the session open, per local day.

    Convention: bins are built on the exchange's wall clock in ``tz``. The anchor is the
    session open (the usual local time of each day's first bar, e.g. 09:30 in New York),
    so a regular NYSE day gives two bars: 09:30-13:30 and 13:30-16:00 (the last bin is
    short). Each 4H bar is stamped at its bin **start** (in UTC), like every intraday bar
    in Phi-nance, and holds only source bars stamped in ``[start, start + 4h)`` of the
    same local date: no 4H bar ever contains data from a later bin or a later day.
    Bars before the anchor (pre-market) fall into earlier bins of the same day.
    open = first open, high = max, low = min, close = last close, volume = sum.

    ``frame`` must be sorted, unique and valid (run :func:`phi.data.schema.check_ohlcv` first).
    ``wall`` (naive, aligned with ``frame``) gives the local wall-clock times directly when
    they are known but the zone is not (e.g. a file with UTC offsets); ``tz`` is then unused.
    """
    if len(frame) == 0:
        return empty_ohlcv()
    idx_utc = pd.DatetimeIndex(frame.index)
    local = idx_utc.tz_convert(tz).tz_localize(None) if wall is None else pd.DatetimeIndex(wall)
    if anchor is None:
        anchor = _anchor_of(local)
    day = local.normalize()
    rel = (local - day) - anchor  # wall-clock time since the anchor
    k = np.asarray(rel // FOUR_HOURS, dtype=np.int64)  # bin number within the day (< 0 pre-anchor)
    into_bin = rel - pd.to_timedelta(k * FOUR_HOURS.value, unit="ns")
    # bin start in UTC = the bar's UTC stamp minus its wall-clock offset into the bin; the
    # first bar of each bin sets the stamp, so a DST change inside a bin cannot split it
    bin_start = (idx_utc - into_bin).tz_convert("UTC")
    day_no = np.asarray((day - pd.Timestamp(0)) // pd.Timedelta(days=1), dtype=np.int64)
    key = day_no * 64 + (k + 16)
    work = pd.DataFrame(
        {
            "open": frame["open"].to_numpy(),
            "high": frame["high"].to_numpy(),
            "low": frame["low"].to_numpy(),
            "close": frame["close"].to_numpy(),
            "volume": frame["volume"].to_numpy(),
            "stamp": bin_start,
        },
        index=pd.Index(key, name="bin"),
    )
    g = work.groupby(level=0, sort=True)
    out = pd.DataFrame(
        {
            "open": g["open"].first(),
            "high": g["high"].max(),
            "low": g["low"].min(),
            "close": g["close"].last(),
            "volume": g["volume"].sum(),
        }
    )
    out.index = pd.DatetimeIndex(g["stamp"].first(), name="timestamp")
    return out.sort_index()
