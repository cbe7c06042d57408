"""The run history: every saved run under ``runs/{run_id}/`` (see :func:`phi.paths.runs_root`).

Layout of one run::

    runs/{run_id}/config.json      the RunConfig (with the data's content hash)
    runs/{run_id}/trades.csv       one row per trade (engine TRADE_COLUMNS)
    runs/{run_id}/equity.parquet   equity, position, cash and signal per bar
    runs/{run_id}/results.json     metrics, assumption ledger, summary, schema version,
                                   config hash, data fingerprint, phi version and (schema 2)
                                   the SHA-256 and size of each of the three other files

A run folder is written whole or not at all (:mod:`phi.backtest.run_storage`: a temporary
folder, fsync, one rename), so it is either complete or absent; a failed save raises one-line
:class:`RunError` and leaves nothing behind. Reading checks every file against its checksum, so
a damaged or cut file is a clear error, never a silently shorter result. Runs saved by schema 1
(no checksums) still read.

``run_id`` is ``YYYYMMDD-HHMMSS-mmm-<config hash[:6]>`` (UTC), so sorting ids sorts runs by
time; when the same config is saved twice in one millisecond, the later save's id gets a random
suffix (``...-3f9a2c-7b1e``): the folder's rename is the claim, so no two saves collide. Listing
reads only ``results.json`` files (and the sizes of the others) and imports neither numba nor
the engine, so ``phi runs list`` stays fast; each bad run is skipped with a one-line warning.

Every save also adds a row to the run index (:mod:`phi.backtest.run_index`: SQLite under
``PHI_HOME`` or ``$PHI_DB_URL``), which ``phi runs list --where/--sort`` queries; the folders
stay the record and the index is rebuilt from them by ``phi runs reindex``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shutil
import stat
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

# The run index's database layer, loaded with the history: processes forked from one that saves
# (multiprocessing, a killed-and-restarted saver) index their runs without importing it again.
import sqlalchemy  # noqa: F401

from phi._io import in_the_way
from phi._math import is_seconds
from phi.backtest.run_storage import (
    GRACE_SECONDS,
    CleanReport,
    PendingRun,
    clean_root,
    file_checksum,
    publish_run,
    publish_runs,
    read_run_file,
    stat_run_file,
)
from phi.errors import RunError, did_you_mean, shown
from phi.paths import runs_root

if TYPE_CHECKING:
    import pandas as pd

    from phi.backtest.engine import BacktestResult
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.backtest.run_config import RunConfig

__all__ = [
    "RESULTS_SCHEMA_VERSION",
    "CleanReport",
    "RunComparison",
    "RunIndexWarning",
    "RunWarning",
    "SavedRun",
    "clean_runs",
    "compare_runs",
    "delete_run",
    "list_runs",
    "load_run",
    "new_run_id",
    "run_dir",
    "save_run",
    "save_runs",
    "saved_trades_csv",
]

#: Version of the results.json layout; readers refuse newer versions with a clear message.
#: 1: metrics, ledger, summary. 2: plus ``checksums`` (sha256 and bytes of every other file).
RESULTS_SCHEMA_VERSION: Final = 2
CONFIG_FILE: Final = "config.json"
RESULTS_FILE: Final = "results.json"
TRADES_FILE: Final = "trades.csv"
EQUITY_FILE: Final = "equity.parquet"
DATA_FILES: Final = (CONFIG_FILE, TRADES_FILE, EQUITY_FILE)
#: results.json holds no per-bar data; anything bigger is not ours.
MAX_RESULTS_BYTES: Final = 16 * 2**20
MAX_CONFIG_BYTES: Final = 10 * 2**20
#: Metrics shown by ``list_runs`` summaries (all are kept in results.json).
SUMMARY_METRICS: Final = (
    "total_return", "cagr", "sharpe", "max_drawdown", "n_trades", "n_open_trades", "final_equity",
)  # fmt: skip
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: trades.csv columns phi reads back (the engine's TRADE_COLUMNS, without importing it).
_TRADE_TIMES: Final = ("entry_time", "exit_time")
_TRADE_NUMBERS: Final = ("entry_price", "exit_price", "size", "pnl", "return_pct")


class RunWarning(UserWarning):
    """A saved run was skipped because it is incomplete, corrupt or too new."""


class RunIndexWarning(UserWarning):
    """The run index (:mod:`phi.backtest.run_index`) could not be updated; the run folders are
    unaffected and the next listing or ``phi runs reindex`` catches up."""


class NewerIndexError(RunError):
    """The run index has the layout of a newer phi (index schema ``schema``): this phi leaves it
    as it is and cannot use it; upgrading phi (or ``phi runs reindex`` with the newer phi) can."""

    def __init__(self, message: str, schema: int) -> None:
        super().__init__(message)
        self.schema = schema


# ---------------------------------------------------------------------------- ids and paths


def new_run_id(config_hash: str, now: datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-mmm-hhhhhh`` from the UTC time and the config hash (sortable by time)."""
    if not isinstance(config_hash, str):
        raise RunError(f"new_run_id: config_hash must be a string, got {shown(config_hash)}")
    if now is not None and not isinstance(now, datetime):
        raise RunError(f"new_run_id: now must be a datetime or None, got {shown(now)}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}-{config_hash[:6]}"


def history_exists() -> bool:
    """Whether there is a run history to read: ``False`` when the runs root does not exist yet;
    :class:`RunError` when it cannot be one (a file, a broken link or a link loop where the
    folder must be), rather than reading that as "no saved runs"."""
    root = runs_root()
    if root.is_dir():
        return True
    blocker = in_the_way(root)
    if blocker is not None:
        raise RunError(f"cannot read the run history {root}: {blocker}; point PHI_HOME at a folder")
    return False


def _existing_ids() -> list[str]:
    """Names in the runs root that look like runs: folders, and links (reported as bad runs)."""
    if not history_exists():
        return []
    root = runs_root()
    try:
        with os.scandir(root) as entries:
            names = [e.name for e in entries if _RUN_ID.match(e.name) and (e.is_dir() or e.is_symlink())]
    except OSError as exc:
        raise RunError(f"cannot read the run history {root}: {exc.strerror or exc}") from None
    return sorted(names, reverse=True)


def run_dir(run_id: str, *, must_exist: bool = True) -> Path:
    """Directory of ``run_id``; :class:`RunError` for an unsafe or (if ``must_exist``) unknown id."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or ".." in run_id:
        raise RunError(f"{shown(run_id)} is not a run id (like 20250101-120000-000-3f9a2c); see phi runs list")
    if not isinstance(must_exist, bool):
        raise RunError(f"run_dir: must_exist must be True or False, got {shown(must_exist)}")
    path = runs_root() / run_id
    if must_exist and not (path.is_dir() or path.is_symlink()):
        ids = _existing_ids()
        hint = did_you_mean(run_id, ids)
        if not hint:
            starts = [i for i in ids if i.startswith(run_id) or i.endswith(run_id)]
            hint = f" Did you mean {starts[0]!r}?" if len(starts) == 1 else ""
        where = f"{len(ids)} saved run(s)" if ids else "no saved runs"
        raise RunError(f"no run {shown(run_id)} in {runs_root()} ({where}).{hint} See phi runs list")
    return path


def _bad(run_id: str, reason: str) -> RunError:
    return RunError(f"run {shown(run_id)}: {reason}; delete it with phi runs delete {run_id}")


# ---------------------------------------------------------------------------- JSON helpers


def _jsonable(obj: Any) -> Any:
    """Plain Python values for JSON (numpy scalars unwrapped, timestamps as ISO strings)."""
    import numpy as np

    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def _dump_json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------- save


def _candidate_ids(config_hash: str, limit: int = 1000) -> Iterator[str]:
    """The run id of now, then (taken: the same config saved in the same millisecond) that id
    with a random 4-hex-digit suffix; the first one not taken is used. Ids still sort by time.
    """
    base = new_run_id(config_hash)
    yield base
    for _ in range(limit):
        yield f"{base}-{secrets.token_hex(2)}"


def _portfolio_summary(config: PortfolioRunConfig, result: BacktestResult, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The listing fields of a portfolio run (symbol: the universe, indicators: the weight rule)."""
    eq = result.equity
    return {
        "symbol": config.label(), "vendor": config.vendor, "timeframe": config.timeframe,
        "start": config.start, "end": config.end, "bars": len(eq),
        "first_bar": eq.index[0].isoformat() if len(eq) else None, "last_bar": eq.index[-1].isoformat() if len(eq) else None,
        "indicators": [config.weights.text()], "blend_mode": f"portfolio, rebalance {config.portfolio.rebalance}",
        "initial_capital": config.portfolio.initial_capital, "synthetic": bool(meta.get("synthetic", config.vendor == "demo")),
        "description": config.description, "tags": list(config.tags), "symbols": list(config.symbols),
    }  # fmt: skip


def _results(config: RunConfig | PortfolioRunConfig, result: BacktestResult, meta: Mapping[str, Any]) -> dict[str, Any]:
    from phi.backtest.portfolio_run_config import PortfolioRunConfig

    if isinstance(config, PortfolioRunConfig):  # a multi-asset run (phi.portfolio_pipeline)
        summary, fingerprint = _portfolio_summary(config, result, meta), config.data_fingerprint
    else:
        summary, fingerprint = _summary(config, result, meta), config.dataset.content_hash or meta.get("content_hash")
    health = meta.get("health")
    data_keys = ("vendor", "symbol", "timeframe", "adjustment", "exchange_tz", "synthetic",
                 "dataset_id", "rows", "first_bar", "last_bar", "content_hash", "repairs")  # fmt: skip
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "phi_version": config.phi_version,
        "config_hash": config.config_hash(),
        "data_fingerprint": fingerprint,
        "metrics": _jsonable(result.metrics),
        "assumptions": _jsonable(result.assumptions),
        "summary": summary,
        "data": _jsonable(
            {k: meta[k] for k in data_keys if k in meta}
            | ({"health_status": health.get("status")} if isinstance(health, Mapping) else {})
        ),
        "files": {"config": CONFIG_FILE, "trades": TRADES_FILE, "equity": EQUITY_FILE},
    }


