"""``phi regime``: the MFT regime engine's latest probabilities, composite and confidences."""

from __future__ import annotations

from typing import Annotated

import typer

from phi.cli._common import PathOpt, TimeframeOpt, VendorOpt, _load, console, nonblank

MARGIN_NOTE = (
    "top-two margin: top regime probability minus the second; it ranks the dominant regime's right calls "
    "better than the confidence, the trading gate (README, Regime engine)"
)


def regime_cmd(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data with known regimes).")] = "DEMO",
    start: Annotated[str | None, typer.Option("--start", help="First date, inclusive (default: two years ago).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date, inclusive (default: today).")] = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    config: Annotated[str | None, typer.Option("--config", callback=nonblank, help="Regime engine config (.json or .toml); default: calibrated.")] = None,
    last: Annotated[int, typer.Option("--last", min=0, help="Also list the dominant regime of the last N bars.")] = 5,
    chain: Annotated[str | None, typer.Option("--chain", callback=nonblank, help="Option-chain CSV with open interest: also show its GEX features, as of each of the last bars (not used by the regime taxonomy).")] = None,
) -> None:
    """Run the MFT regime engine: latest regime probabilities, dominant regime, composite, confidences."""
    from rich.table import Table
    from rich.text import Text

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
    table = Table(title=Text(f"{name}: regime probabilities at {info['timestamp']:{fmt}}"))
    table.add_column("regime")
    table.add_column("probability", justify="right")
    table.add_column("", no_wrap=True)
    for regime, p in sorted(info["regime_probs"].items(), key=lambda kv: -kv[1]):
        style = "bold green" if regime == info["dominant_regime"] else ""
        table.add_row(f"[{style}]{regime}[/]" if style else regime, f"{p:.3f}", "#" * round(40 * p))
    console.print(table)
    fmt = "%Y-%m-%d" if meta["timeframe"] == "1D" else "%Y-%m-%d %H:%M"
    mix = Table(
        title="composite signal (+1 = buy) and confidences in [0, 1]",
        caption=MARGIN_NOTE,
        caption_justify="left",
    )
    mix.add_column("field")
    mix.add_column("value", justify="right")
    mix.add_row("dominant regime", f"[bold]{info['dominant_regime']}[/]")
    mix.add_row("composite", f"{info['composite']:+.3f}")
    for key, label in (("c_field", "field confidence"), ("c_consensus", "consensus"), ("c_liquidity", "liquidity"), ("confidence", "confidence (field x consensus)")):
        mix.add_row(label, f"{info[key]:.3f}")
    mix.add_row("top-two margin", f"{info['margin']:.3f}")
    mix.add_row("score", f"{info['score']:+.3f}")
    used = float(info.get("volume_used", float("nan")))
    mix.add_row("volume features", "off (volume absent, constant or uninformative)" if used == 0 else f"weight {used:.2f}")
    console.print(mix)
    if last > 0:
        # no outer edge: the six columns fit 80 characters with intraday stamps too (the
        # regime's header then takes two lines)
        recent = Table(title=f"last {min(last, len(res.mix))} bars", show_edge=False)
        for col in ("bar", "dominant regime", "probability", "composite", "confidence", "margin"):
            recent.add_column(col, justify="right", no_wrap=col != "dominant regime", min_width=11 if col == "dominant regime" else None)
        dom, margin = res.dominant_regime(), res.margin
        for ts in res.mix.index[-last:]:
            d = dom.loc[ts]  # NaN during the engine's warm-up
            p = res.regime_probs.loc[ts, d] if isinstance(d, str) else float("nan")
            recent.add_row(
                f"{ts:{fmt}}", str(d), f"{p:.3f}", f"{res.mix.loc[ts, 'composite']:+.3f}",
                f"{res.mix.loc[ts, 'confidence']:.3f}", f"{margin.loc[ts]:.3f}",
            )  # fmt: skip
        console.print(recent)
    if chain is not None:
        _gex_table(ds.frame, chain, max(last, 1), fmt)
    if ds.synthetic:
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")
    if meta.get("vendor", vendor) == "demo":
        from phi.data.demo import demo_regimes

        day = f"{ds.frame.index[-1]:%Y-%m-%d}"
        truth = demo_regimes(symbol, day, day, meta["timeframe"], labels="mft")
        console.print(f"true regime of the last bar (known for demo data): [bold]{truth.iloc[-1]}[/]", highlight=False)




def _gex_table(frame: object, chain: str, last: int, fmt: str) -> None:
    """The chain's GEX features as of the last bars, beside (not inside) the regime result."""
    import pandas as pd
    from rich.table import Table

    from phi.options.gex import gex_regime_inputs

    assert isinstance(frame, pd.DataFrame)
    with console.status("Computing the chain's gamma exposure ...", spinner="dots"):
        gex = gex_regime_inputs(frame, chain)
    t = Table(title=f"GEX as of the last {min(last, len(gex))} bars (not used by the regime taxonomy)")
    heads = ("bar", "gamma net", "wall dist", "expiry days", "flip zone", "chain date", "age (days)")
    for col in heads:
        t.add_column(col, justify="right", no_wrap=col in ("bar", "chain date"))
    for ts, row in gex.iloc[-last:].iterrows():
        if pd.isna(row["gex_date"]):
            t.add_row(f"{ts:{fmt}}", *["-"] * 4, "no chain", "-")
            continue
        t.add_row(
            f"{ts:{fmt}}", f"{row['gamma_net']:+.3f}", f"{row['gamma_wall_distance']:+.3f}",
            f"{row['gamma_expiry_days']:.0f}", f"{row['gex_flip_zone']:.0f}",
            f"{row['gex_date']:%Y-%m-%d}", f"{row['gex_age_days']:.0f}",
        )  # fmt: skip
    console.print(t)
    missing = int(gex.attrs["gex_missing"])
    console.print(
        f"{missing} of {len(gex)} bars have no chain dated at most {gex.attrs['gex_max_age_days']} days "
        "before them (left blank, never filled further); chain SHA-256 "
        f"{gex.attrs['chain_fingerprint'][:12]}",
        highlight=False,
    )
