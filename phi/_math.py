"""Small numerically safe helpers shared by several modules."""

from __future__ import annotations

import numpy as np

__all__ = ["VOLUME_RESCALE_ABOVE", "is_seconds", "rescale_volume", "rolling_std", "row_dot", "sigmoid"]


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


def row_dot(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` for bars in rows (``x``: (n, k); ``w``: (k,) or (k, r)) summed column by column
    in a fixed order, so each row's value depends on that row alone. BLAS's products block the
    rows, and may round the last rows of a matrix another way: a blend at bar t would then
    change in its last bit with the number of bars after it."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    out = np.zeros((x.shape[0], *w.shape[1:]))
    for i in range(x.shape[1]):
        out += x[:, i, None] * w[i] if w.ndim > 1 else x[:, i] * w[i]
    return out


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) of each full window ``x[t - window + 1 : t + 1]``
    along the first axis of a 1-D or 2-D array; NaN in the warm-up and for a window holding a
    NaN (pandas' ``rolling(window, min_periods=window).std()``). Each window is summed afresh
    in two passes, so it is exact to rounding whatever left the window before: pandas keeps
    running sums, which after a jump carry its rounding into every later quiet window (0.3 %
    off a 1e-6 volatility after a 300 % move)."""
    from phi._math_nb import rolling_std_nb  # numba only when used (phi runs list stays light)

    a = np.asarray(x, dtype=np.float64)
    w = int(window)
    if w < 2:
        raise ValueError(f"window must be >= 2, got {window}")
    cols = a.reshape(len(a), int(np.prod(a.shape[1:])))  # not -1: ambiguous with no rows
    out = np.empty(cols.shape)
    for j in range(cols.shape[1]):
        col = np.empty(len(a))
        rolling_std_nb(np.ascontiguousarray(cols[:, j]), w, col)
        out[:, j] = col
    return out.reshape(a.shape)


#: Volumes whose largest value is above this (2**64, beyond any share or contract count) are
#: rescaled by :func:`rescale_volume` before an indicator sums them.
VOLUME_RESCALE_ABOVE = 2.0**64


def rescale_volume(v: np.ndarray) -> np.ndarray:
    """``v`` times a power of two that brings its largest finite value into ``[2**39, 2**40)``,
    when that value is above :data:`VOLUME_RESCALE_ABOVE`; else ``v`` itself.

    Every volume-weighted indicator (VWAP, CMF, the Wyckoff volume balance, the regime
    engine's relative dollar volume and volume z-score) is a ratio of volume sums, so it does
    not depend on the volume's unit; but a window's sum of volumes near ``1e307`` overflows to
    ``inf`` and the ratio became NaN or a wrong sign silently. A power of two rescales exactly
    (no rounding), so the ratios are bit for bit those of the rescaled bars, and bars with
    ordinary volumes are untouched."""
    finite = v[np.isfinite(v)]
    top = float(finite.max()) if finite.size else 0.0
    if not top > VOLUME_RESCALE_ABOVE:
        return v
    _, exponent = np.frexp(top)
    return np.ldexp(v, 40 - int(exponent))
