"""The Results' Options tab: where the prices came from, P&L by greek, the portfolio greeks,
the legs, and a heatmap of the run over IV multipliers x bid-ask haircuts (computed on request).
Everything shown is computed by :mod:`phi.options`; this module only lays it out."""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_streamlit import charts, ui
from app_streamlit.results import ResultData
from app_streamlit.styles import PLOTLY_LAYOUT

#: P&L components in the order they are shown (they sum to the equity change).
COMPONENTS: Final = ("delta", "gamma", "vega", "theta", "residual", "costs")
LEG_COLUMNS: Final = (
    "trade", "kind", "contracts", "strike", "expiry", "entry_time", "exit_time", "entry_price", "exit_price",
    "entry_iv", "entry_delta", "entry_gamma", "entry_vega", "entry_theta",
)  # fmt: skip
HEAT_KEY: Final = "heatmap"
NET: Final = "net = equity change"


def attribution_table(data: ResultData) -> pd.DataFrame:
    """P&L by greek over the run: one row per component, its cash and its share of |total|."""
    attr = data.options.attribution
    total = attr[list(COMPONENTS)].sum()
    net = float(total.sum())
    gross = float(total.abs().sum()) or 1.0
    rows = [{"component": c, "pnl": float(total[c]), "share": f"{abs(total[c]) / gross:.1%}"} for c in COMPONENTS]
    rows.append({"component": NET, "pnl": net, "share": ""})
    return pd.DataFrame(rows)


def legs_view(legs: pd.DataFrame) -> pd.DataFrame:
    """The legs as shown: stamps as dates when they are whole days, the columns a trader reads."""
    out = legs[[c for c in LEG_COLUMNS if c in legs.columns]].copy()
    for col in ("expiry", "entry_time", "exit_time"):
        stamps = pd.DatetimeIndex(out[col])
        if len(stamps) and (stamps == stamps.normalize()).all():
            out[col] = stamps.strftime("%Y-%m-%d")
    return out


def _notice(data: ResultData) -> None:
    prices = str(data.assumptions.get("prices", ""))
    if "synthetic" in prices:
        st.warning(f"**Prices are synthetic** — {prices}: Black-Scholes on the underlying's realised "
                   "vol; no option was quoted at these prices.")  # fmt: skip
    else:
        st.info(f"Prices: {prices}. " + str(data.assumptions.get("missing_quotes", "")))


def render(data: ResultData, prefix: str) -> None:
    """The Options tab of one run."""
    _notice(data)
    opt = data.options
    if opt is None:
        st.info("P&L by greek, the greeks and the legs are kept for runs made in this session: "
                "re-run this saved run (Run history) to see them.")  # fmt: skip
        return
    st.markdown("**P&L by greek** — a Taylor step per bar from the previous greeks; the residual is "
                "the rest (higher orders, carry, expiry settlement)")  # fmt: skip
    table = attribution_table(data)
    left, right = st.columns([3.4, 5])  # wide enough for "net = equity change" and the share
    left.dataframe(
        table, hide_index=True, key=f"{prefix}:opt:attribution", width="stretch",
        column_config={"component": st.column_config.TextColumn("component", width="medium"),
                       "pnl": st.column_config.NumberColumn("P&L", format="accounting"),  # 5,163.41 / (5,163.41)
                       "share": st.column_config.TextColumn("share", width="small", help="Share of the gross P&L (sum of |component|).")},
    )  # fmt: skip
    with right:
        cum = {c: opt.attribution[c].cumsum().rename(c) for c in COMPONENTS}
        ui.show_chart(
            ui.memo("opt_figs", (data.run_id, id(opt), "attr"),
                    lambda: charts.lines_chart(cum, title="Cumulative P&L by greek", height=300, tz=data.tz,
                                               y_title=charts.money_title("P&L", data.currency))),
            key=f"{prefix}:opt:chart:attribution",
        )  # fmt: skip
    g = opt.greeks
    cur = data.currency or charts.DEFAULT_CURRENCY
    # three units, three panels: delta in shares, vega per vol point and theta per day in money
    greeks = {
        "Delta (shares)": g["delta"],
        f"Vega ({cur} per vol pt)": g["vega"] / 100.0,
        f"Theta ({cur} per day)": g["theta"] / 365.0,
    }
    ui.show_chart(
        ui.memo("opt_figs", (data.run_id, id(opt), "greeks"),
                lambda: charts.panels_chart(greeks, title="Portfolio greeks at each close", tz=data.tz)),
        key=f"{prefix}:opt:chart:greeks",
    )  # fmt: skip
    st.markdown(f"**Legs** — {len(opt.legs)} legs in {len(opt.trades)} trades "
                "(contracts signed: + bought, − sold; prices per share, haircut included)")  # fmt: skip
    legs = legs_view(opt.legs)
    money = {c: st.column_config.NumberColumn(format="%.4f") for c in ("entry_price", "exit_price", "entry_delta", "entry_gamma")}
    money.update(strike=st.column_config.NumberColumn(format="%.2f"), entry_iv=st.column_config.NumberColumn(format="%.4f"),
                 entry_vega=st.column_config.NumberColumn(format="%.3f"), entry_theta=st.column_config.NumberColumn(format="%.3f"))
    st.dataframe(legs, hide_index=True, key=f"{prefix}:opt:legs", width="stretch", column_config=money,
                 height=min(35 * (len(legs) + 1) + 3, 420))  # fmt: skip
    if "structure_reason" in opt.trades.columns:
        st.markdown("**Why each structure** (structure = auto)")
        st.dataframe(opt.trades[["entry_time", "structure", "structure_reason"]], hide_index=True,
                     key=f"{prefix}:opt:reasons", width="stretch")  # fmt: skip
    _heatmap(data, prefix)


