"""Session dates of a portfolio's daily bars: which trading day each stamp belongs to.

A daily bar's session date is its exchange's local trading date. A stamp is an instant, and
vendors put it at different instants of that day: 00:00 UTC of the date (the data layer,
Alpha Vantage's dates), local midnight (yfinance: 00:00 Asia/Tokyo, 00:00 America/New_York),
the close (16:00 New York = 21:00 UTC in winter, 20:00 in summer). Its calendar date in the
index's own zone is right as long as that zone is the exchange's, or UTC for a market at or
west of UTC. It is a day early for a market east of the zone shown at its local midnight
(Tokyo's 00:00 is 15:00 UTC the day before; Sydney's 13:00/14:00 UTC; London's 23:00 UTC in
summer) and a day late for a western close shown far east (New York's 16:00 is 06:00 in
Tokyo the next day). So:

* **Exchange zone known** (``attrs['exchange_tz']``, else the Yahoo suffix of
  ``attrs['symbol']`` or of the symbol's key: ``7203.T`` Tokyo, ``BHP.AX`` Sydney, ``VOD.L``
  London, see :data:`EXCHANGE_ZONES`): the stamp's date in that zone.
* **Else** the stamp's date in the index's own zone (tz-naive: as written).
* Either way a stamp at exactly 00:00 UTC is a date label and keeps its UTC date (UTC-midnight
  bars converted to New York time are the same bars, not the day before).

Each stamp is dated on its own, so a bar's date never depends on the bars after it. Without a
known zone the dates are checked for the two shifts above: when the bars at neither 00:00 UTC
nor midnight of their own zone span a week or more and fall on Sunday to Thursday (or Tuesday to Saturday) of their zone,
:class:`~phi.errors.EngineError` names the frame and the fix (the exchange's zone, or 00:00
UTC date stamps) rather than pairing the wrong days. Known 24/7 and FX symbols
(:func:`phi.data.calendar._symbol_calendar`, or ``attrs['calendar']``) are not checked.
Shorter frames, and markets that trade Sunday to Thursday, need the zone to be given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.data.calendar import _symbol_calendar, bar_frequency
from phi.errors import EngineError

__all__ = ["EXCHANGE_ZONES", "align_sessions", "exchange_zone", "session_dates"]

#: Yahoo Finance symbol suffixes (and a few index symbols) -> the exchange's IANA time zone.
EXCHANGE_ZONES: Final[dict[str, str]] = {
    ".T": "Asia/Tokyo", ".AX": "Australia/Sydney", ".NZ": "Pacific/Auckland",
    ".HK": "Asia/Hong_Kong", ".SS": "Asia/Shanghai", ".SZ": "Asia/Shanghai",
    ".KS": "Asia/Seoul", ".KQ": "Asia/Seoul", ".TW": "Asia/Taipei", ".TWO": "Asia/Taipei",
    ".SI": "Asia/Singapore", ".NS": "Asia/Kolkata", ".BO": "Asia/Kolkata",
    ".JK": "Asia/Jakarta", ".BK": "Asia/Bangkok", ".KL": "Asia/Kuala_Lumpur",
    ".SR": "Asia/Riyadh", ".TA": "Asia/Jerusalem", ".JO": "Africa/Johannesburg",
    ".L": "Europe/London", ".IL": "Europe/London", ".IR": "Europe/Dublin",
    ".DE": "Europe/Berlin", ".F": "Europe/Berlin", ".PA": "Europe/Paris",
    ".AS": "Europe/Amsterdam", ".BR": "Europe/Brussels", ".MI": "Europe/Rome",
    ".MC": "Europe/Madrid", ".LS": "Europe/Lisbon", ".SW": "Europe/Zurich",
    ".VI": "Europe/Vienna", ".ST": "Europe/Stockholm", ".CO": "Europe/Copenhagen",
    ".OL": "Europe/Oslo", ".HE": "Europe/Helsinki",
    ".TO": "America/Toronto", ".V": "America/Toronto", ".SA": "America/Sao_Paulo",
    ".MX": "America/Mexico_City",
    "^N225": "Asia/Tokyo", "^AXJO": "Australia/Sydney", "^HSI": "Asia/Hong_Kong",
    "^KS11": "Asia/Seoul", "^NSEI": "Asia/Kolkata", "^FTSE": "Europe/London",
    "^GDAXI": "Europe/Berlin", "^FCHI": "Europe/Paris",
}  # fmt: skip

_DAY = pd.Timedelta(days=1)
_NS_PER_DAY = 86_400 * 10**9
_SUN_TO_THU = frozenset((6, 0, 1, 2, 3))  # Monday = 0
_TUE_TO_SAT = frozenset((1, 2, 3, 4, 5))


def _known_zone(name: str, what: str) -> str:
    try:
        pd.Timestamp("2000-01-01").tz_localize(name)
    except Exception:  # zoneinfo / pytz raise several types for an unknown name
        raise EngineError(f"{what} is {name!r}, not a known time zone (e.g. 'Asia/Tokyo')") from None
    return name


def exchange_zone(symbol: str, attrs: Mapping[str, Any] | None = None) -> str | None:
    """The exchange's time zone of a symbol's bars, where it is known: ``attrs['exchange_tz']``
    (``"UTC"`` means unknown, as in the data layer's metadata), else the Yahoo suffix or index
    symbol of ``attrs['symbol']`` or ``symbol`` (:data:`EXCHANGE_ZONES`), else ``None``."""
    meta = attrs or {}
    given = meta.get("exchange_tz")
    if isinstance(given, str) and given.strip() and given.strip().upper() != "UTC":
        return _known_zone(given.strip(), f"bars[{symbol!r}].attrs['exchange_tz']")
    for name in (meta.get("symbol"), symbol):
        if not isinstance(name, str):
            continue
        s = name.strip().upper()
        if s in EXCHANGE_ZONES:
            return EXCHANGE_ZONES[s]
        dot = s.rfind(".")
        if dot > 0 and s[dot:] in EXCHANGE_ZONES:
            return EXCHANGE_ZONES[s[dot:]]
    return None


def session_dates(index: pd.DatetimeIndex, exchange_tz: str | None = None) -> pd.DatetimeIndex:
    """Each stamp's session date, stamped 00:00 UTC (the data layer's daily stamps; a tz-naive
    index stays naive at midnight): its calendar date in ``exchange_tz`` (default: the index's
    own zone). A stamp at exactly 00:00 UTC keeps its UTC date in whatever zone it is shown
    (UTC-midnight bars converted to New York time are the same bars, not the day before).
    Decided stamp by stamp, so a bar's date never depends on the bars after it.

    >>> tokyo = pd.DatetimeIndex(["2024-01-15 00:00"], tz="Asia/Tokyo").tz_convert("UTC")
    >>> str(session_dates(tokyo)[0].date()), str(session_dates(tokyo, "Asia/Tokyo")[0].date())
    ('2024-01-14', '2024-01-15')
    """
    idx = pd.DatetimeIndex(index)
    if idx.tz is None:
        return idx.normalize()
    if not (idx.as_unit("ns").asi8 % _NS_PER_DAY).any():  # all 00:00 UTC: the common case
        return pd.DatetimeIndex(idx.tz_convert("UTC"), freq=None, name=idx.name)
    utc = idx.tz_convert("UTC").tz_localize(None)
    shown = idx if exchange_tz is None else idx.tz_convert(_known_zone(exchange_tz, "exchange_tz"))
    local = shown.tz_localize(None).normalize()
    days = local.where(utc != utc.normalize(), utc)
    return pd.DatetimeIndex(days, name=idx.name).tz_localize("UTC")


def exchange_index(symbol: str, df: pd.DataFrame) -> pd.Index:
    """``df``'s index in its exchange's zone when that is known (:func:`exchange_zone`) and the
    index is tz-aware, else as it is (what :func:`phi.data.calendar.bar_frequency` should read:
    London's midnight is 00:00 or 23:00 UTC, one time of day only in London)."""
    idx = df.index
    if isinstance(idx, pd.DatetimeIndex) and idx.tz is not None:
        zone = exchange_zone(symbol, df.attrs)
        if zone is not None:
            return idx.tz_convert(zone)
    return idx


def _check_weekdays(symbol: str, df: pd.DataFrame, days: pd.DatetimeIndex) -> None:
    """Refuse a frame of unknown zone whose dates look shifted by a day (module notes)."""
    meta = df.attrs
    name = meta.get("symbol") if isinstance(meta.get("symbol"), str) else symbol
    if str(meta.get("calendar", "")).strip().lower() in ("24/7", "fx") or _symbol_calendar(str(name)):
        return
    idx = pd.DatetimeIndex(df.index)
    timed = (idx.as_unit("ns").asi8 % _NS_PER_DAY) != 0
    if not timed.any():  # 00:00 UTC date labels
        return
    wall = idx.tz_localize(None)
    timed &= (wall.as_unit("ns").asi8 % _NS_PER_DAY) != 0  # local midnight of its zone (yfinance)
    if not timed.any():
        return
    d = days[timed]
    if d.max() - d.min() < 7 * _DAY:
        return
    dow = set(np.unique(d.dayofweek).tolist())
    if not dow & {5, 6}:
        return
    at_wall = wall[timed]
    clock = pd.Series(at_wall - at_wall.normalize()).mode().iloc[0]
    minutes = int(clock.total_seconds()) // 60
    at = f"{minutes // 60:02d}:{minutes % 60:02d} {idx.tz}"
    fix = (
        "give the frame in its exchange's time zone (e.g. df.tz_convert('Asia/Tokyo')) or set "
        "df.attrs['exchange_tz'], or stamp each bar 00:00 UTC of its session date"
    )
    if dow <= _SUN_TO_THU:
        raise EngineError(
            f"bars[{symbol!r}]: its daily bars, stamped at {at}, fall on Sunday to Thursday there, "
            "as an exchange east of that zone stamped at its local midnight does (Tokyo's 00:00 is "
            f"15:00 UTC the day before): every session would be dated a day early; {fix}"
        )
    if dow <= _TUE_TO_SAT:
        raise EngineError(
            f"bars[{symbol!r}]: its daily bars, stamped at {at}, fall on Tuesday to Saturday there, "
            "as an exchange west of that zone does (New York's 16:00 close is 06:00 in Tokyo the "
            f"next day): every session would be dated a day late; {fix}"
        )


def session_stamps(symbols: list[str], frames: list[pd.DataFrame]) -> list[pd.DatetimeIndex] | None:
    """Every frame's :func:`session_dates` (in its :func:`exchange_zone` where known, else
    checked for a shifted week) when all frames are daily bars
    (:func:`phi.data.calendar.bar_frequency` on :func:`exchange_index`) with one kind of
    stamps, else ``None`` (stamps used as they are: intraday stamps are instants, and the same
    instant in two zones is one row)."""
    if not all(isinstance(df.index, pd.DatetimeIndex) and len(df) for df in frames):
        return None
    if len({df.index.tz is None for df in frames}) > 1:
        return None
    for sym, df in zip(symbols, frames, strict=True):
        if bar_frequency(exchange_index(sym, df), df.attrs.get("timeframe"))[0] != 1440.0:
            return None
    out = []
    for sym, df in zip(symbols, frames, strict=True):
        idx = pd.DatetimeIndex(df.index)
        zone = exchange_zone(sym, df.attrs) if idx.tz is not None else None
        days = session_dates(idx, zone)
        if zone is None and idx.tz is not None:
            _check_weekdays(sym, df, days)
        out.append(days)
    return out


def align_sessions(bars: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``bars`` as :func:`phi.backtest.portfolio.run_portfolio` lines them up: daily frames
    re-stamped on their session dates (so closes and weights computed on them share its rows);
    intraday or mixed frames unchanged. Frames are shallow copies, ``attrs`` kept.
    :class:`~phi.errors.EngineError` for a daily frame whose dates look a day off (module notes)."""
    frames = list(bars.values()) if isinstance(bars, Mapping) else []
    ok = frames and all(isinstance(df, pd.DataFrame) for df in frames)
    stamps = session_stamps([str(s) for s in bars], frames) if ok else None
    if stamps is None:
        return dict(bars)
    out: dict[str, pd.DataFrame] = {}
    for (sym, df), idx in zip(bars.items(), stamps, strict=True):
        new = df.copy(deep=False)
        new.index = idx.rename(df.index.name)
        new.attrs = dict(df.attrs)
        out[sym] = new
    return out
