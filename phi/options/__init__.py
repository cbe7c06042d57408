"""Options: Black-Scholes-Merton pricing, greeks and implied vol; a signal-driven options
backtest on synthetic option prices (see :mod:`phi.options.simulator`)."""

from __future__ import annotations

from phi.options.black_scholes import Greeks, bs_greeks, bs_price, implied_vol
from phi.options.config import OptionsConfig
from phi.options.sensitivity import options_sensitivity, options_vs_underlying
from phi.options.simulator import OptionsResult, run_options_backtest

__all__ = [
    "Greeks",
    "OptionsConfig",
    "OptionsResult",
    "bs_greeks",
    "bs_price",
    "implied_vol",
    "options_sensitivity",
    "options_vs_underlying",
    "run_options_backtest",
]
