"""Results of one run: its name, a line saying whether it is what the form describes, the KPI
strip with the exports beside it, then Summary, Equity & drawdown, Price & trades, Trades,
Metrics and Signals tabs (a tab is computed once opened for the run on screen, then kept drawn).

The KPIs come from the run's metrics; the trade count and the buy & hold window from
:mod:`phi.backtest.summary`, so every place shows the same figures.
"""

from __future__ import annotations

import html
import math
from typing import Any

import streamlit as st

from app_streamlit import charts, exports, forms, state, tables, ui
from app_streamlit.results import METRIC_KIND, ResultData, label
from app_streamlit.styles import BLEND

#: Most trade rows sent to the table (every trade is in the CSV export).
MAX_TABLE_ROWS = 10_000
TABS = ("Summary", "Equity & drawdown", "Price & trades", "Trades", "Metrics", "Signals")
#: The Summary tab's row: what the strip above does not already show.
SUMMARY_KPIS = ("cagr", "annual_volatility", "sortino", "calmar", "profit_factor", "expectancy", "exposure",
                "direction_accuracy")
SHORT_LABELS = {"annual_volatility": "Volatility", "direction_accuracy": "Direction acc.", "expectancy": "Expectancy"}
#: Set when the last Run failed: the results on screen are then the previous run's.
LAST_RUN_FAILED = "run:last_failed"


def _figure(data: ResultData, name: str) -> charts.Chart | None:
    """One chart of the run, built on first use and kept for later reruns of the page."""

    synthetic = " · SYNTHETIC demo data" if data.data.get("synthetic") or data.config.dataset.vendor == "demo" else ""

    def build() -> charts.Chart | None:
        chart = _build()
        if chart is not None and synthetic:
            chart.figure.update_layout(title_text=f"{chart.figure.layout.title.text}{synthetic}")
        return chart

    def _build() -> charts.Chart | None:
        if name == "equity":
            return charts.equity_chart(data.equity, data.initial_capital, tz=data.tz, currency=data.currency)
        if name == "overview":
            return charts.equity_chart(data.equity, data.initial_capital, tz=data.tz, height=340, currency=data.currency,
                                       title="Equity and drawdown")
        if name == "price":
            if data.frame is None:
                return None
            return charts.price_chart(data.frame, f"{data.name} · price and trades", data.trades, tz=data.tz,
                                      currency=data.currency)
        if name == "pnl":
            return charts.trade_pnl_chart(data.trades, currency=data.currency) if len(data.trades) else None
        if name == "signals":
            sig = {}
            if data.signals is not None:
                sig.update({str(c): data.signals[c] for c in data.signals.columns})
            if data.signal is not None:
                sig["blend"] = data.signal.rename("blend")
            if not sig:
                return None
            return charts.lines_chart(
                sig, title="Indicator signals and the blend", height=320, y_range=(-1.05, 1.05),
                colors={"blend": BLEND}, tz=data.tz,
            )  # fmt: skip
        return charts.lines_chart(
            {"position": data.positions}, title="Position (units; + long, − short)", height=240, step=("position",),
            tz=data.tz,
        )  # fmt: skip

    return ui.memo("result_figs", (data.run_id, id(data.equity), name), build, max_entries=12)


def kpi_cards(data: ResultData) -> list[tuple[str, str, int]]:
    """The KPI strip: money, return, risk, trades (``N closed + M open``) and buy & hold over
    the run's own metric window."""
    from phi.backtest.summary import trade_count

    m = data.metrics
    net = data.final_equity - data.initial_capital
    ret = m.get("total_return")
    bh = m.get("buy_and_hold_return")

    def sign(x: object) -> int:
        try:
            v = float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 0
        return 1 if v > 0 else -1 if v < 0 else 0

    metric = st.session_state.get(forms.RUN_METRIC, "sharpe")
    unit = currency(data)
    cards = [
        (f"net P/L ({unit})", f"{ui.fmt_value(net, 'money')}", sign(net)),
        ("total return", ui.fmt_value(ret, "pct"), sign(ret)),
        (f"end capital ({unit})", ui.fmt_value(data.final_equity, "money"), 0),
        ("max drawdown", ui.fmt_value(m.get("max_drawdown"), "pct"), 0),
        (label(metric), ui.fmt_value(m.get(metric), METRIC_KIND.get(metric, "num")), 0),
        ("win rate", ui.fmt_value(m.get("win_rate"), "rate"), 0),
        ("trades", trade_count(m).text, 0),
        ("buy & hold, same window", ui.fmt_value(bh, "pct"), sign(bh)),
    ]  # fmt: skip
    return cards


