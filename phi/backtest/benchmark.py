"""Benchmark-relative results: a strategy's equity against a benchmark's closes.

Conventions (matched to empyrical, risk-free rate 0; tested against empyrical-reloaded):

* Both series are aligned on their **common stamps** (inner join); everything below is on
  those stamps only. Returns are simple returns between consecutive common stamps
  (``equity.pct_change()``, the first stamp dropped), so a benchmark bar missing on a
  strategy day makes that return span two bars on both sides.
* ``benchmark_equity`` = benchmark close scaled so that it equals the strategy's equity
  (or ``initial_capital`` if given) at the first common stamp: "the same money in the
  benchmark".
* ``excess_return`` = strategy total return − benchmark total return over the common window.
* ``beta`` = cov(r, b) / var(b) (both with ddof=0, empyrical ``beta``).
* ``alpha`` is **annualised by compounding**: ``(1 + mean(r − beta·b)) ** periods − 1``
  (empyrical ``alpha``).
* ``tracking_error`` = std(r − b, ddof=1) · sqrt(periods); ``information_ratio`` =
  mean(r − b) / std(r − b, ddof=1) · sqrt(periods) (empyrical ``excess_sharpe`` annualised).
  Active returns that differ by no more than their rounding (a few ulps of 1 + |return|)
  have no dispersion: tracking error 0 and an information ratio of NaN when they are all 0
  (the strategy *is* the benchmark, e.g. equity proportional to its closes) or +/-inf when
  they are a constant. empyrical keeps the rounding residue there (a tracking error of 1e-15
  and an information ratio of pure noise, e.g. -1.96), as :mod:`phi.backtest.metrics` notes
  for constant returns.
* ``correlation`` = Pearson correlation of r and b; NaN when either has no dispersion beyond
  rounding.

Fewer than two common returns give NaN for every statistic.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from phi.backtest.engine_config import MAX_CAPITAL
from phi.errors import EngineError, shown

__all__ = ["BENCHMARK_METRIC_NAMES", "benchmark_metrics"]

#: Rounding of one simple return ``a / b - 1``, per unit of ``1 + |return|`` (a few ulps).
_ROUNDING: Final = 8.0 * float(np.finfo(np.float64).eps)

#: The float keys of :func:`benchmark_metrics`' dict, in display order.
BENCHMARK_METRIC_NAMES: Final = (
    "benchmark_total_return",
    "strategy_total_return",
    "excess_return",
    "beta",
    "alpha",
    "information_ratio",
    "tracking_error",
    "correlation",
    "n_common_bars",
)


def _series(x: object, name: str) -> pd.Series:
    if not isinstance(x, pd.Series):
        raise EngineError(f"{name} must be a pandas Series, got {type(x).__name__}")
    try:
        out = x.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"{name} must be numeric ({exc})") from None
    if not out.index.is_unique:
        raise EngineError(f"{name} has duplicate stamps; keep one value per stamp")
    return out.dropna()


def benchmark_metrics(
    equity: pd.Series,
    benchmark_close: pd.Series,
    periods_per_year: float = 252.0,
    initial_capital: float | None = None,
) -> dict[str, Any]:
    """Compare an equity curve with a benchmark held over the same stamps.

    Parameters
    ----------
    equity : Series
        The strategy's equity at each bar's close.
    benchmark_close : Series
        The benchmark's closes (any stamps; aligned on the common ones).
    periods_per_year : float, default 252
        Annualisation factor of one return period (252 for daily exchange bars).
    initial_capital : float, optional
        Money put into the benchmark at the first common stamp; defaults to the strategy's
        equity there.

    Returns
    -------
    dict
        ``benchmark_equity`` (Series on the common stamps) plus the floats
        :data:`BENCHMARK_METRIC_NAMES` (see the module notes for each convention).
    """
    if (
        isinstance(periods_per_year, bool)
        or not isinstance(periods_per_year, (int, float, np.integer, np.floating))
        or not 0.0 < periods_per_year < 1e7
    ):
        raise EngineError(f"periods_per_year must be a number > 0, got {shown(periods_per_year)}")
    eq = _series(equity, "equity")
    bench = _series(benchmark_close, "benchmark_close")
    if not (bench > 0).all() or np.isinf(bench.to_numpy()).any():
        raise EngineError("benchmark_close has a zero, negative or infinite price; repair the data first")
    if np.isinf(eq.to_numpy()).any():
        raise EngineError("equity has an infinite value")
    if initial_capital is not None and (
        isinstance(initial_capital, bool)
        or not isinstance(initial_capital, (int, float, np.integer, np.floating))
        or not 0.0 < initial_capital <= MAX_CAPITAL
    ):
        raise EngineError(
            f"initial_capital must be a number in (0, {MAX_CAPITAL:g}], got {shown(initial_capital)}"
        )
    common = eq.index.intersection(bench.index, sort=False).sort_values()
    if len(common) == 0:
        raise EngineError(
            "equity and benchmark_close share no stamps (check the dates, the time zone and "
            "the timeframe of the benchmark)"
        )
    eq, bench = eq.loc[common], bench.loc[common]
    base = float(eq.iloc[0]) if initial_capital is None else float(initial_capital)
    bench_equity = (bench / float(bench.iloc[0]) * base).rename("benchmark_equity")
    ann = float(periods_per_year)
    e, b = eq.to_numpy(), bench.to_numpy()
    strat_tr = float(e[-1] / e[0] - 1.0) if e[0] != 0 else float("nan")
    bench_tr = float(b[-1] / b[0] - 1.0)
    nan = float("nan")
    beta = alpha = ir = te = corr = nan
    if len(e) >= 3:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = e[1:] / e[:-1] - 1.0
            m = b[1:] / b[:-1] - 1.0
            ok = np.isfinite(r)
            r, m = r[ok], m[ok]
            if r.size >= 2:
                mres = m - m.mean()
                var_m = float(np.mean(mres * mres))
                if var_m >= 1e-30:
                    beta = float(np.mean(mres * r) / var_m)
                    with np.errstate(over="ignore", invalid="ignore"):  # inf / NaN, no warning
                        alpha = float((1.0 + np.mean(r - beta * m)) ** ann - 1.0)
                active = r - m
                # each return is a ratio minus one: a few ulps of 1 + |return| of rounding
                noise_r = _ROUNDING * (1.0 + np.abs(r))
                noise_m = _ROUNDING * (1.0 + np.abs(m))
                noise = noise_r + noise_m
                if np.all(np.abs(active - np.mean(active)) <= noise):
                    # no dispersion beyond rounding (the strategy is the benchmark, or beats
                    # it by a constant): 0, not the residue's std, whose ratio is noise
                    te = 0.0
                    flat = np.all(np.abs(active) <= noise)
                    ir = nan if flat else float(np.copysign(np.inf, np.mean(active)))
                else:
                    sd = float(np.std(active, ddof=1))
                    te = sd * float(np.sqrt(ann))
                    ir = float(np.mean(active) / sd * np.sqrt(ann))
                if np.any(np.abs(r - np.mean(r)) > noise_r) and np.any(
                    np.abs(m - np.mean(m)) > noise_m
                ):
                    corr = float(np.corrcoef(r, m)[0, 1])
    return {
        "benchmark_equity": bench_equity,
        "benchmark_total_return": bench_tr,
        "strategy_total_return": strat_tr,
        "excess_return": strat_tr - bench_tr,
        "beta": beta,
        "alpha": alpha,
        "information_ratio": ir,
        "tracking_error": te,
        "correlation": corr,
        "n_common_bars": float(len(common)),
    }
