"""Presets against cases worked by hand: BuyAndHold, ChannelBreakout, LiquidityPools."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import phi.strategies as strategies
from phi.backtest.engine import EngineConfig, run_backtest
from phi.backtest.run_config import DatasetSpec
from phi.data.demo import generate_demo
from phi.indicators.registry import compute_signal
from phi.strategies.runner import run_preset


def _csv(tmp_path, close, high, low, open_=None) -> DatasetSpec:
    idx = pd.bdate_range("2024-01-01", periods=len(close))
    df = pd.DataFrame(
        {"date": idx.strftime("%Y-%m-%d"), "open": close if open_ is None else open_, "high": high, "low": low,
         "close": close, "volume": 1000.0}
    )  # fmt: skip
    path = tmp_path / "bars.csv"
    df.to_csv(path, index=False)
    return DatasetSpec("HAND", "csv", "1D", idx[0].strftime("%Y-%m-%d"), idx[-1].strftime("%Y-%m-%d"), path=str(path))


def test_buy_and_hold_is_the_underlying_minus_the_entry_costs():
    ds = DatasetSpec("DEMO", start="2023-01-01", end="2023-12-31")
    run = run_preset("BuyAndHold", ds, initial_capital=50_000, save=False)
    bars = generate_demo("DEMO", "2023-01-01", "2023-12-31")
    comm, slip = 0.0005, 2e-4  # the us_equities cost preset
    p_eff = bars["open"].iloc[2] * (1 + slip)  # decided at the second bar's close, filled at the third's open
    units = math.floor(50_000 / (p_eff * (1 + comm)))
    cash = 50_000 - units * p_eff * (1 + comm)
    expected = cash + units * bars["close"].iloc[-1]
    assert run.result.equity.iloc[-1] == pytest.approx(expected, rel=1e-12)
    (trade,) = run.result.trades.itertuples()
    assert trade.entry_time == bars.index[2] and trade.open and trade.size == units
    # fractional units: exactly the underlying's return from the fill, minus slippage and commission
    frac = run_backtest(bars, compute_signal("buy_and_hold", bars), EngineConfig(**strategies.get("bah").engine_settings(fractional=True), commission_pct=comm, slippage_bps=2.0, initial_capital=50_000))
    ratio = bars["close"].iloc[-1] / (bars["open"].iloc[2] * (1 + slip) * (1 + comm))
    assert frac.equity.iloc[-1] == pytest.approx(50_000 * ratio, rel=1e-12)


def test_channel_breakout_trades_read_off_a_hand_made_series(tmp_path):
    """25 quiet bars around 10 (highs <= 10.5, lows >= 9.5); bar 25 closes at 11 (above the prior
    20 highs): buy at bar 26's open; bar 30 closes at 9 (below the prior 20 lows): sell at bar 31's open."""
    rng = np.random.default_rng(3)
    close = 10 + rng.uniform(-0.2, 0.2, 33)
    close[25:30] = [11.0, 11.2, 11.1, 11.3, 11.2]
    close[30:] = [9.0, 9.1, 9.2]
    open_ = close + 0.05
    high, low = np.maximum(close, open_) + 0.25, np.minimum(close, open_) - 0.25
    run = run_preset("ChannelBreakout", _csv(tmp_path, close, high, low, open_), costs="none", save=False)
    (t,) = run.result.trades.itertuples()
    idx = run.result.equity.index
    assert (t.entry_time, t.exit_time, t.side) == (idx[26], idx[31], "long")
    assert t.entry_price == pytest.approx(open_[26]) and t.exit_price == pytest.approx(open_[31])
    units = math.floor(0.95 * 100_000 / open_[26])
    assert t.size == units and t.pnl == pytest.approx(units * (open_[31] - open_[26]))


def test_liquidity_pools_trade_read_off_a_hand_made_series():
    """A swing low at 8.0 (bar 11) is swept by bar 16 (low 7.5, close back above at 8.5): a buy
    call at bar 17, filled at bar 18's open (9.2) and held to the end. The earlier sell calls
    (a sweep of the 12.0 swing high at bar 9, pools below on bearish bars) find no position."""
    close = np.array([10, 10.5, 11, 11.5, 11, 10.5, 10.2, 10.4, 11.5, 11, 10, 8.5, 9, 9.5, 9.4, 9.2, 8.5, 9, 9.2, 9.4])
    high, low = close + 0.2, close - 0.2
    high[3], high[8] = 12.0, 12.5
    low[11], low[16] = 8.0, 7.5
    bars = pd.DataFrame({"open": close, "high": high, "low": low, "close": close, "volume": 1.0},
                        index=pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC"))  # fmt: skip
    sig = compute_signal("liquidity_pools", bars, {"lookback": 8, "strength": 2})
    res = run_backtest(bars, sig, EngineConfig(**strategies.get("LiquidityPools").engine_settings(), periods_per_year=365))
    (t,) = res.trades.itertuples()
    assert (t.entry_time, t.side, t.entry_price, t.open) == (bars.index[18], "long", 9.2, True)
    assert t.size == math.floor(0.95 * 100_000 / 9.2)
