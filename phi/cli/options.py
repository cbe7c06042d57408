"""``phi options price|greeks|iv``: one European option under Black-Scholes-Merton;
``phi options sensitivity``: an options run over IV multipliers x bid-ask haircuts;
``phi options gex``: dealer gamma exposure of a chain."""

from __future__ import annotations

from typing import Annotated

import typer

from phi.cli._common import console, nonblank

options_app = typer.Typer(
    help="Black-Scholes-Merton price, greeks and implied vol of one option; sensitivity of an options run.",
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


def _finite(**values: float | None) -> None:
    """NaN or infinity typed for a number (``--spot nan``) is one error line naming the flag,
    never a price of ``nan`` printed as if it were an answer (ranges: the pricer checks them)."""
    import math

    from phi.errors import ConfigError

    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"--{name} must be a finite number, got {value}")


def _signs(**values: float | None) -> None:
    """A price or strike <= 0, or a negative vol or time to expiry, is one error line naming the
    flag as typed (the pricer would name its own argument, ``T`` for ``--days``)."""
    from phi.errors import ConfigError

    for name, value in values.items():
        if value is None:
            continue
        if name in ("spot", "strike") and value <= 0:
            raise ConfigError(f"--{name} must be > 0, got {value:g}")
        if value < 0:
            raise ConfigError(f"--{name} must be >= 0, got {value:g}")


#: The rates a flag may take (--rate, --div): the range the options simulator and GEX allow.
RATE_RANGE = (-0.5, 1.0)
#: The largest --min-oi and --max-dte of ``phi options gex`` (the GEX settings' own bounds).
MAX_MIN_OI, MAX_DTE_DAYS = 1e15, 36_500


def _rates(**values: float) -> None:
    """A rate or dividend yield outside [-0.5, 1] per year (``--rate 1e308``, a percentage typed
    as ``--rate 5``) is one error line naming the flag, not greeks of ``nan`` printed as an answer."""
    from phi.errors import ConfigError

    lo, hi = RATE_RANGE
    for name, value in values.items():
        if not lo <= value <= hi:
            raise ConfigError(f"--{name} must be in [{lo:g}, {hi:g}] (a share per year: 0.05 = 5%), got {value:g}")


def _years(days: float | None, years: float | None) -> float:
    from phi.errors import ConfigError

    if (days is None) == (years is None):
        raise ConfigError("give the time to expiry as exactly one of --days or --years")
    _signs(days=days, years=years)
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

    _finite(spot=spot, strike=strike, vol=vol, days=days, years=years, rate=rate, div=div)
    _signs(spot=spot, strike=strike, vol=vol)
    _rates(rate=rate, div=div)
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

    _finite(spot=spot, strike=strike, vol=vol, days=days, years=years, rate=rate, div=div)
    _signs(spot=spot, strike=strike, vol=vol)
    _rates(rate=rate, div=div)
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

    _finite(price=price, spot=spot, strike=strike, days=days, years=years, rate=rate, div=div)
    _signs(spot=spot, strike=strike)
    _rates(rate=rate, div=div)
    t = _years(days, years)
    console.print(f"{implied_vol(price, spot, strike, t, rate, div, kind):.8f}", highlight=False)


