"""``phi indicators``: the indicator registry (listing never compiles or runs a kernel)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from phi.cli._common import console

indicators_app = typer.Typer(help="The indicator registry.", no_args_is_help=True)


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
            name, f"{spec.type} ({TYPE_MEANINGS.get(spec.type, '?')})", Text(spec.description), Text(_param_text(spec))
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

