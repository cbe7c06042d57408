"""One bar length per CSV file: a file of intraday bars that also holds daily bars, or intraday
bars of two lengths, is refused in one line naming both, their dates and where the length
changes; read as one length, the others would silently be that length's bars with gaps.

Everything is read from the sorted wall-clock stamps (the file's own clock), date by date.
Missing bars, half-days, holiday weeks, DST changes, FX Sunday evenings, thinly traded days,
weekly gaps and a file of one day's bars are never called a mix.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from phi.data.calendar import bar_frequency
from phi.data.timeframes import TIMEFRAME_MINUTES
from phi.errors import DataError

_NS_PER_DAY: Final = 86_400 * 10**9
_NS_PER_MIN: Final = 60 * 10**9
#: a date of intraday bars this busy (and half the median busy date) is a full trading day
FULL_DAY_BARS: Final = 4
#: consecutive one-stamp dates, beside full days, that are a stretch of daily bars
DAILY_STRETCH_DATES: Final = 3
#: consecutive dates with every stamp on one coarser grid (4H bars 09:30, 13:30 in an hourly
#: file) that are a second bar length
COARSE_RUN_DATES: Final = 4
_TOLD: Final = "a file holds one timeframe: split it there, or resample it to one"


def refuse_mixed_frequencies(
    stamps: pd.DatetimeIndex, how: str, source: str, prices: pd.DataFrame | None = None
) -> None:
    """Refuse a file of intraday bars that also holds daily bars, or intraday bars of two lengths.

    ``stamps`` are the sorted wall-clock stamps, ``prices`` the file's rows in that order.
    Daily bars are dates holding one stamp only, at one time of day
    (:func:`~phi.data.calendar.bar_frequency` reads them as daily bars), two or more of them:
    either at a time of day no date of two or more stamps has (a daily history with recent
    hourly bars appended; at least half the one-stamp dates, so the odd minutes of a thinly
    traded 1-minute file are not daily bars), or a run of them opening or closing the file at
    a time the intraday bars also use (5-minute bars stamped at their end, then daily bars
    stamped 16:00; 24/7 hourly bars and date-only daily bars, both at 00:00) when they look
    like daily bars: the
    intraday dates hold 4 or more bars (median) and the lone bars trade 3 times the median
    intraday bar's volume (without volumes: 2 times its high-low range). A thin intraday day's
    lone bar at a time other days also have (09:30, the open) is intraday. Daily bars are also
    told by where they sit (:func:`_daily_stretches`), two intraday bar lengths by
    :func:`_refuse_two_lengths`.
    """
    ns = np.asarray(stamps.as_unit("ns").asi8, dtype=np.int64)
    day, clock = ns // _NS_PER_DAY, ns % _NS_PER_DAY
    dates, first, inverse, counts = np.unique(
        day, return_index=True, return_inverse=True, return_counts=True
    )
    lone = counts[inverse] == 1
    foreign = lone & ~np.isin(clock, clock[~lone])
    if 2 * int(foreign.sum()) < int(lone.sum()):  # a thin day's odd minute, not a daily history
        foreign[:] = False
    for daily in (foreign, _daily_run(stamps, lone, counts, prices)):
        if int(daily.sum()) >= 2 and bar_frequency(stamps[daily])[0] == 1440.0:
            inner = bar_frequency(stamps[daily])[1].removeprefix("daily (").removesuffix(")")
            first_at, last_at = stamps[daily][0], stamps[daily][-1]
            raise DataError(
                f"{source} mixes {int(daily.sum()):,} daily bars ({inner}, {first_at:%Y-%m-%d} .. {last_at:%Y-%m-%d}) "
                f"with {int((~daily).sum()):,} {how.replace('intraday (', 'intraday bars (', 1)}; "
                "a file holds one timeframe: split it, or resample it to one"
            )
    picked = _daily_stretches(stamps, inverse, counts, first, prices)
    if picked.any():
        _refuse_daily_beside_intraday(stamps, dates, picked, picked[inverse], source)
    _refuse_two_lengths(ns, source)


def _median(values: np.ndarray) -> float:
    """The median of the finite values (NaN if none): no warning on an empty selection."""
    ok = values[np.isfinite(values)]
    return float(np.median(ok)) if ok.size else float("nan")


def _daily_run(
    stamps: pd.DatetimeIndex, lone: np.ndarray, counts: np.ndarray, prices: pd.DataFrame | None
) -> np.ndarray:
    """The lone stamps opening or closing the file that look like daily bars (see
    :func:`refuse_mixed_frequencies`), as a mask; all False if none."""
    out = np.zeros(len(stamps), dtype=bool)
    busy = counts[counts > 1]
    if prices is None or not busy.size or float(np.median(busy)) < 4:
        return out
    n = len(stamps)
    head = n if bool(lone.all()) else int(np.argmin(lone))
    tail = n if bool(lone.all()) else int(np.argmin(lone[::-1]))
    volume = prices["volume"].to_numpy(dtype="float64")
    span = ((prices["high"] - prices["low"]) / prices["close"].abs()).to_numpy(dtype="float64")
    for run in (slice(0, head), slice(n - tail, n)):
        if run.stop - run.start < 2:
            continue
        mask = np.zeros(n, dtype=bool)
        mask[run] = True
        if bar_frequency(stamps[mask])[0] != 1440.0:
            continue
        bar_volume = _median(volume[~lone])
        if bar_volume > 0 and _median(volume[mask]) > 0:
            larger = _median(volume[mask]) >= 3 * bar_volume
        else:
            larger = _median(span[mask]) >= 2 * _median(span[~lone])
        if larger:
            out |= mask
    return out


def _runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) positions of the runs of equal consecutive ``labels``."""
    if not len(labels):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    edge = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    return np.concatenate(([0], edge)), np.concatenate((edge, [len(labels)]))


