"""OptionsConfig: what an options backtest trades and how its synthetic prices are made."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from phi.errors import ConfigError, shown, unknown_choice
from phi.options.structures import AUTO, STRUCTURES

__all__ = ["CHAIN_FILLS", "MAX_CONTRACTS", "MAX_SKEW", "STRIKE_RULES", "OptionsConfig"]

STRIKE_RULES = ("moneyness", "delta")
#: Most structure units one entry may trade (a typo such as 10**20 would overflow the cash).
MAX_CONTRACTS = 1_000_000
#: How legs fill on a real chain: ask in / bid out, or the mid -/+ ``bid_ask_haircut``.
CHAIN_FILLS = ("bid_ask", "mid")
#: Longest realised-vol window (bars), as the engine's longest bar count.
MAX_VOL_WINDOW = 1_000_000_000
#: Steepest put skew accepted: far past any quoted smile (a short-dated index skew is ~5-20);
#: the pricing cuts a steep skew to its no-arbitrage limit anyway (:func:`phi.options.vol.skewed_iv`).
MAX_SKEW = 100.0


def _num(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.number) and not isinstance(value, np.bool_):
                value = float(value)
            else:
                raise TypeError
        except TypeError:
            raise ConfigError(f"OptionsConfig.{name} must be a number, got {shown(value)}") from None
    x = float(value)
    if not math.isfinite(x):
        raise ConfigError(f"OptionsConfig.{name} must be a finite number, got {shown(value)}")
    return x


def _int(name: str, value: Any) -> int:
    x = _num(name, value)
    if not x.is_integer():
        raise ConfigError(f"OptionsConfig.{name} must be a whole number, got {shown(value)}")
    return int(x)


@dataclass(frozen=True)
class OptionsConfig:
    """An options backtest's structure, strikes, exits, costs and synthetic vol model.

    Parameters
    ----------
    structure : str
        One of :data:`phi.options.structures.STRUCTURES` (``long_call``, ``long_put``,
        ``bull_call_spread``, ``bear_put_spread``, ``bull_put_spread``, ``bear_call_spread``,
        ``straddle``, ``strangle``, ``iron_condor``, ``covered_call``), or ``"auto"``: chosen
        per bar from the regime and the IV state (:mod:`phi.options.auto`).
    dte : int
        Calendar days to expiry at entry (1 to 3650).
    strike_rule : {"moneyness", "delta"}
        How the ``near`` and ``far`` legs' strikes are chosen.
    moneyness : (float, float)
        ``(near, far)`` distances from spot as fractions, out of the money (calls above,
        puts below the spot): ``0 <= near < far < 1``. Used when ``strike_rule="moneyness"``.
    delta : (float, float)
        ``(near, far)`` absolute deltas, ``0 < far < near < 1``. Used when
        ``strike_rule="delta"`` (the strike whose model delta is the target).
    strike_step : float
        Round strikes to this grid (0 = exact strikes).
    iv_premium : float
        Implied vol = realised vol x this multiplier (> 0).
    skew : float
        Put-wing richness, 0 to :data:`MAX_SKEW`: ``iv(K) = iv_atm * (1 + s * max(0, ln(S / K)))``
        with ``s = skew``, cut at each valuation to the steepest slope that keeps every call and
        put vertical of the expiry within ``[0, exp(-rT) (K2 - K1)]`` at that vol and time to
        expiry (:func:`phi.options.vol.skewed_iv`; realistic skews are not cut: 30-day options at
        20 % vol keep any skew up to 9.46).
    iv_floor : float
        Lowest implied vol used (>= 0).
    vol_window : int
        Bars in the rolling realised-vol window (2 to 1,000,000,000).
    risk_free_rate, dividend_yield : float
        Continuously compounded, per year.
    multiplier : float
        Shares per contract (100).
    commission_per_contract : float
        Cash per contract (or per ``multiplier`` shares of a stock leg) on every fill.
    bid_ask_haircut : float
        Fraction of each leg's model price paid on every fill, in [0, 1): bought at
        ``price * (1 + h)``, sold at ``price * (1 - h)`` (on a chain with
        ``chain_fill="mid"``: of the quotes' mid).
    profit_target_pct, stop_loss_pct : float or None
        Exit when the open P&L reaches +target or -stop times the net option premium paid or
        received at entry (None = off).
    roll_dte : int or None
        Close when this many calendar days or fewer remain (the signal may reopen a new
        expiry at the same open); None = hold to expiry.
    contracts : int or None
        Fixed structure units per entry (1 to :data:`MAX_CONTRACTS`); None sizes by ``risk_pct``.
    risk_pct : float
        Fraction of equity the structure's maximum loss may take, in (0, 1].
    chain : str or None
        An end-of-day option-chain CSV (:mod:`phi.options.chains`): legs are priced from its
        quotes instead of the synthetic vol model (None = synthetic).
    chain_fill : {"bid_ask", "mid"}
        On a chain: bought at the ask and sold at the bid, or at the mid -/+ the haircut.
    """

    structure: str = "bull_call_spread"
    dte: int = 45
    strike_rule: str = "moneyness"
    moneyness: tuple[float, float] = (0.0, 0.05)
    delta: tuple[float, float] = (0.5, 0.25)
    strike_step: float = 0.0
    iv_premium: float = 1.1
    skew: float = 0.0
    iv_floor: float = 0.05
    vol_window: int = 20
    risk_free_rate: float = 0.02
    dividend_yield: float = 0.0
    multiplier: float = 100.0
    commission_per_contract: float = 0.65
    bid_ask_haircut: float = 0.0
    profit_target_pct: float | None = 0.5
    stop_loss_pct: float | None = 0.5
    roll_dte: int | None = None
    contracts: int | None = None
    risk_pct: float = 0.05
    chain: str | None = None
    chain_fill: str = "bid_ask"

    def __post_init__(self) -> None:
        for name in ("structure", "strike_rule", "chain_fill"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"OptionsConfig.{name} must be a string, got {shown(getattr(self, name))}")
        if self.chain is not None and (
            not isinstance(self.chain, str) or not self.chain.strip() or "\x00" in self.chain
        ):
            raise ConfigError(f"OptionsConfig.chain must be a CSV file path or None, got {self.chain!r}")
        if self.chain_fill not in CHAIN_FILLS:
            raise ConfigError(
                "OptionsConfig.chain_fill: " + unknown_choice("chain fill", self.chain_fill, CHAIN_FILLS)
            )
        if self.structure not in STRUCTURES and self.structure != AUTO:
            raise ConfigError(
                "OptionsConfig.structure: "
                + unknown_choice("structure", self.structure, (*STRUCTURES, AUTO))
            )

        if self.strike_rule not in STRIKE_RULES:
            raise ConfigError(
                "OptionsConfig.strike_rule: "
                + unknown_choice("strike rule", self.strike_rule, STRIKE_RULES)
            )
        for name in ("moneyness", "delta"):
            pair = getattr(self, name)
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ConfigError(f"OptionsConfig.{name} must be a pair (near, far), got {shown(pair)}")
            object.__setattr__(self, name, (_num(name, pair[0]), _num(name, pair[1])))
        for name in (
            "strike_step",
            "iv_premium",
            "skew",
            "iv_floor",
            "risk_free_rate",
            "dividend_yield",
            "multiplier",
            "commission_per_contract",
            "bid_ask_haircut",
            "risk_pct",
        ):
            object.__setattr__(self, name, _num(name, getattr(self, name)))
        for name in ("profit_target_pct", "stop_loss_pct"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _num(name, getattr(self, name)))
        object.__setattr__(self, "dte", _int("dte", self.dte))
        object.__setattr__(self, "vol_window", _int("vol_window", self.vol_window))
        for name in ("roll_dte", "contracts"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _int(name, getattr(self, name)))
        self._check_ranges()

    def _check_ranges(self) -> None:
        def bad(name: str, rule: str) -> ConfigError:
            return ConfigError(
                f"OptionsConfig.{name} must be {rule}, got {shown(getattr(self, name))}"
            )

        near, far = self.moneyness
        if not 0.0 <= near < far < 1.0:
            raise bad("moneyness", "(near, far) with 0 <= near < far < 1")
        dn, df = self.delta
        if not 0.0 < df < dn < 1.0:
            raise bad("delta", "(near, far) with 0 < far < near < 1")
        if not 1 <= self.dte <= 3650:
            raise bad("dte", "between 1 and 3650 calendar days")
        checks = {
            "strike_step": self.strike_step >= 0.0,
            "iv_premium": self.iv_premium > 0.0,
            "skew": 0.0 <= self.skew <= MAX_SKEW,
            "iv_floor": 0.0 <= self.iv_floor <= 5.0,
            "vol_window": 2 <= self.vol_window <= MAX_VOL_WINDOW,
            "risk_free_rate": -0.5 <= self.risk_free_rate <= 1.0,
            "dividend_yield": -0.5 <= self.dividend_yield <= 1.0,
            "multiplier": self.multiplier > 0.0,
            "commission_per_contract": self.commission_per_contract >= 0.0,
            "bid_ask_haircut": 0.0 <= self.bid_ask_haircut < 1.0,
            "risk_pct": 0.0 < self.risk_pct <= 1.0,
        }
        rules = {
            "strike_step": ">= 0",
            "iv_premium": "> 0",
            "skew": f"in [0, {MAX_SKEW:g}]",
            "iv_floor": "in [0, 5]",
            "vol_window": f"from 2 to {MAX_VOL_WINDOW:,} bars",
            "risk_free_rate": "in [-0.5, 1]",
            "dividend_yield": "in [-0.5, 1]",
            "multiplier": "> 0",
            "commission_per_contract": ">= 0",
            "bid_ask_haircut": "in [0, 1)",
            "risk_pct": "in (0, 1]",
        }
        for name, ok in checks.items():
            if not ok:
                raise bad(name, rules[name])
        if self.profit_target_pct is not None and self.profit_target_pct <= 0.0:
            raise bad("profit_target_pct", "> 0 or None")
        if self.stop_loss_pct is not None and self.stop_loss_pct <= 0.0:
            raise bad("stop_loss_pct", "> 0 or None")
        if self.roll_dte is not None and not 0 <= self.roll_dte < self.dte:
            raise bad("roll_dte", f"in [0, dte={self.dte}) or None")
        if self.contracts is not None and not 1 <= self.contracts <= MAX_CONTRACTS:
            raise bad("contracts", f">= 1 and <= {MAX_CONTRACTS:,}, or None")

    def to_dict(self) -> dict[str, Any]:
        """Plain fields (tuples as lists), e.g. for the assumption ledger or JSON."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }
