"""Run history: every saved run (newest first), compare several side by side (metrics, config
differences, equity curves overlaid), open one's results, re-run it, delete it. The table shows
each run's name and results (all fitting 1280 px); ticking a row picks it under One run, which
shows the rest: id, date, data, tags, description and hashes."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from app_streamlit import charts, ui
from app_streamlit.results import METRIC_KIND, ResultData, label
from phi.backtest.summary import trade_count

COMPARE = "hist:compare"
SELECTED = "hist:selected"
OPEN = "hist:open"
RERUN = "hist:rerun"
DELETE = "hist:delete"
CONFIRM_DELETE = "hist:confirm_delete"
OPENED = "hist:opened"
TABLE = "hist:table:runs"
DETAILS = "hist:details"
#: what the page showed as chosen on its last draw ({"selected", "compare", "names"}), to tell
#: a run deleted elsewhere (another tab, phi runs delete) from one the user unpicked
SEEN = "hist:seen"
#: every field of a run's row (the table's data; runs_table)
TABLE_COLUMNS = (
    "run", "total_return", "cagr", "sharpe", "max_drawdown", "trades", "final_equity", "created_at",
    "symbol", "vendor", "timeframe", "start", "end", "indicators", "blend_mode", "tags", "description", "run_id", "no", "name",
)  # fmt: skip
#: the columns drawn: the run's number, its name (indicators, blend, symbol, timeframe, years;
#: "run" is both, as the picker shows it) and its results, all on screen at 1280 px (the sidebar open) without a horizontal scroll; the rest
#: (id, when saved, vendor, exact dates, tags, description, hashes) is under "One run" when a
#: row is ticked
SHOWN_COLUMNS = ("no", "name", "total_return", "cagr", "sharpe", "max_drawdown", "trades", "final_equity")
#: the width the drawn columns share: the main area at 1280 x 720 with the sidebar open is
#: 910 px; the selection's check box column takes 34 of them, a vertical scroll bar (more than
#: ten runs) up to 14
TABLE_PX = 860
#: fixed widths (px) of the result columns, each fitting its header and its longest value
#: ("-21.29%", "116,117.90"); "trades" and "run" are sized to their texts
WIDTHS = {"total_return": 68, "cagr": 64, "sharpe": 62, "max_drawdown": 68, "final_equity": 94}


def _field(r: dict[str, Any], key: str) -> str:
    """A summary's text field, "?" when the run's results.json lacks it (not "None")."""
    value = r.get(key)
    return "?" if value is None or str(value).strip() == "" else str(value)


def summary_name(r: dict[str, Any], number: int | None) -> str:
    """A run's name from its history summary: ``"rsi+macd · DEMO 1D · 2020–2024 · #3"``."""
    names = "+".join(r.get("indicators") or []) or "no indicator"
    if r.get("blend_mode") and r.get("blend_mode") != "weighted_sum":
        names += f" ({r['blend_mode']})"
    a, b = _field(r, "start")[:4], _field(r, "end")[:4]
    span = a if a == b else f"{a}–{b}"
    data = f"{_field(r, 'symbol')} {_field(r, 'timeframe')}"
    return f"{names} · {data} · {span}" + (f" · #{number}" if number else "")


def names_of(runs: list[dict[str, Any]]) -> dict[str, str]:
    """``{run_id: name}``; runs are numbered oldest first (list_runs is newest first)."""
    return {str(r["run_id"]): summary_name(r, len(runs) - i) for i, r in enumerate(runs)}


