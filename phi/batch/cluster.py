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

__all__ = ["local_cluster", "plain_main"]


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


@contextlib.contextmanager
def local_cluster(n_workers: int, **kwargs: Any) -> Iterator[Any]:
    """``LocalCluster`` on loopback with single-threaded worker processes, started (and any
    worker restarted) with a plain ``__main__``; ``kwargs`` go to ``LocalCluster``.

    The workers' statistical profiler is off: it samples every thread's stack each 10 ms under
    the GIL, which on a busy machine takes CPU from the tasks (the dashboard's Profile page is
    then empty; everything else stays)."""
    import dask
    from distributed import LocalCluster

    options: dict[str, Any] = {"threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
                               "dashboard_address": "127.0.0.1:0", "silence_logs": 50}  # fmt: skip
    options.update(kwargs)
    with plain_main(), dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=n_workers, **options) as cluster:  # fmt: skip
        yield cluster
