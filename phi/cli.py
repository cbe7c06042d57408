"""The ``phi`` command line: parse arguments, call the library, print tables.

No finance logic lives here. Heavy modules are imported inside each command so that
``phi --help`` and ``phi runs list`` start fast. Any :class:`phi.errors.PhiError` becomes
a one-line message on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="phi",
    help="Phi-nance: fetch market data, compute indicator signals, backtest, compare runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect datasets.", no_args_is_help=True)
cache_app = typer.Typer(help="Manage the dataset cache.", no_args_is_help=True)
indicators_app = typer.Typer(help="The indicator registry.", no_args_is_help=True)
runs_app = typer.Typer(help="The run history: list, show, compare, re-run, delete.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(cache_app, name="cache")
app.add_typer(indicators_app, name="indicators")
app.add_typer(runs_app, name="runs")

console = Console()
err_console = Console(stderr=True)

# Options shared by several commands, declared once.
StartOpt = Annotated[str, typer.Option("--start", help="First date, inclusive (YYYY-MM-DD).")]
EndOpt = Annotated[str, typer.Option("--end", help="Last date, inclusive (YYYY-MM-DD).")]
TimeframeOpt = Annotated[str, typer.Option("--timeframe", "-t", help="1D, 4H, 1H, 15m, 5m or 1m.")]
VendorOpt = Annotated[
    str, typer.Option("--vendor", "-v", help="demo (offline), yfinance, alpha_vantage or csv.")
]
PathOpt = Annotated[
    str | None, typer.Option("--path", help="CSV file to read (vendor csv only).")
]


# ---------------------------------------------------------------------------- data commands


def _default_dates(start: str | None, end: str | None) -> tuple[str, str]:
    """Missing dates default to the last two years up to today."""
    import pandas as pd

    today = pd.Timestamp.now(tz="UTC").normalize()
    return start or (today - pd.DateOffset(years=2)).strftime("%Y-%m-%d"), end or today.strftime("%Y-%m-%d")


def _load(symbol: str, start: str | None, end: str | None, timeframe: str, vendor: str, path: str | None, refresh: bool = False):  # noqa: ANN202
    from phi.data.store import get_dataset

    lo, hi = _default_dates(start, end)
    with console.status(f"Loading {symbol} {timeframe} from {vendor} ({lo} .. {hi}) ...", spinner="dots"):
        return get_dataset(symbol, lo, hi, timeframe, vendor, path=path, refresh=refresh)


def _print_health(health: dict) -> None:
    from phi.data.health import HealthReport

    report = HealthReport.from_dict(health)
    style = {"ok": "green", "warn": "yellow", "bad": "red"}.get(report.status, "white")
    console.print(f"Data health: [{style}]{report.status}[/]")
    for line in report.summary_lines():
        console.print(f"  - {line}", highlight=False)


@app.command()
def fetch(
    symbol: Annotated[str, typer.Argument(help="Ticker, e.g. AAPL, BRK-B, ^GSPC, EURUSD=X; DEMO for synthetic data.")],
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive (YYYY-MM-DD).")] = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Re-fetch even if cached.")] = False,
) -> None:
    """Fetch bars once and cache them (later requests inside the range come from the cache)."""
    from rich.table import Table

    ds = _load(symbol, start, end, timeframe, vendor, path, refresh)
    meta = ds.metadata
    table = Table(title=f"{meta.get('symbol', symbol)} {meta['timeframe']} ({meta.get('vendor', vendor)})")
    table.add_column("field")
    table.add_column("value")
    rows = [
        ("source", "cache" if ds.from_cache else "fetched"),
        ("rows", f"{meta['rows']:,}"),
        ("first bar", str(meta["first_bar"])),
        ("last bar", str(meta["last_bar"])),
        ("adjustment", str(meta.get("adjustment", "?"))),
        ("exchange tz", str(meta.get("exchange_tz", "?"))),
        ("dataset id", str(meta.get("dataset_id", ""))),
        ("content hash", str(meta["content_hash"])[:16]),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    for note in meta.get("repairs") or []:
        console.print(f"[yellow]repaired:[/] {note}", highlight=False)
    if "health" in meta:
        _print_health(meta["health"])


@data_app.command("health")
def data_health_cmd(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data).")],
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive.")] = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
) -> None:
    """Show the data-health report of a dataset (fetched and cached if needed)."""
    from phi.data.health import data_health

    ds = _load(symbol, start, end, timeframe, vendor, path)
    meta = ds.metadata
    health = data_health(
        ds.frame,
        meta["timeframe"],
        requested_start=meta.get("requested_start"),
        requested_end=meta.get("requested_end"),
        coverage_start=meta.get("coverage_start"),
        calendar=(meta.get("health") or {}).get("calendar", "exchange"),
    )
    console.print(f"{meta.get('symbol', symbol)} {meta['timeframe']} {meta.get('vendor', vendor)}: {meta['rows']:,} bars, {meta['first_bar']} .. {meta['last_bar']}", highlight=False)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/]")
    _print_health(health.to_dict())


@cache_app.command("list")
def cache_list() -> None:
    """List every cached dataset, newest first."""
    from rich.table import Table

    from phi.data.cache import list_cached_datasets
    from phi.paths import cache_root

    metas = list_cached_datasets()
    if not metas:
        console.print(f"The cache is empty ({cache_root()}).")
        return
    table = Table(title=f"Cached datasets in {cache_root()}")
    for col in ("vendor", "symbol", "tf", "range", "rows", "health", "fetched (UTC)"):
        table.add_column(col, no_wrap=True, justify="right" if col == "rows" else "left")
    for m in metas:
        table.add_row(
            str(m.get("vendor")), str(m.get("symbol")), str(m.get("timeframe")),
            f"{m.get('start')}..{m.get('end')}", f"{m.get('rows', 0):,}",
            str((m.get("health") or {}).get("status", "?")),
            str(m.get("fetched_at", ""))[:16].replace("T", " "),
        )
    console.print(table)


@cache_app.command("clear")
def cache_clear(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every cached dataset."""
    from phi.data.cache import clear_all_cache, list_cached_datasets

    n = len(list_cached_datasets())
    if n and not yes and not typer.confirm(f"Delete {n} cached dataset(s)?"):
        raise typer.Abort()
    removed = clear_all_cache()
    console.print(f"Removed {removed} cached dataset(s).")


