"""Yahoo Finance bars through ``yfinance`` (the primary vendor).

Requests: ``yf.Ticker(symbol, session=session).history(start, end + 1 day, interval=...,
auto_adjust=True, actions=False)``; Yahoo's ``end`` is exclusive, ours inclusive.

Timeframes: ``1D -> 1d``, ``1H -> 1h``, ``15m``, ``5m``, ``1m``; ``4H`` is resampled from 1h in the
exchange time zone with :func:`phi.data.vendors.resample_session_4h` (bins anchored at the
session open, e.g. 09:30-13:30 and 13:30-16:00 in New York; each bar **stamped at its bin
start**, the convention of every intraday bar here, and holding only 1h bars stamped inside
``[start, start + 4h)`` of the same day).

Stamps: daily bars at 00:00 UTC of the local session date (Yahoo's 00:00 New York stamp is
*not* converted to 05:00 UTC); intraday bars converted to UTC.

Adjustment: daily bars are auto-adjusted (splits and dividends, ``"auto_adjusted"``); Yahoo's
intraday bars are split-adjusted only, so they are labelled ``"split_adjusted"`` and must not
be mixed with daily bars.

History limits (checked **before** any request, relative to today in UTC): 1m reaches back
29 days and is fetched in requests of at most 7 days; 5m and 15m reach back 59 days; 1H and
4H 729 days; 1D has no limit.

yfinance logs its failures and returns an empty frame instead of raising: an empty answer is
an error here (:class:`~phi.errors.VendorError`), unless the range holds no weekday at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pandas as pd

from phi.data.schema import OHLCV_COLUMNS, check_ohlcv
from phi.data.vendors import (
    VendorData,
    canonical_tz,
    daily_stamps,
    empty_ohlcv,
    one_line,
    resample_session_4h,
    session_anchor,
)
from phi.errors import DataError, RateLimitError, VendorError, VendorLimitError

#: our timeframe -> yfinance interval
INTERVALS: dict[str, str] = {
    "1D": "1d",
    "4H": "1h",
    "1H": "1h",
    "15m": "15m",
    "5m": "5m",
    "1m": "1m",
}
#: how many days back Yahoo serves each intraday timeframe (None = no limit)
LOOKBACK_DAYS: dict[str, int | None] = {
    "1D": None,
    "4H": 729,
    "1H": 729,
    "15m": 59,
    "5m": 59,
    "1m": 29,
}
#: longest range (calendar days) one request may span
MAX_DAYS_PER_REQUEST: dict[str, int] = {"1m": 7}

_ONE_DAY = pd.Timedelta(days=1)


def utc_now() -> pd.Timestamp:
    """The current time in UTC (tests monkeypatch this)."""
    return pd.Timestamp.now(tz="UTC")


def earliest_start(timeframe: str, now: pd.Timestamp | None = None) -> pd.Timestamp | None:
    """The earliest start date Yahoo serves for ``timeframe`` (00:00 UTC), ``None`` if unlimited."""
    days = LOOKBACK_DAYS[timeframe]
    if days is None:
        return None
    now = utc_now() if now is None else now
    return now.tz_convert("UTC").normalize() - pd.Timedelta(days=days)


def check_limits(start: pd.Timestamp, timeframe: str, now: pd.Timestamp | None = None) -> None:
    """Raise :class:`~phi.errors.VendorLimitError` when ``start`` is older than Yahoo keeps."""
    first = earliest_start(timeframe, now)
    if first is None or start >= first:
        return
    raise VendorLimitError(
        f"yfinance keeps {timeframe} bars for the last {LOOKBACK_DAYS[timeframe]} days only: "
        f"start {start:%Y-%m-%d} is before the earliest allowed start {first:%Y-%m-%d}; "
        "use a later start or a longer timeframe (1m: 29 days, 5m/15m: 59, 1H/4H: 729, 1D: no limit)"
    )


def request_windows(
    start: pd.Timestamp, end: pd.Timestamp, timeframe: str
) -> list[tuple[str, str]]:
    """``(start, end_exclusive)`` date strings of the requests covering ``[start, end]``.

    1m ranges are split into windows of at most 7 days; every other timeframe is one request.
    """
    stop = end + _ONE_DAY
    step = MAX_DAYS_PER_REQUEST.get(timeframe)
    if step is None:
        return [(f"{start:%Y-%m-%d}", f"{stop:%Y-%m-%d}")]
    out = []
    lo = start
    while lo < stop:
        hi = min(lo + pd.Timedelta(days=step), stop)
        out.append((f"{lo:%Y-%m-%d}", f"{hi:%Y-%m-%d}"))
        lo = hi
    return out


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with suppress(Exception):  # a logging failure must never break a fetch
            self.messages.append(one_line(record.getMessage()))


@contextmanager
def _capture_yf_errors() -> Iterator[list[str]]:
    """Collect what yfinance logs (it logs failures instead of raising) and keep it off stderr."""
    logger = logging.getLogger("yfinance")
    handler = _ListHandler()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


#: what a failed connection looks like in yfinance's / curl's / requests' text
_NO_NETWORK = re.compile(
    r"curl: \((?:5|6|7|28|35|56)\)|Could not resolve|Failed to connect|Connection (?:refused|reset|aborted)"
    r"|timed out|Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|Max retries exceeded|ProxyError|ConnectionError",
    re.IGNORECASE,
)


def _unreachable(text: str) -> bool:
    return bool(_NO_NETWORK.search(str(text)))


def _short_reason(text: str) -> str:
    """curl's reason without its trailing 'See https://curl.se/...' pointer."""
    return re.split(r"\.? See https?://", " ".join(str(text).split()), maxsplit=1)[0][:200]


