"""PPO (Stable-Baselines3, CPU) on :class:`~phi.rl.env.TradingEnv`: train on a chronological
split, judge on the untouched bars after it, through our engine.

The policy sees only market observations (not its position), so its actions on every bar
come from one batched forward pass; ``hold`` keeps the previous target. The target
positions (+1 long, 0 flat, -1 short) are the signal :func:`phi.backtest.engine.run_backtest`
trades with ``entry_threshold = exit_threshold = 0.5``: a change of target is a cross, filled
at the next open with the run's costs, exactly as the environment fills it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.errors import ConfigError, shown
from phi.ml._deps import require
from phi.rl.observe import (
    agent_bars,
    check_int,
    check_number,
    observation_matrix,
    observation_warmup,
)

__all__ = [
    "RLAgent",
    "fit_ppo",
    "actions_to_signal",
    "engine_config",
    "load_agent",
    "random_policy_return",
    "train_agent",
]

_TARGET = np.array([np.nan, 1.0, 0.0, -1.0])


def actions_to_signal(actions: np.ndarray, index: pd.Index, start: int) -> pd.Series:
    """Target positions from actions (0 hold, 1 long, 2 flat, 3 short): hold carries the
    previous target forward; 0 (flat) before ``start`` and until the first non-hold action.
    ``actions``: one integer in 0..3 per bar of ``index``."""
    if not isinstance(index, pd.Index):
        raise ConfigError(f"index must be a pandas Index (the bars' stamps), got {type(index).__name__}")
    acts = np.asarray(actions)
    if acts.ndim != 1 or len(acts) != len(index) or acts.dtype.kind not in "iu":
        raise ConfigError(
            f"actions must be a 1-D integer array with one action per bar ({len(index)}), got {shown(actions)}"
        )
    if len(acts) and not (acts.min() >= 0 and acts.max() <= 3):
        raise ConfigError("actions must be 0 (hold), 1 (long), 2 (flat) or 3 (short)")
    start = check_int("start", start, 0)
    target = _TARGET[acts.astype(np.int64)]
    target[:start] = 0.0
    return pd.Series(target, index=index, name="rl_agent").ffill().fillna(0.0)


def engine_config(costs: dict[str, float], allow_short: bool, start: int, **extra: Any) -> Any:
    """The engine settings under which the engine trades the target signal as the env does."""
    from phi.backtest.engine_config import EngineConfig

    fields: dict[str, Any] = {
        "entry_threshold": 0.5, "exit_threshold": 0.5, "allow_short": allow_short,
        "sizing": "percent_equity", "size_pct": 0.95, "fractional": True, "warmup_bars": start,
        **costs, **extra,
    }  # fmt: skip
    return EngineConfig(**fields)


@dataclass
class RLAgent:
    """A trained PPO agent and what it was trained and judged on."""

    policy: Any
    allow_short: bool
    costs: dict[str, float]
    lookback: int
    norm_window: int
    seed: int
    timesteps: int
    data: dict[str, Any]
    scores: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    created_at: str = ""

    def actions(self, ohlcv: pd.DataFrame) -> np.ndarray:
        """The deterministic action at every bar (one batched forward pass); row t reads bars
        <= t. ``ohlcv`` as :func:`~phi.rl.observe.agent_bars` takes it."""
        obs = np.nan_to_num(observation_matrix(ohlcv, self.lookback, self.norm_window), nan=0.0)
        torch = require("torch")
        with torch.no_grad():
            act, _ = self.policy.predict(obs, deterministic=True)
        return np.asarray(act, dtype=np.int64)

    def signal(self, ohlcv: pd.DataFrame, start: int | None = None) -> pd.Series:
        """Target positions in {-1, 0, +1}, flat before ``start`` (default: the warm-up)."""
        warm = observation_warmup(self.lookback, self.norm_window)
        ohlcv = agent_bars(ohlcv)
        return actions_to_signal(self.actions(ohlcv), ohlcv.index, max(warm, start or 0))

    def backtest(self, ohlcv: pd.DataFrame, start: int | None = None) -> Any:
        """The agent's trades through :func:`~phi.backtest.engine.run_backtest` from ``start``."""
        from phi.backtest.engine import run_backtest

        warm = observation_warmup(self.lookback, self.norm_window)
        s = max(warm, start or 0)
        ohlcv = agent_bars(ohlcv)
        return run_backtest(ohlcv, self.signal(ohlcv, s), engine_config(self.costs, self.allow_short, s))