def _summary(config: RunConfig, result: BacktestResult, meta: Mapping[str, Any]) -> dict[str, Any]:
    ds = config.dataset
    summary = {
        "symbol": ds.symbol,
        "vendor": ds.vendor,
        "timeframe": ds.timeframe,
        "start": ds.start,
        "end": ds.end,
        "bars": len(result.equity),
        "first_bar": result.equity.index[0].isoformat() if len(result.equity) else None,
        "last_bar": result.equity.index[-1].isoformat() if len(result.equity) else None,
        "indicators": [ind.name for ind in config.enabled_indicators],
        "blend_mode": config.blend.mode,
        "initial_capital": config.engine.initial_capital,
        "synthetic": bool(meta.get("synthetic", ds.vendor == "demo")),
        "description": config.description,
        "tags": list(config.tags),
    }
    if config.options is not None:  # an options run: what it traded, for the listing
        o = config.options
        summary["options"] = f"{o.structure} {o.dte}d" + (" on a chain" if o.chain else "")
    return summary


def _trades_csv(trades: pd.DataFrame) -> bytes:
    """``trades.to_csv(index=False)`` as UTF-8, the same bytes, with the whole-second UTC stamps
    (every engine's trade times) formatted by NumPy instead of pandas' per-value path."""
    import numpy as np
    import pandas as pd

    fast = {}
    for col in trades.columns:
        dtype = trades[col].dtype
        if isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC" and dtype.unit == "ns":
            ns = pd.DatetimeIndex(trades[col]).asi8
            if len(ns) == 0 or (ns == np.iinfo(np.int64).min).any() or (ns % 1_000_000_000).any():
                continue  # NaT or fractions of a second: pandas' own format
            text = np.char.add(np.char.replace(np.datetime_as_string(ns.view("datetime64[ns]"), unit="s"), "T", " "), "+00:00")
            fast[col] = text.astype(object)
    return (trades.assign(**fast) if fast else trades).to_csv(index=False).encode("utf-8")


