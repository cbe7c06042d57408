"""Backtests: strategy presets head to head (the seed dashboard's "Backtests" tab).

Pick presets (one card each), a dataset and a benchmark; every chosen preset runs through
:func:`phi.strategies.compare` (each a full, saved run); the page shows the comparison table
sorted by a chosen metric, the equity curves overlaid (the benchmark's too) and opens any run
in the workbench's five steps with its results. No finance logic lives here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from app_streamlit import charts, forms, ui

FORM = "bt:form"
VENDOR = "bt:vendor"
SYMBOL = "bt:symbol"
TIMEFRAME = "bt:timeframe"
START = "bt:start"
END = "bt:end"
BENCHMARK = "bt:benchmark"
METRIC = "bt:metric"
CAPITAL = "bt:capital"
RESULT = "bt:result"
GO = "bt:go"
#: what the shown result was run with: {"request": the form's values, "chosen": preset names}
RAN = "bt:ran"
#: True while the last Run head to head failed (its reason is shown above the old result)
FAILED = "bt:failed"
OPEN_RUN = "bt:open_run"
#: the comparison table's columns the user picked (headers of COLUMNS, or RUN_ID)
SHOWN = "bt:columns"
OPEN = "bt:open"
VENDORS = ("demo", "yfinance", "alpha_vantage")
TIMEFRAMES = ("1D", "4H", "1H", "15m", "5m", "1m")
METRICS = ("sharpe", "total_return", "cagr", "sortino", "calmar", "max_drawdown", "win_rate", "accuracy", "edge",
           "excess_return", "information_ratio", "alpha")  # fmt: skip
#: table column -> (header, kind for ui.fmt_value)
COLUMNS: dict[str, tuple[str, str]] = {
    "total_return": ("Return", "pct"),
    "cagr": ("CAGR", "pct"),
    "sharpe": ("Sharpe", "num"),
    "max_drawdown": ("Max DD", "pct"),
    "n_trades": ("Trades", "int"),
    "win_rate": ("Win rate", "rate"),
    "exposure": ("Exposure", "rate"),
    "accuracy": ("Accuracy", "rate"),
    "edge": ("Edge", "num"),
    "excess_return": ("Excess", "pct"),
    "beta": ("Beta", "num"),
    "alpha": ("Alpha", "pct"),
    "information_ratio": ("IR", "num"),
}
#: the run id column (optional: the Open control below names every run)
RUN_ID = "run"
#: columns shown by default: the ones a trader ranks on, narrow enough for a 1440 px screen
#: without a horizontal scroll; the others are added in "Columns"
DEFAULT_COLUMNS = ("total_return", "cagr", "sharpe", "max_drawdown", "n_trades", "win_rate", "excess_return",
                   "information_ratio")  # fmt: skip
#: what each header means (its tooltip)
HELP = {"Return": "Total return over the window", "CAGR": "Compound annual growth rate",
        "Max DD": "Maximum drawdown (peak to trough)", "Trades": "Closed trades (+1 open: a position still held at the end)",
        "Win rate": "Share of closed trades with a positive P&L", "Exposure": "Share of bars in the market",
        "Accuracy": "Share of bars whose position had the sign of the next return",
        "Edge": "Mean signed next-bar return of the positions", "Excess": "Total return minus the benchmark's",
        "Beta": "Beta to the benchmark", "Alpha": "Annualised alpha against the benchmark",
        "IR": "Information ratio: annualised excess return over tracking error against the benchmark",
        RUN_ID: "Run id in the run history"}  # fmt: skip


def pick(key: str) -> str:
    """The widget key of one preset card's checkbox."""
    return f"bt:pick:{key}"


# ---------------------------------------------------------------------------- config -> the five steps


