"""Step 1 — Dataset: vendor, symbol, timeframe, dates and capital; fetch or use the cache;
then the summary strip, the candlestick chart and the data-health report."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from typing import Any

import streamlit as st

from app_streamlit import charts, forms, ui

VENDOR_LABELS = {
    "demo": "demo — synthetic, offline",
    "csv": "csv — upload a file",
    "yfinance": "yfinance — Yahoo Finance",
    "alpha_vantage": "alpha_vantage — Alpha Vantage",
}
DEFAULT_START = dt.date(2020, 1, 1)
DEFAULT_END = dt.date(2024, 12, 31)
MIN_DATE = dt.date(1970, 1, 1)
MAX_DATE = dt.date(2045, 12, 31)
NEED_FILE = "Choose a CSV file to upload."
_ACTION = "ds:action"
STATUS_BADGE = {"ok": ("ok", "green"), "warn": ("warnings", "orange"), "bad": ("problems", "red")}


def _vendor_notes(vendor: str, timeframe: str, start: dt.date) -> tuple[list[str], str | None]:
    """What the chosen vendor can serve, and a blocking problem (or None), before any request."""
    notes: list[str] = []
    problem = None
    if vendor == "demo":
        from phi.data.demo import DEMO_END, DEMO_LABEL, DEMO_START

        notes.append(
            f"{DEMO_LABEL}: generated locally, no network. Every symbol is its own deterministic series "
            f"with trends, ranges, volatility bursts and breakouts; dates {DEMO_START} .. {DEMO_END}."
        )
    elif vendor == "yfinance":
        from phi.data.vendors.yfinance_vendor import LOOKBACK_DAYS, earliest_start

        days = LOOKBACK_DAYS.get(timeframe)
        if days is None:
            notes.append("Yahoo Finance daily bars, auto-adjusted for splits and dividends. Needs network.")
        else:
            first = earliest_start(timeframe)
            assert first is not None
            notes.append(
                f"Yahoo keeps {timeframe} bars for the last {days} days only: the earliest start is "
                f"{first:%Y-%m-%d}. Intraday bars are split-adjusted only. Needs network."
            )
            if start < first.date():
                problem = (
                    f"Start {start:%Y-%m-%d} is before the earliest {timeframe} bar Yahoo serves "
                    f"({first:%Y-%m-%d}): choose a later start or a longer timeframe "
                    "(1m: 29 days, 5m/15m: 59, 1H/4H: 729, 1D: no limit)."
                )
    elif vendor == "alpha_vantage":
        from phi.data.vendors.alpha_vantage import ENV_KEY

        notes.append(
            "Alpha Vantage, raw (unadjusted) prices. The free tier allows 25 requests per day; intraday "
            "history is fetched one month per request. Needs network."
        )
        if not os.environ.get(ENV_KEY, "").strip():
            problem = (
                f"Alpha Vantage needs an API key: set the environment variable {ENV_KEY} before starting "
                "the workbench (free key: https://www.alphavantage.co/support/#api-key)."
            )
    else:
        notes.append(
            "Upload a CSV with a date (or datetime) column and open, high, low, close (volume optional). "
            "Column names and the date format are detected; dates are then sliced to the range below. "
            "CSV files are read directly and never cached."
        )
    return notes, problem


def _request_action(action: str) -> None:
    """Button callback: remember the click; the script performs it before drawing the buttons,
    so they reflect the cache state after the load."""
    st.session_state[_ACTION] = action


def _save_upload(upload: Any) -> str:
    """Store an uploaded CSV under ``$PHI_HOME/uploads`` (content-addressed) and return its path,
    so a saved run can be re-run from its config later."""
    from phi.paths import phi_home

    data = upload.getvalue()
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(upload.name or "upload.csv"))[:60] or "upload.csv"
    folder = phi_home() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:12]}_{stem}"
    if not path.exists():
        path.write_bytes(data)
    return str(path)


def _request() -> dict[str, Any]:
    """The request the form describes (validated by phi when it is used)."""
    s = st.session_state
    return {
        "vendor": s.get(forms.DS_VENDOR, "demo"),
        "symbol": str(s.get(forms.DS_SYMBOL, "DEMO") or "").strip(),
        "timeframe": s.get(forms.DS_TIMEFRAME, "1D"),
        "start": s.get(forms.DS_START, DEFAULT_START),
        "end": s.get(forms.DS_END, DEFAULT_END),
    }


def load(req: dict[str, Any], *, refresh: bool, path: str | None = None) -> bool:
    """Load the dataset of ``req`` into the session (errors shown in the page); True on success."""
    from phi.data.store import get_dataset

    with st.spinner(f"Loading {req['symbol'] or 'CSV'} {req['timeframe']} from {req['vendor']} ..."):
        ds = ui.attempt(
            get_dataset, req["symbol"], req["start"], req["end"], req["timeframe"], req["vendor"],
            path=path, refresh=refresh,
        )  # fmt: skip
    if isinstance(ds, ui.Failed):
        return False
    meta = ds.metadata
    st.session_state[forms.DATASET] = ds
    st.session_state[forms.DATASET_SPEC] = {
        "symbol": str(meta.get("symbol") or req["symbol"]),
        "vendor": req["vendor"],
        "timeframe": str(meta.get("timeframe", req["timeframe"])),
        "start": f"{req['start']:%Y-%m-%d}",
        "end": f"{req['end']:%Y-%m-%d}",
        "path": path,
    }
    return True


def render() -> None:
    """Step 1 form, actions and (for the loaded dataset) summary, chart and health."""
    from phi.data.fetchers import VENDORS
    from phi.data.timeframes import TIMEFRAMES

    ui.step_header(1, "Dataset")
    c = st.columns([1.3, 1, 0.8, 1, 1, 1.1])
    vendor = c[0].selectbox(
        "Vendor", list(VENDORS), key=forms.DS_VENDOR, format_func=lambda v: VENDOR_LABELS.get(v, v),
        persist_state="session",
    )  # fmt: skip
    c[1].text_input(
        "Symbol", value="DEMO", key=forms.DS_SYMBOL, persist_state="session",
        help="Ticker such as AAPL, BRK-B, ^GSPC, EURUSD=X. For csv it may stay empty (the file name is used).",
    )  # fmt: skip
    timeframe = c[2].selectbox("Timeframe", list(TIMEFRAMES), key=forms.DS_TIMEFRAME, persist_state="session")
    start = c[3].date_input(
        "Start", value=DEFAULT_START, min_value=MIN_DATE, max_value=MAX_DATE, key=forms.DS_START,
        persist_state="session", format="YYYY-MM-DD",
    )  # fmt: skip
    c[4].date_input(
        "End", value=DEFAULT_END, min_value=MIN_DATE, max_value=MAX_DATE, key=forms.DS_END,
        persist_state="session", format="YYYY-MM-DD",
    )  # fmt: skip
    c[5].number_input(
        "Initial capital", min_value=1_000.0, value=100_000.0, step=1_000.0, key=forms.DS_CAPITAL,
        persist_state="session", format="%.0f",
    )  # fmt: skip

    notes, problem = _vendor_notes(vendor, timeframe, start)
    for note in notes:
        st.caption(note)
    upload = None
    if vendor == "csv":
        upload = st.file_uploader("CSV file", type=["csv", "txt"], key=forms.DS_UPLOAD)
        if upload is None:
            problem = problem or NEED_FILE
    req = _request()
    action = st.session_state.pop(_ACTION, None)
    if problem is None and action is not None:
        path = _save_upload(upload) if upload is not None else None
        load(req, refresh=action == "fetch", path=path)
    elif forms.DATASET not in st.session_state and not st.session_state.get(forms.AUTOLOADED):
        st.session_state[forms.AUTOLOADED] = True
        if vendor == "demo" and problem is None:  # first visit: the demo dataset, no click needed
            load(req, refresh=False)
    cached = None
    if problem is None:
        from phi.data.fetchers import parse_date_range

        rng = ui.attempt(parse_date_range, req["start"], req["end"])
        if isinstance(rng, ui.Failed):
            problem = "fix the dates above"
        elif vendor != "csv":
            from phi.data.cache import find_covering

            found = ui.attempt(find_covering, vendor, req["symbol"], timeframe, req["start"], req["end"])
            if isinstance(found, ui.Failed):
                problem = "fix the symbol above"
            else:
                cached = found
    elif problem != NEED_FILE:
        st.error(problem, icon=":material/block:")

    b = st.columns([1, 1, 4])
    b[0].button(
        "Fetch & cache", key=forms.DS_FETCH, type="primary", disabled=problem is not None,
        on_click=_request_action, args=("fetch",),
    )  # fmt: skip
    b[1].button(
        "Use cached", key=forms.DS_USE_CACHED, disabled=problem is not None or cached is None,
        on_click=_request_action, args=("cached",),
        help="Enabled when the cache already holds this range (or a wider one)."
        if vendor != "csv" else "CSV files are read directly, never cached.",
    )  # fmt: skip
    if cached is not None:
        b[2].caption(
            f"Cached: {cached.get('vendor')} {cached.get('symbol')} {cached.get('timeframe')} "
            f"{cached.get('start')} .. {cached.get('end')} ({cached.get('rows', 0):,} bars, fetched "
            f"{str(cached.get('fetched_at', ''))[:16].replace('T', ' ')} UTC)"
        )
    summary()


def summary() -> None:
    """Summary strip, candlestick chart and health report of the loaded dataset."""
    ds = st.session_state.get(forms.DATASET)
    if ds is None:
        st.info("No dataset loaded yet: choose one above and press **Fetch & cache**.")
        return
    from phi.backtest.metrics import buy_and_hold_return
    from phi.data.health import HealthReport

    meta, frame = ds.metadata, ds.frame
    spec = st.session_state[forms.DATASET_SPEC]
    bh = buy_and_hold_return(frame["close"].to_numpy())
    daily = spec["timeframe"] == "1D"
    stamp = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M"
    ui.ribbon(
        [
            ("symbol", f"{spec['symbol']} · {spec['vendor']} · {spec['timeframe']}", 0),
            ("bars", f"{len(frame):,}", 0),
            ("first bar", f"{frame.index[0]:{stamp}}", 0),
            ("last bar", f"{frame.index[-1]:{stamp}}", 0),
            ("last close", ui.fmt_value(frame['close'].iloc[-1], "money"), 0),
            ("buy & hold", ui.fmt_value(bh, "pct"), 1 if bh > 0 else -1 if bh < 0 else 0),
        ]
    )
    source = "from the cache" if ds.from_cache else "fetched and cached" if spec["vendor"] != "csv" else "read from file"
    extra = f" · adjustment: {meta.get('adjustment', '?')} · {source} · dataset id {meta.get('dataset_id', '?')}"
    if ds.synthetic:
        st.html(f'<span class="phi-synthetic">SYNTHETIC DEMO DATA</span><span>{extra}</span>')
    else:
        st.caption(extra.lstrip(" ·"))
    for note in meta.get("repairs") or []:
        st.caption(f"repaired: {note}")
    chart = _price_chart(ds, spec)
    ui.show_chart(chart, key="chart:dataset")
    health = HealthReport.from_dict(meta.get("health") or {"rows": len(frame), "timeframe": spec["timeframe"]})
    label, color = STATUS_BADGE.get(health.status, (health.status, "gray"))
    with st.expander(f"Data health: {label}", expanded=health.status != "ok"):
        st.badge(f"data health: {health.status}", color=color)  # type: ignore[arg-type]
        st.markdown("\n".join(f"- {line}" for line in health.summary_lines()))
        if health.gaps:
            st.caption("Largest gaps (expected bars with no data)")
            st.dataframe(health.gaps, hide_index=True, key="table:gaps")
        if health.suspected_splits:
            st.caption("Large one-bar moves")
            st.dataframe(health.suspected_splits, hide_index=True, key="table:splits")


def _price_chart(ds: Any, spec: dict[str, Any]) -> charts.Chart:
    key = ("price", ds.content_hash)
    cache = st.session_state.setdefault("_fig_cache", {})
    if key not in cache:
        cache.clear()
        title = f"{spec['symbol']} {spec['timeframe']} ({spec['vendor']})"
        cache[key] = charts.price_chart(ds.frame, title)
    chart: charts.Chart = cache[key]
    return chart
