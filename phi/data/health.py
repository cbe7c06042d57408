"""Data-health report: what is missing, duplicated or suspicious in a dataset.

:func:`data_health` works on raw frames too (unsorted, duplicated, inconsistent bars are
counted, not rejected), so it can describe a vendor's answer before validation as well as a
validated frame. Everything is vectorised.

Definitions
-----------
missing bars
    Expected bars (see :mod:`phi.data.calendar`) between the first and the last bar that hold
    no bar. ``calendar="exchange"``: NYSE sessions (weekdays minus NYSE holidays and known
    closures; intraday bars inside 09:30-16:00 New York, early closes honoured);
    ``"weekdays"``: every weekday; ``"24/7"``: every day and, intraday, every bar of the day.
    An intraday bar counts as present when any stamp falls inside its slot, so vendors that
    label bars slightly differently are not penalised.
duplicate stamps
    Extra rows sharing a timestamp (three rows at one stamp = 2 duplicates).
flat bars
    ``high == low``.
OHLC inconsistencies
    ``high < low``, open or close outside ``[low, high]``, or a price ``<= 0``
    (relative tolerance 1e-9, as the validator). NaN or infinite prices are counted apart
    (``nan_bars``).
suspected splits
    Every one-bar close-to-close move above 40 % in either direction (``|c_t/c_(t-1) - 1| > 0.4``).
    If within the next 5 bars the close comes back at least half-way (in log terms) to
    ``c_(t-1)``, the event is a ``"spike"`` (a bad print or a partly adjusted bar; the
    reverting move is not reported again), otherwise a ``"split"``: a likely unrepaired split,
    with the nearest usual ratio (``"2:1"``, ``"1:10"``, ...) when one is within 10 %.
uncovered fraction
    Share of the expected bars of the requested range (dates, inclusive) outside
    ``[max(first bar, coverage_start), last bar]``: what the vendor's history limits or the
    data's own extent leave uncovered. Gaps inside the data count as missing bars instead.

Status: ``"bad"`` when there are no rows, inconsistent or non-finite bars, a likely split,
more than 10 % of the expected bars missing, or more than half of the requested range
uncovered; ``"warn"`` on any other finding (missing bars, duplicates, unsorted stamps,
zero-volume bars, spikes, more than 2 % flat bars or of the requested range uncovered);
else ``"ok"``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from phi.data.calendar import (
    expected_bars,
    normalize_calendar,
    session_days,
    to_date,
    to_utc_ns,
    wall_dates,
)
from phi.data.dates import is_date_like
from phi.data.schema import OHLCV_COLUMNS
from phi.data.timeframes import normalize_timeframe
from phi.errors import DataError, shown

MAX_LISTED = 20
SPLIT_MOVE = 0.40
SPIKE_WINDOW = 5
BAD_MISSING_SHARE = 0.10
BAD_UNCOVERED = 0.50
WARN_UNCOVERED = 0.02
WARN_FLAT_SHARE = 0.02
_SPLIT_RATIOS = (2, 3, 4, 5, 6, 7, 8, 10, 15, 20, 25, 30, 40, 50, 100)


@dataclass
class HealthReport:
    """Findings of :func:`data_health`; JSON-able through :meth:`to_dict`."""

    rows: int
    first: str | None
    last: str | None
    timeframe: str
    missing_bars: int = 0
    gaps: list[dict[str, Any]] = field(default_factory=list)
    duplicate_stamps: int = 0
    zero_volume_bars: int = 0
    flat_bars: int = 0
    ohlc_inconsistent: int = 0
    suspected_splits: list[dict[str, Any]] = field(default_factory=list)
    requested_start: str | None = None
    requested_end: str | None = None
    coverage_start: str | None = None
    uncovered_fraction: float = 0.0
    status: str = "ok"
    calendar: str = "exchange"
    expected_bars: int = 0
    gap_count: int = 0
    nan_bars: int = 0
    unsorted_stamps: int = 0
    off_calendar_bars: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (stored in the cache metadata)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HealthReport:
        """Rebuild a report from :meth:`to_dict` output; unknown keys are ignored, missing
        ones take their defaults (so reports stored by older versions still load)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in dict(d).items() if k in names}
        kwargs.setdefault("rows", 0)
        kwargs.setdefault("first", None)
        kwargs.setdefault("last", None)
        kwargs.setdefault("timeframe", "1D")
        return cls(**kwargs)

    def summary_lines(self) -> list[str]:
        """Human-readable findings, one per line ("no problems found" when clean)."""
        daily = self.timeframe == "1D"
        if self.rows == 0:
            return ["no bars at all"]
        lines = [
            f"{self.rows:,} bars {_short(self.first, daily)} .. {_short(self.last, daily)} "
            f"({self.timeframe}, {self.calendar} calendar, {self.expected_bars:,} expected)"
        ]
        findings: list[str] = []
        if self.missing_bars:
            msg = (
                f"{self.missing_bars:,} missing bar(s) in {self.gap_count:,} gap(s) "
                f"({self.missing_bars / max(self.expected_bars, 1):.1%} of expected)"
            )
            if self.gaps:
                g = max(self.gaps, key=lambda x: x["missing"])
                msg += f"; largest {g['missing']:,} after {_short(g['after'], daily)}"
            findings.append(msg)
        if self.duplicate_stamps:
            findings.append(f"{self.duplicate_stamps:,} duplicate timestamp(s)")
        if self.unsorted_stamps:
            findings.append(f"{self.unsorted_stamps:,} timestamp(s) out of order")
        if self.nan_bars:
            findings.append(f"{self.nan_bars:,} bar(s) with missing or non-finite prices")
        if self.ohlc_inconsistent:
            findings.append(
                f"{self.ohlc_inconsistent:,} bar(s) with inconsistent OHLC "
                "(high < low, open/close outside [low, high], or a price <= 0)"
            )
        if self.zero_volume_bars:
            findings.append(f"{self.zero_volume_bars:,} bar(s) with zero volume")
        if self.flat_bars:
            findings.append(f"{self.flat_bars:,} flat bar(s) (high == low)")
        for ev in self.suspected_splits[:5]:
            move = f"{ev['prev_close']:.4g} -> {ev['close']:.4g} ({ev['move']:+.1%})"
            if ev["kind"] == "split":
                ratio = f" {ev['ratio']}" if ev.get("ratio") else ""
                findings.append(f"likely unrepaired{ratio} split at {_short(ev['at'], daily)}: {move}")
            else:
                findings.append(
                    f"one-bar spike at {_short(ev['at'], daily)}: {move}, reverted within {SPIKE_WINDOW} bars"
                )
        if len(self.suspected_splits) > 5:
            findings.append(f"... and {len(self.suspected_splits) - 5} more large one-bar move(s)")
        if self.uncovered_fraction > 0:
            msg = (
                f"{self.uncovered_fraction:.1%} of the requested range "
                f"{self.requested_start} .. {self.requested_end} is not covered"
            )
            if self.coverage_start:
                msg += f" (the vendor's history starts {_short(self.coverage_start, daily)})"
            findings.append(msg)
        notes = []
        if self.off_calendar_bars:
            notes.append(
                f"note: {self.off_calendar_bars:,} bar(s) outside the {self.calendar} calendar "
                "(holidays, weekends or extended hours; not a problem)"
            )
        return lines + (findings or ["no problems found"]) + notes


