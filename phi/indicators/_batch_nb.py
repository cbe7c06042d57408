"""Numba kernel of :mod:`phi.indicators.batch`: many spreads prepared for rms scaling in one call.

Row ``j`` goes through exactly the float operations :func:`phi.indicators.signals.rms_scale`
applies before its kernel: ``(table[f] - table[s]) / den[d]``, NaN before ``start``, NaN after it
read as 0 and infinities as the largest finite floats (``np.nan_to_num``), values within the noise
floor set to 0. The caller then runs :func:`phi.indicators._nb.rms_scale_nb` on each row (from
Python: numba's cache does not track kernels called from another module, so that kernel is not
inlined here).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MAX = np.finfo(np.float64).max


@njit(cache=True)
def spreads_nb(table, den, fast, slow, div, start, floor):  # noqa: ANN001, ANN201
    """``(m, n)`` rows ``(table[fast[j]] - table[slow[j]]) / den[div[j]]``, prepared as above."""
    m = fast.shape[0]
    n = table.shape[1]
    out = np.empty((m, n))
    for j in range(m):
        a = table[fast[j]]
        b = table[slow[j]]
        d = den[div[j]]
        s = min(start[j], n)
        for i in range(s):
            out[j, i] = np.nan
        for i in range(s, n):
            v = (a[i] - b[i]) / d[i]
            if np.isnan(v):
                v = 0.0
            elif v == np.inf:
                v = _MAX
            elif v == -np.inf:
                v = -_MAX
            out[j, i] = 0.0 if abs(v) <= floor else v
    return out
