"""``phi options price|greeks|iv``: one European option under Black-Scholes-Merton."""

from __future__ import annotations

from typing import Annotated

import typer

from phi.cli._common import console

options_app = typer.Typer(
    help="Black-Scholes-Merton price, greeks and implied vol of one European option.",
    no_args_is_help=True,
)

Spot = Annotated[float, typer.Option("--spot", "-S", help="Spot price of the underlying.")]
Strike = Annotated[float, typer.Option("--strike", "-K", help="Strike price.")]
Days = Annotated[
    float | None, typer.Option("--days", help="Calendar days to expiry (T = days / 365).")
]
Years = Annotated[
    float | None, typer.Option("--years", help="Years to expiry (instead of --days).")
]
Rate = Annotated[float, typer.Option("--rate", "-r", help="Risk-free rate, continuous, per year.")]
Div = Annotated[float, typer.Option("--div", "-q", help="Dividend yield, continuous, per year.")]
Vol = Annotated[float, typer.Option("--vol", help="Volatility per year (0.2 = 20 %).")]
Kind = Annotated[str, typer.Option("--kind", help="call or put.")]


def _years(days: float | None, years: float | None) -> float:
    from phi.errors import ConfigError

    if (days is None) == (years is None):
        raise ConfigError("give the time to expiry as exactly one of --days or --years")
    return float(years) if years is not None else float(days) / 365.0  # type: ignore[arg-type]


@options_app.command("price")
def price_cmd(
    spot: Spot,
    strike: Strike,
    vol: Vol,
    days: Days = None,
    years: Years = None,
    rate: Rate = 0.0,
    div: Div = 0.0,
    kind: Kind = "call",
) -> None:
    """Print the option's price."""
    from phi.options.black_scholes import bs_price

    t = _years(days, years)
    console.print(f"{bs_price(spot, strike, t, rate, div, vol, kind):.6f}", highlight=False)


@options_app.command("greeks")
def greeks_cmd(
    spot: Spot,
    strike: Strike,
    vol: Vol,
    days: Days = None,
    years: Years = None,
    rate: Rate = 0.0,
    div: Div = 0.0,
    kind: Kind = "call",
) -> None:
    """Print price and greeks (QuantLib units, with per-vol-point and per-day figures)."""
    from rich.table import Table

    from phi.options.black_scholes import (
        bs_greeks,
        bs_price,
        rho_per_point,
        theta_per_day,
        vega_per_point,
    )

    t = _years(days, years)
    p = bs_price(spot, strike, t, rate, div, vol, kind)
    g = bs_greeks(spot, strike, t, rate, div, vol, kind)
    table = Table(
        title=f"{kind} S={spot:g} K={strike:g} T={t:.6g}y r={rate:g} q={div:g} vol={vol:g}"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    rows = [
        ("price", p, "per share"),
        ("delta", g.delta, "per 1.0 of spot"),
        ("gamma", g.gamma, "per 1.0 of spot, squared"),
        ("vega", g.vega, "per 1.0 of vol"),
        ("vega", vega_per_point(g.vega), "per vol point (0.01)"),
        ("theta", g.theta, "per year"),
        ("theta", theta_per_day(g.theta), "per calendar day"),
        ("rho", g.rho, "per 1.0 of rate"),
        ("rho", rho_per_point(g.rho), "per rate point (0.01)"),
    ]
    for name, value, unit in rows:
        table.add_row(name, f"{value:.6f}", unit)
    console.print(table)


@options_app.command("iv")
def iv_cmd(
    price: Annotated[float, typer.Option("--price", help="The option's market price.")],
    spot: Spot,
    strike: Strike,
    days: Days = None,
    years: Years = None,
    rate: Rate = 0.0,
    div: Div = 0.0,
    kind: Kind = "call",
) -> None:
    """Print the implied volatility of a price (an error if the price is outside the
    no-arbitrage bounds)."""
    from phi.options.black_scholes import implied_vol

    t = _years(days, years)
    console.print(f"{implied_vol(price, spot, strike, t, rate, div, kind):.8f}", highlight=False)
