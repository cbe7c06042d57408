"""``run_batch``: many :class:`~phi.backtest.run_config.RunConfig` on a Dask cluster.

Each task is a chunk of configs side by side in the order of their bars (:mod:`phi.batch.task`;
large chunks first, smaller ones towards the end so the workers finish together): the bars
loaded once per chunk, :func:`phi.run` on each config, the runs saved to the run history
together (each atomically: a killed worker leaves no half-written run, and the disk syncs are
paid once per chunk) and indexed in one transaction. The scheduler is

* ``None``: a ``distributed.LocalCluster`` on loopback (one single-threaded worker process per
  core, or ``n_workers``), started and stopped by the batch;
* ``"inline"``: no Dask at all, every config run in this process, one after another;
* an address (``tcp://host:8786``) or a ``distributed.Client``: an existing cluster.

A failing config is reported with its one-line error and does not stop the batch. Configs
whose config hash already has a saved run are skipped (``force=True`` runs them again); so is
a second copy of one config in the same batch. Each config is claimed in the run index before
it runs (:mod:`phi.batch.claims`): a config another batch is running now is waited for and
reported with that batch's saved run, so two batches at once run a shared config once. Results
do not depend on where they ran: one process, one worker or many give the same metrics and trades.

Workers on this machine (a local cluster, or a scheduler on a loopback address) get this
process's ``PHI_HOME`` and ``PHI_DB_URL`` with every task; workers elsewhere use their own
(point them at the shared ``PHI_HOME`` and the same database, see the README).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phi.backtest.run_config import RunConfig
from phi.batch.task import (
    OUTCOME_METRICS,
    SHIPPED_ENV,
    Status,
    TaskOutcome,
    chunk_configs,
    label,
    params,
    run_chunk,
)
from phi.errors import ConfigError, PhiError, RunError, shown

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client

    from phi.batch.claims import Claims

__all__ = ["BatchResult", "TaskOutcome", "run_batch"]


@dataclass
class BatchResult:
    """Every config's :class:`TaskOutcome`, in input order, and how the batch ran."""

    outcomes: list[TaskOutcome]
    seconds: float
    n_workers: int
    scheduler: str
    dashboard: str | None = None
    interrupted: bool = False
    #: Of ``seconds``, the time it took to start the local cluster and load phi in its workers
    #: (0 on an existing cluster).
    startup_seconds: float = 0.0

    def by_status(self, status: Status) -> list[TaskOutcome]:
        """Outcomes with ``status``."""
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> list[TaskOutcome]:
        """Configs run (and saved, unless ``save_error``)."""
        return self.by_status("ok")

    @property
    def failed(self) -> list[TaskOutcome]:
        """Configs that failed, each with its error."""
        return self.by_status("failed")

    @property
    def skipped(self) -> list[TaskOutcome]:
        """Configs not run: already in the run history, or repeated in this batch."""
        return [o for o in self.outcomes if o.status in ("skipped", "duplicate")]

    def table(self) -> pd.DataFrame:
        """One row per config: status, symbol, parameters, run id, headline metrics, error."""
        import pandas as pd

        rows = []
        for o in self.outcomes:
            rows.append({"index": o.index, "status": o.status, "symbol": o.symbol, "label": o.label,
                         **o.params, **o.metrics, "run_id": o.run_id, "error": o.error or o.save_error,
                         "seconds": o.seconds, "config_hash": o.config_hash})  # fmt: skip
        return pd.DataFrame(rows)


Progress = Callable[[int, int, TaskOutcome], None]


def _as_config(item: object, i: int) -> RunConfig | str:
    """A RunConfig from a config, a mapping or JSON text; else the one-line reason."""
    try:
        if isinstance(item, RunConfig):
            return item
        if isinstance(item, PhiError):  # a config a loader could not build
            return str(item)
        if isinstance(item, Mapping):
            return RunConfig.from_dict(item)
        if isinstance(item, str):
            return RunConfig.from_json(item)
    except PhiError as exc:
        return str(exc)
    return f"config {i} is a {type(item).__name__}, not a RunConfig"


def max_local_workers() -> int:
    """The most worker processes a local cluster may start: 2 per core, at least 8."""
    return max(8, 2 * (os.cpu_count() or 1))


#: seconds a batch waits for the first worker of a scheduler that has none
WORKER_WAIT = 15.0
#: seconds a finished task's result may take to arrive (its worker may have just gone: the chunk
#: is then reported failed and the batch goes on)
RESULT_WAIT = 60.0
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})/?$")


