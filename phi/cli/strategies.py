"""``phi strategies``: the preset catalogue; run one preset or compare several head to head."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from phi.cli._common import LedgerOpt, PathOpt, console, nonblank
from phi.cli._flags import split_list

if TYPE_CHECKING:
    from phi.strategies.runner import Comparison, PresetRun

strategies_app = typer.Typer(help="Strategy presets: list, show, run one, compare several head to head.", no_args_is_help=True)

SymbolArg = Annotated[str, typer.Argument(help="Ticker (default DEMO: offline synthetic data).")]
VendorOpt = Annotated[str, typer.Option("--vendor", "-v", help="demo (default, offline), yfinance, alpha_vantage or csv.")]
StartOpt = Annotated[str, typer.Option("--start", help="First date, inclusive (default 2020-01-01).")]
EndOpt = Annotated[str, typer.Option("--end", help="Last date, inclusive (default 2024-12-31).")]
TimeframeOpt = Annotated[str, typer.Option("--timeframe", "-t", help="1D (default), 4H, 1H, 15m, 5m or 1m.")]
CapitalOpt = Annotated[float | None, typer.Option("--capital", "--budget", help="Initial capital (default 100000).")]
CostsOpt = Annotated[str, typer.Option("--costs", help="Cost preset: us_equities (default: 0.05% + 2 bps), crypto, fx or none.")]
BenchmarkOpt = Annotated[str | None, typer.Option("--benchmark", "-b", callback=nonblank, help="A symbol of the same vendor: adds excess return, beta, alpha, IR, tracking error, correlation.")]
SaveOpt = Annotated[bool, typer.Option("--save/--no-save", help="Save to the run history (default: save).")]

#: Scorecard and benchmark keys -> (label, format) for the tables.
SCORECARD_ROWS = {
    "accuracy": ("Accuracy [%]", "pct"),
    "up_accuracy": ("Up accuracy [%]", "pct"),
    "down_accuracy": ("Down accuracy [%]", "pct"),
    "hits": ("Hits", "int"),
    "misses": ("Misses", "int"),
    "n_predictions": ("Scored predictions (non-neutral bars)", "int"),
    "edge": ("Edge [price: mean |move| right - wrong]", "num"),
}
BENCHMARK_ROWS = {
    "benchmark_total_return": ("Benchmark return [%]", "pct"),
    "strategy_total_return": ("Strategy return [%]", "pct"),
    "excess_return": ("Excess return [%]", "pct"),
    "beta": ("Beta", "num"),
    "alpha": ("Alpha (annualised) [%]", "pct"),
    "information_ratio": ("Information ratio", "num"),
    "tracking_error": ("Tracking error (annualised) [%]", "pct"),
    "correlation": ("Correlation", "num"),
}


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    x = float(value)
    return f"{100 * x:,.2f}" if kind == "pct" else f"{x:,.0f}" if kind == "int" else f"{x:.3f}"


def _check_capital(capital: float | None) -> None:
    """``--capital`` checked before any bar is loaded, named as typed (the engine would name
    ``EngineConfig.initial_capital``, and only after the data was fetched)."""
    from phi.backtest.engine_config import MAX_CAPITAL
    from phi.errors import ConfigError

    if capital is None:
        return
    if not math.isfinite(capital):
        raise ConfigError(f"--capital must be a finite number, got {capital}")
    if not 0 < capital <= MAX_CAPITAL:
        raise ConfigError(f"--capital must be > 0 and at most {MAX_CAPITAL:g}, got {capital:g}")


def _dataset(symbol: str, vendor: str, start: str, end: str, timeframe: str, path: str | None) -> Any:
    from phi.backtest.run_config import DatasetSpec

    return DatasetSpec(symbol, vendor, timeframe, start, end, path=path)


@strategies_app.command("list")
def strategies_list() -> None:
    """List every preset: rule, long/short, defaults."""
    import phi.strategies as strategies

    table = Table(title="Strategy presets (phi strategies show NAME for details)", show_lines=True)
    for col in ("name", "family", "rule", "sides", "defaults"):
        table.add_column(col, style="bold" if col == "name" else None)
    for p in strategies.list(include_server=True):
        needs = f"\nneeds {p.needs_server}" if p.needs_server else ""
        table.add_row(p.name, p.family, Text(p.rule + needs), p.sides, Text(p.defaults))
    console.print(table)


@strategies_app.command("show")
def strategies_show(name: Annotated[str, typer.Argument(help="Preset name (any case), e.g. rsi or BuyAndHold.")]) -> None:
    """Show one preset: rule, sides, defaults, source and the run settings it produces."""
    import phi.strategies as strategies

    p = strategies.get(name)
    console.print(f"[bold]{escape(p.name)}[/] ({p.family}) - {escape(p.description)}", highlight=False)
    for label, value in (("rule", p.rule), ("sides", p.sides), ("defaults", p.defaults), ("source", p.source)):
        console.print(f"{label + ':':9s} {escape(value)}", highlight=False)
    if p.aliases:
        console.print(f"aliases:  {', '.join(p.aliases)}", highlight=False)
    if p.is_portfolio:
        console.print(f"universe: {', '.join(p.symbols)} (the portfolio engine, one shared cash account)", highlight=False)
        return
    for ind in p.indicators:
        shown = ", ".join(f"{k}={v}" for k, v in ind.params.items())
        console.print(f"indicator: {ind.name}({shown}), blend {p.blend}", highlight=False)
    eng = p.engine_settings()
    console.print("engine:   " + ", ".join(f"{k}={v}" for k, v in eng.items()) + " + the cost preset (--costs)", highlight=False)


def print_scorecard(run: PresetRun) -> None:
    """The prediction scorecard (and the benchmark table when there is one)."""
    table = Table(title=Text("Prediction scorecard (signal at t vs the close-to-close move t -> t+1)"), title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, (label, kind) in SCORECARD_ROWS.items():
        table.add_row(Text(label), _fmt(run.scorecard.get(key), kind))
    console.print(table)
    if run.benchmark is not None:
        bench = Table(title=Text(f"Against the benchmark {run.benchmark_symbol} (same money, common bars)"), title_justify="left")
        bench.add_column("metric")
        bench.add_column("value", justify="right")
        for key, (label, kind) in BENCHMARK_ROWS.items():
            bench.add_row(Text(label), _fmt(run.benchmark.get(key), kind))
        console.print(bench)


def print_preset_run(run: PresetRun, *, ledger: bool = False) -> None:
    """A preset's result, its scorecard, its benchmark figures and where it was saved."""
    from phi.cli import _format as fmt

    res: Any = run.result
    console.print(f"[bold]{escape(run.preset.name)}[/]: {escape(run.preset.rule)}", highlight=False, soft_wrap=True)
    if run.preset.is_portfolio:  # metrics, contribution by symbol, missing data (phi.cli.portfolio)
        from phi.cli.portfolio import print_portfolio

        print_portfolio(res, ledger=ledger)
    else:
        fmt.print_result(console, res, ledger=ledger)
    gate = res.assumptions.get("phibot_gate")
    if gate and not ledger:
        console.print(f"PhiBot gate: {gate}", highlight=False, markup=False, soft_wrap=True)
    print_scorecard(run)
    if run.note:
        console.print(f"note: {run.note}", highlight=False, markup=False, soft_wrap=True)


