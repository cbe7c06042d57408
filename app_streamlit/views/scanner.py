"""Scanner page (the seed's "Phi-Bot" universe scanner): the regime engine on every symbol of a
universe, ranked, with a heatmap of the regime probabilities on each symbol's last bar.

Everything is computed by :func:`phi.scanner.scan`; this page only collects the request and
draws the result. The ranked table's columns all fit 1280 px; each symbol's top species, bars
and level-2 features are in an expander below it. Level-2 columns show "unavailable" (never 0)
without a quote source.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_streamlit import charts, forms, styles, ui

FORM = "scan:form"
SYMBOLS = "scan:symbols"
VENDOR = "scan:vendor"
TIMEFRAME = "scan:timeframe"
START = "scan:start"
END = "scan:end"
RANK_BY = "scan:rank_by"
L2 = "scan:l2"
RESULT = "scan:result"
GO = "scan:go"
#: the request the shown scan ran with (form_request), and whether the last Scan failed
RAN = "scan:ran"
FAILED = "scan:failed"
VENDORS = ("demo", "yfinance", "alpha_vantage")
TIMEFRAMES = ("1D", "4H", "1H", "15m", "5m", "1m")
RANKS: dict[str, str] = {"score": "score (highest first)", "abs_score": "|score| (strongest either way)",
         "composite": "composite", "confidence": "confidence"}  # fmt: skip


def heatmap_chart(heat: pd.DataFrame, *, height: int | None = None) -> charts.Chart:
    """Symbols x regimes, the probability in each cell (colour-blind-safe Viridis scale)."""
    fig = go.Figure(
        go.Heatmap(
            z=heat.to_numpy(), x=list(heat.columns), y=list(heat.index), zmin=0.0, zmax=1.0, colorscale="Viridis",
            texttemplate="%{z:.0%}", hovertemplate="%{y} %{x}: %{z:.1%}<extra></extra>",  # as its colour bar
            colorbar={"title": "P", "tickformat": ".0%"},
        )
    )  # fmt: skip
    fig.update_layout(**styles.PLOTLY_LAYOUT)
    fig.update_layout(
        title={"text": "Regime probabilities on each symbol's last bar", "font": {"size": 14}, "x": 0.01},
        height=height or max(260, 60 + 34 * len(heat)),
    )
    fig.update_yaxes(autorange="reversed", gridcolor=styles.PLOTLY_LAYOUT["yaxis"]["gridcolor"])
    # each regime's name on two lines at its underscore: "BREAKOUT_UP" and "BREAKOUT_DN" side by
    # side ran into each other at 1280 px
    names = [str(c) for c in heat.columns]
    fig.update_xaxes(tickmode="array", tickvals=names, ticktext=[n.replace("_", "_<br>", 1) for n in names],
                     automargin=True)
    return charts.Chart(fig)


#: the ranked table's columns: all on screen at 1280 px (the sidebar open) without a horizontal
#: scroll; each symbol's top species, bar count and level-2 features are in the expander below
MAIN_COLUMNS = ("rank", "symbol", "score", "composite", "confidence", "field conf.", "consensus", "liquidity",
                "dominant regime", "its prob.", "last bar")  # fmt: skip
SPECIES_COLUMNS = ("symbol", "top species", "bars")
DETAILS_LABEL = "Top species, bars and level-2 quote features of each symbol"
SPECIES_HELP = "The three most probable species on the last bar (id, regime/volatility, probability)."
#: (label, help) of each column of the ranked table (shorter labels; the meaning in the help)
SHORT: dict[str, tuple[str, str]] = {
    "rank": ("#", "Rank by the chosen order (1 = first)."),
    "score": ("score", "Regime score, −1 (sell) to +1 (buy)."),
    "composite": ("composite", "The regime engine's composite signal, −1 (sell) to +1 (buy)."),
    "confidence": ("confidence", "Overall confidence, 0 to 1."),
    "field conf.": ("field conf.", "Field confidence: 1 − the entropy of the regime probabilities (1: one clear regime), 0 to 1."),
    "consensus": ("consensus", "Consensus confidence: how far the experts agree on the direction, 0 to 1."),
    "liquidity": ("liquidity", "Liquidity confidence (volume and gaps), 0 to 1."),
    "dominant regime": ("regime", "The most probable regime on the last bar."),
    "its prob.": ("its prob.", "The dominant regime's probability on the last bar."),
    "last bar": ("last bar", "Date of the last bar; (cached) when the bars came from the cache."),
}


def main_columns() -> dict[str, Any]:
    """Labels, help, formats and widths of the ranked table's columns."""
    out: dict[str, Any] = {}
    for col, (name, help_) in SHORT.items():
        if col in ("score", "composite", "confidence", "field conf.", "consensus", "liquidity", "its prob."):
            out[col] = st.column_config.NumberColumn(name, format="%.3f", help=help_)  # 0.160 under 0.097, not 0.16
        elif col == "rank":
            out[col] = st.column_config.NumberColumn(name, help=help_, width=36)
        else:
            out[col] = st.column_config.TextColumn(name, help=help_)
    return out


