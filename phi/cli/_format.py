"""Results -> rich tables, shared by ``phi backtest``, ``phi demo`` and ``phi runs``.

Display labels with units ("Return [%]") live here, in the UI layer; results keep snake_case
keys. Importing this module imports neither numba nor the engine (``phi runs list`` stays fast).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import pandas as pd

    from phi.backtest.run_config import RunConfig
    from phi.pipeline import RunResult

#: metric -> (display label with units, number format)
METRIC_LABELS: Final[dict[str, tuple[str, str]]] = {
    "total_return": ("Total return [%]", "pct"),
    "cagr": ("CAGR [%]", "pct"),
    "annual_volatility": ("Annual volatility [%]", "pct"),
    "sharpe": ("Sharpe ratio", "ratio"),
    "sortino": ("Sortino ratio", "ratio"),
    "calmar": ("Calmar ratio", "ratio"),
    "max_drawdown": ("Max drawdown [%]", "pct"),
    "max_drawdown_duration": ("Max drawdown duration [bars]", "int"),
    "profit_factor": ("Profit factor", "ratio"),
    "win_rate": ("Win rate [%]", "pct"),
    "avg_trade": ("Average trade [%]", "pct"),
    "expectancy": ("Expectancy [cash per trade]", "cash"),
    "exposure": ("Exposure [% of bars]", "pct"),
    "n_trades": ("Closed trades", "int"),
    "n_open_trades": ("Open trades at the end", "int"),
    "buy_and_hold_return": ("Buy & hold return [%]", "pct"),
    "direction_accuracy": ("Direction accuracy [%]", "pct"),
    "final_equity": ("Final equity [cash]", "cash"),
}


#: The compact result: headline KPIs, then the trade statistics (the rest behind --ledger).
HEADLINE: Final = ("total_return", "cagr", "sharpe", "max_drawdown", "buy_and_hold_return", "exposure", "final_equity")
TRADE_METRICS: Final = ("n_trades", "win_rate", "profit_factor", "avg_trade", "expectancy", "n_open_trades")


def fmt_metric(name: str, value: object) -> str:
    """A metric value for display: percentages x100, counts as integers, n/a for NaN/None."""
    kind = METRIC_LABELS.get(name, (name, "ratio"))[1]
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if kind == "pct":
        return f"{100 * x:,.2f}"
    if kind == "int":
        return f"{x:,.0f}"
    if kind == "cash":
        return f"{x:,.2f}"
    return f"{x:.3f}"


def metrics_table(columns: Mapping[str, Mapping[str, Any]], title: str) -> Table:
    """One row per metric (label with units), one column per run."""
    table = Table(title=Text(title), title_justify="left")
    table.add_column("metric")
    for col in columns:
        table.add_column(col, justify="right", no_wrap=True)
    names = [m for m in METRIC_LABELS if any(m in c for c in columns.values())]
    names += [m for c in columns.values() for m in c if m not in names]
    for m in dict.fromkeys(names):
        label = Text(METRIC_LABELS.get(m, (m, ""))[0])
        table.add_row(label, *(fmt_metric(m, c.get(m)) for c in columns.values()))
    return table


def ledger_table(assumptions: Mapping[str, Any]) -> Table:
    """The assumption ledger as a two-column table."""
    table = Table(title="Assumption ledger", title_justify="left", show_header=False)
    table.add_column("assumption", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in assumptions.items():
        table.add_row(Text(key.replace("_", " ")), Text(str(value)))
    return table


def run_header(cfg: Mapping[str, Any], n_bars: object = None) -> Text:
    """'DEMO 1D from demo, 2020-01-01..2024-12-31' plus indicators and blend."""
    ds = cfg["dataset"]
    parts = []
    for ind in cfg["indicators"]:
        if not ind.get("enabled", True):
            continue
        params = ", ".join(f"{k}={v}" for k, v in ind.get("params", {}).items())
        weight = ind.get("weight", 1.0)
        parts.append(f"{ind['name']}({params})" + (f" x{weight:g}" if weight != 1.0 else ""))
    bars = f", {n_bars:,} bars" if isinstance(n_bars, int) else ""
    text = Text()
    text.append(f"{ds['symbol']} {ds['timeframe']}", style="bold")
    text.append(f" from {ds['vendor']}, {ds['start']}..{ds['end']}{bars}\n")
    text.append(f"indicators: {' + '.join(parts)}\nblend: {cfg['blend']['mode']}")
    opt = cfg.get("options") if cfg.get("mode") == "options" else None
    if isinstance(opt, Mapping):  # an options run: what it trades and where its prices come from
        rule = opt.get("strike_rule", "moneyness")
        text.append(
            f"\noptions: {opt.get('structure')}, {opt.get('dte')} DTE, strikes by {rule} "
            f"{opt.get(rule)}; "
            + (f"prices from the quotes in {opt['chain']}" if opt.get("chain")
               else "synthetic option prices from the underlying; no option quotes")
        )
    return text


def trades_summary(trades: pd.DataFrame | None) -> str:
    """``"long 20, short 4; exits: signal 15, stop_loss 9"`` (empty without trades)."""
    if trades is None or not len(trades):
        return ""
    parts = []
    for col, label in (("side", ""), ("exit_reason", "exits: ")):
        if col in trades.columns:
            counts = trades[col].astype(str).value_counts()
            parts.append(label + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "; ".join(parts)


def print_run(
    console: Console,
    header: Text,
    metrics: Mapping[str, Any],
    assumptions: Mapping[str, Any],
    *,
    synthetic: bool,
    run_id: str | None,
    ledger: bool = False,
    trades: pd.DataFrame | None = None,
) -> None:
    """Header, results, synthetic-data notice and the saved run id.

    Compact by default: the headline KPIs and the trades summary. ``ledger=True`` shows every
    metric and the full assumption ledger instead. A ruined run says so either way, and so does
    an options run that skipped (or cut) entries (the ledger's ``skipped_note``).
    """
    console.print(header)
    if ledger:
        console.print(metrics_table({"value": metrics}, "Results"))
    else:
        console.print(metrics_table({"value": {m: metrics[m] for m in HEADLINE if m in metrics}}, "Results"))
        console.print(metrics_table({"value": {m: metrics[m] for m in TRADE_METRICS if m in metrics}}, "Trades"))
        summary = trades_summary(trades)
        if summary:
            console.print(f"Trades by side: {summary}", highlight=False, markup=False, soft_wrap=True)
    if ledger:
        console.print(ledger_table(assumptions))
    else:
        ruin = assumptions.get("ruin")
        if assumptions.get("ruin_bar") is not None and ruin:
            console.print(Text.assemble(("ruin: ", "bold red"), str(ruin)), highlight=False, soft_wrap=True)
        skipped = assumptions.get("skipped_note")  # options: why entries were skipped or cut
        if skipped and skipped != "none":
            head = "skipped: " if assumptions.get("skipped_entries") else "sizing: "  # or only cut
            console.print(Text.assemble((head, "bold yellow"), str(skipped)), highlight=False, soft_wrap=True)
        if assumptions.get("entry_note"):  # a signal already past the threshold: why no entry there
            console.print(Text.assemble(("note: ", "bold yellow"), str(assumptions["entry_note"])), highlight=False, soft_wrap=True)
        console.print("Every metric and the assumption ledger (fills, costs, calendar, ...): add --ledger", highlight=False, markup=False, soft_wrap=True)
    if synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    if run_id:
        rid = escape(run_id)
        console.print(f"Saved as run [bold]{rid}[/] (phi runs show {rid})", highlight=False, soft_wrap=True)


def print_result(console: Console, result: RunResult, *, ledger: bool = False) -> None:
    """Print a pipeline result (compact; every metric and the ledger with ``ledger=True``)."""
    assert result.config is not None
    header = run_header(result.config.to_dict(), len(result.equity))
    if result.phiai is not None and len(result.phiai.weights):
        last = result.phiai.weights.iloc[-1]
        shown = ", ".join(f"{name} {w:.2f}" for name, w in last.items())
        header.append(f"\nphiai weights in force from {last.name:%Y-%m-%d} ({len(result.phiai.weights)} refreshes): {shown}")
    print_run(
        console,
        header,
        result.metrics,
        result.assumptions,
        synthetic=bool(result.data.get("synthetic")),
        run_id=result.run_id,
        ledger=ledger,
        trades=result.trades,
    )


def run_with_progress(
    console: Console, config: RunConfig, save: bool, allow_data_change: bool = False
) -> RunResult:
    """:func:`phi.pipeline.run` under a spinner that shows the current stage."""
    from phi.pipeline import run

    with console.status("Running backtest ...", spinner="dots") as status:

        def progress(stage: str, fraction: float) -> None:
            status.update(f"Running backtest: {stage} ({100 * fraction:.0f}%)")

        return run(config, save=save, progress=progress, allow_data_change=allow_data_change)


def runs_table(rows: list[dict[str, Any]], title: str) -> Table:
    """``phi runs list``: one row per run (id, then data and strategy on a second line)."""
    from phi.backtest.summary import trade_count  # "32 closed + 1 open", as everywhere

    table = Table(title=Text(title), title_justify="left")
    table.add_column("run / data / strategy", min_width=26, overflow="fold")
    for label in ("Return %", "Sharpe", "MaxDD %", "Trades"):
        table.add_column(label, justify="right", no_wrap=True)
    for r in rows:
        cell = Text(r["run_id"], style="bold")
        data = f"{r.get('symbol')} {r.get('timeframe')}" + ("*" if r.get("synthetic") else "")
        strategy = f"{','.join(r.get('indicators') or [])} ({r.get('blend_mode')})"
        if r.get("options"):
            strategy += f" -> options {r['options']}"
        cell.append(f"\n{data} {strategy}", style="dim")
        table.add_row(
            cell,
            fmt_metric("total_return", r.get("total_return")),
            fmt_metric("sharpe", r.get("sharpe")),
            fmt_metric("max_drawdown", r.get("max_drawdown")),
            trade_count(r).text,
        )
    return table

