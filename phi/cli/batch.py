"""``phi batch``: many runs at once on Dask (run configs, sweep a universe over a grid)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from phi.cli._common import EndOpt, StartOpt, TimeframeOpt, VendorOpt, console, nonblank

if TYPE_CHECKING:
    from phi.backtest.run_config import RunConfig
    from phi.batch import BatchResult

batch_app = typer.Typer(help="Many runs at once on Dask: run configs, sweep a symbol universe over a grid.", no_args_is_help=True)

GridOpt = Annotated[str | None, typer.Option("--grid", "-g", help='Parameter grid, e.g. "period=7..28:7" or "fast=5,10 slow=20..40:10".')]
SchedulerOpt = Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786); default: a local cluster; 'inline': this process.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-w", min=1, help="Workers of the local cluster (default: one per core).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Run configs again that already have a saved run (same config hash).")]
MetricOpt = Annotated[str, typer.Option("--metric", "-m", help="Metric ranking the results (sharpe, total_return, sortino, cagr, max_drawdown, ...).")]


def _check_flags(scheduler: str | None, workers: int | None, metric: str) -> None:
    """--scheduler, --workers and --metric checked before any config is built or run."""
    from phi.batch.runner import check_scheduler_address, max_local_workers
    from phi.batch.task import OUTCOME_METRICS
    from phi.errors import ConfigError, shown

    if metric not in OUTCOME_METRICS:
        raise ConfigError(f"--metric must be one of {', '.join(OUTCOME_METRICS)}, got {shown(metric)}")
    if scheduler is not None and scheduler != "inline":
        check_scheduler_address(scheduler)
    if workers is not None and scheduler is None and workers > max_local_workers():
        raise ConfigError(f"--workers must be <= {max_local_workers()} on a local cluster, got {shown(workers)}")


def _run(configs: list[Any], scheduler: str | None, workers: int | None, force: bool) -> BatchResult:
    """run_batch under a rich progress bar (done / total, failures so far)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from phi.batch import run_batch

    where = scheduler or f"a local cluster ({workers or 'one worker per core'})"
    failed = 0
    # 2 refreshes a second: rich's default 10 takes ~26 ms of CPU a second from the workers' cores
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console, transient=False, refresh_per_second=2) as bar:  # fmt: skip
        task = bar.add_task(f"Batch on {where}", total=len(configs))

        def progress(done: int, total: int, outcome: Any) -> None:
            nonlocal failed
            failed += outcome.status == "failed"
            bar.update(task, completed=done, description=f"Batch on {where}" + (f" [red]{failed} failed[/]" if failed else ""))

        def connected(address: str, dashboard: str | None) -> None:  # the link works while the batch runs
            import importlib.util

            if dashboard and importlib.util.find_spec("bokeh") is not None:  # the dashboard needs bokeh
                bar.console.print(f"Dask dashboard (while the batch runs): {dashboard}", highlight=False, markup=False)

        result = run_batch(configs, scheduler=scheduler, n_workers=workers, force=force, progress=progress, on_connect=connected)
    return result


def _rank_key(value: float | None) -> float:
    """Sort key putting the highest metric first and a missing or NaN one last."""
    return -value if value is not None and value == value else float("inf")


def _report(result: BatchResult, metric: str, top: int, configs: Sequence[Any] = ()) -> None:
    ok, failed, skipped = result.ok, result.failed, result.skipped
    saved = sum(o.run_id is not None for o in ok)
    console.print(
        f"{len(result.outcomes)} config(s) in {result.seconds:.1f} s on {result.n_workers} worker(s){_startup(result)}: "
        f"{len(ok)} run ({saved} saved), {len(failed)} failed, {_skipped_text(skipped)}.",
        highlight=False, markup=False, soft_wrap=True,
    )  # fmt: skip
    shown = [o for o in result.outcomes if o.status in ("ok", "skipped") and o.metrics]  # skipped: as saved before
    if shown:
        ranked = sorted(shown, key=lambda o: (_rank_key(o.metrics.get(metric)), o.index))  # best first, n/a last
        _print_best(ranked, top, metric, configs)
    _print_failed(failed)
    for o in ok:
        if o.save_error:
            console.print(Text.assemble(("not saved ", "yellow"), f"#{o.index} {o.label}: {o.save_error}"), highlight=False, soft_wrap=True)


