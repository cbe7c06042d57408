"""Equity compounding at a constant rate: volatility 0 and a Sharpe ratio of +-inf, in the
metric functions and in the engine's bar loop alike (was ~1e15 from rounding residue)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phi.backtest import metrics as m


def _compounding(rate: float, n: int) -> np.ndarray:
    """100,000 x (1 + rate)^t, each value rounded on its own (as prices or a valuation are)."""
    return 100_000.0 * (1.0 + rate) ** np.arange(n, dtype=np.float64)


@pytest.mark.parametrize("rate", [0.01, -0.003, 1e-4, 0.5])
def test_constant_compounding_has_no_dispersion(rate: float) -> None:
    eq = _compounding(rate, 500)
    r = eq[1:] / eq[:-1] - 1.0
    assert r.max() != r.min()  # the returns differ, by rounding only
    assert float(np.std(r, ddof=1)) < 1e-15  # what empyrical and NumPy keep
    assert m.annual_volatility(r, 252) == 0.0
    assert m.sharpe_ratio(r, 252) == (math.inf if rate > 0 else -math.inf)


def test_real_dispersion_is_kept() -> None:
    """A return series whose deviation is tiny but real (1e-12) keeps its Sharpe ratio."""
    r = 0.001 + 1e-12 * np.array([1.0, -1.0] * 50)
    sd = float(np.std(r, ddof=1))
    assert m.sharpe_ratio(r, 252) == pytest.approx(float(np.mean(r)) / sd * math.sqrt(252))


def _welford(r: np.ndarray) -> tuple[float, float]:
    mean, m2 = 0.0, 0.0
    for k, x in enumerate(r, start=1):  # the bar loop's running mean and squared deviations
        delta = x - mean
        mean += delta / k
        m2 += delta * (x - mean)
    return mean, m2


@pytest.mark.parametrize("rate", [0.01, -0.003])
def test_engine_statistics_agree(rate: float) -> None:
    """The bar loop's statistics (``_write_stats_nb``) from the running sums of the same
    compounding returns: volatility 0 and the Sharpe ratio's sign as infinity, as the metric
    functions say."""
    from phi.backtest import _nb

    eq = _compounding(rate, 300)
    r = eq[1:] / eq[:-1] - 1.0
    mean, m2 = _welford(r)
    assert m2 > 0.0  # rounding residue in the running sums
    st = np.full(_nb.N_ST, np.nan)
    down = float(np.sum(np.minimum(r, 0.0) ** 2))
    _nb._write_stats_nb(
        st, eq[0], 252.0, eq[-1], min(0.0, rate), 0, mean, m2, down, len(r), len(r),
        0, 1, 0, 0.0, 0.0, len(r), 0, 0, 0, 0, -1,
    )  # fmt: skip
    assert st[_nb.ST_ANN_VOL] == 0.0
    assert st[_nb.ST_SHARPE] == (math.inf if rate > 0 else -math.inf)
    assert st[_nb.ST_SHARPE] == m.sharpe_ratio(r, 252)