@options_app.command("sensitivity")
def sensitivity_cmd(
    symbol: Annotated[str | None, typer.Argument(help="Ticker (default DEMO: offline synthetic data).")] = None,
    vendor: Annotated[str | None, typer.Option("--vendor", "-v", help="demo (default), yfinance, alpha_vantage or csv.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive.")] = None,
    path: Annotated[str | None, typer.Option("--path", callback=nonblank, help="The CSV file for --vendor csv.")] = None,
    indicators: Annotated[str | None, typer.Option("--indicators", "-i", help="Comma-separated names (default rsi,macd).")] = None,
    config_file: Annotated[str | None, typer.Option("--config", "-c", callback=nonblank, help="A run config JSON (e.g. a saved run's); flags override it.")] = None,
    structure: Annotated[str | None, typer.Option("--structure", help="Option structure (default bull_call_spread).")] = None,
    dte: Annotated[int | None, typer.Option("--dte", help="Calendar days to expiry at entry (default 45).")] = None,
    strike_delta: Annotated[str | None, typer.Option("--strike-delta", help="Strikes by |delta|: near[,far].")] = None,
    contracts: Annotated[int | None, typer.Option("--contracts", help="Structure units per entry (default: sized by risk).")] = None,
    chain: Annotated[str | None, typer.Option("--chain", callback=nonblank, help="Price from this end-of-day chain CSV (then only --iv 1).")] = None,
    iv: Annotated[str, typer.Option("--iv", help="IV multipliers (x iv_premium), comma-separated.")] = "0.8,1,1.25,1.5",
    haircuts: Annotated[str, typer.Option("--haircuts", help="Bid-ask haircuts, comma-separated: 0,1%,2%,5%.")] = "0,1%,2%,5%",
    metric: Annotated[str, typer.Option("--metric", help="Metric of the grid table (final_equity, total_return, sharpe, max_drawdown, n_trades).")] = "final_equity",
    csv: Annotated[str | None, typer.Option("--csv", callback=nonblank, help="Write the whole sensitivity table to this CSV.")] = None,
) -> None:
    """One options run over IV multipliers x bid-ask haircuts, and beside the underlying-only run."""
    from rich.table import Table

    from phi.cli import _flags as cb
    from phi.cli import _format as fmt
    from phi.errors import ConfigError
    from phi.options.sensitivity import (
        SENSITIVITY_METRICS,
        cell_options,
        check_grid,
        compare_table,
        sensitivity_grid,
        sensitivity_table,
    )
    from phi.pipeline import run

    if metric not in ("iv_premium", *SENSITIVITY_METRICS):  # before the grid's runs, not after them
        raise ConfigError(f"--metric: {metric!r} is not a column of the grid; choose one of {', '.join(('iv_premium', *SENSITIVITY_METRICS))}")
    config = cb.build_config(
        config_file=config_file,
        dataset={"symbol": symbol, "vendor": vendor, "start": start, "end": end, "path": path},
        indicators=indicators,
        mode="options",
        options={
            "structure": structure,
            "dte": dte,
            **({"strike_rule": "delta", "delta": cb.parse_strike_pair(strike_delta, "--strike-delta")} if strike_delta is not None else {}),
            "contracts": contracts,
            "chain": chain,
        },
    )
    assert config.options is not None
    ivs, hcs = check_grid(
        config.options,
        [cb.parse_fraction(v, "--iv") for v in cb.split_list(iv, "--iv")],  # type: ignore[misc]
        [cb.parse_fraction(v, "--haircuts") for v in cb.split_list(haircuts, "--haircuts")],  # type: ignore[misc]
    )
    cells = {}
    with console.status("Running the sensitivity grid ...", spinner="dots") as status:
        for m in ivs:
            for h in hcs:
                status.update(f"Running the sensitivity grid: IV x{m:g}, haircut {h:g}")
                o = cell_options(config.options, m, h)
                cells[(m, h)] = (o, run(config.replace(options=o), save=False).metrics)
        base = run(config, save=False)
        under = run(config.replace(mode="equities", options=None), save=False)
    table = sensitivity_table(cells)
    grid = sensitivity_grid(table, metric)
    out = Table(title=f"{metric} by IV multiplier (rows) x haircut (columns)", title_justify="left")
    out.add_column("IV x")
    for h in grid.columns:
        out.add_column(f"{h:g}", justify="right")
    for m, row in grid.iterrows():
        out.add_row(f"{m:g}", *(f"{v:,.4g}" if isinstance(v, float) else str(v) for v in row))
    console.print(out)
    cmp = compare_table(base.metrics, under.metrics)
    console.print(fmt.metrics_table({c: cmp[c].to_dict() for c in cmp.columns}, "Options run beside the underlying on the same signal"))
    console.print(str(base.assumptions.get("prices", "")), highlight=False, markup=False)
    if csv:
        from phi._io import write_user_text

        write_user_text(csv, table.to_csv(), "--csv")
        console.print(f"Wrote the sensitivity table to {csv}", highlight=False, markup=False)


def _money(x: float) -> str:
    """Dollars per 1 % move, compact: 1.2M, 35.0k, -800."""
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:,.2f}B"
    if a >= 1e6:
        return f"{x / 1e6:,.2f}M"
    if a >= 1e3:
        return f"{x / 1e3:,.1f}k"
    return f"{x:,.0f}"