def _equity_frame(result: BacktestResult) -> pd.DataFrame:
    import pandas as pd

    equity = pd.DataFrame({"equity": result.equity, "position": result.positions})
    if getattr(result, "cash", None) is not None:
        equity["cash"] = result.cash
    if getattr(result, "signal", None) is not None:
        equity["signal"] = pd.Series(result.signal).to_numpy()
    equity.index.name = "timestamp"
    return equity


def save_run(
    config: RunConfig | PortfolioRunConfig,
    result: BacktestResult,
    *,
    data_metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    extra_files: Mapping[str, bytes] | None = None,
) -> str:
    """Save one run as a whole (all files or none); returns its ``run_id``.

    Parameters
    ----------
    config : RunConfig or PortfolioRunConfig
        The config exactly as run (with ``dataset.content_hash`` filled in).
    result : BacktestResult
        The engine's result for it.
    data_metadata : mapping, optional
        The dataset's metadata (vendor, adjustment, synthetic, health, ...).
    run_id : str, optional
        Defaults to :func:`new_run_id` (with a random suffix if taken).
    extra_files : mapping of file name -> bytes, optional
        Reports stored beside the run in the same atomic write, with checksums (e.g. the
        tuner's ``tuning.json``); plain names only, not the run's own files.

    Raises
    ------
    RunError
        One line saying why the run could not be saved (read-only or full disk, ``PHI_HOME``
        not a folder, ...); no partial run folder is left.
    """
    if run_id is not None and os.path.lexists(run_dir(run_id, must_exist=False)):
        raise RunError(f"run {shown(run_id)} already exists in {runs_root()}")
    files, results = _run_files(config, result, data_metadata, extra_files)

    def results_for(rid: str) -> bytes:
        return _dump_json({**results, "run_id": rid})

    ids = iter([run_id]) if run_id is not None else _candidate_ids(config.config_hash())
    saved = publish_run(runs_root(), files, (RESULTS_FILE, results_for), ids)
    _index(saved, {**results, "run_id": saved})
    return saved


