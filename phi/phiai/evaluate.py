"""Score batches of parameter sets on the walk-forward segments through the engine's 2-D path.

Signals are computed once per distinct ``(indicator, parameters)`` and cached for the tuner's
life: while scoring, on the bars up to the hold-out only (indicators are causal, so a bar's value
uses bars up to it only and is the same as on all bars; the hold-out is never computed during the
search), on all bars for a parameter set whose hold-out is scored. A batch's
missing signals come from one :func:`~phi.indicators.batch.batch_signals` call (shared raw pieces
computed once, bit-identical to ``compute_signal``). A batch of candidates is one
``(n_bars, m)`` signal matrix; every fold segment is one
:func:`~phi.backtest.engine.run_backtest_many` call on that segment's bars (the bar before it
supplies the signal's previous value, no trade starts before the segment). The development
region is scored as the walk-forward blocks that tile it, laid end to end (each one simulated
on its own from flat, as its folds score it): their per-bar returns, one after the other, are
the returns DSR and PBO read, its trades the blocks' trades, its drawdown that of the
compounded returns. So no bar is simulated twice for a trial's development figures. The market
calendar is detected once on all bars (as :func:`phi.run` does) and fixed for every segment.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from phi._memory import RowArena
from phi.backtest._inputs import _calendar, check_bars
from phi.backtest.engine import (
    SWEEP_METRICS,
    BacktestResult,
    EngineConfig,
    run_backtest,
    run_backtest_many,
)
from phi.backtest.segments import SegmentSweep
from phi.indicators.batch import batch_inputs, batch_signals, fill_pieces, has_batch
from phi.indicators.registry import _check_frame, compute_signal, get_indicator
from phi.phiai._stats_nb import dev_row_stats_nb
from phi.phiai.folds import FoldPlan
from phi.phiai.stats import BlockSums, pbo_splits, sharpe_per_period

__all__ = ["METRIC_DIRECTIONS", "Evaluator", "TrialScores", "nanmean", "row_nanmeans"]

#: Metrics the tuner optimises and their direction. Max drawdown is a negative fraction, so
#: it is *maximised* (towards 0); volatility is minimised.
METRIC_DIRECTIONS: dict[str, str] = {
    "sharpe": "maximize",
    "sortino": "maximize",
    "calmar": "maximize",
    "total_return": "maximize",
    "cagr": "maximize",
    "max_drawdown": "maximize",
    "win_rate": "maximize",
    "profit_factor": "maximize",
    "direction_accuracy": "maximize",
    "annual_volatility": "minimize",
}


#: Metrics that are 0 for a segment without trades (the engine reports nan for zero volatility).
FLAT_IS_ZERO = frozenset({"sharpe", "sortino", "calmar", "total_return", "cagr"})


def _key(name: str, params: Mapping[str, Any]) -> tuple[Any, ...]:
    return (name, *sorted(params.items()))


def _missing(
    name: str, param_sets: Sequence[Mapping[str, Any]], cache: Mapping[tuple[Any, ...], Any]
) -> tuple[list[tuple[Any, ...]], dict[tuple[Any, ...], Mapping[str, Any]]]:
    """Every set's cache key, and the distinct sets not in ``cache`` (first occurrence)."""
    keys = [_key(name, p) for p in param_sets]
    missing: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for k, p in zip(keys, param_sets, strict=True):
        if k not in cache:
            missing.setdefault(k, p)
    return keys, missing


@dataclasses.dataclass
class TrialScores:
    """Scores of one candidate: per fold in and out of sample, and on the development region
    (its walk-forward blocks laid end to end, each started flat)."""

    is_folds: list[float]
    oos_folds: list[float]
    dev_trades: int  # the blocks' trades
    dev_max_drawdown: float  # of the compounded returns
    returns: np.ndarray  # per-bar returns over the development region
    sharpe: float = math.nan  # per-bar Sharpe ratio of ``returns`` (stats.sharpe_per_period)
    #: PBO's block sums of ``returns``: row ``[1]`` of its batch's (stats.block_sums), if any
    blocks: tuple[BlockSums, int] | None = None
    #: :func:`nanmean` of ``is_folds`` and of ``oos_folds`` (None: not computed yet)
    is_mean: float | None = None
    oos_mean: float | None = None


