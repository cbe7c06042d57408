"""The dataset cache: one parquet file plus a metadata JSON per fetched range.

Layout (under ``$PHI_HOME/data_cache``, see :mod:`phi.paths`)::

    {vendor}/{symbol}/{timeframe}/{start}_{end}.parquet
    {vendor}/{symbol}/{timeframe}/{start}_{end}_metadata.json

``start`` and ``end`` are the requested dates (``YYYY-MM-DD``, both inclusive). Both files are
written atomically (temporary file, then rename), the parquet first, so a reader sees either a
complete dataset or none. A corrupt or truncated file, or one whose content hash does not
match its metadata, is treated as a cache miss with a warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from phi._io import atomic_write, atomic_write_json
from phi.data.schema import OHLCV_COLUMNS, check_ohlcv, ohlcv_hash
from phi.data.symbols import validate_symbol
from phi.data.timeframes import normalize_timeframe
from phi.errors import CacheError, ConfigError
from phi.paths import cache_root

CACHE_SCHEMA_VERSION = 1
_META_SUFFIX = "_metadata.json"


class CacheWarning(UserWarning):
    """A cached file was unreadable or inconsistent and was ignored."""


def _day(value: Any) -> str:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ConfigError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return ts.strftime("%Y-%m-%d")


def _vendor_dir(vendor: str) -> str:
    v = str(vendor).strip().lower()
    if not v.replace("_", "").isalnum():
        raise ConfigError(f"vendor {vendor!r} is not a valid vendor name")
    return v


def dataset_dir(vendor: str, symbol: str, timeframe: str) -> Path:
    """Directory holding every cached range of one vendor/symbol/timeframe."""
    root = cache_root()
    path = root / _vendor_dir(vendor) / validate_symbol(symbol) / normalize_timeframe(timeframe)
    # Defence in depth: the validated parts can never leave the cache root.
    if root.resolve() not in path.resolve().parents:
        raise CacheError(f"refusing to use a cache path outside {root}: {path}")
    return path


def dataset_paths(vendor: str, symbol: str, timeframe: str, start: Any, end: Any) -> tuple[Path, Path]:
    """The ``(parquet, metadata)`` paths of one cached range."""
    base = dataset_dir(vendor, symbol, timeframe)
    stem = f"{_day(start)}_{_day(end)}"
    return base / f"{stem}.parquet", base / f"{stem}{_META_SUFFIX}"


def dataset_id(vendor: str, symbol: str, timeframe: str, start: Any, end: Any) -> str:
    """A short stable id of a dataset request: md5 of ``vendor_SYMBOL_tf_start_end``."""
    key = f"{_vendor_dir(vendor)}_{validate_symbol(symbol)}_{normalize_timeframe(timeframe)}_{_day(start)}_{_day(end)}"
    return hashlib.md5(key.encode()).hexdigest()[:12]


def _read_metadata(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        warnings.warn(f"ignoring unreadable cache metadata {path}: {exc}", CacheWarning, stacklevel=3)
        return None
    if not isinstance(meta, dict) or "content_hash" not in meta:
        warnings.warn(f"ignoring cache metadata without a content hash: {path}", CacheWarning, stacklevel=3)
        return None
    return meta


def _read_frame(path: Path, meta: dict[str, Any]) -> pd.DataFrame | None:
    try:
        df = pd.read_parquet(path)
        frame = check_ohlcv(df, what=str(path)).frame
    except FileNotFoundError:
        warnings.warn(f"cache metadata without its parquet file: {path}", CacheWarning, stacklevel=3)
        return None
    except Exception as exc:  # pyarrow raises many types for corrupt files
        warnings.warn(
            f"ignoring corrupt cache file {path} ({type(exc).__name__}); it will be re-fetched",
            CacheWarning,
            stacklevel=3,
        )
        return None
    if ohlcv_hash(frame) != meta.get("content_hash"):
        warnings.warn(
            f"ignoring cache file {path}: its content does not match the metadata hash; it will be re-fetched",
            CacheWarning,
            stacklevel=3,
        )
        return None
    return frame


def is_cached(vendor: str, symbol: str, timeframe: str, start: Any, end: Any) -> bool:
    """True if exactly this range is cached with readable metadata (the parquet is checked on load)."""
    parquet, meta = dataset_paths(vendor, symbol, timeframe, start, end)
    return parquet.exists() and _read_metadata(meta) is not None


def load_dataset(vendor: str, symbol: str, timeframe: str, start: Any, end: Any) -> pd.DataFrame | None:
    """Load exactly this cached range, or ``None`` on a miss (missing, corrupt or inconsistent)."""
    parquet, meta_path = dataset_paths(vendor, symbol, timeframe, start, end)
    meta = _read_metadata(meta_path)
    if meta is None:
        return None
    return _read_frame(parquet, meta)


def load_metadata(vendor: str, symbol: str, timeframe: str, start: Any, end: Any) -> dict[str, Any] | None:
    """The metadata dict of one cached range, or ``None``."""
    return _read_metadata(dataset_paths(vendor, symbol, timeframe, start, end)[1])


def save_dataset(
    df: pd.DataFrame,
    vendor: str,
    symbol: str,
    timeframe: str,
    start: Any,
    end: Any,
    *,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Validate and save ``df`` as one cached range; returns the parquet path.

    The metadata records vendor, symbol, timeframe, requested range, fetch time, row count,
    first/last bar and a content hash, plus whatever ``metadata`` adds (adjustment mode,
    exchange time zone, data-health report, ...).
    """
    frame = check_ohlcv(df, what=f"{symbol} {timeframe}").frame
    parquet, meta_path = dataset_paths(vendor, symbol, timeframe, start, end)
    meta: dict[str, Any] = dict(metadata or {})
    meta.update(
        schema_version=CACHE_SCHEMA_VERSION,
        dataset_id=dataset_id(vendor, symbol, timeframe, start, end),
        vendor=_vendor_dir(vendor),
        symbol=validate_symbol(symbol),
        timeframe=normalize_timeframe(timeframe),
        start=_day(start),
        end=_day(end),
        rows=len(frame),
        first_bar=frame.index[0].isoformat(),
        last_bar=frame.index[-1].isoformat(),
        columns=list(OHLCV_COLUMNS),
        content_hash=ohlcv_hash(frame),
        path=str(parquet),
    )
    meta.setdefault("fetched_at", datetime.now(UTC).isoformat(timespec="seconds"))

    def write_parquet(tmp: Path) -> None:
        frame.to_parquet(tmp, engine="pyarrow")

    with _write_lock(parquet):
        atomic_write(parquet, write_parquet)
        atomic_write_json(meta_path, meta)
    return parquet


