"""PortfolioConfig: the settings of a multi-asset run, validated at the boundary.

Bad values raise :class:`phi.errors.ConfigError` with one line naming the field and the valid
range; :mod:`phi.backtest.portfolio` re-exports :class:`PortfolioConfig` and documents the
execution rules the settings choose between.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from phi.backtest.costs import cost_preset
from phi.backtest.engine_config import EngineConfig
from phi.backtest.periods import CALENDAR_CHOICES
from phi.errors import ConfigError, unknown_choice

__all__ = ["REBALANCE_SCHEDULES", "PortfolioConfig"]

#: The rebalance schedules (``N`` bars, ``X`` a weight distance).
REBALANCE_SCHEDULES: Final = ("on_change", "every_bar", "every:N", "weekly", "monthly", "drift:X")


def _parse_rebalance(value: object) -> tuple[str, float]:
    """('every', 5.0) for 'every:5', ('drift', 0.05) for 'drift:0.05', (name, nan) otherwise."""
    if not isinstance(value, str):
        raise ConfigError(f"PortfolioConfig.rebalance must be a string, got {value!r}")
    text = value.strip().lower()
    if text in ("on_change", "every_bar", "weekly", "monthly"):
        return text, float("nan")
    head, sep, tail = text.partition(":")
    if sep and head in ("every", "drift"):
        try:
            x = float(tail)
        except ValueError:
            x = float("nan")
        if head == "every" and x.is_integer() and 1 <= x <= 1e9:
            return head, x
        if head == "drift" and 0.0 < x < 10.0:
            return head, x
        rule = "a whole number of bars >= 1" if head == "every" else "a weight in (0, 10)"
        raise ConfigError(f"PortfolioConfig.rebalance {value!r}: after '{head}:' give {rule}")
    raise ConfigError(
        "PortfolioConfig.rebalance: " + unknown_choice("schedule", value, REBALANCE_SCHEDULES)
    )


@dataclass(frozen=True)
class PortfolioConfig:
    """Settings of a multi-asset run.

    Parameters
    ----------
    initial_capital : float
        Starting cash, > 0.
    rebalance : str
        ``"on_change"``, ``"every_bar"``, ``"every:N"``, ``"weekly"``, ``"monthly"`` or
        ``"drift:X"`` (see the module notes).
    commission_pct, commission_fixed, slippage_bps : float
        Costs of every fill, as in :class:`~phi.backtest.engine_config.EngineConfig`;
        :meth:`with_cost_preset` fills them from a preset.
    fractional : bool
        Fractional units; False rounds every target toward zero to whole units.
    allow_short : bool
        Allow negative weights.
    allow_leverage : bool
        Allow a gross weight sum ``Σ|w|`` up to ``max_gross`` (else at most 1) and buys
        that spend more than the cash.
    max_gross : float
        Largest ``Σ|w|`` of a row; must be <= 1 without leverage.
    calendar, periods_per_year
        As in ``EngineConfig``: the market calendar of the daily returns and its override.
    """

    initial_capital: float = 100_000.0
    rebalance: str = "on_change"
    commission_pct: float = 0.0
    commission_fixed: float = 0.0
    slippage_bps: float = 0.0
    fractional: bool = True
    allow_short: bool = False
    allow_leverage: bool = False
    max_gross: float = 1.0
    calendar: str = "auto"
    periods_per_year: float | None = None

    def __post_init__(self) -> None:
        # the shared fields are validated by EngineConfig's own rules
        self.engine_config()
        kind, band = _parse_rebalance(self.rebalance)
        for name in ("fractional", "allow_short", "allow_leverage"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ConfigError(f"PortfolioConfig.{name} must be true or false")
        if kind == "drift" and band >= 1.0 and not self.allow_short and not self.allow_leverage:
            # long only without leverage every weight stays in [0, 1]: none can drift more than
            # 1 from its target, so the band never triggers and the run never trades
            raise ConfigError(
                f"PortfolioConfig.rebalance {self.rebalance!r}: a band of {band:g} never trades a long-only "
                "portfolio without leverage (its weights stay in [0, 1]); a band is a weight, e.g. "
                "drift:0.05 for 5 points"
            )
        g = self.max_gross
        if isinstance(g, bool) or not isinstance(g, (int, float)) or not 0.0 < g <= 100.0:
            raise ConfigError(f"PortfolioConfig.max_gross must be in (0, 100], got {g!r}")
        if g > 1.0 and not self.allow_leverage:
            raise ConfigError(
                f"PortfolioConfig.max_gross={g:g} is leverage: set allow_leverage=True, or keep "
                "max_gross <= 1"
            )
        if self.calendar not in CALENDAR_CHOICES:
            raise ConfigError(
                "PortfolioConfig.calendar: "
                + unknown_choice("calendar", self.calendar, CALENDAR_CHOICES)
            )

    def engine_config(self) -> EngineConfig:
        """The equivalent single-asset settings (costs, capital, calendar)."""
        try:
            return EngineConfig(
                initial_capital=self.initial_capital,
                commission_pct=self.commission_pct,
                commission_fixed=self.commission_fixed,
                slippage_bps=self.slippage_bps,
                fractional=self.fractional,
                allow_short=self.allow_short,
                calendar=self.calendar,
                periods_per_year=self.periods_per_year,
            )
        except ConfigError as exc:
            raise ConfigError(str(exc).replace("EngineConfig.", "PortfolioConfig.")) from None

    def with_cost_preset(self, name: str) -> PortfolioConfig:
        """A copy with the costs of preset ``name`` (see :data:`phi.backtest.costs.COST_PRESETS`)."""
        p = cost_preset(name)
        return dataclasses.replace(
            self,
            commission_pct=p.commission_pct,
            commission_fixed=p.commission_fixed,
            slippage_bps=p.slippage_bps,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PortfolioConfig:
        """Build from a dict; unknown keys or bad values raise ConfigError."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in d:
            if key not in names:
                raise ConfigError(unknown_choice("PortfolioConfig field", key, names))
        return cls(**dict(d))