def save_runs(
    items: Sequence[tuple[RunConfig, BacktestResult, Mapping[str, Any] | None, Mapping[str, bytes] | None]],
) -> list[str | RunError]:
    """Save many runs, each as a whole, with the disk syncs and the index write paid once.

    ``items`` are ``(config, result, data_metadata, extra_files)`` as for :func:`save_run`;
    the folders are the same as :func:`save_run` writes, and each run is complete or absent
    whatever happens to the process (:func:`phi.backtest.run_storage.publish_runs`). Their
    index rows are added in one transaction. Returns each run's id or the :class:`RunError`
    that kept it from being saved, in order (one run's failure does not stop the others).
    """
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
        raise RunError(f"save_runs takes a list of (config, result, data_metadata, extra_files), got {shown(items)}")
    out: list[str | RunError | None] = []
    pending: list[PendingRun] = []
    slots = []
    for i, item in enumerate(items):
        if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 4:
            out.append(RunError(f"could not save run {i}: expected (config, result, data_metadata, extra_files), got {shown(item)}"))
            continue
        config, result, meta, extra = item
        try:
            files, results = _run_files(config, result, meta, extra)
        except RunError as exc:
            out.append(exc)
            continue
        out.append(None)

        def results_for(rid: str, results: dict[str, Any] = results) -> bytes:
            return _dump_json({**results, "run_id": rid})

        pending.append((files, (RESULTS_FILE, results_for), _candidate_ids(config.config_hash())))
        slots.append((i, results))
    saved = publish_runs(runs_root(), pending)
    rows = []
    for (i, results), rid in zip(slots, saved, strict=True):
        out[i] = rid
        if isinstance(rid, str):
            rows.append((rid, {**results, "run_id": rid}))
    _index_many(rows)
    return [r for r in out if r is not None]


