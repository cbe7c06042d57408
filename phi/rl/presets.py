"""The "RL agent" preset for the strategy catalogue (issue 17; needs the ``[ml]`` extra),
loaded by :data:`phi.strategies.catalogue.OPTIONAL_FAMILIES`. The ``rl_agent`` indicator trains
PPO on the run's first 250 bars after the warm-up and trades the rest, so its backtest is causal
and its trades go through the engine like every other preset's.
"""

from __future__ import annotations

from phi.backtest.run_config import IndicatorConfig
from phi.strategies.catalogue import Preset, register

__all__ = ["RL_PRESET"]

RL_PRESET = register(
    Preset(
        name="RL agent",
        family="ml",
        description="PPO agent (Stable-Baselines3) trained on the run's first 250 bars, trading the rest",
        rule=(
            "the agent's target position (long / flat; hold keeps it), trained for 5,120 steps on the first 250 "
            "bars after the 92-bar warm-up with US-equity costs and next-open fills; no trades while it trains "
            "(phi rl train trains a larger agent on a chronological split)"
        ),
        sides="long only",
        defaults="PPO, 250 training bars, 5,120 steps, seed 0, 95 % of equity",
        source="reference RL strategy and train_rl_agent.py (REFERENCE §3.2, §3.4), rebuilt leak-free (phi.rl)",
        indicators=(
            IndicatorConfig(
                "rl_agent", {"train_bars": 250, "timesteps": 5_120, "seed": 0, "allow_short": 0}
            ),
        ),
        aliases=("rl", "ppo", "rl_ppo"),
    )
)
