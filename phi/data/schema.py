"""The OHLCV contract every vendor's output goes through.

A valid frame has a tz-aware UTC, sorted, unique ``DatetimeIndex`` and float64 columns
``open, high, low, close, volume`` with positive prices and ``low <= open, close <= high``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from phi.data.dates import SPAN, in_span
from phi.errors import ConfigError, DataError, shown

OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")


class DataRepairWarning(UserWarning):
    """Emitted when :func:`validate_ohlcv` repaired a frame (sorted, de-duplicated, ...)."""


@dataclass
class ValidationResult:
    """A validated frame and the list of repairs made to it (empty when none)."""

    frame: pd.DataFrame
    repairs: list[str] = field(default_factory=list)


def _fmt(ts: object) -> str:
    return str(ts)


def check_ohlcv(df: pd.DataFrame, *, what: str = "data") -> ValidationResult:
    """Validate ``df`` against the OHLCV contract, repairing what is safe to repair.

    Repairs (reported in ``repairs``): column names lower-cased, a naive index localised to
    UTC, a non-UTC index converted, unsorted stamps sorted, duplicate stamps dropped (the
    last one kept), rows whose four prices are all missing dropped, missing volume set to 0.

    Rejected with :class:`DataError`: not a DataFrame, no rows, missing columns, an index
    that is not datetime, prices that are partly missing, non-numeric, infinite or not
    positive, negative volume, and bars with ``high < low`` or open/close outside
    ``[low, high]``.
    """
    if not isinstance(what, str):
        raise ConfigError(f"what (the data's name in messages) must be a string, got {shown(what)}")
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    repairs: list[str] = []
    frame = df.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in OHLCV_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {', '.join(missing)}; "
            f"an OHLCV frame needs {', '.join(OHLCV_COLUMNS)} (found {', '.join(map(str, frame.columns)) or 'none'})"
        )
    twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()] if c in OHLCV_COLUMNS})
    if twice:
        raise DataError(f"{what}: column(s) {', '.join(twice)} appear more than once; keep one of each")
    frame = frame[list(OHLCV_COLUMNS)]
    if len(frame) == 0:
        raise DataError(f"{what}: no rows (the vendor returned an empty answer for this range)")

    if not isinstance(frame.index, pd.DatetimeIndex):
        if pd.api.types.is_numeric_dtype(frame.index.dtype):  # row numbers would read as 1970 nanoseconds
            raise DataError(
                f"{what}: the index holds numbers ({frame.index.dtype}), not timestamps; make the date "
                "column the index, e.g. df.set_index('date') (epoch seconds: pd.to_datetime(df.index, unit='s'))"
            )
        try:
            frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index))
        except (TypeError, ValueError):
            raise DataError(
                f"{what}: the index must hold timestamps, got {frame.index.dtype} values"
            ) from None
        repairs.append("converted the index to timestamps")
    idx = pd.DatetimeIndex(frame.index)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
        repairs.append("localised naive timestamps to UTC")
    elif str(idx.tz) != "UTC":
        repairs.append(f"converted timestamps from {idx.tz} to UTC")  # the zone before converting
        idx = idx.tz_convert("UTC")
    if idx.hasnans:
        raise DataError(f"{what}: {int(pd.isna(idx).sum())} row(s) have a missing timestamp")
    for edge in (idx.min(), idx.max()):
        if not in_span(edge):
            raise DataError(f"{what}: timestamp {_fmt(edge)} is outside the supported dates {SPAN}")
    frame.index = idx.rename("timestamp")

    for col in OHLCV_COLUMNS:
        try:
            frame[col] = pd.to_numeric(frame[col], errors="raise").astype("float64")
        except (TypeError, ValueError):
            raise DataError(f"{what}: column {col!r} holds non-numeric values") from None

    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        repairs.append("sorted the bars by time")
    dup = frame.index.duplicated(keep="last")
    if dup.any():
        repairs.append(
            f"dropped {int(dup.sum())} duplicate timestamp(s), first at {_fmt(frame.index[dup][0])}; "
            "kept the last row of each"
        )
        frame = frame[~dup]

    prices = frame[list(PRICE_COLUMNS)]
    all_nan = prices.isna().all(axis=1)
    if all_nan.any():
        repairs.append(
            f"dropped {int(all_nan.sum())} bar(s) with no prices, first at {_fmt(frame.index[all_nan.to_numpy()][0])}"
        )
        frame = frame[~all_nan.to_numpy()]
        prices = frame[list(PRICE_COLUMNS)]
    if len(frame) == 0:
        raise DataError(f"{what}: no rows left after dropping bars with no prices")
    part_nan = prices.isna().any(axis=1).to_numpy()
    if part_nan.any():
        raise DataError(
            f"{what}: {int(part_nan.sum())} bar(s) have missing prices (NaN), first at "
            f"{_fmt(frame.index[part_nan][0])}; drop or fill them first (e.g. df.dropna())"
        )
    values = prices.to_numpy()
    if not np.isfinite(values).all():
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
        raise DataError(f"{what}: infinite prices at {_fmt(frame.index[bad[0]])}")
    nonpos = (values <= 0).any(axis=1)
    if nonpos.any():
        raise DataError(
            f"{what}: {int(nonpos.sum())} bar(s) have a price <= 0, first at {_fmt(frame.index[nonpos][0])}"
        )
    vol = frame["volume"]
    if vol.isna().any():
        repairs.append(f"set {int(vol.isna().sum())} missing volume value(s) to 0")
        frame["volume"] = vol.fillna(0.0)
    if (frame["volume"] < 0).any():
        first = frame.index[(frame["volume"] < 0).to_numpy()][0]
        raise DataError(f"{what}: negative volume at {_fmt(first)}")

    o, h, lo, c = (frame[k].to_numpy() for k in PRICE_COLUMNS)
    tol = 1e-9 * np.maximum(h, 1.0)
    inverted = h < lo - tol
    if inverted.any():
        raise DataError(
            f"{what}: {int(inverted.sum())} bar(s) have high < low, first at {_fmt(frame.index[inverted][0])}"
        )
    outside = (o > h + tol) | (o < lo - tol) | (c > h + tol) | (c < lo - tol)
    if outside.any():
        raise DataError(
            f"{what}: {int(outside.sum())} bar(s) have open or close outside [low, high], "
            f"first at {_fmt(frame.index[outside][0])}"
        )
    return ValidationResult(frame=frame, repairs=repairs)


def validate_ohlcv(df: pd.DataFrame, *, what: str = "data") -> pd.DataFrame:
    """Validate ``df`` (see :func:`check_ohlcv`); repairs are reported as a warning."""
    result = check_ohlcv(df, what=what)
    if result.repairs:
        warnings.warn(f"{what}: " + "; ".join(result.repairs), DataRepairWarning, stacklevel=2)
    return result.frame


def ohlcv_hash(df: pd.DataFrame) -> str:
    """A content hash of an OHLCV frame (timestamps and the five columns), stable across
    pandas/pyarrow versions: SHA-256 over the raw int64 nanosecond stamps and float64 values."""
    import hashlib

    if not isinstance(df, pd.DataFrame):
        raise DataError(f"ohlcv_hash: expected an OHLCV pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in OHLCV_COLUMNS if c not in df.columns]
    if missing or not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(
            "ohlcv_hash: expected a validated OHLCV frame (DatetimeIndex and columns "
            f"{', '.join(OHLCV_COLUMNS)}); run validate_ohlcv first"
        )
    h = hashlib.sha256()
    stamps = pd.DatetimeIndex(df.index).as_unit("ns").asi8
    h.update(np.ascontiguousarray(stamps, dtype="<i8").tobytes())
    for col in OHLCV_COLUMNS:
        h.update(np.ascontiguousarray(df[col].to_numpy(dtype="float64"), dtype="<f8").tobytes())
    return h.hexdigest()
