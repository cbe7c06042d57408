"""Batch page: a preset (or an indicator) over a parameter grid and a symbol universe, run as a
batch on local Dask workers, in this process or on a Dask scheduler; then the best combination
per symbol, the metric's distribution across the universe and every run in the run history.

Everything is done by :mod:`phi.batch` (the same as ``phi batch sweep``); this page collects the
request, shows progress and draws the result.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_streamlit import charts, forms, styles, ui

FORM = "batch:form"
STRATEGY = "batch:strategy"
SYMBOLS = "batch:symbols"
VENDOR = "batch:vendor"
TIMEFRAME = "batch:timeframe"
START = "batch:start"
END = "batch:end"
GRID = "batch:grid"
METRIC = "batch:metric"
WHERE = "batch:where"
WORKERS = "batch:workers"
SCHEDULER = "batch:scheduler"
FORCE = "batch:force"
RESULT = "batch:result"
GO = "batch:go"
#: True while the last Run batch failed (its reason is shown above the previous batch)
FAILED = "batch:failed"
DEFAULT_SYMBOLS = "DEMO, DEMO2, DEMO3, DEMO4, DEMO5"
DEFAULT_GRID = "period=7..28:7"
VENDORS = ("demo", "yfinance", "alpha_vantage")
TIMEFRAMES = ("1D", "4H", "1H", "15m", "5m", "1m")
WHERES: dict[str, str] = {"local": "local workers (Dask)", "inline": "this process (no Dask)",
                          "scheduler": "a Dask scheduler"}  # fmt: skip
#: Metrics offered for ranking (phi.batch.runner.OUTCOME_METRICS) with their labels.
METRICS: dict[str, str] = {"sharpe": "Sharpe", "sortino": "Sortino", "total_return": "total return",
                           "cagr": "CAGR", "max_drawdown": "max drawdown", "win_rate": "win rate"}  # fmt: skip
_PCT = ("total_return", "cagr", "max_drawdown", "win_rate")


def strategies() -> list[str]:
    """Presets (``phi strategies``) that run on one symbol, then the registry's indicators."""
    import phi.strategies
    from phi.indicators.registry import INDICATORS

    presets = [p.name for p in phi.strategies.list() if getattr(p, "family", "") != "rotation"]
    return presets + [n for n in INDICATORS if n not in {p.lower() for p in presets}]


def _form() -> bool:
    """The batch's settings and the Run batch button (True when pressed). No ``st.form``: each
    field is a plain widget whose value is kept (:func:`app_streamlit.ui.kept`) across trips to
    other pages without pressing Run batch; a shown batch the fields no longer describe is
    marked (see render)."""
    from phi.batch.runner import max_local_workers  # what phi allows on this machine

    today = dt.date.today()
    names = strategies()
    with st.container(border=True, key=FORM):
        top = st.columns([2, 3, 3])
        top[0].selectbox("Preset or indicator", names, **ui.kept(STRATEGY, "RSI" if "RSI" in names else names[0], options=names),
                         help="A strategy preset (its indicators, blend and engine settings) or one registry indicator with its defaults.")  # fmt: skip
        top[1].text_input("Symbols", help="Tickers separated by commas or spaces (demo: synthetic bars for any name).", **ui.kept(SYMBOLS, DEFAULT_SYMBOLS))
        top[2].text_input("Parameter grid", **ui.kept(GRID, DEFAULT_GRID),
                          help="As phi batch sweep --grid: name=first..last:step or name=a,b,c; several names give their "
                               "cross product; macd.fast=... when several indicators have the parameter.")  # fmt: skip
        c = st.columns(5)
        c[0].selectbox("Vendor", VENDORS, help="demo: synthetic data, generated locally (offline).", **ui.kept(VENDOR, VENDORS[0], options=VENDORS))
        c[1].selectbox("Timeframe", TIMEFRAMES, **ui.kept(TIMEFRAME, TIMEFRAMES[0], options=TIMEFRAMES))
        c[2].date_input("Start", min_value=forms.MIN_DATE, max_value=forms.MAX_DATE, **ui.kept(START, today - dt.timedelta(days=3 * 365)))
        c[3].date_input("End", min_value=forms.MIN_DATE, max_value=forms.MAX_DATE, **ui.kept(END, today))
        c[4].selectbox("Best by", tuple(METRICS), format_func=lambda k: METRICS.get(str(k), str(k)), **ui.kept(METRIC, "sharpe", options=METRICS))
        low = st.columns([2, 1, 2, 1], vertical_alignment="bottom")
        low[0].selectbox("Run on", tuple(WHERES), format_func=lambda k: WHERES.get(str(k), str(k)), **ui.kept(WHERE, "local", options=WHERES))
        where = st.session_state.get(WHERE)  # the fields another choice ignores are greyed out
        most = max_local_workers()
        low[1].number_input("Local workers", 1, most, **ui.kept(WORKERS, min(2, os.cpu_count() or 1, most), lo=1, hi=most),
                            disabled=where != "local",
                            help=f"Worker processes on this machine (at most {most}: each one loads phi).")  # fmt: skip
        low[2].text_input("Scheduler address", placeholder="tcp://host:8786", **ui.kept(SCHEDULER, ""),
                          disabled=where != "scheduler",
                          help="Used with 'a Dask scheduler'; its workers need phi installed and the same PHI_HOME.")  # fmt: skip
        low[3].checkbox("Re-run saved", help="Run configs that already have a saved run (same config hash) again.", **ui.kept(FORCE, False))
        return st.button("Run batch", key=GO, type="primary")


