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


@njit(cache=True)
def block_sums_nb(rows, n_splits, size):  # noqa: ANN001, ANN201
    """``(centre, sums, squares)`` of the first ``n_splits * size`` values of every row."""
    n = rows.shape[0]
    total = n_splits * size
    centre = np.empty(n)
    sums = np.empty((n_splits, n))
    squares = np.empty((n_splits, n))
    for j in range(n):
        r = rows[j]
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
    return centre, sums, squares
