"""Reinforcement learning on our bars: a Gymnasium environment with the engine's fills and
costs, and a PPO agent (Stable-Baselines3, CPU) trained on a chronological split and judged
through the engine on the bars after it (``pip install -e '.[ml]'``).

>>> import phi.rl
>>> agent = phi.rl.train_agent(bars, timesteps=20_000, save_as="spy_ppo")  # doctest: +SKIP
>>> agent.scores["test_return"], agent.scores["random_test_return"]  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "TradingEnv": "phi.rl.env",
    "RLAgent": "phi.rl.agent",
    "train_agent": "phi.rl.agent",
    "evaluate_agent": "phi.rl.agent",
    "actions_to_signal": "phi.rl.agent",
    "load_agent": "phi.rl.store",
    "save_agent": "phi.rl.store",
    "observation_matrix": "phi.rl.observe",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'phi.rl' has no attribute {name!r}")
