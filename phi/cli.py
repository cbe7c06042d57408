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


def _default_dates(start: str | None, end: str | None) -> tuple[str, str]:
    """Missing dates default to the last two years up to today."""
    import pandas as pd

    today = pd.Timestamp.now(tz="UTC").normalize()
    return start or (today - pd.DateOffset(years=2)).strftime("%Y-%m-%d"), end or today.strftime("%Y-%m-%d")


def _load(symbol: str, start: str | None, end: str | None, timeframe: str, vendor: str, path: str | None, refresh: bool = False):  # noqa: ANN202
    from phi.data.store import get_dataset

    lo, hi = _default_dates(start, end)
    with console.status(f"Loading {symbol} {timeframe} from {vendor} ({lo} .. {hi}) ...", spinner="dots"):
        return get_dataset(symbol, lo, hi, timeframe, vendor, path=path, refresh=refresh)


def _print_health(health: dict) -> None:
    from phi.data.health import HealthReport

    report = HealthReport.from_dict(health)
    style = {"ok": "green", "warn": "yellow", "bad": "red"}.get(report.status, "white")
    console.print(f"Data health: [{style}]{report.status}[/]")
    for line in report.summary_lines():
        console.print(f"  - {line}", highlight=False)


@app.command()
def fetch(
    symbol: Annotated[str, typer.Argument(help="Ticker, e.g. AAPL, BRK-B, ^GSPC, EURUSD=X; DEMO for synthetic data.")],
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive (YYYY-MM-DD).")] = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Re-fetch even if cached.")] = False,
) -> None:
    """Fetch bars once and cache them (later requests inside the range come from the cache)."""
    from rich.table import Table

    ds = _load(symbol, start, end, timeframe, vendor, path, refresh)
    meta = ds.metadata
    table = Table(title=f"{meta.get('symbol', symbol)} {meta['timeframe']} ({meta.get('vendor', vendor)})")
    table.add_column("field")
    table.add_column("value")
    rows = [
        ("source", "cache" if ds.from_cache else "fetched"),
        ("rows", f"{meta['rows']:,}"),
        ("first bar", str(meta["first_bar"])),
        ("last bar", str(meta["last_bar"])),
        ("adjustment", str(meta.get("adjustment", "?"))),
        ("exchange tz", str(meta.get("exchange_tz", "?"))),
        ("dataset id", str(meta.get("dataset_id", ""))),
        ("content hash", str(meta["content_hash"])[:16]),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    for note in meta.get("repairs") or []:
        console.print(f"[yellow]repaired:[/] {note}", highlight=False)
    if "health" in meta:
        _print_health(meta["health"])


@data_app.command("health")
def data_health_cmd(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data).")],
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive.")] = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
) -> None:
    """Show the data-health report of a dataset (fetched and cached if needed)."""
    from phi.data.health import data_health

    ds = _load(symbol, start, end, timeframe, vendor, path)
    meta = ds.metadata
    health = data_health(
        ds.frame,
        meta["timeframe"],
        requested_start=meta.get("requested_start"),
        requested_end=meta.get("requested_end"),
        coverage_start=meta.get("coverage_start"),
        calendar=(meta.get("health") or {}).get("calendar", "exchange"),
    )
    console.print(f"{meta.get('symbol', symbol)} {meta['timeframe']} {meta.get('vendor', vendor)}: {meta['rows']:,} bars, {meta['first_bar']} .. {meta['last_bar']}", highlight=False)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/]")
    _print_health(health.to_dict())


@cache_app.command("list")
def cache_list() -> None:
    """List every cached dataset, newest first."""
    from rich.table import Table

    from phi.data.cache import list_cached_datasets
    from phi.paths import cache_root

    metas = list_cached_datasets()
    if not metas:
        console.print(f"The cache is empty ({cache_root()}).")
        return
    table = Table(title=f"Cached datasets in {cache_root()}")
    for col in ("vendor", "symbol", "tf", "range", "rows", "health", "fetched (UTC)"):
        table.add_column(col, no_wrap=True, justify="right" if col == "rows" else "left")
    for m in metas:
        table.add_row(
            str(m.get("vendor")), str(m.get("symbol")), str(m.get("timeframe")),
            f"{m.get('start')}..{m.get('end')}", f"{m.get('rows', 0):,}",
            str((m.get("health") or {}).get("status", "?")),
            str(m.get("fetched_at", ""))[:16].replace("T", " "),
        )
    console.print(table)