def runs_table(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """The history table (one row per run, newest first)."""
    names = names_of(runs)
    rows = []
    for i, r in enumerate(runs):
        row = {c: r.get(c) for c in TABLE_COLUMNS}
        row["run"] = names[str(r["run_id"])]
        row["no"] = len(runs) - i  # the number in the run's name: first even when a long name is cut
        row["name"] = summary_name(r, None)
        row["indicators"] = ", ".join(r.get("indicators") or [])
        row["tags"] = ", ".join(r.get("tags") or [])
        row["created_at"] = str(r.get("created_at") or "").replace("T", " ")[:16]
        # "32 closed + 1 open", as in the run's strip; "–" when results.json has no count, not "0 closed"
        row["trades"] = trade_count(r).text if _finite(r.get("n_trades")) else "–"
        for pct in ("total_return", "cagr", "max_drawdown"):  # shown as percent numbers (sortable)
            v = row.get(pct)
            row[pct] = None if v is None else float(v) * 100.0
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _finite(value: Any) -> bool:
    """``value`` is a finite number (a saved count; None, NaN or inf is no count)."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def short_label(name: str, width: int = 15) -> str:
    """A run's legend label from its name: ``"#3 rsi+macd"`` (the indicators cut to ``width``
    characters with an ellipsis); the full name is in the hover and the key above the chart."""
    head, _, number = name.rpartition(" · #")
    what = (head or name).split(" · ", 1)[0]
    what = what if len(what) <= width else what[: width - 1] + "…"
    return f"#{number} {what}" if number else what


#: Shorter metric names for the comparison table (its first column is pinned and sized to
#: them), the full meaning in the column's help.
COMPARE_LABELS: dict[str, str] = {
    "max_drawdown_duration": "Max DD duration (bars)",
    "buy_and_hold_return": "Buy & hold return",
    "expectancy": "Expectancy ($/trade)",
    "turnover": "Turnover (× equity)",
    "direction_accuracy": "Direction accuracy",
}
COMPARE_HELP = ("Max DD duration: the longest stretch, in bars, from an equity peak to its recovery. "
                "Expectancy: mean P&L per closed trade. Turnover: traded value over mean equity.")  # fmt: skip


def compare_label(metric: str) -> str:
    return COMPARE_LABELS.get(metric, label(metric))


def _compare(ids: list[str], names: dict[str, str]) -> None:
    from phi.backtest.run_history import compare_runs

    cmp = ui.attempt(compare_runs, ids)
    if isinstance(cmp, ui.Failed):
        return
    st.markdown(f"**Comparing {len(ids)} runs**")
    metrics = cmp.metrics.copy()
    short = {rid: "#" + names.get(rid, rid).rsplit("#", 1)[-1] for rid in ids}
    rows = [compare_label(m) for m in metrics.index]
    shown = pd.DataFrame(
        {short[rid]: [ui.fmt_value(v, METRIC_KIND.get(m, "num")) for m, v in metrics[rid].items()] for rid in metrics.columns},
        index=rows,
    )
    # the names as typed: a symbol "_X_" is not italic X
    st.caption(" · ".join(f"**{short[r]}** {ui.md_text(names.get(r, r))}" for r in ids))
    # full width, one above the other: side by side, ten runs' columns scrolled away and cut the
    # metric names; the names column is pinned (stays while the runs scroll) and fits its names
    st.caption("Metrics side by side")
    name_px = 16 + 8 * max((len(r) for r in rows), default=8)
    st.dataframe(
        shown, key="hist:table:metrics", height=35 * (len(shown) + 1) + 3, width="stretch",
        column_config={"_index": st.column_config.TextColumn("metric", pinned=True, width=name_px, help=COMPARE_HELP)},
    )  # fmt: skip
    st.caption("Config differences")
    if cmp.config_diff:
        diff = pd.DataFrame(
            [[row[0], *[str(v) for v in row[1:]]] for row in cmp.config_diff], columns=["setting", *[short[i] for i in ids]]
        )
        st.dataframe(diff, hide_index=True, key="hist:table:diff", width="stretch",
                     column_config={"setting": st.column_config.TextColumn("setting", pinned=True)})  # fmt: skip
    else:
        st.caption("The configs are identical (same settings, different runs).")
    labels = {rid: short_label(names.get(str(rid), str(rid))) for rid in cmp.equity.columns}
    curves = cmp.equity.rename(columns=lambda rid: labels[rid])
    full = {labels[rid]: names.get(str(rid), str(rid)) for rid in cmp.equity.columns}
    chart = charts.overlay_chart(curves, title="Equity curves", full_names=full)
    ui.show_chart(chart, key="hist:chart:compare")


def _open(run_id: str) -> None:
    """Load a saved run (and, cache-first, its bars) and keep it for display below."""
    from phi.backtest.run_history import load_run
    from phi.data.store import get_dataset

    saved = ui.attempt(load_run, run_id)
    if isinstance(saved, ui.Failed):
        return
    from phi.backtest.portfolio_run_config import PortfolioRunConfig

    if isinstance(saved.config, PortfolioRunConfig):  # a multi-asset run: no single-symbol steps to open it in
        st.info(f"Run {run_id} is a portfolio of {', '.join(saved.config.symbols)}: its holdings, fills, weights and "
                f"contribution by symbol are saved beside it; see them with `phi runs show {run_id}`.")
        return
    ds = saved.config.dataset
    data = ui.attempt(get_dataset, ds.symbol, ds.start, ds.end, ds.timeframe, ds.vendor, path=ds.path)
    frame = None if isinstance(data, ui.Failed) else data.frame
    st.session_state[OPENED] = ResultData.from_saved(saved, frame)


def _rerun(run_id: str) -> None:
    from phi.pipeline import rerun

    with st.spinner(f"Re-running {run_id} ..."):
        res = ui.attempt(rerun, run_id)
    if isinstance(res, ui.Failed):
        return
    portfolio = hasattr(res, "holdings")  # a portfolio run has no single-symbol results view
    if res.run_id:
        saved_as = f"as {res.run_id}"
    else:  # the reason is said once: above the results shown below, or here when none are shown
        saved_as = f"(not saved: {res.save_error})" if portfolio else "(not saved: the reason is above its results below)"
    ui.flash(f"Re-ran {run_id} {saved_as}: {trade_count(res.metrics).text} trade(s), total return "
             f"{ui.fmt_value(res.metrics.get('total_return'), 'pct')}.")
    if not portfolio:
        st.session_state[OPENED] = ResultData.from_run(res, None)
    st.rerun()


def render() -> None:
    st.subheader("Run history")
    ui.show_flash()
    listed = ui.attempt(list_runs_and_broken)
    if isinstance(listed, ui.Failed):
        return
    runs, broken = listed
    if broken:
        _broken(broken)
    if not runs:
        if not broken:
            st.info("No saved runs yet: run a backtest in the Workbench; every run is saved here.")
        if st.session_state.get(CONFIRM_DELETE) not in broken:
            _confirm_delete([])
        return
    table = runs_table(runs)
    names = names_of(runs)
    ids = [str(r["run_id"]) for r in runs]
    st.dataframe(
        table, hide_index=True, key=TABLE, width="stretch", column_order=SHOWN_COLUMNS, column_config=table_columns(table),
        on_select=lambda: _row_picked(ids), selection_mode="single-row",
    )  # fmt: skip
    st.caption("Tick a row's box to see its id, date, data, tags and description under One run (its buttons then act on it).")  # fmt: skip
    gone_selected = _gone(ids)

    st.markdown("**One run**")
    c = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    run_id = c[0].selectbox("Run", ids, key=SELECTED, persist_state="session", format_func=lambda rid: names.get(rid, rid))
    if run_id not in ids:
        run_id = ids[0]
    open_it = c[1].button("Open results", key=OPEN)
    rerun_it = c[2].button("Re-run", key=RERUN, help="Run its config.json again on the same data (identical results).")
    delete_it = c[3].button("Delete", key=DELETE)
    with st.container(border=True, key=DETAILS):
        st.markdown("  \n".join(run_details(runs[ids.index(run_id)])))
    if gone_selected and (open_it or rerun_it or delete_it):  # the click was meant for the deleted run
        pass  # said once above; nothing is opened, re-run or deleted in its place
    elif open_it:
        _open(run_id)
    elif rerun_it:
        _rerun(run_id)
    elif delete_it:
        st.session_state[CONFIRM_DELETE] = run_id
    if st.session_state.get(CONFIRM_DELETE) not in broken:  # a broken run's is drawn beside it
        _confirm_delete(ids)

    st.markdown("**Compare runs**")
    chosen = st.multiselect("Runs to compare (two or more)", ids, key=COMPARE, persist_state="session",
                            format_func=lambda rid: names.get(rid, rid))
    chosen = [c for c in chosen if c in ids]
    st.session_state[SEEN] = {"selected": run_id, "compare": chosen,
                              "names": {r: names[r] for r in {run_id, *chosen}}}  # fmt: skip
    if len(chosen) >= 2:
        _compare(chosen, names)
    elif chosen:
        st.caption("Pick at least one more run to compare.")

    opened = st.session_state.get(OPENED)
    if opened is not None:
        from app_streamlit.views import results

        st.divider()
        st.markdown(f"**Results of run {opened.run_id}**")
        results.header(opened)
        results.render(opened, prefix="hist")


def text_px(texts: list[str], header: str) -> int:
    """A text column's width in px: its longest text (or header) at 6.2 px a character (the
    table's sans serif averages 6.1 on a run's name) and the cell's padding."""
    return 18 + round(6.2 * max([len(header), *(len(t) for t in texts)]))