def random_policy_return(
    ohlcv: pd.DataFrame, start: int, costs: dict[str, float], allow_short: bool, seed: int
) -> float:
    """Total return (engine, from ``start``) of uniformly random actions, seeded."""
    from phi.backtest.engine import run_backtest

    ohlcv = agent_bars(ohlcv)
    rng = np.random.default_rng(seed)
    acts = rng.integers(0, 4 if allow_short else 3, len(ohlcv))
    res: Any = run_backtest(ohlcv, actions_to_signal(acts, ohlcv.index, start), engine_config(costs, allow_short, start))
    return float(res.metrics["total_return"])


def _costs(costs: str | dict[str, float]) -> dict[str, float]:
    from phi.backtest.costs import cost_preset

    if isinstance(costs, str):
        return cost_preset(costs).engine_fields()
    keys = {"commission_pct", "commission_fixed", "slippage_bps"}
    if not isinstance(costs, dict) or set(costs) - keys:
        raise ConfigError(f"costs must be a cost preset name or a dict with {sorted(keys)}, got {shown(costs)}")
    return {k: check_number(f"costs[{k!r}]", costs.get(k, 0.0), 0.0) for k in sorted(keys)}


def fit_ppo(
    bars: pd.DataFrame,
    timesteps: int,
    seed: int,
    allow_short: bool,
    costs: dict[str, Any],
    episode_bars: int = 256,
    risk_penalty: float = 0.0,
) -> Any:
    """A PPO policy trained on every bar of ``bars`` after the observations' warm-up
    (episodes of ``episode_bars`` steps from seeded random starts; single-threaded torch)."""
    torch = require("torch")
    sb3 = require("stable_baselines3")
    from phi.rl.env import TradingEnv

    warm = observation_warmup()
    n = len(bars)
    env = TradingEnv(
        bars, warm, n, allow_short=allow_short, **costs,
        episode_bars=min(episode_bars, n - warm - 1), risk_penalty=risk_penalty,
    )  # fmt: skip
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = sb3.PPO(
        "MlpPolicy", env, learning_rate=3e-4, n_steps=512, batch_size=128, n_epochs=5,
        gamma=0.9, ent_coef=0.01, seed=seed, device="cpu", verbose=0,
        policy_kwargs={"net_arch": [32, 32]},
    )  # fmt: skip
    # a logger of our own with no outputs: SB3's default makes an empty SB3-<time> folder in
    # the system's temporary directory on every learn() and never removes it
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    model.learn(total_timesteps=timesteps)
    return model


#: PPO environment steps a training takes (fewer than one rollout of 256 steps learns nothing).
TIMESTEPS_RANGE: Final = (256, 10_000_000)
#: The share of the bars an agent trains on (the rest is its test split).
TRAIN_SHARE_RANGE: Final = (0.3, 0.9)


def check_timesteps(timesteps: object, name: str = "timesteps") -> None:
    """Refuse a training length outside :data:`TIMESTEPS_RANGE` (``name``: the argument or flag)."""
    lo, hi = TIMESTEPS_RANGE
    if isinstance(timesteps, bool) or not isinstance(timesteps, int) or not lo <= timesteps <= hi:
        raise ConfigError(f"{name} must be an integer in {lo}..{hi:,}, got {shown(timesteps)}")


def check_train_share(train: object, name: str = "train") -> None:
    """Refuse a train share outside :data:`TRAIN_SHARE_RANGE` (``name``: the argument or flag)."""
    lo, hi = TRAIN_SHARE_RANGE
    if not isinstance(train, float) or not lo <= train <= hi:
        raise ConfigError(f"{name} must be a share of the bars in {lo}..{hi}, got {shown(train)}")


