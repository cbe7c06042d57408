"""MomentumRotation: a multi-asset preset on the portfolio engine (:mod:`phi.backtest.portfolio`).

Every ``every`` bars, rank the ``lookback``-bar momentum (close / close ``lookback`` bars
earlier) of the universe and hold the best one with all the equity (REFERENCE §3.2:
SPY, VEU, AGG, GLD, 20 days, every 5 days). Weights from
:func:`phi.backtest.weights.momentum_rotation_weights`, rebalanced only when the choice
changes, fills at each symbol's next open with the cost preset's costs.

The prediction scorecard follows the reference's calls: on each rotation day UP for the
chosen symbol and DOWN for the others, each scored against that symbol's next close-to-close
move. A portfolio run is not saved to the run history (a saved run is one symbol's
``RunConfig``); :attr:`PresetRun.note` says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from phi.strategies.catalogue import Preset, register

if TYPE_CHECKING:
    from phi.backtest.run_config import DatasetSpec
    from phi.strategies.runner import PresetRun

__all__ = ["MOMENTUM_ROTATION", "ROTATION_DEFAULTS", "rotation_scorecard", "run_portfolio_preset"]

#: The reference's universe and settings.
ROTATION_DEFAULTS: Final[dict[str, Any]] = {"lookback": 20, "every": 5, "top_n": 1}
NOT_SAVED: Final = "portfolio runs are not saved to the run history (a saved run holds one symbol's RunConfig)"


def _closes(bars: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.DataFrame({sym: df["close"] for sym, df in bars.items()}).sort_index()


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
    """Run a portfolio preset on its universe with ``dataset``'s vendor, timeframe and dates."""
    from phi.data.store import get_dataset
    from phi.strategies.runner import PresetRun, _benchmark

    bars = {
        sym: get_dataset(sym, dataset.start, dataset.end, dataset.timeframe, dataset.vendor).frame
        for sym in preset.symbols
    }
    assert preset.portfolio is not None
    result, weights = preset.portfolio(bars, initial_capital=initial_capital, costs=costs)
    out = PresetRun(preset, result, scorecard=rotation_scorecard(weights, _closes(bars)), note=NOT_SAVED)
    if benchmark:
        ppy = result.assumptions.get("periods_per_year")
        periods = float(ppy) if isinstance(ppy, int | float) and ppy > 0 else 252.0
        capital = float(result.equity.iloc[0]) if initial_capital is None else initial_capital
        out.benchmark = _benchmark(result.equity, dataset, benchmark, periods, capital)
        out.benchmark_symbol = benchmark.upper()
    return out


def momentum_rotation(
    bars: dict[str, pd.DataFrame], *, initial_capital: float | None = None, costs: str = "us_equities"
) -> tuple[Any, pd.DataFrame]:
    """The rotation on ``bars``: ``(PortfolioResult, target weights)``."""
    from phi.backtest.portfolio import PortfolioConfig, run_portfolio
    from phi.backtest.weights import momentum_rotation_weights

    closes = _closes(bars)
    need = ROTATION_DEFAULTS["lookback"] + 1
    if len(closes) <= need:
        from phi.errors import DataError

        raise DataError(
            f"MomentumRotation needs more than {need} bars (a {ROTATION_DEFAULTS['lookback']}-bar momentum and a bar "
            f"to trade on); the data has {len(closes)}. Use a longer date range"
        )
    weights = momentum_rotation_weights(closes, **ROTATION_DEFAULTS)
    cfg = PortfolioConfig(rebalance="on_change", fractional=False).with_cost_preset(costs)
    if initial_capital is not None:
        import dataclasses

        cfg = dataclasses.replace(cfg, initial_capital=initial_capital)
    return run_portfolio(bars, weights, cfg), weights


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
        portfolio=momentum_rotation,
        symbols=("SPY", "VEU", "AGG", "GLD"),
    )
)