def _short(stamp: str | None, daily: bool) -> str:
    if stamp is None:
        return "start"
    return stamp[:10] if daily else stamp


def _iso(ns: int | np.integer) -> str:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").isoformat()


def _split_ratio(prev: float, close: float) -> str | None:
    r = prev / close
    n = r if r >= 1 else 1 / r
    best = min(_SPLIT_RATIOS, key=lambda k: abs(n / k - 1))
    if abs(n / best - 1) > 0.10:
        return None
    return f"{best}:1" if r >= 1 else f"1:{best}"


def _suspected_splits(stamps: np.ndarray, close: np.ndarray) -> list[dict[str, Any]]:
    """Large one-bar moves on sorted, unique bars (see the module docstring)."""
    c = np.where(np.isfinite(close) & (close > 0), close, np.nan)
    lc = np.log(c)
    step = np.abs(c[1:] / c[:-1] - 1.0)
    flagged = np.flatnonzero(step > SPLIT_MOVE) + 1  # bar index of the move's close
    if flagged.size == 0:
        return []
    # did the close come back at least half-way to c[t-1] within SPIKE_WINDOW bars?
    ahead = flagged[:, None] + np.arange(1, SPIKE_WINDOW + 1)[None, :]
    later = np.where(ahead < len(lc), lc[np.minimum(ahead, len(lc) - 1)], np.nan)
    size = np.abs(lc[flagged] - lc[flagged - 1])
    with np.errstate(invalid="ignore"):
        reverted = (np.abs(later - lc[flagged - 1][:, None]) < 0.5 * size[:, None]).any(axis=1)
    events: list[dict[str, Any]] = []
    skip_until = -1
    for t, rev in zip(flagged.tolist(), reverted.tolist(), strict=True):  # events, not bars
        if t <= skip_until:
            continue  # the move that reverts an earlier spike
        if rev:
            skip_until = t + SPIKE_WINDOW
        prev, cur = float(c[t - 1]), float(c[t])
        events.append(
            {
                "at": _iso(stamps[t]),
                "prev_close": prev,
                "close": cur,
                "move": round(cur / prev - 1.0, 6),
                "ratio": None if rev else _split_ratio(prev, cur),
                "kind": "spike" if rev else "split",
            }
        )
    return events


