"""The OHLCV contract every vendor's output goes through.

A valid frame has a tz-aware UTC, sorted, unique ``DatetimeIndex`` and float64 columns
``open, high, low, close, volume`` with positive prices and ``low <= open, close <= high``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from phi.data.dates import SPAN, in_span
from phi.errors import ConfigError, DataError, OHLCVError, shown

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
    that is not datetime, a boolean, date or complex column (:func:`refuse_non_numbers`),
    prices that are partly missing, non-numeric, infinite or not positive, infinite or
    negative volume, and bars with ``high < low`` or open/close outside ``[low, high]``.
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
        refuse_non_numbers(frame[col], col, what, sep=": ")
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
    infinite = np.isinf(frame["volume"].to_numpy())
    if infinite.any():
        raise DataError(f"{what}: infinite volume at {_fmt(frame.index[infinite][0])}")
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


def conform_ohlcv(
    df: Any,
    columns: Sequence[str] = PRICE_COLUMNS,
    *,
    optional: Sequence[str] = (),
    what: str = "ohlcv",
) -> pd.DataFrame:
    """``df`` with its OHLCV columns named and typed as the contract says: the one check of a
    frame of bars that every function taking bars makes (engine, indicators, blender, tuner,
    regime engine, options, portfolio), so that they all accept the same frames.

    Column names match whatever their case or surrounding spaces (``Close``, ``CLOSE``);
    ``columns`` must be present, ``optional`` ones are converted when present, other columns
    are left as they are. Numeric columns (int, float32, nullable) and numbers held as text
    (``"101.5"``) become float64. Refused with one :class:`~phi.errors.OHLCVError` line: not a
    DataFrame, one of the five names twice (``close`` beside ``Close``), a missing column, a
    boolean column, a value that is not a number (its column, value, stamp and row named).

    A conforming frame (lower-case names, float64 columns) is returned as is, not copied: the
    check reads the labels and dtypes only (O(columns)). Values are checked by
    :func:`check_bar_values`.
    """
    if not isinstance(df, pd.DataFrame):
        raise OHLCVError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    labels = df.columns.tolist()
    found: dict[str, int] = {}  # name -> position
    for i, label in enumerate(labels):
        key = label.strip().lower() if isinstance(label, str) else None
        if key not in OHLCV_COLUMNS:
            continue
        if key in found:
            raise OHLCVError(
                f"{what} has two {key!r} columns ({labels[found[key]]!r} and {label!r}); keep one"
            )
        found[key] = i
    missing = [c for c in columns if c not in found]
    if missing:
        raise OHLCVError(
            f"{what} is missing column(s) {', '.join(missing)} (needs {', '.join(columns)}; has "
            f"{', '.join(map(str, labels)) or 'none'}); see phi.data.validate_ohlcv"
        )
    renames = {labels[i]: key for key, i in found.items() if labels[i] != key}
    converted: dict[str, np.ndarray] = {}
    dtypes = df.dtypes.tolist()  # one look at the dtypes, no column built unless converted
    for key in dict.fromkeys((*columns, *(c for c in optional if c in found))):
        i = found[key]
        if dtypes[i] != np.float64:
            converted[key] = _as_float(df.iloc[:, i], labels[i], what)
    if not renames and not converted:
        return df
    out = df.rename(columns=renames) if renames else df.copy(deep=False)
    for key, array in converted.items():
        out[key] = array
    return out


def refuse_non_numbers(values: pd.Series, label: Any, what: str, *, sep: str = " ") -> None:
    """One :class:`~phi.errors.OHLCVError` line if ``values``' dtype cannot hold prices or
    volumes: booleans, dates, durations, complex numbers (numbers, text and categories pass;
    their values are converted by the caller). ``sep`` joins ``what`` and the rest."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise OHLCVError(
            f"{what}{sep}column {label!r} holds booleans (dtype {dtype}), not numbers; give it prices "
            "and volumes as numbers"
        )
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    if not (
        numeric
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    ):
        raise OHLCVError(
            f"{what}{sep}column {label!r} holds {dtype} values, not numbers; convert it first (pd.to_numeric)"
        )


def _as_float(values: pd.Series, label: Any, what: str) -> np.ndarray:
    """A non-float64 column as float64 (missing values NaN), or one line saying why not."""
    refuse_non_numbers(values, label, what)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    raw = values.to_numpy(dtype=object, na_value=np.nan)
    try:
        return raw.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        pass
    for i, value in enumerate(raw):  # only when a value is not a number: find the first one
        try:
            float(value)
        except (TypeError, ValueError, OverflowError):
            raise OHLCVError(
                f"{what} column {label!r} holds a value that is not a number, {shown(value)}, at "
                f"{values.index[i]} (row {i}); convert or drop it first (pd.to_numeric)"
            ) from None
    raise OHLCVError(f"{what} column {label!r} does not convert to numbers; convert it first (pd.to_numeric)")


