"""What the ``phi`` command groups share: the consoles, options declared once, dataset loading."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


def terminal_text(text: object) -> str:
    """``text`` safe to print on a terminal: line breaks and tabs kept, every other control or
    format character (an ANSI escape sequence, a bell, a carriage return, a right-to-left
    override) shown escaped (``\\x1b``), so text from a server or a file cannot drive the terminal."""
    import unicodedata

    line = str(text)
    if line.isprintable():
        return line
    return "".join(
        ch if ch in "\n\t " or ch.isprintable() or unicodedata.category(ch) not in ("Cc", "Cf") else ch.encode("unicode_escape").decode("ascii")
        for ch in line
    )


def nonblank(param: typer.CallbackParam, value: str | None) -> str | None:
    """Option callback for a file, symbol or name: a value given but blank (``--config ""``)
    is refused, never read as "option not given" (a default run, or a file named '   ')."""
    if value is not None and not value.strip():
        from phi.errors import ConfigError

        flag = max(param.opts, key=len)
        raise ConfigError(f"{flag} is empty ({value!r}); give a value or leave {flag} out")
    return value


# Options shared by several commands, declared once.
StartOpt = Annotated[str | None, typer.Option("--start", help="First date, inclusive (YYYY-MM-DD).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last date, inclusive (YYYY-MM-DD).")]
TimeframeOpt = Annotated[str, typer.Option("--timeframe", "-t", help="1D, 4H, 1H, 15m, 5m or 1m.")]
VendorOpt = Annotated[
    str, typer.Option("--vendor", "-v", help="demo (offline), yfinance, alpha_vantage or csv.")
]
LedgerOpt = Annotated[
    bool, typer.Option("--ledger", help="Show every metric and the full assumption ledger (default: headline KPIs and trades).")
]
PathOpt = Annotated[
    str | None, typer.Option("--path", callback=nonblank, help="CSV file to read (vendor csv only).")
]


def _default_dates(start: str | None, end: str | None) -> tuple[str, str]:
    """Missing dates (option not given) default to the last two years up to today; an empty
    ``--start ""`` is not a missing date but a bad one, refused by the date parser."""
    import pandas as pd

    today = pd.Timestamp.now(tz="UTC").normalize()
    lo = (today - pd.DateOffset(years=2)).strftime("%Y-%m-%d") if start is None else start
    return lo, today.strftime("%Y-%m-%d") if end is None else end


def check_path_vendor(vendor: str, path: str | None) -> None:
    """``--path`` is read by ``--vendor csv`` only: with another vendor it would be silently
    ignored (the user's file never read), so it is refused."""
    from phi.errors import ConfigError

    if path is not None and str(vendor).strip().lower() != "csv":
        raise ConfigError(f"--path is only read with --vendor csv, got --vendor {vendor!r}; add --vendor csv or drop --path")


def confirm(question: str) -> None:
    """Ask ``question`` (yes/no) before a deletion; "no" aborts. Without a terminal to answer
    on (a script, a pipe, cron) it is one error line asking for ``--yes``, not an
    "aborted" from reading end-of-file."""
    import sys

    from phi.errors import ConfigError

    if not sys.stdin.isatty():
        raise ConfigError(f"{question[:-1] if question.endswith('?') else question}: no terminal to confirm on; add --yes")
    if not typer.confirm(question):
        raise typer.Abort()


def check_request(symbol: str, start: str | None, end: str | None, timeframe: str, vendor: str, path: str | None) -> None:
    """Refuse a bad symbol, date, timeframe or vendor before a slow or remote step (an LLM
    server probe): the bad input is named, not the step that happened to run first."""
    from phi.data.fetchers import normalize_vendor, parse_date_range, validate_symbol
    from phi.data.timeframes import normalize_timeframe
    from phi.errors import ConfigError

    check_path_vendor(vendor, path)
    normalize_timeframe(timeframe)
    parse_date_range(*_default_dates(start, end))
    if normalize_vendor(vendor) != "csv":
        validate_symbol(symbol)
    elif path is None:
        raise ConfigError("--vendor csv needs a file: add --path my_bars.csv")


def _load(symbol: str, start: str | None, end: str | None, timeframe: str, vendor: str, path: str | None, refresh: bool = False):  # noqa: ANN202
    from phi.data.store import get_dataset

    check_path_vendor(vendor, path)
    lo, hi = _default_dates(start, end)
    with console.status(escape(f"Loading {symbol} {timeframe} from {vendor} ({lo} .. {hi}) ..."), spinner="dots"):
        return get_dataset(symbol, lo, hi, timeframe, vendor, path=path, refresh=refresh)


def failure_summary(what: str, failures: list[tuple[str, str]] | dict[str, str]) -> str:
    """One error line for a batch where nothing succeeded, naming the reason: the shared one
    when every item failed alike, else a pointer to the reasons listed above it."""
    items = list(failures.items()) if isinstance(failures, dict) else list(failures)
    if not items:
        return what
    if len(items) == 1:
        return f"{what}: {items[0][0]}: {items[0][1]}"
    if len({why.replace(name, "\0") for name, why in items}) == 1:  # alike but for the name in it
        return f"{what}: all {len(items)} failed alike, e.g. {items[0][0]}: {items[0][1]}"
    return f"{what} ({len(items)} failed; reasons above)"


def _print_health(health: dict) -> None:
    from phi.data.health import HealthReport

    report = HealthReport.from_dict(health)
    style = {"ok": "green", "warn": "yellow", "bad": "red"}.get(report.status, "white")
    console.print(f"Data health: [{style}]{report.status}[/]")
    for line in report.summary_lines():
        console.print(f"  - {line}", highlight=False, markup=False)

