"""``phi scan``: the Phi-Bot universe scanner — the regime engine on many symbols, ranked."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from phi.cli._common import (
    EndOpt,
    StartOpt,
    TimeframeOpt,
    VendorOpt,
    console,
    failure_summary,
    nonblank,
)


def _num(x: float, signed: bool = True) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _request(start: str | None, end: str | None, timeframe: str, vendor: str) -> tuple[str | None, str | None, str, str]:
    """The request every symbol shares, checked once: a bad date, timeframe or vendor is one
    error line before any symbol is scanned (not one failure per symbol)."""
    import pandas as pd

    from phi.cli._common import _default_dates
    from phi.data.fetchers import normalize_vendor, parse_date, parse_date_range
    from phi.data.timeframes import normalize_timeframe

    tf, v = normalize_timeframe(timeframe), normalize_vendor(vendor)
    if start is None and end is not None:  # the scanner's default: two years up to the end
        start = (parse_date(end, "end") - pd.DateOffset(years=2)).strftime("%Y-%m-%d")
    lo, hi = parse_date_range(*_default_dates(start, end))
    return (None if start is None else f"{lo:%Y-%m-%d}"), (None if end is None else f"{hi:%Y-%m-%d}"), tf, v


def scan_cmd(
    symbols: Annotated[list[str] | None, typer.Argument(help="Tickers, e.g. SPY QQQ AAPL (default: the seed's universe).")] = None,
    universe: Annotated[str | None, typer.Option("--universe", callback=nonblank, help="Text file with one symbol per line (# comments).")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    rank_by: Annotated[str, typer.Option("--rank-by", help="score (default), abs_score, composite or confidence.")] = "score",
    l2: Annotated[bool, typer.Option("--l2", help="Add level-2 quote features (needs POLYGON_API_KEY and a quote stream).")] = False,
) -> None:
    """Scan a universe: each symbol's regime score, confidences, dominant regime and top species, ranked."""
    from rich.markup import escape
    from rich.table import Table

    from phi.cli._common import terminal_text
    from phi.errors import ConfigError, DataError
    from phi.scanner import DEFAULT_UNIVERSE, L2_COLUMNS, read_universe, scan

    if symbols and universe:
        raise ConfigError("give symbols or --universe FILE, not both")
    start, end, timeframe, vendor = _request(start, end, timeframe, vendor)
    names = read_universe(universe) if universe else list(symbols or DEFAULT_UNIVERSE)
    l2_source, l2_status = None, None
    if l2:
        from phi.data.l2 import scanner_source

        l2_source, l2_status = scanner_source(names)
    with console.status(f"Scanning {len(names)} symbols ...", spinner="dots") as status:
        result = scan(names, vendor=vendor, timeframe=timeframe, start=start, end=end, rank_by=rank_by, l2=l2_source,
                      l2_status=l2_status,
                      progress=lambda s, i, n: status.update(escape(terminal_text(f"Scanning {s} ({i + 1}/{n}) ..."))) if s else None)  # fmt: skip
    df = result.table()
    if len(df):
        table = Table(title=f"Universe scan ({vendor}, {timeframe}), ranked by {rank_by}; score and composite: +1 = buy")
        for col in ("#", "symbol", "score", "comp", "conf", "field", "cons", "liq", "dominant", "top species", "last bar"):
            left = col in ("symbol", "dominant", "top species", "last bar")
            table.add_column(col, justify="left" if left else "right", no_wrap=col != "top species")
        show_l2 = l2 and df[list(L2_COLUMNS)].notna().any().any()
        if show_l2:
            for col in L2_COLUMNS:
                table.add_column(col, justify="right")
        for _, r in df.iterrows():
            top = str(r["top_species"]).split(", ")[0]  # the most probable species (all three: the API)
            cells = [str(r["rank"]), escape(r["symbol"]), _num(r["score"]), _num(r["composite"]), _num(r["confidence"], False),
                     _num(r["c_field"], False), _num(r["c_consensus"], False), _num(r["c_liquidity"], False),
                     f"{r['dominant_regime']} {r['dominant_prob']:.2f}", top,
                     f"{r['last_bar']:%Y-%m-%d}" + (" cached" if r["from_cache"] else "")]  # fmt: skip
            if show_l2:
                cells += [_num(r[c], False) if math.isfinite(r[c]) else "unavailable" for c in L2_COLUMNS]
            table.add_row(*cells)
        console.print(table)
        heat = result.heatmap()
        hm = Table(title="Regime probabilities on the last bar (heatmap)")
        hm.add_column("symbol")
        for reg in heat.columns:
            hm.add_column(reg.replace("BREAKOUT", "BRK").replace("EXHAUST_REV", "EXH_REV"), justify="right", no_wrap=True)
        for sym, row in heat.iterrows():
            cells = []
            for p in row:
                shade = "bold green" if p >= 0.5 else "green" if p >= 0.25 else "dim" if p < 0.05 else ""
                cells.append(f"[{shade}]{p:.2f}[/]" if shade else f"{p:.2f}")
            hm.add_row(escape(str(sym)), *cells)
        console.print(hm)
    console.print(escape(result.l2_status), highlight=False)
    if len(df) and bool(df["synthetic"].any()):
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    for sym, reason in result.failures:
        console.print(f"[yellow]skipped {escape(terminal_text(sym))}:[/] {escape(terminal_text(reason))}", highlight=False, soft_wrap=True)
    if not len(df):
        raise DataError(failure_summary("no symbol could be scanned", result.failures))
    console.print(f"{len(df)} scanned, {len(result.failures)} failed.", highlight=False)
