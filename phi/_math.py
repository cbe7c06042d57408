"""Small numerically safe helpers shared by several modules."""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^-x) that never overflows, for any finite or infinite x."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