def form_request(s: Any) -> dict[str, Any]:
    """The batch the fields describe now."""
    return {"strategy": s.get(STRATEGY), "symbols": s.get(SYMBOLS, ""), "grid": s.get(GRID, ""), "vendor": s.get(VENDOR),
            "timeframe": s.get(TIMEFRAME), "start": str(s.get(START)), "end": str(s.get(END)), "metric": s.get(METRIC),
            "where": s.get(WHERE), "workers": int(s.get(WORKERS) or 1), "scheduler": str(s.get(SCHEDULER) or "").strip(),
            "force": bool(s.get(FORCE))}  # fmt: skip


def described(request: dict[str, Any]) -> dict[str, str]:
    """A batch request in the page's words; the workers only when run on local workers, the
    address only on a scheduler (else they are not used)."""
    from phi.scanner import parse_symbols

    where = str(request.get("where"))
    out = {"preset or indicator": str(request.get("strategy")),
           "symbols": " ".join(parse_symbols(str(request.get("symbols") or ""))) or "none",
           "parameter grid": " ".join(str(request.get("grid") or "").split()) or "(none)", "vendor": str(request.get("vendor")),
           "timeframe": str(request.get("timeframe")), "start": str(request.get("start")), "end": str(request.get("end")),
           "best by": METRICS.get(str(request.get("metric")), str(request.get("metric"))), "run on": WHERES.get(where, where)}  # fmt: skip
    if where == "local":
        out["local workers"] = str(request.get("workers"))
    if where == "scheduler":
        out["scheduler address"] = str(request.get("scheduler") or "(empty)")
    return out | {"re-run saved": "on" if request.get("force") else "off"}


def build_configs(request: dict[str, Any]) -> tuple[list[Any], list[str], list[str]]:
    """``(configs, grid parameter names, symbols)``; a bad combination stays as its error."""
    from phi.batch import parse_grid, sweep_configs
    from phi.errors import ConfigError
    from phi.scanner import parse_symbols

    symbols = parse_symbols([request["symbols"]])
    if not symbols:
        raise ConfigError("no symbols: type at least one ticker")
    spec = parse_grid(request["grid"]) if request["grid"].strip() else {}
    configs: list[Any] = sweep_configs(  # a symbol that cannot be a dataset stays as its error
        symbols, request["strategy"], spec, request["vendor"], request["timeframe"], request["start"], request["end"]
    )
    if configs and all(isinstance(c, ConfigError) for c in configs):  # nothing could run: say why once
        reasons = list(dict.fromkeys(_reason(str(c), symbols) for c in configs))
        more = f" (and {len(reasons) - 1} other reason(s))" if len(reasons) > 1 else ""
        raise ConfigError(f"no config of this batch can run: {reasons[0]}{more}")
    return configs, list(spec), symbols