def _run_files(
    config: RunConfig | PortfolioRunConfig,
    result: BacktestResult,
    data_metadata: Mapping[str, Any] | None,
    extra_files: Mapping[str, bytes] | None,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """A run's files (but ``results.json``) and the content of its ``results.json`` (without
    the run id); :class:`RunError` if it cannot be serialised."""
    from phi.backtest.engine import BacktestResult
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.backtest.run_config import RunConfig

    if not isinstance(config, RunConfig | PortfolioRunConfig):
        raise RunError(f"could not save the run: config must be a RunConfig, got {shown(config)}")
    if not isinstance(result, BacktestResult):
        raise RunError(f"could not save the run: result must be a BacktestResult, got {shown(result)}")
    for name, value in (("data_metadata", data_metadata), ("extra_files", extra_files)):
        if value is not None and not isinstance(value, Mapping):
            raise RunError(f"could not save the run: {name} must be a mapping or None, got {shown(value)}")
    meta = dict(data_metadata or {})
    try:
        buf = io.BytesIO()
        _equity_frame(result).to_parquet(buf)
        files = {
            CONFIG_FILE: config.to_json().encode("utf-8"),
            TRADES_FILE: _trades_csv(result.trades),
            EQUITY_FILE: buf.getvalue(),
        }
        results = _results(config, result, meta)
    except (ValueError, TypeError, OSError) as exc:
        raise RunError(f"could not save the run: cannot serialise it ({exc})") from None
    for name, data in (extra_files or {}).items():
        if not isinstance(name, str) or name in files or name == RESULTS_FILE or not re.fullmatch(
            r"[A-Za-z0-9_-]+\.[a-z]+", name
        ):
            raise RunError(f"could not save the run: extra file name {shown(name)} is not allowed")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise RunError(f"could not save the run: extra file {name!r} must be bytes, got {shown(data)}")
        files[name] = bytes(data)
    results["checksums"] = {name: file_checksum(data) for name, data in files.items()}
    return files, results


def _index(run_id: str, results: Mapping[str, Any]) -> None:
    """Add a saved run to the run index; a failure is one warning (the next listing or
    ``phi runs reindex`` indexes it) and never undoes the save."""
    try:
        from phi.backtest.run_index import index_run

        index_run(run_id, results)
    except Exception as exc:  # noqa: BLE001 - the run is saved whatever the index does
        message = f"run {run_id} is saved but not indexed ({exc}); {_catch_up(exc, 'it')}"
        warnings.warn(message, RunIndexWarning, stacklevel=3)


def _index_many(rows: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """:func:`_index` for many saved runs, in one transaction."""
    if not rows:
        return
    try:
        from phi.backtest.run_index import index_runs

        index_runs(rows)
    except Exception as exc:  # noqa: BLE001 - the runs are saved whatever the index does
        message = f"{len(rows)} run(s) are saved but not indexed ({exc}); {_catch_up(exc, 'them')}"
        warnings.warn(message, RunIndexWarning, stacklevel=3)


def _catch_up(exc: Exception, runs: str) -> str:
    """What indexes the runs a failed index left out: ``phi runs reindex``, but not while the
    index belongs to a newer phi (this phi leaves it alone): then upgrading phi does."""
    if isinstance(exc, NewerIndexError):
        return (
            f"this phi cannot add {runs} to a newer phi's index: "
            f"upgrading phi (or phi runs reindex with the newer phi) adds {runs}"
        )
    return f"phi runs reindex adds {runs}"


# ---------------------------------------------------------------------------- check results.json

_OPTIONAL_TEXT: Final = ("run_id", "created_at", "phi_version", "config_hash", "data_fingerprint")
_SUMMARY_TEXT: Final = ("symbol", "vendor", "timeframe", "start", "end", "first_bar", "last_bar",
                        "blend_mode", "description", "options")  # fmt: skip


def _is_number(value: object) -> bool:
    return value is None or isinstance(value, int | float)


def _is_text_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _problem(data: object) -> str | None:
    """What is wrong with a parsed results.json (``None`` if it is usable)."""
    if not isinstance(data, dict):
        return f"{RESULTS_FILE} is not a JSON object"
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"{RESULTS_FILE} has no valid schema_version (got {str(version)[:40]!r})"
    if version > RESULTS_SCHEMA_VERSION:
        return (
            f"saved with results schema {version!r}; this phi reads up to {RESULTS_SCHEMA_VERSION} (upgrade phi)"
        )
    metrics = data.get("metrics")
    if not isinstance(metrics, dict):
        return f"{RESULTS_FILE} has no metrics"
    bad = next((k for k, v in metrics.items() if not _is_number(v)), None)
    if bad is not None:
        return f"{RESULTS_FILE}: metric {bad[:40]!r} is a {type(metrics[bad]).__name__}, not a number"
    for key in _OPTIONAL_TEXT:
        if not isinstance(data.get(key), str | None):
            return f"{RESULTS_FILE}: {key} is a {type(data[key]).__name__}, not text"
    for key in ("assumptions", "summary", "data"):
        if not isinstance(data.get(key, {}), dict):
            return f"{RESULTS_FILE}: {key} is a {type(data[key]).__name__}, not an object"
    summary = data.get("summary", {})
    for key in _SUMMARY_TEXT:
        if not isinstance(summary.get(key), str | None):
            return f"{RESULTS_FILE}: summary.{key} is a {type(summary[key]).__name__}, not text"
    for key in ("indicators", "tags"):
        if not _is_text_list(summary.get(key, [])):
            return f"{RESULTS_FILE}: summary.{key} is not a list of names"
    for key, kind in (("bars", int), ("initial_capital", int | float), ("synthetic", bool)):
        if not isinstance(summary.get(key), kind | None):
            return f"{RESULTS_FILE}: summary.{key} is a {type(summary[key]).__name__}"
    if version >= 2:
        sums = data.get("checksums")
        for name in DATA_FILES:
            entry = sums.get(name) if isinstance(sums, dict) else None
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("sha256"), str)
                and _SHA256.match(entry["sha256"])
                and isinstance(entry.get("bytes"), int)
                and entry["bytes"] >= 0
            ):
                return f"{RESULTS_FILE} has no valid checksum for {name}"
    return None