def currency(data: ResultData) -> str:
    """The unit of the run's money figures: the dataset's currency, else the charts' default ($)."""
    return data.currency or charts.DEFAULT_CURRENCY


def metric_text(value: Any, kind: str, unit: str) -> str:
    """A metric as the Metrics tab shows it: money with its unit (``$518.76``), the rest as
    :func:`app_streamlit.ui.fmt_value` (a missing or non-finite amount has no unit: ``n/a``)."""
    if kind == "money" and isinstance(value, (int, float)) and math.isfinite(value):
        return money(float(value), unit)
    return ui.fmt_value(value, kind)


def money(value: float, unit: str) -> str:
    """``$100,000.00``, or ``100,000.00 EUR`` for a currency code."""
    text = ui.fmt_value(value, "money")
    return f"{unit}{text}" if unit == "$" else f"{text} {unit}"


def window_caption(data: ResultData) -> str:
    from phi.backtest.summary import metric_window

    win = metric_window(data.equity.index, data.warmup)
    if win is None:
        return "No bar after the warm-up: the metrics are empty."
    idx = charts.local_index(data.equity.index, data.tz)
    local = metric_window(idx, data.warmup)
    assert local is not None
    return (
        f"Metrics and buy & hold over {local.text(charts.is_daily(data.equity.index))}, {local.bars:,} bars · "
        f"start capital {money(data.initial_capital, currency(data))} · fills at the "
        f"{'next bar’s open' if data.config.engine.fill == 'next_open' else 'same bar’s close (optimistic)'}"
    )


def _exports(data: ResultData, prefix: str) -> None:
    name = str(data.run_id or "run")
    st.download_button("Trades CSV", lambda: exports.trades_csv(data), file_name=f"{name}_trades.csv",
                       mime="text/csv", key=f"{prefix}:dl:trades", on_click="ignore", width="stretch",
                       help="Every trade with every engine column (entry_bar, exit_bar, open ...).")
    st.download_button("HTML report", lambda: exports.html_report(data), file_name=f"{name}_report.html",
                       mime="text/html", key=f"{prefix}:dl:report", on_click="ignore", width="stretch",
                       help="One self-contained page with the charts (plotly embedded), metrics and assumptions.")
    st.download_button("Config JSON", exports.config_json(data), file_name=f"{name}_config.json",
                       mime="application/json", key=f"{prefix}:dl:config", on_click="ignore", width="stretch",
                       help="Re-run it with: phi backtest --config <file>")


def header(data: ResultData, *, stale: list[str] | None = None, failed: bool = False) -> None:
    """The run's name (id on hover) and, when the results are not what the form describes, a
    line saying so and what differs."""
    rid = data.run_id or "not saved"
    synthetic = data.data.get("synthetic") or data.config.dataset.vendor == "demo"
    tag = ' <span class="phi-synthetic">SYNTHETIC DEMO DATA</span>' if synthetic else ""
    st.html(
        f'<div class="phi-run-name" title="run id {html.escape(rid)}">{html.escape(data.name)}{tag}'
        f'<span class="phi-run-id">run id {html.escape(rid)}</span></div>'
    )
    if data.save_error:
        st.warning(
            f"Not saved to the run history: {data.save_error}. These results are complete — export them below.",
            icon=":material/warning:",
        )
    elif data.run_id and not _still_saved(data.run_id):
        st.info(
            f"Run {data.run_id} has been deleted from the run history (in another tab or with phi runs delete); "
            "the results stay on this page until the next run — export them to keep them.",
            icon=":material/delete:",
        )
    if failed or stale:
        why = ("the last Run failed (see the sidebar); " if failed else "") + (
            "the form now differs: " + "; ".join(stale) if stale else "the settings are unchanged"
        )
        st.warning(f"Previous run shown — {why}. Press Run to update.", icon=":material/history:")


