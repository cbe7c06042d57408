"""The engine's expert indicators and their per-bar weights (MFT.md §1.7-1.8).

Signals are the phi registry's (default parameters, +1 = buy, mean-reversion oscillators
inverted — our decision 5), plus ``vol_profile_dev`` (``-(c - VWMA_30) / VWMA_30`` over twice its
rolling RMS, clipped: below the volume-weighted mean is a buy, like ``vwap_dev``). The
reference's non-existent ema / bb_mr columns map to ``ema_crossover`` / ``bollinger``;
supertrend and donchian are dropped; ``atr_ratio`` (volatility, not direction: the reference's
composite bias) is not an expert.

Weights per bar: ``w = clip((1 - beta) w_val + beta w_aff, 0, 2)`` with
``w_val,j = clip(sum of the probabilities of the species matching j's validity patterns, 0, 1)``
and ``w_aff,j = sum_L certainty_L sum_(n in L) P(n) A(n, j)`` over kingdom, phylum, class,
order and family (certainty = 1 - normalised entropy of the level; classes use their marginal
probability, so class affinities apply — the reference's ``PT|DIR`` lookup bug is gone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from phi._math import rescale_volume
from phi.data.schema import OHLCV_COLUMNS
from phi.indicators.signals import NORM_WINDOW, rms_scale
from phi.regime._experts_nb import vwma_dev_nb
from phi.regime._rolling_nb import expert_weights_nb
from phi.regime.config import ExpertConfig
from phi.regime.features import regime_bars
from phi.regime.probability_field import Field
from phi.regime.taxonomy import LEVEL_NODES, NODE_INDEX, match_pattern

__all__ = [
    "LOCAL_EXPERTS",
    "affinity_table",
    "expert_inputs",
    "expert_signal_array",
    "expert_signals",
    "expert_warmup",
    "expert_weights",
]

_VPD_WINDOW = 30


def _vol_profile_dev(ohlcv: pd.DataFrame) -> np.ndarray:
    c = np.ascontiguousarray(ohlcv["close"].to_numpy(dtype=np.float64))
    v = rescale_volume(np.maximum(ohlcv["volume"].to_numpy(dtype=np.float64), 0.0))
    return -rms_scale(vwma_dev_nb(c, v, _VPD_WINDOW), start=_VPD_WINDOW - 1) + 0.0


#: Experts computed here rather than by the registry: name -> (compute, warm-up bars).
LOCAL_EXPERTS = {"vol_profile_dev": (_vol_profile_dev, _VPD_WINDOW - 1 + NORM_WINDOW - 1)}


def expert_warmup(names: list[str]) -> int:
    """Leading NaN bars of the slowest expert signal (default parameters)."""
    from phi.indicators.registry import get_indicator

    warm = 0
    for name in names:
        if name in LOCAL_EXPERTS:
            warm = max(warm, LOCAL_EXPERTS[name][1])
        else:
            spec = get_indicator(name)
            warm = max(warm, int(spec.warmup(spec.defaults)))
    return warm


def expert_inputs(names: list[str]) -> tuple[str, ...]:
    """The OHLCV columns the named experts read (in :data:`~phi.data.schema.OHLCV_COLUMNS` order)."""
    from phi.indicators.registry import get_indicator

    read = {"close"}
    for name in names:
        read.update(("close", "volume") if name in LOCAL_EXPERTS else get_indicator(name).inputs)
    return tuple(c for c in OHLCV_COLUMNS if c in read)


def expert_signal_array(ohlcv: pd.DataFrame, names: list[str], out: np.ndarray | None = None) -> np.ndarray:
    """The signals of :func:`expert_signals` as one column-major float64 array (bars, experts)
    (``out``, if given: such an array to write them into); ``ohlcv`` as
    :func:`phi.regime.features.regime_bars` takes it (the columns the experts read).

    A registry indicator with an array implementation in :data:`phi.indicators.batch.BATCHED`
    (and its ``compute`` unchanged) is computed by it on the frame's columns, extracted once for
    all experts: the same kernels and maps as its ``compute``, bit for bit, without the pandas
    frames in between (~25 % of this stage); any other indicator through its ``compute``."""
    return _signal_array(regime_bars(ohlcv, expert_inputs(names)), names, out)


def _signal_array(ohlcv: pd.DataFrame, names: list[str], out: np.ndarray | None = None) -> np.ndarray:
    """:func:`expert_signal_array` of bars that passed :func:`~phi.regime.features.regime_bars`
    (the engine's, checked once)."""
    from phi.indicators.batch import BATCHED
    from phi.indicators.raw import column
    from phi.indicators.registry import get_indicator

    shape = (len(ohlcv), len(names))
    if out is None:
        out = np.empty(shape[::-1]).T  # column-major: each signal written in one run
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.f_contiguous:
        raise ValueError(f"out must be a column-major float64 array of shape {shape}")
    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        if name in LOCAL_EXPERTS:
            out[:, j] = LOCAL_EXPERTS[name][0](ohlcv)
            continue
        spec = get_indicator(name)
        entry = BATCHED.get(name)
        if entry is None or spec.compute != entry[0]:
            out[:, j] = spec.compute(ohlcv, **spec.defaults).to_numpy(dtype=np.float64)
            continue
        for c in spec.inputs:
            if c not in cols:
                cols[c] = column(ohlcv, c)  # volume rescaled as the registry's path does
        out[:, j] = entry[1](cols, [spec.resolve(spec.defaults)])[0]
    return out


def expert_signals(ohlcv: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Signals in [-1, +1] of the named experts (NaN during each one's warm-up); ``ohlcv`` as
    :func:`phi.regime.features.regime_bars` takes it (the columns the experts read)."""
    ohlcv = regime_bars(ohlcv, expert_inputs(names))
    return pd.DataFrame(_signal_array(ohlcv, names), index=ohlcv.index, columns=names, copy=False)


def validity_matrix(cfg: ExpertConfig) -> np.ndarray:
    """(28 species, experts) 0/1: species where each expert is valid."""
    names = list(cfg.validity)
    mat = np.zeros((28, len(names)))
    for j, name in enumerate(names):
        for pat in cfg.validity[name]:
            mat[:, j] = np.maximum(mat[:, j], match_pattern(pat))
    return mat


_AFFINITY_LEVELS = ("kingdom", "phylum", "class", "order", "family")


def affinity_table(cfg: ExpertConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(nodes, starts, table)`` of the affinity levels: level L's node indices are
    ``nodes[starts[L]:starts[L + 1]]`` and their rows of the (nodes, experts) table
    ``table[starts[L]:starts[L + 1]]``."""
    names = list(cfg.validity)
    nodes: list[int] = []
    rows: list[list[float]] = []
    starts = [0]
    for level in _AFFINITY_LEVELS:
        for node in LEVEL_NODES[level]:
            nodes.append(NODE_INDEX[node])
            rows.append([cfg.affinity.get(node, {}).get(e, 0.0) for e in names])
        starts.append(len(nodes))
    table = np.array(rows, dtype=np.float64).reshape(len(nodes), len(names))
    return np.array(nodes, dtype=np.int64), np.array(starts, dtype=np.int64), table


def expert_weights(field: Field, cfg: ExpertConfig, beta: float) -> np.ndarray:
    """Per-bar weights (bars, experts) in [0, 2]; see the module doc."""
    nodes, starts, table = affinity_table(cfg)
    out = np.empty((field.species.shape[0], len(cfg.validity)))  # numpy's allocation: fewer page faults
    expert_weights_nb(
        np.ascontiguousarray(field.species),
        np.ascontiguousarray(validity_matrix(cfg)),
        np.ascontiguousarray(field.node_probs),
        nodes,
        starts,
        table,
        float(beta),
        out,
    )
    return out