@options_app.command("gex")
def gex_cmd(
    chain: Annotated[str, typer.Argument(help="End-of-day option-chain CSV with open_interest.")],
    date: Annotated[str | None, typer.Option("--date", callback=nonblank, help="Quote date (default: the chain's last).")] = None,
    spot: Annotated[float | None, typer.Option("--spot", "-S", help="Underlying price (default: the chain's underlying column, else put-call parity).")] = None,
    rate: Rate = 0.0,
    div: Div = 0.0,
    min_oi: Annotated[float, typer.Option("--min-oi", help="Leave out contracts with less open interest.")] = 100.0,
    max_dte: Annotated[int | None, typer.Option("--max-dte", help="Leave out expiries further away (days; 0 = no limit).")] = 60,
    strikes: Annotated[int, typer.Option("--strikes", min=1, help="Strikes shown around the spot.")] = 15,
) -> None:
    """Dealer gamma exposure by strike x expiry: zero-gamma level, call and put walls."""
    from rich.table import Table

    from phi.errors import ConfigError
    from phi.options.gex import GEX_CONVENTION, gamma_exposure

    _finite(spot=spot, rate=rate, div=div, **{"min-oi": min_oi})
    _signs(spot=spot)  # each flag named as typed, not as the GEX function's argument (r, q, ...)
    _rates(rate=rate, div=div)
    if not 0 <= min_oi <= MAX_MIN_OI:
        raise ConfigError(f"--min-oi must be in [0, {MAX_MIN_OI:g}], got {min_oi:g}")
    if max_dte is not None and not 0 <= max_dte <= MAX_DTE_DAYS:
        raise ConfigError(f"--max-dte must be from 0 (no limit) to {MAX_DTE_DAYS:,} days, got {max_dte:,}"[:200])
    if date is not None:  # the shared date check: year first, inside the supported span
        from phi.data.fetchers import parse_date

        date = f"{parse_date(date, 'quote'):%Y-%m-%d}"
    g = gamma_exposure(
        chain, date, spot=spot, r=rate, q=div, min_open_interest=min_oi, max_dte=max_dte or None
    )
    say = lambda text: console.print(text, highlight=False, markup=False)  # noqa: E731
    say(f"Gamma exposure {g.date:%Y-%m-%d}, spot {g.spot:,.2f} ({g.spot_source})")
    say(GEX_CONVENTION)
    if g.contracts.empty:
        say("No contract passes the filters: " + (", ".join(f"{n} {k}" for k, n in g.dropped.items()) or "none"))
        return
    surf = g.surface
    near = surf.index.to_numpy()
    order = sorted(range(len(near)), key=lambda i: abs(near[i] - g.spot))[: max(strikes, 1)]
    shown = surf.iloc[sorted(order)]
    t = Table(title="GEX by strike (rows) x expiry (columns), $ per 1 % move", title_justify="left")
    t.add_column("strike", justify="right")
    for e in shown.columns:
        t.add_column(f"{e:%Y-%m-%d} ({(e - g.date).days}d)", justify="right")
    t.add_column("all", justify="right")
    t.add_column("smoothed", justify="right")
    for k, row in shown.iterrows():
        mark = " <" if k == g.call_wall else (" >" if k == g.put_wall else "")
        t.add_row(
            f"{k:g}{mark}",
            *(_money(float(v)) for v in row),
            _money(float(g.by_strike.loc[k, "gex"])),
            _money(float(g.by_strike.loc[k, "smoothed"])),
        )
    console.print(t)
    if len(shown) < len(surf):
        say(f"({len(surf) - len(shown)} strikes further from the spot not shown; --strikes N)")
    f = g.features
    lines = [
        ("total GEX", _money(g.total) + " per 1 % move" + (" (dealers long gamma: dampening)" if g.total > 0 else " (dealers short gamma: amplifying)")),
        ("zero-gamma level", "none within +/-20 % of spot" if g.zero_gamma != g.zero_gamma else f"{g.zero_gamma:,.2f} ({(g.zero_gamma / g.spot - 1):+.2%} from spot)"),
        ("call wall (<)", "none" if g.call_wall != g.call_wall else f"{g.call_wall:g}"),
        ("put wall (>)", "none" if g.put_wall != g.put_wall else f"{g.put_wall:g}"),
        ("gamma_net", f"{f['gamma_net']:+.3f}"),
        ("gamma_wall_distance", f"{f['gamma_wall_distance']:+.3f}"),
        ("gamma_expiry_days", f"{f['gamma_expiry_days']:g}"),
        ("gex_flip_zone", f"{f['gex_flip_zone']:g}"),
        ("contracts used", f"{len(g.contracts)}" + (" (left out: " + ", ".join(f"{n} {k}" for k, n in g.dropped.items()) + ")" if g.dropped else "")),
    ]
    summary = Table(show_header=False, box=None)
    summary.add_column()
    summary.add_column()
    for name, value in lines:
        summary.add_row(name, value)
    console.print(summary)
    sources = g.contracts["gamma_source"].value_counts()
    say("gamma from: " + ", ".join(f"{src} ({n})" for src, n in sources.items()))
