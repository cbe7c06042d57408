"""The run history: every saved run under ``runs/{run_id}/`` (see :func:`phi.paths.runs_root`).

Layout of one run (each file written atomically, ``results.json`` last, so a run without
``results.json`` is incomplete)::

    runs/{run_id}/config.json      the RunConfig (with the data's content hash)
    runs/{run_id}/trades.csv       one row per trade (engine TRADE_COLUMNS)
    runs/{run_id}/equity.parquet   equity, position, cash and signal per bar
    runs/{run_id}/results.json     metrics, assumption ledger, summary, schema version,
                                   config hash, data fingerprint, phi version

``run_id`` is ``YYYYMMDD-HHMMSS-mmm-<config hash[:6]>`` (UTC), so sorting ids sorts runs by
time. Listing reads only ``results.json`` files and imports neither numba nor the engine, so
``phi runs list`` stays fast; one corrupt run is skipped with a warning, never a crash.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from phi._io import atomic_write, atomic_write_json, atomic_write_text
from phi.errors import RunError, did_you_mean
from phi.paths import runs_root

if TYPE_CHECKING:
    import pandas as pd

    from phi.backtest.engine import BacktestResult
    from phi.backtest.run_config import RunConfig

__all__ = [
    "RESULTS_SCHEMA_VERSION",
    "RunComparison",
    "RunWarning",
    "SavedRun",
    "compare_runs",
    "delete_run",
    "list_runs",
    "load_run",
    "new_run_id",
    "run_dir",
    "save_run",
]

#: Version of the results.json layout; readers refuse newer versions with a clear message.
RESULTS_SCHEMA_VERSION: Final = 1
CONFIG_FILE: Final = "config.json"
RESULTS_FILE: Final = "results.json"
TRADES_FILE: Final = "trades.csv"
EQUITY_FILE: Final = "equity.parquet"
#: Metrics shown by ``list_runs`` summaries (all are kept in results.json).
SUMMARY_METRICS: Final = ("total_return", "cagr", "sharpe", "max_drawdown", "n_trades", "final_equity")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RunWarning(UserWarning):
    """A saved run was skipped because it is incomplete, corrupt or too new."""


# ---------------------------------------------------------------------------- ids and paths


def new_run_id(config_hash: str, now: datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-mmm-hhhhhh`` from the UTC time and the config hash (sortable by time)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}-{config_hash[:6]}"


def _existing_ids() -> list[str]:
    root = runs_root()
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if p.is_dir() and _RUN_ID.match(p.name)), reverse=True)


def run_dir(run_id: str, *, must_exist: bool = True) -> Path:
    """Directory of ``run_id``; :class:`RunError` for an unsafe or (if ``must_exist``) unknown id."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or ".." in run_id:
        raise RunError(f"{run_id!r} is not a run id (like 20250101-120000-000-3f9a2c); see phi runs list")
    path = runs_root() / run_id
    if must_exist and not path.is_dir():
        ids = _existing_ids()
        hint = did_you_mean(run_id, ids)
        if not hint:
            starts = [i for i in ids if i.startswith(run_id) or i.endswith(run_id)]
            hint = f" Did you mean {starts[0]!r}?" if len(starts) == 1 else ""
        where = f"{len(ids)} saved run(s)" if ids else "no saved runs"
        raise RunError(f"no run {run_id!r} in {runs_root()} ({where}).{hint} See phi runs list")
    return path


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


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- save


def save_run(
    config: RunConfig,
    result: BacktestResult,
    *,
    data_metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> str:
    """Save one run; returns its ``run_id``.

    Parameters
    ----------
    config : RunConfig
        The config exactly as run (with ``dataset.content_hash`` filled in).
    result : BacktestResult
        The engine's result for it.
    data_metadata : mapping, optional
        The dataset's metadata (vendor, adjustment, synthetic, health, ...).
    run_id : str, optional
        Defaults to :func:`new_run_id`.
    """
    import pandas as pd

    meta = dict(data_metadata or {})
    config_hash = config.config_hash()
    if run_id is None:
        now = datetime.now(UTC)
        run_id = new_run_id(config_hash, now)
        while (runs_root() / run_id).exists():  # same millisecond, same config
            now += timedelta(milliseconds=1)
            run_id = new_run_id(config_hash, now)
    path = run_dir(run_id, must_exist=False)
    if path.exists():
        raise RunError(f"run {run_id!r} already exists in {runs_root()}")
    created = datetime.now(UTC).isoformat(timespec="seconds")
    metrics = _jsonable(result.metrics)
    ds = config.dataset
    health = meta.get("health")
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
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": created,
        "phi_version": config.phi_version,
        "config_hash": config_hash,
        "data_fingerprint": ds.content_hash or meta.get("content_hash"),
        "metrics": metrics,
        "assumptions": _jsonable(result.assumptions),
        "summary": summary,
        "data": _jsonable(
            {
                k: meta[k]
                for k in ("vendor", "symbol", "timeframe", "adjustment", "exchange_tz", "synthetic",
                          "dataset_id", "rows", "first_bar", "last_bar", "content_hash", "repairs")
                if k in meta
            }
            | ({"health_status": health.get("status")} if isinstance(health, Mapping) else {})
        ),
        "files": {"config": CONFIG_FILE, "trades": TRADES_FILE, "equity": EQUITY_FILE},
    }
    equity = pd.DataFrame({"equity": result.equity, "position": result.positions})
    if getattr(result, "cash", None) is not None:
        equity["cash"] = result.cash
    if getattr(result, "signal", None) is not None:
        equity["signal"] = pd.Series(result.signal).to_numpy()
    equity.index.name = "timestamp"

    path.mkdir(parents=True)
    atomic_write_text(path / CONFIG_FILE, config.to_json())
    atomic_write_text(path / TRADES_FILE, result.trades.to_csv(index=False))
    atomic_write(path / EQUITY_FILE, lambda tmp: equity.to_parquet(tmp))
    atomic_write_json(path / RESULTS_FILE, results)
    return run_id


