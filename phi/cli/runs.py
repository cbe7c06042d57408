"""``phi runs``: the run history (list, show, compare, re-run, delete)."""

from __future__ import annotations

from typing import Annotated

import typer

from phi.cli._common import console

runs_app = typer.Typer(help="The run history: list, show, compare, re-run, delete.", no_args_is_help=True)


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many runs.")] = 20,
) -> None:
    """List saved runs, newest first, with their headline metrics."""
    from phi.backtest.run_history import list_runs
    from phi.cli import _format as fmt
    from phi.paths import runs_root

    rows = list_runs()
    if not rows:
        console.print(f"No saved runs in {runs_root()}. Try: phi demo", highlight=False, markup=False)
        return
    console.print(fmt.runs_table(rows[:limit], f"Saved runs in {runs_root()} ({len(rows)}; * = synthetic data)"))
    if len(rows) > limit:
        console.print(f"... {len(rows) - limit} older run(s); use --limit", highlight=False)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="A run id from phi runs list.")],
    trades: Annotated[int, typer.Option("--trades", help="Show the last N trades.")] = 10,
) -> None:
    """Show one saved run: metrics, assumption ledger, config and its last trades."""
    from rich.table import Table

    from phi.backtest.run_history import load_run
    from phi.cli import _format as fmt

    saved = load_run(run_id)
    res = saved.results
    summary = res.get("summary") or {}
    console.print(f"Run [bold]{run_id}[/] saved {res.get('created_at')} by phi {res.get('phi_version')}", highlight=False)
    header = fmt.run_header(saved.config.to_dict(), summary.get("bars"))
    fmt.print_run(console, header, saved.metrics, saved.assumptions, synthetic=bool(summary.get("synthetic")), run_id=None)
    console.print(f"config hash {str(res.get('config_hash'))[:16]}, data fingerprint {str(res.get('data_fingerprint'))[:16]}, files in {saved.path}", highlight=False, soft_wrap=True)
    if trades > 0 and len(saved.trades):
        t = saved.trades.tail(trades)
        table = Table(title=f"Last {len(t)} of {len(saved.trades)} trades", title_justify="left")
        for col in ("entry", "exit", "side", "entry price", "exit price", "size", "PnL", "return %", "reason"):
            table.add_column(col, justify="left" if col in ("side", "reason") else "right")
        for row in t.itertuples(index=False):
            table.add_row(
                f"{row.entry_time:%Y-%m-%d}", f"{row.exit_time:%Y-%m-%d}", str(row.side),
                f"{row.entry_price:,.2f}", f"{row.exit_price:,.2f}", f"{row.size:,.6g}",
                f"{row.pnl:,.2f}", f"{100 * row.return_pct:,.2f}", str(row.exit_reason),
            )  # fmt: skip
        console.print(table)


@runs_app.command("compare")
def runs_compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    equity_csv: Annotated[str | None, typer.Option("--equity-csv", help="Write the equity curves side by side to this CSV.")] = None,
) -> None:
    """Compare saved runs: metrics side by side, config differences, equity curves."""
    from rich.table import Table
    from rich.text import Text

    from phi.backtest.run_history import compare_runs
    from phi.cli import _format as fmt

    cmp = compare_runs(run_ids)
    letters = [chr(ord("A") + i) if i < 26 else str(i + 1) for i in range(len(cmp.run_ids))]
    for letter, rid in zip(letters, cmp.run_ids, strict=True):
        console.print(f"{letter} = {rid}", highlight=False)
    console.print(fmt.metrics_table({k: cmp.metrics[rid].to_dict() for k, rid in zip(letters, cmp.run_ids, strict=True)}, "Metrics"))
    if cmp.config_diff:
        table = Table(title="Config differences", title_justify="left")
        table.add_column("field", overflow="fold")
        for letter in letters:
            table.add_column(letter)
        for path, *values in cmp.config_diff:
            table.add_row(path, *(Text(str(v)) for v in values))
        console.print(table)
    else:
        console.print("The configs are identical (apart from description, tags and versions).")
    if equity_csv:
        from phi._io import write_user_text

        write_user_text(equity_csv, cmp.equity.to_csv(), "--equity-csv")
        console.print(f"Wrote the equity curves to {equity_csv}", highlight=False, markup=False)


@runs_app.command("rerun")
def runs_rerun(
    run_id: Annotated[str, typer.Argument(help="A run id from phi runs list.")],
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save the re-run as a new run (default: save).")] = True,
    allow_data_change: Annotated[bool, typer.Option("--allow-data-change", help="Run even if the bars changed since.")] = False,
) -> None:
    """Re-run a saved run's config and check that its trades and metrics are identical."""
    import json

    from phi.backtest.run_history import load_run
    from phi.cli import _format as fmt

    saved = load_run(run_id)
    result = fmt.run_with_progress(console, saved.config, save, allow_data_change)
    fmt.print_result(console, result)
    same_metrics = json.dumps(result.metrics, sort_keys=True) == json.dumps(saved.metrics, sort_keys=True)
    same_trades = result.trades.to_csv(index=False) == (saved.path / "trades.csv").read_text(encoding="utf-8")
    if same_metrics and same_trades:
        console.print(f"[green]Identical[/] to {run_id}: same trades and metrics.", highlight=False)
    else:
        diff = [m for m in result.metrics if json.dumps(result.metrics[m]) != json.dumps(saved.metrics.get(m))]
        console.print(
            f"[red]Differs[/] from {run_id}: metrics {', '.join(diff) or 'same'}; "
            f"trades {'same' if same_trades else 'differ'}.",
            highlight=False,
        )


@runs_app.command("delete")
def runs_delete(
    run_id: Annotated[str, typer.Argument(help="A run id from phi runs list.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a saved run."""
    from phi.backtest.run_history import delete_run, run_dir

    run_dir(run_id)  # an unknown id is a clear error before any question
    if not yes and not typer.confirm(f"Delete run {run_id}?"):
        raise typer.Abort()
    delete_run(run_id)
    console.print(f"Deleted run {run_id}.", highlight=False)

