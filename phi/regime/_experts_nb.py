"""Numba kernel of the engine's local expert ``vol_profile_dev`` (see :mod:`phi.regime.experts`)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["vwma_dev_nb"]


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def vwma_dev_nb(close: np.ndarray, volume: np.ndarray, window: int) -> np.ndarray:
    """``(c - VWMA) / VWMA`` with the volume-weighted mean of the last ``window`` bars (0 where
    the window's volume is 0; NaN during the warm-up or where a volume in the window is NaN).

    Each window is summed afresh (SIMD; ``reassoc`` only reorders these sums), so a window of
    zero volumes sums to exactly 0 and bar t reads bars t - window + 1 .. t only.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    for t in range(window - 1, n):
        pv = 0.0
        vs = 0.0
        for j in range(t - window + 1, t + 1):
            pv += close[j] * volume[j]
            vs += volume[j]
        if vs > 0.0:
            vw = pv / vs
            out[t] = (close[t] - vw) / vw
        elif vs == vs:
            out[t] = 0.0
    return out
