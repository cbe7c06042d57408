"""Numba kernel of :mod:`phi.indicators.batch`: many rms-scaled spreads in one call.

Row ``j`` of :func:`spread_signals_nb` goes through exactly the float operations of
:func:`phi.indicators.signals.rms_scale` on the spread ``(table[f] - table[s]) / den[d]``: NaN
before ``start``, NaN after it read as 0 and infinities as the largest finite floats
(``np.nan_to_num``), values within the noise floor set to 0, then the loop of
:func:`phi.indicators._nb.rms_scale_nb` (its running sum of squares, refreshed every
``refresh`` bars and whenever a leaving value dominates what remains). That loop is written
out here rather than called: numba's cache does not track a kernel called from another module,
so a cached caller could keep a stale copy of it. Tests hold every row equal, bit for bit, to
``rms_scale_nb`` of the prepared spread (and ``batch_signals`` to ``compute_signal``). Rows
run in parallel (each row's arithmetic is the same on any thread).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_MAX = np.finfo(np.float64).max


@njit(cache=True, inline="always")
def _spread_row_nb(a, b, d, s, floor, x):  # noqa: ANN001, ANN202
    """``x[s:] = (a - b) / d`` prepared as :func:`~phi.indicators.signals.rms_scale` does."""
    for i in range(s, x.shape[0]):
        v = (a[i] - b[i]) / d[i]
        if np.isnan(v):
            v = 0.0
        elif v == np.inf:
            v = _MAX
        elif v == -np.inf:
            v = -_MAX
        x[i] = 0.0 if abs(v) <= floor else v


@njit(cache=True, inline="always")
def _rms_row_nb(x, first, window, gain, refresh, guard, out):  # noqa: ANN001, ANN202
    """``rms_scale_nb``'s loop on ``x[first:]`` (no NaN there) into ``out`` (all NaN before
    ``first + window - 1``)."""
    n = x.shape[0]
    for i in range(min(first + window - 1, n)):
        out[i] = np.nan
    if first + window - 1 >= n:
        return
    s2 = 0.0
    for j in range(first, first + window - 1):
        s2 += x[j] * x[j]
    since = 0
    for i in range(first + window - 1, n):
        s2 += x[i] * x[i]
        if since >= refresh:
            s2 = 0.0
            for j in range(i - window + 1, i + 1):
                s2 += x[j] * x[j]
            since = 0
        since += 1
        if s2 > 0.0:
            v = x[i] / (gain * np.sqrt(s2 / window))
            out[i] = 1.0 if v > 1.0 else (-1.0 if v < -1.0 else v)
        else:
            out[i] = 0.0
        old = x[i - window + 1] * x[i - window + 1]
        s2 -= old
        if old > guard * s2:
            s2 = 0.0
            for j in range(i - window + 2, i + 1):
                s2 += x[j] * x[j]
            since = 0


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


@njit(cache=True, parallel=True)
def spread_signals_into_nb(  # noqa: ANN201
    table, den, fast, slow, div, start, floor, window, gain, refresh, guard, out  # noqa: ANN001
):  # fmt: skip
    """:func:`spread_signals_nb` into a caller's ``(m, n)`` array (one NumPy allocates: a big
    one on huge pages, so far fewer page faults than numba's own allocation)."""
    m = fast.shape[0]
    n = table.shape[1]
    for j in prange(m):
        x = np.empty(n)
        s = min(start[j], n)
        _spread_row_nb(table[fast[j]], table[slow[j]], den[div[j]], s, floor, x)
        _rms_row_nb(x, s, window, gain, refresh, guard, out[j])


@njit(cache=True)
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