def _still_saved(run_id: str) -> bool:
    """True while the run's folder is in the run history (a cheap check on every redraw)."""
    from phi.backtest.run_history import run_dir
    from phi.errors import PhiError

    try:
        path = run_dir(run_id, must_exist=False)
    except PhiError:
        return True  # not a run id of this history: nothing to say
    return path.is_dir() or path.is_symlink()


def render(data: ResultData, *, prefix: str = "res") -> None:
    """KPIs, exports and the result tabs for ``data``; ``prefix`` keeps widget keys unique."""
    left, right = st.columns([7, 1.25], vertical_alignment="top")
    with left:
        ui.ribbon(kpi_cards(data))
        st.caption(window_caption(data))
    with right:
        _exports(data, prefix)
    ruin = data.assumptions.get("ruin")
    if data.assumptions.get("ruin_bar") is not None and ruin:  # as the CLI's red line: never only in the ledger
        st.error(f"**Ruin** — {ruin}", icon=":material/dangerous:")
    skipped = data.assumptions.get("skipped_note")  # options: why entries were skipped or cut
    if skipped and skipped != "none":  # as the CLI's yellow line
        head = "Entries skipped" if data.assumptions.get("skipped_entries") else "Entries cut"
        st.warning(f"**{head}** — {ui.md_text(skipped)}", icon=":material/block:")
    names = [*TABS, *(["Options"] if getattr(data.config, "mode", "equities") == "options" else [])]
    tabs = st.tabs(names, key=f"{prefix}:tabs", on_change="rerun")
    visited = _visited_tabs(data, prefix)
    visited.update(names[i] for i, tab in enumerate(tabs) if tab.open)
    # a tab is computed once it has been opened for this run; it then stays drawn, so going back
    # to it is a switch in the browser (no wait for its chart), and unopened tabs cost nothing
    shown = {names[i]: tab for i, tab in enumerate(tabs) if names[i] in visited}
    if "Summary" in shown:
        with shown["Summary"]:
            _summary(data, prefix)
    if "Equity & drawdown" in shown:
        with shown["Equity & drawdown"]:
            _show(data, "equity", prefix)
    if "Price & trades" in shown:
        with shown["Price & trades"]:
            if not _show(data, "price", prefix):
                st.info("The bars of this run are not loaded (the price chart needs them).")
    if "Trades" in shown:
        with shown["Trades"]:
            _trades(data, prefix)
    if "Metrics" in shown:
        with shown["Metrics"]:
            unit = currency(data)
            rows = [
                {"group": group, "metric": lab, "value": metric_text(v, kind, unit)}
                for group, metric_rows in data.grouped_metrics().items()
                for lab, v, kind in metric_rows
            ]
            st.dataframe(
                rows, hide_index=True, key=f"{prefix}:table:metrics", width="stretch",
                height=35 * (len(rows) + 1) + 3,
            )  # fmt: skip
    if "Signals" in shown:
        with shown["Signals"]:
            _show(data, "signals", prefix)
            _show(data, "position", prefix)
    if "Options" in shown:
        with shown["Options"]:
            from app_streamlit.views import options_results

            options_results.render(data, prefix)


def _visited_tabs(data: ResultData, prefix: str) -> set[str]:
    """The result tabs opened so far for the run on screen (forgotten when another run shows)."""
    key = f"{prefix}:visited_tabs"
    run = data.run_id or str(id(data))
    store = st.session_state.get(key)
    if not isinstance(store, dict) or store.get("run") != run:
        store = {"run": run, "tabs": set()}
        st.session_state[key] = store
    tabs: set[str] = store["tabs"]
    return tabs


