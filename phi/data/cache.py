"""The dataset cache: one parquet file plus a metadata JSON per fetched range.

Layout (under ``$PHI_HOME/data_cache``, see :mod:`phi.paths`)::

    {vendor}/{symbol}/{timeframe}/{start}_{end}.parquet
    {vendor}/{symbol}/{timeframe}/{start}_{end}_metadata.json

``start`` and ``end`` are the requested dates (``YYYY-MM-DD``, both inclusive). Both files are
first written whole to temporary files and synced; only then is the old metadata removed and
both renamed into place (the parquet first), so a reader sees either a complete dataset or none,
and a write that fails (full disk, read-only folder) leaves the range cached before untouched.
A killed writer leaves at worst a parquet without metadata (invisible) and temporary files,
both removed by :func:`clean_cache` and by the next write to that folder.

A corrupt, truncated or inconsistent file (metadata that is not a small UTF-8 JSON object of
the expected fields and types, that does not match its file name, or whose content hash does
not match the parquet) is treated as a cache miss with a one-line warning, never a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from phi._io import ORPHAN_TEMP_AGE_S, atomic_write_all, in_the_way, os_reason, remove_orphan_temps
from phi._math import is_seconds
from phi.data.dates import SPAN, in_span, is_date_like
from phi.data.schema import OHLCV_COLUMNS, check_ohlcv, ohlcv_hash
from phi.data.symbols import validate_symbol
from phi.data.timeframes import TIMEFRAMES, normalize_timeframe
from phi.errors import CacheError, ConfigError, shown
from phi.paths import cache_root

CACHE_SCHEMA_VERSION = 1
_META_SUFFIX = "_metadata.json"
#: metadata is a few KB; anything larger is not ours (and a device would never end)
MAX_METADATA_BYTES = 1 << 20
_MAX_DEPTH = 16
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_STEM = r"\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}"
_TEMP = re.compile(rf"\.({_STEM})(?:\.parquet|{re.escape(_META_SUFFIX)})\.\w+\.tmp")


class CacheWarning(UserWarning):
    """A cached file was unreadable or inconsistent and was ignored."""


def _day(value: Any) -> str:
    if not is_date_like(value):
        raise ConfigError(f"not a date: {shown(value)} (use YYYY-MM-DD)")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"not a date: {shown(value)} (use YYYY-MM-DD)") from None
    if pd.isna(ts) or not in_span(ts):
        raise ConfigError(f"date {shown(value)} is outside the supported dates {SPAN}")
    return ts.strftime("%Y-%m-%d")


#: Longest vendor name used as a cache folder (the real ones are a dozen letters).
_MAX_VENDOR_CHARS = 64


def _vendor_dir(vendor: str) -> str:
    if not isinstance(vendor, str):
        raise ConfigError(f"vendor must be a string, got {shown(vendor)}")
    v = vendor.strip().lower()
    if not v.replace("_", "").isalnum() or len(v) > _MAX_VENDOR_CHARS:
        raise ConfigError(f"vendor {shown(vendor)} is not a valid vendor name")
    return v


def dataset_dir(vendor: str, symbol: str, timeframe: str) -> Path:
    """Directory holding every cached range of one vendor/symbol/timeframe."""
    root = cache_root()
    path = root / _vendor_dir(vendor) / validate_symbol(symbol) / normalize_timeframe(timeframe)
    # Defence in depth: the validated parts can never leave the cache root.
    try:
        inside = root.resolve() in path.resolve().parents
    except (OSError, RuntimeError):  # a symbolic link loop on the way (RuntimeError before 3.13)
        raise CacheError(f"cannot use the cache folder {root}: {in_the_way(path) or 'a symbolic link loop'}") from None
    if not inside:
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


def _warn(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=4)


def _regular_file(path: Path) -> bool | None:
    """True for a regular file (symlinks followed), None if missing, False for anything else."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return None
    except OSError:
        return False


