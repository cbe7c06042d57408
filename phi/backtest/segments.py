"""Many signal columns on fixed bar segments, each segment simulated on its own from flat.

>>> sweep = SegmentSweep(ohlcv, [(0, 300), (299, 600)], EngineConfig(warmup_bars=1))  # doctest: +SKIP
>>> stats, equity = sweep.run(signals)  # doctest: +SKIP

``stats[j, s]`` is exactly what ``run_backtest_many(ohlcv.iloc[a:b], signals[a:b], config)``
reports for column ``j`` on segment ``s = (a, b)`` (columns :data:`SWEEP_METRICS`): the same
bars, calendar, day ends and annualisation (prepared once per segment, by the engine's own input
checks), the same kernel, but every (column, segment) pair in one kernel call. With
``equity_span`` one segment also returns every column's per-bar equity, as
``run_backtest_many(..., equity_out=...)`` does; with ``chain``, segments laid end to end return
their per-bar returns one after the other (a walk-forward's blocks as one series). For
walk-forward scoring: a tuner evaluating a batch of candidates on fixed folds builds one sweep
and calls :meth:`SegmentSweep.run` per batch.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numba
import numpy as np
import pandas as pd

from phi.backtest import _nb
from phi.backtest._inputs import _Bars
from phi.backtest.engine import PARALLEL_MIN_CELLS, SWEEP_METRICS, _coerce_config, _params
from phi.backtest.engine_config import EngineConfig
from phi.errors import EngineError

__all__ = ["SPLIT_MIN_CELLS", "SegmentSweep", "balanced_cuts"]

#: From this many (candidate x bar) cells a plain sweep with fewer blocks of candidates than
#: numba threads also runs its segments in groups in parallel (a tuner's batch of 16 on its
#: fold segments: ~0.6 ms of work against a few microseconds to start the threads).
SPLIT_MIN_CELLS = 32_768


class SegmentSweep:
    """Fixed segments of one bar frame, ready to simulate batches of signal columns.

    Parameters
    ----------
    ohlcv : DataFrame
        The bars, as for :func:`~phi.backtest.engine.run_backtest`. The bars from the first
        segment's start to the last one's stop are checked here (:class:`EngineError`).
    spans : sequence of (start, stop)
        Segment ``s`` is bars ``ohlcv.iloc[start:stop]``; segments may overlap.
    config : EngineConfig, optional
    equity_span : (start, stop), optional
        One of ``spans`` whose per-bar equity :meth:`run` also returns.
    chain : sequence of (start, stop), optional
        Some of ``spans`` laid end to end, each starting on the one before it's last bar (its
        lead bar): :meth:`run` with ``returns=True`` gives their per-bar returns one after the
        other, bars ``chain[0][0] + 1`` to ``chain[-1][1] - 1``, each segment's from its own
        simulation started flat (not with ``equity_span``).
    """

    def __init__(
        self,
        ohlcv: pd.DataFrame,
        spans: Sequence[tuple[int, int]],
        config: EngineConfig | Mapping[str, Any] | None = None,
        equity_span: tuple[int, int] | None = None,
        chain: Sequence[tuple[int, int]] | None = None,
    ) -> None:
        cfg = _coerce_config(config)
        self.spans = [(int(a), int(b)) for a, b in spans]
        if not self.spans:
            raise EngineError("SegmentSweep needs at least one segment")
        n = len(ohlcv)
        for a, b in self.spans:
            if not 0 <= a < b <= n:
                raise EngineError(f"segment ({a}, {b}) is not a non-empty slice of {n} bars")
        if equity_span is not None and (int(equity_span[0]), int(equity_span[1])) not in self.spans:
            raise EngineError(f"equity_span {equity_span} is not one of the segments")
        links = [(int(a), int(b)) for a, b in chain] if chain is not None else []
        if chain is not None and (equity_span is not None or not links):
            raise EngineError("chain needs at least one segment, and no equity_span beside it")
        for k, span in enumerate(links):
            if span not in self.spans:
                raise EngineError(f"chain segment {span} is not one of the segments")
            if k and span[0] != links[k - 1][1] - 1:
                raise EngineError(
                    f"chain segment {span} does not start on the last bar of {links[k - 1]}"
                )
        self._lo = min(a for a, _ in self.spans)
        self._hi = max(b for _, b in self.spans)
        if cfg.calendar == "auto":  # each slice's calendar detected from its own stamps
            parts = [_Bars(ohlcv.iloc[a:b], cfg) for a, b in self.spans]
            columns = [(p.open, p.high, p.low, p.close, p.day_end) for p in parts]
            periods = [p.periods for p in parts]
        else:
            # A fixed calendar: one pass over the bars from the first segment's start to the last
            # one's stop. A bar's trading day depends on its own stamp only, so a slice's day ends
            # are the whole's, plus its last bar (a run's last bar always closes its day).
            whole = _Bars(ohlcv.iloc[self._lo : self._hi], cfg)
            columns = []
            for a, b in self.spans:
                x, y = a - self._lo, b - self._lo
                day_end = whole.day_end[x:y].copy()
                day_end[-1] = True
                columns.append(
                    (whole.open[x:y], whole.high[x:y], whole.low[x:y], whole.close[x:y], day_end)
                )
            periods = [whole.periods] * len(self.spans)
        self.n_bars = n
        self.open, self.high, self.low, self.close = (
            np.ascontiguousarray(np.concatenate([c[i] for c in columns])) for i in range(4)
        )
        self.day_end = np.concatenate([c[4] for c in columns])
        self.offsets = np.cumsum([0] + [b - a for a, b in self.spans]).astype(np.int64)
        self.starts = np.array([a for a, _ in self.spans], dtype=np.int64)
        params = [_params(cfg, p) for p in periods]
        self.fp = np.ascontiguousarray(np.stack([fp for fp, _ in params]))
        self.ip = params[0][1]  # built from the config alone: the same for every segment
        self.eq_seg = (
            -1
            if equity_span is None
            else self.spans.index((int(equity_span[0]), int(equity_span[1])))
        )
        #: The chain's segments (positions in ``spans``) and where each one's returns start
        self.chain = np.array([self.spans.index(span) for span in links], dtype=np.int64)
        self._chain_set = set(self.chain.tolist())
        self._chain_cols = np.cumsum([0] + [b - a - 1 for a, b in links]).astype(np.int64)
        self.index = ohlcv.index
        self.plain = _plain(cfg)
        self._cuts: dict[tuple[bytes, int], np.ndarray] = {}
        self._selections: dict[tuple[int, ...] | None, tuple[np.ndarray, int, int, list[int]]] = {}

    def run(
        self,
        signals: np.ndarray,
        segments: Sequence[int] | None = None,
        checked: bool = False,
        returns: bool = False,
        returns_out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Simulate every column of ``signals`` on every segment (or on ``segments`` only).

        Parameters
        ----------
        signals : ndarray of shape (n_bars, m)
            One candidate per column, on all bars of the frame (values in [-1, 1], NaN allowed
            on the segments' bars), or on its first bars up to the last selected segment's
            stop (or more): later bars are not read. ``arr_mn.T`` of a C-contiguous
            ``(m, n_bars)`` array is used without a copy.
        segments : sequence of int, optional
            Positions in ``spans`` to simulate, in this order (default: all).
        checked : bool
            The caller vouches that every value is in [-1, 1] or NaN (signals from the
            indicator registry, which checks them): the range check is skipped.
        returns : bool
            Return the ``equity_span`` segment's per-bar returns ``equity[:, 1:] /
            equity[:, :-1] - 1`` (shape ``(m, stop - start - 1)``) instead of its equity; with a
            ``chain`` whose segments are all simulated, the chain's returns (shape ``(m,
            chain[-1][1] - chain[0][0] - 1)``).
        returns_out : ndarray, optional
            With ``returns``: a C-contiguous float64 array of that shape to write them into
            (a caller keeping many batches' returns in one large array).

        Returns
        -------
        stats : ndarray of shape (m, n_segments, len(SWEEP_METRICS))
            ``n_segments`` in the order of ``segments``.
        equity : ndarray of shape (m, stop - start) for ``equity_span`` if simulated, or None
            (its returns, or the chain's, with ``returns=True``)
        """
        arr = np.asarray(signals, dtype=np.float64)
        which, lo, hi, lengths = self._selection(segments)
        if arr.ndim != 2 or not hi <= arr.shape[0] <= self.n_bars or arr.shape[1] == 0:
            raise EngineError(
                f"signals must be an (n_bars={self.n_bars}, m >= 1) array (or its first "
                f"{hi} bars or more, which these segments read), got shape {arr.shape}"
            )
        sig = np.ascontiguousarray(arr.T)
        m = sig.shape[0]
        bad = -1 if checked else _nb.first_bad_window_nb(sig, lo, hi)
        if bad >= 0:
            col, bar = divmod(int(bad), sig.shape[1])
            raise EngineError(
                f"signal values must lie in [-1, 1] (NaN allowed), got {float(sig[col, bar])} "
                f"at {self.index[bar]} in column {col}; clip or rescale it"
            )
        st = np.empty((m, len(which), _nb.N_ST))
        k = len(self.spans)
        eq_cols = np.full(k, -1, dtype=np.int64)
        ret_cols = np.full(k, -1, dtype=np.int64)
        none = np.empty((m, 0))
        equity: np.ndarray | None = None
        rets: np.ndarray | None = None
        # the segments whose returns are asked for, and where in a row each one's start
        if len(self.chain):
            ret_segs = (
                self.chain if returns and self._chain_set <= set(which.tolist()) else self.chain[:0]
            )
            cols = self._chain_cols
        else:
            ret_segs = np.array([self.eq_seg] if self.eq_seg in which else [], dtype=np.int64)
            cols = np.zeros(2, dtype=np.int64)
            if len(ret_segs):
                a, b = self.spans[self.eq_seg]
                cols[1] = b - a - 1
        width = int(cols[len(ret_segs)])
        if (
            returns_out is not None
            and len(ret_segs)
            and (
                not returns
                or returns_out.shape != (m, width)
                or returns_out.dtype != np.float64
                or not returns_out.flags.c_contiguous
            )
        ):
            raise EngineError(
                f"returns_out must be a C-contiguous float64 array of shape {(m, width)} "
                f"(with returns=True), got {returns_out.dtype} {returns_out.shape}"
            )
        if len(ret_segs) and returns and self.plain:  # written by the kernel (no equity matrix)
            rets = np.empty((m, width)) if returns_out is None else returns_out
            ret_cols[ret_segs] = cols[: len(ret_segs)]
        elif len(ret_segs):  # each segment's equity (its lead bar first), one after the other
            equity = np.empty((m, width + len(ret_segs)))
            eq_cols[ret_segs] = cols[: len(ret_segs)] + np.arange(len(ret_segs))
        cells = m * int(sum(lengths))
        parallel = cells >= PARALLEL_MIN_CELLS
        eq_arr = equity if equity is not None else none
        ret_arr = rets if rets is not None else none
        if self.plain:  # the same numbers from the kernels without stops (tested bit-equal)
            threads = numba.get_num_threads()
            blocks = -(-m // _nb.LANES)
            if threads > 1 and cells >= SPLIT_MIN_CELLS:
                # blocks of candidates that do not share out evenly over the threads (1 on 2
                # threads, 3 on 2): the segments in groups too, so every thread gets as much
                n_groups = 1 if blocks % threads == 0 or blocks >= 4 * threads else threads
                key = (which.tobytes(), n_groups)
                if key not in self._cuts:  # the same segments batch after batch
                    self._cuts[key] = balanced_cuts(lengths, n_groups)
                _nb.simulate_segments_plain_split_nb(
                    self.open, self.close, self.day_end, self.offsets, self.starts, which,
                    self._cuts[key], sig, self.fp, self.ip, eq_cols, eq_arr, ret_cols, ret_arr,
                    st,
                )  # fmt: skip
            else:
                _nb.simulate_segments_plain_nb(
                    self.open, self.close, self.day_end, self.offsets, self.starts, which, sig,
                    self.fp, self.ip, eq_cols, eq_arr, ret_cols, ret_arr, st,
                )  # fmt: skip
        else:
            simulate = _nb.simulate_segments_many_nb if parallel else _nb.simulate_segments_nb
            simulate(
                self.open, self.high, self.low, self.close, self.day_end, self.offsets,
                self.starts, which, sig, self.fp, self.ip, eq_cols, eq_arr, st,
            )  # fmt: skip
        if returns and equity is not None:
            rets = np.empty((m, width)) if returns_out is None else returns_out
            for i in range(len(ret_segs)):  # each segment's equity ratios, minus one
                e0, r0, r1 = int(cols[i]) + i, int(cols[i]), int(cols[i + 1])
                np.divide(equity[:, e0 + 1 : e0 + 1 + r1 - r0], equity[:, e0 : e0 + r1 - r0],
                          out=rets[:, r0:r1])  # fmt: skip
            rets -= 1.0
        if returns:
            return st, rets
        return st, (equity if self.eq_seg in which else None)

    def _selection(self, segments: Sequence[int] | None) -> tuple[np.ndarray, int, int, list[int]]:
        """``segments`` checked (:class:`EngineError`) as positions of the spans, their bars'
        first start and last stop, and their lengths; remembered per selection (a tuner asks
        for the same segments batch after batch)."""
        if segments is None:
            key = None
        else:
            try:
                if isinstance(segments, np.ndarray) and segments.ndim != 1:
                    raise TypeError
                key = tuple(operator.index(s) for s in segments if not isinstance(s, bool))
                if len(key) != len(segments):
                    raise TypeError
            except TypeError:
                key = ()  # rejected below
        if key in self._selections:
            return self._selections[key]
        k = len(self.spans)
        which = np.arange(k, dtype=np.int64) if key is None else np.array(key, dtype=np.int64)
        if len(which) == 0 or (which < 0).any() or (which >= k).any():
            raise EngineError(
                f"segments must be positions 0..{k - 1} of the spans, got {segments!r}"
            )
        out = (
            which,
            min(self.spans[s][0] for s in which),
            max(self.spans[s][1] for s in which),
            (self.offsets[which + 1] - self.offsets[which]).tolist(),
        )
        self._selections[key] = out
        return out

    @staticmethod
    def metric(stats: np.ndarray, name: str) -> np.ndarray:
        """The ``(m, n_segments)`` values of one of :data:`SWEEP_METRICS` from :meth:`run`'s stats."""
        return stats[:, :, SWEEP_METRICS.index(name)]


def _plain(config: EngineConfig) -> bool:
    """Whether ``config`` trades only on signal crosses at the next open (no stop loss, take
    profit, trailing stop or time exit): the case of the lighter kernels
    (:func:`~phi.backtest._nb.simulate_segments_plain_nb`), whatever the costs, sizing and sides."""
    return (
        config.fill == "next_open"
        and config.stop_loss_pct is None
        and config.take_profit_pct is None
        and config.trailing_stop_pct is None
        and not config.time_exit_bars
    )


def balanced_cuts(lengths: Sequence[int], n_groups: int) -> np.ndarray:
    """Cut positions ``[0, ..., len(lengths)]`` splitting ``lengths`` into at most ``n_groups``
    contiguous non-empty groups whose largest sum is the smallest possible (ties: the earliest
    cuts)."""
    n = len(lengths)
    g = max(1, min(int(n_groups), n))
    prefix = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).tolist()
    # cost[k][i]: the smallest largest sum of the first i lengths in k groups; back[k][i]: its cut
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(g + 1)]
    back = [[0] * (n + 1) for _ in range(g + 1)]
    cost[0][0] = 0
    for k in range(1, g + 1):
        for i in range(k, n + 1):
            for j in range(k - 1, i):
                c = max(cost[k - 1][j], prefix[i] - prefix[j])
                if c < cost[k][i]:
                    cost[k][i], back[k][i] = c, j
    cuts = [n]
    for k in range(g, 0, -1):
        cuts.append(back[k][cuts[-1]])
    return np.array(cuts[::-1], dtype=np.int64)
