"""A Gymnasium trading environment over our bars, with the engine's fills and costs.

At step t the agent sees the observation of bar t (:mod:`phi.rl.observe`: bars <= t only)
and picks an action: 0 hold (keep the position), 1 long, 2 flat, and 3 short when
``allow_short``. A change of position fills at bar t+1's **open** exactly as the engine
(:mod:`phi.backtest.engine`) fills a signal cross: slippage against the trade, commission on
the notional plus a fixed fee per fill, a new position sized at ``size_pct`` of the cash
after any exit. The reward is the change in equity (cash + position x close) from bar t's
close to bar t+1's close as a share of equity at t, net of every cost, minus
``risk_penalty`` x that change squared (0 = plain returns), times ``reward_scale`` (100:
the reward is in percent, a scale PPO's default step sizes learn from). An episode runs from ``start``
to ``end`` (or ``episode_bars`` bars from a random start when training).
"""

from __future__ import annotations

from typing import Any

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

gym: Any = require("gymnasium")
_Env: Any = gym.Env

__all__ = ["ACTIONS", "TradingEnv"]

ACTIONS: tuple[str, ...] = ("hold", "long", "flat", "short")
_TARGET = {1: 1, 2: 0, 3: -1}


class TradingEnv(_Env):
    """Trade one symbol bar by bar (see the module doc).

    Parameters
    ----------
    ohlcv : DataFrame
        The bars (as :func:`phi.rl.observe.agent_bars` takes them).
    start, end : int, optional
        Bar positions of the episode range ``[start, end)``; ``start`` defaults to the
        observations' warm-up, ``end`` to the last bar.
    allow_short : bool
    commission_pct, commission_fixed, slippage_bps : float
        The engine's cost fields (:class:`~phi.backtest.engine_config.EngineConfig`).
    size_pct : float
        Share of cash a new position spends (the engine's ``percent_equity`` sizing).
    episode_bars : int, optional
        Episodes of this many steps from a random start (training); None = the whole range.
    risk_penalty : float
        Weight of the squared return subtracted from the reward.
    reward_scale : float
        Multiplies the reward (100 = percent).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        ohlcv: pd.DataFrame,
        start: int | None = None,
        end: int | None = None,
        *,
        allow_short: bool = False,
        commission_pct: float = 0.0005,
        commission_fixed: float = 0.0,
        slippage_bps: float = 2.0,
        size_pct: float = 0.95,
        initial_capital: float = 100_000.0,
        episode_bars: int | None = None,
        risk_penalty: float = 0.0,
        reward_scale: float = 100.0,
        lookback: int = 10,
        norm_window: int = 60,
        observations: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        ohlcv = agent_bars(ohlcv)
        if episode_bars is not None:
            episode_bars = check_int("episode_bars", episode_bars, 2)
        risk_penalty = check_number("risk_penalty", risk_penalty, 0.0)
        reward_scale = check_number("reward_scale", reward_scale, 0.0, open_lo=True)
        size_pct = check_number("size_pct", size_pct, 0.0, 1.0, open_lo=True)
        initial_capital = check_number("initial_capital", initial_capital, 0.0, open_lo=True)
        for cost, v in (("commission_pct", commission_pct), ("commission_fixed", commission_fixed), ("slippage_bps", slippage_bps)):
            check_number(cost, v, 0.0)
        if not isinstance(allow_short, bool):
            raise ConfigError(f"allow_short must be True or False, got {shown(allow_short)}")
        n = len(ohlcv)
        warm = observation_warmup(lookback, norm_window)
        self.start = warm if start is None else check_int("start", start, 0)
        self.end = n - 1 if end is None else min(check_int("end", end, 0), n - 1)
        if self.start < warm or self.end - self.start < 2:
            raise ConfigError(
                f"the episode range [{self.start}, {self.end}) is too short or starts inside the "
                f"observations' warm-up of {warm} bars; use more bars"
            )
        if observations is not None and (
            not isinstance(observations, np.ndarray) or observations.ndim != 2 or len(observations) != n
        ):
            raise ConfigError(
                f"observations must be a 2-D array with one row per bar ({n}), got {shown(observations)}"
            )
        self.obs = observation_matrix(ohlcv, lookback, norm_window) if observations is None else observations
        self.obs = np.nan_to_num(self.obs, nan=0.0)  # gaps after the warm-up: a neutral 0
        self.open = ohlcv["open"].to_numpy(dtype=np.float64)
        self.close = ohlcv["close"].to_numpy(dtype=np.float64)
        self.allow_short = bool(allow_short)
        self.comm = float(commission_pct)
        self.fixed = float(commission_fixed)
        self.slip = float(slippage_bps) / 1e4
        self.size_pct = float(size_pct)
        self.initial = float(initial_capital)
        self.episode_bars = episode_bars
        self.risk_penalty = float(risk_penalty)
        self.reward_scale = float(reward_scale)
        self.action_space = gym.spaces.Discrete(4 if self.allow_short else 3)
        self.observation_space = gym.spaces.Box(-10.0, 10.0, (self.obs.shape[1],), np.float32)
        self._reset_state(self.start)

    def _reset_state(self, t: int) -> None:
        self.t = t
        self.stop = self.end
        self.cash = self.initial
        self.units = 0.0  # signed
        self.side = 0
        self.equity = self.initial

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        start = self.start
        if self.episode_bars is not None and self.end - self.start > self.episode_bars:
            start = int(self.np_random.integers(self.start, self.end - self.episode_bars))
        self._reset_state(start)
        if self.episode_bars is not None:
            self.stop = min(self.end, start + int(self.episode_bars))
        return self.obs[self.t].copy(), {"bar": self.t, "equity": self.equity}

    def _fill(self, target: int, price: float) -> None:
        """Move to ``target`` (-1, 0, +1) at market ``price`` (the engine's exit, then entry)."""
        if self.side != 0 and target != self.side:
            units = abs(self.units)
            p_eff = price * (1.0 - self.side * self.slip)
            notional = units * p_eff
            self.cash += self.side * notional - self.comm * notional - self.fixed
            self.units, self.side = 0.0, 0
        if target != 0 and self.side == 0:
            p_eff = price * (1.0 + target * self.slip)
            budget = self.cash * self.size_pct - self.fixed
            unit_cost = p_eff * (1.0 + self.comm)
            if budget > 0 and unit_cost > 0:
                units = budget / unit_cost
                notional = units * p_eff
                self.cash -= target * notional + self.comm * notional + self.fixed
                self.units, self.side = target * units, target

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not self.action_space.contains(a):
            raise ConfigError(f"action {action!r} is not one of 0..{self.action_space.n - 1}")
        target = self.side if a == 0 else _TARGET[a]
        before = self.equity
        nxt = self.t + 1
        if target != self.side:
            self._fill(target, self.open[nxt])
        self.equity = self.cash + self.units * self.close[nxt]
        ret = (self.equity - before) / before if before > 0 else 0.0
        reward = self.reward_scale * (ret - self.risk_penalty * ret * ret)
        self.t = nxt
        terminated = self.t >= self.end or self.equity <= 0
        truncated = not terminated and self.t >= self.stop
        info = {"bar": self.t, "equity": self.equity, "position": self.side}
        return self.obs[self.t].copy(), float(reward), bool(terminated), bool(truncated), info