def _print_best(ranked: list[Any], top: int, metric: str, configs: Sequence[Any]) -> None:
    """The best ``top`` runs: #, what tells their configs apart, the key numbers, the run id
    (what all ranked configs share is one line above the table)."""
    from phi.backtest.run_config import RunConfig
    from phi.cli import _batch_tables as bt

    def fields(o: Any) -> dict[str, Any]:
        cfg = configs[o.index] if 0 <= o.index < len(configs) else None
        return bt.config_fields(cfg) if isinstance(cfg, RunConfig) else {"symbol": o.symbol, **o.params}

    every = [fields(o) for o in ranked]
    vary = bt.varying(every)
    best = ranked[:top]
    config_cols, folded = bt.config_columns(every[: len(best)], vary)
    cols = [bt.Column("#", [str(o.index) for o in best]), *config_cols, *bt.metric_columns([o.metrics for o in best], metric),
            bt.Column("run", [o.run_id or "not saved" for o in best], right=False, fold_last=True)]  # fmt: skip
    common = bt.common_text(every, vary)
    if common:
        console.print(Text.assemble(("Every config: " if len(every) > 1 else "Config: ", "bold"), common), highlight=False)
    table, dropped = bt.fit_table(f"Best {len(best)} of {len(ranked)} by {metric}", cols, console.width, folded)
    console.print(table)
    _print_dropped(dropped)


def _print_dropped(dropped: list[str]) -> None:
    if dropped:
        console.print(f"Not shown at {console.width} columns: {', '.join(dropped)} (a wider terminal shows them).",
                      style="dim", highlight=False, markup=False)  # fmt: skip


#: Failed configs listed one per line; the rest are counted by error (a grid of 100,000 values
#: out of a parameter's range printed 99,951 lines).
MAX_FAILED_LINES = 20


def _print_failed(failed: list[Any]) -> None:
    """Each failed config in a line, up to :data:`MAX_FAILED_LINES`; then one line per distinct
    error of the rest with its count (the API's ``BatchResult.failed`` keeps them all)."""
    for o in failed[:MAX_FAILED_LINES]:
        console.print(Text.assemble(("failed ", "red"), f"#{o.index} {o.label}: {o.error}"), highlight=False, soft_wrap=True)
    rest = failed[MAX_FAILED_LINES:]
    if not rest:
        return
    by_error: dict[str, list[Any]] = {}  # kind -> [count, its first config]
    for o in rest:
        kind = by_error.setdefault(_error_kind(str(o.error)), [0, o])
        kind[0] += 1
    console.print(Text.assemble(("failed ", "red"), f"{len(rest):,} more config(s), by error:"), highlight=False, soft_wrap=True)
    for n, first in sorted(by_error.values(), key=lambda v: -v[0])[:MAX_FAILED_LINES]:
        console.print(f"  {n:,} like #{first.index} {first.label}: {first.error}", highlight=False, markup=False, soft_wrap=True)
    if len(by_error) > MAX_FAILED_LINES:
        console.print(f"  and {len(by_error) - MAX_FAILED_LINES:,} other error(s)", highlight=False, markup=False, soft_wrap=True)