@cache_app.command("clear")
def cache_clear(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every cached dataset."""
    from phi.data.cache import clear_all_cache, list_cached_datasets

    n = len(list_cached_datasets())
    if n and not yes and not typer.confirm(f"Delete {n} cached dataset(s)?"):
        raise typer.Abort()
    removed = clear_all_cache()
    console.print(f"Removed {removed} cached dataset(s).")


# ---------------------------------------------------------------------------- indicator commands


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
            name, f"{spec.type} ({TYPE_MEANINGS.get(spec.type, '?')})", spec.description, _param_text(spec)
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


@app.command("regime")
def regime_cmd(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data with known regimes).")] = "DEMO",
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive (default: two years ago).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive (default: today).")] = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    config: Annotated[str | None, typer.Option("--config", help="Regime engine config (.json or .toml); default: calibrated.")] = None,
    last: Annotated[int, typer.Option("--last", help="Also list the dominant regime of the last N bars.")] = 5,
) -> None:
    """Run the MFT regime engine: latest regime probabilities, dominant regime, composite, confidences."""
    from rich.table import Table

    from phi.regime.config import MFTConfig, load_config
    from phi.regime.engine import RegimeEngine

    cfg = load_config(config) if config else MFTConfig()
    ds = _load(symbol, start, end, timeframe, vendor, path)
    with console.status("Running the regime engine ...", spinner="dots"):
        res = RegimeEngine(cfg).run(ds.frame)
    info = res.latest()
    meta = ds.metadata
    name = f"{meta.get('symbol', symbol)} {meta['timeframe']} ({meta.get('vendor', vendor)})"
    fmt = "%Y-%m-%d" if meta["timeframe"] == "1D" else "%Y-%m-%d %H:%M"
    table = Table(title=f"{name}: regime probabilities at {info['timestamp']:{fmt}}")
    table.add_column("regime")
    table.add_column("probability", justify="right")
    table.add_column("", no_wrap=True)
    for regime, p in sorted(info["regime_probs"].items(), key=lambda kv: -kv[1]):
        style = "bold green" if regime == info["dominant_regime"] else ""
        table.add_row(f"[{style}]{regime}[/]" if style else regime, f"{p:.3f}", "#" * round(40 * p))
    console.print(table)
    fmt = "%Y-%m-%d" if meta["timeframe"] == "1D" else "%Y-%m-%d %H:%M"
    mix = Table(title="composite signal (+1 = buy) and confidences in [0, 1]")
    mix.add_column("field")
    mix.add_column("value", justify="right")
    mix.add_row("dominant regime", f"[bold]{info['dominant_regime']}[/]")
    mix.add_row("composite", f"{info['composite']:+.3f}")
    for key, label in (("c_field", "field confidence"), ("c_consensus", "consensus"), ("c_liquidity", "liquidity"), ("confidence", "confidence (field x consensus)")):
        mix.add_row(label, f"{info[key]:.3f}")
    mix.add_row("score", f"{info['score']:+.3f}")
    console.print(mix)
    if last > 0:
        recent = Table(title=f"last {min(last, len(res.mix))} bars")
        for col in ("bar", "dominant regime", "probability", "composite", "confidence"):
            recent.add_column(col, justify="right")
        dom = res.dominant_regime()
        for ts in res.mix.index[-last:]:
            d = dom.loc[ts]
            p = res.regime_probs.loc[ts, d] if d else float("nan")
            recent.add_row(f"{ts:{fmt}}", str(d), f"{p:.3f}", f"{res.mix.loc[ts, 'composite']:+.3f}", f"{res.mix.loc[ts, 'confidence']:.3f}")
        console.print(recent)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    if meta.get("vendor", vendor) == "demo":
        from phi.data.demo import demo_regimes

        day = f"{ds.frame.index[-1]:%Y-%m-%d}"
        truth = demo_regimes(symbol, day, day, meta["timeframe"], labels="mft")
        console.print(f"true regime of the last bar (known for demo data): [bold]{truth.iloc[-1]}[/]", highlight=False)


# ---------------------------------------------------------------------------- backtest commands


@app.command()
def backtest(
    symbol: Annotated[str | None, typer.Argument(help="Ticker (default DEMO: offline synthetic data).")] = None,
    vendor: Annotated[str | None, typer.Option("--vendor", "-v", help="demo (default), yfinance, alpha_vantage or csv.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive (default 2020-01-01).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive (default 2024-12-31).")] = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", "-t", help="1D (default), 4H, 1H, 15m, 5m or 1m.")] = None,
    path: PathOpt = None,
    indicators: Annotated[str | None, typer.Option("--indicators", "-i", help="Comma-separated names (default rsi,macd); see phi indicators list.")] = None,
    params: Annotated[list[str] | None, typer.Option("--params", "-p", help="indicator.param=value, comma-separated or repeated: rsi.period=10.")] = None,
    blend_mode: Annotated[str | None, typer.Option("--blend", help="weighted_sum (default), voting, phiai or regime_weighted.")] = None,
    weights: Annotated[list[str] | None, typer.Option("--weights", "-w", help="name=weight pairs: rsi=2,macd=1 (others weigh 1).")] = None,
    dead_zone: Annotated[float | None, typer.Option("--dead-zone", help="voting: |signal| <= this abstains (default 0.05).")] = None,
    regime_config: Annotated[str | None, typer.Option("--regime-config", help="regime_weighted: regime engine settings file (.json/.toml, as for phi regime --config).")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Entry threshold in [0, 1] (default 0.1).")] = None,
    exit_threshold: Annotated[float | None, typer.Option("--exit-threshold", help="Signal-exit threshold in [0, 1] (default 0).")] = None,
    short: Annotated[bool | None, typer.Option("--short/--no-short", help="Also trade the short side (default: long only).")] = None,
    sl: Annotated[str | None, typer.Option("--sl", help="Stop loss: 0.05 or 5%.")] = None,
    tp: Annotated[str | None, typer.Option("--tp", help="Take profit: 0.10 or 10%.")] = None,
    trail: Annotated[str | None, typer.Option("--trail", help="Trailing stop: 0.05 or 5%.")] = None,
    time_exit: Annotated[int | None, typer.Option("--time-exit", help="Exit this many bars after the entry.")] = None,
    fill: Annotated[str | None, typer.Option("--fill", help="next_open (default) or close (optimistic).")] = None,
    commission: Annotated[str | None, typer.Option("--commission", help="Commission per fill, share of notional: 0.001 or 0.1%.")] = None,
    commission_fixed: Annotated[float | None, typer.Option("--commission-fixed", help="Fixed commission per fill (cash).")] = None,
    slippage: Annotated[float | None, typer.Option("--slippage", help="Slippage per fill in basis points.")] = None,
    sizing: Annotated[str | None, typer.Option("--sizing", help="percent_equity (default), fixed_cash, fixed_units or risk_per_trade.")] = None,
    size: Annotated[str | None, typer.Option("--size", help="For --sizing: 95% of equity | cash | units | 1% risk.")] = None,
    capital: Annotated[float | None, typer.Option("--capital", help="Initial capital (default 100000).")] = None,
    fractional: Annotated[bool | None, typer.Option("--fractional/--whole-units", help="Fractional units (default) or whole units.")] = None,
    config_file: Annotated[str | None, typer.Option("--config", "-c", help="A run config JSON (e.g. a saved run's config.json); flags override it.")] = None,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save to the run history (default: save).")] = True,
    allow_data_change: Annotated[bool, typer.Option("--allow-data-change", help="Run a --config whose recorded data hash no longer matches the bars.")] = False,
    description: Annotated[str | None, typer.Option("--description", help="Free text stored with the run.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag stored with the run (repeatable).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed recorded with the run.")] = None,
    write_config: Annotated[str | None, typer.Option("--write-config", help="Only write the config JSON to this file (no run).")] = None,
) -> None:
    """Backtest indicators on one symbol: data -> indicators -> blend -> engine -> saved run."""
    from phi import _cli_backtest as cb

    config = cb.build_config(
        config_file=config_file,
        dataset={"symbol": symbol, "vendor": vendor, "start": start, "end": end, "timeframe": timeframe, "path": path},
        indicators=indicators,
        params=params,
        blend_mode=blend_mode,
        weights=weights,
        dead_zone=dead_zone,
        regime_config=regime_config,
        engine={
            "entry_threshold": threshold,
            "exit_threshold": exit_threshold,
            "allow_short": short,
            "stop_loss_pct": cb.parse_fraction(sl, "--sl"),
            "take_profit_pct": cb.parse_fraction(tp, "--tp"),
            "trailing_stop_pct": cb.parse_fraction(trail, "--trail"),
            "time_exit_bars": time_exit,
            "fill": fill,
            "commission_pct": cb.parse_fraction(commission, "--commission"),
            "commission_fixed": commission_fixed,
            "slippage_bps": slippage,
            "sizing": sizing,
            "initial_capital": capital,
            "fractional": fractional,
        },
        size=size,
        description=description,
        tags=tag,
        seed=seed,
    )
    if write_config:
        from pathlib import Path

        from phi._io import atomic_write_text

        atomic_write_text(Path(write_config), config.to_json())
        console.print(f"Wrote {write_config}", highlight=False)
        return
    cb.print_result(console, cb.run_with_progress(console, config, save, allow_data_change))


@app.command()
def demo(
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save to the run history (default: save).")] = True,
) -> None:
    """Run a demo backtest end to end on offline synthetic data (DEMO): RSI + MACD + dual SMA."""
    from phi import _cli_backtest as cb
    from phi.backtest.engine import EngineConfig
    from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig

    config = RunConfig(
        DatasetSpec("DEMO", "demo", "1D", "2020-01-01", "2024-12-31"),
        tuple(IndicatorConfig(name) for name in cb.DEMO_INDICATORS),
        engine=EngineConfig(stop_loss_pct=0.05, take_profit_pct=0.15, commission_pct=0.0005, slippage_bps=2.0),
        description="phi demo: RSI + MACD + dual SMA, weighted sum, on synthetic DEMO data",
        tags=("demo",),
    )
    console.print("[bold yellow]Demo on SYNTHETIC data[/] (vendor demo, generated locally - not market prices).")
    cb.print_result(console, cb.run_with_progress(console, config, save))
    console.print("Next: phi backtest AAPL --vendor yfinance -i rsi,macd --sl 5%  |  phi runs list", highlight=False, soft_wrap=True)


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many runs.")] = 20,
) -> None:
    """List saved runs, newest first, with their headline metrics."""
    from phi import _cli_backtest as cb
    from phi.backtest.run_history import list_runs
    from phi.paths import runs_root

    rows = list_runs()
    if not rows:
        console.print(f"No saved runs in {runs_root()}. Try: phi demo", highlight=False)
        return
    console.print(cb.runs_table(rows[:limit], f"Saved runs in {runs_root()} ({len(rows)}; * = synthetic data)"))
    if len(rows) > limit:
        console.print(f"... {len(rows) - limit} older run(s); use --limit", highlight=False)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="A run id from phi runs list.")],
    trades: Annotated[int, typer.Option("--trades", help="Show the last N trades.")] = 10,
) -> None:
    """Show one saved run: metrics, assumption ledger, config and its last trades."""
    from rich.table import Table

    from phi import _cli_backtest as cb
    from phi.backtest.run_history import load_run

    saved = load_run(run_id)
    res = saved.results
    summary = res.get("summary") or {}
    console.print(f"Run [bold]{run_id}[/] saved {res.get('created_at')} by phi {res.get('phi_version')}", highlight=False)
    header = cb.run_header(saved.config.to_dict(), summary.get("bars"))
    cb.print_run(console, header, saved.metrics, saved.assumptions, synthetic=bool(summary.get("synthetic")), run_id=None)
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

    from phi import _cli_backtest as cb
    from phi.backtest.run_history import compare_runs

    cmp = compare_runs(run_ids)
    letters = [chr(ord("A") + i) if i < 26 else str(i + 1) for i in range(len(cmp.run_ids))]
    for letter, rid in zip(letters, cmp.run_ids, strict=True):
        console.print(f"{letter} = {rid}", highlight=False)
    console.print(cb.metrics_table({k: cmp.metrics[rid].to_dict() for k, rid in zip(letters, cmp.run_ids, strict=True)}, "Metrics"))
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
        from pathlib import Path

        from phi._io import atomic_write_text

        atomic_write_text(Path(equity_csv), cmp.equity.to_csv())
        console.print(f"Wrote the equity curves to {equity_csv}", highlight=False)


@runs_app.command("rerun")
def runs_rerun(
    run_id: Annotated[str, typer.Argument(help="A run id from phi runs list.")],
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save the re-run as a new run (default: save).")] = True,
    allow_data_change: Annotated[bool, typer.Option("--allow-data-change", help="Run even if the bars changed since.")] = False,
) -> None:
    """Re-run a saved run's config and check that its trades and metrics are identical."""
    import json

    from phi import _cli_backtest as cb
    from phi.backtest.run_history import load_run

    saved = load_run(run_id)
    result = cb.run_with_progress(console, saved.config, save, allow_data_change)
    cb.print_result(console, result)
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


@app.command()
def workbench(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option("--address", help="Address to bind (0.0.0.0 for all interfaces).")] = "localhost",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a browser once the server is up.")] = True,
    warmup: Annotated[bool, typer.Option("--warmup/--no-warmup", help="Load the compiled kernels before serving.")] = True,
) -> None:
    """Start the Streamlit workbench (demo dataset preselected; data and runs under $PHI_HOME or here)."""
    import os

    args = ["--port", str(port), "--address", address]
    args += [] if browser else ["--no-browser"]
    args += [] if warmup else ["--no-warmup"]
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "app_streamlit.serve", *args])


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
