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


# ---------------------------------------------------------------------------- indicator commands


# ---------------------------------------------------------------------------- backtest commands


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``phi`` console script; returns the process exit code."""
    from phi.errors import PhiError

    try:
        app(args=argv, standalone_mode=False)
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