def check_bar_values(
    frame: pd.DataFrame, columns: Sequence[str], *, what: str = "ohlcv"
) -> dict[str, np.ndarray]:
    """Check the values of ``columns`` of a :func:`conform_ohlcv` frame and return them (views).

    Every value finite, prices > 0, volume >= 0, and among the columns given each bar
    consistent (:func:`check_bar_consistency`); one :class:`~phi.errors.OHLCVError` line for
    the first column (in the order given) that breaks a rule. Two passes over each column when
    all is well.
    """
    arrays: dict[str, np.ndarray] = {}
    index = frame.index
    for col in columns:
        arr = frame[col].to_numpy()
        if arr.dtype != np.float64:  # not conformed by the caller: no surprises, convert
            arr = frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(all="ignore"):  # one sum finds NaN/inf (they propagate); an overflow
            total = arr.sum()  # needs the full check
        if not (np.isfinite(total) or np.isfinite(arr).all()):
            bad = ~np.isfinite(arr)
            i = int(np.argmax(bad))
            kind = "NaN" if np.isnan(arr[bad]).all() else "NaN/infinite"
            raise OHLCVError(
                f"{what} column {col!r} has {int(bad.sum())} {kind} value(s), first at {index[i]} "
                f"(row {i}); drop or repair those rows first (df.dropna() or phi.validate_ohlcv)"
            )
        if col != "volume" and len(arr) and arr.min() <= 0.0:
            i = int(np.argmax(arr <= 0.0))
            raise OHLCVError(
                f"{what} column {col!r} has a non-positive price ({float(arr[i])!r} at {index[i]}, "
                f"row {i}); prices must be > 0: drop or repair those rows first (phi.validate_ohlcv)"
            )
        if col == "volume":
            check_volume_sign(arr, index, what=what)
        arrays[col] = arr
    check_bar_consistency(index, arrays, what=what)
    return arrays


def check_volume_sign(volume: np.ndarray, index: pd.Index, *, what: str = "ohlcv") -> None:
    """No negative volume (NaN passes): one :class:`~phi.errors.OHLCVError` line naming the first."""
    with np.errstate(invalid="ignore"):
        negative = volume < 0.0
    if negative.any():
        i = int(np.argmax(negative))
        raise OHLCVError(
            f"{what} column 'volume' has a negative value ({float(volume[i])!r} at {index[i]}, "
            f"row {i}); volume must be >= 0: drop or repair those rows first (phi.validate_ohlcv)"
        )


def check_bar_consistency(index: pd.Index, arrays: Mapping[str, np.ndarray], *, what: str = "ohlcv") -> None:
    """Each bar's prices consistent among the columns in ``arrays``: ``low <= high`` and open /
    close inside ``[low, high]``, within the tolerance of :func:`check_ohlcv` (NaN passes)."""
    if "high" not in arrays or "low" not in arrays:
        return
    high, low = arrays["high"], arrays["low"]
    tol = 1e-9 * np.maximum(high, 1.0)
    bad = high < low - tol
    problem = "high < low"
    if not bad.any():
        for col in ("open", "close"):
            if col in arrays:
                bad = bad | (arrays[col] > high + tol) | (arrays[col] < low - tol)
        problem = "open or close outside [low, high]"
    if bad.any():
        i = int(np.argmax(bad))
        raise OHLCVError(
            f"{what} has {int(bad.sum())} bar(s) with {problem}, first at {index[i]} (row {i}); "
            "a bar needs low <= open, close <= high in [low, high]: repair or drop them first "
            "(phi.validate_ohlcv names them)"
        )


def check_bar_order(index: pd.Index, *, what: str = "ohlcv") -> None:
    """Bars in strictly increasing time order (a DatetimeIndex or numeric stamps; a RangeIndex
    or labels pass): unsorted or duplicate stamps would let a later bar be read as an earlier
    one. One :class:`~phi.errors.OHLCVError` line; one pass over the stamps, which pandas
    caches on the index."""
    if isinstance(index, pd.RangeIndex) or not (
        isinstance(index, pd.DatetimeIndex)
        or (pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype))
    ):
        return
    if index.is_monotonic_increasing and index.is_unique:
        return
    if index.hasnans:
        raise OHLCVError(f"{what} index has a missing timestamp (NaT); drop that bar first")
    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise OHLCVError(
            f"{what} index has duplicate timestamps (first {dup}); keep one bar per stamp "
            "(phi.validate_ohlcv drops duplicates)"
        )
    raise OHLCVError(f"{what} index is not sorted by time; sort it first (ohlcv.sort_index())")


def conform_bars(
    df: Any,
    columns: Sequence[str] = OHLCV_COLUMNS,
    *,
    values: Sequence[str] | None = None,
    dated: bool = False,
    what: str = "ohlcv",
) -> pd.DataFrame:
    """The whole check of a frame of bars given to a public function: :func:`conform_ohlcv`
    (``columns`` required), the ``values`` columns (default: ``columns``) checked by
    :func:`check_bar_values`, the bars in time order (:func:`check_bar_order`) and, if
    ``dated``, a ``DatetimeIndex``. Returns the conformed frame (``df`` itself when it
    conforms: nothing copied)."""
    frame = conform_ohlcv(df, columns, what=what)
    if dated and not isinstance(frame.index, pd.DatetimeIndex):
        raise OHLCVError(
            f"{what} needs a DatetimeIndex (the bars' time stamps), got {type(frame.index).__name__}; "
            "set one first (df.set_index(pd.to_datetime(df['date'], utc=True)))"
        )
    check_bar_values(frame, columns if values is None else values, what=what)
    check_bar_order(frame.index, what=what)
    return frame


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
