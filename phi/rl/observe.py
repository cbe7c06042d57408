"""Observations of the trading agent: causal, normalised with trailing statistics only.

Row t reads bars <= t: the last ``lookback`` log returns, each divided by the standard
deviation of the ``norm_window`` returns ending at t, and three registry signals in
[-1, +1] (RSI, MACD, Bollinger). Clipped to [-10, 10], float32. No statistic of the whole
dataset is used anywhere (the reference divided the price by the whole dataset's mean close).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from phi._math import rolling_std
from phi.data.schema import OHLCV_COLUMNS, PRICE_COLUMNS, conform_bars
from phi.errors import ConfigError, shown

__all__ = ["OBS_CLIP", "SIGNALS", "agent_bars", "check_int", "check_number", "observation_matrix", "observation_warmup"]

OBS_CLIP = 10.0
SIGNALS: tuple[str, ...] = ("rsi", "macd", "bollinger")


def agent_bars(ohlcv: Any, *, dated: bool = False) -> pd.DataFrame:
    """``ohlcv`` as the agent takes bars: :func:`phi.data.schema.conform_bars` with the five
    columns, the prices' values checked (the environment fills at opens and closes, the engine
    judges on all four; volume only goes into the data fingerprint, so its values are not
    judged)."""
    return conform_bars(ohlcv, OHLCV_COLUMNS, values=PRICE_COLUMNS, dated=dated)


def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``lo..hi`` (bools refused), else a ConfigError naming ``name``."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or value < lo or (hi is not None and value > hi):
        where = f"{lo}..{hi:,}" if hi is not None else f">= {lo}"
        raise ConfigError(f"{name} must be an integer {where}, got {shown(value)}")
    return int(value)


def check_number(name: str, value: Any, lo: float, hi: float = math.inf, *, open_lo: bool = False) -> float:
    """``value`` as a finite float in ``[lo, hi]`` (``(lo, hi]`` if ``open_lo``), else a ConfigError."""
    ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)
    x = float(value) if ok else math.nan
    if not (math.isfinite(x) and (x > lo if open_lo else x >= lo) and x <= hi):
        where = f"{'(' if open_lo else '['}{lo:g}, {hi:g}]" if math.isfinite(hi) else (f"> {lo:g}" if open_lo else f">= {lo:g}")
        raise ConfigError(f"{name} must be a finite number {where}, got {shown(value)}")
    return x


def observation_warmup(lookback: int = 10, norm_window: int = 60) -> int:
    """Leading bars without a complete observation."""
    from phi.indicators.registry import get_indicator

    lookback = check_int("lookback", lookback, 1, 500)
    norm_window = check_int("norm_window", norm_window, 2, 10_000)
    ind = max(int(get_indicator(n).warmup(get_indicator(n).defaults)) for n in SIGNALS)
    return max(lookback + norm_window - 1, ind)


def observation_matrix(ohlcv: pd.DataFrame, lookback: int = 10, norm_window: int = 60) -> np.ndarray:
    """``(bars, lookback + 3)`` float32 observations; NaN rows during the warm-up. ``ohlcv``
    as :func:`agent_bars` takes it."""
    from phi.indicators.registry import compute_signal, get_indicator

    ohlcv = agent_bars(ohlcv)
    lookback = check_int("lookback", lookback, 1, 500)
    norm_window = check_int("norm_window", norm_window, 2, 10_000)
    close = ohlcv["close"].to_numpy(dtype=np.float64)
    r = np.full(len(close), np.nan)
    r[1:] = np.log(close[1:] / close[:-1])
    sd = rolling_std(r, norm_window)  # exact after a jump, unlike pandas' running sums
    sd = np.where(sd > 0, sd, np.nan)
    cols = []
    for k in range(lookback):  # lagged returns, each scaled by the trailing std at t
        lag = np.full(len(r), np.nan)
        if k < len(r):
            lag[k:] = r[: len(r) - k]
        cols.append(lag / sd)
    for name in SIGNALS:  # a frame shorter than a signal's warm-up gets NaN there
        spec = get_indicator(name)
        if len(ohlcv) > int(spec.warmup(spec.defaults)):
            cols.append(compute_signal(name, ohlcv).to_numpy(dtype=np.float64))
        else:
            cols.append(np.full(len(ohlcv), np.nan))
    obs = np.column_stack(cols)
    return np.clip(obs, -OBS_CLIP, OBS_CLIP).astype(np.float32)
