"""Small numerically safe helpers shared by several modules."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["is_seconds", "rolling_std", "sigmoid"]


def is_seconds(value: object) -> bool:
    """Whether ``value`` is a waiting time in seconds: a real number >= 0 (``inf`` included),
    not a bool, not an integer too large for a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return float(value) >= 0
    except OverflowError:
        return False


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^-x) that never overflows, for any finite or infinite x."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


@njit(cache=True)
def _rolling_std_nb(x: np.ndarray, window: int, out: np.ndarray) -> None:
    """:func:`rolling_std` of one contiguous column into ``out``."""
    out[:] = np.nan
    for t in range(window - 1, x.shape[0]):
        lo = t - window + 1
        s = 0.0
        for i in range(lo, t + 1):
            s += x[i]
        if s != s:  # a NaN in the window
            continue
        m = s / window
        ss = 0.0
        for i in range(lo, t + 1):
            d = x[i] - m
            ss += d * d
        out[t] = math.sqrt(ss / (window - 1))


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) of each full window ``x[t - window + 1 : t + 1]``
    along the first axis of a 1-D or 2-D array; NaN in the warm-up and for a window holding a
    NaN (pandas' ``rolling(window, min_periods=window).std()``). Each window is summed afresh
    in two passes, so it is exact to rounding whatever left the window before: pandas keeps
    running sums, which after a jump carry its rounding into every later quiet window (0.3 %
    off a 1e-6 volatility after a 300 % move)."""
    a = np.asarray(x, dtype=np.float64)
    w = int(window)
    if w < 2:
        raise ValueError(f"window must be >= 2, got {window}")
    cols = a.reshape(len(a), -1)
    out = np.empty(cols.shape)
    for j in range(cols.shape[1]):
        col = np.empty(len(a))
        _rolling_std_nb(np.ascontiguousarray(cols[:, j]), w, col)
        out[:, j] = col
    return out.reshape(a.shape)
