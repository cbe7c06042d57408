"""Property tests: numba kernel == slow reference oracle, and the engine's invariants.

``PHI_HYP_EXAMPLES=3000`` runs a deeper search (about a minute and a half).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phi.backtest._reference import reference_backtest
from phi.backtest.engine import BacktestResult, EngineConfig, run_backtest, run_backtest_many

SETTINGS = settings(
    max_examples=int(os.environ.get("PHI_HYP_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# levels that sit exactly on the thresholds used below, to exercise the tie rules
SIGNAL_LEVELS = [-1.0, -0.5, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0, np.nan]


def random_ohlcv(seed: int, n: int, vol: float, drift: float = 0.0) -> pd.DataFrame:
    """Random-walk bars with gaps and occasionally very wide ranges."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(drift, vol, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, vol / 2, n))
    wide = rng.random(n) < 0.1
    spread = np.abs(rng.normal(0, vol, (2, n))) * np.where(wide, 4.0, 1.0)
    high = np.maximum(open_, close) * np.exp(spread[0])
    low = np.minimum(open_, close) * np.exp(-spread[1])
    idx = pd.date_range("2021-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1.0}, index=idx
    )


@st.composite
def cases(draw, ruinous: bool = False):
    n = draw(st.integers(2, 120))
    seed = draw(st.integers(0, 2**31 - 1))
    vol = draw(st.sampled_from([0.005, 0.02, 0.05]))
    # ruinous: prices that soar (or crash), so all-in shorts (or longs with fixed fees) go bust
    drift = draw(st.sampled_from([0.04, 0.08, -0.05])) if ruinous else 0.0
    ohlcv = random_ohlcv(seed, n, vol, drift)
    mode = draw(st.sampled_from(["levels", "smooth"]))
    rng = np.random.default_rng(seed + 1)
    if mode == "levels":
        signal = rng.choice(np.array(SIGNAL_LEVELS), n)
    else:
        signal = np.clip(np.cumsum(rng.normal(0, 0.3, n)), -1, 1)
    if ruinous:  # mostly on the losing side: short a soaring market, long a crashing one
        side = -1.0 if drift > 0 else 1.0
        signal = np.where(rng.random(n) < 0.8, side * np.abs(signal), signal)
    opt = st.none() | st.sampled_from([0.01, 0.02, 0.05, 0.1])
    if ruinous:
        opt = st.none() | st.sampled_from([0.5, 1.0])
    sizings = ["percent_equity", "fixed_cash", "fixed_units", "risk_per_trade"]
    sizing = draw(st.sampled_from(sizings[:1] * 3 + sizings if ruinous else sizings))
    entry = draw(st.sampled_from([0.0, 0.1, 0.5]))
    cfg = EngineConfig(
        initial_capital=draw(st.sampled_from([1_000.0, 100_000.0])),
        entry_threshold=entry,
        exit_threshold=draw(st.sampled_from([x for x in (0.0, 0.05, 0.1, 0.5) if x <= entry])),
        allow_short=True if ruinous else draw(st.booleans()),
        fill=draw(st.sampled_from(["next_open", "close"])),
        stop_loss_pct=0.03 if sizing == "risk_per_trade" else draw(opt),
        take_profit_pct=draw(opt),
        trailing_stop_pct=draw(opt),
        time_exit_bars=draw(st.none() | st.integers(1, 6)),
        signal_exit=draw(st.booleans()),
        commission_pct=draw(st.sampled_from([0.0, 0.001])),
        commission_fixed=draw(st.sampled_from([0.0, 1.0, 400.0] if ruinous else [0.0, 1.0])),
        slippage_bps=draw(st.sampled_from([0.0, 5.0])),
        sizing=sizing,
        size_pct=1.0 if ruinous else draw(st.sampled_from([0.5, 0.95, 1.0])),
        size_cash=500.0,
        size_units=7.0,
        risk_pct=0.01,
        fractional=draw(st.booleans()),
        warmup_bars=draw(st.integers(0, 5)),
    )
    return ohlcv, signal, cfg


def _run(ohlcv, signal, cfg) -> BacktestResult:
    res = run_backtest(ohlcv, pd.Series(signal, index=ohlcv.index), cfg)
    assert isinstance(res, BacktestResult)
    return res


