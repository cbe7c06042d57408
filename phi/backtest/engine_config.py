"""EngineConfig: every setting of the backtest engine, validated at the boundary.

Bad values raise :class:`phi.errors.ConfigError` with one line naming the field, the bad value
and the valid range or choices. ``phi.backtest.engine`` re-exports :class:`EngineConfig`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from phi.backtest.periods import CALENDAR_CHOICES, PERIODS_PER_YEAR
from phi.errors import ConfigError, shown, unknown_choice

__all__ = ["FILLS", "SIZINGS", "EngineConfig"]

FILLS: Final = ("next_open", "close")
SIZINGS: Final = ("percent_equity", "fixed_cash", "fixed_units", "risk_per_trade")

_FLOAT_FIELDS: Final = {
    "initial_capital",
    "entry_threshold",
    "exit_threshold",
    "commission_pct",
    "commission_fixed",
    "slippage_bps",
    "size_pct",
}
_OPT_FLOAT_FIELDS: Final = {
    "stop_loss_pct",
    "take_profit_pct",
    "trailing_stop_pct",
    "size_cash",
    "size_units",
    "risk_pct",
    "periods_per_year",
}
_INT_FIELDS: Final = {"warmup_bars"}
_OPT_INT_FIELDS: Final = {"time_exit_bars"}
_BOOL_FIELDS: Final = {"allow_short", "signal_exit", "fractional"}
_CHOICE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "fill": FILLS,
    "sizing": SIZINGS,
    "calendar": CALENDAR_CHOICES,
}
#: Largest bar count for ``time_exit_bars`` and ``warmup_bars`` (far beyond any real series).
MAX_BARS: Final = 1_000_000_000
#: Largest ``initial_capital`` (a quadrillion: sums of cash stay exact to the cent below it).
MAX_CAPITAL: Final = 1e15
#: Largest ``periods_per_year`` (a bar a minute, every minute of the year, is 525,600).
MAX_PERIODS: Final = 1e7


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


_show = shown


def _as_float(value: object) -> float | None:
    """``float(value)`` for a finite number, else None (also for ints too big for a float)."""
    if not _is_number(value):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine needs besides prices and the signal.

    Parameters
    ----------
    initial_capital : float
        Starting cash, > 0.
    entry_threshold, exit_threshold : float
        Signal levels in [0, 1], ``exit_threshold <= entry_threshold`` (see module docs).
    allow_short : bool
        Trade the short side on downward crosses of ``-entry_threshold``.
    fill : {"next_open", "close"}
        Fill at the next bar's open (default) or at the signal bar's close (optimistic).
    stop_loss_pct, trailing_stop_pct : float or None
        Stop distance as a fraction of the entry price (or of the best price since entry),
        in (0, 1].
    take_profit_pct : float or None
        Target distance as a fraction of the entry price, > 0 (< 1 for shorts to matter).
    time_exit_bars : int or None
        Exit this many bars after the entry bar, >= 1.
    signal_exit : bool
        Exit (and reverse) on signal crosses; if False only stops/targets/time exit.
    commission_pct, commission_fixed, slippage_bps : float
        Costs applied to every fill: fraction of notional in [0, 1), cash per fill >= 0,
        basis points against the trade in [0, 10000).
    sizing : {"percent_equity", "fixed_cash", "fixed_units", "risk_per_trade"}
        ``percent_equity`` spends ``size_pct`` of equity; ``fixed_cash`` spends
        ``size_cash`` (at most the equity); ``fixed_units`` buys ``size_units`` units;
        ``risk_per_trade`` sizes so that hitting the stop loses ``risk_pct`` of equity
        (needs ``stop_loss_pct``). Never more than the equity can pay for (no leverage).
    fractional : bool
        Fractional units; False rounds sizes down to whole units (like backtesting.py).
    calendar : {"auto", "exchange", "fx", "24/7"}
        Market calendar of the bars: what a trading day is and how many a year has (252,
        260 or 365; see :mod:`phi.backtest.periods`). ``"auto"`` (default) detects it from
        the bars and their ``attrs`` (``calendar``, ``symbol``); the ledger states the result.
    periods_per_year : float or None
        Override of the calendar's trading days per year. Required for bars without a
        DatetimeIndex, where every bar is one return period.
    warmup_bars : int
        Leading bars where no trade starts and that no metric counts, >= 0.
    """

    initial_capital: float = 100_000.0
    entry_threshold: float = 0.1
    exit_threshold: float = 0.0
    allow_short: bool = False
    fill: str = "next_open"
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None
    time_exit_bars: int | None = None
    signal_exit: bool = True
    commission_pct: float = 0.0
    commission_fixed: float = 0.0
    slippage_bps: float = 0.0
    sizing: str = "percent_equity"
    size_pct: float = 0.95
    size_cash: float | None = None
    size_units: float | None = None
    risk_pct: float | None = None
    fractional: bool = True
    calendar: str = "auto"
    periods_per_year: float | None = None
    warmup_bars: int = 0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            name = f.name
            value = getattr(self, name)
            if name in _FLOAT_FIELDS or (name in _OPT_FLOAT_FIELDS and value is not None):
                x = _as_float(value)
                if x is None:
                    raise ConfigError(
                        f"EngineConfig.{name} must be a finite number, got {_show(value)}"
                    )
                object.__setattr__(self, name, x)
            elif name in _INT_FIELDS or (name in _OPT_INT_FIELDS and value is not None):
                if isinstance(value, (float, np.floating)) and float(value).is_integer():
                    value = int(value)
                if not _is_number(value) or not isinstance(value, (int, np.integer)):
                    raise ConfigError(f"EngineConfig.{name} must be an integer, got {_show(value)}")
                if not -MAX_BARS <= value <= MAX_BARS:
                    raise ConfigError(
                        f"EngineConfig.{name} must be at most {MAX_BARS:,} bars, got {_show(value)}"
                    )
                object.__setattr__(self, name, int(value))
            elif name in _BOOL_FIELDS:
                if not isinstance(value, (bool, np.bool_)):
                    raise ConfigError(f"EngineConfig.{name} must be true or false, got {_show(value)}")
                object.__setattr__(self, name, bool(value))
            elif name in _CHOICE_FIELDS and (
                not isinstance(value, str) or value not in _CHOICE_FIELDS[name]
            ):
                raise ConfigError(
                    f"EngineConfig.{name}: " + unknown_choice(name, value, _CHOICE_FIELDS[name])
                )
        self._check_ranges()

    def _check_ranges(self) -> None:
        def bad(name: str, rule: str) -> ConfigError:
            return ConfigError(f"EngineConfig.{name} must be {rule}, got {getattr(self, name)!r}")

        if not self.initial_capital > 0:
            raise bad("initial_capital", "> 0")
        if self.initial_capital > MAX_CAPITAL:
            raise bad("initial_capital", f"at most {MAX_CAPITAL:g}")
        if self.periods_per_year is not None and not 0.0 < self.periods_per_year <= MAX_PERIODS:
            raise bad("periods_per_year", f"in (0, {MAX_PERIODS:g}]")
        for name in ("entry_threshold", "exit_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise bad(name, "in [0, 1]")
        if self.exit_threshold > self.entry_threshold:
            raise ConfigError(
                f"EngineConfig.exit_threshold ({self.exit_threshold}) must be <= "
                f"entry_threshold ({self.entry_threshold})"
            )
        for name in ("stop_loss_pct", "trailing_stop_pct", "size_pct", "risk_pct"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise bad(name, "in (0, 1]")
        for name in ("take_profit_pct", "size_cash", "size_units"):
            value = getattr(self, name)
            if value is not None and not value > 0.0:
                raise bad(name, "> 0")
        if self.time_exit_bars is not None and self.time_exit_bars < 1:
            raise bad("time_exit_bars", ">= 1")
        if not 0.0 <= self.commission_pct < 1.0:
            raise bad("commission_pct", "in [0, 1)")
        if not self.commission_fixed >= 0.0:
            raise bad("commission_fixed", ">= 0")
        if self.commission_fixed > MAX_CAPITAL:  # dearer than any capital: every entry skipped
            raise bad("commission_fixed", f"at most {MAX_CAPITAL:g} (the largest initial capital)")
        if not 0.0 <= self.slippage_bps < 10_000.0:
            raise bad("slippage_bps", "in [0, 10000)")
        if self.warmup_bars < 0:
            raise bad("warmup_bars", ">= 0")
        needs = {
            "fixed_cash": ("size_cash",),
            "fixed_units": ("size_units",),
            "risk_per_trade": ("risk_pct", "stop_loss_pct"),
        }.get(self.sizing, ())
        for name in needs:
            if getattr(self, name) is None:
                raise ConfigError(f"EngineConfig.sizing={self.sizing!r} needs {name} to be set")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EngineConfig:
        """Build from a dict (e.g. parsed JSON); unknown keys, bad types or ranges raise ConfigError."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"EngineConfig must be given as a mapping, got {type(d).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        for key in d:
            if key not in names:
                raise ConfigError(unknown_choice("EngineConfig field", key, names))
        return cls(**dict(d))

    def annualisation(self, calendar: str) -> float:
        """Return periods per year: ``periods_per_year`` if set, else that of ``calendar``."""
        if self.periods_per_year is not None:
            return self.periods_per_year
        return float(PERIODS_PER_YEAR[calendar])