def _error_kind(message: str) -> str:
    """An error without its numbers ("rsi: period=1 is out of range 2..50" -> "rsi: period=# is
    out of range #..#"), so the failures of one grid count as one kind."""
    import re

    return re.sub(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", "#", message)


def _skipped_text(skipped: list[Any]) -> str:
    """'3 skipped (2 already run: --force runs them again; 1 a copy of an earlier config)'; the
    reasons only for what was skipped (a copy in the batch is skipped under --force too)."""
    before = sum(o.status == "skipped" for o in skipped)
    copies = len(skipped) - before
    why = [f"{before} already run: --force runs them again"] if before else []
    why += [f"{copies} a copy of an earlier config in this batch"] if copies else []
    return f"{len(skipped)} skipped" + (f" ({'; '.join(why)})" if why else "")


def _exit_code(result: BatchResult) -> None:
    """After the report: exit code 0 when no config failed; 1 with one line on stderr when some
    failed and others ran or were skipped (scripts and CI see a partial failure); 2 with one
    error line naming why when nothing at all could be run (bad input)."""
    if not result.failed:
        return
    if not result.ok and not result.skipped:
        from phi.cli._common import failure_summary
        from phi.errors import RunError

        raise RunError(failure_summary("no config could be run", [(f"#{o.index} {o.label}", str(o.error)) for o in result.failed]))
    from phi.cli._common import err_console

    line = f" {len(result.failed)} of {len(result.outcomes)} config(s) failed (listed above)"
    err_console.print(Text.assemble(("error:", "bold red"), line), highlight=False, soft_wrap=True)
    raise SystemExit(1)  # main() returns it (typer.Exit is swallowed outside standalone mode)


@batch_app.command("run")
def batch_run(
    source: Annotated[str | None, typer.Argument(help="A config file (JSON object, list or JSON lines) or a folder of *.json configs.")] = None,
    grid: GridOpt = None,
    symbol: Annotated[str, typer.Option("--symbol", callback=nonblank, help="Without SOURCE: the symbol of the base config.")] = "DEMO",
    indicator: Annotated[str, typer.Option("--indicator", "-i", help="Without SOURCE: the preset or indicator of the base config.")] = "rsi",
    vendor: VendorOpt = "demo",
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: TimeframeOpt = "1D",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    force: ForceOpt = False,
    metric: MetricOpt = "sharpe",
    top: Annotated[int, typer.Option("--top", min=1, help="Rows in the best-runs table.")] = 10,
) -> None:
    """Run configs (a file, a folder, or a grid over one config) and save every run."""
    from phi.batch import expand_grid, load_configs, parse_grid

    _check_flags(scheduler, workers, metric)
    spec = parse_grid(grid) if grid is not None else {}
    if source is None and grid is None:
        raise typer.BadParameter("give a config FILE or folder, or --grid SPEC")
    bases: list[Any] = load_configs(source) if source is not None else [_base(symbol, indicator, vendor, start, end, timeframe)]
    configs: list[Any] = []
    for base in bases:
        configs.extend(expand_grid(base, spec) if spec and not isinstance(base, Exception) else [base])
    result = _run(configs, scheduler, workers, force)
    _report(result, metric, top, configs)
    _exit_code(result)


def _base(symbol: str, name: str, vendor: str, start: str | None, end: str | None, timeframe: str) -> RunConfig:
    from phi.backtest.run_config import DEFAULT_END, DEFAULT_START, DatasetSpec
    from phi.batch import preset_config
    from phi.errors import ConfigError

    dataset = DatasetSpec(symbol, vendor, timeframe, DEFAULT_START if start is None else start, DEFAULT_END if end is None else end)
    try:
        return preset_config(name, dataset)
    except ConfigError as exc:  # the API names batch sweep's --preset; here the flag is --indicator
        raise ConfigError(str(exc).replace("--preset", "--indicator", 1)) from None


@batch_app.command("sweep")
def batch_sweep(
    symbols: Annotated[str, typer.Option("--symbols", callback=nonblank, help="Text file of symbols (one per line or comma-separated; # comments).")],
    preset: Annotated[str, typer.Option("--preset", "-p", help="Strategy preset (phi strategies) or indicator name.")],
    grid: GridOpt = None,
    vendor: VendorOpt = "demo",
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: TimeframeOpt = "1D",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    force: ForceOpt = False,
    metric: MetricOpt = "sharpe",
) -> None:
    """Run every symbol x grid combination: each symbol's best and the metric across the universe."""
    from phi.batch import load_symbols, parse_grid, sweep_configs, sweep_summary

    _check_flags(scheduler, workers, metric)
    spec = parse_grid(grid) if grid is not None else {}
    names = load_symbols(symbols)
    configs: list[Any] = sweep_configs(names, preset, spec, vendor, timeframe, start, end)  # a bad symbol: its error
    result = _run(configs, scheduler, workers, force)
    summary = sweep_summary(result, metric)
    _counts_only(result)
    _print_sweep(summary, list(spec), len(names))
    _exit_code(result)


def _startup(result: BatchResult) -> str:
    """' (of which 5.9 s starting the local cluster)' when the batch started one."""
    return f" (of which {result.startup_seconds:.1f} s starting the local cluster and loading phi in it)" if result.startup_seconds else ""


def _counts_only(result: BatchResult) -> None:
    """The batch line and the failures (a sweep's runs are summarised per symbol below)."""
    ok, failed, skipped = result.ok, result.failed, result.skipped
    console.print(
        f"{len(result.outcomes)} run(s) in {result.seconds:.1f} s on {result.n_workers} worker(s){_startup(result)}: "
        f"{len(ok)} run, {len(failed)} failed, {_skipped_text(skipped)}.",
        highlight=False, markup=False, soft_wrap=True,
    )  # fmt: skip
    _print_failed(failed)
    unsaved = [o for o in ok if o.save_error]
    for reason in dict.fromkeys(str(o.save_error) for o in unsaved):  # once per reason, not per run
        n = sum(str(o.save_error) == reason for o in unsaved)
        console.print(Text.assemble(("not saved ", "yellow"), f"{n} of {len(ok)} run(s), ranked below without a run id: {reason}"),
                      highlight=False, soft_wrap=True)  # fmt: skip


def _print_sweep(summary: Any, params: list[str], n_symbols: int) -> None:
    from phi.cli import _batch_tables as bt
    from phi.cli._format import fmt_metric

    best, dist, metric = summary.best, summary.distribution, summary.metric
    if best.empty:
        if len(summary.rows):  # runs there are, but none has a value of the metric (e.g. the Sharpe of a flat curve)
            console.print(f"No run of this sweep has a {metric} to rank by ({len(summary.rows)} run(s), each with {metric} n/a); "
                          "try another --metric or a longer date range.", highlight=False, markup=False)  # fmt: skip
        else:
            console.print("No run of this sweep has a result to summarise (all failed or skipped; --force re-runs).", highlight=False)
        return
    rows = [row for _, row in best.iterrows()]
    grid = [{p: _param(row, p) for p in params} for row in rows]
    config_cols, folded = bt.config_columns(grid, params)
    cols = [bt.Column("symbol", [str(s) for s in best.index], right=False), *config_cols,
            *bt.metric_columns([row.to_dict() for row in rows], metric), bt.Column("run", [_run_id_or_unsaved(row.get("run_id")) for row in rows], right=False, fold_last=True)]  # fmt: skip
    title = f"Best combination per symbol by {metric} ({len(best)} of {n_symbols} symbols)"
    table, dropped = bt.fit_table(title, cols, console.width, folded)
    console.print(table)
    _print_dropped(dropped)
    columns = [bt.Column("over", [str(name) for name in dist.index], right=False)]
    for col in dist.columns:
        cells = [f"{v:.0f}" if col == "count" else (f"{100 * v:.0f}%" if col == "share > 0" else fmt_metric(metric, v)) for v in dist[col]]
        columns.append(bt.Column(col.replace("share > 0", "% > 0"), cells, keep=col in ("median", "min", "max")))
    table, dropped = bt.fit_table(f"{metric} across the universe", columns, console.width, drops=("25%", "75%", "mean", "% > 0", "count"))
    console.print(table)
    _print_dropped(dropped)


def _param(row: Any, name: str) -> str:
    key = name.split(".")[-1]
    for k in (name, key):
        if k in row.index and row[k] == row[k]:
            v = row[k]
            return f"{v:g}" if isinstance(v, float) else str(v)
    return "?"


def _run_id_or_unsaved(run_id: object) -> str:
    """A best-per-symbol row's run id, or "not saved" for a run that could not be saved."""
    return run_id if isinstance(run_id, str) else "not saved"