def train_agent(
    ohlcv: pd.DataFrame,
    timesteps: int = 20_000,
    train: float = 0.7,
    seed: int = 0,
    allow_short: bool = False,
    costs: str | dict[str, float] = "us_equities",
    episode_bars: int = 256,
    risk_penalty: float = 0.0,
    random_seeds: int = 5,
    save_as: str | None = None,
) -> RLAgent:
    """Train PPO on the first ``train`` share of the bars and judge it on the rest.

    The agent never sees a bar of the test split while training. ``scores`` holds the
    engine's total return on the train and test splits, the mean test return of
    ``random_seeds`` seeded random policies and the buy-and-hold return of the test split.
    The same seed and bars give the same agent (single-threaded torch on the CPU).

    Examples
    --------
    >>> agent = train_agent(bars, timesteps=20_000, save_as="spy_ppo")  # doctest: +SKIP
    >>> agent.scores["test_return"], agent.scores["random_test_return"]  # doctest: +SKIP
    """
    ohlcv = agent_bars(ohlcv, dated=True)  # the engine judges the agent on them: before training
    check_timesteps(timesteps)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    episode_bars = check_int("episode_bars", episode_bars, 2)
    risk_penalty = check_number("risk_penalty", risk_penalty, 0.0)
    random_seeds = check_int("random_seeds", random_seeds, 1, 1000)
    if not isinstance(allow_short, bool):
        raise ConfigError(f"allow_short must be True or False, got {shown(allow_short)}")
    check_train_share(train)
    if save_as is not None:
        from phi.ml.store import check_save_name

        check_save_name(save_as)
    cost_fields: dict[str, Any] = _costs(costs)
    lookback, norm_window = 10, 60
    warm = observation_warmup(lookback, norm_window)
    split = int(len(ohlcv) * train)
    if split - warm < 100 or len(ohlcv) - split < 50:
        raise ConfigError(
            f"{len(ohlcv)} bars are too few: training needs 100 bars after the {warm}-bar warm-up "
            "and the test split 50; use more data"
        )
    model = fit_ppo(ohlcv.iloc[:split], timesteps, seed, allow_short, cost_fields, episode_bars, risk_penalty)
    agent = RLAgent(
        policy=model, allow_short=allow_short, costs=cost_fields, lookback=lookback,
        norm_window=norm_window, seed=seed, timesteps=timesteps,
        data=_data(ohlcv, split),
        versions=_versions(),
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    agent.scores = evaluate_agent(agent, ohlcv, split, random_seeds)
    if save_as is not None:
        from phi.errors import PhiError
        from phi.rl.store import save_agent

        try:
            save_agent(agent, save_as)
        except PhiError as exc:
            exc.agent = agent  # type: ignore[attr-defined]
            raise
    return agent


def _data(ohlcv: pd.DataFrame, split: int) -> dict[str, Any]:
    from phi.ml.model import data_fingerprint

    idx = ohlcv.index
    return {
        "first": idx[0].isoformat(), "last": idx[-1].isoformat(), "rows": len(ohlcv),
        "split": split, "test_start": idx[split].isoformat(), "symbol": ohlcv.attrs.get("symbol"),
        "fingerprint": data_fingerprint(ohlcv),
    }  # fmt: skip


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    import phi

    out = {"phi": phi.__version__}
    for pkg in ("numpy", "torch", "stable-baselines3", "gymnasium"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def evaluate_agent(agent: RLAgent, ohlcv: pd.DataFrame, split: int, random_seeds: int = 5) -> dict[str, Any]:
    """Engine returns of the agent on the train split and on the test split (from ``split``),
    of seeded random policies on the test split, and of buying and holding the test split."""
    from phi.backtest.engine import run_backtest

    if not isinstance(agent, RLAgent):
        raise ConfigError(f"evaluate_agent expects an RLAgent (from train_agent or load_agent), got {type(agent).__name__}")
    ohlcv = agent_bars(ohlcv)
    warm = observation_warmup(agent.lookback, agent.norm_window)
    if len(ohlcv) < warm + 4:
        raise ConfigError(f"{len(ohlcv)} bars are too few to judge the agent: it needs more than {warm + 3}")
    split = check_int("split", split, warm + 2, len(ohlcv) - 2)  # bars to trade on both sides
    random_seeds = check_int("random_seeds", random_seeds, 1, 1000)
    test = agent.backtest(ohlcv, split)
    train = agent.backtest(ohlcv.iloc[:split])
    rand = [random_policy_return(ohlcv, split, agent.costs, agent.allow_short, s) for s in range(random_seeds)]
    hold = np.zeros(len(ohlcv))
    hold[split:] = 1.0
    bh: Any = run_backtest(ohlcv, hold, engine_config(agent.costs, False, split))
    m = test.metrics
    return {
        "train_return": float(train.metrics["total_return"]),
        "test_return": float(m["total_return"]),
        "test_sharpe": float(m["sharpe"]),
        "test_max_drawdown": float(m["max_drawdown"]),
        "test_trades": int(m.get("n_trades", len(test.trades))),
        "test_exposure": float(m.get("exposure", float("nan"))),
        "random_test_return": float(np.mean(rand)),
        "random_test_returns": rand,
        "buy_and_hold_test_return": float(bh.metrics["total_return"]),
    }


def load_agent(name: str) -> RLAgent:
    """The RL agent stored as ``name`` (see :mod:`phi.rl.store`)."""
    from phi.rl.store import load_agent as _load

    return _load(name)
