"""One entry point for bars from every vendor: ``fetch(symbol, start, end, timeframe, vendor)``.

Vendors: ``demo`` (synthetic, offline), ``yfinance``, ``alpha_vantage`` and ``csv`` (a user's
file). Each vendor module (:mod:`phi.data.vendors`) does its request and parsing; this module
does what they share once: argument checks (symbol, dates, timeframe, vendor), slicing to the
requested dates, the OHLCV contract (:func:`phi.data.schema.check_ohlcv`) and the
:class:`FetchResult` with its provenance (adjustment, exchange time zone, repairs, coverage).

Dates are calendar dates, both ends **inclusive**: ``fetch("AAPL", "2024-01-02", "2024-01-05")``
returns the sessions of 2 to 5 January. Intraday bars belong to the local date of the
exchange. ``start == end`` asks for one session.

Examples
--------
>>> from phi.data.fetchers import fetch
>>> df = fetch("DEMO", "2024-01-01", "2024-03-31")          # doctest: +SKIP
>>> df.columns.tolist()                                     # doctest: +SKIP
['open', 'high', 'low', 'close', 'volume']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from phi.data import symbols as _symbols
from phi.data.dates import SPAN, check_year_first, in_span, is_date_like
from phi.data.schema import check_ohlcv
from phi.data.timeframes import is_intraday, normalize_timeframe
from phi.data.vendors import VendorData
from phi.errors import ConfigError, DataError, SymbolError, shown, unknown_choice

VENDORS: tuple[str, ...] = ("demo", "yfinance", "alpha_vantage", "csv")
_VENDOR_ALIASES = {
    "yf": "yfinance",
    "yahoo": "yfinance",
    "av": "alpha_vantage",
    "alphavantage": "alpha_vantage",
    "alpha-vantage": "alpha_vantage",
    "file": "csv",
}


@dataclass
class FetchResult:
    """Validated bars of one request and where they came from.

    Attributes
    ----------
    frame : validated OHLCV frame (UTC index named ``timestamp``, float64 columns).
    vendor, symbol, timeframe : the canonical names used.
    start, end : the requested dates (both inclusive), 00:00 UTC.
    adjustment : ``"auto_adjusted"`` (yfinance daily), ``"split_adjusted"`` (yfinance
        intraday), ``"raw"`` (Alpha Vantage, csv), ``"synthetic"`` (demo).
    exchange_tz : the exchange's time zone (``"UTC"`` when unknown).
    repairs : what the vendor layer and the validator fixed or dropped.
    coverage_start : the earliest date the vendor's limits allow for this timeframe
        (``None`` = no limit).
    synthetic : True only for demo data.
    extra : vendor specifics (requests made, resampling, file columns, ...; never a key).
    """

    frame: pd.DataFrame
    vendor: str
    symbol: str
    timeframe: str
    start: pd.Timestamp
    end: pd.Timestamp
    adjustment: str
    exchange_tz: str
    repairs: list[str] = field(default_factory=list)
    coverage_start: pd.Timestamp | None = None
    synthetic: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def validate_symbol(symbol: str) -> str:
    """Upper-cased ``symbol`` if it is a safe ticker, else :class:`~phi.errors.SymbolError`.

    Letters, digits and ``. - ^ = _`` only (``BRK-B``, ``^GSPC``, ``EURUSD=X``), 1 to 32
    characters, not starting with ``.`` and without ``..``: ``'../../etc'`` is rejected.
    """
    return _symbols.validate_symbol(symbol)


def normalize_vendor(vendor: str) -> str:
    """Canonical vendor name, or :class:`ConfigError` with a did-you-mean."""
    if not isinstance(vendor, str):
        raise ConfigError(f"vendor must be a string, got {shown(vendor)}")
    v = vendor.strip().lower()
    v = _VENDOR_ALIASES.get(v, v)
    if v not in VENDORS:
        raise ConfigError(unknown_choice("vendor", vendor, VENDORS))
    return v


def _shown(value: Any, limit: int = 40) -> str:
    """:func:`phi.errors.shown` cut to ``limit`` characters, for one-line messages."""
    text = shown(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _to_date(value: Any, which: str) -> pd.Timestamp:
    """A date-like value -> 00:00 UTC of its (local) calendar date."""
    if value is None:
        raise ConfigError(f"{which} date is missing; give a date like 2024-01-31")
    if not is_date_like(value):
        raise ConfigError(
            f"{which} date {_shown(value)} is of type {type(value).__name__}; give a date like 2024-01-31"
        )
    try:
        ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError, OverflowError):
        raise ConfigError(f"could not read {which} date {_shown(value)}; use YYYY-MM-DD") from None
    if pd.isna(ts):
        raise ConfigError(f"could not read {which} date {_shown(value)}; use YYYY-MM-DD")
    if not in_span(ts):
        raise ConfigError(f"{which} date {_shown(value)} is outside the supported dates {SPAN}")
    check_year_first(value, f"{which} date")
    return pd.Timestamp(ts.date()).tz_localize("UTC")


def parse_date(value: Any, which: str = "start") -> pd.Timestamp:
    """One date -> 00:00 UTC of its date; :class:`ConfigError` names ``which`` end was bad."""
    return _to_date(value, which)


def parse_date_range(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Both ends -> 00:00 UTC of their dates (inclusive range).

    Accepts ``'YYYY-MM-DD'`` strings, ``date``, ``datetime`` and ``Timestamp`` (a tz-aware
    value keeps its own local date). ``start == end`` is one session. Raises
    :class:`ConfigError` for an unreadable date or ``start`` after ``end``.
    """
    lo = _to_date(start, "start")
    hi = _to_date(end, "end")
    if lo > hi:
        raise ConfigError(f"start {lo:%Y-%m-%d} is after end {hi:%Y-%m-%d}; swap them")
    return lo, hi


