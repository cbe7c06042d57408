"""Signals of one indicator at many parameter sets at once: a ``(n_bars, m)`` matrix.

>>> from phi.indicators.batch import batch_signals
>>> sig = batch_signals("dual_sma", ohlcv, [{"fast": 5, "slow": 20}, {"fast": 10, "slow": 50}])  # doctest: +SKIP

Column ``j`` equals ``compute_signal(name, ohlcv, param_sets[j])`` bit for bit. A batch
implementation calls the very kernels of :mod:`phi.indicators.signals` on NumPy arrays (no
pandas per column), computes each shared raw piece once per distinct parameter (every SMA of
``dual_sma`` once per window, every EMA of ``ema_crossover`` once per period, every ATR of
``atr_ratio`` once per ATR period; the rms-scaled spreads of the crossovers for all candidates
in one parallel call of :func:`phi.indicators._batch_nb.spread_signals_nb`) and applies the same
maps column by column, so every float operation is the one the per-set path does. An indicator
without a batch implementation, or one re-registered with another ``compute``, goes
through :func:`~phi.indicators.registry.compute_signal` per set. The same checks as that
function apply: parameters, columns, length, and a finite signal in [-1, 1] after the warm-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from phi._memory import pooled_rows
from phi.errors import DataError, IndicatorError, shown
from phi.indicators import _batch_nb, _nb
from phi.indicators import signals as sg
from phi.indicators.params import NORM_WINDOW, Deferred, IndicatorSpec
from phi.indicators.raw import column
from phi.indicators.registry import (
    _check_frame,
    _check_length,
    _check_signal,
    compute_signal,
    get_indicator,
)

__all__ = ["BATCHED", "KEEPS_PIECES", "batch_inputs", "batch_signals", "fill_pieces", "has_batch"]

Params = Mapping[str, Any]
#: Most parameter sets one :func:`batch_signals` call takes (a tuner asks for a few dozen; a
#: sweep larger than this belongs in several calls, each of ``sets x bars`` float64 cells).
MAX_PARAM_SETS = 100_000
#: A batch implementation: the frame's needed columns and the resolved parameter sets in,
#: one float64 row per set out (a list of rows or an ``(m, n)`` array).
Batch = Callable[[Mapping[str, np.ndarray], list[dict[str, Any]]], list[np.ndarray] | np.ndarray]


def _spreads(
    table: list[np.ndarray] | np.ndarray,
    den: list[np.ndarray] | np.ndarray,
    idx: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``(m, n)`` rms-scaled ``(table[f] - table[s]) / den[d]`` per row ``(f, s, d, start)`` of
    ``idx``, all rows in one kernel call (into a NumPy array: huge pages, fewer page faults;
    or into ``out``)."""
    rows = np.ascontiguousarray(table)
    if out is None:
        out = np.empty((len(idx), rows.shape[1]))
    _batch_nb.spread_signals_into_nb(
        rows,
        rows if den is table else np.ascontiguousarray(den),  # dual_sma: one stack, not two
        idx[:, 0],
        idx[:, 1],
        idx[:, 2],
        idx[:, 3],
        sg.NOISE_TOL * 1.0,
        NORM_WINDOW,
        sg.NORM_GAIN,
        _nb._refresh(NORM_WINDOW),
        _nb.GUARD,
        out,
    )
    return out


def _windows(sets: list[dict[str, Any]]) -> dict[int, int]:
    """Row of every distinct ``fast`` / ``slow`` window."""
    return {w: i for i, w in enumerate(sorted({p[k] for p in sets for k in ("fast", "slow")}))}


def _fill_averages(c: np.ndarray, windows: list[int], kind: str, table: np.ndarray, row0: int) -> None:
    """Rows ``row0 ..`` of ``table``: the SMA or EMA of ``c`` for each of ``windows``, one
    kernel call (:func:`~phi.indicators._nb.averages_into_nb`: ``sma_nb``/``ema_nb`` per window)."""
    _nb.averages_into_nb(c, np.asarray(windows, dtype=np.int64), kind == "sma", table, row0)


