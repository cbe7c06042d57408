"""``phi portfolio run``: a user's basket of symbols on the portfolio engine (one shared cash
account), with a weight rule and a rebalance schedule; prints the metrics, each symbol's
contribution and the missing-data report, and saves the run to the history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.table import Table
from rich.text import Text

from phi.cli._common import LedgerOpt, console
from phi.cli._flags import split_list

if TYPE_CHECKING:
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.portfolio_pipeline import PortfolioRunResult

portfolio_app = typer.Typer(help="Multi-asset portfolios: a basket of symbols, target weights, one cash account.", no_args_is_help=True)


def build_config(
    symbols: str,
    weights: str,
    *,
    lookback: int | None = None,
    top: int | None = None,
    every: int | None = None,
    rebalance: str = "monthly",
    vendor: str = "demo",
    timeframe: str = "1D",
    start: str = "2020-01-01",
    end: str = "2024-12-31",
    capital: float = 100_000.0,
    costs: str = "us_equities",
    whole_units: bool = False,
) -> PortfolioRunConfig:
    """The :class:`PortfolioRunConfig` of the command's options (ConfigError naming the option)."""
    import dataclasses

    from phi.backtest.portfolio_config import PortfolioConfig
    from phi.backtest.portfolio_run_config import WEIGHT_RULES, PortfolioRunConfig, WeightRule
    from phi.errors import ConfigError, unknown_choice

    rule = weights.strip().lower().replace("-", "_")
    if rule not in WEIGHT_RULES:
        raise ConfigError("--weights: " + unknown_choice("weight rule", weights, tuple(WEIGHT_RULES)))
    allowed = WEIGHT_RULES[rule]
    given = {"lookback": lookback, "n": top, "top_n": top, "every": every}
    for opt, keys in (("--lookback", ("lookback",)), ("--top", ("n", "top_n")), ("--every", ("every",))):
        value = given[keys[0]]
        if value is not None and not any(k in allowed for k in keys):
            raise ConfigError(f"{opt} is not a setting of --weights {rule} (its settings: {', '.join(allowed) or 'none'})")
    params = {k: given[k] for k in allowed if given[k] is not None}
    syms = split_list(symbols, "--symbols")
    if not syms:
        raise ConfigError("--symbols: give at least one symbol, e.g. --symbols SPY,VEU,AGG,GLD")
    try:
        pcfg = PortfolioConfig(rebalance=rebalance, fractional=not whole_units).with_cost_preset(costs)
        pcfg = dataclasses.replace(pcfg, initial_capital=capital)
    except ConfigError as exc:
        msg = str(exc).replace("PortfolioConfig.rebalance", "--rebalance").replace("PortfolioConfig.initial_capital", "--capital")
        raise ConfigError(msg.replace("PortfolioConfig.", "")) from None
    try:
        return PortfolioRunConfig(
            symbols=tuple(syms),
            vendor=vendor,
            timeframe=timeframe,
            start=start,
            end=end,
            weights=WeightRule(rule, params),
            portfolio=pcfg,
            description=_description(syms, rule, rebalance),
        )
    except ConfigError as exc:  # name the option, not the config field
        raise ConfigError(_option_message(str(exc))) from None


#: Config field paths -> the option that sets them (for error messages).
_OPTION_OF: Final = {"weights.lookback": "--lookback", "weights.n ": "--top ", "weights.top_n": "--top",
                     "weights.every": "--every", "start": "--start", "end": "--end", "vendor": "--vendor",
                     "timeframe": "--timeframe"}  # fmt: skip


def _option_message(msg: str) -> str:
    if msg.startswith("symbols["):  # "symbols[1]: 'SPY' is already ..." -> "--symbols: 'SPY' is already ..."
        return "--symbols: " + msg.split(": ", 1)[-1]
    for field, opt in _OPTION_OF.items():
        if msg.startswith(field):
            return opt + msg[len(field) :]
    return msg


def portfolio_header(cfg: PortfolioRunConfig, n_bars: int | None = None) -> Text:
    """'SPY+VEU+AGG+GLD 1D from demo, 2020-01-01..2024-12-31' plus weights and schedule."""
    p = cfg.portfolio
    bars = f", {n_bars:,} bars" if isinstance(n_bars, int) else ""
    text = Text()
    text.append(f"{cfg.label()} {cfg.timeframe}", style="bold")
    text.append(f" from {cfg.vendor}, {cfg.start}..{cfg.end}{bars}\n")
    text.append(f"weights: {cfg.weights.text()}; rebalance: {p.rebalance}; ")
    text.append(("whole units" if not p.fractional else "fractional units") + (", shorts allowed" if p.allow_short else ", long only"))
    text.append(f", gross up to {p.max_gross:g}" if p.allow_leverage else ", no leverage")
    return text


def contribution_table(frame: Any, total_return: float | None = None) -> Table:
    """Per-symbol P&L, contribution to the return, costs and fills."""
    table = Table(title=Text("Contribution by symbol (P&L = fills' cash + final holding at the last close)"), title_justify="left", caption_justify="left")
    for col in ("symbol", "P&L", "contrib. %", "costs", "fills", "final value"):
        table.add_column(col, justify="left" if col == "symbol" else "right", no_wrap=True)
    for sym, row in frame.iterrows():
        table.add_row(Text(str(sym)), f"{row['pnl']:,.2f}", f"{100 * row['contribution']:+,.2f}", f"{row['costs']:,.2f}",
                      f"{int(row['fills']):,}", f"{row['final_value']:,.2f}")  # fmt: skip
    total = frame["contribution"].sum()
    table.add_row(Text("total", style="bold"), f"{frame['pnl'].sum():,.2f}", f"{100 * total:+,.2f}", f"{frame['costs'].sum():,.2f}",
                  f"{int(frame['fills'].sum()):,}", f"{frame['final_value'].sum():,.2f}")  # fmt: skip
    if total_return is not None and total_return == total_return:
        table.caption = f"contributions sum to the total return {100 * total_return:+,.2f} %"
    return table