def _gaps(starts: np.ndarray, missing: np.ndarray) -> tuple[int, list[dict[str, Any]]]:
    """Runs of missing expected bars: (number of runs, the MAX_LISTED largest, in time order)."""
    idx = np.flatnonzero(missing)
    if idx.size == 0:
        return 0, []
    breaks = np.flatnonzero(np.diff(idx) != 1)
    run_start = idx[np.r_[0, breaks + 1]]
    run_end = idx[np.r_[breaks, idx.size - 1]]
    length = run_end - run_start + 1
    order = np.argsort(-length, kind="stable")[:MAX_LISTED]
    listed = []
    for k in np.sort(order).tolist():
        a, b = int(run_start[k]), int(run_end[k])
        listed.append(
            {
                "after": _iso(starts[a - 1]) if a > 0 else None,
                "before": _iso(starts[b + 1]) if b + 1 < len(starts) else None,
                "missing": int(length[k]),
            }
        )
    return int(run_start.size), listed


def _bar_keys(index: pd.DatetimeIndex, daily: bool) -> np.ndarray:
    """int64 UTC ns used to match bars to expected slots (daily: midnight of the wall date)."""
    if daily:
        return wall_dates(index).astype("datetime64[ns]").astype(np.int64)
    return to_utc_ns(index)


def _slot_days(lo_ns: int, hi_ns: int, daily: bool, cal: str) -> tuple[Any, Any]:
    """First and last session date whose bars may hold stamps lo_ns .. hi_ns."""
    lo, hi = pd.Timestamp(lo_ns, unit="ns", tz="UTC"), pd.Timestamp(hi_ns, unit="ns", tz="UTC")
    if not daily and cal != "24/7":
        lo, hi = lo.tz_convert("America/New_York"), hi.tz_convert("America/New_York")
    return lo.tz_localize(None).normalize(), hi.tz_localize(None).normalize()


