"""OHLCV frames for the indicator tests: realistic and adversarial (all OHLC-consistent)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import make_ohlcv


def flat(n: int = 400, price: float = 100.1, volume: float = 5_000.0) -> pd.DataFrame:
    """Every price equal (a non-representable decimal, to tempt round-off)."""
    df = make_ohlcv(n, 0)
    df[["open", "high", "low", "close"]] = price
    df["volume"] = volume
    return df


def zero_volume(n: int = 400) -> pd.DataFrame:
    df = make_ohlcv(n, 1)
    df["volume"] = 0.0
    return df


def partly_flat(n: int = 400) -> pd.DataFrame:
    """A realistic frame with a flat, zero-volume stretch in the middle."""
    df = make_ohlcv(n, 2)
    df.iloc[150:260, :4] = 57.3
    df.iloc[150:260, 4] = 0.0
    return df


def gaps(n: int = 400) -> pd.DataFrame:
    """Missing sessions in the index and price gaps (x3, then /4) between bars."""
    df = make_ohlcv(n + 40, 3)
    df = df.drop(df.index[100:140])
    df.iloc[200:, :4] *= 3.0
    df.iloc[300:, :4] /= 4.0
    return df


def huge_bar(n: int = 400) -> pd.DataFrame:
    """One bar with a 50x high, a 1/50 low and a million-fold volume."""
    df = make_ohlcv(n, 4)
    df.iloc[150, 1] *= 50.0
    df.iloc[150, 2] /= 50.0
    df.iloc[150, 4] *= 1e6
    return df


def scaled(n: int = 400, factor: float = 1e4) -> pd.DataFrame:
    df = make_ohlcv(n, 5)
    df.iloc[:, :4] *= factor
    return df


def trending(n: int = 400, up: bool = True) -> pd.DataFrame:
    """Straight line up (or down), bars 1 wide, close at the bar's extreme."""
    t = np.arange(n, dtype=np.float64)
    close = 100.0 + t if up else 1000.0 - t
    high = close + (0.0 if up else 1.0)
    low = close - (1.0 if up else 0.0)
    open_ = (high + low) / 2.0
    idx = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1000.0}, index=idx
    )


ADVERSARIAL = {
    "flat": flat,
    "zero_volume": zero_volume,
    "partly_flat": partly_flat,
    "gaps": gaps,
    "huge_bar": huge_bar,
    "big_prices": scaled,
    "small_prices": lambda: scaled(factor=1e-4),
}


def random_ohlcv(
    n: int,
    seed: int,
    flat_from: int = -1,
    flat_len: int = 0,
    zero_vol: bool = False,
    jump: float = 1.0,
) -> pd.DataFrame:
    """A random frame for property tests, with optional flat stretch, zero volume and a jump."""
    df = make_ohlcv(n, seed)
    if flat_len and 0 <= flat_from < n:
        sl = slice(flat_from, min(n, flat_from + flat_len))
        df.iloc[sl, :4] = float(df["close"].iloc[flat_from])
    if zero_vol:
        df["volume"] = 0.0
    if jump != 1.0:
        df.iloc[n // 2 :, :4] *= jump
    return df