def table_columns(table: pd.DataFrame) -> dict[str, Any]:
    """The history table's column labels, formats, widths and help. The run's name takes what
    the result columns leave of :data:`TABLE_PX` (a longer name ends in "…"; it is whole in the
    picker and the details under One run)."""
    trades_px = text_px([str(t) for t in table["trades"]], "trades")
    no_px = text_px([f"{n}" for n in table["no"]], "#") + 8  # right-aligned digits
    left = TABLE_PX - sum(WIDTHS.values()) - trades_px - no_px
    run_px = max(180, min(left, text_px([str(n) for n in table["name"]], "run")))
    pct = {"total_return": ("return", "Total return over the run."),
           "cagr": ("CAGR", "Compound annual growth rate."),
           "max_drawdown": ("max DD", "Max drawdown: the deepest fall from an equity peak.")}  # fmt: skip
    out: dict[str, Any] = {
        "no": st.column_config.NumberColumn("#", format="%d", width=no_px, help="The run's number, oldest first (#1)."),
        "name": st.column_config.TextColumn("run", width=run_px, help="Indicators · dataset · years. "
                                            "Tick a row's box for its id, date, exact data, tags and description."),
        "sharpe": st.column_config.NumberColumn("Sharpe", format="%.3f", width=WIDTHS["sharpe"], help="Annualised Sharpe ratio."),
        "trades": st.column_config.TextColumn("trades", width=trades_px,
                                              help="Closed trades + the trade still open at the end, as in the run's strip."),
        "final_equity": st.column_config.NumberColumn("final equity", format="accounting", width=WIDTHS["final_equity"]),
    }  # fmt: skip
    for col, (name, help_) in pct.items():
        out[col] = st.column_config.NumberColumn(name, format="%.2f%%", width=WIDTHS[col], help=help_)  # fmt: skip
    return out


