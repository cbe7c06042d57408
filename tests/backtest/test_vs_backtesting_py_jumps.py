"""The engine against backtesting.py on jump diffusion: fat-tailed returns, overnight gaps up to
tens of percent and missing bars (the golden cases in ``test_vs_backtesting_py.py`` use a
Gaussian walk and GOOG). Long/short on SMA crosses, reversals at the next open, whole units,
all-in, no costs: every trade and the equity curve must match."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import EngineConfig, run_backtest

backtesting = pytest.importorskip("backtesting")
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.lib import crossover  # noqa: E402
from backtesting.test import SMA  # noqa: E402

from tests.backtest.test_vs_backtesting_py import _assert_trades_match, sma_cross_signal  # noqa: E402


def _jumpy(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r = 0.0002 + 0.015 * rng.standard_t(3, n) / np.sqrt(3.0)
    jumps = rng.random(n) < 0.03
    r[jumps] += rng.normal(0.0, 0.12, int(jumps.sum()))
    c = 50.0 * np.exp(np.cumsum(r))
    gap = np.exp(rng.normal(0.0, 0.005, n))
    gap[jumps] = np.exp(0.8 * r[jumps])  # the jump happens overnight
    o = np.r_[c[0], c[:-1]] * gap
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0.0, 0.005, n)))
    low = np.minimum(o, c) * (1 - np.abs(rng.normal(0.0, 0.005, n)))
    idx = pd.date_range("2015-01-01", periods=n, freq="B")
    df = pd.DataFrame({"Open": o, "High": h, "Low": low, "Close": c, "Volume": 1e5}, index=idx)
    return df[rng.random(n) >= 0.08]  # holidays and data gaps


class _Reverse(Strategy):
    fast = 4
    slow = 12

    def init(self) -> None:
        self.ma1 = self.I(SMA, self.data.Close, self.fast)
        self.ma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.ma1, self.ma2):
            self.position.close()
            self.buy()
        elif crossover(self.ma2, self.ma1):
            self.position.close()
            self.sell()


@pytest.mark.parametrize("seed", [5, 23])
def test_long_short_reversals_on_jumps_match_backtesting_py(seed: int) -> None:
    data = _jumpy(1200, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(data, _Reverse, cash=100_000, commission=0.0).run()
    cfg = EngineConfig(initial_capital=100_000, allow_short=True, size_pct=1.0, fractional=False, warmup_bars=11)
    res = run_backtest(data, sma_cross_signal(data["Close"], 4, 12), cfg)
    assert (res.trades["side"] == "short").any() and len(res.trades) > 50
    _assert_trades_match(res.trades, stats)
    np.testing.assert_allclose(
        res.equity.to_numpy(), stats["_equity_curve"]["Equity"].to_numpy(), rtol=0, atol=1e-6
    )
