"""Results of one run: the ribbon, then Summary, Equity & drawdown, Price & trades, Trades,
Metrics and Signals tabs, and the exports (config JSON, trades CSV, HTML report)."""

from __future__ import annotations

import streamlit as st

from app_streamlit import charts, exports, forms, ui
from app_streamlit.results import KPIS, METRIC_KIND, ResultData, label

#: Most trade rows sent to the table (every trade is in the CSV export).
MAX_TABLE_ROWS = 10_000
TABS = ("Summary", "Equity & drawdown", "Price & trades", "Trades", "Metrics", "Signals")


def _figure(data: ResultData, name: str) -> charts.Chart | None:
    """One chart of the run, built on first use and kept for later reruns of the page."""

    def build() -> charts.Chart | None:
        if name == "equity":
            return charts.equity_chart(data.equity, data.initial_capital)
        if name == "price":
            if data.frame is None:
                return None
            return charts.price_chart(data.frame, f"{data.title} with trades", data.trades)
        if name == "pnl":
            return charts.trade_pnl_chart(data.trades) if len(data.trades) else None
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
                colors={"blend": "#f97316"},
            )  # fmt: skip
        return charts.lines_chart(
            {"position": data.positions}, title="Position (units; + long, − short)", height=240, step=("position",)
        )

    return ui.memo("result_figs", (data.run_id, id(data.equity), name), build, max_entries=12)


def ribbon(data: ResultData, metric: str) -> None:
    net = data.final_equity - data.initial_capital
    value = data.metrics.get(metric)
    ui.ribbon(
        [
            ("start capital", ui.fmt_value(data.initial_capital, "money"), 0),
            ("end capital", ui.fmt_value(data.final_equity, "money"), 0),
            ("net P/L", f"{ui.fmt_value(net, 'money')} ({ui.fmt_value(net / data.initial_capital, 'pct')})",
             1 if net > 0 else -1 if net < 0 else 0),
            (label(metric), ui.fmt_value(value, METRIC_KIND.get(metric, "num")), 0),
            ("trades", ui.fmt_value(len(data.trades), "int"), 0),
            ("run id", str(data.run_id or "not saved"), 0),
        ]
    )  # fmt: skip


def _exports(data: ResultData, prefix: str) -> None:
    name = str(data.run_id or "run")
    c = st.columns(3)
    c[0].download_button("Config JSON", exports.config_json(data), file_name=f"{name}_config.json",
                         mime="application/json", key=f"{prefix}:dl:config", on_click="ignore")
    c[1].download_button("Trades CSV", lambda: exports.trades_csv(data), file_name=f"{name}_trades.csv",
                         mime="text/csv", key=f"{prefix}:dl:trades", on_click="ignore")
    c[2].download_button("HTML report", lambda: exports.html_report(data), file_name=f"{name}_report.html",
                         mime="text/html", key=f"{prefix}:dl:report", on_click="ignore",
                         help="One self-contained page with the charts (plotly embedded), metrics and assumptions.")


def render(data: ResultData, *, prefix: str = "res") -> None:
    """All result tabs for ``data``; ``prefix`` keeps widget keys unique per place it is shown."""
    metric = st.session_state.get(forms.RUN_METRIC, "sharpe")
    ribbon(data, metric)
    if data.data.get("synthetic") or data.config.dataset.vendor == "demo":
        st.html('<span class="phi-synthetic">SYNTHETIC DEMO DATA</span> <span>— results on generated bars, not market prices.</span>')
    tabs = st.tabs(list(TABS), key=f"{prefix}:tabs", on_change="rerun")
    shown = {TABS[i]: tab for i, tab in enumerate(tabs) if tab.open}  # only the open tab is computed
    if "Summary" in shown:
        with shown["Summary"]:
            kpi_cols = st.columns(4)
            for i, m in enumerate(KPIS):
                kpi_cols[i % 4].metric(label(m), ui.fmt_value(data.metrics.get(m), METRIC_KIND.get(m, "num")))
            st.markdown("**Assumption ledger**")
            st.dataframe(
                [{"assumption": k, "value": str(v)} for k, v in data.assumptions.items()],
                hide_index=True, key=f"{prefix}:table:assumptions",
            )  # fmt: skip
            st.caption(f"Run {data.run_id} · config hash {data.config.config_hash()[:12]} · {data.title}")
            _exports(data, prefix)
    if "Equity & drawdown" in shown:
        with shown["Equity & drawdown"]:
            _show(data, "equity", prefix)
    if "Price & trades" in shown:
        with shown["Price & trades"]:
            if not _show(data, "price", prefix):
                st.info("The bars of this run are not loaded (the price chart needs them).")
    if "Trades" in shown:
        with shown["Trades"]:
            if len(data.trades) == 0:
                st.info("No trades: the blended signal never crossed the entry threshold.")
            else:
                rows = data.trades if len(data.trades) <= MAX_TABLE_ROWS else data.trades.tail(MAX_TABLE_ROWS)
                if len(rows) < len(data.trades):
                    st.caption(f"Showing the last {len(rows):,} of {len(data.trades):,} trades (the CSV export has all).")
                st.dataframe(rows, hide_index=True, key=f"{prefix}:table:trades")
                _show(data, "pnl", prefix)
    if "Metrics" in shown:
        with shown["Metrics"]:
            groups = data.grouped_metrics()
            cols = st.columns(len(groups))
            for col, (group, metric_rows) in zip(cols, groups.items(), strict=True):
                col.markdown(f"**{group}**")
                col.dataframe(
                    [{"metric": lab, "value": ui.fmt_value(v, kind)} for lab, v, kind in metric_rows],
                    hide_index=True, key=f"{prefix}:table:metrics:{group}",
                )  # fmt: skip
    if "Signals" in shown:
        with shown["Signals"]:
            _show(data, "signals", prefix)
            _show(data, "position", prefix)


def _show(data: ResultData, name: str, prefix: str) -> bool:
    chart = _figure(data, name)
    if chart is None:
        return False
    ui.show_chart(chart, key=f"{prefix}:chart:{name}")
    return True


def render_latest() -> None:
    """Results of the last run of this session (if any)."""
    last = st.session_state.get(forms.RUN_RESULT)
    if not last:
        return
    st.divider()
    st.subheader("Results")
    render(ResultData.from_run(last["result"], last["frame"]))