def run_details(r: dict[str, Any]) -> list[str]:
    """What the table leaves out of a run's row, as lines of Markdown: its id and when it was
    saved; its data (vendor, symbol, timeframe, exact dates, bars); indicators and blend; tags
    and description; the config hash and data fingerprint that tell identical runs apart."""
    created = str(r.get("created_at") or "").replace("T", " ").replace("+00:00", " UTC")
    data = " ".join(_field(r, k) for k in ("vendor", "symbol", "timeframe"))
    data += f" · {_field(r, 'start')} → {_field(r, 'end')}"
    if r.get("bars") is not None:
        data += f" · {r['bars']} bars"
    if r.get("synthetic"):
        data += " · synthetic"
    tags, description = ", ".join(r.get("tags") or []), str(r.get("description") or "")
    lines = [f"**run id** `{r.get('run_id')}` · **created** {ui.md_text(created)}",
             f"**data** {ui.md_text(data)}",
             f"**indicators** {ui.md_text(', '.join(r.get('indicators') or []) or 'none')} · "
             f"**blend** {ui.md_text(r.get('blend_mode') or '')}",
             f"**tags** {ui.md_text(tags) if tags else 'none'} · "
             f"**description** {ui.md_text(description) if description.strip() else 'none'}"]  # fmt: skip
    hashes = [f"config `{str(r['config_hash'])[:12]}`" if r.get("config_hash") else "",
              f"data `{str(r['data_fingerprint'])[:12]}`" if r.get("data_fingerprint") else ""]  # fmt: skip
    if any(hashes):
        lines.append("**hashes** " + " · ".join(h for h in hashes if h))
    return lines


