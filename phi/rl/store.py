"""RL agents in the model store (``PHI_HOME/models/{name}/agent.zip`` + metadata + card)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from phi.errors import ConfigError
from phi.ml.model import ModelError
from phi.ml.store import load_metadata, verified_file, write_model_dir
from phi.rl.agent import RLAgent, _costs

__all__ = ["AGENT_FILE", "agent_card", "load_agent", "save_agent"]

AGENT_FILE = "agent.zip"


def _pct(v: Any) -> str:
    try:
        return f"{100 * float(v):+.2f} %"
    except (TypeError, ValueError):
        return str(v)


def agent_card(agent: RLAgent) -> str:
    """The Markdown card of an RL agent."""
    d, s = agent.data, agent.scores
    sides = "long / flat / short" if agent.allow_short else "long / flat"
    return "\n".join([
        f"# Model card: {agent.name or 'unsaved'} (RL agent)",
        "",
        f"- **Algorithm**: PPO (Stable-Baselines3, CPU), {agent.timesteps:,} steps, seed {agent.seed}",
        f"- **Actions**: hold / {sides}; fills at the next open with costs {agent.costs}",
        f"- **Observation**: last {agent.lookback} log returns / trailing {agent.norm_window}-bar std, "
        "RSI, MACD, Bollinger signals (bars <= t only)",
        f"- **Data**: {d.get('symbol') or 'unnamed'} — {d['rows']} bars {d['first'][:10]}..{d['last'][:10]}, "
        f"trained on the bars before {d['test_start'][:10]}, fingerprint `{str(d['fingerprint'])[:16]}`",
        f"- **Created**: {agent.created_at}; versions: " + ", ".join(f"{k} {v}" for k, v in agent.versions.items()),
        "",
        "## Returns through the engine",
        "",
        "| | return |",
        "|---|---:|",
        f"| train split | {_pct(s.get('train_return'))} |",
        f"| **test split (untouched)** | **{_pct(s.get('test_return'))}** |",
        f"| random policy, test split (mean of {len(s.get('random_test_returns', []))} seeds) | {_pct(s.get('random_test_return'))} |",
        f"| buy and hold, test split | {_pct(s.get('buy_and_hold_test_return'))} |",
        "",
    ]) + "\n"  # fmt: skip


def save_agent(agent: RLAgent, name: str) -> Path:
    """Store ``agent`` as ``PHI_HOME/models/{name}/``."""
    if not isinstance(agent, RLAgent):
        raise ConfigError(f"save_agent expects an RLAgent (from train_agent), got {type(agent).__name__}")
    agent.name = name

    def write(path: Path) -> None:
        agent.policy.save(str(path))

    meta = {
        "kind": "rl_agent",
        "model": "ppo",
        "allow_short": agent.allow_short,
        "costs": agent.costs,
        "lookback": agent.lookback,
        "norm_window": agent.norm_window,
        "seed": agent.seed,
        "timesteps": agent.timesteps,
        "data": agent.data,
        "scores": agent.scores,
        "versions": agent.versions,
        "created_at": agent.created_at,
    }
    return write_model_dir(name, {AGENT_FILE: write}, meta, agent_card(agent))


def _check_spaces(agent: RLAgent) -> None:
    """ModelError unless the policy reads this agent's observations and takes its actions."""
    from phi.rl.observe import SIGNALS

    obs = getattr(agent.policy.observation_space, "shape", None)
    acts = getattr(agent.policy.action_space, "n", None)
    want_obs, want_acts = (agent.lookback + len(SIGNALS),), 4 if agent.allow_short else 3
    if agent.lookback < 1 or agent.norm_window < 2 or obs != want_obs or acts != want_acts:
        raise ModelError(
            f"model {agent.name!r}: the policy reads observations of shape {obs} and takes {acts} actions, "
            f"not the {want_obs} and {want_acts} its metadata implies; retrain it"
        )


def load_agent(name: str) -> RLAgent:
    """The agent stored as ``name``; :class:`ModelError` if missing, corrupt or not an agent."""
    from phi.ml._deps import require

    meta = load_metadata(name, "rl_agent")
    if meta["kind"] != "rl_agent":
        raise ModelError(f"model {name!r} is a {meta['kind']}, not an RL agent")
    path = verified_file(name, meta, AGENT_FILE)
    sb3 = require("stable_baselines3")
    try:
        policy = sb3.PPO.load(str(path), device="cpu")
        agent = RLAgent(
            policy=policy, allow_short=bool(meta["allow_short"]), costs=_costs(meta["costs"]),
            lookback=int(meta["lookback"]), norm_window=int(meta["norm_window"]), seed=int(meta["seed"]),
            timesteps=int(meta["timesteps"]), data=dict(meta["data"]), scores=dict(meta.get("scores", {})),
            versions=dict(meta.get("versions", {})), name=name, created_at=str(meta.get("created_at", "")),
        )  # fmt: skip
        _check_spaces(agent)
        return agent
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - a foreign or damaged zip fails in many ways inside SB3
        why = str(exc).splitlines()[0][:200] if str(exc) else "no detail"
        raise ModelError(f"model {name!r} cannot be loaded ({type(exc).__name__}: {why}); retrain it") from None
