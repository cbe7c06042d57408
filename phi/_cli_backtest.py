"""Helpers of the ``phi backtest`` / ``phi demo`` / ``phi runs`` commands (see :mod:`phi.cli`).

Flags -> :class:`~phi.backtest.run_config.RunConfig`, and results -> rich tables. Display labels
with units ("Return [%]") live here, in the UI layer; results keep snake_case keys. Importing
this module imports neither numba nor the engine (``phi runs list`` must stay fast).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from phi.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
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
DEFAULT_INDICATORS: Final = ("rsi", "macd")
DEMO_INDICATORS: Final = ("rsi", "macd", "dual_sma")
_SIZE_FIELD: Final = {
    "percent_equity": "size_pct",
    "fixed_cash": "size_cash",
    "fixed_units": "size_units",
    "risk_per_trade": "risk_pct",
}


# ---------------------------------------------------------------------------- formatting


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
    table = Table(title=title, title_justify="left")
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
        table.add_row(key.replace("_", " "), Text(str(value)))
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
    return text


def print_run(
    console: Console,
    header: Text,
    metrics: Mapping[str, Any],
    assumptions: Mapping[str, Any],
    *,
    synthetic: bool,
    run_id: str | None,
) -> None:
    """Header, metrics table, assumption ledger, synthetic-data notice and the saved run id."""
    console.print(header)
    console.print(metrics_table({"value": metrics}, "Results"))
    console.print(ledger_table(assumptions))
    if synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    if run_id:
        console.print(f"Saved as run [bold]{run_id}[/] (phi runs show {run_id})", highlight=False, soft_wrap=True)


def print_result(console: Console, result: RunResult) -> None:
    """Print a pipeline result."""
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
    table = Table(title=title, title_justify="left")
    table.add_column("run / data / strategy", min_width=26, overflow="fold")
    for label in ("Return %", "Sharpe", "MaxDD %", "Trades"):
        table.add_column(label, justify="right", no_wrap=True)
    for r in rows:
        cell = Text(r["run_id"], style="bold")
        data = f"{r.get('symbol')} {r.get('timeframe')}" + ("*" if r.get("synthetic") else "")
        strategy = f"{','.join(r.get('indicators') or [])} ({r.get('blend_mode')})"
        cell.append(f"\n{data} {strategy}", style="dim")
        table.add_row(
            cell,
            fmt_metric("total_return", r.get("total_return")),
            fmt_metric("sharpe", r.get("sharpe")),
            fmt_metric("max_drawdown", r.get("max_drawdown")),
            fmt_metric("n_trades", r.get("n_trades")),
        )
    return table


# ---------------------------------------------------------------------------- flags -> config


def parse_value(text: str) -> int | float | str:
    """'10' -> 10, '2.5' -> 2.5, anything else stays text."""
    for cast in (int, float):
        with contextlib.suppress(ValueError):
            return cast(text)  # type: ignore[operator]
    return text


def parse_fraction(text: str | None, flag: str) -> float | None:
    """'0.05' or '5%' -> 0.05; ``None`` stays ``None``."""
    if text is None:
        return None
    t = text.strip()
    try:
        return float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise ConfigError(f"{flag} must be a number like 0.05 or 5%, got {text!r}") from None


def parse_pairs(items: list[str] | None, flag: str) -> list[tuple[str, str]]:
    """``['a=1,b=2', 'c=3']`` -> ``[('a', '1'), ('b', '2'), ('c', '3')]``."""
    out = []
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            key, sep, val = part.partition("=")
            if not sep or not key.strip() or not val.strip():
                raise ConfigError(f"{flag} expects name=value pairs, got {part!r}")
            out.append((key.strip(), val.strip()))
    return out


def build_config(
    *,
    config_file: str | None = None,
    dataset: Mapping[str, Any] | None = None,
    indicators: str | None = None,
    params: list[str] | None = None,
    blend_mode: str | None = None,
    weights: list[str] | None = None,
    dead_zone: float | None = None,
    regime_config: str | None = None,
    engine: Mapping[str, Any] | None = None,
    size: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    seed: int | None = None,
) -> RunConfig:
    """Flags laid over a config file (or over the defaults) -> a validated RunConfig.

    ``None`` means "flag not given". Changing any dataset field drops the file's recorded
    data hash (it described other bars).
    """
    from phi.backtest.run_config import RunConfig

    if config_file:
        try:
            text = Path(config_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--config: cannot read {config_file}: {exc.strerror or exc}") from None
        d = RunConfig.from_json(text).to_dict()
    else:
        d = {"dataset": {"symbol": "DEMO"}, "indicators": [{"name": n} for n in DEFAULT_INDICATORS]}
    given = {k: v for k, v in (dataset or {}).items() if v is not None}
    if given:
        d["dataset"] = {**d["dataset"], **given, "content_hash": None}
    if indicators is not None:
        names = [n.strip() for n in indicators.split(",") if n.strip()]
        if not names:
            raise ConfigError("--indicators is empty; give names like rsi,macd (see phi indicators list)")
        d["indicators"] = [{"name": n} for n in names]
    by_name = {ind["name"]: ind for ind in d["indicators"]}

    def target(name: str, flag: str) -> dict[str, Any]:
        if name not in by_name:
            raise ConfigError(
                f"{flag} names {name!r}, which is not among the indicators "
                f"({', '.join(by_name)}).{did_you_mean(name, list(by_name))}"
            )
        return by_name[name]

    for key, val in parse_pairs(params, "--params"):
        ind, dot, param = key.partition(".")
        if not dot or not param:
            raise ConfigError(f"--params expects indicator.param=value (like rsi.period=10), got {key!r}")
        entry = target(ind, "--params")
        entry["params"] = {**entry.get("params", {}), param: parse_value(val)}
    for name, val in parse_pairs(weights, "--weights"):
        w = parse_value(val)
        if isinstance(w, str):
            raise ConfigError(f"--weights: the weight of {name!r} must be a number, got {val!r}")
        target(name, "--weights")["weight"] = w
    if blend_mode is not None:
        d["blend"] = {"mode": blend_mode}
    if dead_zone is not None:
        blend = dict(d.get("blend") or {"mode": "voting"})
        blend["params"] = {**(blend.get("params") or {}), "dead_zone": dead_zone}
        d["blend"] = blend
    if regime_config is not None:
        from phi.regime.config import load_config, overrides

        blend = dict(d.get("blend") or {})  # the mode must be regime_weighted (BlendConfig says so)
        blend["regime"] = overrides(load_config(regime_config))
        d["blend"] = blend
    eng = dict(d.get("engine") or {})
    eng.update({k: v for k, v in (engine or {}).items() if v is not None})
    if size is not None:
        field = _SIZE_FIELD.get(eng.get("sizing", "percent_equity"), "size_pct")
        eng[field] = parse_fraction(size, "--size") if field in ("size_pct", "risk_pct") else parse_value(size)
    d["engine"] = eng
    if description is not None:
        d["description"] = description
    if tags:
        d["tags"] = list(tags)
    if seed is not None:
        d["seed"] = seed
    return RunConfig.from_dict(d)