#: the level-2 columns' labels and help (values "unavailable", never 0, without a quote source)
L2_LABELS: dict[str, Any] = {
    "book_imbalance": st.column_config.TextColumn("book imbalance", help="Bid size / (bid + ask size) at the best quotes, 0 to 1."),
    "spread_bps": st.column_config.TextColumn("spread (bps)", help="(ask − bid) / mid × 10,000."),
    "ofi": st.column_config.TextColumn("OFI", help="Order-flow imbalance: mean / std of recent signed trade sizes, −5 to +5."),
    "depth_ratio": st.column_config.TextColumn("depth ratio", help="Best-quote depth (bid + ask size) / its recent mean, 0 to 10."),
    "depth_trend": st.column_config.TextColumn("depth trend", help="Slope of the best-quote depth per quote update (shares)."),
}


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The ranked table as shown: rounded numbers, L2 columns 'unavailable' when missing."""
    from phi.scanner import L2_COLUMNS

    out = table.copy()
    out["last bar"] = [f"{t:%Y-%m-%d}" + (" (cached)" if c else "") for t, c in zip(out["last_bar"], out["from_cache"], strict=True)]
    for col in ("score", "composite", "confidence", "c_field", "c_consensus", "c_liquidity", "dominant_prob"):
        out[col] = out[col].round(3)
    for col in L2_COLUMNS:
        out[col] = [f"{v:.3f}" if isinstance(v, float) and math.isfinite(v) else "unavailable" for v in out[col]]
    return out.drop(columns=["last_bar", "from_cache", "synthetic"]).rename(
        columns={"c_field": "field conf.", "c_consensus": "consensus", "c_liquidity": "liquidity",
                 "dominant_regime": "dominant regime", "dominant_prob": "its prob.", "top_species": "top species"}
    )  # fmt: skip


def _form() -> bool:
    """The scan's settings and the Scan button (True when pressed). No ``st.form``: each field is
    a plain widget whose value is kept (:func:`app_streamlit.ui.kept`) across trips to other pages
    without pressing Scan; a shown scan the fields no longer describe is marked (see render)."""
    from phi.scanner import DEFAULT_UNIVERSE

    today = dt.date.today()
    with st.container(border=True, key=FORM):
        st.text_input("Symbols", help="Tickers separated by commas or spaces.", **ui.kept(SYMBOLS, ", ".join(DEFAULT_UNIVERSE)))
        c = st.columns(5)
        c[0].selectbox("Vendor", VENDORS, help="demo: synthetic data, generated locally (offline).", **ui.kept(VENDOR, VENDORS[0]))
        c[1].selectbox("Timeframe", TIMEFRAMES, **ui.kept(TIMEFRAME, TIMEFRAMES[0]))
        c[2].date_input("Start", min_value=forms.MIN_DATE, max_value=forms.MAX_DATE, **ui.kept(START, today - dt.timedelta(days=730)))
        c[3].date_input("End", min_value=forms.MIN_DATE, max_value=forms.MAX_DATE, **ui.kept(END, today))
        c[4].selectbox("Rank by", tuple(RANKS), format_func=lambda k: RANKS.get(str(k), str(k)), **ui.kept(RANK_BY, "score"))
        st.checkbox("Level-2 quote features (Polygon stream; needs POLYGON_API_KEY)", **ui.kept(L2, False))
        return st.button("Scan", key=GO, type="primary")


def form_request(s: Any) -> dict[str, Any]:
    """The scan the fields describe now."""
    return {"symbols": s.get(SYMBOLS, ""), "vendor": s.get(VENDOR), "timeframe": s.get(TIMEFRAME), "start": str(s.get(START)),
            "end": str(s.get(END)), "rank_by": s.get(RANK_BY), "l2": bool(s.get(L2))}  # fmt: skip


def described(request: dict[str, Any]) -> dict[str, str]:
    """A scan request in the page's words (symbols as scanned: upper-cased, without repeats)."""
    from phi.scanner import parse_symbols

    return {"symbols": " ".join(parse_symbols(str(request.get("symbols") or ""))) or "none", "vendor": str(request.get("vendor")),
            "timeframe": str(request.get("timeframe")), "start": str(request.get("start")), "end": str(request.get("end")),
            "rank by": RANKS.get(str(request.get("rank_by")), str(request.get("rank_by"))),
            "level-2 quotes": "on" if request.get("l2") else "off"}  # fmt: skip


