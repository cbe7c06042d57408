"""Watching a batch's tasks on a cluster that can fail under it.

Dask reschedules the task of a worker that dies, but two failures it cannot recover from would
otherwise cost the user: the scheduler going away (every pending task then fails alone, as a
``FutureCancelledError`` line per config, after Dask's own traceback in the log) and the last
worker going away (the tasks wait for a worker forever). :func:`collect` turns each into one
:class:`~phi.errors.RunError` line that says what is kept and how to finish; :func:`check_workers`
refuses, before anything runs, workers that cannot import phi or run another version of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from phi.errors import ConfigError, RunError

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["POLL_S", "check_workers", "collect"]

#: Seconds between looks at the cluster while no task finishes.
POLL_S = 1.0
_RERUN = "every run saved so far is complete and kept; run the same batch again to run the rest (saved configs are skipped)"


def check_workers(client: Client, address: str) -> None:
    """:class:`ConfigError` naming a worker that cannot import phi or runs another version."""
    import phi

    def probe() -> str:  # a local function: pickled by value, so a worker without phi can run it
        try:
            import phi
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return f"cannot import phi ({type(exc).__name__}: {exc})"
        return str(getattr(phi, "__version__", "unknown"))

    got: dict[str, Any] = client.run(probe, on_error="return")
    for worker, version in sorted(got.items()):
        if isinstance(version, BaseException):
            version = f"cannot run phi's check ({type(version).__name__}: {version})"
        if version != phi.__version__:
            why = version if version.startswith("cannot") else f"runs phi {version}, this process phi {phi.__version__}"
            raise ConfigError(f"the Dask worker {worker} of {address} {why}: install the same Phi-nance on every worker")


def _workers(client: Client) -> int:
    return len(client.scheduler_info().get("workers", {}))


def collect(
    client: Client,
    futures: Iterable[Future],
    address: str,
    left: Callable[[], int],
    done: Callable[[Future], None],
    worker_wait: float,
) -> None:
    """``done(future)`` for each task as it finishes (``done`` reads its result or error);
    :class:`RunError` when the scheduler is lost or has had no worker for ``worker_wait`` s
    (``left()``: configs not finished yet, for the message)."""
    from concurrent.futures import CancelledError

    from distributed import wait

    pending = set(futures)
    idle_since: float | None = None
    while pending:
        try:
            finished, pending = wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
        except CancelledError:  # Dask cancels every task when it loses the scheduler
            raise _cancelled(client, address, left()) from None
        except TimeoutError:
            if client.status != "running":  # reconnecting: Dask cancels the tasks if it fails
                continue
            if _workers(client) > 0:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= worker_wait:
                client.cancel(list(pending))
                raise RunError(
                    f"the Dask scheduler at {address} has had no workers for {worker_wait:g} s with "
                    f"{left()} config(s) left (start some: dask worker {address} --nthreads 1); {_RERUN}"
                ) from None
            continue
        for fut in finished:
            if fut.status == "cancelled":
                raise _cancelled(client, address, left())
            if fut.status not in ("finished", "error"):  # lost with its worker meanwhile: wait again
                pending.add(fut)
                continue
            done(fut)


def _cancelled(client: Client, address: str, left: int) -> RunError:
    what = f"lost the Dask scheduler at {address}" if client.status != "running" else f"the tasks were cancelled on {address}"
    return RunError(f"{what} with {left} config(s) left; {_RERUN}")