def _read_metadata(path: Path) -> dict[str, Any] | None:
    """The metadata dict at ``path``, or ``None`` (with a one-line warning unless it is missing)."""
    kind = _regular_file(path)
    if kind is None:
        return None
    if not kind:
        _warn(f"ignoring cache metadata {path}: not a regular file")
        return None
    try:
        # O_NONBLOCK: a FIFO swapped in after the check must not hang the reader
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            data = os.read(fd, MAX_METADATA_BYTES + 1)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        _warn(f"ignoring unreadable cache metadata {path}: {exc.strerror or exc}")
        return None
    if len(data) > MAX_METADATA_BYTES:
        _warn(f"ignoring unreadable cache metadata {path}: larger than {MAX_METADATA_BYTES:,} bytes")
        return None
    try:
        meta = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        _warn(f"ignoring unreadable cache metadata {path}: not UTF-8 (byte 0x{data[exc.start]:02x} at {exc.start})")
        return None
    except RecursionError:
        _warn(f"ignoring unreadable cache metadata {path}: JSON nested too deeply")
        return None
    except ValueError as exc:
        _warn(f"ignoring unreadable cache metadata {path}: {' '.join(str(exc).split())}")
        return None
    problem = metadata_problem(meta, path)
    if problem is not None:
        _warn(f"ignoring cache metadata {path}: {problem}; it will be re-fetched when needed")
        return None
    return meta


def _too_deep(obj: Any, limit: int = _MAX_DEPTH) -> bool:
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _shown(value: Any) -> str:
    text = shown(value)
    return text if len(text) <= 40 else text[:37] + "..."


