"""Input preparation for the engine: bars, their order and calendar, and the signal matrix.

Everything here validates at the boundary and raises :class:`phi.errors.EngineError` with one
line naming the problem; :mod:`phi.backtest.engine` is the only caller.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from phi.backtest import _nb
from phi.backtest.engine_config import EngineConfig
from phi.data.calendar import FX_DAY_END_HOUR, FX_TZ, detect_market_calendar, utc_offsets
from phi.data.schema import PRICE_COLUMNS, check_bar_values, conform_ohlcv
from phi.errors import EngineError


class _Bars:
    __slots__ = (
        "calendar",
        "calendar_source",
        "close",
        "day_end",
        "high",
        "index",
        "low",
        "open",
        "periods",
    )

    def __init__(self, ohlcv: pd.DataFrame, config: EngineConfig) -> None:
        self.open, self.high, self.low, self.close = check_bars(ohlcv)
        self.index = ohlcv.index
        self.calendar, self.calendar_source, self.periods, self.day_end = _calendar(ohlcv, config)


def check_bars(ohlcv: pd.DataFrame) -> list[np.ndarray]:
    """The checks of :class:`_Bars` without its calendar: the price columns as
    :func:`phi.data.schema.conform_ohlcv` takes them (any case, numbers or numeric text), their
    values as :func:`phi.data.schema.check_bar_values` checks them (the same message, found
    here by two kernel passes) and the bars' order, each problem one line. Returns the open,
    high, low and close arrays (views of a conforming frame's columns)."""
    frame = conform_ohlcv(ohlcv, PRICE_COLUMNS)
    if len(frame) == 0:
        raise EngineError("ohlcv has no bars")
    arrays = [np.ascontiguousarray(frame[name].to_numpy()) for name in PRICE_COLUMNS]
    for first_bad, problem, fix in (
        (_nb.first_bad_bar_nb, "a missing, infinite or non-positive price", "drop or repair"),
        (_nb.first_inconsistent_bar_nb, "high < low or an open/close outside [low, high]",
         "repair or drop"),
    ):  # fmt: skip
        bad = first_bad(*arrays)
        if bad >= 0:
            check_bar_values(frame, PRICE_COLUMNS)  # the shared message
            values = ", ".join(f"{k}={float(a[bad])}" for k, a in zip(PRICE_COLUMNS, arrays, strict=True))
            raise EngineError(  # not reached: the kernels and check_bar_values agree
                f"ohlcv bar {frame.index[bad]} has {problem} ({values}); {fix} such bars first "
                "(phi.data.validate_ohlcv)"
            )
    _check_bar_order(frame.index)
    return arrays


def _check_bar_order(index: pd.Index, what: str = "ohlcv") -> None:
    """Bars must be strictly increasing in time: no unsorted or duplicate stamps (``what``: the
    frame's name in the message)."""
    if isinstance(index, pd.DatetimeIndex):
        if index.hasnans:
            raise EngineError(f"{what} has a missing timestamp (NaT) in its index; drop that bar")
        stamps = index.asi8
    elif isinstance(index, pd.RangeIndex):
        if index.step > 0 or len(index) < 2:
            return
        stamps = np.asarray(index, dtype=np.int64)
    elif pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype):
        stamps = np.ascontiguousarray(index.to_numpy(dtype=np.float64))
    else:
        return
    t = int(_nb.first_unsorted_nb(stamps))
    if t < 0:
        return
    if stamps[t] == stamps[t - 1]:
        raise EngineError(
            f"{what} has duplicate timestamps: bars {t - 1} and {t} are both at {index[t]}; "
            "keep one bar per stamp (phi.data.validate_ohlcv drops duplicates)"
        )
    raise EngineError(
        f"{what} is not sorted by time: bar {t} ({index[t]}) comes before bar {t - 1} "
        f"({index[t - 1]}); sort it first ({what}.sort_index())"
    )


def _calendar(ohlcv: pd.DataFrame, config: EngineConfig) -> tuple[str, str, float, np.ndarray]:
    """(market calendar, how it was chosen, periods per year, last bar of each trading day)."""
    index = ohlcv.index
    if not isinstance(index, pd.DatetimeIndex):
        if config.periods_per_year is None:
            raise EngineError(
                f"ohlcv has no DatetimeIndex (it has a {type(index).__name__}), so trading days "
                "are unknown: give the bars timestamps or set EngineConfig.periods_per_year "
                "(return periods per year, each bar being one period: e.g. 252 for daily bars)"
            )
        return (
            "none",
            "no timestamps: every bar is one return period",
            config.periods_per_year,
            np.ones(len(index), dtype=bool),
        )
    attrs = dict(ohlcv.attrs)
    if config.calendar == "auto":
        calendar, source = detect_market_calendar(index, attrs)
    else:
        calendar, source = config.calendar, "set in EngineConfig.calendar"
    tz = attrs.get("exchange_tz")
    day_end = _day_end(index, calendar, tz if isinstance(tz, str) else None)
    return calendar, source, config.annualisation(calendar), day_end


