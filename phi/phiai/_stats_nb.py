"""Numba kernel of :mod:`phi.phiai.stats`: PBO's per-block sums from one row per trial.

``block_sums_nb`` gives what ``stats._block_sharpe`` computes with NumPy from the transposed
``(T, N)`` matrix (column means over the kept rows, then per block the column sums of the
deviations and of their squares), with the same float operations in the same order: NumPy sums a
C-contiguous matrix over axis 0 row after row, as these loops do. So the tuner hands over its
trials' return rows without building the transposed matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _row_sums_nb(r, n_splits, size, j, centre, sums, squares):  # noqa: ANN001, ANN202
    """Row ``j`` on its own (what :func:`block_sums_nb` does for four rows at once)."""
    total = n_splits * size
    s = r[0]
    for t in range(1, total):
        s += r[t]
    c = s / total
    centre[j] = c
    for k in range(n_splits):
        a = k * size
        d = r[a] - c
        s1 = d
        s2 = d * d
        for t in range(a + 1, a + size):
            d = r[t] - c
            s1 += d
            s2 += d * d
        sums[k, j] = s1
        squares[k, j] = s2


@njit(cache=True, nogil=True)
def block_sums_nb(rows, n_splits, size):  # noqa: ANN001, ANN201
    """``(centre, sums, squares)`` of the first ``n_splits * size`` values of every row.

    Four rows at a time, each with its own running sums in the same order as one row alone
    (a sum's additions depend on each other; four independent chains overlap in the CPU).
    """
    n = rows.shape[0]
    total = n_splits * size
    centre = np.empty(n)
    sums = np.empty((n_splits, n))
    squares = np.empty((n_splits, n))
    j = 0
    while j + 4 <= n:
        r0, r1, r2, r3 = rows[j], rows[j + 1], rows[j + 2], rows[j + 3]
        s0, s1, s2, s3 = r0[0], r1[0], r2[0], r3[0]
        for t in range(1, total):
            s0 += r0[t]
            s1 += r1[t]
            s2 += r2[t]
            s3 += r3[t]
        c0, c1, c2, c3 = s0 / total, s1 / total, s2 / total, s3 / total
        centre[j], centre[j + 1], centre[j + 2], centre[j + 3] = c0, c1, c2, c3
        for k in range(n_splits):
            a = k * size
            d0, d1, d2, d3 = r0[a] - c0, r1[a] - c1, r2[a] - c2, r3[a] - c3
            p0, p1, p2, p3 = d0, d1, d2, d3
            q0, q1, q2, q3 = d0 * d0, d1 * d1, d2 * d2, d3 * d3
            for t in range(a + 1, a + size):
                d0, d1, d2, d3 = r0[t] - c0, r1[t] - c1, r2[t] - c2, r3[t] - c3
                p0 += d0
                p1 += d1
                p2 += d2
                p3 += d3
                q0 += d0 * d0
                q1 += d1 * d1
                q2 += d2 * d2
                q3 += d3 * d3
            sums[k, j], sums[k, j + 1], sums[k, j + 2], sums[k, j + 3] = p0, p1, p2, p3
            squares[k, j], squares[k, j + 1], squares[k, j + 2], squares[k, j + 3] = q0, q1, q2, q3
        j += 4
    for i in range(j, n):
        _row_sums_nb(rows[i], n_splits, size, i, centre, sums, squares)
    return centre, sums, squares


@njit(cache=True, inline="always")
def _term_nb(a, i, centre, square):  # noqa: ANN001, ANN202
    v = a[i] - centre
    return v * v if square else v


@njit(cache=True)
def _pairwise_leaf_nb(a, lo, n, centre, square):  # noqa: ANN001, ANN201
    """NumPy's pairwise sum of a block of ``n <= 128`` values (see :func:`_pairwise_sum_nb`)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += _term_nb(a, i, centre, square)
        return res
    r0 = _term_nb(a, lo, centre, square)
    r1 = _term_nb(a, lo + 1, centre, square)
    r2 = _term_nb(a, lo + 2, centre, square)
    r3 = _term_nb(a, lo + 3, centre, square)
    r4 = _term_nb(a, lo + 4, centre, square)
    r5 = _term_nb(a, lo + 5, centre, square)
    r6 = _term_nb(a, lo + 6, centre, square)
    r7 = _term_nb(a, lo + 7, centre, square)
    stop = lo + n - (n % 8)
    for i in range(lo + 8, stop, 8):
        r0 += _term_nb(a, i, centre, square)
        r1 += _term_nb(a, i + 1, centre, square)
        r2 += _term_nb(a, i + 2, centre, square)
        r3 += _term_nb(a, i + 3, centre, square)
        r4 += _term_nb(a, i + 4, centre, square)
        r5 += _term_nb(a, i + 5, centre, square)
        r6 += _term_nb(a, i + 6, centre, square)
        r7 += _term_nb(a, i + 7, centre, square)
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(stop, lo + n):
        res += _term_nb(a, i, centre, square)
    return res


@njit(cache=True)
def _pairwise_sum_nb(a, n, centre, square):  # noqa: ANN001, ANN201
    """NumPy's pairwise sum of ``a[:n]`` (of ``(a - centre) ** 2`` with ``square``), with its
    blocks, its eight accumulators and its order of additions: what ``ndarray.sum`` gives for a
    contiguous row (``numpy/_core/src/umath/loops_utils.h.src``: a block of more than 128
    values is the sum of its halves, the first cut to a multiple of 8). The recursion is walked
    with a small stack (numba's cache does not keep recursive functions)."""
    if n <= 128:
        return _pairwise_leaf_nb(a, 0, n, centre, square)
    lo_s = np.empty(64, dtype=np.int64)
    n_s = np.empty(64, dtype=np.int64)
    left = np.empty(64)
    phase = np.zeros(64, dtype=np.int64)  # 0: left half next, 1: right half next
    lo_s[0], n_s[0], phase[0] = 0, n, 0
    top = 0
    value = 0.0
    while True:
        m = n_s[top]
        if m <= 128 or phase[top] == 2:
            if m <= 128:
                value = _pairwise_leaf_nb(a, lo_s[top], m, centre, square)
            if top == 0:
                return value
            top -= 1  # hand the value to the parent
            if phase[top] == 0:
                left[top] = value
                phase[top] = 1
            else:
                value = left[top] + value
                phase[top] = 2
            continue
        h = m // 2
        h -= h % 8
        if phase[top] == 0:  # the left half
            lo_s[top + 1], n_s[top + 1] = lo_s[top], h
        else:  # the right half
            lo_s[top + 1], n_s[top + 1] = lo_s[top] + h, m - h
        phase[top + 1] = 0
        top += 1


@njit(cache=True, inline="always")
def _row_drawdown_nb(r):  # noqa: ANN001, ANN202
    """One row of :func:`row_drawdowns_nb`."""
    e = 1.0
    peak = 1.0
    dd = 0.0
    for i in range(r.shape[0]):
        e *= 1.0 + r[i]
        if e > peak:
            peak = e
        d = e / peak - 1.0
        if d < dd:
            dd = d
        if not e > 0.0:
            break
    return dd


@njit(cache=True, inline="always")
def _row_sharpe_nb(r, out, j):  # noqa: ANN001, ANN202
    """One row (``T >= 2`` values) of :func:`row_sharpes_nb` into ``out[j]``; whether its mean
    is finite (else ``out[j]`` is left alone)."""
    t = r.shape[0]
    mu = (0.0 + _pairwise_sum_nb(r, t, 0.0, False)) / t
    if not np.isfinite(mu):
        return False
    sd = np.sqrt((0.0 + _pairwise_sum_nb(r, t, mu, True)) / (t - 1))
    out[j] = mu / sd if sd > 1e-12 * abs(mu) else np.nan  # stats.FLAT_SD
    return True


@njit(cache=True, nogil=True, parallel=True)
def row_sharpes_nb(rows, out):  # noqa: ANN001, ANN201
    """Per row of ``(m, T)`` returns (T >= 2): ``mean / std(ddof=1)`` with the float operations
    of ``stats.sharpes_per_period`` (NumPy's row sums, mean ``sum / T``, deviations squared and
    summed, ``sqrt(sum / (T - 1))``), nan where the deviation is not above ``1e-12 |mean|``
    (``stats.FLAT_SD``: a constant series' rounding). Returns whether each
    row's mean is finite (rows that are not are left to the caller). Rows in parallel."""
    finite = np.empty(rows.shape[0], dtype=np.bool_)
    for j in prange(rows.shape[0]):
        finite[j] = _row_sharpe_nb(rows[j], out, j)
    return finite


@njit(cache=True, error_model="numpy")
def _set_sharpes_nb(centre, sums, squares, rows, idx, c, s, q, out):  # noqa: ANN001, ANN202
    """``stats._cscv_sums``' Sharpe ratio of every trial on the block set ``idx[c]`` into
    ``out`` (``s``, ``q``: scratch; loops over the trials that the compiler vectorises)."""
    i = idx[c, 0]
    for j in range(centre.shape[0]):
        s[j] = sums[i, j]
        q[j] = squares[i, j]
    for k in range(1, idx.shape[1]):
        i = idx[c, k]
        for j in range(centre.shape[0]):
            s[j] = s[j] + sums[i, j]
            q[j] = q[j] + squares[i, j]
    for j in range(centre.shape[0]):
        dev = s[j] / rows
        x = q[j] - s[j] * dev
        var = (x if (x >= 0.0 or np.isnan(x)) else 0.0) / (rows - 1)  # np.maximum(x, 0.0)
        sd = np.sqrt(var)
        mean = centre[j] + dev
        flat = sd <= 1e-12 * (abs(mean) + np.sqrt(q[j] / rows))
        out[j] = 0.0 if flat else mean / sd


@njit(cache=True)
def cscv_ranks_nb(centre, sums, squares, size, ins, outs):  # noqa: ANN001, ANN201
    """Per CSCV combination ``c``: the in-sample winner (``np.argmax`` of the Sharpe ratios on
    the blocks ``ins[c]``: the first maximum, or the first nan) and its average rank among the
    out-of-sample ratios on ``outs[c]`` (1 = worst; nan if one of them is nan), with the float
    operations of ``stats._cscv_sums``."""
    n_comb = ins.shape[0]
    n = centre.shape[0]
    rows = size * ins.shape[1]
    rank = np.empty(n_comb)
    pin = np.empty(n)
    oos = np.empty(n)
    s = np.empty(n)
    q = np.empty(n)
    for c in range(n_comb):
        _set_sharpes_nb(centre, sums, squares, rows, ins, c, s, q, pin)
        best = 0
        top = pin[0]
        if not np.isnan(top):
            for j in range(1, n):
                v = pin[j]
                if np.isnan(v):
                    best = j
                    break
                if v > top:
                    top = v
                    best = j
        _set_sharpes_nb(centre, sums, squares, rows, outs, c, s, q, oos)
        if np.isnan(oos).any():
            rank[c] = np.nan
            continue
        v = oos[best]
        less = 0
        ties = 0
        for j in range(n):
            less += oos[j] < v
            ties += oos[j] == v
        rank[c] = less + (ties + 1) / 2.0
    return rank


@njit(cache=True, nogil=True, parallel=True)
def row_drawdowns_nb(rows, out):  # noqa: ANN001, ANN201
    """Per row of ``(m, T)`` per-bar returns: the largest fall of the compounded equity
    ``prod(1 + r)`` from its running peak (the start, 1, is the first peak), as a negative
    fraction (0 if none), as :func:`phi.backtest.metrics.max_drawdown` measures an equity
    curve. An equity at or below 0 (a ruined account) ends the row there; a NaN return leaves
    the rest of the row out. Rows in parallel."""
    for j in prange(rows.shape[0]):
        out[j] = _row_drawdown_nb(rows[j])


@njit(cache=True, nogil=True, parallel=True)
def dev_row_stats_nb(rows, n_splits, size, drawdown, sharpe, centre, sums, squares):  # noqa: ANN001, ANN201
    """:func:`row_drawdowns_nb`, :func:`row_sharpes_nb` and (``n_splits > 0``)
    :func:`block_sums_nb` of every row in one pass over the rows, in parallel: each row's
    numbers are those of the three kernels (the same operations in the same order; a block
    sum's row alone as in :func:`_row_sums_nb`). Returns whether each row's mean is finite
    (``sharpe`` of the others is left to the caller, as :func:`row_sharpes_nb` does)."""
    m, t = rows.shape
    finite = np.zeros(m, dtype=np.bool_)
    for j in prange(m):
        r = rows[j]
        drawdown[j] = _row_drawdown_nb(r)
        if n_splits > 0:
            _row_sums_nb(r, n_splits, size, j, centre, sums, squares)
        if t >= 2:
            finite[j] = _row_sharpe_nb(r, sharpe, j)
    return finite
