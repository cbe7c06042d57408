"""``phi rl train|evaluate``: a PPO agent trained on a chronological split, judged through the engine."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from phi.cli._common import (
    EndOpt,
    PathOpt,
    StartOpt,
    TimeframeOpt,
    VendorOpt,
    _load,
    console,
    nonblank,
)

rl_app = typer.Typer(help="Train and evaluate a PPO trading agent (needs the ml extra).", no_args_is_help=True)


def _pct(v: Any) -> str:
    try:
        return f"{100 * float(v):+.2f} %"
    except (TypeError, ValueError):
        return "-"


def _print(agent: Any) -> None:
    from rich.table import Table

    s = agent.scores
    t = Table(title=f"returns through the engine (costs {agent.costs})")
    t.add_column("")
    t.add_column("return", justify="right")
    t.add_row("train split", _pct(s["train_return"]))
    t.add_row(f"[bold]test split from {agent.data['test_start'][:10]} (untouched)[/]", f"[bold]{_pct(s['test_return'])}[/]")
    t.add_row(f"random policy, test split (mean of {len(s['random_test_returns'])} seeds)", _pct(s["random_test_return"]))
    t.add_row("buy and hold, test split", _pct(s["buy_and_hold_test_return"]))
    console.print(t)
    console.print(
        f"test split: Sharpe {s['test_sharpe']:.2f}, max drawdown {_pct(s['test_max_drawdown'])}, "
        f"{s['test_trades']} trades, exposure {100 * s['test_exposure']:.0f} %", highlight=False,
    )


@rl_app.command("train")
def train(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data).")] = "DEMO",
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    timesteps: Annotated[int, typer.Option("--timesteps", help="PPO environment steps.")] = 20_000,
    train_share: Annotated[float, typer.Option("--train", help="Share of the bars to train on (the rest is the test split).")] = 0.7,
    seed: Annotated[int, typer.Option("--seed", help="Seed of PPO and the environment.")] = 0,
    allow_short: Annotated[bool, typer.Option("--allow-short", help="Let the agent go short.")] = False,
    costs: Annotated[str, typer.Option("--costs", help="Cost preset: us_equities, crypto, fx or none.")] = "us_equities",
    name: Annotated[str | None, typer.Option("--name", help="Store as PHI_HOME/models/NAME (default: SYMBOL_ppo).")] = None,
) -> None:
    """Train PPO on the first part of the bars; report its engine returns on the rest."""
    from phi.cli.ml import _dataset_meta
    from phi.ml.store import check_name, check_save_name, models_root
    from phi.rl.agent import check_timesteps, check_train_share, train_agent
    from phi.rl.store import save_agent

    check_timesteps(timesteps, "--timesteps")  # before any bar is fetched
    check_train_share(train_share, "--train")
    if name is not None:
        check_name(name)
    ds = _load(symbol, start, end, timeframe, vendor, path)
    sym = str(ds.metadata.get("symbol", symbol))
    name = f"{sym}_ppo".replace("^", "").replace("=", "") if name is None else name  # `--name ""` is refused by the store
    check_save_name(name)
    with console.status(f"Training PPO for {timesteps:,} steps on {sym} ...", spinner="dots"):
        agent = train_agent(ds.frame, timesteps=timesteps, train=train_share, seed=seed, allow_short=allow_short, costs=costs)
    agent.data["dataset"] = _dataset_meta(symbol, start, end, timeframe, vendor, path, ds)
    agent.data["symbol"] = agent.data.get("symbol") or sym
    _print(agent)
    save_agent(agent, name)
    console.print(f"stored as [bold]{name}[/] in {models_root() / name}", highlight=False)
    if getattr(ds, "synthetic", False):
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")


def _check_bars(name: str, agent: Any, n_bars: int, split: int) -> None:
    """Refuse bars the agent cannot act on: none left after its observation warm-up (a run of
    0 trades and a NaN Sharpe would look like a verdict)."""
    from phi.errors import DataError
    from phi.rl.observe import observation_warmup

    warm = observation_warmup(agent.lookback, agent.norm_window)
    if n_bars - max(warm, split) < 2:
        raise DataError(
            f"agent {name!r} needs at least {max(warm, split) + 2} bars (an observation warm-up of {warm} bars, "
            f"then 2 to trade on); the data has {n_bars}. Use a longer date range"
        )


@rl_app.command("evaluate")
def evaluate(
    name: Annotated[str, typer.Argument(help="A stored agent (phi ml list).")],
    symbol: Annotated[str | None, typer.Argument(help="Ticker to trade (default: the agent's own data).")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", "-t", callback=nonblank, help="Default: the agent's.")] = None,
    vendor: Annotated[str | None, typer.Option("--vendor", "-v", callback=nonblank, help="Default: the agent's.")] = None,
    path: PathOpt = None,
) -> None:
    """Re-run a stored agent's trades through the engine on its test split (checking the
    data fingerprint), or on another symbol's bars."""
    from phi.ml.model import check_fingerprint
    from phi.rl.store import load_agent

    agent = load_agent(name)
    dsm = agent.data.get("dataset") or {}
    own = symbol is None
    ds = _load(
        symbol or dsm.get("symbol", "DEMO"), dsm.get("start") if start is None else start, (dsm.get("end") if own else None) if end is None else end,
        timeframe or dsm.get("timeframe", "1D"), vendor or dsm.get("vendor", "demo"),
        path or (dsm.get("path") if (vendor or dsm.get("vendor")) == "csv" else None),
    )  # fmt: skip
    bars = ds.frame
    if own:
        check_fingerprint(agent.data, bars, f"agent {name!r}")
        _print(agent)
        split = int(agent.data["split"])
    else:
        split = 0
    _check_bars(name, agent, len(bars), split)
    res = agent.backtest(bars, split)
    m = res.metrics
    console.print(
        f"engine re-run from {bars.index[max(split, 0)]:%Y-%m-%d}: return [bold]{_pct(m['total_return'])}[/], "
        f"Sharpe {m['sharpe']:.2f}, max drawdown {_pct(m['max_drawdown'])}, {int(m.get('n_trades', len(res.trades)))} trades",
        highlight=False,
    )