def config_values(config: Any) -> dict[str, Any]:
    """The workbench widget values that describe ``config`` (its five steps)."""
    ds, eng = config.dataset, config.engine
    from phi.backtest.costs import matching_preset

    values: dict[str, Any] = {
        forms.DS_VENDOR: ds.vendor,
        forms.DS_SYMBOL: ds.symbol,
        forms.DS_TIMEFRAME: ds.timeframe,
        forms.DS_START: dt.date.fromisoformat(ds.start),
        forms.DS_END: dt.date.fromisoformat(ds.end),
        forms.DS_CAPITAL: float(eng.initial_capital),
        forms.IND_SELECTED: [ind.name for ind in config.indicators],
        forms.BL_MODE: config.blend.mode,
        forms.EX_ENTRY: eng.entry_threshold,
        forms.EX_EXIT: eng.exit_threshold,
        forms.EX_SHORT: eng.allow_short,
        forms.EX_FILL: eng.fill,
        forms.EX_SL: 100 * (eng.stop_loss_pct or 0.0),
        forms.EX_TP: 100 * (eng.take_profit_pct or 0.0),
        forms.EX_TS: 100 * (eng.trailing_stop_pct or 0.0),
        forms.EX_TIME: int(eng.time_exit_bars or 0),
        forms.EX_SIGNAL_EXIT: eng.signal_exit,
        forms.EX_COMM_PCT: 100 * eng.commission_pct,
        forms.EX_COMM_FIXED: eng.commission_fixed,
        forms.EX_SLIP: eng.slippage_bps,
        forms.EX_SIZING: eng.sizing,
        forms.EX_SIZE_PCT: 100 * eng.size_pct,
        forms.EX_FRACTIONAL: eng.fractional,
        forms.EX_CALENDAR: eng.calendar,
        forms.EX_WARMUP: int(eng.warmup_bars),
        forms.RUN_DESCRIPTION: config.description,
        forms.RUN_TAGS: ", ".join(config.tags),
    }
    preset = matching_preset(eng.commission_pct, eng.commission_fixed, eng.slippage_bps)
    if preset is not None:
        values[forms.EX_COST_PRESET] = preset
    for name, key, scale in (("size_cash", forms.EX_SIZE_CASH, 1.0), ("size_units", forms.EX_SIZE_UNITS, 1.0),
                             ("risk_pct", forms.EX_RISK_PCT, 100.0)):  # fmt: skip
        if getattr(eng, name) is not None:
            values[key] = scale * getattr(eng, name)
    for ind in config.indicators:
        values[forms.ind_enabled(ind.name)] = ind.enabled
        values[forms.bl_weight(ind.name)] = float(ind.weight)
        for param, value in ind.params.items():
            values[forms.ind_param(ind.name, param)] = value
    return values


def _open() -> None:
    """Callback of "Open in the workbench": the run's config into the five steps, its bars loaded
    and its result shown in Results (widget state is set before any widget is drawn). The run is
    read back from the run history first (every file checked): a run deleted or damaged since
    the head to head is one error line, and nothing is opened."""
    saved = st.session_state.get(RESULT)
    chosen = st.session_state.get(OPEN_RUN)
    run = next((r for r in (saved.runs if saved else []) if r.run_id and r.run_id == chosen), None)
    if run is None:
        return
    from phi.backtest.run_history import load_run
    from phi.data.store import get_dataset

    if isinstance(ui.attempt(load_run, run.run_id, prefix=f"Cannot open {run.preset.name}: "), ui.Failed):
        return
    config = run.result.config
    ds = config.dataset
    data = ui.attempt(get_dataset, ds.symbol, ds.start, ds.end, ds.timeframe, ds.vendor, path=ds.path)
    if isinstance(data, ui.Failed):
        return
    st.session_state.update(config_values(config))
    st.session_state[forms.DATASET] = data
    st.session_state[forms.DATASET_SPEC] = {"symbol": ds.symbol, "vendor": ds.vendor, "timeframe": ds.timeframe,
                                            "start": ds.start, "end": ds.end}  # fmt: skip
    st.session_state[forms.RUN_RESULT] = {"result": run.result, "frame": data.frame}
    st.session_state[forms.NAV] = "Workbench"
    st.session_state[forms.SECTION] = "Results"
    ui.flash(f"{run.preset.name} (run {run.run_id}) opened: its settings are in the five steps; change any and run again.")


