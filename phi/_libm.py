"""Elementwise ``exp``, ``log``, ``sin``, ``cos`` and ``pow`` that give the same bits on every
x86-64 CPU: each value is the C library's scalar function (as Python's :mod:`math` computes it).

NumPy's own loops take AVX-512 paths on CPUs that have them, which round some values another
way than on CPUs without them. Data that must be reproducible bit for bit across machines (the
demo bars, whose content hash a saved run records) is computed with these instead. The
compiled loops are built on first use (numba, cached on disk).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

__all__ = ["cos", "exp", "log", "pow_", "sin"]


@functools.cache
def _ufuncs() -> dict[str, Any]:
    from numba import vectorize

    one = ["float64(float64)"]

    @vectorize(one, cache=True)
    def _exp(x: float) -> float:
        return math.exp(x)

    @vectorize(one, cache=True)
    def _log(x: float) -> float:
        return math.log(x)

    @vectorize(one, cache=True)
    def _sin(x: float) -> float:
        return math.sin(x)

    @vectorize(one, cache=True)
    def _cos(x: float) -> float:
        return math.cos(x)

    @vectorize(["float64(float64, float64)"], cache=True)
    def _pow(x: float, y: float) -> float:
        return math.pow(x, y)

    return {"exp": _exp, "log": _log, "sin": _sin, "cos": _cos, "pow": _pow}


def _call(name: str, *args: Any) -> np.ndarray:
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    return np.asarray(_ufuncs()[name](*arrays))


def exp(x: Any) -> np.ndarray:
    """``e ** x`` elementwise (the C library's ``exp``)."""
    return _call("exp", x)


def log(x: Any) -> np.ndarray:
    """Natural logarithm elementwise (the C library's ``log``)."""
    return _call("log", x)


def sin(x: Any) -> np.ndarray:
    """Sine elementwise (the C library's ``sin``)."""
    return _call("sin", x)


def cos(x: Any) -> np.ndarray:
    """Cosine elementwise (the C library's ``cos``)."""
    return _call("cos", x)


def pow_(x: Any, y: Any) -> np.ndarray:
    """``x ** y`` elementwise, broadcast (the C library's ``pow``)."""
    return _call("pow", x, y)
