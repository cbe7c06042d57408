"""Signals of one indicator at many parameter sets at once: a ``(n_bars, m)`` matrix.

>>> from phi.indicators.batch import batch_signals
>>> sig = batch_signals("dual_sma", ohlcv, [{"fast": 5, "slow": 20}, {"fast": 10, "slow": 50}])  # doctest: +SKIP

Column ``j`` equals ``compute_signal(name, ohlcv, param_sets[j])`` bit for bit. A batch
implementation calls the very kernels of :mod:`phi.indicators.signals` on NumPy arrays (no
pandas per column), computes each shared raw piece once per distinct parameter (every SMA of
``dual_sma`` once per window, every EMA of ``ema_crossover`` once per period) and applies the
same maps column by column, so every float operation is the one the per-set path does. An
indicator without a batch implementation, or one re-registered with another ``compute``, goes
through :func:`~phi.indicators.registry.compute_signal` per set. The same checks as that
function apply: parameters, columns, length, and a finite signal in [-1, 1] after the warm-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from phi.indicators import _nb
from phi.indicators import signals as sg
from phi.indicators.params import Deferred, IndicatorSpec
from phi.indicators.registry import (
    _check_frame,
    _check_length,
    _check_signal,
    compute_signal,
    get_indicator,
)

__all__ = ["BATCHED", "batch_signals", "has_batch"]

Params = Mapping[str, Any]
#: A batch implementation: the frame's needed columns and the resolved parameter sets in,
#: one float64 column per set out.
Batch = Callable[[Mapping[str, np.ndarray], list[dict[str, Any]]], list[np.ndarray]]


def _cached(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """``fn(*key)`` computed once per distinct key within one batch."""
    memo: dict[tuple[Any, ...], np.ndarray] = {}

    def get(*key: Any) -> np.ndarray:
        if key not in memo:
            memo[key] = fn(*key)
        return memo[key]

    return get


def _dual_sma(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c = cols["close"]
    sma = _cached(lambda w: _nb.sma_nb(c, w, 0))
    out = []
    for p in sets:
        slow_ma = sma(p["slow"])
        out.append(sg.rms_scale((sma(p["fast"]) - slow_ma) / slow_ma, p["slow"] - 1))
    return out


def _ema_crossover(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c = cols["close"]
    ema = _cached(lambda w: _nb.ema_nb(c, w, 2.0 / (w + 1), w - 1))
    return [sg.rms_scale((ema(p["fast"]) - ema(p["slow"])) / c, p["slow"] - 1) for p in sets]


def _macd(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c = cols["close"]
    return [
        sg.rms_scale(
            _nb.macd_nb(c, p["fast"], p["slow"], p["signal"])[2], p["slow"] + p["signal"] - 2, c
        )
        for p in sets
    ]


def _rsi(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c = cols["close"]
    out = []
    for p in sets:
        rsi, move = _nb.rsi_nb(c, p["period"], True)
        out.append(np.where(move <= sg.FLAT_TOL * c, 0.0, sg.map_rsi(rsi)))
    return out


def _momentum(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c = cols["close"]
    return [sg.rms_scale(_nb.mom_nb(c, p["period"]), p["period"], c) for p in sets]


def _roc(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c = cols["close"]
    return [sg.rms_scale(_nb.roc_nb(c, p["period"]), p["period"], 100.0) for p in sets]


def _bollinger(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c = cols["close"]
    out = []
    for p in sets:
        upper, middle, _ = _nb.bbands_nb(c, p["period"], float(p["nbdev"]))
        out.append(sg.map_bollinger(c, upper, middle))
    return out


#: Indicators with a batch implementation, keyed by the ``compute`` they reproduce.
BATCHED: dict[str, tuple[Deferred, Batch]] = {
    "dual_sma": (Deferred("phi.indicators.signals", "dual_sma_signal"), _dual_sma),
    "ema_crossover": (Deferred("phi.indicators.signals", "ema_crossover_signal"), _ema_crossover),
    "macd": (Deferred("phi.indicators.signals", "macd_signal"), _macd),
    "rsi": (Deferred("phi.indicators.signals", "rsi_signal"), _rsi),
    "momentum": (Deferred("phi.indicators.signals", "momentum_signal"), _momentum),
    "roc": (Deferred("phi.indicators.signals", "roc_signal"), _roc),
    "bollinger": (Deferred("phi.indicators.signals", "bollinger_signal"), _bollinger),
}


def _implementation(spec: IndicatorSpec) -> Batch | None:
    entry = BATCHED.get(spec.name)
    if entry is None or spec.compute != entry[0]:
        return None
    return entry[1]


def has_batch(name: str) -> bool:
    """Whether ``name`` (as registered now) has a batch implementation."""
    return _implementation(get_indicator(name)) is not None


def batch_signals(name: str, ohlcv: pd.DataFrame, param_sets: Sequence[Params]) -> np.ndarray:
    """Signals of ``name`` at every parameter set: a C-contiguous ``(len(ohlcv), m)`` array.

    Column ``j`` equals ``compute_signal(name, ohlcv, param_sets[j]).to_numpy()`` exactly
    (NaN during its warm-up). Raises what :func:`compute_signal` raises, for the first
    offending set.
    """
    spec = get_indicator(name)
    sets = [spec.resolve(p) for p in param_sets]
    out = np.empty((len(ohlcv), len(sets)), dtype=np.float64)
    if not sets:
        return out
    batch = _implementation(spec)
    if batch is None:
        for j, p in enumerate(sets):
            out[:, j] = compute_signal(name, ohlcv, p).to_numpy(dtype=np.float64)
        return out
    _check_frame(ohlcv, spec.inputs)
    warms = [_check_length(spec, p, len(ohlcv)) for p in sets]
    cols = {c: np.ascontiguousarray(ohlcv[c].to_numpy(dtype=np.float64)) for c in spec.inputs}
    for j, (values, warm) in enumerate(zip(batch(cols, sets), warms, strict=True)):
        tail = values[warm:]
        if not (np.isfinite(tail).all() and (np.abs(tail) <= 1.0).all()):
            _check_signal(spec, pd.Series(values, index=ohlcv.index), ohlcv, warm)  # raises
        out[:, j] = values
    return out
