#!/usr/bin/env python
"""The spec's legacy backtest runner, kept working on top of the new pipeline.

    python run_backtest.py --strategy rsi --budget 50000

runs that single indicator (any name from ``phi indicators list``) through ``phi.run`` — the
same pipeline as ``phi backtest`` — on offline synthetic DEMO data unless ``--vendor`` says
otherwise, prints the headline results and the trades (every metric and the assumption ledger
with ``--ledger``), and saves the run.

Differences from the original script (which ran Lumibot on Alpha Vantage): the default data
is offline demo data, the default bar size is a day (the old default ``minute`` did not match
its daily strategies), and ``--benchmark`` is gone (every run reports the traded symbol's
buy-and-hold return). For everything else use ``phi backtest --help``.
"""

from __future__ import annotations

import argparse
import sys

_TIMESTEPS = {"day": "1D", "minute": "1m"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the legacy flags."""
    parser = argparse.ArgumentParser(
        prog="run_backtest.py",
        description="Backtest one indicator strategy (legacy entry point; see `phi backtest`).",
    )
    parser.add_argument("--strategy", default="rsi", help="indicator name, e.g. rsi, macd, bollinger (default rsi)")
    parser.add_argument("--budget", type=float, default=100_000.0, help="initial capital (default 100000)")
    parser.add_argument("--start", default="2020-01-01", help="first date, inclusive (default 2020-01-01)")
    parser.add_argument("--end", default="2024-12-31", help="last date, inclusive (default 2024-12-31)")
    parser.add_argument("--symbol", default="DEMO", help="ticker (default DEMO: synthetic data)")
    parser.add_argument("--vendor", default="demo", help="demo (default, offline), yfinance, alpha_vantage")
    parser.add_argument(
        "--timestep",
        default="day",
        help="day (default), minute, or a timeframe: 1D, 4H, 1H, 15m, 5m, 1m",
    )
    parser.add_argument("--no-save", action="store_true", help="do not save the run")
    parser.add_argument("--ledger", action="store_true", help="also print every metric and the assumption ledger")
    args = parser.parse_args(argv)
    if not args.budget > 0:
        parser.error(f"--budget must be > 0, got {args.budget:g}")
    return args


def to_phi_args(args: argparse.Namespace) -> list[str]:
    """The equivalent ``phi backtest`` arguments."""
    argv = [
        "backtest",
        args.symbol,
        "--vendor", args.vendor,
        "--start", args.start,
        "--end", args.end,
        "--timeframe", _TIMESTEPS.get(args.timestep, args.timestep),
        "--indicators", args.strategy,
        "--capital", repr(args.budget),
        "--description", f"run_backtest.py --strategy {args.strategy}",
    ]  # fmt: skip
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