def in_history(run_ids: list[str]) -> list[str]:
    """Those of ``run_ids`` whose folder is still in the run history (a look at the folder, no
    read: :func:`_open` reads and checks the files of the run it opens)."""
    from phi.backtest.run_history import run_dir

    return [rid for rid in run_ids if run_dir(rid, must_exist=False).is_dir()]


def open_control(cmp: Any) -> None:
    """The "Run" picker (best first, the table's order) and "Open in the workbench". The pick is
    kept (:func:`app_streamlit.ui.kept`) across trips to other pages; a pick this head to head
    no longer offers falls back to its best run. Runs deleted from the run history since the
    head to head are said in one line and not offered."""
    names = {r.run_id: r.preset.name for r in cmp.runs if r.run_id and not r.preset.is_portfolio}
    ranked = [str(rid) for rid in cmp.table.get("run_id", []) if rid in names]
    ids = list(dict.fromkeys([*ranked, *names]))
    offered = in_history(ids)
    gone = [rid for rid in ids if rid not in offered]
    if gone:
        listed = ", ".join(f"{names[rid]} ({rid})" for rid in gone)
        st.info(f"No longer in the run history (deleted in another tab or with phi runs delete): {listed}. "
                "Its result stays in the table above; Run head to head to save it again.", icon=":material/delete:")  # fmt: skip
    if not offered:
        return
    c = st.columns([3, 1], vertical_alignment="bottom")
    c[0].selectbox("Run", offered, format_func=lambda rid: f"{names[rid]} · {rid}",
                   **ui.kept(OPEN_RUN, offered[0], options=offered))  # fmt: skip
    c[1].button("Open in the workbench", key=OPEN, on_click=_open,
                help="Its dataset, indicators, blend and execution settings into the five steps; its results in Results.")  # fmt: skip


# ---------------------------------------------------------------------------- page parts


#: families whose runs train a model (minutes, not seconds): their cards start unticked
SLOW_FAMILIES = ("ml", "rl")


def cards(presets: list[Any]) -> list[str]:
    """One card per preset with an include checkbox; returns the chosen names."""
    chosen = []
    cols = st.columns(3)
    for i, p in enumerate(presets):
        with cols[i % 3].container(border=True):
            st.markdown(f"**{p.name}** · {p.family} · {p.sides}")
            st.caption(p.rule)
            if p.needs_server:
                st.caption(f"Needs {p.needs_server}.")
            elif p.family in SLOW_FAMILIES:
                st.caption("Trains a model inside the run: slower.")
            if st.checkbox("Include", help=f"{p.description}. Defaults: {p.defaults}. Source: {p.source}.",
                           **ui.kept(pick(p.key), p.family not in SLOW_FAMILIES and not p.needs_server)):
                chosen.append(p.name)
    return chosen


def _form() -> bool:
    """The dataset, benchmark and the Run head to head button (True when pressed). No
    ``st.form``: each field is a plain widget whose value is kept (:func:`app_streamlit.ui.kept`)
    across trips to other pages without pressing Run; a shown head to head the page no longer
    describes is marked (see render)."""
    c = st.columns([0.9, 0.9, 0.7, 1.35, 1.35])  # the dates whole at 1024 px too
    c[0].selectbox("Vendor", VENDORS, **ui.kept(VENDOR, VENDORS[0]))
    c[1].text_input("Symbol", **ui.kept(SYMBOL, "DEMO"))
    c[2].selectbox("Timeframe", TIMEFRAMES, **ui.kept(TIMEFRAME, TIMEFRAMES[0]))
    c[3].date_input("Start", min_value=forms.MIN_DATE, max_value=forms.MAX_DATE, **ui.kept(START, dt.date(2020, 1, 1)))
    c[4].date_input("End", min_value=forms.MIN_DATE, max_value=forms.MAX_DATE, **ui.kept(END, dt.date(2024, 12, 31)))
    c = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    c[0].text_input("Benchmark (same vendor; empty = none)", **ui.kept(BENCHMARK, "SPY"))
    c[1].selectbox("Sort by", METRICS, **ui.kept(METRIC, METRICS[0]))
    c[2].number_input("Initial capital", min_value=1_000.0, step=1_000.0, **ui.kept(CAPITAL, 100_000.0))
    return c[3].button("Run head to head", key=GO, type="primary")