def _as_ns(value: Any, what: str) -> int:
    if not is_date_like(value):
        raise DataError(f"data health: {what} {shown(value)} is not a date")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"data health: {what} {shown(value)} is not a date") from None
    if ts is pd.NaT:
        raise DataError(f"data health: {what} {shown(value)} is not a date")
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"data health: expected a pandas DataFrame, got {type(df).__name__}")
    frame = df.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in OHLCV_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"data health: missing column(s) {', '.join(missing)}; an OHLCV frame needs {', '.join(OHLCV_COLUMNS)}"
        )
    frame = frame[list(OHLCV_COLUMNS)]
    if not isinstance(frame.index, pd.DatetimeIndex):
        try:
            frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index))
        except (TypeError, ValueError):
            raise DataError(f"data health: the index must hold timestamps, got {frame.index.dtype}") from None
    for col in OHLCV_COLUMNS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def data_health(
    df: pd.DataFrame,
    timeframe: str = "1D",
    *,
    requested_start: Any = None,
    requested_end: Any = None,
    coverage_start: Any = None,
    calendar: str = "exchange",
) -> HealthReport:
    """Build the :class:`HealthReport` of ``df`` (raw or validated; naive stamps count as UTC).

    Parameters
    ----------
    df : DataFrame
        Bars with columns open, high, low, close, volume (any case) and a datetime index.
    timeframe : str
        One of ``1D, 4H, 1H, 15m, 5m, 1m``.
    requested_start, requested_end : date-like, optional
        The range that was asked for (dates, inclusive), to measure what is uncovered.
    coverage_start : date-like, optional
        Where the vendor's history limit starts, if it cut the request.
    calendar : {"exchange", "weekdays", "24/7"}
        The expected bar calendar (see :mod:`phi.data.calendar`).

    Examples
    --------
    >>> from phi.data.demo import generate_demo
    >>> data_health(generate_demo("DEMO", "2024-01-01", "2024-03-31")).status
    'ok'
    """
    tf = normalize_timeframe(timeframe)
    cal = normalize_calendar(calendar)
    daily = tf == "1D"
    frame = _prepare(df)
    req_lo = None if requested_start is None else to_date(requested_start, "requested_start")
    req_hi = None if requested_end is None else to_date(requested_end, "requested_end")
    cov_ns = None if coverage_start is None else _as_ns(coverage_start, "coverage_start")
    report = HealthReport(
        rows=len(frame),
        first=None,
        last=None,
        timeframe=tf,
        calendar=cal,
        requested_start=None if req_lo is None else str(req_lo),
        requested_end=None if req_hi is None else str(req_hi),
        coverage_start=None if cov_ns is None else _iso(cov_ns),
    )
    frame = frame[~pd.isna(frame.index)]
    if len(frame) == 0:
        report.uncovered_fraction = 1.0 if (req_lo is not None or req_hi is not None) else 0.0
        report.status = "bad"
        return report

    # --- per-row checks (raw frame) ---
    raw_ns = to_utc_ns(frame.index)
    report.unsorted_stamps = int((np.diff(raw_ns) < 0).sum())
    report.duplicate_stamps = int(pd.Index(raw_ns).duplicated().sum())
    o, h, lo, c, v = (frame[k].to_numpy() for k in OHLCV_COLUMNS)
    prices = np.column_stack([o, h, lo, c])
    finite = np.isfinite(prices).all(axis=1)
    report.nan_bars = int((~finite).sum())
    with np.errstate(invalid="ignore"):
        tol = 1e-9 * np.maximum(np.abs(h), 1.0)
        bad = (h < lo - tol) | (o > h + tol) | (o < lo - tol) | (c > h + tol) | (c < lo - tol)
        bad |= (prices <= 0).any(axis=1)
        report.ohlc_inconsistent = int((bad & finite).sum())
        report.flat_bars = int(((h == lo) & finite).sum())
    report.zero_volume_bars = int(((v == 0) | np.isnan(v)).sum())

    # --- time-series checks on sorted, de-duplicated bars (as the validator would keep) ---
    order = np.argsort(raw_ns, kind="stable")
    ns_sorted = raw_ns[order]
    keep_last = np.r_[ns_sorted[1:] != ns_sorted[:-1], True]
    ts = frame.index[order][keep_last]
    ns = ns_sorted[keep_last]
    close = c[order][keep_last]
    report.first, report.last = _iso(ns[0]), _iso(ns[-1])
    report.suspected_splits = _suspected_splits(ns, close)[:MAX_LISTED]

    keys = np.unique(_bar_keys(pd.DatetimeIndex(ts), daily))
    d0, d1 = _slot_days(int(keys[0]), int(keys[-1]), daily, cal)
    s, e = expected_bars(session_days(d0, d1, cal), tf, cal)
    inside = (e > keys[0]) & (s <= keys[-1])
    s, e = s[inside], e[inside]
    present = np.searchsorted(keys, s, side="left") < np.searchsorted(keys, e, side="left")
    report.expected_bars = int(s.size)
    report.missing_bars = int((~present).sum())
    report.gap_count, report.gaps = _gaps(s, ~present)
    slot = np.searchsorted(s, keys, side="right") - 1
    on_calendar = (slot >= 0) & (keys < e[np.maximum(slot, 0)]) if s.size else np.zeros(keys.size, bool)
    report.off_calendar_bars = int((~on_calendar).sum())

    # --- how much of the requested range is covered ---
    if req_lo is not None or req_hi is not None:
        q0 = req_lo if req_lo is not None else wall_dates(pd.DatetimeIndex(ts[:1]))[0]
        q1 = req_hi if req_hi is not None else wall_dates(pd.DatetimeIndex(ts[-1:]))[0]
        rs, re_ = expected_bars(session_days(q0, q1, cal), tf, cal)
        if rs.size:
            lo_ns = int(keys[0]) if cov_ns is None else max(int(keys[0]), cov_ns)
            covered = (re_ > lo_ns) & (rs <= int(keys[-1]))
            report.uncovered_fraction = round(float(1.0 - covered.mean()), 6)
    report.status = _status(report)
    return report


def _status(r: HealthReport) -> str:
    missing_share = r.missing_bars / r.expected_bars if r.expected_bars else 0.0
    if (
        r.rows == 0
        or r.ohlc_inconsistent
        or r.nan_bars
        or any(ev["kind"] == "split" for ev in r.suspected_splits)
        or missing_share > BAD_MISSING_SHARE
        or r.uncovered_fraction > BAD_UNCOVERED
    ):
        return "bad"
    if (
        r.missing_bars
        or r.duplicate_stamps
        or r.unsorted_stamps
        or r.zero_volume_bars
        or r.suspected_splits
        or r.flat_bars > WARN_FLAT_SHARE * r.rows
        or r.uncovered_fraction > WARN_UNCOVERED
    ):
        return "warn"
    return "ok"
