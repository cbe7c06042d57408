"""``phi fetch``, ``phi data health`` and ``phi cache``: get bars once, inspect them, manage the cache."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from phi.cli._common import PathOpt, TimeframeOpt, VendorOpt, _load, _print_health, confirm, console

data_app = typer.Typer(help="Inspect datasets.", no_args_is_help=True)
cache_app = typer.Typer(help="Manage the dataset cache.", no_args_is_help=True)


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
    table = Table(title=Text(f"{meta.get('symbol', symbol)} {meta['timeframe']} ({meta.get('vendor', vendor)})"))
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
        table.add_row(k, Text(v))
    console.print(table)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    for note in meta.get("repairs") or []:
        console.print(f"[yellow]repaired:[/] {escape(str(note))}", highlight=False)
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
    console.print(f"{meta.get('symbol', symbol)} {meta['timeframe']} {meta.get('vendor', vendor)}: {meta['rows']:,} bars, {meta['first_bar']} .. {meta['last_bar']}", highlight=False, markup=False)
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
        console.print(f"The cache is empty ({cache_root()}).", markup=False)
        return
    table = Table(title=Text(f"Cached datasets in {cache_root()}"))
    for col in ("vendor", "symbol", "tf", "range", "rows", "health", "fetched (UTC)"):
        table.add_column(col, no_wrap=True, justify="right" if col == "rows" else "left")
    for m in metas:
        table.add_row(
            *(Text(str(m.get(k))) for k in ("vendor", "symbol", "timeframe")),
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
    if n and not yes:
        confirm(f"Delete {n} cached dataset(s)?")
    removed = clear_all_cache()
    console.print(f"Removed {removed} cached dataset(s).")


@cache_app.command("clean")
def cache_clean() -> None:
    """Remove what interrupted saves left in the cache (temporary files, parquet files without
    metadata); datasets being saved right now are left alone."""
    from phi.data.cache import clean_cache

    count, size = clean_cache()
    console.print(f"Removed {count} leftover file(s) ({size / 1e6:.1f} MB).")