# ---------------------------------------------------------------------------- read


def _read_results(run_id: str) -> dict[str, Any]:
    path = run_dir(run_id) / RESULTS_FILE
    if not path.is_file():
        raise RunError(f"run {run_id!r} is incomplete (no {RESULTS_FILE}); delete it with phi runs delete {run_id}")
    try:
        data = _read_json(path)
    except (OSError, ValueError) as exc:
        raise RunError(f"run {run_id!r}: {RESULTS_FILE} is unreadable ({exc}); delete it with phi runs delete {run_id}") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise RunError(f"run {run_id!r}: {RESULTS_FILE} has no metrics; delete it with phi runs delete {run_id}")
    version = data.get("schema_version")
    if not isinstance(version, int) or version > RESULTS_SCHEMA_VERSION:
        raise RunError(
            f"run {run_id!r} was saved with results schema {version!r}; this phi reads up to "
            f"{RESULTS_SCHEMA_VERSION} (upgrade phi)"
        )
    return data


def list_runs() -> list[dict[str, Any]]:
    """Every readable saved run, newest first: ``run_id``, ``created_at``, the summary fields
    (symbol, vendor, timeframe, dates, indicators, blend_mode, synthetic, ...) and the
    :data:`SUMMARY_METRICS`. Unreadable runs are skipped with a :class:`RunWarning`.
    """
    rows = []
    for run_id in _existing_ids():
        try:
            data = _read_results(run_id)
        except RunError as exc:
            warnings.warn(str(exc), RunWarning, stacklevel=2)
            continue
        summary = data.get("summary") or {}
        metrics = data["metrics"]
        rows.append(
            {
                "run_id": run_id,
                "created_at": data.get("created_at"),
                **summary,
                **{m: metrics.get(m) for m in SUMMARY_METRICS},
                "config_hash": data.get("config_hash"),
                "data_fingerprint": data.get("data_fingerprint"),
            }
        )
    return rows


@dataclass
class SavedRun:
    """One saved run read back from disk."""

    run_id: str
    path: Path
    config: RunConfig
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


def _read_trades(path: Path) -> pd.DataFrame:
    import pandas as pd

    trades = pd.read_csv(path)
    for col in ("entry_time", "exit_time"):
        if col in trades:
            trades[col] = pd.to_datetime(trades[col], utc=True)
    return trades


def load_run(run_id: str) -> SavedRun:
    """Read a saved run: config, results, trades and equity curve (:class:`RunError` if unusable)."""
    import pandas as pd

    from phi.backtest.run_config import RunConfig
    from phi.errors import ConfigError

    results = _read_results(run_id)
    path = run_dir(run_id)
    try:
        config = RunConfig.from_json((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunError(f"run {run_id!r}: cannot read {CONFIG_FILE} ({exc.strerror or exc})") from None
    except ConfigError as exc:
        raise RunError(f"run {run_id!r}: {CONFIG_FILE} is invalid: {exc}") from None
    try:
        trades = _read_trades(path / TRADES_FILE)
        equity = pd.read_parquet(path / EQUITY_FILE)
    except (OSError, ValueError) as exc:
        raise RunError(f"run {run_id!r}: cannot read its trades or equity ({exc})") from None
    return SavedRun(run_id, path, config, results, trades, equity)


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

    ids = list(run_ids)
    if len(ids) < 2:
        raise RunError(f"compare needs at least two run ids, got {len(ids)}")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise RunError(f"run {dup[0]!r} is listed twice")
    configs, results, curves = [], [], []
    for rid in ids:
        res = _read_results(rid)
        path = run_dir(rid)
        try:
            configs.append(_read_json(path / CONFIG_FILE))
            curves.append(pd.read_parquet(path / EQUITY_FILE, columns=["equity"])["equity"].rename(rid))
        except (OSError, ValueError) as exc:
            raise RunError(f"run {rid!r}: cannot read its config or equity ({exc})") from None
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
    """Delete a saved run's directory (:class:`RunError` with a suggestion if there is none)."""
    shutil.rmtree(run_dir(run_id))

