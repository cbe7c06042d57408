"""``phi runs``: the run history (list, show, compare, re-run, delete, clean, reindex)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from phi.cli._common import LedgerOpt, confirm, console, nonblank

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

runs_app = typer.Typer(help="The run history: list, show, compare, re-run, delete, clean, reindex.", no_args_is_help=True)


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many runs.")] = 20,
    where: Annotated[str | None, typer.Option("--where", "-w", help="Filter, e.g. \"sharpe > 1 and symbol = 'AAPL'\" or \"indicators has 'rsi'\".")] = None,
    sort: Annotated[str | None, typer.Option("--sort", "-s", help="Order by a field, highest first (FIELD:asc for lowest first); default newest first.")] = None,
) -> None:
    """List saved runs, newest first, with their headline metrics (from the run index)."""
    from phi.backtest.run_filter import parse_filter, parse_sort
    from phi.backtest.run_history import history_exists
    from phi.backtest.run_index import MAX_LIMIT, query_runs
    from phi.cli import _format as fmt
    from phi.errors import ConfigError, RunError
    from phi.paths import runs_root

    if limit > MAX_LIMIT:  # named as typed, not as the index's `limit` argument
        raise ConfigError(f"--limit must be at most {MAX_LIMIT:,}, got {limit:,}"[:200])
    if where is not None:
        parse_filter(where)  # a bad filter or sort is one line before anything is read
    if sort is not None:
        parse_sort(sort)
    if not history_exists():  # a file where the runs folder must be: RunError
        console.print(f"No saved runs in {runs_root()}. Try: phi demo", highlight=False, markup=False)
        return
    try:
        found = query_runs(where, sort, limit)
        rows, total = found.rows, found.total
    except RunError as exc:  # no usable index (e.g. a read-only PHI_HOME): scan the run folders
        if where is not None or sort is not None:
            raise
        import warnings

        from phi.backtest.run_history import list_runs

        warnings.warn(f"{exc}; listing by scanning the run folders", UserWarning, stacklevel=1)
        every = list_runs()
        rows, total = every[:limit], len(every)
    if not rows:
        if where is None:
            console.print(f"No saved runs in {runs_root()}. Try: phi demo", highlight=False, markup=False)
        else:
            console.print(f"No saved run matches {where} ({runs_root()}).", highlight=False, markup=False)
        return
    what = f"matching {where}: {total}" if where is not None else str(total)
    order = f", by {sort}" if sort is not None else ""
    console.print(fmt.runs_table(rows, f"Saved runs in {runs_root()} ({what}{order}; * = synthetic data)"))
    if total > len(rows):
        console.print(f"... {total - len(rows)} more run(s); use --limit", highlight=False)


@runs_app.command("reindex")
def runs_reindex() -> None:
    """Rebuild the run index (SQLite under PHI_HOME, or $PHI_DB_URL) from the run folders."""
    from phi.backtest.run_index import reindex

    report = reindex()
    skipped = f"; {len(report.skipped)} unreadable run(s) skipped" if report.skipped else ""
    console.print(
        f"Indexed {report.indexed} run(s) in {report.seconds:.2f} s into {report.url}{skipped}.",
        highlight=False, markup=False, soft_wrap=True,
    )  # fmt: skip


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="A run id from phi runs list.")],
    trades: Annotated[int, typer.Option("--trades", min=0, help="Show the last N trades.")] = 10,
    ledger: LedgerOpt = False,
) -> None:
    """Show one saved run: metrics, assumption ledger, config and its last trades."""
    from phi.backtest.run_history import load_run
    from phi.cli import _format as fmt

    saved = load_run(run_id)
    res = saved.results
    summary = res.get("summary") or {}
    console.print(Text.assemble("Run ", (run_id, "bold"), f" saved {res.get('created_at')} by phi {res.get('phi_version')}"), highlight=False)
    from phi.backtest.portfolio_run_config import PortfolioRunConfig

    if isinstance(saved.config, PortfolioRunConfig):  # a multi-asset run (phi portfolio run, MomentumRotation)
        from phi.cli.portfolio import portfolio_header

        header = portfolio_header(saved.config, summary.get("bars") if isinstance(summary.get("bars"), int) else None)
    else:
        header = fmt.run_header(saved.config.to_dict(), summary.get("bars"))
    fmt.print_run(console, header, saved.metrics, saved.assumptions, synthetic=bool(summary.get("synthetic")), run_id=None, ledger=ledger, trades=saved.trades)
    console.print(f"config hash {str(res.get('config_hash'))[:16]}, data fingerprint {str(res.get('data_fingerprint'))[:16]}, files in {saved.path}", highlight=False, soft_wrap=True, markup=False)
    if trades > 0 and len(saved.trades):
        console.print(_trades_table(saved.trades, trades, console.width))


def _trades_table(trades: pd.DataFrame, last: int, width: int = 120) -> Table:
    """The last ``last`` trades, sized for a ``width``-column terminal.

    An open trade's exit shows as "open", a missing value as n/a. The side column is shown only
    when both sides traded (else the title says which), and on a narrow terminal the exit price
    gives way so that no cell is cut.
    """
    import pandas as pd
    from rich import box
    from rich.table import Table

    def day(ts: object) -> str:
        if ts is None or ts != ts:  # NaT != NaT
            return "open"
        stamp = pd.Timestamp(ts)  # type: ignore[arg-type]
        return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else f"{stamp:%Y-%m-%d %H:%M}"

    def num(x: float, spec: str, scale: float = 1.0) -> str:
        return "n/a" if x != x else format(scale * x, spec)

    t = trades.tail(last)
    sides = sorted({str(s) for s in trades["side"]})
    columns = ["entry", "exit"] + (["side"] if len(sides) > 1 else [])
    columns += ["entry price"] + (["exit price"] if width >= 100 else []) + ["units", "P&L", "ret %", "exit by"]
    only = f", all {sides[0]}" if len(sides) == 1 else ""
    table = Table(title=f"Last {len(t)} of {len(trades)} trades{only}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for col in columns:
        table.add_column(col, justify="left" if col in ("side", "exit by") else "right", no_wrap=True)
    for row in t.itertuples(index=False):
        units = num(row.size, ",.0f") if float(row.size).is_integer() else num(row.size, ",.2f")
        cells: dict[str, str | Text] = {
            "entry": day(row.entry_time), "exit": day(row.exit_time), "side": Text(str(row.side)),
            "entry price": num(row.entry_price, ",.2f"), "exit price": num(row.exit_price, ",.2f"),
            "units": units, "P&L": num(row.pnl, ",.2f"), "ret %": num(row.return_pct, "+,.2f", 100.0),
            "exit by": Text(_EXIT_WORDS.get(str(row.exit_reason), str(row.exit_reason))),
        }
        table.add_row(*(cells[c] for c in columns))
    return table


#: exit reasons in the short words of the trades table
_EXIT_WORDS = {"stop_loss": "stop", "take_profit": "target", "trailing_stop": "trail",
               "time_exit": "time", "end_of_data": "end", "signal": "signal", "ruin": "ruin"}


@runs_app.command("compare")
def runs_compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    equity_csv: Annotated[str | None, typer.Option("--equity-csv", callback=nonblank, help="Write the equity curves side by side to this CSV.")] = None,
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
    allow_data_change: Annotated[bool, typer.Option("--allow-data-change", help="Run even if the bars (or an option chain) changed since.")] = False,
    ledger: LedgerOpt = False,
) -> None:
    """Re-run a saved run's config and check that its trades and metrics are identical."""
    import json

    from phi.backtest.run_config import RunConfig
    from phi.backtest.run_history import load_run, saved_trades_csv
    from phi.cli import _format as fmt
    from phi.errors import RunError

    saved = load_run(run_id)  # every file checked against its checksum
    from phi.pipeline import check_chain_unchanged

    check_chain_unchanged(saved, allow_data_change)  # an options run's quotes, like its bars
    result: Any
    if isinstance(saved.config, RunConfig):
        result = fmt.run_with_progress(console, saved.config, save, allow_data_change)
        fmt.print_result(console, result, ledger=ledger)
    else:  # a portfolio run (phi.cli.portfolio)
        from phi.cli.portfolio import run_and_print

        result = run_and_print(saved.config, save, allow_data_change, ledger)
    same_metrics = json.dumps(result.metrics, sort_keys=True) == json.dumps(saved.metrics, sort_keys=True)
    same_trades = result.trades.to_csv(index=False).encode("utf-8") == saved_trades_csv(saved)
    if same_metrics and same_trades:
        console.print(f"[green]Identical[/] to {run_id}: same trades and metrics.", highlight=False)
    else:
        diff = [m for m in result.metrics if json.dumps(result.metrics[m]) != json.dumps(saved.metrics.get(m))]
        console.print(
            f"[red]Differs[/] from {run_id}: metrics {', '.join(diff) or 'same'}; "
            f"trades {'same' if same_trades else 'differ'}.",
            highlight=False,
        )
    if result.save_error:  # after the result: one line on stderr, exit code 2
        raise RunError(result.save_error)


