"""``phi doctor``: the state of every component (ok / degraded / failed) and why."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from phi.cli._common import console


def doctor(
    network: Annotated[bool, typer.Option("--network/--no-network", help="Check the vendors' servers (default: yes).")] = True,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, max=30, help="Seconds each network check may wait.")] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check Python, packages, numba cache, vendors, cache, run history, run index, Dask, models, L2 key and the LLM server.

    Exit code 1 when a component failed (degraded ones still work, with the limitation stated).
    """
    from rich.markup import escape
    from rich.table import Table

    from phi.status import DEGRADED, FAILED, overall, system_status

    with console.status("Checking the system ...", spinner="dots"):
        checks = system_status(network=network, timeout=timeout)
    worst = overall(checks)
    if as_json:
        console.print_json(json.dumps({"overall": worst, "checks": [c.to_dict() for c in checks]}))
    else:
        table = Table(title="Phi-nance system status")
        table.add_column("component", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("detail")
        style = {"ok": "green", DEGRADED: "yellow", FAILED: "bold red"}
        for c in checks:
            table.add_row(c.component, f"[{style[c.status]}]{c.status}[/]", escape(c.detail))
        console.print(table)
        broken = [c.component for c in checks if c.status == FAILED]
        weak = [c.component for c in checks if c.status == DEGRADED]
        line = f"overall: [{style[worst]}]{worst}[/]"
        if broken:
            line += f" - failed: {escape(', '.join(broken))}"
        if weak:
            line += f" - degraded: {escape(', '.join(weak))}"
        console.print(line, highlight=False)
    if worst == FAILED:
        raise SystemExit(1)  # main() returns it (typer.Exit is swallowed outside standalone mode)
