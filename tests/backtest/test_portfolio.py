"""Multi-asset portfolio engine: kernel vs reference, accounting, hand-worked rotation,
single-symbol equivalence with run_backtest, missing bars, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phi.backtest._portfolio_reference import reference_portfolio
from phi.backtest.engine import EngineConfig, run_backtest
from phi.backtest.portfolio import PortfolioConfig, _decisions, _parse_rebalance, run_portfolio
from phi.backtest.weights import momentum_rotation_weights
from phi.errors import ConfigError, EngineError


def _bars(n: int, symbols: str, seed: int, start: str = "2021-01-04") -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n, tz="UTC")
    out = {}
    for s in symbols:
        c = 50.0 * np.cumprod(1 + rng.normal(0.0005, 0.02, n))
        o = c * (1 + rng.normal(0.0, 0.005, n))
        out[s] = pd.DataFrame(
            {
                "open": o,
                "high": np.maximum(o, c) * 1.01,
                "low": np.minimum(o, c) * 0.99,
                "close": c,
                "volume": 1e6,
            },
            index=idx,
        )
    return out


def _marks(res, bars) -> pd.DataFrame:
    closes = pd.DataFrame({s: b["close"] for s, b in bars.items()}).reindex(res.equity.index)
    return closes.ffill()


# ---------------------------------------------------------------------------------------
# kernel == reference


@st.composite
def _scenario(draw):
    n = draw(st.integers(4, 30))
    k = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    bars = _bars(n, "ABCD"[:k], seed)
    for s in list(bars):  # drop a few bars (never all of a symbol's)
        drop = rng.random(n) < draw(st.sampled_from([0.0, 0.15]))
        drop[rng.integers(n)] = False
        bars[s] = bars[s][~drop]
    short = draw(st.booleans())
    lev = draw(st.booleans())
    gross = 1.5 if lev else 1.0
    raw = rng.uniform(-1.0 if short else 0.0, 1.0, (n, k))
    raw[rng.random((n, k)) < 0.2] = np.nan
    raw[rng.random(n) < 0.2] = np.nan
    tot = np.nansum(np.abs(raw), axis=1, keepdims=True)
    scale = np.where(tot > gross, gross / np.where(tot > 0, tot, 1.0), 1.0)
    w = raw * scale * draw(st.sampled_from([1.0, 0.999]))
    idx = pd.bdate_range("2021-01-04", periods=n, tz="UTC")
    union = pd.DatetimeIndex(sorted(set().union(*(b.index for b in bars.values()))))
    weights = pd.DataFrame(w, index=idx, columns=list(bars)).reindex(union)
    cfg = PortfolioConfig(
        initial_capital=draw(st.sampled_from([1_000.0, 100_000.0])),
        rebalance=draw(
            st.sampled_from(["every_bar", "on_change", "every:3", "weekly", "drift:0.1"])
        ),
        commission_pct=draw(st.sampled_from([0.0, 0.001])),
        commission_fixed=draw(st.sampled_from([0.0, 1.0])),
        slippage_bps=draw(st.sampled_from([0.0, 5.0])),
        fractional=draw(st.booleans()),
        allow_short=short,
        allow_leverage=lev,
        max_gross=gross,
    )
    return bars, weights, cfg


@pytest.mark.filterwarnings("ignore:the portfolio never traded")  # small whole-unit cases: said, and still compared
@settings(max_examples=60, deadline=None)
@given(_scenario())
def test_kernel_matches_reference(case):
    bars, weights, cfg = case
    res = run_portfolio(bars, weights, cfg)
    idx = res.equity.index
    o = pd.DataFrame({s: b["open"] for s, b in bars.items()}).reindex(idx).to_numpy()
    c = pd.DataFrame({s: b["close"] for s, b in bars.items()}).reindex(idx).to_numpy()
    w = res.weights.to_numpy()
    kind, x = _parse_rebalance(cfg.rebalance)
    decide = _decisions(w, idx, kind, x)
    ref = reference_portfolio(
        o.tolist(), c.tolist(), w.tolist(), decide.tolist(),
        initial_capital=cfg.initial_capital, commission_pct=cfg.commission_pct,
        commission_fixed=cfg.commission_fixed, slippage_bps=cfg.slippage_bps,
        fractional=cfg.fractional, allow_leverage=cfg.allow_leverage,
        drift=x if kind == "drift" else None,
    )  # fmt: skip
    np.testing.assert_allclose(res.equity.to_numpy(), ref.equity, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(res.cash.to_numpy(), ref.cash, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(res.holdings.to_numpy(), np.array(ref.units), rtol=1e-9, atol=1e-9)
    assert len(res.fills) == len(ref.fills)
    if ref.fills:
        np.testing.assert_allclose(res.fills["units"], [f["units"] for f in ref.fills], rtol=1e-9)
        np.testing.assert_allclose(
            res.fills["costs"], [f["costs"] for f in ref.fills], rtol=1e-9, atol=1e-9
        )
    assert int(res.fills["late"].sum()) == ref.late == res.assumptions["late_fills"]
    # accounting: cash + sum(units x mark) == equity on every bar
    marks = _marks(res, bars).fillna(0.0).to_numpy()
    value = (res.holdings.to_numpy() * marks).sum(axis=1)
    np.testing.assert_allclose(
        res.cash.to_numpy() + value, res.equity.to_numpy(), rtol=1e-10, atol=1e-6
    )
    np.testing.assert_allclose(res.positions.to_numpy(), value, rtol=1e-10, atol=1e-6)
    if not cfg.allow_leverage and not cfg.allow_short and ref.ruin_bar is None:
        assert res.cash.min() >= -1e-6 * cfg.initial_capital


# ---------------------------------------------------------------------------------------
# MomentumRotation by hand


@pytest.mark.parametrize("fractional", [True, False])
def test_momentum_rotation_matches_a_hand_rotation(fractional):
    bars = _bars(160, "WXYZ", seed=7)
    syms = list(bars)
    comm, slip = 0.0005, 2.0 / 10_000
    cfg = PortfolioConfig(
        initial_capital=10_000.0, commission_pct=comm, slippage_bps=2.0, fractional=fractional
    )
    closes = pd.DataFrame({s: b["close"] for s, b in bars.items()})
    res = run_portfolio(bars, momentum_rotation_weights(closes, lookback=20, every=5), cfg)

    # by hand: every 5 bars from bar 20, hold only the best 20-bar momentum, all in
    c = {s: bars[s]["close"].tolist() for s in syms}
    o = {s: bars[s]["open"].tolist() for s in syms}
    cash, held, units = 10_000.0, None, 0.0
    expected_holdings = {}
    for t in range(20, 159, 5):
        mom = {s: c[s][t] / c[s][t - 20] - 1 for s in syms}
        best = max(syms, key=lambda s: (mom[s], -syms.index(s)))
        if best != held:
            f = t + 1  # fills at the next open
            if held is not None:
                px = o[held][f] * (1 - slip)
                cash += units * px - comm * units * px
            px = o[best][f] * (1 + slip)
            units = cash / (px * (1 + comm))
            if not fractional:
                units = math.floor(units)
            cash -= units * px + comm * units * px
            held = best
            expected_holdings[f] = (best, units)
    final = cash + units * c[held][-1]

    assert res.metrics["final_equity"] == pytest.approx(final, rel=1e-9)
    assert len(expected_holdings) >= 4  # the case does rotate
    for f, (sym, u) in expected_holdings.items():
        row = res.holdings.iloc[f]
        assert row[sym] == pytest.approx(u, rel=1e-9)
        assert (row.drop(sym) == 0).all()


# ---------------------------------------------------------------------------------------
# one symbol == the single-asset engine


@pytest.mark.parametrize("fractional", [True, False])
def test_single_symbol_matches_run_backtest(fractional):
    bars = _bars(400, "S", seed=3)
    df = bars["S"]
    fast = df["close"].rolling(5).mean()
    slow = df["close"].rolling(20).mean()
    signal = np.tanh((fast / slow - 1) * 50).rename("sig")
    cfg = EngineConfig(
        initial_capital=50_000.0, entry_threshold=0.2, exit_threshold=0.0, size_pct=0.9,
        commission_pct=0.001, commission_fixed=2.0, slippage_bps=3.0, fractional=fractional,
    )  # fmt: skip
    single = run_backtest(df, signal, cfg)
    # the same rule written as weights: hold size_pct from an entry cross to an exit cross
    s = signal.to_numpy()
    w = np.zeros(len(s))
    holding = False
    for t in range(1, len(s)):
        p, cur = s[t - 1], s[t]
        if not holding and p <= 0.2 < cur:
            holding = True
        elif holding and p > 0.0 >= cur:
            holding = False
        w[t] = 0.9 if holding else 0.0
    pcfg = PortfolioConfig(
        initial_capital=50_000.0, commission_pct=0.001, commission_fixed=2.0,
        slippage_bps=3.0, fractional=fractional,
    )  # fmt: skip
    port = run_portfolio(bars, pd.DataFrame({"S": w}, index=df.index), pcfg)
    assert len(single.trades) >= 3
    np.testing.assert_allclose(port.equity.to_numpy(), single.equity.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(port.cash.to_numpy(), single.cash.to_numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        port.holdings["S"].to_numpy(), single.positions.to_numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(port.trades["pnl"], single.trades["pnl"], rtol=1e-9)
    assert list(port.trades["entry_bar"]) == list(single.trades["entry_bar"])
    for key in ("total_return", "sharpe", "max_drawdown", "n_trades", "win_rate"):
        assert port.metrics[key] == pytest.approx(single.metrics[key], rel=1e-9, nan_ok=True)


# ---------------------------------------------------------------------------------------
# missing bars


def test_a_missing_bar_is_not_traded_and_is_reported():
    bars = _bars(10, "AB", seed=11)
    idx = bars["A"].index
    bars["B"] = bars["B"].drop(idx[3])  # B has no bar on day 3
    w = pd.DataFrame({"A": np.nan, "B": np.nan}, index=idx)
    w.iloc[2] = [0.5, 0.5]  # decided at day 2's close -> fills at day 3's open
    res = run_portfolio(bars, w, PortfolioConfig(initial_capital=1_000.0))
    fills = res.fills.set_index("symbol")
    assert fills.loc["A", "time"] == idx[3] and not fills.loc["A", "late"]
    assert fills.loc["B", "time"] == idx[4] and fills.loc["B", "late"]  # its next bar
    assert fills.loc["B", "price"] == bars["B"]["open"].iloc[3]  # day 4 is B's 4th bar
    assert res.assumptions["late_fills"] == 1
    assert res.missing_data["B"]["missing_bars"] == 1
    assert res.missing_data["A"]["missing_bars"] == 0
    # on day 3 nothing of B is held; from day 4 B is marked at its own closes
    assert res.holdings["B"].iloc[3] == 0
    # a held symbol without a bar is marked at its last close: drop B's day 6 as well
    bars["B"] = bars["B"].drop(idx[6])
    res = run_portfolio(bars, w, PortfolioConfig(initial_capital=1_000.0))
    u = res.holdings.iloc[6]
    want = (
        res.cash.iloc[6]
        + u["A"] * bars["A"]["close"].iloc[6]
        + u["B"] * bars["B"]["close"].loc[idx[5]]
    )
    assert res.equity.iloc[6] == pytest.approx(want, rel=1e-12)


# ---------------------------------------------------------------------------------------
# schedules


def test_monthly_schedule_fills_on_the_first_bar_of_each_month():
    bars = _bars(130, "AB", seed=5)
    idx = bars["A"].index
    w = pd.DataFrame({"A": 0.5, "B": 0.5}, index=idx)
    res = run_portfolio(bars, w, PortfolioConfig(rebalance="monthly"))
    fill_days = pd.DatetimeIndex(res.fills["time"].unique())
    month_starts = idx[1:][idx.month[1:] != idx.month[:-1]]
    assert set(fill_days) <= set(month_starts)
    assert len(fill_days) == len(month_starts)  # rebalanced back to 50/50 every month


@pytest.mark.parametrize("unit", ["ns", "s"])
def test_weekly_schedule_fills_on_the_first_bar_of_each_week(unit):
    bars = {s: b.set_axis(b.index.as_unit(unit)) for s, b in _bars(30, "AB", seed=6).items()}
    idx = bars["A"].index
    w = pd.DataFrame({"A": 0.3, "B": 0.7}, index=idx)
    res = run_portfolio(bars, w, PortfolioConfig(rebalance="weekly"))
    fill_days = pd.DatetimeIndex(sorted(set(res.fills["time"])))
    assert (fill_days.dayofweek == 0).all()  # business days: each week's first bar is a Monday
    assert len(fill_days) == (idx[1:].dayofweek == 0).sum()


def test_every_n_and_drift():
    bars = _bars(60, "AB", seed=9)
    idx = bars["A"].index
    w = pd.DataFrame({"A": 0.6, "B": 0.4}, index=idx)
    res = run_portfolio(bars, w, PortfolioConfig(rebalance="every:10"))
    assert sorted(set(res.fills["time"])) == list(idx[[1, 11, 21, 31, 41, 51]])
    res = run_portfolio(bars, w, PortfolioConfig(rebalance="on_change"))
    assert set(res.fills["time"]) == {idx[1]}  # constant weights: one entry only
    loose = run_portfolio(bars, w, PortfolioConfig(rebalance="drift:0.5"))
    tight = run_portfolio(bars, w, PortfolioConfig(rebalance="drift:0.01"))
    assert len(loose.fills) == 2 < len(tight.fills)


# ---------------------------------------------------------------------------------------
# errors


def test_weights_above_one_without_leverage_is_a_clear_error():
    bars = _bars(10, "AB", seed=1)
    w = pd.DataFrame({"A": 0.7, "B": 0.5}, index=bars["A"].index)
    with pytest.raises(ConfigError, match=r"sum to 1\.2 .*without leverage"):
        run_portfolio(bars, w)
    res = run_portfolio(bars, w, PortfolioConfig(allow_leverage=True, max_gross=1.5))
    assert res.cash.iloc[-1] < 0  # borrowed
    with pytest.raises(ConfigError, match="max_gross=1.5 is leverage"):
        PortfolioConfig(max_gross=1.5)


def test_other_bad_inputs():
    bars = _bars(10, "AB", seed=1)
    idx = bars["A"].index
    with pytest.raises(ConfigError, match="a short"):
        run_portfolio(bars, pd.DataFrame({"A": -0.5}, index=idx))
    with pytest.raises(EngineError, match="unknown symbol 'C'"):
        run_portfolio(bars, pd.DataFrame({"C": 0.5}, index=idx))
    with pytest.raises(ConfigError, match="unknown schedule"):
        PortfolioConfig(rebalance="daily-ish")
    with pytest.raises(ConfigError, match="every:"):
        PortfolioConfig(rebalance="every:0")
    with pytest.raises(EngineError, match="stamp no symbol has a bar"):
        run_portfolio(bars, pd.DataFrame({"A": [0.5]}, index=[idx[0] + pd.Timedelta(hours=1)]))
    with pytest.raises(EngineError, match="duplicate stamps"):
        run_portfolio(bars, pd.DataFrame({"A": [0.5, 0.5]}, index=[idx[0], idx[0]]))
    bad = dict(bars, B=bars["B"].assign(close=np.r_[np.nan, bars["B"]["close"].iloc[1:]]))
    with pytest.raises(EngineError, match=r"bars\['B'\]"):
        run_portfolio(bad, pd.DataFrame({"A": 0.5}, index=idx))
    with pytest.raises(ConfigError, match="commission_pct"):
        PortfolioConfig(commission_pct=2.0)


def test_ruin_closes_everything():
    bars = _bars(30, "AB", seed=2)
    idx = bars["A"].index
    crash = bars["B"].copy()
    crash.iloc[10:, :4] = crash.iloc[10:, :4] * 10  # B jumps tenfold: the short is ruined
    bars["B"] = crash
    w = pd.DataFrame({"A": 0.5, "B": -0.5}, index=idx)
    res = run_portfolio(bars, w, PortfolioConfig(allow_short=True))
    assert res.equity.iloc[10] <= 0
    assert (res.holdings.iloc[10:] == 0).all().all()
    assert "closed" in str(res.assumptions["ruin"])
    assert math.isclose(res.equity.iloc[-1], res.equity.iloc[10])
