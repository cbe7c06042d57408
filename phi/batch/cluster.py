"""A Dask ``LocalCluster`` whose worker processes start cleanly from any host process.

Dask starts local workers with multiprocessing's *spawn*, and spawn re-runs the parent's
``__main__`` file in every child. From the ``phi`` command that is harmless, but inside the
workbench (Streamlit) ``__main__`` is the page script, which would be re-run in each worker, and
after Streamlit's ``AppTest`` it is a generated script that fails outright (``NameError:
name '__args' is not defined``: "Nanny failed to start"). While the cluster lives, the host's
``__main__`` is replaced by an empty module, so children start from nothing but ``phi``.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any

__all__ = ["LOCAL_CONFIG", "local_cluster", "plain_main"]


@contextlib.contextmanager
def plain_main() -> Iterator[None]:
    """Swap ``sys.modules['__main__']`` for an empty module (no file to re-run) and restore it."""
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


#: Dask settings of a local cluster (its scheduler, nannies and workers). On a 2-core machine
#: every CPU millisecond the cluster's own housekeeping takes is taken from the tasks; idle, the
#: defaults cost ~60 ms of CPU per second in the submitting process (scheduler and nannies) and
#: ~20 ms per second in each worker, mostly wake-ups:
#:
#: * ``tick.interval`` 20 ms -> 500 ms: the event-loop health check (it only feeds the
#:   "event loop unresponsive" warnings, which a local cluster silences), 50 wake-ups a second
#:   in every server;
#: * ``system-monitor`` every 500 ms -> 2 s and no disk counters: the samples behind the
#:   dashboard's system plots (psutil reads of /proc);
#: * the workers' statistical profiler off: it samples every thread's stack each 10 ms under
#:   the GIL (the dashboard's Profile page is then empty; everything else stays);
#: * the nannies' memory check every 500 ms, not 100 ms (a worker over its memory limit is
#:   still restarted);
#: * no work stealing: a batch's tasks are even chunks, handed out from the scheduler's queue
#:   as workers free up, so there is nothing to balance.
LOCAL_CONFIG: dict[str, Any] = {
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "500ms",
    "distributed.scheduler.work-stealing": False,
}


@contextlib.contextmanager
def local_cluster(n_workers: int, **kwargs: Any) -> Iterator[Any]:
    """``LocalCluster`` on loopback with single-threaded worker processes, started (and any
    worker restarted) with a plain ``__main__`` and :data:`LOCAL_CONFIG`; ``kwargs`` go to
    ``LocalCluster``."""
    import dask
    from distributed import LocalCluster

    options: dict[str, Any] = {"threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
                               "dashboard_address": "127.0.0.1:0", "silence_logs": 50}  # fmt: skip
    options.update(kwargs)
    with plain_main(), dask.config.set(LOCAL_CONFIG), LocalCluster(n_workers=n_workers, **options) as cluster:
        yield cluster
