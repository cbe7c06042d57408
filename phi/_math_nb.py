"""Compiled kernels of :mod:`phi._math` (imported on first use: numba is heavy to load)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["rolling_std_nb"]


@njit(cache=True)
def rolling_std_nb(x: np.ndarray, window: int, out: np.ndarray) -> None:
    """:func:`phi._math.rolling_std` of one contiguous column into ``out``."""
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
