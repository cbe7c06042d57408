"""The evaluator's fast paths against the plain ones: per-bar equity without trade lists, block
Sharpe ratios in PBO, the calendar fixed once."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from phi.backtest.engine import EngineConfig, run_backtest, run_backtest_many
from phi.errors import EngineError
from phi.indicators.registry import compute_signal
from phi.phiai import stats as st
from phi.phiai.evaluate import Evaluator
from phi.phiai.folds import make_folds
from tests.phiai.frames import random_walk


@pytest.fixture(scope="module")
def bars():
    return random_walk(900, seed=4)


def _signals(bars, periods=(5, 9, 21)) -> np.ndarray:
    return np.column_stack([compute_signal("rsi", bars, {"period": p}).to_numpy() for p in periods])


def test_equity_out_is_run_backtests_equity_and_leaves_the_metrics_unchanged(bars):
    sig = _signals(bars)
    cfg = EngineConfig(warmup_bars=30, stop_loss_pct=0.02, allow_short=True)
    eq = np.empty((3, len(bars)))
    table = run_backtest_many(bars, sig, cfg, equity_out=eq)
    plain = run_backtest_many(bars, sig, cfg)
    assert np.array_equal(table.to_numpy(), plain.to_numpy(), equal_nan=True)
    full = run_backtest(bars, sig, cfg)
    for j, res in enumerate(full):
        assert np.array_equal(eq[j], res.equity.to_numpy())
        assert table["n_trades"].iloc[j] == res.metrics["n_trades"]
    with pytest.raises(
        EngineError, match="equity_out must be a C-contiguous float64 array of shape"
    ):
        run_backtest_many(bars, sig, cfg, equity_out=np.empty((2, len(bars))))


def test_development_scores_match_full_engine_results(bars):
    plan = make_folds(len(bars), 30, 3, "rolling", 0.2)
    ev = Evaluator(bars, EngineConfig(), plan, "sharpe")
    params = [{"period": p} for p in (5, 9, 21)]
    scores = ev.score("rsi", params)
    a, b = plan.dev
    cfg = dataclasses.replace(ev.cfg, warmup_bars=1)
    for p, s in zip(params, scores, strict=True):
        sig = compute_signal("rsi", bars, p).to_numpy()
        ref = run_backtest(bars.iloc[a - 1 : b], sig[a - 1 : b], cfg)
        eq = ref.equity.to_numpy()
        assert np.allclose(s.returns, eq[1:] / eq[:-1] - 1.0, rtol=0, atol=1e-15)
        assert s.dev_trades == ref.metrics["n_trades"]
        assert s.dev_max_drawdown == pytest.approx(ref.metrics["max_drawdown"], rel=1e-12)
        assert s.dev_score == pytest.approx(ref.metrics["sharpe"], rel=1e-9)


def test_the_calendar_is_detected_once_on_all_bars(bars):
    plan = make_folds(len(bars), 30, 3, "rolling", 0.2)
    assert (
        Evaluator(bars, EngineConfig(), plan, "sharpe").cfg.calendar == "exchange"
    )  # weekday bars
    fixed = Evaluator(bars, EngineConfig(calendar="24/7"), plan, "sharpe")
    assert fixed.cfg.calendar == "24/7"


@pytest.mark.parametrize("splits", [4, 8])
def test_pbo_block_sharpe_equals_the_plain_column_sharpe(splits):
    rng = np.random.default_rng(splits)
    m = rng.normal(0.0002, 0.01, (803, 40))
    m[:, 0] = 0.0  # a flat trial: Sharpe 0 either way
    m[:, 1] += np.linspace(0, 0.004, 803)  # one trial improves over time
    fast = st.pbo_cscv(m, splits)
    plain = st.pbo_cscv(m, splits, performance=st._sharpe_cols)
    assert fast[0] == plain[0]
    assert np.allclose(fast[1], plain[1], rtol=0, atol=1e-12)


def test_small_batches_run_serially_with_the_same_results_as_the_parallel_kernel(bars):
    from phi.backtest.engine import PARALLEL_MIN_CELLS

    sig = _signals(bars, periods=(3, 7, 14, 30))
    reps = -(-PARALLEL_MIN_CELLS // (4 * len(bars)))
    big = np.tile(sig, (1, reps))  # enough cells for the parallel kernel
    assert big.size >= PARALLEL_MIN_CELLS > sig.size
    cfg = EngineConfig(take_profit_pct=0.03)
    small = run_backtest_many(bars, sig, cfg).to_numpy()
    many = run_backtest_many(bars, big, cfg).to_numpy()
    for r in range(reps):
        assert np.array_equal(many[4 * r : 4 * r + 4], small, equal_nan=True)
