"""Small numerically safe helpers shared by several modules."""

from __future__ import annotations

import numpy as np

__all__ = ["is_seconds", "sigmoid"]


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
