"""Alpha Vantage bars over its plain REST API (``requests``).

Calls ``GET https://www.alphavantage.co/query`` with ``outputsize=full`` (``compact`` silently
truncates to 100 bars):

- ``1D``: ``TIME_SERIES_DAILY`` (unadjusted; the adjusted series is premium-only).
- intraday: ``TIME_SERIES_INTRADAY`` with ``interval`` 1min/5min/15min/60min,
  ``adjusted=false`` (raw prices, like the daily series) and ``extended_hours=false``
  (regular session only, like Yahoo's default). A range reaching further back than the last
  30 days is fetched month by month (``month=YYYY-MM``) and concatenated. ``4H`` is resampled
  from 60min bars like yfinance (:func:`phi.data.vendors.resample_session_4h`).

Stamps: the payload's times are in ``US/Eastern`` (the meta data says so) and are converted
to UTC; Alpha Vantage stamps intraday bars at their start. Daily bars: 00:00 UTC of the date.

The key comes from the ``api_key`` argument or the environment variable
``ALPHAVANTAGE_API_KEY``. It is sent only as the ``apikey`` query parameter and never
stored, logged or put into an error message or result: messages never carry the request's
query string, and every spelling of the key (raw, URL-encoded, ...) is masked
(:mod:`phi.data.vendors.redact`).

Errors come back as HTTP 200 bodies: ``"Error Message"`` (unknown symbol, bad call) ->
:class:`~phi.errors.VendorError`; ``"Note"`` / ``"Information"`` (rate limit, premium-only)
-> :class:`~phi.errors.RateLimitError`.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from phi.data.schema import OHLCV_COLUMNS, check_ohlcv
from phi.data.vendors import (
    VendorData,
    canonical_tz,
    daily_stamps,
    empty_ohlcv,
    localize_wall_times,
    one_line,
    resample_session_4h,
    session_anchor,
)
from phi.data.vendors.redact import guard_http_logs, redact
from phi.errors import DataError, MissingAPIKeyError, RateLimitError, VendorError

URL = "https://www.alphavantage.co/query"
ENV_KEY = "ALPHAVANTAGE_API_KEY"
TIMEOUT_S = 30
#: our timeframe -> Alpha Vantage interval (None = daily function)
INTERVALS: dict[str, str | None] = {
    "1D": None,
    "4H": "60min",
    "1H": "60min",
    "15m": "15min",
    "5m": "5min",
    "1m": "1min",
}
#: intraday history starts in January 2000 (month=2000-01)
INTRADAY_FIRST_DATE = pd.Timestamp("2000-01-01", tz="UTC")
#: without month=, an intraday request covers about the last 30 days
RECENT_DAYS = 30


def utc_now() -> pd.Timestamp:
    """The current time in UTC (tests monkeypatch this)."""
    return pd.Timestamp.now(tz="UTC")


def resolve_api_key(api_key: str | None = None) -> str:
    """The key from ``api_key`` or ``$ALPHAVANTAGE_API_KEY``; :class:`MissingAPIKeyError` if neither."""
    key = api_key if api_key is not None else os.environ.get(ENV_KEY)
    if key is None or not str(key).strip():
        raise MissingAPIKeyError(
            f"Alpha Vantage needs an API key: set the environment variable {ENV_KEY} "
            "(free key: https://www.alphavantage.co/support/#api-key)"
        )
    return str(key).strip()


def build_params(symbol: str, timeframe: str, month: str | None = None) -> dict[str, str]:
    """Query parameters of one request, without the key."""
    interval = INTERVALS[timeframe]
    if interval is None:
        return {
            "function": "TIME_SERIES_DAILY",
            "symbol": symbol,
            "outputsize": "full",
            "datatype": "json",
        }
    params = {
        "function": "TIME_SERIES_INTRADAY",
        "symbol": symbol,
        "interval": interval,
        "outputsize": "full",
        "adjusted": "false",
        "extended_hours": "false",
        "datatype": "json",
    }
    if month is not None:
        params["month"] = month
    return params


def months_to_request(
    start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp
) -> list[str | None]:
    """``[None]`` (one request, latest ~30 days) when ``start`` is recent, else every
    ``YYYY-MM`` from ``start``'s month to ``end``'s month (capped at the current month)."""
    today = now.tz_convert("UTC").normalize()
    if start >= today - pd.Timedelta(days=RECENT_DAYS):
        return [None]
    last = min(end, today)
    periods = pd.period_range(
        start.tz_localize(None).to_period("M"), last.tz_localize(None).to_period("M"), freq="M"
    )
    return [str(p) for p in periods]


def _scrub(text: object, key: str) -> str:
    """One line of ``text`` without the URL's query string or any spelling of ``key``."""
    return one_line(redact(" ".join(str(text).split()), key))


