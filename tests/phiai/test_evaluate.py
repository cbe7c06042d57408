"""The evaluator's fast paths against the plain ones: per-bar equity without trade lists, block
Sharpe ratios in PBO, the calendar fixed once."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from phi.backtest.engine import EngineConfig, run_backtest, run_backtest_many
from phi.backtest.metrics import max_drawdown
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


@pytest.mark.parametrize("scheme", ["rolling", "anchored"])
def test_development_scores_are_the_blocks_laid_end_to_end(bars, scheme):
    """The development region's figures against one full engine run per walk-forward block
    (each started flat on its lead bar): the blocks' returns one after the other, the sum of
    their trades, the drawdown of the equity chained block to block (each block's equity
    relative to its start, times where the blocks before it ended)."""
    plan = make_folds(len(bars), 30, 3, scheme, 0.2)
    ev = Evaluator(bars, EngineConfig(commission_pct=0.002), plan, "sharpe")
    params = [{"period": p} for p in (5, 9, 21)]
    scores = ev.score("rsi", params)
    cfg = dataclasses.replace(ev.cfg, warmup_bars=1)
    blocks = [plan.folds[0].train, *(f.test for f in plan.folds)]
    assert blocks[0][0] == plan.dev[0] and blocks[-1][1] == plan.dev[1]
    for p, s in zip(params, scores, strict=True):
        sig = compute_signal("rsi", bars, p).to_numpy()
        returns, chained, trades, level = [], [], 0, 1.0
        for a, b in blocks:
            ref = run_backtest(bars.iloc[a - 1 : b], sig[a - 1 : b], cfg)
            eq = ref.equity.to_numpy()
            returns.append(eq[1:] / eq[:-1] - 1.0)
            chained.append(level * eq[1:] / eq[0])
            level = chained[-1][-1]
            trades += ref.metrics["n_trades"]
        assert np.allclose(s.returns, np.concatenate(returns), rtol=0, atol=1e-15)
        assert len(s.returns) == plan.dev[1] - plan.dev[0]
        assert s.dev_trades == trades
        assert s.dev_max_drawdown == pytest.approx(
            max_drawdown(np.concatenate(chained), 1.0), rel=1e-12
        )
        assert s.sharpe == pytest.approx(st.sharpe_per_period(np.concatenate(returns)), rel=1e-12)


def test_chained_drawdowns_against_the_engine_metric_and_by_hand():
    from phi.phiai._stats_nb import row_drawdowns_nb

    rng = np.random.default_rng(5)
    rows = rng.normal(0.0002, 0.01, (7, 300))
    rows[1] = 0.0  # flat: no drawdown
    rows[2, :3] = [0.1, -0.5, 0.2]  # by hand: peak 1.1, trough 0.55 -> -50 %
    rows[2, 3:] = 0.0
    rows[3, 50] = -1.0  # ruined at bar 50: the path ends at 0 (-100 %)
    rows[3, 51:] = 0.3
    out = np.full(7, 9.0)
    row_drawdowns_nb(rows, out)
    for j in (0, 4, 5, 6):
        assert out[j] == pytest.approx(max_drawdown(np.cumprod(1.0 + rows[j]), 1.0), rel=1e-12)
    assert out[1] == 0.0
    assert out[2] == pytest.approx(-0.5, rel=1e-12)
    assert out[3] == -1.0


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


def test_a_set_proposed_again_is_not_simulated_again_and_scores_as_a_fresh_simulation(bars):
    """A sampler proposing a set again (in one batch, or in a later one) gets the scores of its
    first simulation: only distinct new sets reach the segment sweep, and the numbers equal
    those of an evaluator scoring each set alone."""
    plan = make_folds(len(bars), 30, 3, "rolling", 0.2)
    ev = Evaluator(bars, EngineConfig(commission_pct=0.002), plan, "sharpe")
    simulated: list[int] = []
    run = ev.sweep.run

    def counting(sig, *args, **kwargs):
        simulated.append(sig.shape[1])
        return run(sig, *args, **kwargs)

    ev.sweep.run = counting  # type: ignore[method-assign]
    first = ev.score("rsi", [{"period": 9}, {"period": 14}, {"period": 9}])
    again = ev.score("rsi", [{"period": 14}, {"period": 21}, {"period": 14.0}])
    assert simulated == [2, 1]  # {9, 14}, then {21}
    assert first[0] is first[2] and again[0] is first[1] and again[2] is first[1]
    for p, s in [(9, first[0]), (14, first[1]), (21, again[1])]:
        alone = Evaluator(bars, EngineConfig(commission_pct=0.002), plan, "sharpe")
        (ref,) = alone.score("rsi", [{"period": p}])
        assert s.is_folds == ref.is_folds and s.oos_folds == ref.oos_folds
        assert np.array_equal(s.returns, ref.returns)
        assert (s.dev_trades, s.dev_max_drawdown, s.sharpe) == (
            ref.dev_trades,
            ref.dev_max_drawdown,
            ref.sharpe,
        )