def _averages(
    c: np.ndarray, sets: list[dict[str, Any]], kind: str, pieces: dict[str, Any] | None
) -> tuple[np.ndarray, dict[int, int]]:
    """The moving averages of every ``fast`` / ``slow`` window of ``sets`` and each window's
    row: computed for this call, or (``pieces``) kept in a table that grows across calls, each
    window computed once."""
    if pieces is None:
        rows = _windows(sets)
        out = np.empty((len(rows), len(c)))
        _fill_averages(c, list(rows), kind, out, 0)
        return out, rows
    rows = pieces.setdefault("rows", {})
    todo = sorted({p[k] for p in sets for k in ("fast", "slow")} - rows.keys())
    if todo:
        table = pieces.get("table")
        need = len(rows) + len(todo)
        if table is None or need > len(table):
            # room for every window the parameters' ranges allow (pieces["capacity"]): rows
            # never written cost no memory, and the table never grows (a copy, fresh pages)
            grown = pooled_rows(max(need, 2 * len(rows), 32, pieces.get("capacity", 0)), len(c))
            if table is not None:
                grown[: len(rows)] = table[: len(rows)]
            pieces["table"] = table = grown
        _fill_averages(c, todo, kind, table, len(rows))
        for w in todo:
            rows[w] = len(rows)
    return pieces["table"], rows