def request_json(params: dict[str, str], api_key: str, session: Any = None) -> dict[str, Any]:
    """Transport: one GET; returns the JSON body or raises a typed error (the key never leaks)."""
    import requests

    guard_http_logs()  # urllib3 logs each request's URL, key included, at DEBUG
    getter = session.get if session is not None else requests.get
    what = f"{params.get('function')} {params.get('symbol')!r}"
    try:
        resp = getter(URL, params={**params, "apikey": api_key}, timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        raise VendorError(
            f"could not reach Alpha Vantage: {type(exc).__name__}: {_scrub(exc, api_key)}"
        ) from None
    if resp.status_code != 200:
        raise VendorError(f"Alpha Vantage answered HTTP {resp.status_code} for {what}")
    try:
        body = resp.json()
    except ValueError:
        raise VendorError(f"Alpha Vantage sent a body that is not JSON for {what}") from None
    if not isinstance(body, dict):
        raise VendorError(
            f"Alpha Vantage sent an unexpected answer ({type(body).__name__}) for {what}"
        )
    check_payload(body, what, api_key)
    return body


def check_payload(body: dict[str, Any], what: str = "request", api_key: str = "") -> None:
    """Pure: raise the typed error an HTTP-200 error body stands for."""
    if "Error Message" in body:
        raise VendorError(
            f"Alpha Vantage rejected {what} (unknown symbol or bad call): {_scrub(body['Error Message'], api_key)}"
        )
    for k in ("Note", "Information"):
        if k in body and not any("Time Series" in str(x) for x in body):
            raise RateLimitError(
                f"Alpha Vantage refused {what} (rate limit or premium-only endpoint): {_scrub(body[k], api_key)}"
            )


def parse_series(body: dict[str, Any], timeframe: str) -> tuple[pd.DataFrame, str]:
    """Pure: an Alpha Vantage time-series body -> (OHLCV frame with UTC index, exchange tz).

    Values are strings and run newest first; the result is sorted oldest first. Daily bars
    are stamped 00:00 UTC of their date, intraday times (US/Eastern) converted to UTC.
    """
    key = next((k for k in body if "Time Series" in str(k)), None)
    if key is None:
        raise VendorError(
            f"Alpha Vantage answer has no time series (keys: {', '.join(map(str, body)) or 'none'})"
        )
    meta = body.get("Meta Data") or {}
    tz_name = next((v for k, v in meta.items() if str(k).endswith("Time Zone")), None)
    tz = canonical_tz(tz_name or "US/Eastern")
    rows = body[key] or {}
    if not rows:
        return empty_ohlcv(), tz
    raw = pd.DataFrame.from_dict(rows, orient="index")
    raw.columns = [str(c).split(". ", 1)[-1].strip().lower() for c in raw.columns]
    missing = [c for c in OHLCV_COLUMNS if c not in raw.columns]
    if missing:
        raise VendorError(
            f"Alpha Vantage series lacks {', '.join(missing)} (found {', '.join(raw.columns)})"
        )
    frame = pd.DataFrame(
        {c: pd.to_numeric(raw[c], errors="coerce").astype("float64") for c in OHLCV_COLUMNS}
    )
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(pd.Index(raw.index), format="ISO8601"))
    except (ValueError, TypeError):
        raise VendorError(
            f"Alpha Vantage series has unreadable times, e.g. {raw.index[0]!r}"
        ) from None
    frame.index = daily_stamps(stamps) if timeframe == "1D" else localize_wall_times(stamps, tz)
    return frame.sort_index(kind="stable"), tz


def fetch_alpha_vantage(
    symbol: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timeframe: str,
    *,
    api_key: str | None = None,
    session: Any = None,
    now: pd.Timestamp | None = None,
) -> VendorData:
    """Bars of ``symbol`` on dates ``start``..``end`` (inclusive) from Alpha Vantage.

    The key is checked before any request. See the module docstring for calls and errors.
    """
    key = resolve_api_key(api_key)
    now = utc_now() if now is None else now
    months: list[str | None] = [None] if timeframe == "1D" else months_to_request(start, end, now)
    parts: list[pd.DataFrame] = []
    tz = "America/New_York"
    for month in months:
        params = build_params(symbol, timeframe, month)
        frame, tz = parse_series(request_json(params, key, session), timeframe)
        if len(frame):
            parts.append(frame)
    extra: dict[str, Any] = {
        "function": "TIME_SERIES_DAILY" if timeframe == "1D" else "TIME_SERIES_INTRADAY",
        "interval": INTERVALS[timeframe],
        "requests": len(months),
        "months": [m for m in months if m is not None],
    }
    coverage = None if timeframe == "1D" else INTRADAY_FIRST_DATE
    if not parts:
        return VendorData(empty_ohlcv(), "raw", tz, coverage_start=coverage, extra=extra)
    frame = pd.concat(parts) if len(parts) > 1 else parts[0]
    notes: list[str] = []
    if frame.index.hasnans:
        bad = int(frame.index.isna().sum())
        frame = frame[~frame.index.isna()]
        notes.append(
            f"dropped {bad} bar(s) stamped at a time that does not exist in {tz} (DST change)"
        )
    if timeframe == "4H":
        try:
            source = check_ohlcv(frame, what=f"alpha_vantage {symbol} 60min")
        except DataError as exc:
            raise DataError(f"{exc} (while building 4H bars)") from None
        notes += [f"60min source: {r}" for r in source.repairs]
        anchor = session_anchor(pd.DatetimeIndex(source.frame.index), tz)
        frame = resample_session_4h(source.frame, tz, anchor)
        hh, mm = divmod(int(anchor.total_seconds()) // 60, 60)
        extra.update(
            resampled_from="60min", session_anchor=f"{hh:02d}:{mm:02d}", bar_stamp="bin start"
        )
    return VendorData(frame, "raw", tz, notes=notes, coverage_start=coverage, extra=extra)
