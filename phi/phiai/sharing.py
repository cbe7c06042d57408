"""Score a batch on two threads: a helper thread and the caller, sharing its chunks.

>>> with SharedScoring(evaluator, "dual_sma") as scoring:  # doctest: +SKIP
...     job = scoring.start(param_sets)  # the helper thread starts on the first chunk
...     ...  # the caller does other work (proposes the next batch)
...     scores = scoring.finish(job)  # the caller scores the chunks left, then waits

The numba kernels of a batch's signals and simulations release the GIL, so the two threads
score at once (a batch is cut in chunks only where its signals are one kernel call,
:data:`ONE_KERNEL`); each runs numba's parallel kernels on one thread. Every candidate is simulated
alone (its numbers never depend on the batch it comes with), so the scores are the same
whichever thread takes which chunk, and the same as one :meth:`Evaluator.score` call.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from phi.indicators.batch import has_batch
from phi.phiai.evaluate import Evaluator, TrialScores

__all__ = ["CHUNK", "ONE_KERNEL", "SharedScoring", "numba_threads", "one_numba_thread"]

#: Indicators whose batches are scored on two threads (their batch signals one kernel call for
#: all sets, run without the GIL: dual_sma and ema_crossover qualify). Empty: on the 2-vCPU
#: machine of benchmarks/RESULTS.md two threads scoring at once took ~1.4x the CPU time, and
#: the dual_sma TPE study ran slower on two threads than on one (39 vs 31 ms, same session).
ONE_KERNEL: frozenset[str] = frozenset()
#: Candidates per chunk: the plain simulation kernel runs 16 candidates in lock-step, so a
#: chunk of 16 costs little more per candidate than a whole batch (and one of 8 as much as 16).
CHUNK = 16


@contextlib.contextmanager
def numba_threads(n: int) -> Iterator[None]:
    """Numba's parallel kernels launched from this thread use at most ``n`` threads inside."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, before)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def one_numba_thread() -> None:
    """Numba's parallel kernels launched from this thread run on it alone (a thread pool's
    initializer: the setting is per thread)."""
    import numba

    numba.set_num_threads(1)  # per thread: the helper's parallel kernels stay on it


@dataclass
class _Job:
    chunks: list[list[Mapping[str, Any]]]
    out: list[list[TrialScores] | None]
    order: Iterator[int] = field(default_factory=itertools.count)
    helper: Future[None] | None = None
    filled: threading.Event = field(default_factory=threading.Event)


class SharedScoring:
    """Scores batches of one indicator with a helper thread and the calling thread.

    Parameters
    ----------
    evaluator : Evaluator
    name : str
        The indicator (its inputs and the segment sweep are prepared once, before any thread).
    chunk : int, optional
        Candidates per chunk (default :data:`CHUNK`); see :meth:`start`.
    """

    def __init__(self, evaluator: Evaluator, name: str, chunk: int | None = None) -> None:
        self.evaluator = evaluator
        self.name = name
        self.chunk = max(1, CHUNK if chunk is None else chunk)
        # Only where a batch's signals are one kernel call (the crossovers) are its chunks
        # scored on two threads at once: the other batch implementations loop over the sets in
        # Python (the threads would take turns on the GIL; measured: more CPU, no gain) and an
        # indicator without one calls compute_signal per set. Their batches are scored by the
        # caller alone, as before, in finish.
        self.split = name in ONE_KERNEL and has_batch(name)
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> SharedScoring:
        self.evaluator.prepare(self.name)
        if self.split:  # else every batch is scored by the caller in finish
            self._pool = ThreadPoolExecutor(1, initializer=one_numba_thread)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _split(self, params: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
        """Chunks in order, each a whole number of ``chunk`` candidates (the simulation
        kernel's lock-step width: a smaller chunk costs as much as a full one), the rest in the
        last: 16 -> 16, 32 -> 16 + 16, 40 -> 16 + 24; one chunk if the batch is not split."""
        items = list(params)
        if not self.split or len(items) < 2 * self.chunk:
            return [items] if items else []
        n = len(items) // self.chunk
        cuts = [k * self.chunk for k in range(n)] + [len(items)]
        return [items[cuts[k] : cuts[k + 1]] for k in range(n)]

    def _drain(self, job: _Job) -> None:
        for i in job.order:  # itertools.count: each index handed out once, under the GIL
            if i >= len(job.chunks):
                return
            job.out[i] = self.evaluator.score(self.name, job.chunks[i])

    def _help(self, job: _Job, params: Sequence[Mapping[str, Any]]) -> None:
        """The helper's part: the batch's new moving averages first (the chunks then only read
        them), then chunks until none is left."""
        try:
            self.evaluator.fill(self.name, params)
        finally:
            job.filled.set()
        self._drain(job)

    def start(self, params: Sequence[Mapping[str, Any]]) -> _Job:
        """Begin scoring ``params`` on the helper thread."""
        chunks = self._split(params)
        job = _Job(chunks, [None] * len(chunks))
        if chunks and self._pool is not None:
            job.helper = self._pool.submit(self._help, job, params)
        else:
            job.filled.set()
        return job

    def finish(self, job: _Job) -> list[TrialScores]:
        """Score the chunks nobody has taken yet on this thread, wait for the helper, and
        return every candidate's scores in the order given to :meth:`start`."""
        try:
            job.filled.wait()
            # with a helper scoring, each thread's kernels on one thread; alone, numba's
            # threads share even a small batch's simulations (SegmentSweep: its segments in
            # groups)
            with numba_threads(1 if job.helper is not None else 1 << 16):
                self._drain(job)
        finally:
            if job.helper is not None:
                job.helper.result()  # re-raises the helper's error
        return [s for part in job.out if part is not None for s in part]