def check_scheduler_address(address: str) -> None:
    """ConfigError unless ``address`` reads as a Dask scheduler address (``tcp://host:port``)."""
    m = _ADDRESS.match(address.strip())
    if address.startswith("inproc://"):
        return
    if m is None or not 0 < int(m.group(2)) < 65536:
        raise ConfigError(
            f"Dask scheduler address {address!r} is not of the form tcp://host:port "
            "(e.g. tcp://10.0.0.5:8786, as `dask scheduler` prints it)"
        )


def _is_local(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return address.startswith("inproc://") or host in ("127.0.0.1", "localhost", "::1", "0.0.0.0")


def run_batch(
    configs: Iterable[RunConfig | Mapping[str, Any] | str | PhiError],
    scheduler: str | Client | None = None,
    n_workers: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    on_connect: Callable[[str, str | None], None] | None = None,
) -> BatchResult:
    """Run every config (on Dask by default), save each run, report each config's outcome.

    Parameters
    ----------
    configs : iterable
        :class:`RunConfig` objects (or their dicts / JSON text). An item that is not a valid
        config (or a :class:`~phi.errors.PhiError` from a loader) is reported as failed.
    scheduler : None, "inline", str or distributed.Client
        ``None``: a local cluster of ``n_workers`` single-threaded processes (default: one per
        core); ``"inline"``: this process, no Dask; an address such as ``tcp://host:8786``, or
        a connected client: that cluster.
    n_workers : int, optional
        Workers of the local cluster (ignored for an existing cluster).
    force : bool
        Run configs that already have a saved run (same config hash) again (neither claiming
        them nor waiting for another batch's claims).
    progress : callable, optional
        ``progress(done, total, outcome)`` after each config finishes.
    on_connect : callable, optional
        ``on_connect(address, dashboard_link)`` once the Dask client is connected, before the
        first task (a local cluster's dashboard only lives while the batch runs).

    Returns
    -------
    BatchResult
        Outcomes in input order. On Ctrl-C the tasks are cancelled, the cluster stopped and
        ``KeyboardInterrupt`` re-raised; every run saved so far is complete.

    Examples
    --------
    >>> from phi.backtest.run_config import DatasetSpec, RunConfig
    >>> cfgs = [RunConfig(DatasetSpec("DEMO", start="2022-01-01", end="2023-12-31"), [{"name": "rsi", "params": {"period": p}}]) for p in (7, 14, 21)]
    >>> res = run_batch(cfgs, n_workers=2)  # doctest: +SKIP
    >>> len(res.ok)  # doctest: +SKIP
    3
    """
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
        raise ConfigError(f"n_workers must be an integer >= 1, got {shown(n_workers)}")
    if isinstance(configs, str | bytes | Mapping) or not isinstance(configs, Iterable):
        raise ConfigError(f"configs must be a list of RunConfigs (or their dicts / JSON text), got {shown(configs)}")
    if scheduler is not None and not isinstance(scheduler, str) and not callable(getattr(scheduler, "submit", None)):
        raise ConfigError(
            f"scheduler must be None, 'inline', an address such as tcp://host:8786 or a distributed.Client, "
            f"got {type(scheduler).__name__}"
        )
    if not isinstance(force, bool):
        raise ConfigError(f"force must be True or False, got {shown(force)}")
    for name, fn in (("progress", progress), ("on_connect", on_connect)):
        if fn is not None and not callable(fn):
            raise ConfigError(f"{name} must be a callable or None, got {type(fn).__name__}")
    if n_workers is not None and scheduler is None and n_workers > max_local_workers():
        raise ConfigError(
            f"n_workers {n_workers} is more than {max_local_workers()} local worker processes "
            f"({os.cpu_count() or 1} core(s); each worker loads phi): use fewer, or a cluster's scheduler"
        )
    if isinstance(scheduler, str) and scheduler != "inline":
        check_scheduler_address(scheduler)
    t0 = time.perf_counter()
    items = list(configs)
    outcomes: list[TaskOutcome | None] = [None] * len(items)
    todo: list[tuple[int, RunConfig]] = []
    first: dict[str, int] = {}
    parsed = [_as_config(item, i) for i, item in enumerate(items)]
    hash_of = [c.config_hash() if isinstance(c, RunConfig) else "" for c in parsed]  # once each
    hashes = {h for h in hash_of if h}
    done_before: dict[str, dict[str, Any]] = {}
    claims: Claims | None = None
    theirs: set[str] = set()  # claimed by another batch running now
    if not force and hashes:
        from phi.backtest.run_index import indexed_config_hashes, latest_runs
        from phi.batch.claims import Claims

        try:  # claimed first, then looked up: a run saved before its claim was released is seen
            claims = Claims()
            mine = claims.claim(hashes)
        except RunError:  # no database to claim in: run unclaimed (the runs are saved, or say why not)
            if claims is not None:
                claims.close()
            claims, mine = None, set(hashes)
        try:
            done_before = latest_runs(indexed_config_hashes(hashes), OUTCOME_METRICS)
        except BaseException:
            if claims is not None:
                claims.close()
            raise
        if claims is not None:
            claims.release(mine & done_before.keys())
        theirs = hashes - mine - done_before.keys()
    waiting: dict[str, tuple[int, RunConfig]] = {}
    for i, cfg in enumerate(parsed):
        if isinstance(cfg, str):
            outcomes[i] = TaskOutcome(i, "failed", f"config {i}", error=cfg)
            continue
        h = hash_of[i]
        if h in first:
            base = _outcome(i, cfg, h)
            base.status, base.error = "duplicate", f"same config as #{first[h]}"
            outcomes[i] = base
        elif h in done_before:  # saved before: its run and metrics, as recorded
            outcomes[i] = _from_saved(_outcome(i, cfg, h), done_before[h])
        else:
            first[h] = i
            if h in theirs:
                waiting[h] = (i, cfg)
            else:
                todo.append((i, cfg))
    total = len(items)
    done = sum(o is not None for o in outcomes)
    if progress is not None:
        for o in outcomes:
            if o is not None:
                progress(done, total, o)

    def finish(i: int, o: TaskOutcome) -> None:
        nonlocal done
        o.index = i
        outcomes[i] = o
        done += 1
        if progress is not None:
            progress(done, total, o)

    def release(ran: Iterable[tuple[int, RunConfig]]) -> None:  # saved and indexed, or failed
        if claims is not None:
            claims.release(hash_of[i] for i, _ in ran)

    ran: BatchResult | None = None
    with claims if claims is not None else contextlib.nullcontext():
        while True:
            if todo:
                if scheduler == "inline":
                    for chunk in chunk_configs(todo, 1):
                        for (i, _), o in zip(chunk, run_chunk([c.to_json() for _, c in chunk], None, not force), strict=True):
                            finish(i, o)
                        release(chunk)
                    got = BatchResult([], 0.0, 1, "inline")
                else:
                    got = _on_dask(todo, scheduler, n_workers, force, finish, outcomes, t0, on_connect, release)
                if ran is not None:
                    got.startup_seconds += ran.startup_seconds
                ran = got
            if claims is None or not waiting:
                break
            todo = _wait_for_others(claims, waiting, finish)
    seconds = time.perf_counter() - t0
    final = [o for o in outcomes if o is not None]
    if ran is None:
        return BatchResult(final, seconds, 0, "inline")
    return BatchResult(final, seconds, ran.n_workers, ran.scheduler, ran.dashboard, startup_seconds=ran.startup_seconds)


def _outcome(i: int, cfg: RunConfig, h: str) -> TaskOutcome:
    return TaskOutcome(i, "ok", label(cfg), h, cfg.dataset.symbol, params(cfg))


def _from_saved(o: TaskOutcome, prev: Mapping[str, Any]) -> TaskOutcome:
    """``o`` as skipped: its saved run ``prev`` (run id and metrics, as indexed)."""
    o.status, o.run_id = "skipped", prev["run_id"]
    o.metrics = {m: (math.nan if prev.get(m) is None else float(prev[m])) for m in OUTCOME_METRICS}
    return o


def _wait_for_others(
    claims: Claims, waiting: dict[str, tuple[int, RunConfig]], finish: Callable[[int, TaskOutcome], None]
) -> list[tuple[int, RunConfig]]:
    """Wait until some of the configs ``waiting`` for another batch are released (or their claim
    goes stale: :mod:`phi.batch.claims`); each one now saved is reported with that run, the rest
    (failed there, or never finished) are claimed and returned to be run here."""
    from phi.backtest.run_index import indexed_config_hashes, latest_runs

    while waiting:
        try:
            got = claims.claim(waiting)
        except RunError:  # the database failed meanwhile: the rest run here, unclaimed (as without claims)
            todo = sorted(waiting.values(), key=lambda item: item[0])
            waiting.clear()
            return todo
        if not got:
            claims.wait()
            continue
        runs = latest_runs(indexed_config_hashes(got), OUTCOME_METRICS)
        claims.release(got & runs.keys())
        todo = []
        for h in sorted(got, key=lambda h: waiting[h][0]):
            i, cfg = waiting.pop(h)
            if h in runs:
                finish(i, _from_saved(_outcome(i, cfg, h), runs[h]))
            else:
                todo.append((i, cfg))
        if todo:
            return todo
    return []


def _load_phi() -> None:
    """Import the pipeline (and with it the engine's compiled kernels) in a worker."""
    import phi.pipeline  # noqa: F401


def _on_dask(
    todo: Sequence[tuple[int, RunConfig]],
    scheduler: str | Client | None,
    n_workers: int | None,
    force: bool,
    finish: Callable[[int, TaskOutcome], None],
    outcomes: list[TaskOutcome | None],
    t0: float,
    on_connect: Callable[[str, str | None], None] | None = None,
    release: Callable[[Iterable[tuple[int, RunConfig]]], None] | None = None,
) -> BatchResult:
    from distributed import Client
    from distributed.utils import silence_logging_cmgr

    from phi.batch.cluster import local_cluster
    from phi.batch.watch import check_workers, collect

    stack = contextlib.ExitStack()
    with stack:
        startup = 0.0
        if scheduler is None:
            workers = n_workers or os.cpu_count() or 1
            started = time.perf_counter()
            cluster = stack.enter_context(local_cluster(workers))
            client = stack.enter_context(Client(cluster))
            client.run(_load_phi)  # every worker loads phi now, not inside its first task
            startup = time.perf_counter() - started
            local = True
        elif isinstance(scheduler, str):
            stack.enter_context(silence_logging_cmgr(logging.CRITICAL))  # a lost scheduler is one RunError, no log
            why = ""
            try:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            except Exception as exc:  # noqa: BLE001 - refused, timed out, or not a Dask scheduler at all
                why = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
                if not isinstance(exc, OSError | TimeoutError):  # it answered, but not as Dask does
                    why = f"it does not answer like a Dask scheduler ({type(exc).__name__})"
            if why:
                # The half-made Client (kept until now by the error's traceback) is closed here.
                # Left to the garbage collector, its close could run while another Client or
                # cluster is starting, and both wait on distributed's one LoopRunner lock: a hang.
                gc.collect()
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {why}")
            local = _is_local(scheduler)
        else:
            client = scheduler
        address = str(client.scheduler_info().get("address") or scheduler)
        if not isinstance(scheduler, str) and scheduler is not None:
            local = _is_local(address)
        n = len(client.scheduler_info().get("workers", {}))
        if n == 0:  # tasks would wait forever: give workers a moment to join, then say so
            try:
                client.wait_for_workers(1, timeout=WORKER_WAIT)
            except (TimeoutError, OSError):
                raise ConfigError(
                    f"the Dask scheduler at {address} has no workers (waited {WORKER_WAIT:g} s); "
                    f"start one: dask worker {address} --nthreads 1"
                ) from None
            n = len(client.scheduler_info().get("workers", {}))
        if scheduler is not None:  # workers started elsewhere: each must run this phi
            check_workers(client, address)
        dashboard = getattr(client, "dashboard_link", None)
        if on_connect is not None:
            on_connect(address, dashboard)
        env = {k: os.environ.get(k, "") for k in SHIPPED_ENV} if local else None
        if env is not None and not env["PHI_HOME"]:
            env["PHI_HOME"] = os.getcwd()  # the default roots are relative to this process
        token = uuid.uuid4().hex[:8]
        chunks = chunk_configs(todo, max(1, n))
        # one graph for every chunk (one map: ~1 ms; a submit each: ~2-3 ms apiece before the
        # first task starts); independent tasks of one graph run in key order: the largest first
        keys = [f"phi-chunk-{token}-{j:05d}" for j in range(len(chunks))]
        payloads = [[c.to_json() for _, c in chunk] for chunk in chunks]
        futures = client.map(run_chunk, payloads, [env] * len(chunks), [not force] * len(chunks), key=keys, pure=False)
        index = {fut.key: chunk for fut, chunk in zip(futures, chunks, strict=True)}

        def done(fut: Any) -> None:
            chunk = index[fut.key]
            try:
                # bounded: a result held by a worker that has just gone would be waited for forever
                got = fut.result(timeout=RESULT_WAIT)
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: reported, batch goes on
                why = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'the task was lost'}"
                got = [TaskOutcome(i, "failed", label(c), c.config_hash(), c.dataset.symbol, params(c), error=why) for i, c in chunk]
            for (i, _), o in zip(chunk, got, strict=True):
                finish(i, o)
            if release is not None:
                release(chunk)

        try:
            collect(client, futures, address, lambda: sum(o is None for o in outcomes), done, WORKER_WAIT)
        except KeyboardInterrupt:
            client.cancel(futures)
            raise
    return BatchResult([o for o in outcomes if o is not None], time.perf_counter() - t0, n, address, dashboard, startup_seconds=startup)
