"""How much an options result owes to its price assumptions, and what options added.

:func:`options_sensitivity` runs one options backtest over a grid of IV multipliers (x the
config's ``iv_premium``) and bid-ask haircuts; :func:`options_vs_underlying` puts the options
run beside the underlying traded on the same signal by the equity engine.

On the same trades a higher haircut can only lower every fill, so it never raises final
equity; the grid shows how fast the edge goes. (Trades can differ across the grid when sizing
or premium-relative stops and targets react to the prices.)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import pandas as pd

from phi.backtest.engine_config import EngineConfig
from phi.errors import ConfigError, shown
from phi.options.config import OptionsConfig

__all__ = [
    "DEFAULT_HAIRCUTS",
    "DEFAULT_IV_MULTIPLIERS",
    "SENSITIVITY_METRICS",
    "options_sensitivity",
    "options_vs_underlying",
    "sensitivity_grid",
    "sensitivity_table",
]

DEFAULT_IV_MULTIPLIERS: Final = (0.8, 1.0, 1.25, 1.5)
DEFAULT_HAIRCUTS: Final = (0.0, 0.01, 0.02, 0.05)
#: Most grid cells one call may run (each cell is a full options backtest).
MAX_CELLS: Final = 400
#: Columns of a sensitivity table (from each run's metrics).
SENSITIVITY_METRICS: Final = ("final_equity", "total_return", "sharpe", "max_drawdown", "n_trades")
#: Rows of :func:`options_vs_underlying`.
COMPARE_METRICS: Final = (
    "final_equity", "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "volatility",
    "n_trades", "win_rate", "profit_factor", "exposure",
)  # fmt: skip


def _grid(values: Iterable[Any], name: str, ok: Callable[[float], bool], rule: str) -> tuple[float, ...]:
    try:
        if isinstance(values, str | Mapping):
            raise TypeError
        items: list[Any] = list(values)
        if len(items) > MAX_CELLS or any(isinstance(v, bool | str) for v in items):
            raise TypeError
        out = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be a list of numbers (at most {MAX_CELLS}), got {shown(values)}"
        ) from None
    if not out:
        raise ConfigError(f"{name} is empty; give at least one value")
    for v in out:
        if not (math.isfinite(v) and ok(v)):
            raise ConfigError(f"{name}: {v!r} is not allowed; each value must be {rule}")
    if len(set(out)) != len(out):
        raise ConfigError(f"{name} lists a value twice: {list(out)}")
    return out


def cell_options(options: OptionsConfig, iv_multiplier: float, haircut: float) -> OptionsConfig:
    """The grid cell's OptionsConfig: ``iv_premium x iv_multiplier`` and the haircut (on a
    chain the haircut applies to the mid, so ``chain_fill="mid"``)."""
    if options.chain is not None:
        return dataclasses.replace(options, bid_ask_haircut=haircut, chain_fill="mid")
    return dataclasses.replace(options, iv_premium=options.iv_premium * iv_multiplier, bid_ask_haircut=haircut)


def check_grid(
    options: OptionsConfig, iv_multipliers: Sequence[float], haircuts: Sequence[float]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Validated grids (one-line :class:`ConfigError` naming the bad value)."""
    ivs = _grid(iv_multipliers, "iv_multipliers", lambda v: 0.0 < v <= 100.0, "in (0, 100]")
    hcs = _grid(haircuts, "haircuts", lambda v: 0.0 <= v < 1.0, "in [0, 1)")
    if len(ivs) * len(hcs) > MAX_CELLS:
        raise ConfigError(
            f"iv_multipliers x haircuts is {len(ivs)} x {len(hcs)} = {len(ivs) * len(hcs):,} "
            f"backtests; at most {MAX_CELLS} (give fewer values)"
        )
    if options.chain is not None and ivs != (1.0,):
        raise ConfigError(
            "iv_multipliers: a chain's prices come from its quotes, so only 1.0 applies "
            "(the IV multiplier scales the synthetic vol model)"
        )
    return ivs, hcs


