"""Cost presets by asset class: commission and slippage a trader would expect to pay.

The engine's own defaults (:class:`~phi.backtest.engine_config.EngineConfig`) are frictionless,
like backtesting.py's, so a library user states costs explicitly. The user-facing entry points
(``phi backtest``, ``phi demo``, the workbench) start from :data:`DEFAULT_COST_PRESET` instead,
and the assumption ledger names the preset a run's costs match.

>>> cost_preset("crypto").commission_pct
0.001
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from phi.errors import ConfigError, unknown_choice


@dataclass(frozen=True)
class CostPreset:
    """Commission (share of notional and cash per fill) and slippage (bps) of one asset class."""

    name: str
    label: str
    commission_pct: float
    commission_fixed: float
    slippage_bps: float
    basis: str

    def engine_fields(self) -> dict[str, float]:
        """The three ``EngineConfig`` fields this preset sets."""
        return {
            "commission_pct": self.commission_pct,
            "commission_fixed": self.commission_fixed,
            "slippage_bps": self.slippage_bps,
        }

    def describe(self) -> str:
        """'US equities: 0.05 % of notional + 2 bps slippage per fill (...)'."""
        fixed = f" + {self.commission_fixed:g} per fill" if self.commission_fixed else ""
        return (
            f"{self.label}: {100 * self.commission_pct:g} % of notional{fixed} + "
            f"{self.slippage_bps:g} bps slippage per fill ({self.basis})"
        )


COST_PRESETS: Final[dict[str, CostPreset]] = {
    p.name: p
    for p in (
        CostPreset(
            "us_equities", "US equities", 0.0005, 0.0, 2.0,
            "a retail broker's commission on a liquid stock, half a typical spread",
        ),
        CostPreset(
            "crypto", "Crypto spot", 0.001, 0.0, 5.0,
            "a major exchange's taker fee, half a typical spread",
        ),
        CostPreset("fx", "FX majors", 0.0, 0.0, 1.0, "no commission, half a typical spread"),
        CostPreset("none", "None (frictionless)", 0.0, 0.0, 0.0, "optimistic: no costs at all"),
    )
}  # fmt: skip
DEFAULT_COST_PRESET: Final = "us_equities"


def cost_preset(name: str) -> CostPreset:
    """The preset called ``name``; an unknown name is a :class:`ConfigError` naming the choices."""
    try:
        return COST_PRESETS[name]
    except (KeyError, TypeError):
        raise ConfigError(unknown_choice("cost preset", name, COST_PRESETS)) from None


def matching_preset(commission_pct: Any, commission_fixed: Any, slippage_bps: Any) -> str | None:
    """The name of the preset with exactly these costs, or ``None``."""
    for p in COST_PRESETS.values():
        if (p.commission_pct, p.commission_fixed, p.slippage_bps) == (
            commission_pct,
            commission_fixed,
            slippage_bps,
        ):
            return p.name
    return None
