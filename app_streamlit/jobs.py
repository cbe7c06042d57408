"""Backtest runs in a background thread, with progress and a cancel that really stops them.

:class:`RunJob` calls :func:`phi.pipeline.run` in a daemon thread and records the stage the
pipeline reports through its ``progress`` callback. :meth:`RunJob.cancel` stops the run two ways:

1. the progress callback raises :class:`RunCancelled` at the next stage boundary, so a cancelled
   run never reaches the ``save`` stage (nothing is written to the run history);
2. :class:`RunCancelled` is also raised asynchronously inside the worker thread
   (``PyThreadState_SetAsyncExc``), so a long Python-level stage (e.g. the walk-forward ``phiai``
   blend) stops within milliseconds instead of at its end. Compiled kernels (numba) finish
   their current call first: the exception is delivered when control returns to Python.
   Should it land inside a gc callback or a ``__del__``, CPython reports it as unraisable and
   drops it; the run then stops at its next progress call (way 1).

Once the ``save`` stage has begun the run can no longer be cancelled (a half-written run
directory is worse than a finished run). :class:`RunCancelled` derives from ``BaseException``
so that no ``except Exception`` inside a library swallows it.
"""

from __future__ import annotations

import ctypes
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Final

#: The pipeline's progress stages, as shown to the user (see ``phi.pipeline.STAGES``).
STAGE_LABELS: Final[dict[str, str]] = {
    "queued": "starting",
    "data": "load data",
    "indicators": "compute indicators",
    "blend": "blend signals",
    "engine": "simulate + metrics",
    "save": "save to run history",
    "done": "done",
}
_NO_ASYNC_STAGES: Final = ("save", "done")


class RunCancelled(BaseException):  # noqa: N818 - it is a control-flow signal, like KeyboardInterrupt
    """Raised inside a run's thread to stop it (never reaches the user as an error)."""


def _async_raise(thread: threading.Thread) -> bool:
    """Raise :class:`RunCancelled` inside ``thread`` at its next Python bytecode."""
    ident = thread.ident
    if ident is None or not thread.is_alive():
        return False
    n = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(RunCancelled))
    if n > 1:  # should never happen; undo to be safe
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)
        return False
    return n == 1


class RunJob:
    """One backtest run of ``config`` in a background thread.

    Parameters
    ----------
    config : RunConfig
    save : bool
        Save the run to the run history (``phi.pipeline.run(save=...)``).
    runner : callable, optional
        ``runner(config, save=..., progress=...)``; defaults to :func:`phi.pipeline.run`.

    Attributes
    ----------
    stage, fraction : the last stage the pipeline reported and its fraction of the run.
    timings : ``[(stage, seconds since start)]``, one per stage reached.
    result : the ``RunResult`` when the run finished.
    error : the exception when it failed (a ``PhiError`` for bad input).
    cancelled : True when it was stopped by :meth:`cancel`.
    warnings : warning messages raised during the run.
    """

    def __init__(self, config: Any, *, save: bool = True, runner: Callable[..., Any] | None = None) -> None:
        self.config = config
        self.save = save
        self._runner = runner
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._committing = False
        self.stage = "queued"
        self.fraction = 0.0
        self.timings: list[tuple[str, float]] = []
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.warnings: list[str] = []
        self.started = 0.0
        self.elapsed = 0.0
        #: free-form data the caller keeps with the job (e.g. the bars shown with its result)
        self.context: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._main, name="phi-run", daemon=True)

    # ------------------------------------------------------------------ worker

    def _progress(self, stage: str, fraction: float) -> None:
        with self._lock:
            if self._cancel.is_set() and not self._committing:
                raise RunCancelled
            self.stage = stage
            self.fraction = float(fraction)
            self.timings.append((stage, time.perf_counter() - self.started))
            if stage in _NO_ASYNC_STAGES:
                self._committing = True

    def _main(self) -> None:
        try:
            self._body()
        except RunCancelled:  # an async cancel that landed after the body's own handlers
            self.cancelled = self.result is None and self.error is None
        finally:
            self.elapsed = time.perf_counter() - self.started

    def _body(self) -> None:
        try:
            runner = self._runner
            if runner is None:
                from phi.pipeline import run

                runner = run
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self.result = runner(self.config, save=self.save, progress=self._progress)
            self.warnings = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        except RunCancelled:
            self.cancelled = True
        except BaseException as exc:  # shown in the page by the caller
            self.error = exc
        finally:
            with self._lock:
                self._committing = True  # no async cancel may land after this point

    # ------------------------------------------------------------------ control

    def start(self) -> RunJob:
        """Start the worker thread; returns ``self``."""
        self.started = time.perf_counter()
        self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        """True once the worker thread has ended (finished, failed or cancelled)."""
        return self.started > 0 and not self._thread.is_alive()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    def cancel(self) -> bool:
        """Ask the run to stop; False when it is already saving or finished (too late)."""
        with self._lock:
            if self.finished or self._committing or self._cancel.is_set():
                return not self.finished and self._cancel.is_set()
            self._cancel.set()
            if self.stage not in _NO_ASYNC_STAGES:
                _async_raise(self._thread)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (or ``timeout`` seconds); True if it has ended."""
        self._thread.join(timeout)
        return self.finished
