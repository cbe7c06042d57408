"""The ``rl_agent`` indicator (type ML): a PPO agent's target position as a signal.

The agent is trained (seeded, CPU) on the bars from the observations' warm-up up to
``warm-up + train_bars`` only, with the ``us_equities`` costs; from that bar on the signal is
its target position (+1 long, 0 flat, -1 short when ``allow_short``; ``hold`` keeps the last
target), NaN before. Computing on ``df[:k]`` with k past the training bars trains the same
agent on the same bars, so the values before k do not change (no look-ahead). The engine
trades the target as any held signal: a change of target is a cross, filled at the next open.
torch and Stable-Baselines3 load on the first computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from phi.indicators.params import ALL_INPUTS, IndicatorSpec, ParamSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RL_AGENT", "rl_agent_signal"]


def rl_agent_signal(df: pd.DataFrame, train_bars: int, timesteps: int, seed: int, allow_short: int) -> pd.Series:
    """Target positions of a PPO agent trained on the first ``train_bars`` usable bars."""
    from phi.backtest.costs import cost_preset
    from phi.rl.agent import actions_to_signal, fit_ppo
    from phi.rl.observe import observation_matrix, observation_warmup

    warm = observation_warmup()
    stop = warm + int(train_bars)
    model = fit_ppo(df.iloc[:stop], int(timesteps), int(seed), bool(allow_short),
                    dict(cost_preset("us_equities").engine_fields()))
    import numpy as np

    obs = np.nan_to_num(observation_matrix(df), nan=0.0)
    act, _ = model.predict(obs, deterministic=True)
    sig = actions_to_signal(np.asarray(act, dtype=np.int64), df.index, stop)
    sig.iloc[:stop] = np.nan
    return sig.astype("float64")


def rl_agent_raw(df: pd.DataFrame, train_bars: int, timesteps: int, seed: int, allow_short: int) -> pd.DataFrame:
    """Raw value: the target position, one column ``position``."""
    return rl_agent_signal(df, train_bars, timesteps, seed, allow_short).rename("position").to_frame()


def _warmup(params: Mapping[str, Any]) -> int:
    from phi.rl.observe import observation_warmup

    return observation_warmup() + int(params["train_bars"])


RL_AGENT = IndicatorSpec(
    name="rl_agent",
    type="ML",
    description="PPO agent's target position, trained on the first bars only (Stable-Baselines3)",
    signal_mapping="+1 long, 0 flat, -1 short: the agent's action after its training bars (hold keeps the last)",
    params=(
        ParamSpec("train_bars", int, 750, 200, 5000, 50, "bars the agent trains on (after the warm-up)"),
        ParamSpec("timesteps", int, 10_240, 1024, 199_680, 1024, "PPO environment steps"),
        ParamSpec("seed", int, 0, 0, 1000, 1, "seed of PPO and the environment"),
        ParamSpec("allow_short", int, 0, 0, 1, 1, "1 lets the agent go short"),
    ),
    compute=rl_agent_signal,
    raw=rl_agent_raw,
    warmup=_warmup,
    inputs=ALL_INPUTS,
)

from phi.indicators.registry import register_indicator  # noqa: E402

register_indicator(RL_AGENT)
