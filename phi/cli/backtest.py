"""``phi backtest`` and ``phi demo``: flags or a config file -> RunConfig -> pipeline -> result."""

from __future__ import annotations

from typing import Annotated

import typer

from phi.cli._common import LedgerOpt, PathOpt, console, nonblank
from phi.errors import RunError


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
    regime_config: Annotated[str | None, typer.Option("--regime-config", callback=nonblank, help="regime_weighted: regime engine settings file (.json/.toml, as for phi regime --config).")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Entry threshold in [0, 1] (default 0.1).")] = None,
    exit_threshold: Annotated[float | None, typer.Option("--exit-threshold", help="Signal-exit threshold in [0, 1] (default 0).")] = None,
    short: Annotated[bool | None, typer.Option("--short/--no-short", help="Also trade the short side (default: long only).")] = None,
    sl: Annotated[str | None, typer.Option("--sl", help="Stop loss: 0.05 or 5%.")] = None,
    tp: Annotated[str | None, typer.Option("--tp", help="Take profit: 0.10 or 10%.")] = None,
    trail: Annotated[str | None, typer.Option("--trail", help="Trailing stop: 0.05 or 5%.")] = None,
    time_exit: Annotated[int | None, typer.Option("--time-exit", help="Exit this many bars after the entry.")] = None,
    fill: Annotated[str | None, typer.Option("--fill", help="next_open (default) or close (optimistic).")] = None,
    costs: Annotated[str | None, typer.Option("--costs", help="Cost preset: us_equities (default: 0.05% + 2 bps), crypto (0.1% + 5 bps), fx (1 bp) or none; --commission/--slippage override it.")] = None,
    commission: Annotated[str | None, typer.Option("--commission", help="Commission per fill, share of notional: 0.001 or 0.1%.")] = None,
    commission_fixed: Annotated[float | None, typer.Option("--commission-fixed", help="Fixed commission per fill (cash).")] = None,
    slippage: Annotated[float | None, typer.Option("--slippage", help="Slippage per fill in basis points.")] = None,
    sizing: Annotated[str | None, typer.Option("--sizing", help="percent_equity (default), fixed_cash, fixed_units or risk_per_trade.")] = None,
    size: Annotated[str | None, typer.Option("--size", help="For --sizing: 95% of equity | cash | units | 1% risk.")] = None,
    capital: Annotated[float | None, typer.Option("--capital", help="Initial capital (default 100000).")] = None,
    fractional: Annotated[bool | None, typer.Option("--fractional/--whole-units", help="Fractional units (default) or whole units.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="equities (default: trade the underlying) or options (an option structure on the signal).")] = None,
    structure: Annotated[str | None, typer.Option("--structure", help="--mode options: bull_call_spread (default), long_call, long_put, bear_put_spread, bull_put_spread, bear_call_spread, straddle, strangle, iron_condor, covered_call, or auto (chosen per bar from the regime and the IV state).")] = None,
    dte: Annotated[int | None, typer.Option("--dte", help="--mode options: calendar days to expiry at entry (default 45).")] = None,
    strike_delta: Annotated[str | None, typer.Option("--strike-delta", help="--mode options: strikes by |delta|: near[,far], e.g. 0.3 or 0.3,0.15 (one value: far = near / 2).")] = None,
    strike_moneyness: Annotated[str | None, typer.Option("--strike-moneyness", help="--mode options: strikes by distance from spot: near[,far], e.g. 0,5%.")] = None,
    iv_premium: Annotated[float | None, typer.Option("--iv-premium", help="--mode options: implied vol = realised vol x this (default 1.1).")] = None,
    haircut: Annotated[str | None, typer.Option("--haircut", help="--mode options: bid-ask haircut per fill, share of the price: 0.02 or 2%.")] = None,
    profit_target: Annotated[str | None, typer.Option("--profit-target", help="--mode options: exit at this share of the premium: 50% (default), or off.")] = None,
    stop: Annotated[str | None, typer.Option("--stop", help="--mode options: exit at this loss, share of the premium: 50% (default), or off.")] = None,
    contracts: Annotated[int | None, typer.Option("--contracts", help="--mode options: structure units per entry (default: sized by 5% risk).")] = None,
    roll_dte: Annotated[int | None, typer.Option("--roll-dte", help="--mode options: close (and reopen) with this many days left.")] = None,
    chain: Annotated[str | None, typer.Option("--chain", callback=nonblank, help="--mode options: price legs from this end-of-day option-chain CSV (daily bars).")] = None,
    chain_fill: Annotated[str | None, typer.Option("--chain-fill", help="--chain: bid_ask (default: ask in, bid out) or mid (mid +/- --haircut).")] = None,
    config_file: Annotated[str | None, typer.Option("--config", "-c", callback=nonblank, help="A run config JSON (e.g. a saved run's config.json); flags override it.")] = None,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save to the run history (default: save).")] = True,
    allow_data_change: Annotated[bool, typer.Option("--allow-data-change", help="Run a --config whose recorded data hash no longer matches the bars.")] = False,
    description: Annotated[str | None, typer.Option("--description", help="Free text stored with the run.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag stored with the run (repeatable).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed recorded with the run.")] = None,
    write_config: Annotated[str | None, typer.Option("--write-config", callback=nonblank, help="Only write the config JSON to this file (no run).")] = None,
    ledger: LedgerOpt = False,
) -> None:
    """Backtest indicators on one symbol: data -> indicators -> blend -> engine -> saved run."""
    from phi.cli import _flags as cb
    from phi.cli import _format as fmt

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
        costs=costs,
        mode=mode,
        options={
            "structure": structure,
            "dte": dte,
            **({"strike_rule": "delta", "delta": cb.parse_strike_pair(strike_delta, "--strike-delta")} if strike_delta is not None else {}),
            **({"strike_rule": "moneyness", "moneyness": cb.parse_strike_pair(strike_moneyness, "--strike-moneyness")} if strike_moneyness is not None else {}),
            "iv_premium": iv_premium,
            "bid_ask_haircut": cb.parse_fraction(haircut, "--haircut"),
            "profit_target_pct": cb.parse_fraction_or_off(profit_target, "--profit-target"),
            "stop_loss_pct": cb.parse_fraction_or_off(stop, "--stop"),
            "contracts": contracts,
            "roll_dte": roll_dte,
            "chain": chain,
            "chain_fill": chain_fill,
        },
        size=size,
        description=description,
        tags=tag,
        seed=seed,
    )
    if write_config:
        from phi._io import write_user_text

        write_user_text(write_config, config.to_json(), "--write-config")
        console.print(f"Wrote {write_config}", highlight=False, markup=False)
        return
    result = fmt.run_with_progress(console, config, save, allow_data_change)
    fmt.print_result(console, result, ledger=ledger)
    if result.save_error:  # after the result: one line on stderr, exit code 2 (README, Backtesting)
        raise RunError(result.save_error)


def demo(
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save to the run history (default: save).")] = True,
    ledger: LedgerOpt = False,
) -> None:
    """Run a demo backtest end to end on offline synthetic data (DEMO): RSI + MACD + dual SMA."""
    from phi.backtest.costs import DEFAULT_COST_PRESET, cost_preset
    from phi.backtest.engine import EngineConfig
    from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig
    from phi.cli import _flags as cb
    from phi.cli import _format as fmt

    costs = cost_preset(DEFAULT_COST_PRESET)
    config = RunConfig(
        DatasetSpec("DEMO", "demo", "1D", "2020-01-01", "2024-12-31"),
        tuple(IndicatorConfig(name) for name in cb.DEMO_INDICATORS),
        engine=EngineConfig(
            stop_loss_pct=0.05, take_profit_pct=0.15, commission_pct=costs.commission_pct,
            commission_fixed=costs.commission_fixed, slippage_bps=costs.slippage_bps,
        ),
        description="phi demo: RSI + MACD + dual SMA, weighted sum, on synthetic DEMO data",
        tags=("demo",),
    )
    console.print("[bold yellow]Demo on SYNTHETIC data[/] (vendor demo, generated locally - not market prices).")
    result = fmt.run_with_progress(console, config, save)
    fmt.print_result(console, result, ledger=ledger)
    if result.save_error:  # after the result: one line on stderr, exit code 2
        raise RunError(result.save_error)
    console.print("Next: phi backtest AAPL --vendor yfinance -i rsi,macd --sl 5%  |  phi runs list", highlight=False, soft_wrap=True)