def _row_picked(ids: list[str]) -> None:
    """Ticking a row of the table picks its run under One run (before the picker is drawn)."""
    rows = st.session_state[TABLE].selection.rows
    if rows and 0 <= rows[0] < len(ids):
        st.session_state[SELECTED] = ids[rows[0]]


def _gone(ids: list[str]) -> bool:
    """Say once which runs the page showed as chosen have left the run history since its last
    draw (deleted in another tab or with ``phi runs delete``); True when the run picked under
    "One run" is one of them (its buttons then act on nothing)."""
    seen = st.session_state.get(SEEN) or {}
    names = seen.get("names") or {}
    selected = seen.get("selected")
    gone = [r for r in dict.fromkeys([selected, *(seen.get("compare") or [])]) if r and r not in ids]
    if gone:
        listed = ", ".join(f"{ui.md_text(names.get(r, r))} ({ui.md_text(r)})" for r in gone)
        st.info(f"No longer in the run history (deleted in another tab or with phi runs delete): {listed}. "
                "Nothing is compared, opened or re-run in its place; pick another run.", icon=":material/delete:")  # fmt: skip
    return bool(selected) and selected not in ids


def list_runs_and_broken() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """:func:`phi.backtest.run_history.list_runs` and the runs it skipped as unreadable
    (``{run_id: phi's one-line reason}``, from its warnings)."""
    import re
    import warnings

    from phi.backtest.run_history import list_runs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = list_runs()
    broken: dict[str, str] = {}
    for w in caught:
        text = str(w.message)
        found = re.match(r"run '([^']+)': ", text)
        if found:
            broken[found.group(1)] = text
        elif issubclass(w.category, UserWarning):
            ui.show_warnings([text])
    return runs, broken


def _broken(broken: dict[str, str]) -> None:
    """The runs the history cannot read, each with phi's reason, and a Delete for each."""
    with st.expander(f"{len(broken)} broken run(s): unreadable, left out of the table", expanded=True):
        for text in broken.values():
            st.warning(text.split("; delete it with", 1)[0] + ".", icon=":material/warning:")
        c = st.columns([3, 1], vertical_alignment="bottom")
        rid = c[0].selectbox("Broken run", list(broken), key=f"{SELECTED}:broken")
        if c[1].button("Delete broken run", key=f"{DELETE}:broken") and rid in broken:
            st.session_state[CONFIRM_DELETE] = rid
        if st.session_state.get(CONFIRM_DELETE) in broken:
            _confirm_delete(list(broken))


def _confirm_delete(known: list[str]) -> None:
    """The delete confirmation of the run picked for deletion (one of ``known``)."""
    from phi.backtest.run_history import delete_run

    pending = st.session_state.get(CONFIRM_DELETE)
    if pending and pending not in known:  # deleted meanwhile (another tab, phi runs delete)
        st.session_state.pop(CONFIRM_DELETE, None)
        st.info(f"Run {pending} is no longer in the run history (deleted elsewhere); nothing to delete.")
        pending = None
    if pending:
        st.warning(f"Delete run {pending}? Its config, trades and results are removed for good.")
        d = st.columns([1, 1, 4])
        if d[0].button("Yes, delete", key=f"{CONFIRM_DELETE}:yes", type="primary"):
            st.session_state.pop(CONFIRM_DELETE, None)
            if not isinstance(ui.attempt(delete_run, pending), ui.Failed):
                opened = st.session_state.get(OPENED)
                if opened is not None and opened.run_id == pending:
                    st.session_state.pop(OPENED, None)
                st.session_state.pop(SEEN, None)  # deleted here, on purpose: nothing to report next draw
                ui.flash(f"Deleted run {pending}.")
                st.rerun()
        if d[1].button("Keep it", key=f"{CONFIRM_DELETE}:no"):
            st.session_state.pop(CONFIRM_DELETE, None)
            st.rerun()
