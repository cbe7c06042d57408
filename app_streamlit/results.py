"""One run's results as the views and exports need them, from a fresh run or from the history.

:class:`ResultData` adapts both a ``phi.pipeline.RunResult`` and a saved run
(``phi.backtest.run_history.SavedRun``) to the same fields; it computes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

#: Metric groups of the Metrics tab (metrics phi adds later land in "Other").
METRIC_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "Returns": ("total_return", "cagr", "buy_and_hold_return"),
    "Risk": ("annual_volatility", "sharpe", "sortino", "calmar", "max_drawdown", "max_drawdown_duration"),
    "Trades": ("n_trades", "n_open_trades", "win_rate", "profit_factor", "avg_trade", "expectancy", "exposure"),
    "Accuracy": ("direction_accuracy",),
    "Capital": ("final_equity",),
}
#: How each metric is formatted (default: a plain number).
METRIC_KIND: Final[dict[str, str]] = {
    "total_return": "pct",
    "cagr": "pct",
    "buy_and_hold_return": "pct",
    "annual_volatility": "rate",
    "max_drawdown": "pct",
    "win_rate": "rate",
    "avg_trade": "pct",
    "exposure": "rate",
    "direction_accuracy": "rate",
    "n_trades": "int",
    "n_open_trades": "int",
    "max_drawdown_duration": "int",
    "n_fills": "int",
    "final_equity": "money",
    "expectancy": "money",
}
METRIC_LABELS: Final[dict[str, str]] = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "buy_and_hold_return": "Buy & hold return",
    "annual_volatility": "Annual volatility",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "calmar": "Calmar",
    "max_drawdown": "Max drawdown",
    "max_drawdown_duration": "Max drawdown duration (bars)",
    "n_trades": "Trades",
    "n_open_trades": "Open trades",
    "win_rate": "Win rate",
    "profit_factor": "Profit factor",
    "avg_trade": "Average trade",
    "expectancy": "Expectancy (per trade)",
    "exposure": "Exposure",
    "direction_accuracy": "Direction accuracy",
    "final_equity": "Final equity",
    "n_fills": "Fills",
    "turnover": "Turnover (× mean equity)",
}
#: The eight KPIs of the Summary tab.
KPIS: Final = ("total_return", "cagr", "sharpe", "max_drawdown", "win_rate", "profit_factor", "n_trades", "direction_accuracy")


def label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())


def run_number(run_id: str | None) -> int | None:
    """The run's position in the run history, oldest first (run ids sort by time)."""
    if not run_id:
        return None
    from phi.paths import runs_root

    root = runs_root()
    if not root.is_dir():
        return None
    return sum(1 for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name <= run_id)


def run_name(config: Any, number: int | None = None) -> str:
    """A run named by what it is: ``"rsi+macd · DEMO 1D · 2020–2024 · #3"``."""
    names = "+".join(i.name for i in config.indicators if i.enabled) or "no indicator"
    if config.blend.mode != "weighted_sum":
        names += f" ({config.blend.mode})"
    ds = config.dataset
    a, b = str(ds.start)[:4], str(ds.end)[:4]
    span = a if a == b else f"{a}–{b}"
    if ds.timeframe != "1D" and a == b:
        span = f"{str(ds.start)[:10]}–{str(ds.end)[5:10]}"
    return f"{names} · {ds.symbol} {ds.timeframe} · {span}" + (f" · #{number}" if number else "")