def _sensitivity(data: ResultData) -> pd.DataFrame:
    from phi.options.sensitivity import (
        DEFAULT_HAIRCUTS,
        DEFAULT_IV_MULTIPLIERS,
        options_sensitivity,
        sensitivity_grid,
    )

    engine = dataclasses.replace(data.config.engine, warmup_bars=data.warmup)
    ivs = DEFAULT_IV_MULTIPLIERS if data.config.options.chain is None else (1.0,)
    table = options_sensitivity(data.frame, data.signal, data.config.options, engine,
                                iv_multipliers=ivs, haircuts=DEFAULT_HAIRCUTS)  # fmt: skip
    return sensitivity_grid(table, "final_equity")


def heatmap_figure(grid: pd.DataFrame, initial: float, prices: str = "synthetic prices") -> go.Figure:
    """Final equity by IV multiplier (rows) x bid-ask haircut (columns), annotated."""
    z = grid.to_numpy(dtype=np.float64)
    x = [f"{h:.0%}" for h in grid.columns]
    y = [f"x{m:g}" for m in grid.index]
    text = [[f"{v:,.0f}<br>{v / initial - 1:+.1%}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=x, y=y, text=text, texttemplate="%{text}", colorscale="Cividis",
                               colorbar={"title": "final equity"},
                               hovertemplate="IV %{y}, haircut %{x}: %{z:,.2f}<extra></extra>"))  # fmt: skip
    fig.update_layout(**PLOTLY_LAYOUT)
    fig.update_layout(
        title={"text": f"Final equity by IV multiplier x bid-ask haircut ({prices})", "font": {"size": 14}, "x": 0.01},
        height=340, xaxis_title="bid-ask haircut per fill", yaxis_title="IV multiplier",
    )  # fmt: skip
    fig.update_xaxes(type="category", automargin=True, title_standoff=6)
    fig.update_layout(margin={"b": 60})
    fig.update_yaxes(type="category", automargin=True, title_standoff=12)
    return fig


def _heatmap(data: ResultData, prefix: str) -> None:
    st.markdown("**Sensitivity** — the same run with dearer or cheaper vol and wider spreads")
    if data.frame is None or data.signal is None:
        st.info("The bars of this run are not loaded (the sensitivity grid needs them).")
        return
    store: dict[Any, pd.DataFrame] = st.session_state.setdefault(f"{prefix}:opt:grids", {})
    key = (data.run_id, id(data.equity))
    runs = 16 if data.config.options.chain is None else 4
    if key not in store and st.button(f"Compute the sensitivity heatmap ({runs} runs)", key=f"{prefix}:opt:heat_go"):
        with st.spinner("Running the grid ..."):
            store.clear()
            grid = ui.attempt(_sensitivity, data)  # its runs' warnings once, its failure in one line
        if not isinstance(grid, ui.Failed):
            store[key] = grid
    if key in store:
        st.plotly_chart(heatmap_figure(store[key], data.initial_capital,
                                        "synthetic prices" if data.config.options.chain is None else "the chain's mids -/+ the haircut"), key=f"{prefix}:opt:chart:{HEAT_KEY}",
                        theme=None, config={"displaylogo": False})  # fmt: skip