def _reason(error: str, symbols: list[str]) -> str:
    """A config's error without its leading ``"SYMBOL: "`` (the same reason for every symbol)."""
    for sym in symbols:
        if error.startswith(f"{sym}: "):
            return error[len(sym) + 2 :]
    return error


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Build the configs and run the batch under a progress bar."""
    from phi.batch import run_batch, sweep_summary
    from phi.errors import ConfigError

    configs, params, symbols = build_configs(request)
    scheduler: str | None = None
    if request["where"] == "inline":
        scheduler = "inline"
    elif request["where"] == "scheduler":
        if not request["scheduler"]:
            raise ConfigError("no scheduler address: type one (e.g. tcp://host:8786) or run on local workers")
        scheduler = request["scheduler"]
    where = WHERES[request["where"]] + (f" ({request['workers']})" if request["where"] == "local" else "")
    bar = st.progress(0.0, text=f"{len(configs)} config(s) on {where}: starting ...")
    failed = 0

    def progress(done: int, total: int, outcome: Any) -> None:
        nonlocal failed
        failed += outcome.status == "failed"
        bar.progress(done / max(total, 1), text=f"{done} of {total} done on {where}" + (f", {failed} failed" if failed else ""))

    try:
        result = run_batch(configs, scheduler=scheduler, n_workers=request["workers"], force=request["force"], progress=progress)
    finally:
        bar.empty()
    return {"result": result, "summary": sweep_summary(result, request["metric"]), "params": params,
            "symbols": symbols, "request": request}  # fmt: skip


def best_table(summary: Any, params: list[str]) -> pd.DataFrame:
    """One row per symbol: its best combination, headline metrics and run id."""
    best = summary.best.reset_index()
    cols = ["symbol", *[p for p in params if p in best], *[p.split(".")[-1] for p in params if p not in best and p.split(".")[-1] in best]]
    out = best[cols + [m for m in ("total_return", "sharpe", "max_drawdown", "n_trades") if m in best] + ["run_id"]].copy()
    for m in _PCT:
        if m in out:
            out[m] = 100 * out[m].astype(float)
    return out


def _column_config() -> dict[str, Any]:
    return {
        "total_return": st.column_config.NumberColumn("return %", format="%.2f"),
        "max_drawdown": st.column_config.NumberColumn("max DD %", format="%.2f"),
        "sharpe": st.column_config.NumberColumn("Sharpe", format="%.3f"),
        "sortino": st.column_config.NumberColumn("Sortino", format="%.3f"),
        "cagr": st.column_config.NumberColumn("CAGR %", format="%.2f"),
        "win_rate": st.column_config.NumberColumn("win rate %", format="%.1f"),
        "n_trades": st.column_config.NumberColumn("trades", format="%d"),
        "final_equity": st.column_config.NumberColumn("final equity", format="accounting"),
        "run_id": st.column_config.TextColumn("run id"),
    }


def distribution_table(summary: Any) -> pd.DataFrame:
    """The metric's count, mean, quantiles and share above 0, over all runs and over the bests."""
    dist = summary.distribution.copy()
    scale = 100.0 if summary.metric in _PCT else 1.0
    for col in dist.columns:
        if col == "count":
            dist[col] = dist[col].astype(int)
        elif col == "share > 0":
            dist[col] = (100 * dist[col].astype(float)).round(0)
        else:
            dist[col] = (scale * dist[col].astype(float)).round(3)
    return dist.rename(columns={"share > 0": "% > 0"}).rename_axis("over").reset_index()


def distribution_chart(summary: Any) -> charts.Chart:
    """The metric of every run, one box per symbol (points shown), best marked."""
    rows, metric = summary.rows, summary.metric
    scale = 100.0 if metric in _PCT else 1.0
    label = METRICS.get(metric, metric) + (" %" if scale != 1.0 else "")
    fig = go.Figure()
    for sym, grp in rows.groupby("symbol", sort=True):
        fig.add_trace(go.Box(y=scale * grp[metric].astype(float), name=str(sym), boxpoints="all", jitter=0.3, pointpos=0,
                             marker={"color": styles.OI_SKY, "size": 6}, line={"color": styles.OI_ORANGE},
                             hovertemplate=f"%{{x}}: {label} %{{y:.3f}}<extra></extra>", showlegend=False))  # fmt: skip
    fig.update_layout(**styles.PLOTLY_LAYOUT)
    fig.update_layout(title={"text": f"{label} of every combination, per symbol", "font": {"size": 14}, "x": 0.01},
                      height=360, yaxis_title=label)  # fmt: skip
    return charts.Chart(fig)


def _open_in_history(run_ids: list[str]) -> None:
    """Button callback: the Run history page with these runs picked for comparison."""
    from app_streamlit import forms
    from app_streamlit.views import history

    st.session_state[history.COMPARE] = run_ids
    st.session_state[history.SELECTED] = run_ids[0]
    st.session_state[forms.NAV] = "Run history"


