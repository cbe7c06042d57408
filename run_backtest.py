#!/usr/bin/env python
"""The spec's legacy backtest runner, on top of the strategy presets and the pipeline.

    python run_backtest.py --strategy rsi --budget 50000
    python run_backtest.py --strategy BuyAndHold --benchmark SPY --start 2022-01-01

runs any strategy preset (``phi strategies list``: BuyAndHold, RSI, MACD, ChannelBreakout,
PhiBot, MomentumRotation, ...; any case, ``buy_and_hold`` works too, a typo gets "did you
mean") through ``phi strategies run`` on offline synthetic DEMO data unless ``--vendor`` says
otherwise, prints the headline results, the trades, the prediction scorecard and, with
``--benchmark``, the benchmark-relative figures, and saves the run. A name that is not a preset
but a registry indicator (``phi indicators list``) runs that indicator alone, as before.

Differences from the original script (Lumibot on Alpha Vantage, REFERENCE §3.6): the default
data is offline demo data, the default bar size is a day (the original defaulted to minute bars
for daily strategies), the whole date range is used (the original's Alpha Vantage source
returned only the latest 100 bars), and the benchmark is optional.
"""

from __future__ import annotations

import argparse
import sys

_TIMESTEPS = {"day": "1D", "daily": "1D", "minute": "1m"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the legacy flags."""
    parser = argparse.ArgumentParser(
        prog="run_backtest.py",
        description="Backtest one strategy preset (legacy entry point; see `phi strategies run`).",
    )
    parser.add_argument("--strategy", default="buy_and_hold", help="preset name, any case: BuyAndHold, rsi, macd, ... (default buy_and_hold; see phi strategies list)")
    parser.add_argument("--budget", type=float, default=100_000.0, help="initial capital (default 100000)")
    parser.add_argument("--start", default="2020-01-01", help="first date, inclusive (default 2020-01-01)")
    parser.add_argument("--end", default="2024-12-31", help="last date, inclusive (default 2024-12-31)")
    parser.add_argument("--symbol", default="DEMO", help="ticker (default DEMO: synthetic data)")
    parser.add_argument("--vendor", default="demo", help="demo (default, offline), yfinance, alpha_vantage")
    parser.add_argument("--benchmark", default=None, help="benchmark symbol of the same vendor, e.g. SPY (default none)")
    parser.add_argument(
        "--timeframe", "--timestep",
        dest="timeframe",
        default="1D",
        help="1D (default, daily), 4H, 1H, 15m, 5m, 1m; the legacy day / minute also work",
    )  # fmt: skip
    parser.add_argument("--costs", default="us_equities", help="cost preset: us_equities (default), crypto, fx, none")
    parser.add_argument("--no-save", action="store_true", help="do not save the run")
    parser.add_argument("--ledger", action="store_true", help="also print every metric and the assumption ledger")
    args = parser.parse_args(argv)
    if not args.budget > 0:
        parser.error(f"--budget must be > 0, got {args.budget:g}")
    return args


def _is_indicator_only(name: str) -> bool:
    """True when ``name`` is no preset but a registry indicator (the script's old meaning)."""
    import phi.strategies as strategies
    from phi.errors import ConfigError
    from phi.indicators.registry import INDICATORS

    try:
        strategies.get(name)
    except ConfigError:
        return name in INDICATORS
    return False


def to_phi_args(args: argparse.Namespace) -> list[str]:
    """The equivalent ``phi strategies run`` (or, for a bare indicator, ``phi backtest``) arguments."""
    timeframe = _TIMESTEPS.get(args.timeframe, args.timeframe)
    data = ["--vendor", args.vendor, "--start", args.start, "--end", args.end, "--timeframe", timeframe]
    if _is_indicator_only(args.strategy):
        argv = ["backtest", args.symbol, *data, "--indicators", args.strategy, "--capital", repr(args.budget),
                "--costs", args.costs, "--description", f"run_backtest.py --strategy {args.strategy}"]  # fmt: skip
    else:
        argv = ["strategies", "run", args.strategy, args.symbol, *data, "--capital", repr(args.budget), "--costs", args.costs]
        if args.benchmark:
            argv += ["--benchmark", args.benchmark]
    if args.no_save:
        argv.append("--no-save")
    if args.ledger:
        argv.append("--ledger")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Run the legacy command; returns the exit code (2 for bad input, as ``phi``)."""
    from phi.cli import main as phi_main

    return phi_main(to_phi_args(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