def slice_dates(
    frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, tz: str, intraday: bool
) -> pd.DataFrame:
    """Bars whose date is in ``[start, end]`` (inclusive): daily by their UTC stamp date,
    intraday by their local date in the exchange time zone ``tz``."""
    if len(frame) == 0:
        return frame
    idx = pd.DatetimeIndex(frame.index)
    if intraday:
        lo = pd.Timestamp(start.date()).tz_localize(
            tz, nonexistent="shift_forward", ambiguous=False
        )
        hi = pd.Timestamp((end + pd.Timedelta(days=1)).date()).tz_localize(
            tz, nonexistent="shift_forward", ambiguous=False
        )
    else:
        lo, hi = start, end + pd.Timedelta(days=1)
    mask = (idx >= lo) & (idx < hi)
    return frame.loc[mask]


def _symbol_from_path(path: str) -> str:
    stem = Path(path).stem.strip() or "CSV"
    cleaned = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in ".-^=_") else "_" for ch in stem
    )
    cleaned = cleaned.lstrip(".").replace("..", "_")[:32] or "CSV"
    return validate_symbol(cleaned)


def _fetch_demo(symbol: str, start: pd.Timestamp, end: pd.Timestamp, timeframe: str) -> VendorData:
    from phi.data.demo import generate_demo  # lazy: only when the demo vendor is used

    frame = generate_demo(symbol, start, end, timeframe)
    label = str(frame.attrs.get("label", "SYNTHETIC DEMO DATA"))
    return VendorData(
        frame=frame,
        adjustment="synthetic",
        exchange_tz="America/New_York",
        extra={"generator": "phi.data.demo", "label": label},
    )


def _dispatch(
    vendor: str,
    symbol: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timeframe: str,
    *,
    path: str | None,
    session: Any,
    api_key: str | None,
) -> VendorData:
    if vendor == "demo":
        return _fetch_demo(symbol, start, end, timeframe)
    if vendor == "yfinance":
        from phi.data.vendors import yfinance_vendor

        return yfinance_vendor.fetch_yfinance(symbol, start, end, timeframe, session=session)
    if vendor == "alpha_vantage":
        from phi.data.vendors import alpha_vantage

        return alpha_vantage.fetch_alpha_vantage(
            symbol, start, end, timeframe, api_key=api_key, session=session
        )
    from phi.data.vendors import csv_vendor

    return csv_vendor.fetch_csv(str(path), timeframe)


