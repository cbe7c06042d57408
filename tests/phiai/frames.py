"""Synthetic bars for the tuner's tests: a pure random walk, and one with a planted edge."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _frame(close: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(close)
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.002, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.002, n)))
    idx = pd.date_range("2015-01-01", periods=n, freq="B", tz="UTC", name="timestamp")
    volume = rng.integers(1_000, 9_000, n).astype(np.float64)
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx
    )


def random_walk(n: int = 1500, seed: int = 0, sigma: float = 0.01) -> pd.DataFrame:
    """Driftless Gaussian random walk: no indicator has any edge."""
    rng = np.random.default_rng(seed)
    return _frame(100.0 * np.exp(np.cumsum(rng.normal(0.0, sigma, n))), rng)


def planted_rsi(
    n: int = 1500, seed: int = 0, period: int = 5, edge: float = 0.35, sigma: float = 0.01
) -> pd.DataFrame:
    """Bars whose next return drifts up by ``edge``·σ while Wilder's RSI(``period``) of the
    closes so far is below 50 and down by as much above it: a persistent mean-reversion pattern
    that RSI at a short period captures. (A test-data generator: RSI is updated bar by bar
    because each return depends on the RSI before it.)"""
    rng = np.random.default_rng(seed)
    eps = rng.normal(0.0, 1.0, n)
    logc = np.zeros(n)
    avg_gain = avg_loss = 0.0
    for t in range(1, n):
        if t > period:
            rs_up = avg_gain / (avg_gain + avg_loss) if avg_gain + avg_loss > 0 else 0.5
            drift = edge if rs_up < 0.5 else -edge
        else:
            drift = 0.0
        logc[t] = logc[t - 1] + sigma * (eps[t] + drift)
        move = np.exp(logc[t]) - np.exp(logc[t - 1])
        gain, loss = max(move, 0.0), max(-move, 0.0)
        if t <= period:
            avg_gain += gain / period
            avg_loss += loss / period
        else:
            avg_gain = (avg_gain * (period - 1) + gain) / period
            avg_loss = (avg_loss * (period - 1) + loss) / period
    return _frame(100.0 * np.exp(logc), rng)
