"""Benchmark-relative metrics against empyrical-reloaded."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from phi.backtest.benchmark import BENCHMARK_METRIC_NAMES, benchmark_metrics
from phi.errors import EngineError


def _curves(n: int = 300, seed: int = 1) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2021-01-01", periods=n, tz="UTC")
    b = rng.normal(0.0004, 0.01, n)
    r = 0.0002 + 0.7 * b + rng.normal(0.0, 0.006, n)
    bench = pd.Series(250.0 * np.cumprod(1 + b), idx)
    equity = pd.Series(100_000.0 * np.cumprod(1 + r), idx)
    return equity, bench


def test_matches_empyrical():
    equity, bench = _curves()
    out = benchmark_metrics(equity, bench, periods_per_year=252)
    r = equity.pct_change().dropna()
    b = bench.pct_change().dropna()
    assert out["beta"] == pytest.approx(empyrical.beta(r, b), rel=1e-12)
    assert out["alpha"] == pytest.approx(empyrical.alpha(r, b, annualization=252), rel=1e-10)
    active_sd = float(np.std(r - b, ddof=1))
    assert out["tracking_error"] == pytest.approx(active_sd * math.sqrt(252), rel=1e-12)
    assert out["information_ratio"] == pytest.approx(
        float(empyrical.excess_sharpe(r, b)) * math.sqrt(252), rel=1e-10
    )
    assert out["correlation"] == pytest.approx(float(np.corrcoef(r, b)[0, 1]), rel=1e-12)
    tr_s = equity.iloc[-1] / equity.iloc[0] - 1
    tr_b = bench.iloc[-1] / bench.iloc[0] - 1
    assert out["strategy_total_return"] == pytest.approx(tr_s, rel=1e-12)
    assert out["benchmark_total_return"] == pytest.approx(tr_b, rel=1e-12)
    assert out["excess_return"] == pytest.approx(tr_s - tr_b, rel=1e-12)
    assert out["benchmark_total_return"] == pytest.approx(empyrical.cum_returns_final(b), rel=1e-10)
    assert set(BENCHMARK_METRIC_NAMES) <= set(out)


def test_benchmark_equity_starts_at_the_same_capital():
    equity, bench = _curves(50)
    out = benchmark_metrics(equity, bench, 252)
    be = out["benchmark_equity"]
    assert be.iloc[0] == pytest.approx(equity.iloc[0])
    assert be.iloc[-1] / be.iloc[0] == pytest.approx(bench.iloc[-1] / bench.iloc[0])
    out2 = benchmark_metrics(equity, bench, 252, initial_capital=1_000.0)
    assert out2["benchmark_equity"].iloc[0] == pytest.approx(1_000.0)


def test_aligns_on_common_dates():
    equity, bench = _curves(120)
    gappy = bench.drop(bench.index[[5, 6, 40]])  # benchmark misses three days
    longer = pd.concat([gappy, pd.Series([1.0], [gappy.index[-1] + pd.Timedelta(days=30)])])
    out = benchmark_metrics(equity, longer, 252)
    common = equity.index.intersection(gappy.index)
    assert out["n_common_bars"] == len(common)
    r = equity.loc[common].pct_change().dropna()
    b = gappy.loc[common].pct_change().dropna()
    assert out["beta"] == pytest.approx(empyrical.beta(r, b), rel=1e-12)
    assert out["benchmark_equity"].index.equals(common)


def test_identical_curves():
    equity, _ = _curves(60)
    out = benchmark_metrics(equity, equity / 400.0, 252)
    assert out["beta"] == pytest.approx(1.0)
    assert out["correlation"] == pytest.approx(1.0)
    assert out["excess_return"] == pytest.approx(0.0, abs=1e-12)
    assert out["tracking_error"] == pytest.approx(0.0, abs=1e-12)
    assert out["alpha"] == pytest.approx(0.0, abs=1e-9)


def test_errors():
    equity, bench = _curves(10)
    with pytest.raises(EngineError, match="share no stamps"):
        benchmark_metrics(equity, bench.set_axis(bench.index + pd.Timedelta(days=3650)), 252)
    with pytest.raises(EngineError, match="must be a pandas Series"):
        benchmark_metrics(equity.to_numpy(), bench, 252)  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="periods_per_year"):
        benchmark_metrics(equity, bench, 0)


@pytest.mark.parametrize(("n", "scale"), [(60, 400.0), (250, 3.0), (250, 7.0)])
def test_holding_the_benchmark_has_no_tracking_error_and_no_information_ratio(n, scale):
    """Was an information ratio of -1.96 / +0.54 / +0.74 (and a tracking error of 1e-15) for an
    equity curve proportional to the benchmark: the std of the two returns' rounding residue.
    In exact arithmetic (fractions) every active return is 0: tracking error 0, information
    ratio 0 / 0 = NaN. empyrical keeps the residue (its excess_sharpe is the same noise)."""
    from fractions import Fraction

    equity, _ = _curves(n)
    bench = equity / scale
    e = [Fraction(x) for x in equity.to_numpy()]
    b = [Fraction(x) / Fraction(scale) for x in equity.to_numpy()]  # the exact ratio
    assert all(e[i] / e[i - 1] - b[i] / b[i - 1] == 0 for i in range(1, n))
    out = benchmark_metrics(equity, bench, 252)
    assert out["tracking_error"] == 0.0 and np.isnan(out["information_ratio"])
    assert out["beta"] == pytest.approx(1.0, rel=1e-12)
    assert out["correlation"] == pytest.approx(1.0, rel=1e-12)
    r, m = equity.pct_change().dropna(), bench.pct_change().dropna()
    assert abs(empyrical.excess_sharpe(r, m)) > 1e-3  # the reference's residue, for the record


def test_a_constant_excess_return_has_no_dispersion():
    """1 % a day against 0.5 % a day: active return 0.5 % every day (exactly, up to rounding),
    so tracking error 0 and an information ratio of +inf (x / 0, as the metrics module's Sharpe
    ratio of constant returns); both return series are constant: correlation NaN (was 0.0)."""
    idx = pd.date_range("2020-01-01", periods=8, freq="D")
    equity = pd.Series(100.0 * 1.01 ** np.arange(8), idx)
    bench = pd.Series(50.0 * 1.005 ** np.arange(8), idx)
    out = benchmark_metrics(equity, bench, 252)
    assert out["tracking_error"] == 0.0 and out["information_ratio"] == np.inf
    assert np.isnan(out["correlation"]) and np.isnan(out["beta"])
