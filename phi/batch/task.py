"""The body of a batch task: a chunk of configs that share their bars, run and saved together.

Configs of one dataset (same vendor, symbol, timeframe, range and file) sit side by side in the
batch's tasks (:func:`chunk_configs`), so a worker loads the bars once per task for all of them. Each config is then
:func:`phi.run` exactly as a single run (so its metrics and trades are identical to one), and
the chunk's runs are saved together (:func:`phi.backtest.run_history.save_runs`): every run
folder still written atomically, but the disk syncs and the index transaction paid once per
chunk instead of once per run, which is most of a small run's cost. A config that fails is
reported alone; the rest of its chunk runs and is saved.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from phi.backtest.run_config import RunConfig
from phi.errors import ConfigError, PhiError, shown

if TYPE_CHECKING:
    import pandas as pd

    from phi.data.store import Dataset
    from phi.pipeline import RunResult

__all__ = ["OUTCOME_METRICS", "TaskOutcome", "chunk_configs", "chunk_sizes", "run_chunk"]

Status = Literal["ok", "failed", "skipped", "duplicate"]
#: Metrics every outcome carries (the whole set stays in the saved run).
OUTCOME_METRICS: Final = ("total_return", "sharpe", "sortino", "max_drawdown", "cagr", "n_trades", "win_rate", "final_equity")
#: Environment a local task gets from the process that submitted it.
SHIPPED_ENV: Final = ("PHI_HOME", "PHI_DB_URL")
#: At most this many configs per task (a task's runs are saved together).
MAX_CHUNK: Final = 50
#: A task takes 1 / (SHARE * workers) of the configs not yet handed out (the first tasks are
#: large, later ones smaller and smaller, so that the workers finish together) ...
SHARE: Final = 2
#: ... but at least 1 / (TAIL * workers) of the batch (so the small tasks at the end are few).
TAIL: Final = 16

@dataclass
class TaskOutcome:
    """What became of one config of a batch.

    ``status``: ``"ok"`` (run and saved: ``run_id`` set, or ``save_error`` says why not),
    ``"failed"`` (``error``: one line), ``"skipped"`` (its config hash already has a saved
    run) or ``"duplicate"`` (the same config earlier in this batch). ``seconds``: the config's
    own time in its task (its run plus its share of the chunk's save).
    """

    index: int
    status: Status
    label: str
    config_hash: str | None = None
    symbol: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    trades_sha256: str | None = None  # trades_digest of its trade list
    error: str | None = None
    save_error: str | None = None
    seconds: float = 0.0
    worker: str | None = None


def label(config: RunConfig) -> str:
    """``SYMBOL name(k=v, ...), ...``: a config as one line of a table."""
    inds = ", ".join(
        f"{i.name}({', '.join(f'{k}={v}' for k, v in i.params.items())})" for i in config.enabled_indicators
    )
    return f"{config.dataset.symbol} {inds}"


def params(config: RunConfig) -> dict[str, Any]:
    """The indicator parameters of a config (``name.param`` keys when it has several)."""
    many = len(config.enabled_indicators) > 1
    return {(f"{i.name}.{k}" if many else k): v for i in config.enabled_indicators for k, v in i.params.items()}


def data_key(config: RunConfig) -> tuple[Any, ...]:
    """What decides a config's bars: configs with equal keys share one load."""
    ds = config.dataset
    return (ds.vendor, ds.symbol, ds.timeframe, ds.start, ds.end, ds.path)


def chunk_sizes(n: int, n_workers: int) -> list[int]:
    """Sizes of the tasks of ``n`` configs on ``n_workers`` (guided self-scheduling): each takes
    ``1 / (SHARE * n_workers)`` of the configs left, at least ``n / (TAIL * n_workers)`` and at
    most :data:`MAX_CHUNK`; non-increasing, summing to ``n``.

    Few tasks (each costs the scheduler and the client a few ms of CPU on a core the workers
    share) and a short tail: the tasks handed out last are small, so no worker waits long for
    the other's last task. 200 configs on 2 workers: 50, 38, 28, 21, 16, 12, 9, 7, 7, 7, 5.
    """
    w = max(1, n_workers)
    least = max(1, math.ceil(n / (TAIL * w)))
    sizes: list[int] = []
    left = n
    while left > 0:
        size = min(left, MAX_CHUNK, max(least, math.ceil(left / (SHARE * w))))
        sizes.append(size)
        left -= size
    return sizes


def chunk_configs(todo: Sequence[tuple[int, RunConfig]], n_workers: int) -> list[list[tuple[int, RunConfig]]]:
    """Tasks of a batch, largest first (:func:`chunk_sizes`): the configs ordered by their bars
    (a dataset's configs side by side, datasets in order of first appearance), then cut into
    consecutive chunks, so a chunk loads one dataset, or two where it straddles a boundary."""
    groups: dict[tuple[Any, ...], list[tuple[int, RunConfig]]] = {}
    for item in todo:
        groups.setdefault(data_key(item[1]), []).append(item)
    ordered = [item for group in groups.values() for item in group]
    chunks: list[list[tuple[int, RunConfig]]] = []
    start = 0
    for size in chunk_sizes(len(ordered), n_workers):
        chunks.append(ordered[start : start + size])
        start += size
    return chunks


def trades_digest(trades: pd.DataFrame) -> str:
    """SHA-256 of a trade list's column names and values (datetimes as their int64 stamps):
    equal trade lists, equal digests, in any process."""
    import numpy as np

    h = hashlib.sha256(repr(list(map(str, trades.columns))).encode("utf-8"))
    for _, column in trades.items():  # no frame lookups or copies: ~0.5 ms for ~200 trades
        values = np.asarray(column.array.asi8) if column.dtype.kind == "M" else column.to_numpy()  # naive or tz-aware
        h.update(str(values.dtype).encode("ascii"))
        if values.dtype == object:  # text: the values joined by a separator no value holds
            h.update("\x1f".join(map(str, values)).encode("utf-8"))
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def _set_env(env: Mapping[str, str] | None) -> None:
    if env is None:
        return
    for key in SHIPPED_ENV:
        if env.get(key):
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, PhiError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _saved_hashes(hashes: set[str]) -> set[str]:
    """Config hashes among ``hashes`` with a saved run: the index, then (for the rest) the run
    folders, which a task killed between publishing its runs and indexing them leaves unindexed."""
    import json

    from phi.paths import runs_root

    found: set[str] = set()
    with contextlib.suppress(Exception):  # no index to ask: the run folders tell
        from sqlalchemy import select

        from phi.backtest.run_index import RUNS, _engine

        with _engine().connect() as conn:
            found |= set(conn.execute(select(RUNS.c.config_hash).where(RUNS.c.config_hash.in_(sorted(hashes)))).scalars())
    rest = {h[:6]: h for h in hashes - found}
    if not rest:
        return found
    try:
        names = [n for n in os.listdir(runs_root()) if not n.startswith(".")]
    except OSError:
        return found
    for name in names:
        parts = name.split("-")
        if len(parts) >= 4 and parts[3] in rest:
            try:
                with open(runs_root() / name / "results.json", "rb") as fh:
                    saved = json.load(fh).get("config_hash")
            except (OSError, ValueError):
                continue
            if saved in hashes:
                found.add(saved)
    return found


def _load(config: RunConfig) -> Dataset | None:
    """The bars of a config, or ``None`` (each config then loads them itself and reports why not)."""
    from phi.data.store import get_dataset

    ds = config.dataset
    try:
        return get_dataset(ds.symbol, ds.start, ds.end, ds.timeframe, ds.vendor, path=ds.path)
    except Exception:  # noqa: BLE001 - reported per config by phi.run
        return None


def run_chunk(configs_json: Sequence[str], env: Mapping[str, str] | None = None, skip_done: bool = True) -> list[TaskOutcome]:
    """Run and save configs that share their bars (the body of a batch task; runs in a worker).

    ``env`` sets ``PHI_HOME``/``PHI_DB_URL`` for this task (workers are single-threaded). With
    ``skip_done``, configs whose hash has a saved run by now are not run again (a task re-run
    after its worker died mid-way). Never raises for a bad config: its outcome says why. The
    outcomes come back in input order, ``index`` = the position in ``configs_json``.
    """
    from phi.backtest.run_history import save_runs
    from phi.pipeline import extra_files, run

    if isinstance(configs_json, str | bytes) or not isinstance(configs_json, Iterable):
        raise ConfigError(f"configs_json must be a list of JSON config texts, got {shown(configs_json)}")
    if not isinstance(skip_done, bool):
        raise ConfigError(f"skip_done must be True or False, got {shown(skip_done)}")
    if env is not None and not isinstance(env, Mapping):
        raise ConfigError(f"env must be a mapping of environment variables or None, got {type(env).__name__}")
    _set_env(env)
    worker = f"{os.uname().nodename}:{os.getpid()}"
    outcomes: list[TaskOutcome] = []
    parsed: list[tuple[TaskOutcome, RunConfig]] = []
    for i, text in enumerate(configs_json):
        t0 = time.perf_counter()
        try:
            config = RunConfig.from_json(text)
        except PhiError as exc:
            outcomes.append(TaskOutcome(i, "failed", "?", error=str(exc), seconds=time.perf_counter() - t0, worker=worker))
            continue
        out = TaskOutcome(i, "ok", label(config), config.config_hash(), config.dataset.symbol, params(config), worker=worker)
        outcomes.append(out)
        parsed.append((out, config))
    done = _saved_hashes({o.config_hash for o, _ in parsed if o.config_hash}) if skip_done and parsed else set()
    results: list[tuple[TaskOutcome, RunResult, RunConfig]] = []
    datasets: dict[tuple[Any, ...], Dataset | None] = {}
    for out, config in parsed:
        t0 = time.perf_counter()
        if out.config_hash in done:
            out.status = "skipped"
            continue
        key = data_key(config)
        if key not in datasets:
            datasets[key] = _load(config)
        try:
            res = run(config, save=False, dataset=datasets[key])
        except Exception as exc:  # noqa: BLE001 - one config's failure never stops the batch
            out.status, out.error = "failed", _one_line(exc)
        else:
            out.metrics = {m: float(res.metrics[m]) for m in OUTCOME_METRICS if m in res.metrics}
            out.trades_sha256 = trades_digest(res.trades)
            results.append((out, res, config))
        out.seconds = time.perf_counter() - t0
    if results:
        t0 = time.perf_counter()
        saved: list[str | PhiError]
        try:
            saved = list(save_runs([(res.config or cfg, res, res.data, extra_files(res)) for _, res, cfg in results]))
        except Exception as exc:  # noqa: BLE001 - a finished result is never lost: each says why
            why = exc if isinstance(exc, PhiError) else f"could not save the run: {type(exc).__name__}: {exc}"
            saved = [PhiError(str(why)) for _ in results]
        share = (time.perf_counter() - t0) / len(results)
        for (out, _, _), rid in zip(results, saved, strict=True):
            if isinstance(rid, str):
                out.run_id = rid
            else:
                out.save_error = str(rid)
            out.seconds += share
    return outcomes
