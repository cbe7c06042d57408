"""Synthetic bars for the ML and RL tests: a pure random walk and a planted, learnable pattern."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _bars(rets: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(rets)
    close = 100.0 * np.exp(np.cumsum(rets))
    prev = np.concatenate([[100.0], close[:-1]])
    open_ = prev * np.exp(rng.normal(0, 0.001, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, n)))
    volume = rng.integers(10_000, 100_000, n).astype("float64")
    idx = pd.date_range("2000-01-03", periods=n, freq="B", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx
    )


def random_walk(n: int, seed: int = 0) -> pd.DataFrame:
    """Independent zero-mean returns: the next bar's direction cannot be predicted."""
    rng = np.random.default_rng(seed)
    return _bars(rng.normal(0.0, 0.012, n), rng)


def planted(n: int, seed: int = 0, phi: float = 0.4) -> pd.DataFrame:
    """AR(1) returns (coefficient ``phi``): the sign of today's return predicts tomorrow's
    with probability 0.5 + arcsin(phi) / pi (0.63 at 0.4)."""
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, 0.012, n)
    r = np.empty(n)
    r[0] = e[0]
    for i in range(1, n):  # test data only
        r[i] = phi * r[i - 1] + e[i]
    return _bars(r, rng)