def form_request(s: Any) -> dict[str, Any]:
    """The head to head the page's fields describe now."""
    return {"symbol": str(s[SYMBOL]).strip(), "vendor": s[VENDOR], "timeframe": s[TIMEFRAME], "start": str(s[START]),
            "end": str(s[END]), "benchmark": str(s[BENCHMARK] or "").strip() or None, "metric": s[METRIC],
            "capital": float(s[CAPITAL])}  # fmt: skip


def stale_reasons(ran: dict[str, Any] | None, request: dict[str, Any], chosen: list[str]) -> list[str]:
    """What differs between the shown head to head and the page now (``[]`` when nothing does)."""
    if not ran:
        return []
    out = [f"{k} {request.get(k)} (run: {ran['request'].get(k)})" for k in request if request.get(k) != ran["request"].get(k)]
    added = [n for n in chosen if n not in ran["chosen"]]
    dropped = [n for n in ran["chosen"] if n not in chosen]
    if added:
        out.append("added " + ", ".join(added))
    if dropped:
        out.append("removed " + ", ".join(dropped))
    return out


def run_comparison(request: dict[str, Any], names: list[str]) -> Any:
    """:func:`phi.strategies.compare` under a progress bar; None (with an error shown) on bad input."""
    from phi.backtest.run_config import DatasetSpec
    from phi.strategies import compare

    spec = ui.attempt(DatasetSpec, request["symbol"], request["vendor"], request["timeframe"], request["start"], request["end"])
    if isinstance(spec, ui.Failed):
        return None
    if request["benchmark"]:  # a bad benchmark is the benchmark's fault, said once, not every preset's
        from phi.data.symbols import validate_symbol

        if isinstance(ui.attempt(validate_symbol, request["benchmark"], prefix="Benchmark: "), ui.Failed):
            return None
    bar = st.progress(0.0, text="Starting ...")

    def progress(name: str, i: int, n: int) -> None:
        bar.progress(min(i / max(n, 1), 1.0), text=f"Running {name} ({min(i + 1, n)}/{n})" if i < n else "Done")

    out = ui.attempt(compare, names, spec, metric=request["metric"], benchmark=request["benchmark"],
                     initial_capital=request["capital"], progress=progress)  # fmt: skip
    bar.empty()
    return None if isinstance(out, ui.Failed) else out


def default_headers(metric: str | None = None) -> list[str]:
    """Headers shown until the user picks: :data:`DEFAULT_COLUMNS` plus the sort metric's."""
    cols = {*DEFAULT_COLUMNS, *([metric] if metric in COLUMNS else [])}
    return [header for col, (header, _) in COLUMNS.items() if col in cols]


def display_table(table: pd.DataFrame, headers: list[str] | None = None) -> pd.DataFrame:
    """The comparison table as shown: formatted numbers, best first; ``headers`` (default: all)
    picks the metric columns and :data:`RUN_ID`, kept in the table's own order."""
    out = pd.DataFrame({"#": range(1, len(table) + 1), "strategy": table["strategy"]})
    for col, (header, kind) in COLUMNS.items():
        if col in table.columns and (headers is None or header in headers):
            out[header] = [ui.fmt_value(v, kind) for v in table[col]]
    if "n_open_trades" in table.columns and "Trades" in out.columns:
        out["Trades"] = [f"{t}{' +1 open' if o else ''}" for t, o in zip(out["Trades"], table["n_open_trades"], strict=True)]
    if headers is None or RUN_ID in headers:
        out[RUN_ID] = [r if isinstance(r, str) else "not saved" for r in table["run_id"]]
    return out