def _assert_kernel_equals_reference(case) -> None:
    ohlcv, signal, cfg = case
    res = _run(ohlcv, signal, cfg)
    ref = reference_backtest(
        *(ohlcv[c].to_numpy() for c in ("open", "high", "low", "close")), signal, cfg
    )
    np.testing.assert_allclose(res.equity.to_numpy(), ref.equity, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(res.positions.to_numpy(), ref.positions, rtol=1e-12, atol=1e-12)
    assert res.cash is not None
    np.testing.assert_allclose(res.cash.to_numpy(), ref.cash, rtol=1e-12, atol=1e-9)
    assert res.assumptions["ambiguous_bars"] == ref.ambiguous_bars
    assert res.assumptions["skipped_entries"] == ref.skipped_entries
    assert res.assumptions["ruin_bar"] == (
        None if ref.ruin_bar is None else str(ohlcv.index[ref.ruin_bar])
    )
    theirs = pd.DataFrame(ref.trades, columns=["entry_bar", "exit_bar", "side", "size",
                                               "entry_price", "exit_price", "pnl", "costs",
                                               "exit_reason"])  # fmt: skip
    ours = res.trades
    assert len(ours) == len(theirs)
    if theirs.empty:
        return
    np.testing.assert_array_equal(ours["entry_bar"], theirs["entry_bar"])
    np.testing.assert_array_equal(ours["exit_bar"], theirs["exit_bar"])
    np.testing.assert_array_equal(ours["side"], np.where(theirs["side"] > 0, "long", "short"))
    np.testing.assert_array_equal(ours["exit_reason"], theirs["exit_reason"])
    for col in ("size", "entry_price", "exit_price", "pnl", "costs"):
        np.testing.assert_allclose(ours[col], theirs[col], rtol=1e-12, atol=1e-9, err_msg=col)


@SETTINGS
@given(cases())
def test_kernel_equals_reference(case):
    _assert_kernel_equals_reference(case)


@SETTINGS
@given(cases(ruinous=True))
def test_kernel_equals_reference_through_ruin(case):
    _assert_kernel_equals_reference(case)


@SETTINGS
@given(cases(ruinous=True))
def test_ruined_runs_stop_trading_and_both_paths_agree(case):
    """After the ruin bar nothing trades; run_backtest and run_backtest_many report the same."""
    ohlcv, signal, cfg = case
    res = _run(ohlcv, signal, cfg)
    lean = run_backtest_many(ohlcv, signal[:, None], cfg).iloc[0]
    m = res.metrics
    for key in ("final_equity", "total_return", "cagr", "annual_volatility", "sharpe", "sortino",
                "max_drawdown", "calmar", "n_trades", "win_rate", "profit_factor"):  # fmt: skip
        assert lean[key] == pytest.approx(m[key], rel=1e-9, abs=1e-12, nan_ok=True), key
    assert all(isinstance(v, float) for v in m.values())  # never complex
    ruin = res.assumptions["ruin_bar"]
    if ruin is None:
        assert np.isnan(lean["ruin_bar"]) and m["final_equity"] > 0
        return
    k = int(lean["ruin_bar"])
    assert str(ohlcv.index[k]) == ruin
    eq = res.equity.to_numpy()
    assert (eq[:k] > 0).all() and (eq[k:] == eq[k]).all() and eq[k] <= 0
    assert (res.positions.to_numpy()[k:] == 0).all()
    assert (res.trades["entry_bar"] <= k).all() and (res.trades["exit_bar"] <= k).all()
    assert m["cagr"] == -1.0 and not m["sharpe"] > 0 and not m["sortino"] > 0
    for key in ("total_return", "max_drawdown", "calmar", "sharpe", "sortino"):
        assert not np.isinf(m[key]), key


@SETTINGS
@given(cases())
def test_accounting_invariants(case):
    ohlcv, signal, cfg = case
    res = _run(ohlcv, signal, cfg)
    close = ohlcv["close"].to_numpy()
    eq = res.equity.to_numpy()
    pos = res.positions.to_numpy()
    assert res.cash is not None
    # cash + position value == equity, every bar
    np.testing.assert_allclose(res.cash.to_numpy() + pos * close, eq, rtol=1e-12, atol=1e-9)
    # equity == capital + realised PnL of closed trades + the PnL of the trade held at the
    # close (entry costs included): money is neither created nor counted twice
    t = res.trades
    slip = cfg.slippage_bps / 1e4
    expected = np.full(len(eq), cfg.initial_capital)
    for row in t.itertuples():
        side = 1 if row.side == "long" else -1
        if not row.open:
            expected[row.exit_bar :] += row.pnl
        end = len(eq) if row.open else row.exit_bar
        fill = row.entry_price * (1 + side * slip)
        entry_costs = (cfg.commission_pct * row.size * fill + cfg.commission_fixed
                       + row.size * row.entry_price * slip)  # fmt: skip
        held = slice(row.entry_bar, end)
        expected[held] += side * row.size * (close[held] - row.entry_price) - entry_costs
    np.testing.assert_allclose(eq, expected, rtol=1e-10, atol=1e-8)
    # every fill lies inside its bar's [low, high]
    low, high = ohlcv["low"].to_numpy(), ohlcv["high"].to_numpy()
    for bar_col, price_col in (("entry_bar", "entry_price"), ("exit_bar", "exit_price")):
        b, p = t[bar_col].to_numpy(), t[price_col].to_numpy()
        assert (p >= low[b]).all() and (p <= high[b]).all()
    # warm-up: nothing happens before warmup_bars
    assert (eq[: cfg.warmup_bars] == cfg.initial_capital).all()


@SETTINGS
@given(cases())
def test_zero_signal_gives_flat_equity(case):
    ohlcv, signal, cfg = case
    res = _run(ohlcv, np.zeros(len(ohlcv)), cfg)
    assert res.trades.empty
    assert (res.equity == cfg.initial_capital).all()
    assert (res.positions == 0).all()


@SETTINGS
@given(cases(), st.sampled_from(["commission_pct", "commission_fixed", "slippage_bps"]))
def test_higher_costs_never_raise_final_equity(case, cost):
    ohlcv, signal, cfg = case
    # fractional percent-of-equity sizing: sizes then scale with equity (no rounding effects)
    base = {**cfg.to_dict(), "fractional": True, "sizing": "percent_equity"}
    bump = {"commission_pct": 0.002, "commission_fixed": 2.0, "slippage_bps": 10.0}[cost]
    cheap = _run(ohlcv, signal, EngineConfig(**base))
    dear = _run(ohlcv, signal, EngineConfig(**{**base, cost: base[cost] + bump}))
    assert dear.equity.iloc[-1] <= cheap.equity.iloc[-1] + 1e-9


@SETTINGS
@given(cases(), st.data())
def test_signal_at_t_changes_nothing_before_t_plus_1(case, data):
    ohlcv, signal, cfg = case
    n = len(ohlcv)
    t = data.draw(st.integers(0, n - 1))
    changed = signal.copy()
    changed[t:] = data.draw(st.sampled_from(SIGNAL_LEVELS))  # rewrite the future from t on
    a = _run(ohlcv, signal, cfg)
    b = _run(ohlcv, changed, cfg)
    # next-open fills act on t+1; close fills act at t's close, after the bar's equity inputs
    upto = t + 1 if cfg.fill == "next_open" else t
    np.testing.assert_array_equal(a.equity.to_numpy()[:upto], b.equity.to_numpy()[:upto])
    np.testing.assert_array_equal(a.positions.to_numpy()[:upto], b.positions.to_numpy()[:upto])
    early = a.trades["entry_bar"] < upto
    before = a.trades[early & (a.trades["exit_bar"] < upto) & ~a.trades["open"]]
    pd.testing.assert_frame_equal(before, b.trades.iloc[: len(before)])


@pytest.mark.parametrize("seed", range(3))
def test_parallel_columns_equal_reference(seed):
    ohlcv = random_ohlcv(seed, 300, 0.02)
    rng = np.random.default_rng(seed)
    sig = rng.choice(np.array(SIGNAL_LEVELS), (300, 8))
    cfg = EngineConfig(allow_short=True, stop_loss_pct=0.02, take_profit_pct=0.05,
                       trailing_stop_pct=0.04, commission_pct=0.001)  # fmt: skip
    results = run_backtest(ohlcv, sig, cfg)
    assert isinstance(results, list)
    for j, res in enumerate(results):
        ref = reference_backtest(
            *(ohlcv[c].to_numpy() for c in ("open", "high", "low", "close")), sig[:, j], cfg
        )
        np.testing.assert_allclose(res.equity.to_numpy(), ref.equity, rtol=1e-12, atol=1e-9)