def run_scan(request: dict[str, Any]) -> Any:
    """Scan with a progress bar (phi does the work)."""
    from phi.scanner import parse_symbols, scan

    names = parse_symbols([request["symbols"]])
    l2_source, l2_status = None, None
    if request.get("l2"):
        from phi.data.l2 import scanner_source

        l2_source, l2_status = scanner_source(names)
    bar = st.progress(0.0, text="Scanning ...")

    def progress(sym: str, done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Scanning {sym} ({done + 1}/{total}) ..." if sym else "Done")

    try:
        return scan(names, vendor=request["vendor"], timeframe=request["timeframe"], start=request["start"],
                    end=request["end"], rank_by=request["rank_by"], l2=l2_source, l2_status=l2_status, progress=progress)  # fmt: skip
    finally:
        bar.empty()


#: Failed symbols shown one warning each; more are one warning and a list in an expander
FAILURE_LINES = 3


def _failures(failures: list[tuple[str, str]]) -> None:
    """Each skipped symbol with its reason: a warning each for a few, else one warning naming
    them and every reason in an expander (dozens of warnings pushed the ranking off screen)."""
    if len(failures) <= FAILURE_LINES:
        for sym, reason in failures:
            st.warning(f"{ui.md_text(sym)} skipped: {ui.md_text(reason)}", icon=":material/warning:")
        return
    names = ", ".join(sym for sym, _ in failures[:FAILURE_LINES])
    st.warning(f"{len(failures)} symbols skipped: {ui.md_text(names)}, ... (each reason below)", icon=":material/warning:")
    with st.expander(f"Why the {len(failures)} symbols were skipped"):
        st.markdown("  \n".join(f"{ui.md_text(sym)}: {ui.md_text(reason)}" for sym, reason in failures))


def show_result(result: Any, key: str = "scan") -> None:
    """Ribbon, ranked table, heatmap and failures of a :class:`phi.scanner.ScanResult`."""
    table = result.table()
    _failures(result.failures)
    if table.empty:
        st.info("No symbol could be scanned; the reasons are above.")
        return
    top = table.iloc[0]
    # NaN when the engine had no score (ranked last, so first only when all are): said, not "+nan"
    score = float(top["score"])
    top_score = f"{score:+.3f}" if math.isfinite(score) else "no score"
    tone = (1 if score > 0 else -1) if math.isfinite(score) and score != 0 else 0
    ui.ribbon(
        [
            ("scanned", f"{len(table)}", 0),
            ("failed", f"{len(result.failures)}", -1 if result.failures else 0),
            ("top symbol", f"{top['symbol']} ({top_score})", tone),
            ("its regime", str(top["dominant_regime"]), 0),
        ]
    )
    if bool(table["synthetic"].any()):
        st.caption("SYNTHETIC demo data — generated locally, not market prices.")
    st.caption(f"Ranked by {RANKS.get(result.rank_by, result.rank_by)}; score and composite run from −1 (sell) to +1 (buy); "
               f"confidences from 0 to 1. {result.l2_status}.")  # fmt: skip
    from phi.scanner import L2_COLUMNS

    shown = display_table(table)
    st.dataframe(shown[list(MAIN_COLUMNS)], hide_index=True, key=f"{key}:table", column_config=main_columns())
    with st.expander(DETAILS_LABEL, key=f"{key}:details"):
        st.dataframe(shown[list(SPECIES_COLUMNS)], hide_index=True, key=f"{key}:species",
                     column_config={"top species": st.column_config.TextColumn(help=SPECIES_HELP)})  # fmt: skip
        st.dataframe(shown[["symbol", *L2_COLUMNS]], hide_index=True, key=f"{key}:l2", column_config=L2_LABELS)
    ui.show_chart(heatmap_chart(result.heatmap()), key=f"{key}:heatmap")


def render() -> None:
    st.subheader("Scanner — regime engine across a universe")
    st.caption("Each symbol's regime score, confidences, dominant regime and most probable species on its last bar, ranked. "
               "Cached bars are reused; a symbol that fails is reported and the scan goes on.")  # fmt: skip
    go = _form()
    request = form_request(st.session_state)
    if go:
        result = ui.attempt(run_scan, request)
        st.session_state[FAILED] = isinstance(result, ui.Failed)
        if not isinstance(result, ui.Failed):
            st.session_state[RESULT], st.session_state[RAN] = result, request
    result = st.session_state.get(RESULT)
    if result is None:
        st.info("Choose symbols and press Scan.")
        return
    ran = st.session_state.get(RAN)
    reasons = ui.changed(described(ran), described(request)) if ran else []
    ui.outdated("scan", "Scan", reasons, failed=bool(st.session_state.get(FAILED)), said_above=go)
    show_result(result)


# ---------------------------------------------------------------------------- a preset's backtest

PHIBOT_FORM = "scan:phibot_form"
PHIBOT_RESULT = "scan:phibot"


def show_run_summary(result: Any, key: str, caption: str = "") -> None:
    """KPIs and the equity/drawdown chart of one backtest (used by the PhiBot and Plutus panels);
    a line says so when it ran on another dataset than the one loaded now."""
    from app_streamlit import forms, state

    cfg_ds = getattr(getattr(result, "config", None), "dataset", None)
    loaded = st.session_state.get(forms.DATASET_SPEC)
    if cfg_ds is not None and loaded:
        ran = {"vendor": cfg_ds.vendor, "symbol": cfg_ds.symbol, "timeframe": cfg_ds.timeframe,
               "start": cfg_ds.start, "end": cfg_ds.end, "path": cfg_ds.path}  # fmt: skip
        if state.dataset_differences(loaded, ran):
            st.warning(f"This backtest ran on {state.describe(ran)}, not on the dataset loaded now "
                       f"({state.describe(loaded)}); run it again to update.", icon=":material/history:")  # fmt: skip
    m = result.metrics
    ui.ribbon(
        [
            ("total return", ui.fmt_value(m.get("total_return"), "pct"), 1 if (m.get("total_return") or 0) > 0 else -1),
            ("Sharpe", ui.fmt_value(m.get("sharpe")), 0),
            ("max drawdown", ui.fmt_value(m.get("max_drawdown"), "pct"), -1),
            ("trades", ui.fmt_value(m.get("n_trades"), "int"), 0),
        ]
    )
    run_id = getattr(result, "run_id", None)
    if caption or run_id:
        st.caption(caption + (f" · saved as run {run_id}" if run_id else ""))
    initial = float(result.config.engine.initial_capital) if getattr(result, "config", None) else 100_000.0
    ui.show_chart(charts.equity_chart(result.equity, initial), key=f"{key}:equity")


def run_phibot(spec: dict[str, Any]) -> Any:
    """The catalogue's PhiBot preset on the loaded dataset (phi.strategies does the work)."""
    from phi.backtest.run_config import DatasetSpec
    from phi.strategies import run_preset

    ds = DatasetSpec(spec["symbol"], spec["vendor"], spec["timeframe"], spec["start"], spec["end"], path=spec.get("path"))
    return run_preset("PhiBot", ds)


def phibot_backtest() -> None:
    """Phi-Bot's backtest: the PhiBot preset (regime composite with its confidence gate) on the
    dataset loaded in the sidebar, with its prediction scorecard."""
    from app_streamlit import forms

    st.markdown("**PhiBot backtest** — the regime engine's composite, traded when |composite| and confidence pass their gates")
    ds = st.session_state.get(forms.DATASET)
    if ds is None:
        st.info("Load a dataset in the sidebar first; PhiBot trades it.")
        return
    spec = st.session_state.get(forms.DATASET_SPEC, {})
    with st.form(PHIBOT_FORM):
        st.caption(f"On {spec.get('symbol')} {spec.get('timeframe')} {spec.get('start')} .. {spec.get('end')} "
                   f"({spec.get('vendor')}); defaults |composite| >= 0.15 and confidence >= 0.30.")  # fmt: skip
        go_ = st.form_submit_button("Run PhiBot backtest")
    if go_:
        out = ui.attempt(run_phibot, spec)
        if not isinstance(out, ui.Failed):
            st.session_state[PHIBOT_RESULT] = out
    out = st.session_state.get(PHIBOT_RESULT)
    if out is None:
        return
    card = out.scorecard or {}
    acc = card.get("accuracy")
    text = f"Prediction accuracy {ui.fmt_value(acc, 'rate')}" if acc is not None else ""
    if ds.synthetic:
        text = f"SYNTHETIC demo data · {text}" if text else "SYNTHETIC demo data"
    show_run_summary(out.result, "scan:phibot", text)
    if out.save_error:
        st.warning(f"Not saved: {out.save_error}")