def metadata_problem(meta: Any, path: Path | None = None) -> str | None:
    """What is wrong with a parsed metadata object, or ``None`` if it can be trusted.

    Checks the type of every field a reader uses, the dates (``YYYY-MM-DD`` within the
    supported span, start <= end), the stored health report, and (given ``path``) that
    vendor, symbol, timeframe and range match the file's place in the cache.
    """
    if not isinstance(meta, dict):
        return f"not a JSON object but a {type(meta).__name__}"
    if _too_deep(meta):
        return f"JSON nested deeper than {_MAX_DEPTH} levels"
    if not isinstance(meta.get("content_hash"), str) or not meta["content_hash"]:
        return "no content hash"
    version = meta.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"field 'schema_version' is {_shown(version)}, not a version number"
    if version > CACHE_SCHEMA_VERSION:
        return f"written by a newer Phi-nance (cache schema {version} > {CACHE_SCHEMA_VERSION})"
    for key in ("vendor", "symbol", "timeframe", "start", "end", "first_bar", "last_bar", "fetched_at"):
        if not isinstance(meta.get(key), str):
            return f"field {key!r} is {_shown(meta.get(key))}, not a string"
    rows = meta.get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
        return f"field 'rows' is {_shown(rows)}, not a positive whole number"
    if meta["timeframe"] not in TIMEFRAMES:
        return f"field 'timeframe' is {_shown(meta['timeframe'])}, not one of {', '.join(TIMEFRAMES)}"
    days = []
    for key in ("start", "end", "first_bar", "last_bar"):
        text = meta[key]
        if key in ("start", "end") and not _DAY.fullmatch(text):
            return f"field {key!r} is {_shown(text)}, not a date like 2024-01-31"
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError, OverflowError):
            return f"field {key!r} is {_shown(text)}, not a date"
        if pd.isna(ts) or not in_span(ts):
            return f"field {key!r} is {_shown(text)}, outside the supported dates {SPAN}"
        days.append(ts)
    if days[0] > days[1]:
        return f"start {meta['start']} is after end {meta['end']}"
    for key in ("exchange_tz", "coverage_start"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            return f"field {key!r} is {_shown(meta[key])}, not a string"
    if meta.get("exchange_tz"):
        try:
            pd.Timestamp("2000-01-01").tz_localize(meta["exchange_tz"])
        except Exception:  # unknown zone names raise several types
            return f"field 'exchange_tz' is {_shown(meta['exchange_tz'])}, not a known time zone"
    repairs = meta.get("repairs", [])
    if not isinstance(repairs, list) or not all(isinstance(r, str) for r in repairs):
        return "field 'repairs' is not a list of strings"
    if "health" in meta:
        from phi.data.health import HealthReport

        if not isinstance(meta["health"], dict):
            return f"field 'health' is {_shown(meta['health'])}, not a report"
        try:
            HealthReport.from_dict(meta["health"]).summary_lines()
        except Exception:  # any wrong type inside the stored report
            return "field 'health' holds an unreadable report"
    if path is not None:
        place = (path.parent.parent.parent.name, path.parent.parent.name, path.parent.name, path.name)
        want = (meta["vendor"], meta["symbol"], meta["timeframe"], f"{meta['start']}_{meta['end']}{_META_SUFFIX}")
        if place != want:
            return f"its fields ({'/'.join(want)}) do not match its place in the cache"
    return None


def _read_frame(path: Path, meta: dict[str, Any]) -> pd.DataFrame | None:
    if _regular_file(path) is False:
        _warn(f"ignoring cache file {path}: not a regular file; it will be re-fetched")
        return None
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
    if ohlcv_hash(frame) != meta.get("content_hash") or len(frame) != meta.get("rows"):
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
    with _read_lock(parquet):  # a writer of this key never swaps the pair under our feet
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
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ConfigError(f"save_dataset: metadata must be a mapping or None, got {shown(metadata)}")
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

    text = json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"

    def write_parquet(tmp: Path) -> None:
        frame.to_parquet(tmp, engine="pyarrow")

    def write_meta(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    def drop_old_metadata() -> None:
        # both new files are complete: drop the old metadata before the renames, so that a
        # kill between them leaves a parquet without metadata (a miss), never a new parquet
        # under old metadata
        meta_path.unlink(missing_ok=True)

    with _write_lock(parquet):
        _clean_folder(parquet.parent, held=parquet.stem)
        # both files are written before either replaces anything: a full disk or a failing
        # write keeps the range cached before, whole
        atomic_write_all([(parquet, write_parquet), (meta_path, write_meta)], before_commit=drop_old_metadata)
    return parquet


@contextlib.contextmanager
def _write_lock(parquet: Path) -> Iterator[None]:
    """Serialise writers of one cache key so parquet and metadata always come from one writer."""
    try:
        parquet.parent.mkdir(parents=True, exist_ok=True)
        handle = open(parquet.parent / f".{parquet.stem}.lock", "a+")  # noqa: SIM115
    except OSError as exc:
        raise CacheError(f"cannot write {parquet}: {os_reason(exc, parquet.parent)}") from None
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _read_lock(parquet: Path) -> Iterator[None]:
    """Share the key's lock while reading, when its lock file exists and can be opened."""
    try:
        fd = os.open(parquet.parent / f".{parquet.stem}.lock", os.O_RDONLY)
    except OSError:  # never written here, or a read-only copy of a cache: read unlocked
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _try_lock(folder: Path, stem: str) -> int | None:
    """The fd of the key's lock taken without waiting, or ``None`` if a writer holds it."""
    try:
        fd = os.open(folder / f".{stem}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _leftovers(folder: Path, stem: str) -> list[Path]:
    """Temporary files of one key, plus its parquet when its metadata is missing and its
    metadata when its parquet is missing (deleted by hand: a range listed but never served)."""
    found = [p for p in folder.glob(f".{stem}*.tmp") if (m := _TEMP.fullmatch(p.name)) and m.group(1) == stem]
    parquet, meta = folder / f"{stem}.parquet", folder / f"{stem}{_META_SUFFIX}"
    if parquet.exists() and not meta.exists():
        found.append(parquet)
    if not os.path.lexists(parquet) and meta.is_file() and not meta.is_symlink():
        found.append(meta)
    return found


def _clean_folder(folder: Path, *, held: str | None = None) -> tuple[int, int]:
    """Remove what killed writers left in one dataset folder; returns ``(count, bytes)``.

    A key's leftovers are removed only while holding its lock (``held`` is the key whose
    lock the caller already holds), so a live writer is never disturbed; temporary files of
    no known key are removed once older than :data:`phi._io.ORPHAN_TEMP_AGE_S`.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return 0, 0
    stems = {m.group(1) for n in names if (m := _TEMP.fullmatch(n))}
    stems |= {n[: -len(".parquet")] for n in names if n.endswith(".parquet") and not n.startswith(".")}
    stems |= {n[: -len(_META_SUFFIX)] for n in names if re.fullmatch(_STEM + re.escape(_META_SUFFIX), n)}
    removed = freed = 0
    for stem in sorted(stems):
        if stem != held and not _leftovers(folder, stem):
            continue
        fd = None if stem == held else _try_lock(folder, stem)
        if stem != held and fd is None:
            continue
        try:
            for path in _leftovers(folder, stem):
                with contextlib.suppress(OSError):
                    size = path.stat().st_size
                    path.unlink()
                    removed, freed = removed + 1, freed + size
        finally:
            if fd is not None:
                os.close(fd)
    n, b = remove_orphan_temps(folder, recursive=False, skip=_is_key_temp)
    return removed + n, freed + b


def _is_key_temp(name: str) -> bool:
    """A temporary file of a cache key: its lock, not its age, says whether it is an orphan."""
    return _TEMP.fullmatch(name) is not None


def _check_age(value: Any, name: str) -> None:
    """A waiting time in seconds: a number >= 0 (``inf``: never old enough)."""
    if not is_seconds(value):
        raise ConfigError(f"{name} must be a number of seconds >= 0, got {shown(value)}")


def clean_cache(*, min_age_s: float = ORPHAN_TEMP_AGE_S) -> tuple[int, int]:
    """Remove what killed writers left in the cache: temporary files, parquet files without
    metadata and metadata without its parquet file. A key a live writer is saving is left
    alone (its lock is held); stray temporary files elsewhere go once older than ``min_age_s``
    seconds. Never raises.

    Returns
    -------
    tuple[int, int]
        The number of files removed and the bytes freed.
    """
    _check_age(min_age_s, "min_age_s")
    root = cache_root()
    removed = freed = 0
    if not root.is_dir():
        return 0, 0
    for folder in root.glob("*/*/*"):
        if folder.is_dir() and not folder.is_symlink():
            n, b = _clean_folder(folder)
            removed, freed = removed + n, freed + b
    n, b = remove_orphan_temps(root, min_age_s=min_age_s, skip=_is_key_temp)
    return removed + n, freed + b


def list_cached_datasets() -> list[dict[str, Any]]:
    """Metadata of every cached dataset, newest fetch first (unreadable entries skipped with a
    warning). Leftovers of killed writers are cleaned first (see :func:`clean_cache`)."""
    root = cache_root()
    if not root.exists():
        return []
    clean_cache()
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
    _clean_folder(base)  # leftovers of a killed writer of this dataset go on its next use
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
    for path in reversed(dataset_paths(vendor, symbol, timeframe, start, end)):  # metadata first
        try:
            if not os.path.lexists(path):
                continue
            if path.is_dir() and not path.is_symlink():
                raise CacheError(f"cannot delete {path}: it is a folder, not a cached file; remove it by hand")
            path.unlink()
        except OSError as exc:
            raise CacheError(f"cannot delete {path}: {os_reason(exc, path.parent, path)}") from None
        removed = True
    return removed


def clear_all_cache() -> int:
    """Remove every cached dataset; returns how many datasets (parquet files) were removed."""
    root = cache_root()
    if not root.exists():
        return 0
    if not root.is_dir():
        raise CacheError(f"the cache path {root} is not a folder; move that file away")
    count = sum(1 for _ in root.glob("*/*/*/*.parquet"))
    try:
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    except OSError as exc:
        raise CacheError(f"could not clear the cache {root}: {exc.strerror or exc}") from None
    return count
