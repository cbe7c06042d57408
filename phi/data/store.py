"""Cache-first access to datasets: the one function the pipeline and the UIs call for bars."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from phi.data import cache
from phi.data.schema import ohlcv_hash
from phi.data.timeframes import is_intraday, normalize_timeframe
from phi.errors import ConfigError, shown


@dataclass
class Dataset:
    """Validated OHLCV bars of one request plus their metadata (see :mod:`phi.data.cache`)."""

    frame: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)
    from_cache: bool = False

    @property
    def content_hash(self) -> str:
        return str(self.metadata["content_hash"])

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get("synthetic", False))


def get_dataset(
    symbol: str,
    start: Any,
    end: Any,
    timeframe: str = "1D",
    vendor: str = "demo",
    *,
    path: str | None = None,
    refresh: bool = False,
    session: Any = None,
) -> Dataset:
    """Bars for ``symbol`` from ``start`` to ``end`` (dates, inclusive): from the cache when a
    cached range covers the request, else fetched from ``vendor``, health-checked and cached.

    ``refresh=True`` re-fetches even when cached. CSV files are read directly (never cached).
    """
    from phi.data.fetchers import fetch_result, parse_date_range, slice_dates, validate_symbol
    from phi.data.health import data_health

    tf = normalize_timeframe(timeframe)
    lo, hi = parse_date_range(start, end)
    if not isinstance(vendor, str):
        raise ConfigError(f"vendor must be a string, got {shown(vendor)}")
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ConfigError(f"path must be a file path (a string) or None, got {shown(path)}")
    if not isinstance(refresh, bool | np.bool_):
        raise ConfigError(f"refresh must be True or False, got {shown(refresh)}")
    vendor = vendor.strip().lower()
    unusable: cache.CacheError | None = None  # the cache cannot be used at all: fetch, do not cache
    if vendor != "csv":
        sym = validate_symbol(symbol)
        try:
            cache.dataset_dir(vendor, sym, tf)
        except cache.CacheError as exc:
            unusable = exc
            warnings.warn(f"{exc}; the bars are fetched and not cached", cache.CacheWarning, stacklevel=2)
        if not refresh and unusable is None:
            meta = cache.find_covering(vendor, sym, tf, lo, hi)
            if meta is not None:
                full = cache.load_dataset(vendor, sym, tf, meta["start"], meta["end"])
                if full is not None:
                    tz = str(meta.get("exchange_tz") or "UTC")
                    frame = slice_dates(full, lo, hi, tz, is_intraday(tf))
                    if len(frame):
                        return Dataset(frame, _request_metadata(meta, frame, lo, hi), from_cache=True)

    result = fetch_result(symbol, lo, hi, tf, vendor, path=path, session=session)
    health = data_health(
        result.frame,
        tf,
        requested_start=lo,
        requested_end=hi,
        coverage_start=result.coverage_start,
        calendar="24/7" if result.extra.get("calendar") == "24/7" else "exchange",
    )
    meta = {
        "vendor": result.vendor,
        "symbol": result.symbol,
        "timeframe": tf,
        "adjustment": result.adjustment,
        "exchange_tz": result.exchange_tz,
        "synthetic": result.synthetic,
        "repairs": list(result.repairs),
        "coverage_start": None if result.coverage_start is None else str(result.coverage_start),
        "health": health.to_dict(),
    }
    if vendor == "csv" or unusable is not None:
        if vendor == "csv":
            meta.update(source_path=str(path))
        return Dataset(result.frame, _request_metadata(meta, result.frame, lo, hi), from_cache=False)
    try:
        cache.save_dataset(result.frame, vendor, result.symbol, tf, lo, hi, metadata=meta)
        meta = cache.load_metadata(vendor, result.symbol, tf, lo, hi) or meta
    except cache.CacheError as exc:
        warnings.warn(f"could not cache the dataset: {exc}", cache.CacheWarning, stacklevel=2)
    return Dataset(result.frame, _request_metadata(meta, result.frame, lo, hi), from_cache=False)


def _request_metadata(meta: dict[str, Any], frame: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, Any]:
    """The cached range's metadata, restated for the requested slice."""
    out = dict(meta)
    out.update(
        requested_start=lo.strftime("%Y-%m-%d"),
        requested_end=hi.strftime("%Y-%m-%d"),
        rows=len(frame),
        first_bar=frame.index[0].isoformat(),
        last_bar=frame.index[-1].isoformat(),
        content_hash=ohlcv_hash(frame),
    )
    if "dataset_id" in meta:
        out["cached_range"] = f"{meta.get('start')}..{meta.get('end')}"
    out["dataset_id"] = cache.dataset_id(out.get("vendor", "csv"), out.get("symbol", "CSV"), out["timeframe"], lo, hi)
    return out