_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _day_end(index: pd.Index, calendar: str = "exchange", tz: str | None = None) -> np.ndarray:
    """True at the last bar of each trading day of ``calendar`` (the rules of
    :func:`phi.data.calendar.trading_day_keys`, in one pass over the stamps).

    ``tz`` is the exchange's time zone if known (``"exchange"`` only; else the index's own).
    """
    n = len(index)
    out = np.ones(n, dtype=bool)
    if not isinstance(index, pd.DatetimeIndex) or n < 2:
        return out
    zone: Any = index.tz  # naive stamps count as UTC
    if calendar == "fx":
        zone = FX_TZ
    elif calendar == "exchange" and tz and index.tz is not None:
        zone = tz
    unit = _UNIT_NS.get(index.unit, 1)
    stamps = index.asi8  # UTC (or naive wall-clock) in the index's unit
    at, off = np.array([np.iinfo(np.int64).min]), np.zeros(1, dtype=np.int64)
    for candidate in (zone, index.tz):  # an unknown exchange_tz: the index's own zone
        if candidate is None or str(candidate) == "UTC":
            break
        try:
            at, off = utc_offsets(candidate, int(stamps[0]) * unit, int(stamps[-1]) * unit)
        except (KeyError, ValueError, TypeError):
            continue
        at = np.where(at == np.iinfo(np.int64).min, at, at // unit)
        off = off // unit
        break
    fx = calendar == "fx"
    shift = (24 - FX_DAY_END_HOUR) * 3_600 * 1_000_000_000 // unit if fx else 0
    _nb.day_end_nb(stamps, at, off, shift, 86_400 * 1_000_000_000 // unit, fx, out)
    return out


def _index_mismatch(got: pd.Index, want: pd.Index) -> str:
    """Why a signal's index is not the bars' index, in a few words."""
    if isinstance(got, pd.DatetimeIndex) and isinstance(want, pd.DatetimeIndex):
        if got.tz is None and want.tz is not None:
            return f"the signal's stamps are tz-naive, the bars' tz-aware ({want.tz})"
        if got.tz is not None and want.tz is None:
            return f"the signal's stamps are tz-aware ({got.tz}), the bars' tz-naive"
        if len(got) != len(want):
            return f"the signal has {len(got)} stamps, the bars {len(want)}"
        diff = np.flatnonzero(got.asi8 != want.asi8)
        if diff.size == 0:
            return "the stamps differ in resolution"
        i = int(diff[0])
        return f"{diff.size} stamps differ, the first at bar {i}: signal {got[i]}, bars {want[i]}"
    if type(got) is not type(want):
        return f"the signal has a {type(got).__name__}, the bars a {type(want).__name__}"
    if len(got) != len(want):
        return f"the signal has {len(got)} labels, the bars {len(want)}"
    return "the labels differ"


def _check_signal_index(got: pd.Index, want: pd.Index) -> None:
    if got.equals(want):
        return
    if (
        isinstance(got, pd.DatetimeIndex)
        and isinstance(want, pd.DatetimeIndex)
        and got.tz is not None
        and want.tz is not None
        and len(got) == len(want)
        and np.array_equal(got.as_unit("ns").asi8, want.as_unit("ns").asi8)
    ):
        return  # the same instants in another time zone
    raise EngineError(
        f"signal index does not match the bars: {_index_mismatch(got, want)}; align it "
        "(signal.reindex(ohlcv.index)) or pass a plain array of one value per bar"
    )


_COMPLEX_SIGNAL = (
    "signal holds complex numbers; a signal is real numbers in [-1, 1] (NaN allowed): "
    "pass its real part (signal.real) if that is what you mean"
)


def _signal_matrix(signal: Any, bars: _Bars) -> tuple[np.ndarray, list[Any] | None]:
    """Signal as a C-contiguous (m, n) float64 array, plus column labels for a DataFrame."""
    n = len(bars.index)
    labels: list[Any] | None = None
    if isinstance(signal, (pd.DataFrame, pd.Series)):
        _check_signal_index(signal.index, bars.index)
        labels = list(signal.columns) if isinstance(signal, pd.DataFrame) else None
        dtypes = signal.dtypes if isinstance(signal, pd.DataFrame) else [signal.dtype]
        if any(pd.api.types.is_complex_dtype(dt) for dt in dtypes):
            raise EngineError(_COMPLEX_SIGNAL)
        try:
            arr = signal.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise EngineError(f"signal must be numeric ({exc})") from None
        arr = arr.T if arr.ndim == 2 else arr[None, :]
    else:
        try:
            if np.iscomplexobj(signal):
                raise EngineError(_COMPLEX_SIGNAL)
            arr = np.asarray(signal, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise EngineError(f"signal must be numeric, got {type(signal).__name__}") from exc
        if arr.ndim == 1:
            arr = arr[None, :]
        elif arr.ndim == 2:
            arr = arr.T  # (n bars, m candidates) -> (m, n)
        else:
            raise EngineError(f"signal must be 1-D or 2-D, got {arr.ndim}-D")
    if arr.shape[1] != n:
        raise EngineError(f"signal has {arr.shape[1]} bars but ohlcv has {n}")
    if arr.shape[0] == 0:
        raise EngineError("signal has no columns")
    arr = np.ascontiguousarray(arr)
    bad = _nb.first_bad_signal_nb(arr)
    if bad >= 0:
        col, bar = divmod(int(bad), n)
        where = f" at {bars.index[bar]}" + (f" in column {labels[col]!r}" if labels else "")
        raise EngineError(
            f"signal values must lie in [-1, 1] (NaN allowed), got {float(arr[col, bar])}"
            f"{where}; clip or rescale it"
        )
    return arr, labels
