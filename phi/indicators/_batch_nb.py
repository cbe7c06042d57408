"""Numba kernel of :mod:`phi.indicators.batch`: many rms-scaled spreads in one call.

It performs, column by column, exactly the float operations of
:func:`phi.indicators.signals.rms_scale` applied to ``(table[f] - table[s]) / den[d]`` (the
same division, the same NaN/inf replacement, the same noise floor, and the very kernel
:func:`phi.indicators._nb.rms_scale_nb`), so each column is bit-identical to the per-set path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from phi.indicators._nb import rms_scale_nb

_MAX = np.finfo(np.float64).max


@njit(cache=True)
def spread_rms_nb(table, den, fast, slow, div, start, floor, window, gain):  # noqa: ANN001, ANN201
    """``out[j] = rms_scale((table[fast[j]] - table[slow[j]]) / den[div[j]], start[j])``.

    ``table`` and ``den`` are ``(k, n)`` rows of raw series; ``floor`` is the noise floor
    ``NOISE_TOL * scale`` (a scalar scale); returns ``(m, n)``.
    """
    m = fast.shape[0]
    n = table.shape[1]
    out = np.empty((m, n))
    for j in range(m):
        x = (table[fast[j]] - table[slow[j]]) / den[div[j]]
        s = start[j]
        for i in range(min(s, n)):
            x[i] = np.nan
        for i in range(s, n):
            v = x[i]
            if np.isnan(v):
                v = 0.0
            elif v == np.inf:
                v = _MAX
            elif v == -np.inf:
                v = -_MAX
            x[i] = 0.0 if abs(v) <= floor else v
        out[j] = rms_scale_nb(x, window, gain)
    return out