@dataclass
class ResultData:
    """Everything the result tabs and exports show about one run."""

    run_id: str | None
    config: Any  # RunConfig
    equity: pd.Series
    positions: pd.Series
    trades: pd.DataFrame
    metrics: dict[str, Any]
    assumptions: dict[str, Any]
    signal: pd.Series | None = None
    signals: pd.DataFrame | None = None
    frame: pd.DataFrame | None = None
    data: dict[str, Any] = field(default_factory=dict)
    #: why the run is not in the run history (``None`` when it was saved)
    save_error: str | None = None
    #: the run's position in the run history (for its name)
    number: int | None = None
    #: an options run's ``phi.options.OptionsResult`` (legs, greeks, P&L by greek); None otherwise
    options: Any = None

    @property
    def name(self) -> str:
        """``"rsi+macd · DEMO 1D · 2020–2024 · #3"`` (the run id goes in the hover text)."""
        return run_name(self.config, self.number)

    @property
    def tz(self) -> str | None:
        """The exchange's time zone (intraday stamps are shown in it)."""
        tz = self.data.get("exchange_tz")
        return str(tz) if tz else None

    @property
    def currency(self) -> str | None:
        """The dataset's currency when its metadata names one (money axes say it; else "$")."""
        cur = self.data.get("currency")
        return str(cur) if cur else None

    @property
    def warmup(self) -> int:
        """Bars before the metric window (the engine's effective warm-up)."""
        try:
            return int(self.assumptions.get("warmup_bars", 0) or 0)
        except (TypeError, ValueError):
            return 0

    @property
    def initial_capital(self) -> float:
        return float(self.config.engine.initial_capital)

    @property
    def final_equity(self) -> float:
        return float(self.metrics.get("final_equity", self.equity.iloc[-1]))

    @property
    def title(self) -> str:
        ds = self.config.dataset
        return f"{ds.symbol} {ds.timeframe} {ds.start} .. {ds.end} ({ds.vendor})"

    @classmethod
    def from_run(cls, result: Any, frame: pd.DataFrame | None) -> ResultData:
        """From a ``RunResult`` of :func:`phi.pipeline.run` (``frame``: the bars it ran on)."""
        return cls(
            run_id=result.run_id,
            config=result.config,
            equity=result.equity,
            positions=result.positions,
            trades=result.trades,
            metrics=dict(result.metrics),
            assumptions=dict(result.assumptions),
            signal=result.signal,
            signals=result.signals,
            frame=frame,
            data=dict(result.data),
            save_error=getattr(result, "save_error", None),
            number=run_number(result.run_id),
            options=getattr(result, "options", None),
        )

    @classmethod
    def from_saved(cls, saved: Any, frame: pd.DataFrame | None) -> ResultData:
        """From a saved run (``load_run``); per-indicator signals are not stored, the blend is."""
        eq = saved.equity
        index = pd.DatetimeIndex(eq.index)
        return cls(
            run_id=saved.run_id,
            config=saved.config,
            equity=pd.Series(eq["equity"].to_numpy(), index=index, name="equity"),
            positions=pd.Series(eq["position"].to_numpy(), index=index, name="position"),
            trades=saved.trades,
            metrics=saved.metrics,
            assumptions=saved.assumptions,
            signal=pd.Series(eq["signal"].to_numpy(), index=index, name="signal") if "signal" in eq else None,
            signals=None,
            frame=frame,
            data=dict(saved.results.get("data") or {}),
            number=run_number(saved.run_id),
        )

    def grouped_metrics(self) -> dict[str, list[tuple[str, Any, str]]]:
        """``{group: [(label, value, kind)]}`` in :data:`METRIC_GROUPS` order, then "Other"."""
        out: dict[str, list[tuple[str, Any, str]]] = {}
        seen: set[str] = set()
        for group, names in METRIC_GROUPS.items():
            rows = [(label(n), self.metrics[n], METRIC_KIND.get(n, "num")) for n in names if n in self.metrics]
            seen.update(names)
            if rows:
                out[group] = rows
        other = [(label(n), v, METRIC_KIND.get(n, "num")) for n, v in self.metrics.items() if n not in seen]
        if other:
            out["Other"] = other
        return out


def no_trades_reason(data: ResultData) -> str:
    """Why a run has no trade, from what it recorded: no bar after the warm-up, a blended
    signal that never crossed the entry threshold (the engine's rule: long when it rises above
    ``thr``, short below ``-thr``) or was past it from the start (the ledger's ``entry_note``),
    or crosses that filled nothing (sizing and costs)."""
    from phi.backtest.summary import metric_window

    n = len(data.equity)
    if metric_window(data.equity.index, data.warmup) is None:
        return (f"No trades: no bar after the warm-up ({data.warmup:,} bars, the data has {n:,}); lower the "
                "extra warm-up in Step 4 or use a longer date range.")  # fmt: skip
    engine = data.config.engine
    thr = float(engine.entry_threshold)
    sig = data.signal
    if sig is not None and len(sig):
        after = pd.to_numeric(pd.Series(sig).iloc[data.warmup :], errors="coerce").dropna()
        up = bool((after > thr).any())
        down = bool(engine.allow_short) and bool((after < -thr).any())
        if not (up or down):
            side = f"above {thr:g}" + (f" or below {-thr:g}" if engine.allow_short else "")
            return f"No trades: the blended signal never went {side} (the entry threshold) after the warm-up."
    note = data.assumptions.get("entry_note")  # the engine's: already past the threshold at the start
    if note and not data.assumptions.get("skipped_entries"):
        return f"No trades: {note}."
    options = data.config.options if getattr(data.config, "mode", "equities") == "options" else None
    if options is not None:
        skipped = int(data.assumptions.get("skipped_entries") or 0)
        note = data.assumptions.get("skipped_note")  # the simulator's reason (a run saved before it: none)
        if skipped and note and note != "none":
            return f"No trades: {note}."
        if skipped:  # a run saved before the note: no reason recorded
            fix = ("add capital in Step 4" if options.contracts is not None else
                   "raise the max loss % of cash per entry or set contracts per entry in Step 4")  # fmt: skip
            return (f"No trades: all {skipped:,} options entries were skipped by the sizing "
                    f"({data.assumptions.get('sizing', 'risk per entry')}); {fix}.")  # fmt: skip
    return ("No trades: the signal crossed the entry threshold but no order was filled; check the sizing and "
            "costs in Step 4 (a fixed commission above the cash, or a size below one whole unit, buys nothing).")  # fmt: skip
