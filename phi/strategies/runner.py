"""Run presets: one on a dataset (:func:`run_preset`) or several head to head (:func:`compare`).

A single-symbol preset runs through :func:`phi.run` (the one pipeline: data, indicators,
blend, engine), so its saved run re-runs bit for bit and opens in the workbench like any
other. Beside the engine's metrics each run gets the prediction scorecard of the signal it
traded (:func:`phi.backtest.scorecard.prediction_scorecard`) and, with a benchmark symbol of
the same vendor, the benchmark-relative metrics (:func:`phi.backtest.benchmark.benchmark_metrics`);
both are saved beside the run (``scorecard.json``, ``benchmark.json``).

Each preset of a comparison is a full run (equity curve and trades are saved), not a lean
``run_backtest_many`` sweep, whose metrics-only output could not be saved or opened.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from phi.errors import ConfigError, PhiError, shown
from phi.strategies.catalogue import Preset, get, list_presets

if TYPE_CHECKING:
    from phi.backtest.engine import BacktestResult
    from phi.backtest.run_config import DatasetSpec

__all__ = ["COMPARE_METRICS", "Comparison", "PresetRun", "compare", "run_preset"]

#: Metrics a comparison can be sorted by, and whether higher is better.
COMPARE_METRICS: Final[dict[str, bool]] = {
    "sharpe": True,
    "total_return": True,
    "cagr": True,
    "sortino": True,
    "calmar": True,
    "max_drawdown": True,  # a fraction <= 0: closer to 0 is better
    "annual_volatility": False,
    "win_rate": True,
    "profit_factor": True,
    "n_trades": True,
    "exposure": True,
    "accuracy": True,
    "edge": True,
    "excess_return": True,
    "information_ratio": True,
    "alpha": True,
}

Progress = Callable[[str, int, int], None]


@dataclass
class PresetRun:
    """One preset's run: the engine's result plus its scorecard and benchmark figures.

    Attributes
    ----------
    preset : Preset
    result : BacktestResult
        A :class:`~phi.pipeline.RunResult` (single symbol) or a portfolio result.
    scorecard : dict
        :func:`~phi.backtest.scorecard.prediction_scorecard` of the traded signal.
    benchmark : dict or None
        :func:`~phi.backtest.benchmark.benchmark_metrics` against ``benchmark_symbol``.
    benchmark_symbol : str or None
    run_id, save_error : str or None
        The saved run's id, or why it was not saved (one line).
    note : str or None
        Anything else to say about the run.
    """

    preset: Preset
    result: BacktestResult
    scorecard: dict[str, float] = field(default_factory=dict)
    benchmark: dict[str, Any] | None = None
    benchmark_symbol: str | None = None
    run_id: str | None = None
    save_error: str | None = None
    note: str | None = None

    def row(self) -> dict[str, Any]:
        """The comparison-table row: metrics, scorecard and benchmark figures (floats)."""
        m = self.result.metrics
        row: dict[str, Any] = {"strategy": self.preset.name}
        for key in ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "annual_volatility", "calmar",
                    "win_rate", "profit_factor", "n_trades", "n_open_trades", "exposure"):  # fmt: skip
            row[key] = float(m.get(key, math.nan))
        for key in ("accuracy", "up_accuracy", "down_accuracy", "hits", "misses", "edge"):
            row[key] = float(self.scorecard.get(key, math.nan))
        if self.benchmark is not None:
            for key in ("excess_return", "beta", "alpha", "information_ratio", "tracking_error", "correlation"):
                row[key] = float(self.benchmark.get(key, math.nan))
        row["run_id"] = self.run_id
        return row


@dataclass
class Comparison:
    """A head-to-head comparison: every run and the table sorted by ``metric``."""

    runs: list[PresetRun]
    table: pd.DataFrame
    metric: str
    failures: dict[str, str] = field(default_factory=dict)


def _frame(dataset: DatasetSpec) -> pd.DataFrame:
    from phi.data.store import get_dataset

    ds = get_dataset(dataset.symbol, dataset.start, dataset.end, dataset.timeframe, dataset.vendor, path=dataset.path)
    return ds.frame


def _benchmark(
    equity: pd.Series, dataset: DatasetSpec, symbol: str, periods: float, capital: float
) -> dict[str, Any]:
    from phi.backtest.benchmark import benchmark_metrics
    from phi.data.store import get_dataset

    bench = get_dataset(symbol, dataset.start, dataset.end, dataset.timeframe, dataset.vendor)
    return benchmark_metrics(equity, bench.frame["close"], periods_per_year=periods, initial_capital=capital)


def _json(obj: dict[str, Any]) -> bytes:
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in obj.items() if not isinstance(v, pd.Series)}
    return (json.dumps(clean, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def _save(run: PresetRun) -> None:
    from phi.backtest.run_history import save_run

    res: Any = run.result
    extra = {**(res.run_files() if hasattr(res, "run_files") else {}), "scorecard.json": _json(run.scorecard)}  # a portfolio's holdings, fills, ...
    if run.benchmark is not None:
        extra["benchmark.json"] = _json({**run.benchmark, "symbol": run.benchmark_symbol})
    try:
        run.run_id = save_run(res.config, res, data_metadata=res.data, extra_files=extra)
    except PhiError as exc:
        run.save_error = str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever breaks the save, keep the result
        run.save_error = f"could not save the run: {type(exc).__name__}: {exc}"
    res.run_id, res.save_error = run.run_id, run.save_error


def _check_args(dataset: Any, benchmark: Any, save: Any, progress: Any = None) -> None:
    """One-line :class:`ConfigError` for an argument of the wrong type (before any bar loads)."""
    from phi.backtest.run_config import DatasetSpec

    if not isinstance(dataset, DatasetSpec):
        raise ConfigError(f"dataset must be a DatasetSpec, got {type(dataset).__name__}")
    if benchmark is not None and not isinstance(benchmark, str):
        raise ConfigError(f"benchmark must be a symbol (a string) or None, got {shown(benchmark)}")
    if benchmark and dataset.vendor == "csv":  # found after the run, with the CSV's path message
        raise ConfigError(
            f"benchmark {shown(benchmark)}: a benchmark is a symbol of the dataset's vendor, and vendor "
            "'csv' reads one file; run the benchmark's CSV as its own run and compare the two"
        )
    if not isinstance(save, bool):
        raise ConfigError(f"save must be True or False, got {shown(save)}")
    if progress is not None and not callable(progress):
        raise ConfigError(f"progress must be a callable (name, done, total), got {type(progress).__name__}")


def run_preset(
    name: str | Preset,
    dataset: DatasetSpec,
    *,
    initial_capital: float | None = None,
    costs: str = "us_equities",
    benchmark: str | None = None,
    save: bool = True,
    **engine: Any,
) -> PresetRun:
    """Run one preset on ``dataset`` (a portfolio preset on its own universe, same vendor/dates).

    Parameters
    ----------
    name : str or Preset
        Any preset name (case-insensitive, aliases accepted).
    dataset : DatasetSpec
    initial_capital : float, optional
        Default 100 000.
    costs : str
        Cost preset (``us_equities``, ``crypto``, ``fx``, ``none``).
    benchmark : str, optional
        A symbol of the same vendor: adds the benchmark-relative metrics.
    save : bool
        Save the run (with ``scorecard.json`` and ``benchmark.json``). A failed save keeps the
        result and says why in ``save_error``.
    **engine
        Engine overrides (``stop_loss_pct=0.05``, ``allow_short=True``, ...).
    """
    from phi.backtest.scorecard import prediction_scorecard

    preset = name if isinstance(name, Preset) else get(name)
    _check_args(dataset, benchmark, save)
    if preset.portfolio is not None:
        from phi.strategies.rotation import run_portfolio_preset

        return run_portfolio_preset(preset, dataset, initial_capital=initial_capital, costs=costs, benchmark=benchmark, save=save)
    from phi.pipeline import run

    config = preset.config(dataset, initial_capital=initial_capital, costs=costs, **engine)
    result = run(config, save=False)
    frame = _frame(dataset)
    if preset.after_run is not None:
        preset.after_run(result, frame)
    signal = result.signal if result.signal is not None else pd.Series(math.nan, index=frame.index)
    out = PresetRun(preset, result, scorecard=prediction_scorecard(signal, frame["close"]))
    if benchmark:
        ppy = result.assumptions.get("periods_per_year")
        periods = float(ppy) if isinstance(ppy, int | float) and ppy > 0 else 252.0
        out.benchmark = _benchmark(result.equity, dataset, benchmark, periods, config.engine.initial_capital)
        out.benchmark_symbol = benchmark.upper()
    if save:
        _save(out)
    return out


def _sort(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    if metric not in COMPARE_METRICS:
        raise ConfigError(f"cannot sort by {metric!r}; choose one of {', '.join(COMPARE_METRICS)}")
    if metric not in table.columns:
        raise ConfigError(f"cannot sort by {metric!r}: it needs --benchmark (a benchmark symbol)")
    return table.sort_values(metric, ascending=not COMPARE_METRICS[metric], na_position="last", kind="stable").reset_index(drop=True)


def compare(
    names: Sequence[str] | None,
    dataset: DatasetSpec,
    *,
    metric: str = "sharpe",
    benchmark: str | None = None,
    initial_capital: float | None = None,
    costs: str = "us_equities",
    save: bool = True,
    progress: Progress | None = None,
) -> Comparison:
    """Run presets head to head on one dataset; the table is sorted by ``metric``.

    ``names`` = None runs every preset. A preset that fails (e.g. too few bars for its warm-up)
    is reported in ``failures`` with its one-line reason; the others still run.
    """
    if not isinstance(metric, str) or metric not in COMPARE_METRICS:
        raise ConfigError(f"cannot sort by {shown(metric)}; choose one of {', '.join(COMPARE_METRICS)}")
    if isinstance(names, str) or not (names is None or isinstance(names, Sequence | set | frozenset)):
        raise ConfigError(f"names must be a list of preset names (or None for all), got {shown(names)}")
    if names is not None and len(names) == 0:  # not "all": an emptied selection runs nothing
        raise ConfigError("names is empty: give preset names to compare, or None for every preset")
    _check_args(dataset, benchmark, save, progress)
    from phi.backtest.costs import cost_preset

    cost_preset(costs)  # a bad preset fails every run alike: said once, before any runs
    presets = list_presets() if not names else list(dict.fromkeys(get(n) for n in names))
    runs: list[PresetRun] = []
    failures: dict[str, str] = {}
    for i, preset in enumerate(presets):
        if progress is not None:
            progress(preset.name, i, len(presets))
        try:
            runs.append(run_preset(preset, dataset, initial_capital=initial_capital, costs=costs, benchmark=benchmark, save=save))
        except PhiError as exc:
            failures[preset.name] = str(exc)
    if progress is not None:
        progress("done", len(presets), len(presets))
    table = pd.DataFrame([r.row() for r in runs])
    if len(table):
        table = _sort(table, metric)
        table["run_id"] = table["run_id"].astype(object).where(table["run_id"].notna(), None)
    return Comparison(runs=runs, table=table, metric=metric, failures=failures)