# ---------------------------------------------------------------------------- indicator commands


def _param_text(spec: object) -> str:
    params = getattr(spec, "params", ())
    if not params:
        return "-"
    return "\n".join(f"{p.name}={p.default} [{p.range_text()}]" for p in params)


@indicators_app.command("list")
def indicators_list() -> None:
    """List every indicator: type, what it measures, parameters with defaults and ranges."""
    from rich.table import Table

    from phi.indicators.params import TYPE_MEANINGS
    from phi.indicators.registry import INDICATORS

    table = Table(title="Indicators (signal in [-1, +1], +1 = buy)", show_lines=True)
    table.add_column("name", style="bold")
    table.add_column("type")
    table.add_column("measures")
    table.add_column("params: default [range]")
    for name, spec in INDICATORS.items():
        table.add_row(
            name, f"{spec.type} ({TYPE_MEANINGS.get(spec.type, '?')})", spec.description, _param_text(spec)
        )
    console.print(table)


@indicators_app.command("show")
def indicators_show(
    name: Annotated[str, typer.Argument(help="Indicator name, e.g. rsi.")],
) -> None:
    """Show one indicator: what it measures, its map to [-1, +1], parameters and warm-up."""
    from rich.table import Table

    from phi.indicators.params import TYPE_MEANINGS
    from phi.indicators.registry import get_indicator

    spec = get_indicator(name)
    console.print(f"[bold]{spec.name}[/] — type {spec.type} ({TYPE_MEANINGS.get(spec.type, '?')})")
    console.print(f"measures: {spec.description}", highlight=False)
    console.print(f"signal:   {spec.signal_mapping}", highlight=False)
    console.print(f"inputs:   {', '.join(spec.inputs)}")
    console.print(f"warm-up:  {spec.warmup(spec.defaults)} bars with the defaults")
    table = Table()
    for col in ("parameter", "type", "default", "low", "high", "step", "description"):
        table.add_column(col)
    for p in spec.params:
        table.add_row(
            p.name, p.kind.__name__, str(p.default), str(p.low), str(p.high), str(p.step), p.description
        )
    console.print(table)


# ---------------------------------------------------------------------------- backtest commands


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``phi`` console script; returns the process exit code."""
    import warnings

    from phi.errors import PhiError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                app(args=argv, standalone_mode=False)
            finally:
                for w in caught:
                    if issubclass(w.category, UserWarning):
                        err_console.print(f"[yellow]warning:[/] {w.message}", highlight=False, soft_wrap=True)
    except PhiError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except typer.Abort:
        err_console.print("aborted")
        return 1
    except SystemExit as exc:  # typer/click exit paths (e.g. --help)
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