def request_history(
    symbol: str, start: str, end: str, interval: str, session: Any = None
) -> tuple[pd.DataFrame, list[str]]:
    """Transport: one ``Ticker.history`` call; returns the raw frame and yfinance's logged errors.

    Exceptions from yfinance become :class:`~phi.errors.VendorError` (rate limits:
    :class:`~phi.errors.RateLimitError`) with yfinance's text on one line.
    """
    import yfinance as yf

    with _capture_yf_errors() as logged:
        try:
            ticker = yf.Ticker(symbol, session=session)
            raw = ticker.history(
                start=start, end=end, interval=interval, auto_adjust=True, actions=False
            )
        except Exception as exc:
            text = one_line(exc) or type(exc).__name__
            if type(exc).__name__ == "YFRateLimitError":
                raise RateLimitError(
                    f"yfinance is rate limited by Yahoo for {symbol!r}: {text}"
                ) from None
            if _unreachable(text):
                raise VendorError(
                    f"yfinance could not reach Yahoo Finance for {symbol!r} (no network, a proxy "
                    f"or Yahoo down; use --vendor demo offline): {_short_reason(text)}"
                ) from None
            raise VendorError(
                f"yfinance failed for {symbol!r} ({interval} {start}..{end}): {text}"
            ) from None
    if not isinstance(raw, pd.DataFrame):
        raise VendorError(
            f"yfinance returned a {type(raw).__name__} for {symbol!r}, not a DataFrame"
        )
    return raw, list(logged)


def parse_history(raw: pd.DataFrame, timeframe: str) -> tuple[pd.DataFrame, str]:
    """Pure: a ``Ticker.history`` frame -> (OHLCV frame with a UTC index, exchange time zone).

    Daily bars are stamped 00:00 UTC of their local date; intraday bars converted to UTC.
    """
    if len(raw) == 0:
        return empty_ohlcv(), "UTC"
    cols = {str(c).strip().lower(): c for c in raw.columns}
    missing = [c for c in OHLCV_COLUMNS if c not in cols]
    if missing:
        raise VendorError(
            f"yfinance answer lacks column(s) {', '.join(missing)} (found {', '.join(map(str, raw.columns))})"
        )
    frame = pd.DataFrame(
        {c: pd.to_numeric(raw[cols[c]], errors="coerce").astype("float64") for c in OHLCV_COLUMNS}
    )
    idx = pd.DatetimeIndex(raw.index)
    tz = canonical_tz(idx.tz) if idx.tz is not None else "UTC"
    if timeframe == "1D":
        frame.index = daily_stamps(idx)
    else:
        frame.index = (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).rename(
            "timestamp"
        )
    return frame, tz


def _has_weekday(start: pd.Timestamp, end: pd.Timestamp) -> bool:
    days = pd.date_range(start.tz_localize(None), end.tz_localize(None), freq="D")
    return bool((days.day_of_week < 5).any())


def fetch_yfinance(
    symbol: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timeframe: str,
    *,
    session: Any = None,
    now: pd.Timestamp | None = None,
) -> VendorData:
    """Bars of ``symbol`` on dates ``start``..``end`` (inclusive, 00:00 UTC) from Yahoo.

    Checks Yahoo's history limits first (no request is made past them), then requests
    (several for 1m), parses, and resamples 4H from 1h. See the module docstring.
    """
    now = utc_now() if now is None else now
    check_limits(start, timeframe, now)
    interval = INTERVALS[timeframe]
    windows = request_windows(start, end, timeframe)
    parts: list[pd.DataFrame] = []
    logged: list[str] = []
    tz = "UTC"
    for lo, hi in windows:
        raw, errors = request_history(symbol, lo, hi, interval, session)
        logged.extend(errors)
        frame, part_tz = parse_history(raw, timeframe)
        if len(frame):
            parts.append(frame)
            tz = part_tz
    extra: dict[str, Any] = {"interval": interval, "requests": len(windows)}
    adjustment = "auto_adjusted" if timeframe == "1D" else "split_adjusted"
    coverage = earliest_start(timeframe, now)
    if not parts:
        if not _has_weekday(start, end):
            # e.g. a weekend: fetch_result reports "no bars for ... between ..."
            return VendorData(empty_ohlcv(), adjustment, tz, coverage_start=coverage, extra=extra)
        said = f"; Yahoo: {logged[-1]}" if logged else ""
        if any(_unreachable(m) for m in logged):
            raise VendorError(
                f"yfinance could not reach Yahoo Finance for {symbol!r} (no network, a proxy or "
                f"Yahoo down; use --vendor demo offline): {_short_reason(logged[-1])}"
            )
        raise VendorError(
            f"yfinance returned no data for {symbol!r} between {start:%Y-%m-%d} and {end:%Y-%m-%d} "
            f"(unknown symbol or no trading in range){said}"
        )
    frame = pd.concat(parts) if len(parts) > 1 else parts[0]
    notes: list[str] = []
    if timeframe == "4H":
        try:
            source = check_ohlcv(frame, what=f"yfinance {symbol} 1h")
        except DataError as exc:
            raise DataError(f"{exc} (while building 4H bars)") from None
        notes = [f"1h source: {r}" for r in source.repairs]
        anchor = session_anchor(pd.DatetimeIndex(source.frame.index), tz)
        frame = resample_session_4h(source.frame, tz, anchor)
        hh, mm = divmod(int(anchor.total_seconds()) // 60, 60)
        extra.update(
            resampled_from="1H", session_anchor=f"{hh:02d}:{mm:02d}", bar_stamp="bin start"
        )
    return VendorData(frame, adjustment, tz, notes=notes, coverage_start=coverage, extra=extra)