def _dual_sma(
    cols: Mapping[str, np.ndarray],
    sets: list[dict[str, Any]],
    pieces: dict[str, Any] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    table, rows = _averages(cols["close"], sets, "sma", pieces)
    idx = np.array(
        [(rows[p["fast"]], rows[p["slow"]], rows[p["slow"]], p["slow"] - 1) for p in sets],
        dtype=np.int64,
    )
    return _spreads(table, table, idx, out)


def _ema_crossover(
    cols: Mapping[str, np.ndarray],
    sets: list[dict[str, Any]],
    pieces: dict[str, Any] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    c = cols["close"]
    table, rows = _averages(c, sets, "ema", pieces)
    idx = np.array(
        [(rows[p["fast"]], rows[p["slow"]], 0, p["slow"] - 1) for p in sets], dtype=np.int64
    )
    return _spreads(table, [c], idx, out)


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


def _stochastic(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    h, lo, c = cols["high"], cols["low"], cols["close"]
    return [
        sg.map_stochastic(
            _nb.stoch_nb(h, lo, c, p["k_period"], p["d_period"], p["d_period"], 50.0)[0]
        )
        for p in sets
    ]


def _atr_ratio(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    h, lo, c = cols["high"], cols["low"], cols["close"]
    atr = {w: _nb.atr_nb(h, lo, c, w) for w in {p["atr_period"] for p in sets}}
    out = []
    for p in sets:
        ap, mp = p["atr_period"], p["ma_period"]
        avg = _nb.rolling_mean_nb(atr[ap], mp, ap)
        out.append(sg.map_atr_ratio(_nb.ratio_nb(atr[ap], avg, ap + mp - 1)))
    return out


def _vwap_dev(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c, v = cols["close"], cols["volume"]
    typical = (cols["high"] + cols["low"] + c) / 3.0
    out = []
    for p in sets:
        vwap = _nb.vwap_nb(typical, v, p["period"])
        out.append(-sg.rms_scale((c - vwap) / vwap, p["period"] - 1) + 0.0)
    return out


def _cmf(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    h, lo, c, v = cols["high"], cols["low"], cols["close"], cols["volume"]
    return [sg.map_cmf(_nb.cmf_nb(h, lo, c, v, p["period"])) for p in sets]


def _adx(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    h, lo, c = cols["high"], cols["low"], cols["close"]
    out = []
    for p in sets:
        plus, minus, adx = _nb.adx_nb(h, lo, c, p["period"])
        out.append(sg.map_adx(adx, plus, minus))
    return out


def _wyckoff(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    c, v = cols["close"], cols["volume"]
    out = []
    for p in sets:
        n = p["lookback"]
        vwma = _nb.vwap_nb(c, v, n)
        price_term = sg.rms_scale((c - vwma) / vwma, n - 1)
        out.append(sg.map_wyckoff(price_term, _nb.volume_balance_nb(c, v, n)))
    return out


def _range_pos(cols: Mapping[str, np.ndarray], sets: list[dict[str, Any]]) -> list[np.ndarray]:
    h, lo, c = cols["high"], cols["low"], cols["close"]
    out = []
    for p in sets:
        n = p["period"]
        pos = _nb.range_position_nb(c, _nb.rolling_max_nb(h, n), _nb.rolling_min_nb(lo, n), n - 1)
        out.append(sg.map_range_pos(pos))
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
    "stochastic": (Deferred("phi.indicators.signals", "stochastic_signal"), _stochastic),
    "atr_ratio": (Deferred("phi.indicators.signals", "atr_ratio_signal"), _atr_ratio),
    "vwap_dev": (Deferred("phi.indicators.signals", "vwap_dev_signal"), _vwap_dev),
    "cmf": (Deferred("phi.indicators.signals", "cmf_signal"), _cmf),
    "adx": (Deferred("phi.indicators.signals", "adx_signal"), _adx),
    "wyckoff": (Deferred("phi.indicators.signals", "wyckoff_signal"), _wyckoff),
    "range_pos": (Deferred("phi.indicators.signals", "range_pos_signal"), _range_pos),
}


def _implementation(spec: IndicatorSpec) -> Batch | None:
    entry = BATCHED.get(spec.name)
    if entry is None or spec.compute != entry[0]:
        return None
    return entry[1]


def has_batch(name: str) -> bool:
    """Whether ``name`` (as registered now) has a batch implementation."""
    return _implementation(get_indicator(name)) is not None


def batch_inputs(name: str, ohlcv: pd.DataFrame) -> dict[str, np.ndarray]:
    """The input columns of ``name`` as contiguous float64 arrays, checked as
    :func:`compute_signal` checks them (:class:`~phi.errors.DataError` if missing, not numeric
    or not finite): what ``batch_signals(..., inputs=)`` takes to skip that work per call."""
    spec = get_indicator(name)
    frame = _check_frame(ohlcv, spec.inputs)
    return {c: column(frame, c) for c in spec.inputs}  # volume rescaled as the per-set path does


#: Indicators whose batch implementation keeps raw pieces between calls (``pieces=``): the
#: moving average of each window.
KEEPS_PIECES = frozenset({"dual_sma", "ema_crossover"})


def fill_pieces(
    name: str,
    param_sets: Sequence[Params],
    inputs: Mapping[str, np.ndarray],
    pieces: dict[str, Any],
) -> None:
    """Add to ``pieces`` the raw pieces of ``param_sets`` it lacks (nothing for an indicator not
    in :data:`KEEPS_PIECES`). :func:`batch_signals` calls whose sets are all filled only read
    ``pieces``, so several threads may then make them at once."""
    if name in KEEPS_PIECES:
        spec = get_indicator(name)
        if _implementation(spec) is not None:
            _reserve(spec, len(inputs["close"]), pieces)
            kind = "sma" if name == "dual_sma" else "ema"
            _averages(inputs["close"], [spec.resolve(p) for p in param_sets], kind, pieces)


#: Bytes up to which a moving-average table is reserved for every window a range allows.
TABLE_RESERVE_BYTES = 1 << 28


def _reserve(spec: IndicatorSpec, n: int, pieces: dict[str, Any]) -> None:
    """Record in ``pieces`` how many distinct ``fast`` / ``slow`` windows ``spec``'s ranges
    allow, when a table of that many rows of ``n`` bars stays under
    :data:`TABLE_RESERVE_BYTES`."""
    if "capacity" in pieces:
        return
    windows: set[int] = set()
    for p in spec.params:
        if p.name in ("fast", "slow"):
            windows.update(range(int(p.low), int(p.high) + 1))
    pieces["capacity"] = len(windows) if 8 * n * len(windows) <= TABLE_RESERVE_BYTES else 0


def batch_signals(
    name: str,
    ohlcv: pd.DataFrame,
    param_sets: Sequence[Params],
    inputs: Mapping[str, np.ndarray] | None = None,
    pieces: dict[str, Any] | None = None,
    out: np.ndarray | None = None,
    resolved: bool = False,
) -> np.ndarray:
    """Signals of ``name`` at every parameter set: a ``(len(ohlcv), m)`` array.

    It is the transposed view of a C-contiguous ``(m, len(ohlcv))`` array, the layout
    :func:`~phi.backtest.engine.run_backtest_many` takes without a copy. Column ``j`` equals
    ``compute_signal(name, ohlcv, param_sets[j]).to_numpy()`` exactly (NaN during its
    warm-up). Raises what :func:`compute_signal` raises, for the first offending set.
    ``inputs``: :func:`batch_inputs` of the same ``name`` and ``ohlcv`` (already checked), for a
    caller scoring many batches on one frame. ``pieces``: a dict the caller keeps for ``name``
    and ``ohlcv`` across calls, where an indicator of :data:`KEEPS_PIECES` keeps the raw pieces
    it computed (each moving-average window once); the same signals either way. ``out``: a
    C-contiguous float64 ``(m, len(ohlcv))`` array the rows are written to (``out.T`` is
    returned): a caller keeping many batches in one large array. ``resolved``: the caller
    vouches that every set is what ``get_indicator(name).resolve`` returns for it (complete,
    coerced, valid: a tuner's sets drawn from the registry's space), so they are not resolved
    again.
    """
    spec = get_indicator(name)
    if inputs is None:  # the frame as compute_signal takes it (converted once, not per set)
        ohlcv = _check_frame(ohlcv, spec.inputs)
    elif not isinstance(ohlcv, pd.DataFrame):
        raise DataError(f"expected an OHLCV pandas DataFrame, got {type(ohlcv).__name__}")
    if isinstance(param_sets, str | bytes | Mapping) or not isinstance(param_sets, Sequence):
        raise IndicatorError(f"param_sets must be a list of parameter mappings, got {shown(param_sets)}")
    if len(param_sets) > MAX_PARAM_SETS:
        raise IndicatorError(
            f"param_sets has {len(param_sets):,} sets; at most {MAX_PARAM_SETS:,} per call (split the sweep)"
        )
    sets = (
        cast(list[dict[str, Any]], list(param_sets))
        if resolved
        else [spec.resolve(p) for p in param_sets]
    )
    n = len(ohlcv)
    if out is not None and (
        out.shape != (len(sets), n) or out.dtype != np.float64 or not out.flags.c_contiguous
    ):
        raise IndicatorError(
            f"out must be a C-contiguous float64 array of shape {(len(sets), n)}, "
            f"got {out.dtype} {out.shape}"
        )
    batch = _implementation(spec)
    if batch is None or not sets:
        rows = np.empty((len(sets), n), dtype=np.float64) if out is None else out
        for j, p in enumerate(sets):
            rows[j] = compute_signal(name, ohlcv, p).to_numpy(dtype=np.float64)
        return rows.T
    cols = inputs if inputs is not None else {c: column(ohlcv, c) for c in spec.inputs}
    warms = np.array([_check_length(spec, p, n) for p in sets], dtype=np.int64)
    made: list[np.ndarray] | np.ndarray
    if name in KEEPS_PIECES:  # these implementations take pieces and write into out
        if pieces is not None:
            _reserve(spec, n, pieces)
        made = cast(Callable[..., np.ndarray], batch)(cols, sets, pieces, out)
    else:
        made = batch(cols, sets)
    if out is None:
        rows = np.ascontiguousarray(made, dtype=np.float64)
    else:
        if made is not out:
            out[...] = made
        rows = out
    j = int(_batch_nb.first_bad_row_nb(rows, warms))
    if j >= 0:
        _check_signal(spec, pd.Series(rows[j], index=ohlcv.index), ohlcv, int(warms[j]))  # raises
    return rows.T
