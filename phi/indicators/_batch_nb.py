"""Numba kernel of :mod:`phi.indicators.batch`: many rms-scaled spreads in one call.

Row ``j`` of :func:`spread_signals_nb` goes through exactly the float operations of
:func:`phi.indicators.signals.rms_scale` on the spread ``(table[f] - table[s]) / den[d]``: NaN
before ``start``, NaN after it read as 0 and infinities as the largest finite floats
(``np.nan_to_num``), values within the noise floor set to 0, then the loop of
:func:`phi.indicators._nb.rms_scale_nb` (its running sum of squares, refreshed every
``refresh`` bars and whenever a leaving value dominates what remains). That loop is written
out here rather than called: numba's cache does not track a kernel called from another module,
so a cached caller could keep a stale copy of it. Tests hold every row equal, bit for bit, to
``rms_scale_nb`` of the prepared spread (and ``batch_signals`` to ``compute_signal``). The loop
is split in three: the spreads and their squares (vectorised), the running sums of ``LANES``
rows side by side (one row's sum is a chain of dependent additions, the one-row loop's whole
cost; four chains overlap), then the scaling (vectorised divisions and square roots); each
value goes through the same operations as in the one-row loop. Groups of rows run in parallel
(each row's arithmetic is the same on any thread).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_MAX = np.finfo(np.float64).max


#: Rows whose running sums of squares advance side by side in :func:`spread_signals_into_nb`.
LANES = 4


@njit(cache=True, error_model="numpy")
def _spread_row_nb(a, b, d, s, floor, x, sq):  # noqa: ANN001, ANN202
    """``x[s:] = (a - b) / d`` prepared as :func:`~phi.indicators.signals.rms_scale` does,
    ``x[:s] = 0``, and ``sq = x * x`` (a loop the compiler vectorises)."""
    for i in range(min(s, x.shape[0])):
        x[i] = 0.0
        sq[i] = 0.0
    for i in range(s, x.shape[0]):
        v = (a[i] - b[i]) / d[i]
        v = 0.0 if np.isnan(v) else v
        v = _MAX if v == np.inf else v
        v = -_MAX if v == -np.inf else v
        v = 0.0 if abs(v) <= floor else v
        x[i] = v
        sq[i] = v * v


@njit(cache=True)
def _window_sum_nb(sq, a, b):  # noqa: ANN001, ANN202
    """``sq[a:b]`` summed from 0 in order: ``rms_scale_nb``'s recomputed window."""
    acc = 0.0
    for j in range(a, b):
        acc += sq[j]
    return acc


@njit(cache=True, error_model="numpy")
def _rms_sums_nb(sq, q, lo, c0, c1, c2, c3, window, refresh, guard):  # noqa: ANN001, ANN202
    """``rms_scale_nb``'s running sum of squares of ``LANES`` rows side by side (four
    independent chains of additions overlap in the CPU; one row's chain is the one-row loop's
    whole cost): ``q[k, i]`` is the sum that divides bar ``i`` of row ``k``.

    Every row starts at bar ``lo`` (the earliest first scaled bar of the four); a row whose own
    first scaled bar ``b`` is later has zeros in ``sq`` before its spread starts, so its sum is
    exactly the one-row loop's at ``b`` (0 plus 0, then its first squares in order, minus 0),
    and its refresh counter ``c`` starts at ``lo - b`` so that it counts from ``b`` as the
    one-row loop's does. Refreshes (every ``refresh`` bars) and the guard (a leaving square
    ``guard`` times what remains) recompute a row's window as the one-row loop does."""
    n = sq.shape[1]
    sq0, sq1, sq2, sq3 = sq[0], sq[1], sq[2], sq[3]
    q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
    w1 = window - 1
    s0 = _window_sum_nb(sq0, lo - w1, lo)
    s1 = _window_sum_nb(sq1, lo - w1, lo)
    s2 = _window_sum_nb(sq2, lo - w1, lo)
    s3 = _window_sum_nb(sq3, lo - w1, lo)
    for i in range(lo, n):
        s0 += sq0[i]
        s1 += sq1[i]
        s2 += sq2[i]
        s3 += sq3[i]
        if c0 >= refresh or c1 >= refresh or c2 >= refresh or c3 >= refresh:
            if c0 >= refresh:
                s0, c0 = _window_sum_nb(sq0, i - w1, i + 1), 0
            if c1 >= refresh:
                s1, c1 = _window_sum_nb(sq1, i - w1, i + 1), 0
            if c2 >= refresh:
                s2, c2 = _window_sum_nb(sq2, i - w1, i + 1), 0
            if c3 >= refresh:
                s3, c3 = _window_sum_nb(sq3, i - w1, i + 1), 0
        c0 += 1
        c1 += 1
        c2 += 1
        c3 += 1
        q0[i] = s0
        q1[i] = s1
        q2[i] = s2
        q3[i] = s3
        o0 = sq0[i - w1]
        o1 = sq1[i - w1]
        o2 = sq2[i - w1]
        o3 = sq3[i - w1]
        s0 -= o0
        s1 -= o1
        s2 -= o2
        s3 -= o3
        if o0 > guard * s0 or o1 > guard * s1 or o2 > guard * s2 or o3 > guard * s3:
            if o0 > guard * s0:
                s0, c0 = _window_sum_nb(sq0, i - w1 + 1, i + 1), 0
            if o1 > guard * s1:
                s1, c1 = _window_sum_nb(sq1, i - w1 + 1, i + 1), 0
            if o2 > guard * s2:
                s2, c2 = _window_sum_nb(sq2, i - w1 + 1, i + 1), 0
            if o3 > guard * s3:
                s3, c3 = _window_sum_nb(sq3, i - w1 + 1, i + 1), 0