def _daily_stretches(
    stamps: pd.DatetimeIndex,
    inverse: np.ndarray,
    counts: np.ndarray,
    first: np.ndarray,
    prices: pd.DataFrame | None,
) -> np.ndarray:
    """The dates (positions in the file's dates) whose one stamp is a daily bar by where it
    sits, at a time of day the intraday bars may also use; all False if none.

    ``inverse`` is each stamp's date, ``counts`` and ``first`` each date's number of stamps
    and its first stamp. Full days are dates of :data:`FULL_DAY_BARS` or more stamps and at
    least half the median busy date's. Daily bars are the one-stamp dates, all at one time of day (up to a one-hour DST shift)
    and together two or more, when

    - every date of two or more stamps is a full day alone between one-stamp dates (a daily
      file with one day's, or a few single days', intraday bars), the one-stamp dates at least
      3 and as many as those days; or
    - 9 in 10 busy dates are full days (a liquid file, not a thin one) and
      :data:`DAILY_STRETCH_DATES` or more one-stamp dates in a row sit between full days (a
      stretch of daily bars inside an intraday file), or full days sit between two such
      stretches (a block of intraday days inside a daily file); then also the other
      one-stamp stretches of two or more dates at that time of day;

    unless their volume is under half the median intraday bar's: a daily bar holds a whole
    day's volume, so such bars are a thin stretch of intraday bars. One-stamp dates at an end
    of the file beside several intraday days (only the close traded for weeks) are left to
    their volume (:func:`_daily_run`).
    """
    n_dates = len(counts)
    none = np.zeros(n_dates, dtype=bool)
    single = counts == 1
    if single.all() or not single.any():
        return none
    full = counts >= max(FULL_DAY_BARS, 0.5 * float(np.median(counts[~single])))
    starts, stops = _runs(single)
    kind, size = single[starts], stops - starts
    picked = none.copy()
    busy_segments = np.flatnonzero(~kind)
    if (
        bool((size[busy_segments] == 1).all())
        and bool(full[~single].all())
        and int(single.sum()) >= max(3, int((~single).sum()))
    ):
        picked = single.copy()
    elif float(np.mean(full[~single])) >= 0.9:
        long = kind & (size >= DAILY_STRETCH_DATES)
        for i in range(1, len(starts) - 1):
            if long[i] and full[starts[i] - 1] and full[stops[i]]:  # daily between intraday
                picked[starts[i] : stops[i]] = True
            if (
                not kind[i]
                and long[i - 1]
                and long[i + 1]
                and full[starts[i]]
                and full[stops[i] - 1]
            ):
                picked[starts[i - 1] : stops[i - 1]] = True  # intraday between daily
                picked[starts[i + 1] : stops[i + 1]] = True
        if not picked.any():
            return none
        clock = np.asarray(stamps.as_unit("ns").asi8, dtype=np.int64)[first] % _NS_PER_DAY
        lo, hi = clock[picked].min(), clock[picked].max()
        for j in np.flatnonzero(kind & (size >= 2)):
            at = clock[starts[j] : stops[j]]
            if at.min() >= lo and at.max() <= hi:
                picked[starts[j] : stops[j]] = True
    at = picked[inverse]
    if int(at.sum()) < 2 or bar_frequency(stamps[at])[0] != 1440.0:
        return none
    if prices is not None:
        volume = prices["volume"].to_numpy(dtype="float64")
        daily_volume, bar_volume = _median(volume[at]), _median(volume[(counts > 1)[inverse]])
        if daily_volume > 0 and bar_volume > 0 and daily_volume < 0.5 * bar_volume:
            return none
    return picked


