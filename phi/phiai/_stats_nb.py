"""Numba kernel of :mod:`phi.phiai.stats`: PBO's per-block sums from one row per trial.

``block_sums_nb`` gives what ``stats._block_sharpe`` computes with NumPy from the transposed
``(T, N)`` matrix (column means over the kept rows, then per block the column sums of the
deviations and of their squares), with the same float operations in the same order: NumPy sums a
C-contiguous matrix over axis 0 row after row, as these loops do. So the tuner hands over its
trials' return rows without building the transposed matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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


@njit(cache=True)
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