@njit(cache=True, error_model="numpy")
def _scale_row_nb(x, q, begin, window, gain, out):  # noqa: ANN001, ANN202
    """``rms_scale_nb``'s output from the spread and its sums: NaN before ``begin``, then
    ``clip(x / (gain * sqrt(q / window)), -1, 1)``, 0 where the sum is not > 0 (vectorised)."""
    for i in range(min(begin, x.shape[0])):
        out[i] = np.nan
    for i in range(begin, x.shape[0]):
        s2 = q[i]
        v = x[i] / (gain * np.sqrt(s2 / window))
        v = 1.0 if v > 1.0 else (-1.0 if v < -1.0 else v)
        out[i] = v if s2 > 0.0 else 0.0


@njit(cache=True)
def spread_signals_nb(  # noqa: ANN201
    table, den, fast, slow, div, start, floor, window, gain, refresh, guard  # noqa: ANN001
):  # fmt: skip
    """``(m, n)`` signals: row ``j`` is the rms-scaled spread
    ``(table[fast[j]] - table[slow[j]]) / den[div[j]]`` defined from ``start[j]`` on."""
    out = np.empty((fast.shape[0], table.shape[1]))
    spread_signals_into_nb(
        table, den, fast, slow, div, start, floor, window, gain, refresh, guard, out
    )
    return out


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def spread_signals_into_nb(  # noqa: ANN201
    table, den, fast, slow, div, start, floor, window, gain, refresh, guard, out  # noqa: ANN001
):  # fmt: skip
    """:func:`spread_signals_nb` into a caller's ``(m, n)`` array (one NumPy allocates: a big
    one on huge pages, so far fewer page faults than numba's own allocation). ``LANES`` rows at
    a time, the groups in parallel: each row's spread and squares, their running sums side by
    side (:func:`_rms_sums_nb`), then each row's scaling."""
    m = fast.shape[0]
    n = table.shape[1]
    for g in prange((m + LANES - 1) // LANES):
        j0 = g * LANES
        nl = min(LANES, m - j0)
        x = np.empty((LANES, n))
        sq = np.empty((LANES, n))
        q = np.empty((LANES, n))
        begin = np.full(LANES, n, dtype=np.int64)
        lo = n
        for k in range(nl):
            j = j0 + k
            s = min(start[j], n)
            begin[k] = min(s + window - 1, n)
            lo = min(lo, begin[k])
            _spread_row_nb(table[fast[j]], table[slow[j]], den[div[j]], s, floor, x[k], sq[k])
        for k in range(nl, LANES):  # missing rows: all zero, no effect on the others
            sq[k, :] = 0.0
        if lo < n:
            _rms_sums_nb(
                sq, q, lo, lo - begin[0], lo - begin[1], lo - begin[2], lo - begin[3], window,
                refresh, guard,
            )  # fmt: skip
        for k in range(nl):
            _scale_row_nb(x[k], q[k], begin[k], window, gain, out[j0 + k])


@njit(cache=True, nogil=True)
def first_bad_row_nb(rows, warms):  # noqa: ANN001, ANN201
    """The first row ``j`` with a value at or after bar ``warms[j]`` that is not in [-1, 1]
    (NaN included); -1 if none. Each row is counted without an early exit (a loop the compiler
    vectorises), then searched only if it has a bad value."""
    for j in range(rows.shape[0]):
        r = rows[j]
        bad = 0
        for i in range(max(warms[j], 0), r.shape[0]):
            bad += not abs(r[i]) <= 1.0
        if bad > 0:
            return j
    return -1