def fetch_result(
    symbol: str,
    start: Any,
    end: Any,
    timeframe: str = "1D",
    vendor: str = "demo",
    *,
    path: str | None = None,
    session: Any = None,
    api_key: str | None = None,
) -> FetchResult:
    """Fetch, slice and validate bars of ``symbol`` from ``start`` to ``end`` (dates, inclusive).

    Parameters
    ----------
    symbol : ticker (validated, upper-cased); for ``csv`` it may be empty (the file stem is used).
    start, end : dates, both inclusive (``'YYYY-MM-DD'``, ``date`` or ``Timestamp``).
    timeframe : one of ``1D, 4H, 1H, 15m, 5m, 1m``.
    vendor : one of :data:`VENDORS`.
    path : the file for ``vendor='csv'`` (required there).
    session : a ``requests.Session`` for yfinance / Alpha Vantage (tests inject one).
    api_key : Alpha Vantage key; default from the environment variable ``ALPHAVANTAGE_API_KEY``.

    Raises
    ------
    ConfigError : unknown vendor or timeframe, bad dates, missing ``path``, a range outside the
        vendor's limits (:class:`~phi.errors.VendorLimitError`).
    SymbolError : a malformed symbol.
    DataError : no bars in the range, or bars that break the OHLCV contract; its subclass
        VendorError when the vendor fails or refuses.
    """
    vendor = normalize_vendor(vendor)
    tf = normalize_timeframe(timeframe)
    lo, hi = parse_date_range(start, end)
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ConfigError(f"path must be a file path (a string) or None, got {shown(path)}")
    if api_key is not None and not isinstance(api_key, str):  # checked before any request
        raise ConfigError(f"api_key must be a string or None, got {type(api_key).__name__}")
    if vendor == "csv":
        if path is None or not str(path).strip():
            raise ConfigError("vendor 'csv' needs a file: pass path='my_bars.csv' (or --path)")
        path = str(path)
        sym = (
            validate_symbol(symbol)
            if symbol is not None and str(symbol).strip()
            else _symbol_from_path(path)
        )
    else:
        if symbol is None:
            raise SymbolError("symbol is empty")
        sym = validate_symbol(symbol)

    data = _dispatch(vendor, sym, lo, hi, tf, path=path, session=session, api_key=api_key)
    frame = data.frame
    intraday = is_intraday(tf)
    if len(frame) and not isinstance(frame.index, pd.DatetimeIndex):
        frame = check_ohlcv(frame, what=f"{vendor} {sym} {tf}").frame
    if len(frame) and pd.DatetimeIndex(frame.index).tz is None:
        frame = frame.tz_localize("UTC")
    sliced = slice_dates(frame, lo, hi, data.exchange_tz, intraday)
    if len(sliced) == 0:
        raise DataError(
            f"no bars for {sym} between {lo:%Y-%m-%d} and {hi:%Y-%m-%d} ({vendor}, {tf}); "
            "the range may hold no trading sessions"
        )
    checked = check_ohlcv(sliced, what=f"{vendor} {sym} {tf}")
    # no inferred index frequency: equal bars compare equal whatever their source (or parquet)
    checked.frame.index = pd.DatetimeIndex(checked.frame.index, freq=None, name="timestamp")
    extra = dict(data.extra)
    extra.setdefault("calendar", _calendar_kind(checked.frame, data.exchange_tz, intraday))
    return FetchResult(
        frame=checked.frame,
        vendor=vendor,
        symbol=sym,
        timeframe=tf,
        start=lo,
        end=hi,
        adjustment=data.adjustment,
        exchange_tz=data.exchange_tz,
        repairs=[*data.notes, *checked.repairs],
        coverage_start=data.coverage_start,
        synthetic=vendor == "demo",
        extra=extra,
    )


def _calendar_kind(frame: pd.DataFrame, tz: str, intraday: bool) -> str:
    """'24/7' when bars fall on weekends (crypto), else 'exchange'."""
    idx = pd.DatetimeIndex(frame.index)
    local = idx.tz_convert(tz) if intraday else idx
    return "24/7" if bool((local.day_of_week >= 5).any()) else "exchange"


def fetch(
    symbol: str, start: Any, end: Any, timeframe: str = "1D", vendor: str = "demo", **kw: Any
) -> pd.DataFrame:
    """Validated OHLCV bars: ``fetch_result(...).frame`` (see :func:`fetch_result`)."""
    return fetch_result(symbol, start, end, timeframe, vendor, **kw).frame