def _check_folder(run_id: str, path: Path) -> None:
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise _bad(run_id, f"cannot read its folder ({exc.strerror or exc})") from None
    if stat.S_ISLNK(st.st_mode):
        raise _bad(run_id, "the run folder is a symbolic link (phi follows no links in the run history)")
    if not stat.S_ISDIR(st.st_mode):
        raise _bad(run_id, "is not a folder")


def _read_results(run_id: str, *, check_files: bool = True) -> dict[str, Any]:
    """results.json of a run, checked (and the other files' presence and sizes)."""
    path = run_dir(run_id)
    _check_folder(run_id, path)
    if not os.path.lexists(path / RESULTS_FILE):
        raise _bad(run_id, f"is incomplete (no {RESULTS_FILE})")
    try:
        raw = read_run_file(path / RESULTS_FILE, RESULTS_FILE, max_bytes=MAX_RESULTS_BYTES)
        data = json.loads(raw.decode("utf-8"))
    except RunError as exc:
        raise _bad(run_id, str(exc)) from None
    except UnicodeDecodeError:
        raise _bad(run_id, f"{RESULTS_FILE} is unreadable (not UTF-8 text)") from None
    except RecursionError:
        raise _bad(run_id, f"{RESULTS_FILE} is unreadable (JSON nested too deeply)") from None
    except ValueError as exc:
        raise _bad(run_id, f"{RESULTS_FILE} is unreadable ({str(exc).split(';')[0][:200]})") from None
    problem = _problem(data)
    if problem is not None:
        if problem.startswith("saved with results schema"):
            raise RunError(f"run {shown(run_id)} was {problem}")
        raise _bad(run_id, problem)
    if check_files:
        sums = data.get("checksums") or {}
        try:
            for name in DATA_FILES:
                stat_run_file(path / name, name, sums.get(name))
        except RunError as exc:
            raise _bad(run_id, str(exc)) from None
    return data


def _read_file(run_id: str, results: Mapping[str, Any], name: str, max_bytes: int | None = None) -> bytes:
    """A run's file, checked against its checksum (schema 2)."""
    try:
        return read_run_file(run_dir(run_id) / name, name, (results.get("checksums") or {}).get(name), max_bytes)
    except RunError as exc:
        raise _bad(run_id, str(exc)) from None


# ---------------------------------------------------------------------------- list


def list_runs() -> list[dict[str, Any]]:
    """Every readable saved run, newest first: ``run_id``, ``created_at``, the summary fields
    (symbol, vendor, timeframe, dates, indicators, blend_mode, synthetic, ...) and the
    :data:`SUMMARY_METRICS`. Each unreadable run is skipped with a one-line :class:`RunWarning`.
    Leftovers of saves killed mid-way are removed first (see :func:`clean_runs`).
    """
    with contextlib.suppress(OSError):
        clean_root(runs_root(), deep=False)
    rows = []
    for run_id in _existing_ids():
        try:
            data = _read_results(run_id)
        except RunError as exc:
            warnings.warn(str(exc), RunWarning, stacklevel=2)
            continue
        rows.append(_summary_row(run_id, data))
    return rows