def _date(day: int) -> str:
    return f"{pd.Timestamp(int(day) * _NS_PER_DAY):%Y-%m-%d}"


def _stretches(days: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> str:
    """``2023-01-03 .. 2023-01-31 and 2023-03-01`` for the date runs ``[starts, stops)``."""
    parts = [
        _date(days[a]) if b - a == 1 else f"{_date(days[a])} .. {_date(days[b - 1])}"
        for a, b in zip(starts, stops, strict=True)
    ]
    if len(parts) > 3:
        kind = "dates" if bool((stops - starts == 1).all()) else "stretches"
        parts = [*parts[:2], f"{len(parts) - 2} more {kind}"]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _changes(days: np.ndarray, starts: np.ndarray) -> str:
    """``2023-03-15 and back on 2023-04-15`` for the first dates of the later runs."""
    at = [_date(days[i]) for i in starts[1:]]
    if len(at) == 1:
        return at[0]
    if len(at) == 2:
        return f"{at[0]} and back on {at[1]}"
    return f"{at[0]}, {at[1]} and {len(at) - 2} more dates"


def _refuse_daily_beside_intraday(
    stamps: pd.DatetimeIndex,
    days: np.ndarray,
    daily_dates: np.ndarray,
    daily: np.ndarray,
    source: str,
) -> None:
    """Raise for the daily bars ``daily`` (a stamp mask; ``daily_dates`` the same by date,
    ``days`` the dates as day numbers) among intraday bars, naming both and the changes."""
    minutes = bar_frequency(stamps[~daily])[0] or 0.0
    inner = bar_frequency(stamps[daily])[1].removeprefix("daily (").removesuffix(")")
    starts, stops = _runs(daily_dates)
    is_daily = daily_dates[starts]
    text = {
        True: f"{int(daily.sum()):,} daily bars ({inner}: {_stretches(days, starts[is_daily], stops[is_daily])})",
        False: (
            f"{int((~daily).sum()):,} bars {_per_bar(round(minutes))} apart "
            f"({_stretches(days, starts[~is_daily], stops[~is_daily])})"
        ),
    }
    a = bool(is_daily[0])
    raise DataError(
        f"{source} mixes {text[a]} with {text[not a]}: the bar length changes on "
        f"{_changes(days, starts)}; {_TOLD}"
    )


def _per_bar(minutes: int) -> str:
    return (
        f"{minutes // 60:g} hour{'s' if minutes > 60 else ''}"
        if minutes % 60 == 0
        else f"{minutes:g} minute{'s' if minutes > 1 else ''}"
    )


def _refuse_two_lengths(ns: np.ndarray, source: str) -> None:
    """Refuse intraday bars of two lengths in one file (hourly bars, then 5-minute bars): read
    as the commoner length, the others would be that length's bars with gaps.

    A date's bar length is the commonest gap between its stamps (ties: the shorter) if it has
    4 or more gaps and 3 of 4 of them are that length; a length counts when two consecutive
    dates (of those holding two or more stamps) have it. So a few missing bars, a half-day
    session, a Sunday evening's first FX bars, a stray bar or a thinly traded day are never
    called a second length. Coarser bars on a counted length's grid (4H bars at 09:30 and
    13:30 beside hourly bars: one gap a day) are a length too when :data:`COARSE_RUN_DATES`
    consecutive such dates have every stamp on one grid of a longer timeframe, at one phase
    (:func:`_coarse_runs`).
    """
    day = ns // _NS_PER_DAY
    gaps = np.diff(ns)
    inside = (day[1:] == day[:-1]) & (gaps > 0)
    if not bool(inside.any()):
        return
    g, d = gaps[inside] // _NS_PER_MIN, day[1:][inside]
    values, g_rank = np.unique(g, return_inverse=True)
    keys, key_counts = np.unique((d - d.min()) * len(values) + g_rank, return_counts=True)
    key_day, key_gap = keys // len(values), values[keys % len(values)]
    # by day, commonest gap first, shorter first
    order = np.lexsort((key_gap, -key_counts, key_day))
    key_day, key_gap, key_counts = key_day[order], key_gap[order], key_counts[order]
    days, first = np.unique(key_day, return_index=True)
    totals = np.bincount(np.searchsorted(days, key_day), weights=key_counts)
    mode = key_gap[first]
    length = np.where((totals >= 4) & (key_counts[first] >= 0.75 * totals), mode, 0)
    # each date's step (the gcd of its gaps) and its first stamp's minute of the day
    at = np.flatnonzero(np.concatenate(([True], d[1:] != d[:-1])))
    step = np.gcd.reduceat(g, at)
    clock = (ns[:-1][inside][at] % _NS_PER_DAY) // _NS_PER_MIN
    # which stamps each date holds: its first and last minute, its gaps' count and total (equal
    # for dates with the same stamps)
    pattern = np.stack(
        (clock, np.add.reduceat(g, at), np.add.reduceat(g * g, at), np.diff(np.append(at, len(g)))),
        axis=1,
    )
    for minutes, run in _coarse_runs(length, mode, totals, step, clock, pattern):
        length[run], mode[run] = minutes, minutes
    # runs of two or more consecutive dates with one length
    runs = np.flatnonzero((length[1:] == length[:-1]) & (length[1:] > 0))
    seen: dict[int, int] = {}  # length -> the index of the first date of its first run
    for i in runs:
        seen.setdefault(int(length[i]), int(i))
    if len(seen) < 2:
        return
    (a, _), (b, b_run) = sorted(seen.items(), key=lambda kv: kv[1])[:2]
    # the change: the first date of length b after the last date of length a before b's run
    before = np.flatnonzero(mode[:b_run] == a)
    change = int(np.flatnonzero((mode == b) & (np.arange(len(days)) > before[-1]))[0])
    base = int(d.min())

    def date(i: int) -> str:
        return _date(int(days[i] + base))

    def span(minutes: int) -> str:
        at = np.flatnonzero(mode == minutes)
        return f"{date(int(at[0]))} .. {date(int(at[-1]))}"

    raise DataError(
        f"{source} mixes bars {_per_bar(a)} apart ({span(a)}) with bars {_per_bar(b)} apart "
        f"({span(b)}): the bar length changes on {date(change)}; {_TOLD}"
    )


def _coarse_runs(
    length: np.ndarray,
    mode: np.ndarray,
    totals: np.ndarray,
    step: np.ndarray,
    clock: np.ndarray,
    pattern: np.ndarray,
) -> list[tuple[int, slice]]:
    """Runs of dates holding a longer timeframe's bars on the grid of a counted length.

    For each length counted (two consecutive dates have it) and each longer timeframe that is
    a multiple of it (1H -> 4H, 5m -> 15m, 1H, 4H; the longest first): runs of
    :data:`COARSE_RUN_DATES` or more consecutive dates, not yet given another length, whose
    ``step`` (the gcd of their gaps, minutes) is a multiple of the timeframe and whose first
    stamps (``clock``, minute of the day) sit at one phase of it, 3 of 4 of them with the same
    stamps (``pattern``, a row per date), and where the run meets the file's other dates it
    meets the counted length (the date before and after it, if any, has that commonest gap,
    ``mode``, and 3 or more gaps, ``totals``): ``(minutes, dates)``. A thin day's two bars fall
    on such a grid by chance (hourly bars at 09:30 and 13:30), four days running now and
    then, but between thin days, not where full days of the shorter bars end.
    """
    counted = sorted({int(x) for x in length[1:][(length[1:] == length[:-1]) & (length[1:] > 0)]})
    out: list[tuple[int, slice]] = []
    free = length == 0
    n = len(length)
    for fine in counted:
        edge = (mode == fine) & (totals >= 3)
        longer = sorted(
            (m for m in TIMEFRAME_MINUTES.values() if fine < m < 1440 and m % fine == 0),
            reverse=True,
        )
        for minutes in longer:
            labels = np.where(free & (step % minutes == 0), clock % minutes, -1)
            runs = []
            for a, b in zip(*_runs(labels), strict=True):
                if labels[a] >= 0 and b - a >= COARSE_RUN_DATES:
                    _, same = np.unique(pattern[a:b], axis=0, return_counts=True)
                    if 4 * int(same.max()) >= 3 * (b - a):
                        runs.append((int(a), int(b)))
            # runs back to back (one grid, its phase moved by a DST change) are one stretch
            while runs:
                group = [runs.pop(0)]
                while runs and runs[0][0] == group[-1][1]:
                    group.append(runs.pop(0))
                a, b = group[0][0], group[-1][1]
                if (a == 0 and b == n) or (a > 0 and not edge[a - 1]) or (b < n and not edge[b]):
                    continue
                out.append((minutes, slice(a, b)))
                free[a:b] = False
    return out
