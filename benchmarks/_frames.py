"""Shared benchmark data: a random-walk one-minute OHLCV frame (the tests' ``make_ohlcv`` recipe)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` random-walk minute bars from 2015-01-01 (UTC index, float64 columns)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.0003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.0006, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.0006, n)))
    volume = rng.integers(1_000, 100_000, n).astype("float64")
    idx = pd.date_range("2015-01-01", periods=n, freq="min", tz="UTC", name="timestamp")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx)