def _summary_row(run_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """One listing row from a checked results.json (shared with the run index's listings)."""
    summary = data.get("summary") or {}
    metrics = data["metrics"]
    return {
        "run_id": run_id,
        "created_at": data.get("created_at"),
        **summary,
        **{m: metrics.get(m) for m in SUMMARY_METRICS},
        "config_hash": data.get("config_hash"),
        "data_fingerprint": data.get("data_fingerprint"),
    }


def clean_runs(grace: float = GRACE_SECONDS) -> CleanReport:
    """Remove what interrupted saves left in the run history; never a complete run.

    Temporary folders of saves whose process is gone go at once (also on every save and
    listing); temporary files and incomplete run folders of older phi versions once nothing in
    them changed for ``grace`` seconds.
    """
    if not is_seconds(grace):
        raise RunError(f"clean_runs: grace must be a number of seconds >= 0, got {shown(grace)}")
    return clean_root(runs_root(), grace=grace, deep=True, known=(*DATA_FILES, RESULTS_FILE))


# ---------------------------------------------------------------------------- load


@dataclass
class SavedRun:
    """One saved run read back from disk (every file checked against its checksum)."""

    run_id: str
    path: Path
    config: RunConfig | PortfolioRunConfig
    results: dict[str, Any]
    trades: pd.DataFrame
    equity: pd.DataFrame

    @property
    def metrics(self) -> dict[str, Any]:
        """The metrics as saved (NaN and inf survive the JSON round trip)."""
        return dict(self.results["metrics"])

    @property
    def assumptions(self) -> dict[str, Any]:
        """The assumption ledger as saved."""
        return dict(self.results.get("assumptions") or {})


def _is_portfolio(text: str) -> bool:
    """Whether a config.json holds a PortfolioRunConfig (``"mode": "portfolio"`` at the top)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False  # RunConfig.from_json says what is wrong with it
    return isinstance(data, dict) and data.get("mode") == "portfolio"


def _load_config(run_id: str, results: Mapping[str, Any]) -> RunConfig | PortfolioRunConfig:
    from phi.backtest.run_config import RunConfig
    from phi.errors import ConfigError

    raw = _read_file(run_id, results, CONFIG_FILE, MAX_CONFIG_BYTES)
    try:
        text = raw.decode("utf-8")
        if b'"portfolio"' in raw and _is_portfolio(text):  # a multi-asset run's config
            from phi.backtest.portfolio_run_config import PortfolioRunConfig

            return PortfolioRunConfig.from_json(text)
        return RunConfig.from_json(text)
    except UnicodeDecodeError:
        raise _bad(run_id, f"{CONFIG_FILE} is not UTF-8 text") from None
    except (ConfigError, RecursionError) as exc:
        newer = _saved_by_a_newer_phi(text, results)
        if newer is not None:  # fields this phi does not know yet: the run is fine, phi is old
            raise RunError(f"run {shown(run_id)} was saved by {newer}; upgrade phi to load it ({exc or 'nested too deeply'})") from None
        raise _bad(run_id, f"{CONFIG_FILE} is invalid: {exc or 'nested too deeply'}") from None


def _saved_by_a_newer_phi(text: str, results: Mapping[str, Any]) -> str | None:
    """``"phi 0.3.0 (config schema 2)"`` when a run's config or results say a newer phi than
    this one wrote it, else ``None`` (then an invalid config is damage, not progress)."""
    from phi import __version__
    from phi.backtest.run_config import SCHEMA_VERSION

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    data = data if isinstance(data, dict) else {}
    schema = data.get("schema_version")
    version = data.get("phi_version") or results.get("phi_version")
    newer_schema = isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA_VERSION
    newer_phi = isinstance(version, str) and _version_key(version) > _version_key(__version__)
    if not (newer_schema or newer_phi):
        return None
    return f"phi {version}" + (f" (config schema {schema}; this phi reads {SCHEMA_VERSION})" if newer_schema else f", newer than this phi {__version__}")


def _version_key(text: str) -> tuple[int, ...]:
    """``"0.10.2rc1"`` -> ``(0, 10, 2)``: the leading numbers of a version, for ordering."""
    out = []
    for part in text.split(".")[:4]:
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        out.append(int(digits.group()))
    return tuple(out)


def _parse_trades(run_id: str, raw: bytes) -> pd.DataFrame:
    import pandas as pd

    try:
        trades = pd.read_csv(io.BytesIO(raw), encoding="utf-8")
        for col in _TRADE_TIMES:
            if col in trades:
                trades[col] = pd.to_datetime(trades[col], utc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _bad(run_id, f"{TRADES_FILE} is unreadable ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})") from None
    missing = [c for c in (*_TRADE_TIMES, *_TRADE_NUMBERS, "side", "exit_reason") if c not in trades]
    if missing:
        raise _bad(run_id, f"{TRADES_FILE} has no column {missing[0]!r}")
    if len(trades):
        odd = [c for c in _TRADE_NUMBERS if not pd.api.types.is_numeric_dtype(trades[c])]
        if odd:
            raise _bad(run_id, f"{TRADES_FILE}: column {odd[0]!r} is not numeric")
    return trades


def _parse_equity(run_id: str, raw: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa

    try:
        equity = pd.read_parquet(io.BytesIO(raw), columns=columns)
    except (OSError, ValueError, TypeError, KeyError, pa.ArrowException) as exc:
        raise _bad(run_id, f"{EQUITY_FILE} is unreadable ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})") from None
    if "equity" not in equity or not pd.api.types.is_numeric_dtype(equity["equity"]):
        raise _bad(run_id, f"{EQUITY_FILE} has no numeric equity column")
    return equity


def load_run(run_id: str) -> SavedRun:
    """Read a saved run: config, results, trades and equity curve, each file checked against
    its checksum (schema 2). :class:`RunError` (one line naming the file) if unusable.
    """
    results = _read_results(run_id)
    config = _load_config(run_id, results)
    trades = _parse_trades(run_id, _read_file(run_id, results, TRADES_FILE))
    if "checksums" not in results:  # schema 1: no checksums, but the trade count is known
        m = results["metrics"]
        counted = m.get("n_trades", 0) + m.get("n_open_trades", 0) if "n_trades" in m else None
        if isinstance(counted, int | float) and counted == counted and len(trades) != counted:
            raise _bad(run_id, f"{TRADES_FILE} has {len(trades)} trades, {RESULTS_FILE} counts {counted:.0f} (cut short?)")
    equity = _parse_equity(run_id, _read_file(run_id, results, EQUITY_FILE))
    return SavedRun(run_id, run_dir(run_id), config, results, trades, equity)


def saved_trades_csv(run: SavedRun) -> bytes:
    """The run's ``trades.csv`` exactly as saved (checked against its checksum)."""
    return _read_file(run.run_id, run.results, TRADES_FILE)


def saved_file(run: SavedRun, name: str) -> bytes | None:
    """A file saved beside the run (e.g. an options run's ``legs.csv``), checked against its
    checksum; ``None`` when the run has no such file."""
    if name not in (run.results.get("checksums") or {}):
        return None
    return _read_file(run.run_id, run.results, name)


# ---------------------------------------------------------------------------- compare, delete


@dataclass
class RunComparison:
    """Several runs side by side.

    ``metrics``: one row per metric, one column per run. ``config_diff``: rows
    ``(path, value_run_1, value_run_2, ...)`` where the configs differ. ``equity``: one
    column per run on the union of their bar stamps (NaN where a run has no bar).
    """

    run_ids: list[str]
    metrics: pd.DataFrame
    config_diff: list[tuple[Any, ...]]
    equity: pd.DataFrame


def compare_runs(run_ids: Sequence[str]) -> RunComparison:
    """Compare two or more saved runs (metrics, config differences, equity curves)."""
    import pandas as pd

    from phi.backtest.run_config import config_diff

    if isinstance(run_ids, str) or not isinstance(run_ids, Sequence):
        raise RunError(f"compare takes a list of run ids, got {shown(run_ids)}")
    ids = list(run_ids)
    bad = [i for i in ids if not isinstance(i, str)]
    if bad:
        raise RunError(f"compare takes run ids (strings), got {shown(bad[0])} in the list")
    if len(ids) < 2:
        raise RunError(f"compare needs at least two run ids, got {len(ids)}")
    dup = sorted(i for i, k in Counter(ids).items() if k > 1)
    if dup:
        raise RunError(f"run {shown(dup[0])} is listed twice")
    configs, results, curves = [], [], []
    for rid in ids:
        res = _read_results(rid)
        configs.append(_load_config(rid, res).to_dict())
        curves.append(_parse_equity(rid, _read_file(rid, res, EQUITY_FILE), ["equity"])["equity"].rename(rid))
        results.append(res)
    names: list[str] = []
    for res in results:
        names += [m for m in res["metrics"] if m not in names]
    metrics = pd.DataFrame(
        {rid: [res["metrics"].get(m) for m in names] for rid, res in zip(ids, results, strict=True)},
        index=pd.Index(names, name="metric"),
    )
    equity = pd.concat(curves, axis=1, join="outer").sort_index()
    return RunComparison(ids, metrics, config_diff(*configs), equity)


def delete_run(run_id: str) -> None:
    """Delete a saved run (a link in its place: the link only); :class:`RunError` with a
    suggestion if there is none.
    """
    path = run_dir(run_id)
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)
    except OSError as exc:
        raise RunError(f"could not delete run {shown(run_id)}: {exc.strerror or exc}") from None
    with contextlib.suppress(Exception):  # a stale row is dropped by the next listing anyway
        from phi.backtest.run_index import unindex_run

        unindex_run(run_id)
