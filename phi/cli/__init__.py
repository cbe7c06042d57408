"""The ``phi`` command line: parse arguments, call the library, print tables.

One module per command group (data, indicators, regime, backtest, runs, workbench); no finance
logic lives here. Heavy modules are imported inside each command so that ``phi --help`` and
``phi runs list`` start fast. Any :class:`phi.errors.PhiError` becomes a one-line message on
stderr and exit code 2.
"""

from __future__ import annotations

import sys

import typer

from phi.cli import backtest, data, indicators, regime, runs, workbench
from phi.cli._common import err_console

app = typer.Typer(
    name="phi",
    help="Phi-nance: fetch market data, compute indicator signals, backtest, compare runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(data.fetch)
app.add_typer(data.data_app, name="data")
app.add_typer(data.cache_app, name="cache")
app.add_typer(indicators.indicators_app, name="indicators")
app.command("regime")(regime.regime_cmd)
app.command()(backtest.backtest)
app.command()(backtest.demo)
app.add_typer(runs.runs_app, name="runs")
app.command()(workbench.workbench)

__all__ = ["app", "main"]


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
    except Exception as exc:
        # Usage errors from typer's (vendored) click: they know how to show themselves.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            return exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