def show(data: dict[str, Any]) -> None:
    """Ribbon, best per symbol, distribution, failures and every run of a finished batch."""
    result, summary, params = data["result"], data["summary"], data["params"]
    ok, failed, skipped = result.ok, result.failed, result.skipped
    metric = METRICS.get(summary.metric, summary.metric)
    best = summary.best
    top = best[summary.metric].astype(float).idxmax() if len(best) else None
    cards = [
        ("configs", f"{len(result.outcomes)}", 0),
        ("run", f"{len(ok)}", 0),
        ("already saved", f"{len(skipped)}", 0),
        ("failed", f"{len(failed)}", -1 if failed else 0),
        ("time", f"{result.seconds:.1f} s on {result.n_workers} worker(s)", 0),
        *([("of which starting them", f"{result.startup_seconds:.1f} s", 0)] if result.startup_seconds else []),
    ]
    if top is not None:
        value = float(best.loc[top, summary.metric])
        shown = f"{100 * value:.2f} %" if summary.metric in _PCT else f"{value:.3f}"
        cards.append((f"best {metric}", f"{top} {shown}", 1 if value > 0 else -1))
    ui.ribbon(cards)
    where = "this process" if result.scheduler == "inline" else f"Dask scheduler {result.scheduler}"
    if result.startup_seconds:
        where = f"a local Dask cluster started for this batch ({result.scheduler})"
    st.caption(f"{data['request']['strategy']} on {len(data['symbols'])} symbol(s), {data['request']['start']}..{data['request']['end']} "
               f"{data['request']['timeframe']} ({data['request']['vendor']}); grid {data['request']['grid'] or '(none)'}; ran on {where}. "
               "Configs already in the run history (same config hash) are not run again: they count with their saved metrics.")  # fmt: skip
    if data["request"]["vendor"] == "demo":
        st.caption("SYNTHETIC demo data — generated locally, not market prices.")
    reasons: dict[str, list[Any]] = {}  # one line per reason, not one per config (end < start fails them all alike)
    for o in failed:
        reasons.setdefault(_reason(str(o.error), list(data["symbols"])), []).append(o)
    for reason, outs in list(reasons.items())[:10]:
        which = f"#{outs[0].index} {outs[0].label}" if len(outs) == 1 else f"{len(outs)} configs failed"
        st.warning(f"{which}: {reason}", icon=":material/warning:")
    if len(reasons) > 10:
        st.warning(f"... and {len(reasons) - 10} more reason(s); every failed config is in the table of runs below.")
    unsaved = [o for o in ok if o.save_error]
    if unsaved:  # one line per reason, not one per run (a read-only PHI_HOME fails them all alike)
        for reason in dict.fromkeys(str(o.save_error) for o in unsaved):
            n = sum(str(o.save_error) == reason for o in unsaved)
            st.warning(f"{n} of {len(ok)} run(s) ran but were not saved: {ui.sentence(reason)} They are ranked "
                       "below with their metrics, without a run id (they cannot be opened in Run history).")  # fmt: skip
    if best.empty:
        if not unsaved:
            st.info("No run of this batch has a result to summarise (all failed).")
        _every_config(result, params, expanded=bool(unsaved))
        return
    st.markdown(f"**Best combination per symbol by {metric}** ({len(best)} of {len(data['symbols'])} symbols)")
    table = best_table(summary, params)
    st.dataframe(table, hide_index=True, key="batch:table:best", width="stretch", column_config=_column_config())
    saved = [str(r) for r in table["run_id"] if isinstance(r, str)]  # unsaved runs have none
    st.button("Compare these runs in Run history", key="batch:open", on_click=_open_in_history,
              args=(saved,), disabled=not saved)  # fmt: skip
    st.markdown(f"**{metric} across the universe**" + (" (%)" if summary.metric in _PCT else ""))
    dist = distribution_table(summary)
    number = {c: st.column_config.NumberColumn(c, format="%.3f") for c in dist.columns if c not in ("over", "count", "% > 0")}
    st.dataframe(dist, hide_index=True, key="batch:table:dist", width="stretch", column_config=number)
    st.caption(f"count: runs with a {metric} (a run without trades or returns has none); % > 0: the share of them above 0.")
    ui.show_chart(distribution_chart(summary), key="batch:chart:dist")
    _every_config(result, params)


def _every_config(result: Any, params: list[str], *, expanded: bool = False) -> None:
    """Every config of the batch with its status, metrics, run id and error."""
    with st.expander(f"All {len(result.outcomes)} configs and their runs", expanded=expanded):
        every = result.table()
        keep = ["index", "status", "symbol", *[p for p in params if p in every], "total_return", "sharpe", "max_drawdown",
                "n_trades", "run_id", "error"]  # fmt: skip
        every = every[[c for c in keep if c in every]].copy()
        for m in _PCT:
            if m in every:
                every[m] = 100 * every[m].astype(float)
        st.dataframe(every, hide_index=True, key="batch:table:all", width="stretch", column_config=_column_config())


def render() -> None:
    st.subheader("Batch — a parameter grid across a universe")
    st.caption("One run per symbol × combination, each saved to the run history; the best combination per symbol and "
               "the metric across the universe. Same as phi batch sweep; runs on local Dask workers, in this process "
               "or on a Dask cluster.")  # fmt: skip
    go = _form()
    request = form_request(st.session_state)
    if go:
        done = ui.attempt(run, request)
        st.session_state[FAILED] = isinstance(done, ui.Failed)
        if not isinstance(done, ui.Failed):
            st.session_state[RESULT] = done
    data: dict[str, Any] | None = st.session_state.get(RESULT)
    if data is None:
        st.info("Pick a preset, symbols and a grid, then press Run batch.")
        return
    reasons = ui.changed(described(data["request"]), described(request))
    ui.outdated("batch", "Run batch", reasons, failed=bool(st.session_state.get(FAILED)), said_above=go)
    show(data)
