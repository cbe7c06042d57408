"""Sweep summaries: the best combination per symbol and the metric across the universe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from phi.errors import ConfigError, shown

if TYPE_CHECKING:
    import pandas as pd

    from phi.batch.runner import BatchResult

__all__ = ["SweepSummary", "sweep_summary"]

#: Metrics where lower is better (max_drawdown is negative: higher is better, like the rest).
LOWER_IS_BETTER = frozenset({"annual_volatility"})


@dataclass
class SweepSummary:
    """``best``: one row per symbol, its best combination by ``metric`` (symbols where every
    combination failed are absent). ``distribution``: count, mean, quantiles of ``metric``
    over every run of the sweep and over each symbol's best. ``rows``: every run."""

    metric: str
    rows: pd.DataFrame
    best: pd.DataFrame
    distribution: pd.DataFrame


def sweep_summary(result: BatchResult, metric: str = "sharpe") -> SweepSummary:
    """Summarise a batch of symbol x parameter runs by ``metric``; configs skipped because
    they were saved before count with that saved run's metrics."""
    import pandas as pd

    from phi.batch.runner import BatchResult

    if not isinstance(result, BatchResult):
        raise ConfigError(f"sweep_summary expects a BatchResult (from run_batch), got {type(result).__name__}")
    if not isinstance(metric, str):
        raise ConfigError(f"metric must be a metric name, got {shown(metric)}")
    table = result.table()
    rows = table
    if len(table):  # every config that ran, saved or not (an unsaved run keeps its metrics and
        # says why in save_error), and every skipped one whose saved run supplies its metrics
        ran = table["status"] == "ok"
        rows = table[ran | ((table["status"] == "skipped") & table["run_id"].notna())]
    if len(rows) and metric not in rows:
        from phi.batch.runner import OUTCOME_METRICS

        raise ConfigError(f"--metric must be one of {', '.join(OUTCOME_METRICS)}, got {metric!r}")
    if not len(rows):
        empty = pd.DataFrame()
        return SweepSummary(metric, rows, empty, empty)
    ascending = metric in LOWER_IS_BETTER
    ranked = rows.assign(_key=rows[metric].astype(float)).dropna(subset=["_key"])
    ranked = ranked.sort_values(["symbol", "_key", "index"], ascending=[True, ascending, True], kind="stable")
    best = ranked.groupby("symbol", sort=True).head(1).drop(columns="_key").set_index("symbol")
    stats = {
        "all runs": rows[metric].astype(float),
        "best/symbol": best[metric].astype(float),
    }
    dist = pd.DataFrame(
        {name: {"count": s.count(), "mean": s.mean(), "min": s.min(), "25%": s.quantile(0.25),
                "median": s.median(), "75%": s.quantile(0.75), "max": s.max(),
                "share > 0": (s.dropna() > 0).mean() if s.count() else float("nan")}
         for name, s in stats.items()}  # fmt: skip
    ).T
    return SweepSummary(metric, rows, best, dist)
