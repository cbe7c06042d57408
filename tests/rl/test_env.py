"""The trading environment: Gymnasium's checker, causal observations, engine-equal fills."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from phi.backtest.costs import cost_preset
from phi.backtest.engine import run_backtest
from phi.errors import ConfigError
from phi.rl.agent import actions_to_signal, engine_config
from phi.rl.env import TradingEnv
from phi.rl.observe import observation_matrix, observation_warmup
from tests.ml.frames import planted


@pytest.fixture(scope="module")
def bars():
    return planted(600, seed=9)


@pytest.mark.filterwarnings("ignore:.*render modes:UserWarning")
@pytest.mark.parametrize("allow_short", [False, True])
def test_passes_gymnasiums_env_checker(bars, allow_short):
    env = TradingEnv(bars, allow_short=allow_short, episode_bars=50)
    check_env(env, skip_render_check=True)
    assert env.action_space.n == (4 if allow_short else 3)


def test_observation_at_t_is_unchanged_when_later_bars_change(bars):
    full = observation_matrix(bars)
    warm = observation_warmup()
    assert np.isnan(full[: warm - 1]).any(axis=1).all() and np.isfinite(full[warm:]).all()
    for k in (warm, 300, 599):
        changed = bars.copy()
        changed.iloc[k:, :4] *= 1.7
        changed.iloc[k:, 4] = 1.0
        np.testing.assert_array_equal(observation_matrix(changed)[:k], full[:k])
        np.testing.assert_array_equal(observation_matrix(bars.iloc[:k])[:k], full[:k])


def test_no_whole_dataset_statistic_in_the_observation(bars):
    """Scaling every price by 3 (a whole-dataset mean would change) leaves observations alone."""
    scaled = bars.copy()
    scaled[["open", "high", "low", "close"]] *= 3.0
    np.testing.assert_allclose(observation_matrix(scaled), observation_matrix(bars), atol=1e-5)


@pytest.mark.parametrize("allow_short", [False, True])
def test_env_equity_equals_the_engine_on_the_same_actions(bars, allow_short):
    """Fills at the next open with the engine's costs: the env's equity path is the engine's."""
    costs = cost_preset("us_equities").engine_fields() | {"commission_fixed": 1.0}
    start = observation_warmup()
    env = TradingEnv(bars, start, allow_short=allow_short, **costs)
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    acts = np.zeros(len(bars), dtype=np.int64)
    acts[start:] = rng.integers(0, env.action_space.n, len(bars) - start)
    equity = [env.equity]
    rewards = []
    for t in range(start, len(bars) - 1):
        _, r, term, trunc, info = env.step(acts[t])
        equity.append(info["equity"])
        rewards.append(r)
        if term:
            break
    res = run_backtest(bars, actions_to_signal(acts, bars.index, start), engine_config(costs, allow_short, start))
    np.testing.assert_allclose(equity, res.equity.to_numpy()[start:], rtol=1e-10)
    eq = np.asarray(equity)
    np.testing.assert_allclose(rewards, 100.0 * (eq[1:] / eq[:-1] - 1.0), rtol=1e-9, atol=1e-14)
    assert len(res.trades) > 20


def test_costs_lower_every_reward_of_a_trade(bars):
    start = observation_warmup()
    free = TradingEnv(bars, start, commission_pct=0.0, slippage_bps=0.0)
    dear = TradingEnv(bars, start, commission_pct=0.001, slippage_bps=10.0)
    for env in (free, dear):
        env.reset(seed=0)
    for a in (1, 0, 2, 1, 2):
        _, r_free, *_ = free.step(a)
        _, r_dear, *_ = dear.step(a)
        assert r_dear <= r_free


def test_bad_ranges_and_actions(bars):
    with pytest.raises(ConfigError, match="warm-up"):
        TradingEnv(bars, start=5)
    env = TradingEnv(bars)
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="action 3"):
        env.step(3)  # short is not allowed here
