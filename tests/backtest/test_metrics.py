"""Metrics against empyrical-reloaded (test-only dependency) and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest import metrics as M
from phi.backtest._inputs import _day_end
from phi.backtest.engine import EngineConfig, run_backtest, run_backtest_many
from tests.conftest import make_ohlcv

empyrical = pytest.importorskip("empyrical")

REL = 1e-12


def _sma_signal(close: pd.Series, fast: int = 5, slow: int = 20) -> pd.Series:
    sig = np.sign(close.rolling(fast).mean() - close.rolling(slow).mean())
    return sig.where(sig != 0)


@pytest.fixture(scope="module")
def daily_run():
    df = make_ohlcv(1200, seed=3)
    cfg = EngineConfig(allow_short=True, stop_loss_pct=0.03, commission_pct=0.0005)
    return df, cfg, run_backtest(df, _sma_signal(df["close"]), cfg)


def _close(a: float, b: float) -> None:
    assert a == pytest.approx(b, rel=REL, abs=1e-15)


@pytest.mark.parametrize("calendar", ["exchange", "24/7"])
def test_engine_metrics_equal_empyrical(daily_run, calendar):
    df, cfg, _ = daily_run
    cfg = EngineConfig(**{**cfg.to_dict(), "calendar": calendar})
    res = run_backtest(df, _sma_signal(df["close"]), cfg)
    ann = 252 if calendar == "exchange" else 365
    assert res.assumptions["periods_per_year"] == ann
    r = M.daily_returns(res.equity.to_numpy(), _day_end(df.index), cfg.initial_capital)
    assert len(r) == len(df)  # business-day bars: one return per bar
    m = res.metrics
    _close(m["sharpe"], empyrical.sharpe_ratio(r, annualization=ann))
    _close(m["sortino"], empyrical.sortino_ratio(r, annualization=ann))
    _close(m["calmar"], empyrical.calmar_ratio(r, annualization=ann))
    _close(m["max_drawdown"], empyrical.max_drawdown(r))
    _close(m["cagr"], empyrical.annual_return(r, annualization=ann))
    _close(m["annual_volatility"], empyrical.annual_volatility(r, annualization=ann))
    assert m["n_trades"] > 10 and m["max_drawdown"] < 0


@pytest.mark.parametrize("seed", range(5))
def test_return_functions_equal_empyrical_on_random_returns(seed):
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0005, 0.02, 300 + 50 * seed)
    for ann in (252, 365):
        _close(M.sharpe_ratio(r, ann), empyrical.sharpe_ratio(r, annualization=ann))
        _close(M.sortino_ratio(r, ann), empyrical.sortino_ratio(r, annualization=ann))
        _close(M.cagr(r, ann), empyrical.annual_return(r, annualization=ann))
        _close(M.annual_volatility(r, ann), empyrical.annual_volatility(r, annualization=ann))
    equity = 1000.0 * np.cumprod(1 + r)
    _close(M.max_drawdown(equity, 1000.0), empyrical.max_drawdown(r))
    _close(
        M.calmar_ratio(M.cagr(r, 252), M.max_drawdown(equity, 1000.0)),
        empyrical.calmar_ratio(r),
    )


def test_sortino_uses_downside_deviation_not_std_of_losses():
    r = np.array([0.02, -0.01, 0.03, -0.02, 0.01])
    downside = np.sqrt(np.mean(np.minimum(r, 0) ** 2))  # over all 5 days
    assert M.sortino_ratio(r, 252) == pytest.approx(r.mean() * 252 / (downside * np.sqrt(252)))
    wrong = r.mean() / r[r < 0].std() * np.sqrt(252)  # the reference implementation's defect
    assert M.sortino_ratio(r, 252) != pytest.approx(wrong)


def test_edge_cases_follow_empyrical():
    assert np.isnan(M.sharpe_ratio(np.array([0.01]), 252))
    assert np.isnan(M.sharpe_ratio(np.zeros(10), 252))  # flat: 0 / 0
    assert M.sharpe_ratio(np.full(10, 0.001), 252) == np.inf  # no dispersion, positive mean
    assert M.sortino_ratio(np.full(10, 0.001), 252) == np.inf
    assert np.isnan(M.cagr(np.array([]), 252))
    assert np.isnan(M.annual_volatility(np.array([0.1]), 252))
    assert np.isnan(M.calmar_ratio(0.1, 0.0))  # no drawdown
    assert M.max_drawdown(np.array([100.0, 110, 120]), 100.0) == 0.0
    assert np.isnan(M.profit_factor(np.array([])))
    assert M.profit_factor(np.array([5.0, 1.0])) == np.inf
    assert np.isnan(M.win_rate(np.array([])))


def test_a_ruined_equity_curve_has_finite_truthful_metrics():
    # 100k -> 150k -> 300k (two great days) -> -30k (ruin): the mean daily return is positive
    # (+0.5, +1.0, -1.1) but the account is gone
    eq = np.array([150_000.0, 300_000.0, -30_000.0, -30_000.0, -30_000.0])
    r = M.daily_returns(eq, np.ones(5, bool), 100_000.0)
    np.testing.assert_allclose(r, [0.5, 1.0, -1.1, 0.0, 0.0])  # flat at <= 0: no return
    assert r.mean() > 0 and M.sharpe_ratio(r, 252) > 0
    assert M.cagr(r, 252) == -1.0  # not a complex number
    assert M.cagr(np.array([0.1, -1.0]), 252) == -1.0  # equity exactly 0
    m = M.compute_metrics(
        equity=eq, positions=np.zeros(5), close=np.ones(5), day_end=np.ones(5, bool),
        initial=100_000.0, periods=252, closed_pnl=np.array([-130_000.0]),
        closed_return_pct=np.array([-1.3]), n_open_trades=0,
    )  # fmt: skip
    assert m["cagr"] == -1.0 and m["sharpe"] == 0.0 and m["sortino"] == 0.0
    assert m["total_return"] == pytest.approx(-1.3) and m["max_drawdown"] == pytest.approx(-1.1)
    assert all(isinstance(v, float) and not np.isinf(v) for v in m.values())


def test_scaling_returns_keeps_sharpe_translation_changes_it():
    rng = np.random.default_rng(9)
    r = rng.normal(0.001, 0.01, 500)
    assert M.sharpe_ratio(3 * r, 252) == pytest.approx(M.sharpe_ratio(r, 252), rel=1e-12)
    assert M.sharpe_ratio(r + 0.001, 252) > M.sharpe_ratio(r, 252)


def test_drawdown_and_duration_hand_worked():
    eq = np.array([100.0, 120, 90, 100, 130, 125, 125, 126])
    assert M.max_drawdown(eq, 100.0) == pytest.approx(90 / 120 - 1)
    assert M.max_drawdown_duration(eq, 100.0) == 3  # 90, 100 under 120; 125, 125, 126 under 130
    eq2 = np.array([100.0, 120, 90, 100, 130, 125, 125, 126, 129])
    assert M.max_drawdown_duration(eq2, 100.0) == 4
    assert M.max_drawdown(np.array([90.0, 95.0]), 100.0) == pytest.approx(-0.1)  # capital is a peak


def test_trade_metrics_hand_worked():
    pnl = np.array([100.0, -50.0, 30.0, -20.0])
    assert M.profit_factor(pnl) == pytest.approx(130 / 70)
    assert M.win_rate(pnl) == 0.5
    assert M.expectancy(pnl) == pytest.approx(15.0)
    assert M.avg_trade(np.array([0.1, -0.05])) == pytest.approx(0.025)
    assert M.exposure(np.array([0.0, 1.0, 2.0, 0.0, -1.0])) == pytest.approx(0.6)
    assert M.buy_and_hold_return(np.array([50.0, 60.0, 75.0])) == pytest.approx(0.5)


def test_direction_accuracy_is_sign_vs_next_return_not_win_rate():
    close = np.array([100.0, 101, 100, 102, 102, 101])
    signal = np.array([1.0, 1, 0, 0.5, -1, np.nan])
    # bar0 +1 vs +1 hit; bar1 +1 vs -1 miss; bar2 zero skipped; bar3 +0.5 vs 0 miss; bar4 -1 vs -1 hit
    assert M.direction_accuracy(signal, close) == pytest.approx(2 / 4)
    assert np.isnan(M.direction_accuracy(np.zeros(6), close))


def test_intraday_equity_is_resampled_to_daily_closes():
    df = make_ohlcv(24 * 40, seed=4, freq="h")
    res = run_backtest(df, _sma_signal(df["close"], 12, 48), EngineConfig(calendar="24/7"))
    daily = res.equity.resample("1D").last().dropna().to_numpy()
    expected = daily / np.concatenate(([100_000.0], daily[:-1])) - 1
    r = M.daily_returns(res.equity.to_numpy(), _day_end(df.index), 100_000.0)
    np.testing.assert_allclose(r, expected, rtol=0, atol=1e-15)
    assert len(r) == 40
    assert res.metrics["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=365))


def test_warmup_bars_never_count(daily_run):
    df, cfg, _ = daily_run
    sig = _sma_signal(df["close"])
    cut = EngineConfig(**{**cfg.to_dict(), "warmup_bars": 100})
    res = run_backtest(df, sig, cut)
    assert (res.equity.iloc[:100] == cfg.initial_capital).all()
    r = M.daily_returns(res.equity.to_numpy()[100:], np.ones(len(df) - 100, bool), 100_000.0)
    assert res.metrics["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r), rel=REL)
    assert res.metrics["buy_and_hold_return"] == pytest.approx(
        df["close"].iloc[-1] / df["close"].iloc[100] - 1
    )
    assert res.metrics["exposure"] == pytest.approx(np.mean(res.positions.to_numpy()[100:] != 0))


@pytest.mark.parametrize("fill", ["next_open", "close"])
def test_sweep_metrics_equal_full_metrics(daily_run, fill):
    df, cfg, _ = daily_run
    cfg = EngineConfig(
        **{**cfg.to_dict(), "fill": fill, "take_profit_pct": 0.05, "warmup_bars": 30}
    )
    sigs = pd.DataFrame(
        {f"{a}/{b}": _sma_signal(df["close"], a, b) for a, b in [(5, 20), (10, 40), (3, 8)]}
    )
    full = run_backtest(df, sigs, cfg)
    lean = run_backtest_many(df, sigs, cfg)
    assert list(lean.index) == list(sigs.columns)
    for name, res in zip(sigs.columns, full, strict=True):
        row = lean.loc[name]
        for key in ("final_equity", "total_return", "cagr", "annual_volatility", "sharpe",
                    "sortino", "max_drawdown", "max_drawdown_duration", "calmar", "n_trades",
                    "win_rate", "profit_factor", "exposure", "direction_accuracy"):  # fmt: skip
            assert row[key] == pytest.approx(res.metrics[key], rel=1e-9, nan_ok=True), key
        assert row["ambiguous_bars"] == res.assumptions["ambiguous_bars"]


@pytest.mark.parametrize("warmup", [0, 50])
def test_bar_loop_metrics_equal_the_pure_functions(daily_run, warmup):
    """Drawdown, exposure and direction accuracy come from the bar loop on long runs."""
    df, cfg, _ = daily_run
    cfg = EngineConfig(**{**cfg.to_dict(), "warmup_bars": warmup})
    sig = _sma_signal(df["close"])
    res = run_backtest(df, sig, cfg)
    eq = res.equity.to_numpy()[warmup:]
    m = res.metrics
    assert m["max_drawdown"] == M.max_drawdown(eq, cfg.initial_capital)
    assert m["max_drawdown_duration"] == M.max_drawdown_duration(eq, cfg.initial_capital)
    assert m["exposure"] == M.exposure(res.positions.to_numpy()[warmup:])
    assert m["direction_accuracy"] == M.direction_accuracy(
        sig.to_numpy()[warmup:], df["close"].to_numpy()[warmup:]
    )
    assert 0.3 < m["direction_accuracy"] < 0.7