def show_table(cmp: Any) -> None:
    """The comparison table: the key columns (no horizontal scroll at 1440 px), every row
    visible; "Columns" adds or drops any of the others."""
    options = [header for header, _ in COLUMNS.values()] + [RUN_ID]
    picked = st.session_state.get(SHOWN)
    if picked is None or not set(picked) <= set(options):
        st.session_state[SHOWN] = default_headers(cmp.metric)
    headers = st.multiselect("Columns", options, key=SHOWN, help="The metrics the table shows; Exposure, Accuracy, "
                             "Edge, Beta, Alpha and the run id are off by default.")  # fmt: skip
    shown = display_table(cmp.table, headers)
    config = {h: st.column_config.TextColumn(h, help=HELP[h]) for h in shown.columns if h in HELP}
    height = 35 * (len(shown) + 1) + 3  # every row, no inner vertical scroll
    st.dataframe(shown, hide_index=True, key="bt:table", width="stretch", height=min(height, 800), column_config=config)


def equity_curves(cmp: Any) -> pd.DataFrame:
    """Every run's equity (and the benchmark's, same money) as columns."""
    curves = {r.preset.name: r.result.equity for r in cmp.runs}
    bench = next((r for r in cmp.runs if r.benchmark is not None), None)
    if bench is not None:
        curves[f"benchmark {bench.benchmark_symbol}"] = bench.benchmark["benchmark_equity"]
    return pd.DataFrame(curves)


def show_result(cmp: Any) -> None:
    """Table, failures, notes, overlaid equity curves and the Open control."""
    st.markdown(f"**Head to head, best {cmp.metric} first**")
    if len(cmp.table):
        show_table(cmp)
        ui.show_chart(charts.overlay_chart(equity_curves(cmp), title="Equity curves"), key="bt:chart:equity")
    for name, why in cmp.failures.items():
        st.warning(f"{name} did not run: {why}")
    for r in cmp.runs:
        if r.note:
            st.caption(f"{r.preset.name} trades {', '.join(r.preset.symbols)}: {r.note}.")
    unsaved = [r for r in cmp.runs if r.save_error]  # one line per reason, naming the runs it hit
    for reason in dict.fromkeys(str(r.save_error) for r in unsaved):
        names = ", ".join(r.preset.name for r in unsaved if str(r.save_error) == reason)
        st.warning(f"Not saved to the run history ({names}): {ui.sentence(reason)} Their results are shown here.")
    if any(r.result.data.get("synthetic") for r in cmp.runs if hasattr(r.result, "data")):
        st.caption("SYNTHETIC DEMO DATA - generated locally, not market prices.")
    for r in cmp.runs:
        if r.run_id and r.preset.is_portfolio:  # no single-symbol steps to open it in
            st.caption(f"{r.preset.name} trades {', '.join(r.preset.symbols)}: saved as run {r.run_id} with its holdings, "
                       f"fills and contribution by symbol (phi runs show {r.run_id}).")
    open_control(cmp)


def render() -> None:
    import phi.strategies as strategies

    st.subheader("Backtests")
    st.caption("Strategy presets head to head on one dataset: each is a full run, saved to the run history.")
    ui.show_flash()
    # the dataset and Run on top, then the result (inside the first screen), then the cards
    form_box, result_box = st.container(), st.container()
    saved = st.session_state.get(RESULT)
    with st.expander("Strategies to compare (tick Include on a card)", expanded=True):
        chosen = cards(strategies.list(include_server=True))
    with form_box, st.container(border=True, key=FORM):
        go = _form()
    request = form_request(st.session_state)
    with result_box:
        if go:
            if not chosen:
                st.error("Pick at least one strategy (tick Include on its card).")
                st.session_state[FAILED] = True
            else:
                cmp = run_comparison(request, chosen)
                st.session_state[FAILED] = cmp is None
                if cmp is not None:
                    st.session_state[RESULT] = saved = cmp
                    st.session_state[RAN] = {"request": request, "chosen": list(chosen)}
        if saved is None:
            st.info("Pick strategies below and a dataset, then Run head to head.")
            return
        stale = stale_reasons(st.session_state.get(RAN), request, chosen)
        ui.outdated("head to head", "Run head to head", stale, failed=bool(st.session_state.get(FAILED)), said_above=go)
        show_result(saved)
