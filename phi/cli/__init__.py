"""The ``phi`` command line: parse arguments, call the library, print tables.

One module per command group (data, indicators, regime, backtest, runs, workbench); no finance
logic lives here. Heavy modules are imported inside each command so that ``phi --help`` and
``phi runs list`` start fast. Any :class:`phi.errors.PhiError` becomes a one-line message on
stderr and exit code 2.
"""

from __future__ import annotations

import sys

import typer
import typer.main

from phi.cli import (
    backtest,
    data,
    doctor,
    indicators,
    options,
    plutus,
    regime,
    runs,
    scan,
    tune,
    workbench,
)
from phi.cli._argv import repeated_option
from phi.cli._common import err_console
from phi.cli._home import home_problem
from phi.cli.batch import batch_app
from phi.cli.ml import ml_app
from phi.cli.portfolio import portfolio_app
from phi.cli.rl import rl_app
from phi.cli.strategies import strategies_app

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
app.add_typer(batch_app, name="batch")
app.command("tune")(tune.tune)
app.command()(workbench.workbench)
app.add_typer(options.options_app, name="options")
app.add_typer(plutus.plutus_app, name="plutus")
app.add_typer(strategies_app, name="strategies")
app.add_typer(portfolio_app, name="portfolio")
app.add_typer(ml_app, name="ml")
app.add_typer(rl_app, name="rl")
app.command("scan")(scan.scan_cmd)
app.command("doctor")(doctor.doctor)

__all__ = ["app", "main"]


def _one_line(text: object) -> str:
    """A message on one line: whatever a user value smuggled in, no line break reaches stderr,
    and no other control or format character either (a raw \\x01, an escape sequence, a
    right-to-left override that reverses the rest of the line): those are shown escaped."""
    import unicodedata

    line = " ".join(str(text).split("\n")).replace("\r", " ")
    if line.isprintable():
        return line
    return "".join(
        ch if ch == " " or ch.isprintable() or unicodedata.category(ch) not in ("Cc", "Cf") else ch.encode("unicode_escape").decode("ascii")
        for ch in line
    )


def _say(kind: str, style: str, message: object) -> None:
    """``error: ...`` / ``warning: ...`` on stderr. The message is never parsed as rich markup:
    user values such as ``[/x]`` or ``[low, high]`` print as they are."""
    from rich.text import Text

    err_console.print(Text.assemble((f"{kind}:", style), " ", _one_line(message)), highlight=False, soft_wrap=True)


def _non_finite(exc: Exception, args: list[str]) -> str | None:
    """``--x must be a finite number, got nan`` when the value a range check refused is NaN or
    infinite (the range check's own words, 'Input should be >= 0', do not fit a NaN)."""
    import math

    opts = getattr(getattr(exc, "param", None), "opts", None) or []
    for i, arg in enumerate(args):
        for opt in opts:
            if arg == opt and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith(f"{opt}="):
                value = arg[len(opt) + 1 :]
            else:
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            if not math.isfinite(number):
                return f"{opt} must be a finite number, got {value}"
    return None


def _usage_error(exc: Exception, args: list[str] | None = None) -> int | None:
    """One line for a typer/click usage error (bad flag value, unknown option, missing argument)."""
    format_message, exit_code = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
    if not callable(format_message) or not isinstance(exit_code, int):
        return None
    if type(exc).__name__ == "NoArgsIsHelpError":  # `phi data` alone: show the group's help
        exc.show()  # type: ignore[attr-defined]
        return exit_code
    ctx = getattr(exc, "ctx", None)
    hint = f" (see {ctx.command_path} --help)" if ctx is not None and exit_code == 2 else ""
    _say("error", "bold red", f"{_non_finite(exc, args or []) or format_message()}{hint}")
    return exit_code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``phi`` console script; returns the process exit code.

    A :class:`~phi.errors.PhiError` or a usage error is one line on stderr and exit code 2.
    """
    import warnings

    from typer.exceptions import TyperException

    from phi.errors import PhiError

    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)  # built once: checked here, then run
    problem = home_problem(args) or repeated_option(command, args)
    if problem:
        _say("error", "bold red", problem)
        return 2
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                command(args=argv, prog_name="phi", standalone_mode=False)
            finally:
                said: dict[str, int] = {}  # one line per distinct warning (a grid of runs warns alike in each)
                for w in caught:
                    if issubclass(w.category, UserWarning):
                        text = _one_line(w.message)
                        said[text] = said.get(text, 0) + 1
                for text, n in said.items():
                    _say("warning", "yellow", text if n == 1 else f"{text} ({n} times)")
    except PhiError as exc:
        _say("error", "bold red", exc)
        return 2
    except typer.Abort:
        err_console.print("aborted")
        return 1
    except KeyboardInterrupt:  # Ctrl-C: saves are atomic, so nothing is half-written
        err_console.print("interrupted")
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:  # typer/click exit paths (e.g. --help)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except TyperException as exc:
        code = _usage_error(exc, args)
        if code is None:
            raise
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
