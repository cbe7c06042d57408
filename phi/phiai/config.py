"""``PhiAIConfig``: the ``phiai`` section of a :class:`~phi.backtest.run_config.RunConfig`.

A run config with this section (or with ``auto_tune: true`` on an indicator, which implies the
section's defaults) is tuned by :func:`phi.run` before it runs: the indicators marked
``auto_tune`` get the parameters PhiAI finds best on the walk-forward folds, or with
``full_auto`` PhiAI chooses up to ``max_indicators`` indicators (from ``candidates``, default
the whole registry), their parameters and their weights. The run's warm-up is moved to the
start of the untouched hold-out, so the run's metrics are the hold-out's. Everything is seeded by
the config's ``seed``: the same config on the same bars tunes to the same parameters.

>>> PhiAIConfig.from_dict({"n_trials": 50, "metric": "sortino"}).n_trials
50
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phi.errors import ConfigError, did_you_mean, shown, unknown_choice

#: Most trials one study may run (a typo like 10**9 would otherwise run for days).
MAX_TRIALS = 100_000

__all__ = ["MAX_TRIALS", "PhiAIConfig"]

_SAMPLERS = ("tpe", "random", "grid")
_SCHEMES = ("rolling", "anchored")


def _int(data: Any, name: str, low: int, high: int) -> int:
    v = data
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise ConfigError(f"phiai.{name} must be an integer in [{low}, {high}], got {shown(v)}")
    return int(v)


def _float(v: Any, name: str, low: float, high: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise ConfigError(f"phiai.{name} must be a number in [{low:g}, {high:g}], got {shown(v)}")
    if not low <= float(v) <= high:
        raise ConfigError(f"phiai.{name} must be in [{low:g}, {high:g}], got {shown(v)}")
    return float(v)


@dataclass(frozen=True)
class PhiAIConfig:
    """What PhiAI tunes before a run, and how (see the module docstring).

    Parameters
    ----------
    full_auto : bool
        Choose the indicators (from ``candidates``), their parameters and weights; the config's
        own indicators are replaced. ``False``: tune the indicators marked ``auto_tune``.
    max_indicators : int
        Full auto: most indicators kept.
    candidates : tuple of str or None
        Full auto: the pool to choose from (``None``: every registry indicator).
    n_trials : int
        Trials per tuned indicator.
    metric : str
        What the search maximises (max drawdown towards 0; annual volatility is minimised).
    sampler : {"tpe", "random", "grid"}
    folds : int
        Walk-forward folds.
    scheme : {"rolling", "anchored"}
    holdout : float
        Share of the bars kept back at the end; the run's metrics are on these bars.
    max_drawdown : float
        Drawdown cap on the development bars (a negative fraction, e.g. -0.3).
    min_trades : int
        Fewest development-bar trades a chosen parameter set must make.
    """

    full_auto: bool = False
    max_indicators: int = 3
    candidates: tuple[str, ...] | None = None
    n_trials: int = 200
    metric: str = "sharpe"
    sampler: str = "tpe"
    folds: int = 5
    scheme: str = "rolling"
    holdout: float = 0.2
    max_drawdown: float = -0.3
    min_trades: int = 10

    def __post_init__(self) -> None:
        from phi.phiai.evaluate import METRIC_DIRECTIONS

        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if not isinstance(self.full_auto, bool):
            raise ConfigError(f"phiai.full_auto must be true or false, got {shown(self.full_auto)}")
        put("max_indicators", _int(self.max_indicators, "max_indicators", 1, 50))
        if self.candidates is not None:
            if isinstance(self.candidates, str) or not isinstance(self.candidates, list | tuple):
                raise ConfigError(
                    f"phiai.candidates must be a list of indicator names, got {shown(self.candidates)}"
                )
            from phi.indicators.registry import list_indicators

            names = list_indicators()
            for i, c in enumerate(self.candidates):
                if c not in names:
                    raise ConfigError(
                        f"phiai.candidates[{i}]: unknown indicator {c!r}.{did_you_mean(str(c), names)}"
                    )
            if not self.candidates:
                raise ConfigError(
                    "phiai.candidates is empty; omit it to choose from every indicator"
                )
            if not self.full_auto:
                raise ConfigError(
                    "phiai.candidates is only used with phiai.full_auto; "
                    "without it, mark the indicators to tune with auto_tune: true"
                )
            put("candidates", tuple(dict.fromkeys(self.candidates)))
        put("n_trials", _int(self.n_trials, "n_trials", 1, MAX_TRIALS))
        if self.metric not in METRIC_DIRECTIONS:
            raise ConfigError(
                "phiai.metric: " + unknown_choice("metric", self.metric, METRIC_DIRECTIONS)
            )
        if self.sampler not in _SAMPLERS:
            raise ConfigError(
                "phiai.sampler: " + unknown_choice("sampler", self.sampler, _SAMPLERS)
            )
        put("folds", _int(self.folds, "folds", 2, 50))
        if self.scheme not in _SCHEMES:
            raise ConfigError("phiai.scheme: " + unknown_choice("scheme", self.scheme, _SCHEMES))
        put("holdout", _float(self.holdout, "holdout", 0.0, 0.9))
        put("max_drawdown", _float(self.max_drawdown, "max_drawdown", -1.0, 0.0))
        put("min_trades", _int(self.min_trades, "min_trades", 0, 10_000_000))

    @property
    def constraints(self) -> dict[str, float]:
        """The tuner's ``constraints`` argument."""
        return {"max_drawdown": self.max_drawdown, "min_trades": self.min_trades}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (candidates as a list)."""
        out = dataclasses.asdict(self)
        if self.candidates is not None:
            out["candidates"] = list(self.candidates)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | PhiAIConfig) -> PhiAIConfig:
        """Build from a parsed-JSON dict; unknown fields raise :class:`ConfigError` naming them."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(f"phiai must be an object (a mapping), got {shown(data)}")
        names = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in names:
                raise ConfigError(
                    f"phiai: unknown field {key!r}.{did_you_mean(str(key), names)} "
                    f"Valid fields: {', '.join(names)}"
                )
        return cls(**data)