def sensitivity_table(cells: Mapping[tuple[float, float], tuple[OptionsConfig, Mapping[str, Any]]]) -> pd.DataFrame:
    """``{(iv_multiplier, haircut): (options, metrics)}`` -> one row per cell."""
    rows = [
        {"iv_multiplier": m, "haircut": h, "iv_premium": o.iv_premium,
         **{k: metrics.get(k, float("nan")) for k in SENSITIVITY_METRICS}}
        for (m, h), (o, metrics) in cells.items()
    ]  # fmt: skip
    return pd.DataFrame(rows).set_index(["iv_multiplier", "haircut"])


def options_sensitivity(
    ohlcv: pd.DataFrame,
    signal: Any,
    options: OptionsConfig | None = None,
    engine: EngineConfig | None = None,
    *,
    iv_multipliers: Sequence[float] = DEFAULT_IV_MULTIPLIERS,
    haircuts: Sequence[float] = DEFAULT_HAIRCUTS,
) -> pd.DataFrame:
    """The same options backtest over a grid of IV multipliers x bid-ask haircuts.

    Parameters
    ----------
    ohlcv, signal, options, engine
        As for :func:`phi.options.run_options_backtest`.
    iv_multipliers : sequence of float
        Factors on ``options.iv_premium`` (> 0). On a chain only ``(1.0,)``.
    haircuts : sequence of float
        ``bid_ask_haircut`` values in [0, 1) (on a chain: of the mid, ``chain_fill="mid"``).
        The grid runs one backtest per cell: at most :data:`MAX_CELLS` (400) cells.

    Returns
    -------
    DataFrame
        Indexed by ``(iv_multiplier, haircut)``; columns ``iv_premium`` and
        :data:`SENSITIVITY_METRICS`. :func:`sensitivity_grid` pivots one metric for a heatmap.
    """
    from phi.options.simulator import run_options_backtest

    options = OptionsConfig() if options is None else options
    ivs, hcs = check_grid(options, iv_multipliers, haircuts)
    cells = {}
    for m in ivs:
        for h in hcs:
            o = cell_options(options, m, h)
            cells[(m, h)] = (o, run_options_backtest(ohlcv, signal, o, engine).metrics)
    return sensitivity_table(cells)


def sensitivity_grid(table: pd.DataFrame, metric: str = "final_equity") -> pd.DataFrame:
    """One metric of :func:`options_sensitivity` as IV multipliers (rows) x haircuts (columns)."""
    if metric not in table.columns:
        raise ConfigError(f"metric {metric!r} is not in the table; choose one of {', '.join(table.columns)}")
    return table[metric].unstack("haircut")


def compare_table(options_metrics: Mapping[str, Any], underlying_metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Metrics of the options run and of the underlying-only run, side by side."""
    return pd.DataFrame(
        {
            "options": [options_metrics.get(k, float("nan")) for k in COMPARE_METRICS],
            "underlying": [underlying_metrics.get(k, float("nan")) for k in COMPARE_METRICS],
        },
        index=pd.Index(COMPARE_METRICS, name="metric"),
    )


def options_vs_underlying(
    ohlcv: pd.DataFrame,
    signal: Any,
    options: OptionsConfig | None = None,
    engine: EngineConfig | None = None,
) -> pd.DataFrame:
    """The options run beside the underlying traded by the equity engine on the same signal
    (same bars, capital, thresholds and warm-up; the engine's own exits, costs and sizing)."""
    from phi.backtest.engine import BacktestResult, run_backtest
    from phi.options.simulator import run_options_backtest

    engine = EngineConfig() if engine is None else engine
    opt = run_options_backtest(ohlcv, signal, options, engine)
    und = run_backtest(ohlcv, signal, engine)
    assert isinstance(und, BacktestResult)
    return compare_table(opt.metrics, und.metrics)
