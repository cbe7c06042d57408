"""Observations of the trading agent: causal, normalised with trailing statistics only.

Row t reads bars <= t: the last ``lookback`` log returns, each divided by the standard
deviation of the ``norm_window`` returns ending at t, and three registry signals in
[-1, +1] (RSI, MACD, Bollinger). Clipped to [-10, 10], float32. No statistic of the whole
dataset is used anywhere (the reference divided the price by the whole dataset's mean close).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["OBS_CLIP", "SIGNALS", "observation_matrix", "observation_warmup"]

OBS_CLIP = 10.0
SIGNALS: tuple[str, ...] = ("rsi", "macd", "bollinger")


def observation_warmup(lookback: int = 10, norm_window: int = 60) -> int:
    """Leading bars without a complete observation."""
    from phi.indicators.registry import get_indicator

    ind = max(int(get_indicator(n).warmup(get_indicator(n).defaults)) for n in SIGNALS)
    return max(lookback + norm_window - 1, ind)


def observation_matrix(ohlcv: pd.DataFrame, lookback: int = 10, norm_window: int = 60) -> np.ndarray:
    """``(bars, lookback + 3)`` float32 observations; NaN rows during the warm-up."""
    from phi.indicators.registry import compute_signal, get_indicator

    close = ohlcv["close"].to_numpy(dtype=np.float64)
    r = np.full(len(close), np.nan)
    r[1:] = np.log(close[1:] / close[:-1])
    sd = pd.Series(r).rolling(norm_window, min_periods=norm_window).std(ddof=1).to_numpy()
    sd = np.where(sd > 0, sd, np.nan)
    cols = []
    for k in range(lookback):  # lagged returns, each scaled by the trailing std at t
        lag = np.full(len(r), np.nan)
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