class Evaluator:
    """Evaluates candidates of any indicator on one :class:`FoldPlan`.

    Parameters
    ----------
    ohlcv : DataFrame
    engine : EngineConfig
        Its ``warmup_bars`` is ignored (the plan decides which bars count).
    plan : FoldPlan
    metric : str
    n_jobs : int
        Threads computing the signals of an indicator without a batch implementation; the
        results never depend on it.
    """

    def __init__(
        self,
        ohlcv: pd.DataFrame,
        engine: EngineConfig,
        plan: FoldPlan,
        metric: str,
        n_jobs: int = 1,
    ) -> None:
        self.ohlcv = ohlcv
        self.plan = plan
        self.metric = metric
        self.n_jobs = max(1, int(n_jobs))
        timed = isinstance(ohlcv.index, pd.DatetimeIndex)
        if engine.calendar == "auto" and timed:
            from phi.data.calendar import detect_market_calendar

            calendar, _ = detect_market_calendar(ohlcv.index, dict(ohlcv.attrs))
            self.cfg = dataclasses.replace(engine, warmup_bars=1, calendar=calendar)
        else:
            self.cfg = dataclasses.replace(engine, warmup_bars=1)
        # The bars before the first segment feed only the warm-up, and the segment sweep checks
        # the bars from its first segment on: check these too, as the engine checks a frame
        # (prices, duplicate or unsorted stamps), so the tuner takes the bars phi.run takes.
        head = ohlcv.iloc[: plan.first + 1]
        check_bars(head)
        if not timed:  # bars without timestamps need periods_per_year: said here, not later
            _calendar(head, self.cfg)
        self.cache: dict[tuple[Any, ...], np.ndarray] = {}
        #: The bars a score reads: up to the development region's end (not the hold-out), and
        #: the signals of scored sets on them (each the prefix of its signal on all bars)
        self.dev_ohlcv = ohlcv.iloc[: plan.dev[1]] if plan.dev[1] < len(ohlcv) else ohlcv
        self._dev_cache: dict[tuple[Any, ...], np.ndarray] = {}
        #: The scores of every parameter set scored, for the tuner's life (:meth:`score`)
        self._scores: dict[tuple[Any, ...], TrialScores] = {}
        spans = {s for f in plan.folds for s in (f.train, f.test)}
        self.segments = sorted(spans)
        #: The blocks that tile the development region, in order (the first fold's train bars
        #: and every fold's test bars, in either scheme)
        self.blocks = [plan.folds[0].train, *(f.test for f in plan.folds)]
        self._sweep: SegmentSweep | None = None
        self._bars: dict[tuple[int, int], pd.DataFrame] = {}
        self._inputs: dict[str, dict[str, np.ndarray]] = {}
        #: The same input columns on all bars (for the hold-out's signal), once checked
        self._all_inputs: dict[str, dict[str, np.ndarray]] = {}
        #: Raw pieces kept for the tuner's life per indicator (each moving-average window once)
        self._pieces: dict[str, dict[str, Any]] = {}
        #: Where batched signals (bars up to the hold-out) and development-region returns are kept
        self._signal_rows = RowArena(len(self.dev_ohlcv))
        self._return_rows = RowArena(plan.dev[1] - plan.dev[0])  # no return at the lead bar

    def _slice(self, span: tuple[int, int]) -> pd.DataFrame:
        """Bars ``[a - 1, b)`` of a segment ``(a, b)`` (with its lead bar), cached."""
        if span not in self._bars:
            a, b = span
            if not b > a:
                raise KeyError(span)
            self._bars[span] = self.ohlcv.iloc[a - 1 : b]
        return self._bars[span]

    def prepare(self, name: str) -> None:
        """Build what :meth:`score` would build lazily for ``name`` (its input columns checked
        on all bars, so that a bad value in the hold-out is said before the search; the segment
        sweep), so that several threads may then score batches of it at once."""
        if name not in self._inputs:
            if has_batch(name):  # the columns up to the hold-out: contiguous views
                n = len(self.dev_ohlcv)
                self._all_inputs[name] = batch_inputs(name, self.ohlcv)
                self._inputs[name] = {c: a[:n] for c, a in self._all_inputs[name].items()}
            else:
                _check_frame(self.ohlcv, get_indicator(name).inputs)
                self._inputs[name] = {}
        self._pieces.setdefault(name, {})
        _ = self.sweep

    def fill(self, name: str, param_sets: Sequence[Mapping[str, Any]]) -> None:
        """Compute the raw pieces (moving averages) of ``param_sets`` the study lacks, on this
        thread: :meth:`score` calls of these sets then only read them (after :meth:`prepare`)."""
        if self._inputs.get(name):
            fill_pieces(name, param_sets, self._inputs[name], self._pieces[name])

    def signal(self, name: str, params: Mapping[str, Any]) -> np.ndarray:
        """The signal of ``name`` at ``params`` on all bars (cached)."""
        key = _key(name, params)
        if key not in self.cache:
            self.cache[key] = compute_signal(name, self.ohlcv, dict(params)).to_numpy(
                dtype=np.float64
            )
        return self.cache[key]

    def matrix(self, name: str, param_sets: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``(n_bars, m)`` signals of a batch on all bars; missing ones computed on ``n_jobs``
        threads (the transposed view of a C-contiguous ``(m, n_bars)`` array)."""
        return self._matrix(name, param_sets, self.ohlcv, self.cache)

    def _matrix(
        self,
        name: str,
        param_sets: Sequence[Mapping[str, Any]],
        frame: pd.DataFrame,
        cache: dict[tuple[Any, ...], np.ndarray],
    ) -> np.ndarray:
        """:meth:`matrix` on ``frame`` (all bars, or the bars up to the hold-out) with its cache."""
        keys, missing = _missing(name, param_sets, cache)
        if missing and has_batch(name):  # one batch call: shared raw pieces computed once
            inputs = self._all_inputs.get(name) if frame is self.ohlcv else None
            block = batch_signals(name, frame, list(missing.values()), inputs)
            for j, k in enumerate(missing):
                cache[k] = block[:, j]
        todo = {k: p for k, p in missing.items() if k not in cache}
        if todo and self.n_jobs > 1:  # an indicator without a batch implementation
            with ThreadPoolExecutor(self.n_jobs) as pool:
                values = list(
                    pool.map(lambda p: compute_signal(name, frame, dict(p)), todo.values())
                )
            for k, v in zip(todo, values, strict=True):
                cache[k] = v.to_numpy(dtype=np.float64)
        for k, p in todo.items():  # one thread
            if k not in cache:
                cache[k] = compute_signal(name, frame, dict(p)).to_numpy(dtype=np.float64)
        return np.stack([cache[k] for k in keys], axis=0).T

    def _scored(
        self,
        name: str,
        param_sets: Sequence[Mapping[str, Any]],
        keys: Sequence[tuple[Any, ...]] | None = None,
    ) -> np.ndarray:
        """The ``(n_dev, m)`` signals of a batch on the bars up to the hold-out, for
        :meth:`score`: a batched indicator's moving averages kept across batches
        (:meth:`fill`), its input columns checked once (``keys``: the sets' cache keys, if
        at hand)."""
        if name not in self._inputs:  # the frame's columns checked once per indicator
            self.prepare(name)
        if not has_batch(name):
            return self._matrix(name, param_sets, self.dev_ohlcv, self._dev_cache)
        if keys is None:
            keys, missing = _missing(name, param_sets, self._dev_cache)
        else:
            missing = {k: p for k, p in zip(keys, param_sets, strict=True) if k not in self._dev_cache}
        if missing:
            block = batch_signals(
                name,
                self.dev_ohlcv,
                list(missing.values()),
                self._inputs[name],
                self._pieces[name],
                out=self._signal_rows.take(len(missing)),
                resolved=True,  # the study's sets: drawn from the registry's space, resolved
            )
            for j, k in enumerate(missing):
                self._dev_cache[k] = block[:, j]  # a contiguous row of block's (m, n) base
            if len(missing) == len(keys):  # every set new and distinct: block is the batch
                return block
        return np.stack([self._dev_cache[k] for k in keys], axis=0).T

    def run_segment(self, sig: np.ndarray, span: tuple[int, int]) -> pd.DataFrame:
        """Compact metrics of every column on bars ``[a, b)`` (started flat at ``a``)."""
        a, b = span
        return run_backtest_many(self._slice((a, b)), sig[a - 1 : b], self.cfg)

    def run_equity(self, sig: np.ndarray, span: tuple[int, int]) -> tuple[pd.DataFrame, np.ndarray]:
        """Compact metrics and the ``(m, b - a + 1)`` equity of every column on bars ``[a, b)``
        (the first equity value is the flat lead bar)."""
        a, b = span
        equity = np.empty((sig.shape[1], b - a + 1))
        table = run_backtest_many(self._slice((a, b)), sig[a - 1 : b], self.cfg, equity_out=equity)
        return table, equity

    def run_full(self, sig: np.ndarray, span: tuple[int, int]) -> list[BacktestResult]:
        """Full results of every column on bars ``[a, b)``."""
        a, b = span
        out = run_backtest(self._slice((a, b)), sig[a - 1 : b], self.cfg)
        return out if isinstance(out, list) else [out]

    def _fill(self, table: pd.DataFrame) -> pd.DataFrame:
        if self.metric in FLAT_IS_ZERO:
            table[self.metric] = table[self.metric].fillna(0.0)
        return table

    @property
    def sweep(self) -> SegmentSweep:
        """Every fold segment (the development region's blocks chained: their per-bar returns
        one after the other) and the hold-out, each with its lead bar, prepared once: one
        kernel call scores a whole batch on all of them."""
        if self._sweep is None:
            h0, n = self.plan.holdout
            spans = [*self.segments] + ([self.plan.holdout] if n > h0 else [])
            self._sweep = SegmentSweep(
                self.ohlcv,
                [(s - 1, e) for s, e in spans],
                self.cfg,
                chain=[(s - 1, e) for s, e in self.blocks],
            )
        return self._sweep

    def holdout_metrics(self, sig: np.ndarray) -> dict[str, float]:
        """Compact metrics (:data:`~phi.backtest.engine.SWEEP_METRICS`) of the first column of
        ``sig`` on the hold-out bars, started flat (as :meth:`run_segment` on the hold-out);
        all nan when the plan keeps no hold-out."""
        k = len(self.segments)
        if len(self.sweep.spans) <= k:
            return dict.fromkeys(SWEEP_METRICS, math.nan)
        stats, _ = self.sweep.run(sig[:, :1], [k])
        return {name: float(v) for name, v in zip(SWEEP_METRICS, stats[0, 0], strict=True)}

    def score(self, name: str, param_sets: Sequence[Mapping[str, Any]]) -> list[TrialScores]:
        """Score a batch of parameter sets of ``name``: each complete and valid, as the
        registry's search space draws them (``get_indicator(name).resolve`` of it is itself; not
        resolved again).

        A set scored before by this evaluator (a sampler proposing it again, in this batch or an
        earlier one) is not simulated again: its :class:`TrialScores` are returned again, the
        numbers a new simulation would give (each candidate is simulated on its own, whatever
        candidates share its batch). See :meth:`_simulate`.
        """
        if not param_sets:
            return []
        keys, new = _missing(name, param_sets, self._scores)
        if new:
            scored = self._simulate(name, list(new.values()), list(new))
            self._scores.update(zip(new, scored, strict=True))
        return [self._scores[k] for k in keys]

    def _simulate(
        self,
        name: str,
        param_sets: Sequence[Mapping[str, Any]],
        keys: Sequence[tuple[Any, ...]] | None = None,
    ) -> list[TrialScores]:
        """The scores of distinct parameter sets of ``name`` not scored before (``keys``: their
        cache keys, if at hand).

        One :class:`~phi.backtest.segments.SegmentSweep` call simulates every candidate on every
        fold segment, each started flat: the same simulations (and numbers) as one
        ``run_backtest_many`` call per segment. The development figures are the blocks'
        (:attr:`blocks`): their returns laid end to end, the sum of their trades, the drawdown
        of the compounded returns.
        """
        if not param_sets:
            return []
        sig = self._scored(name, param_sets, keys)
        # Not the hold-out. Every bar simulated is at or after each candidate's warm-up (the plan
        # starts after the longest one), where the registry has checked the signal's range.
        # The development region's per-bar returns: its blocks' one after the other.
        stats, returns = self.sweep.run(
            sig,
            range(len(self.segments)),
            checked=True,
            returns=True,
            returns_out=self._return_rows.take(sig.shape[1]),
        )
        assert returns is not None
        values = SegmentSweep.metric(stats, self.metric)
        if self.metric in FLAT_IS_ZERO:  # no trades in a segment: 0, not nan
            values = np.where(np.isnan(values), 0.0, values)
        col = {span: k for k, span in enumerate(self.segments)}
        train = [col[f.train] for f in self.plan.folds]
        test = [col[f.test] for f in self.plan.folds]
        is_folds = values[:, train].tolist()
        oos_folds = values[:, test].tolist()
        is_means = row_nanmeans(values[:, train]).tolist()  # the batch's at once
        oos_means = row_nanmeans(values[:, test]).tolist()
        blocks = [col[span] for span in self.blocks]
        trades = SegmentSweep.metric(stats, "n_trades")[:, blocks].sum(axis=1)
        trades = trades.astype(np.int64).tolist()
        drawdown, sharpe, sums = dev_row_stats(returns)
        return [
            TrialScores(
                is_folds=is_folds[j],
                oos_folds=oos_folds[j],
                dev_trades=trades[j],
                dev_max_drawdown=drawdown[j],
                returns=returns[j],
                sharpe=sharpe[j],
                blocks=None if sums is None else (sums, j),
                is_mean=is_means[j],
                oos_mean=oos_means[j],
            )
            for j in range(len(param_sets))
        ]


def dev_row_stats(returns: np.ndarray) -> tuple[list[float], list[float], BlockSums | None]:
    """Per row of development-region returns (C-contiguous ``(m, T)``): its compounded max
    drawdown, its per-bar Sharpe ratio and PBO's block sums, in one parallel kernel
    (:func:`~phi.phiai._stats_nb.dev_row_stats_nb`: the numbers of ``row_drawdowns_nb``,
    :func:`~phi.phiai.stats.sharpes_per_period` and :func:`~phi.phiai.stats.block_sums`)."""
    returns = np.ascontiguousarray(returns, dtype=np.float64)
    m, t = returns.shape
    n_splits = pbo_splits(t)
    keep = t >= n_splits  # block_sums: None when a row is shorter than its blocks
    size = t // n_splits if keep else 0
    drawdown = np.empty(m)
    sharpe = np.full(m, math.nan)
    centre = np.empty(m)
    sums = np.empty((n_splits if keep else 0, m))
    squares = np.empty_like(sums)
    finite = dev_row_stats_nb(
        returns, n_splits if keep else 0, size, drawdown, sharpe, centre, sums, squares
    )
    for j in np.flatnonzero(~finite) if t >= 2 else ():
        sharpe[j] = sharpe_per_period(returns[j])
    blocks = BlockSums(n_splits, size, centre, sums, squares) if keep else None
    return drawdown.tolist(), sharpe.tolist(), blocks


def row_nanmeans(matrix: np.ndarray) -> np.ndarray:
    """:func:`nanmean` of every row of a 2-D matrix (rows without a non-finite value as one
    ``mean(axis=1)``, which sums each contiguous row as a 1-D mean does; tested equal)."""
    m = np.ascontiguousarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] == 0:
        return np.full(len(m), math.nan)
    finite = np.isfinite(m).all(axis=1)
    out = np.empty(len(m))
    out[finite] = m[finite].mean(axis=1)
    for j in np.flatnonzero(~finite):
        out[j] = nanmean(m[j])
    return out


def nanmean(values: Sequence[float]) -> float:
    """Mean of the finite values (nan if none)."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if len(arr) else math.nan