@contextlib.contextmanager
def _write_lock(parquet: Path) -> Iterator[None]:
    """Serialise writers of one cache key so parquet and metadata always come from one writer."""
    try:
        parquet.parent.mkdir(parents=True, exist_ok=True)
        handle = open(parquet.parent / f".{parquet.stem}.lock", "a+")  # noqa: SIM115
    except OSError as exc:
        raise CacheError(f"cannot write {parquet}: {exc.strerror or exc}") from None
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def list_cached_datasets() -> list[dict[str, Any]]:
    """Metadata of every cached dataset, newest fetch first (unreadable entries skipped with a warning)."""
    root = cache_root()
    if not root.exists():
        return []
    found = []
    for meta_path in root.glob(f"*/*/*/*{_META_SUFFIX}"):
        meta = _read_metadata(meta_path)
        if meta is not None:
            found.append(meta)
    return sorted(found, key=lambda m: str(m.get("fetched_at", "")), reverse=True)


def find_covering(vendor: str, symbol: str, timeframe: str, start: Any, end: Any) -> dict[str, Any] | None:
    """Metadata of a cached range that contains ``[start, end]`` (the narrowest one), or ``None``."""
    base = dataset_dir(vendor, symbol, timeframe)
    if not base.exists():
        return None
    lo, hi = _day(start), _day(end)
    covering = []
    for meta_path in base.glob(f"*{_META_SUFFIX}"):
        meta = _read_metadata(meta_path)
        if meta is not None and str(meta.get("start")) <= lo and str(meta.get("end")) >= hi:
            covering.append(meta)
    if not covering:
        return None
    return min(covering, key=lambda m: pd.Timestamp(m["end"]) - pd.Timestamp(m["start"]))


def delete_dataset(vendor: str, symbol: str, timeframe: str, start: Any, end: Any) -> bool:
    """Remove one cached range; True if something was removed."""
    removed = False
    for path in dataset_paths(vendor, symbol, timeframe, start, end):
        if path.exists():
            path.unlink()
            removed = True
    return removed


def clear_all_cache() -> int:
    """Remove every cached dataset; returns how many datasets (parquet files) were removed."""
    root = cache_root()
    if not root.exists():
        return 0
    count = sum(1 for _ in root.glob("*/*/*/*.parquet"))
    for child in root.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    return count
