"""MomentumRotation: a multi-asset preset on the portfolio engine (:mod:`phi.backtest.portfolio`).

Every ``every`` bars, rank the ``lookback``-bar momentum (close / close ``lookback`` bars
earlier) of the universe and hold the best one with all the equity (REFERENCE §3.2:
SPY, VEU, AGG, GLD, 20 days, every 5 days). Weights from
:func:`phi.backtest.weights.momentum_rotation_weights`, rebalanced only when the choice
changes, fills at each symbol's next open with the cost preset's costs.

The preset makes a :class:`~phi.backtest.portfolio_run_config.PortfolioRunConfig`
(:func:`rotation_config`), run by :func:`phi.run` and saved in the run history like any run.

The prediction scorecard follows the reference's calls: on each rotation day UP for the
chosen symbol and DOWN for the others, each scored against that symbol's next close-to-close
move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from phi.strategies.catalogue import Preset, register

if TYPE_CHECKING:
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.backtest.run_config import DatasetSpec
    from phi.strategies.runner import PresetRun

__all__ = ["MOMENTUM_ROTATION", "ROTATION_DEFAULTS", "rotation_config", "rotation_scorecard", "run_portfolio_preset"]

#: The reference's universe and settings.
ROTATION_DEFAULTS: Final[dict[str, Any]] = {"lookback": 20, "every": 5, "top_n": 1}


def rotation_scorecard(weights: pd.DataFrame, closes: pd.DataFrame) -> dict[str, float]:
    """Scorecard of the rotation calls: +1 (UP) for a symbol chosen on a rotation day, -1
    (DOWN) for the others, NaN on other days; every symbol's calls pooled, each scored
    against its own next close-to-close move."""
    from phi.backtest.scorecard import prediction_scorecard

    sig = np.where(weights.to_numpy() > 0, 1.0, np.where(weights.to_numpy() == 0, -1.0, np.nan))
    sig[-1, :] = np.nan  # no next close: also keeps one symbol's last bar from pairing with the next's first
    close = closes.ffill().to_numpy()
    ok = ~np.isnan(close).any(axis=1)
    return prediction_scorecard(sig[ok].T.ravel(), close[ok].T.ravel())


def run_portfolio_preset(
    preset: Preset,
    dataset: DatasetSpec,
    *,
    initial_capital: float | None = None,
    costs: str = "us_equities",
    benchmark: str | None = None,
    save: bool = True,
) -> PresetRun:
    """Run a portfolio preset on its universe with ``dataset``'s vendor, timeframe and dates
    (through :func:`phi.run`; saved with its scorecard and benchmark files like any preset)."""
    from phi.errors import DataError
    from phi.pipeline import run
    from phi.strategies.runner import PresetRun, _benchmark, _save

    assert preset.portfolio is not None
    config = preset.portfolio(dataset, initial_capital=initial_capital, costs=costs)
    try:
        result = run(config, save=False)
    except DataError as exc:  # too few bars: say which preset
        raise DataError(f"{preset.name}: {exc}") from None
    out = PresetRun(preset, result, scorecard=rotation_scorecard(result.weights, result.closes))
    if benchmark:
        ppy = result.assumptions.get("periods_per_year")
        periods = float(ppy) if isinstance(ppy, int | float) and ppy > 0 else 252.0
        out.benchmark = _benchmark(result.equity, dataset, benchmark, periods, config.portfolio.initial_capital)
        out.benchmark_symbol = benchmark.upper()
    if save:
        _save(out)
    return out


def rotation_config(
    dataset: DatasetSpec, *, initial_capital: float | None = None, costs: str = "us_equities"
) -> PortfolioRunConfig:
    """The MomentumRotation run config on ``dataset``'s vendor, timeframe and dates: SPY, VEU,
    AGG, GLD, :data:`ROTATION_DEFAULTS`, rebalanced when the choice changes, whole units."""
    import dataclasses

    from phi.backtest.portfolio_config import PortfolioConfig
    from phi.backtest.portfolio_run_config import PortfolioRunConfig, WeightRule

    cfg = PortfolioConfig(rebalance="on_change", fractional=False).with_cost_preset(costs)
    if initial_capital is not None:
        cfg = dataclasses.replace(cfg, initial_capital=initial_capital)
    return PortfolioRunConfig(
        symbols=MOMENTUM_ROTATION.symbols,
        vendor=dataset.vendor,
        timeframe=dataset.timeframe,
        start=dataset.start,
        end=dataset.end,
        weights=WeightRule("rotation", dict(ROTATION_DEFAULTS)),
        portfolio=cfg,
        description=f"{MOMENTUM_ROTATION.name} preset: {MOMENTUM_ROTATION.rule}",
        tags=(f"preset:{MOMENTUM_ROTATION.key}",),
    )


MOMENTUM_ROTATION = register(
    Preset(
        name="MomentumRotation",
        family="portfolio",
        description="Hold the strongest of four asset classes, re-ranked weekly",
        rule="every 5 bars hold the symbol with the best 20-bar momentum (close / close 20 bars earlier) with all the equity",
        sides="long only",
        defaults="SPY, VEU, AGG, GLD; lookback 20, every 5 bars, top 1, 100 % of equity, whole units",
        source="reference strategies/momentum.py (REFERENCE §3.2), on the portfolio engine",
        aliases=("momentum", "rotation"),
        portfolio=rotation_config,
        symbols=("SPY", "VEU", "AGG", "GLD"),
    )
)
