"""``phi plutus``: ask the local LLM advisor about one symbol, or backtest the Plutus preset."""

from __future__ import annotations

from typing import Annotated

import typer

from phi.cli._common import (
    EndOpt,
    PathOpt,
    StartOpt,
    TimeframeOpt,
    VendorOpt,
    _load,
    check_request,
    console,
    nonblank,
)

plutus_app = typer.Typer(help="Plutus: a local LLM (Ollama or OpenAI-compatible) as a trading advisor.", no_args_is_help=True)

UrlOpt = Annotated[str | None, typer.Option("--url", callback=nonblank, help="LLM server (default: $OLLAMA_HOST, or $OPENAI_BASE_URL with --protocol openai).")]
ModelOpt = Annotated[str | None, typer.Option("--model", callback=nonblank, help="Model name (default: 0xroyce/plutus).")]
ProtocolOpt = Annotated[str, typer.Option("--protocol", help="ollama (/api/chat) or openai (/v1/chat/completions).")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, max=600, help="Seconds to wait for one reply.")]


@plutus_app.command("ask")
def ask(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data).")] = "DEMO",
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    url: UrlOpt = None,
    model: ModelOpt = None,
    protocol: ProtocolOpt = "ollama",
    timeout: TimeoutOpt = 60.0,
    regime: Annotated[bool, typer.Option("--regime/--no-regime", help="Give Plutus the regime engine's brief (default: on).")] = True,
    raw: Annotated[bool, typer.Option("--raw", help="Also print the model's reply as received.")] = False,
) -> None:
    """Ask Plutus BUY / SELL / HOLD for the bar after the last one of SYMBOL."""
    from rich.markup import escape
    from rich.table import Table

    from phi.cli._common import terminal_text as safe
    from phi.data.fetchers import normalize_vendor
    from phi.plutus.advisor import PlutusAdvisor
    from phi.plutus.client import LLMUnavailableError

    check_request(symbol, start, end, timeframe, vendor, path)  # a bad request is named, not the server
    advisor = PlutusAdvisor(url, model, protocol, timeout)
    # a CSV file is read first: a bad file is named, not the server. A vendor's bars only after
    # the server answered: no download, and no demo bars cached, for a question not asked.
    csv = normalize_vendor(vendor) == "csv"
    ds = _load(symbol, start, end, timeframe, vendor, path) if csv else None
    problem = advisor.client.ping(timeout=min(2.0, timeout))
    if problem:  # said before running the engine
        raise LLMUnavailableError(problem)
    if ds is None:
        ds = _load(symbol, start, end, timeframe, vendor, path)
    res = None
    if regime:
        from phi.regime.engine import RegimeEngine

        with console.status("Running the regime engine ...", spinner="dots"):
            res = RegimeEngine().run(ds.frame)
    with console.status(escape(f"Asking {advisor.model} at {advisor.base_url} ..."), spinner="dots"):
        advice = advisor.advise(ds.frame, res, symbol=symbol)
    last = ds.frame.index[-1]
    table = Table(title=escape(f"Plutus on {symbol} after {last:%Y-%m-%d} ({advisor.model}, {advisor.protocol})"))
    table.add_column("field")
    table.add_column("value")
    style = {"BUY": "bold green", "SELL": "bold red"}.get(advice.signal, "bold")
    table.add_row("signal", f"[{style}]{advice.signal}[/]")
    table.add_row("confidence", f"{advice.confidence:.2f}")
    table.add_row("reasoning", escape(safe(advice.reasoning)) or "-")  # the model's words: no markup, no escape codes
    table.add_row("risk note", escape(safe(advice.risk_note)) or "-")
    console.print(table)
    if advice.error:
        console.print(f"[yellow]reply not used:[/] {escape(safe(advice.error))} - treated as HOLD", highlight=False)
    elif advice.note:
        console.print(f"note: {escape(advice.note)}", highlight=False)
    if raw:
        console.print("raw reply:", highlight=False)
        console.print(safe(advice.raw) or "(none)", markup=False, highlight=False)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")


@plutus_app.command("backtest")
def backtest(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data).")] = "DEMO",
    start: Annotated[str, typer.Option("--start", help="First date, inclusive.")] = "2020-01-01",
    end: Annotated[str, typer.Option("--end", help="Last date, inclusive.")] = "2024-12-31",
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    every: Annotated[int, typer.Option("--every", min=1, max=20, help="Bars between two questions to the LLM.")] = 1,
    min_confidence: Annotated[float, typer.Option("--min-confidence", min=0.5, max=0.95, help="Confidence a BUY/SELL needs to act.")] = 0.6,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save to the run history (default: save).")] = True,
) -> None:
    """Backtest the Plutus preset (server from $OLLAMA_HOST; replies cached under PHI_HOME, so a
    re-run needs no server). Model: $PHI_PLUTUS_MODEL; protocol: $PHI_PLUTUS_PROTOCOL."""
    from phi.cli import _format as fmt
    from phi.errors import RunError
    from phi.plutus.preset import plutus_config, run_plutus

    config = plutus_config(symbol, vendor=vendor, timeframe=timeframe, start=start, end=end, every=every,
                           min_confidence=min_confidence, path=path)  # fmt: skip
    with console.status("Backtesting Plutus (one LLM question per decision bar) ...", spinner="dots"):
        result, tally = run_plutus(config, save=save)
    fmt.print_result(console, result)
    console.print(tally.summary(), highlight=False)
    if result.save_error:
        raise RunError(result.save_error)