@strategies_app.command("run")
def strategies_run(
    name: Annotated[str, typer.Argument(help="Preset name (any case), e.g. rsi, BuyAndHold, PhiBot.")],
    symbol: SymbolArg = "DEMO",
    vendor: VendorOpt = "demo",
    start: StartOpt = "2020-01-01",
    end: EndOpt = "2024-12-31",
    timeframe: TimeframeOpt = "1D",
    path: PathOpt = None,
    capital: CapitalOpt = None,
    costs: CostsOpt = "us_equities",
    benchmark: BenchmarkOpt = None,
    save: SaveOpt = True,
    ledger: LedgerOpt = False,
) -> None:
    """Run one preset on a dataset: result, prediction scorecard, benchmark figures; saved."""
    from phi.errors import RunError
    from phi.strategies.runner import run_preset

    _check_capital(capital)
    ds = _dataset(symbol, vendor, start, end, timeframe, path)
    with console.status(escape(f"Running {name} ..."), spinner="dots"):
        run = run_preset(name, ds, initial_capital=capital, costs=costs, benchmark=benchmark, save=save)
    print_preset_run(run, ledger=ledger)
    if run.save_error:
        raise RunError(run.save_error)


COMPARE_COLUMNS = {
    "total_return": ("Return %", "pct"),
    "sharpe": ("Sharpe", "num"),
    "max_drawdown": ("Max DD %", "pct"),
    "n_trades": ("Trades", "int"),
    "win_rate": ("Win %", "pct"),
    "exposure": ("Exposure %", "pct"),
    "accuracy": ("Accuracy %", "pct"),
    "edge": ("Edge", "num"),
    "excess_return": ("Excess %", "pct"),
    "beta": ("Beta", "num"),
    "alpha": ("Alpha %", "pct"),
    "information_ratio": ("IR", "num"),
}