def missing_table(missing: dict[str, dict[str, Any]]) -> Table | str:
    """The missing-data report: first/last bar of each symbol and the union's bars it lacks."""
    if not any(d.get("missing_bars") or d.get("bars_before_first") or d.get("bars_after_last") for d in missing.values()):
        return f"Missing data: none (all {len(missing)} symbols have a bar on every bar of the run)."
    table = Table(title=Text("Missing data (a symbol without a bar is not traded; no price is invented)"), title_justify="left")
    for col in ("symbol", "first bar", "last bar", "gaps inside", "bars before first", "bars after last"):
        table.add_column(col, justify="left" if col in ("symbol", "first bar", "last bar") else "right", no_wrap=True)
    for sym, d in missing.items():
        table.add_row(Text(sym), str(d.get("first", ""))[:10], str(d.get("last", ""))[:10], f"{d.get('missing_bars', 0):,}",
                      f"{d.get('bars_before_first', 0):,}", f"{d.get('bars_after_last', 0):,}")  # fmt: skip
    return table


def print_portfolio(result: PortfolioRunResult, *, ledger: bool = False) -> None:
    """Header, metrics (and trades), contribution by symbol, missing data, saved run id."""
    from phi.cli import _format as fmt

    assert result.config is not None
    header = portfolio_header(result.config, len(result.equity))
    ledger_view = {k: v for k, v in result.assumptions.items() if k != "missing_data"}
    fmt.print_run(console, header, result.metrics, ledger_view, synthetic=bool(result.data.get("synthetic")),
                  run_id=result.run_id, ledger=ledger, trades=None)  # fmt: skip
    console.print(contribution_table(result.contribution(), result.metrics.get("total_return")))
    shown = missing_table(result.missing_data)
    console.print(shown, highlight=False) if isinstance(shown, str) else console.print(shown)


def run_and_print(config: PortfolioRunConfig, save: bool, allow_data_change: bool = False, ledger: bool = False) -> PortfolioRunResult:
    """Run a portfolio config under a spinner and print it (``phi portfolio run``, ``phi runs rerun``)."""
    from phi.pipeline import run

    with console.status("Running portfolio ...", spinner="dots") as status:

        def progress(stage: str, fraction: float) -> None:
            status.update(f"Running portfolio: {stage} ({100 * fraction:.0f}%)")

        result = run(config, save=save, progress=progress, allow_data_change=allow_data_change)
    print_portfolio(result, ledger=ledger)
    return result


@portfolio_app.command("run")
def portfolio_run(
    symbols: Annotated[str, typer.Option("--symbols", "-s", help="Comma-separated symbols of one vendor, e.g. SPY,VEU,AGG,GLD.")],
    weights: Annotated[str, typer.Option("--weights", "-w", help="equal, inverse_vol, top_n_momentum or rotation.")] = "equal",
    lookback: Annotated[int | None, typer.Option("--lookback", help="Bars of the momentum / volatility window (default 20).")] = None,
    top: Annotated[int | None, typer.Option("--top", help="Symbols held by top_n_momentum / rotation (default 1).")] = None,
    every: Annotated[int | None, typer.Option("--every", help="rotation: re-rank every N bars (default 5).")] = None,
    rebalance: Annotated[str, typer.Option("--rebalance", "-r", help="monthly (default), weekly, every:N, drift:X (a weight band), on_change or every_bar.")] = "monthly",
    vendor: Annotated[str, typer.Option("--vendor", "-v", help="demo (default, offline synthetic data), yfinance or alpha_vantage.")] = "demo",
    timeframe: Annotated[str, typer.Option("--timeframe", "-t", help="1D (default), 4H, 1H, 15m, 5m or 1m.")] = "1D",
    start: Annotated[str, typer.Option("--start", help="First date, inclusive.")] = "2020-01-01",
    end: Annotated[str, typer.Option("--end", help="Last date, inclusive.")] = "2024-12-31",
    capital: Annotated[float, typer.Option("--capital", "--budget", help="Initial capital.")] = 100_000.0,
    costs: Annotated[str, typer.Option("--costs", help="Cost preset: us_equities (default), crypto, fx or none.")] = "us_equities",
    whole_units: Annotated[bool, typer.Option("--whole-units", help="Whole units only (default: fractional).")] = False,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save to the run history (default: save).")] = True,
    ledger: LedgerOpt = False,
) -> None:
    """Run a basket: target weights by a rule, rebalanced on a schedule, one shared cash account."""
    from phi.errors import RunError

    cfg = build_config(symbols, weights, lookback=lookback, top=top, every=every, rebalance=rebalance, vendor=vendor,
                       timeframe=timeframe, start=start, end=end, capital=capital, costs=costs, whole_units=whole_units)  # fmt: skip
    result = run_and_print(cfg, save, ledger=ledger)
    if result.save_error:  # after the result: one line on stderr, exit code 2
        raise RunError(result.save_error)


def _description(syms: list[str], rule: str, rebalance: str) -> str:
    """The run's description: its symbols (the first 12 and a count beyond), rule and schedule;
    never longer than a description may be (a long --symbols list is not the user's text)."""
    names = [s.upper() for s in syms]
    shown = "+".join(names) if len(names) <= 12 else "+".join(names[:12]) + f" and {len(names) - 12} more"
    return f"portfolio {shown}: {rule}, rebalance {rebalance}"[:500]
