"""Options: Black-Scholes-Merton pricing, greeks and implied vol; a signal-driven options
backtest on synthetic option prices (see :mod:`phi.options.simulator`)."""

from __future__ import annotations

from phi.options.black_scholes import Greeks, bs_greeks, bs_price, implied_vol

__all__ = ["Greeks", "bs_greeks", "bs_price", "implied_vol"]