def comparison_table(cmp: Comparison, title: str) -> Table:
    """The head-to-head table, best first by the comparison's metric."""
    table = Table(title=Text(title), title_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("strategy", style="bold", no_wrap=True)
    cols = [c for c in COMPARE_COLUMNS if c in cmp.table.columns]
    for c in cols:
        label = COMPARE_COLUMNS[c][0]
        table.add_column(f"[u]{label}[/u]" if c == cmp.metric else label, justify="right", no_wrap=True)
    for i, row in cmp.table.iterrows():
        trades = _fmt(row["n_trades"], "int") + (" +1 open" if row.get("n_open_trades", 0) else "")
        cells = [trades if c == "n_trades" else _fmt(row[c], COMPARE_COLUMNS[c][1]) for c in cols]
        table.add_row(str(int(str(i)) + 1), str(row["strategy"]), *cells)
    return table


def _raise_if_the_data_failed(ds: Any) -> None:
    """Re-raise the dataset's own error (bad dates, vendor down, unreadable CSV) if it has one."""
    from phi.data.store import get_dataset

    get_dataset(ds.symbol, ds.start, ds.end, ds.timeframe, ds.vendor, path=ds.path)


@strategies_app.command("compare")
def strategies_compare(
    symbol: SymbolArg = "DEMO",
    names: Annotated[str | None, typer.Option("--strategies", "-s", help="Comma-separated presets (default: all).")] = None,
    metric: Annotated[str, typer.Option("--metric", "-m", help="Sort by: sharpe (default), total_return, max_drawdown, accuracy, excess_return, ...")] = "sharpe",
    vendor: VendorOpt = "demo",
    start: StartOpt = "2020-01-01",
    end: EndOpt = "2024-12-31",
    timeframe: TimeframeOpt = "1D",
    path: PathOpt = None,
    capital: CapitalOpt = None,
    costs: CostsOpt = "us_equities",
    benchmark: BenchmarkOpt = None,
    save: SaveOpt = True,
) -> None:
    """Run presets head to head on one dataset; a table sorted by --metric; every run saved."""
    from phi.errors import ConfigError, RunError
    from phi.strategies.runner import compare

    chosen = split_list(names, "--strategies") if names is not None else None
    if chosen == []:  # `-s ""` is not "all of them": leave the flag out for that
        raise ConfigError("--strategies is empty; give names like rsi,macd (see phi strategies list) or leave it out for all")
    _check_capital(capital)
    ds = _dataset(symbol, vendor, start, end, timeframe, path)
    with console.status("Comparing ...", spinner="dots") as status:

        def progress(name: str, i: int, n: int) -> None:
            status.update(escape(f"Running {name} ({i + 1}/{n}) ..." if i < n else "Done"))

        cmp = compare(chosen, ds, metric=metric, benchmark=benchmark, initial_capital=capital, costs=costs, save=save, progress=progress)
    if not cmp.runs:
        _raise_if_the_data_failed(ds)  # then that is the one reason, not twenty copies of it
        raise RunError("no preset ran: " + "; ".join(f"{n}: {why}" for n, why in cmp.failures.items()))
    title = f"{ds.symbol} {ds.timeframe} ({ds.vendor}) {ds.start}..{ds.end}, best {metric} first"
    if benchmark:
        title += f"; benchmark {benchmark.upper()}"
    console.print(comparison_table(cmp, title))
    saved = [f"{r.preset.name} {r.run_id}" for r in cmp.runs if r.run_id]
    if saved:
        console.print(f"Saved {len(saved)} runs (phi runs show ID): " + ", ".join(saved), highlight=False, markup=False, soft_wrap=True)
    for run in cmp.runs:
        if run.note:
            console.print(f"{run.preset.name}: {run.note} (its universe: {', '.join(run.preset.symbols)})", highlight=False, markup=False, soft_wrap=True)
    for name, why in cmp.failures.items():
        console.print(Text.assemble((f"{name} failed: ", "bold red"), why), highlight=False, soft_wrap=True)
    if ds.vendor == "demo":
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    errors = [f"{r.preset.name}: {r.save_error}" for r in cmp.runs if r.save_error]
    if errors:
        raise RunError("; ".join(errors))
