"""phi.backtest.summary: the one trade count and buy & hold window every front end shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import EngineConfig, run_backtest
from phi.backtest.summary import buy_and_hold_window, metric_window, trade_count


def test_trade_count_text_by_hand():
    assert trade_count({"n_trades": 5.0, "n_open_trades": 1.0}).text == "5 closed + 1 open"
    assert trade_count({"n_trades": 32.0, "n_open_trades": 0.0}).text == "32 closed"
    assert trade_count({"n_trades": 1234.0, "n_open_trades": 1.0}).text == "1,234 closed + 1 open"
    assert trade_count({}).total == 0  # a run without trade metrics (e.g. an old saved run)
    frame = pd.DataFrame({"open": [False, False, True]})
    assert trade_count(frame) == trade_count({"n_trades": 2, "n_open_trades": 1})


def test_buy_and_hold_window_by_hand():
    close = pd.Series([100.0, 110.0, 121.0, 133.1])
    assert buy_and_hold_window(close) == pytest.approx(0.331)
    assert buy_and_hold_window(close, warmup=1) == pytest.approx(0.21)  # 133.1 / 110 - 1
    assert np.isnan(buy_and_hold_window(close, warmup=4))


def test_metric_window_names_its_bars():
    idx = pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")
    win = metric_window(idx, 3)
    assert win is not None and (win.first, win.last, win.bars, win.warmup) == (idx[3], idx[-1], 7, 3)
    assert win.text() == "2024-01-04 → 2024-01-10 (after 3 warm-up bars)"
    assert metric_window(idx, 0).text() == "2024-01-01 → 2024-01-10"  # type: ignore[union-attr]
    assert metric_window(idx, 10) is None


def _walk(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    idx = pd.date_range("2020-01-01", periods=n, freq="B", tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": np.maximum(open_, close) * 1.002, "low": np.minimum(open_, close) * 0.998,
         "close": close, "volume": 1e6},
        index=idx,
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_figures_as_the_engines_metrics(seed):
    """The engine measures buy & hold after its warm-up; the window figure is that number, and
    the trade count from the trades frame equals the one from the metrics."""
    bars = _walk(400, seed)
    signal = pd.Series(np.sign(np.sin(np.arange(400) / 7.0)), index=bars.index)
    warm = 37
    res = run_backtest(bars, signal, EngineConfig(warmup_bars=warm))
    assert buy_and_hold_window(bars["close"], warm) == pytest.approx(res.metrics["buy_and_hold_return"], rel=1e-12)
    assert buy_and_hold_window(bars["close"]) != pytest.approx(res.metrics["buy_and_hold_return"])
    assert trade_count(res.trades) == trade_count(res.metrics)
    assert trade_count(res.trades).total == len(res.trades)