def _summary(data: ResultData, prefix: str) -> None:
    """The overview: eight more KPIs in one row, the equity curve, the ledger."""
    kpi_cols = st.columns(len(SUMMARY_KPIS), vertical_alignment="bottom")  # values in a row when labels wrap
    for col, m in zip(kpi_cols, SUMMARY_KPIS, strict=True):
        # short enough for one eighth of the row at 1280 px, and no help icon: "Expectancy ($)"
        # beside one showed as "Expectanc…" (its meaning is the Metrics tab's "per trade")
        name = f"Expectancy ({currency(data)})" if m == "expectancy" else SHORT_LABELS.get(m, label(m))
        col.metric(name, ui.fmt_value(data.metrics.get(m), METRIC_KIND.get(m, "num")))
    chart = _figure(data, "overview")
    if chart is not None:
        ui.show_chart(chart, key=f"{prefix}:chart:overview")
    c = st.columns([1, 3], vertical_alignment="top")
    c[0].selectbox("Metric in the strip", list(forms.RIBBON_METRICS), key=forms.RUN_METRIC, persist_state="session",
                   format_func=label)
    with c[1].expander("Assumption ledger (fills, costs, annualisation, warm-up ...)"):
        st.dataframe(
            [{"assumption": k, "value": str(v)} for k, v in data.assumptions.items()],
            hide_index=True, key=f"{prefix}:table:assumptions", width="stretch",
        )  # fmt: skip
    st.caption(f"Run {data.run_id} · config hash {data.config.config_hash()[:12]} · {data.title}")


def _trades(data: ResultData, prefix: str) -> None:
    from phi.backtest.summary import trade_count

    if len(data.trades) == 0:
        from app_streamlit.results import no_trades_reason

        st.info(no_trades_reason(data))
        return
    view, config = ui.memo(
        "trades_view", (data.run_id, id(data.trades)),
        lambda: tables.trades_view(data.trades, tz=data.tz, fractional=bool(data.config.engine.fractional)),
        max_entries=4,
    )  # fmt: skip
    c = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
    side = c[0].selectbox("Side", ("all", "long", "short"), key=f"{prefix}:trades:side")
    status = c[1].selectbox("Status", ("all", "closed", "open"), key=f"{prefix}:trades:status")
    outcome = c[2].selectbox("Outcome", ("all", "winners", "losers"), key=f"{prefix}:trades:outcome")
    c[3].caption(f"{trade_count(data.trades).text} · click a column header to sort · the CSV export has every column")
    rows = tables.filter_trades(view, side, status, outcome)
    if len(rows) == 0:  # an empty grid with no word would look like a lost trade list
        st.info(f"No trade matches these filters (side {side}, status {status}, outcome {outcome}); "
                f"the run has {trade_count(data.trades).text} trade(s).")  # fmt: skip
        _show(data, "pnl", prefix)
        return
    if len(rows) > MAX_TABLE_ROWS:
        st.caption(f"Showing the last {MAX_TABLE_ROWS:,} of {len(rows):,} trades (the CSV export has all).")
        rows = rows.tail(MAX_TABLE_ROWS)
    st.dataframe(rows, hide_index=True, key=f"{prefix}:table:trades", column_config=config, width="stretch")
    _show(data, "pnl", prefix)


def _show(data: ResultData, name: str, prefix: str) -> bool:
    chart = _figure(data, name)
    if chart is None:
        return False
    ui.show_chart(chart, key=f"{prefix}:chart:{name}")
    return True


def latest() -> ResultData | None:
    """The last run of this session as :class:`ResultData` (built once per run)."""
    last = st.session_state.get(forms.RUN_RESULT)
    if not last:
        return None
    res = last["result"]
    return ui.memo("latest_result", (res.run_id, id(res)), lambda: ResultData.from_run(res, last["frame"]), max_entries=2)


@st.fragment
def panel() -> None:
    """The Results section: a fragment, so a tab switch or a trade filter re-runs only this."""
    try:
        data = latest()
        if data is None:
            st.info("No run yet: set up the steps, then press **Run backtest** in the sidebar.")
            return
        header(data, stale=state.stale_reasons(st.session_state, data.config),
               failed=bool(st.session_state.get(LAST_RUN_FAILED)))  # fmt: skip
        render(data)
    except Exception as exc:
        ui.show_error(exc, prefix="results: ")