@runs_app.command("delete")
def runs_delete(
    run_id: Annotated[str, typer.Argument(help="A run id from phi runs list.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a saved run."""
    from phi.backtest.run_history import delete_run, run_dir

    run_dir(run_id)  # an unknown id is a clear error before any question
    if not yes:
        confirm(f"Delete run {run_id}?")
    delete_run(run_id)
    console.print(f"Deleted run {run_id}.", highlight=False)


@runs_app.command("clean")
def runs_clean(
    grace: Annotated[float, typer.Option("--grace-minutes", min=0.0, help="Only leftovers untouched for this many minutes.")] = 60.0,
) -> None:
    """Remove leftovers of interrupted saves (temporary folders and files, incomplete run
    folders of older versions); never a complete run.
    """
    from phi.backtest.run_history import clean_runs
    from phi.paths import runs_root

    report = clean_runs(grace=60.0 * grace)
    if not report.removed:
        console.print(f"Nothing to clean in {runs_root()}.", highlight=False, markup=False)
        return
    console.print(
        f"Removed {len(report.removed)} leftover(s) of interrupted saves ({report.bytes / 1e6:,.1f} MB) from {runs_root()}:",
        highlight=False, markup=False, soft_wrap=True,
    )  # fmt: skip
    for path in report.removed:
        console.print(f"  {path.name}", highlight=False, markup=False)
