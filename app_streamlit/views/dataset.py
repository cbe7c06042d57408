"""Step 1 — Dataset: vendor, symbol, timeframe, dates and capital; fetch or use the cache;
then the summary strip, the candlestick chart and the data-health report."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import warnings
from typing import Any

import streamlit as st

from app_streamlit import charts, forms, ui
from app_streamlit import state as state_mod

VENDOR_LABELS = {
    "demo": "demo — synthetic, offline",
    "csv": "csv — upload a file",
    "yfinance": "yfinance — Yahoo Finance",
    "alpha_vantage": "alpha_vantage — Alpha Vantage",
}
DEFAULT_START = dt.date(2020, 1, 1)
DEFAULT_END = dt.date(2024, 12, 31)
MIN_DATE = forms.MIN_DATE
MAX_DATE = forms.MAX_DATE
NEED_FILE = "Choose a CSV file to upload."
#: What Run says when the dataset form's own message (next to the inputs) already names the problem.
SEE_FORM = "the dataset in the form cannot be loaded (the reason is under the dataset form below)"
_ACTION = "ds:action"
STATUS_BADGE = {"ok": ("ok", "green"), "warn": ("warnings", "orange"), "bad": ("problems", "red")}


def _vendor_notes(vendor: str, timeframe: str, start: dt.date) -> tuple[list[str], str | None]:
    """What the chosen vendor can serve, and a blocking problem (or None), before any request."""
    notes: list[str] = []
    problem = None
    if vendor == "demo":
        from phi.data.demo import DEMO_END, DEMO_LABEL, DEMO_START

        notes.append(
            f"{DEMO_LABEL}: generated locally, no network. Any symbol gives its own deterministic series "
            f"(trends, ranges, bursts, breakouts); dates {DEMO_START[:4]}–{DEMO_END[:4]}. Every title says synthetic."
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
            "A CSV with a date (or datetime) column and open, high, low, close (volume optional); names and "
            "date format are detected. The whole file is read (never cached); its own range is shown once loaded."
        )
    return notes, problem


def _vendor_changed() -> None:
    """Vendor callback: an upload is named after its file, so the demo's placeholder symbol
    ``DEMO`` is cleared when switching to ``csv`` (and put back when switching to ``demo``)."""
    vendor = st.session_state.get(forms.DS_VENDOR)
    symbol = str(st.session_state.get(forms.DS_SYMBOL, "") or "").strip()
    if vendor == "csv" and symbol.upper() == "DEMO":
        st.session_state[forms.DS_SYMBOL] = ""
    elif vendor == "demo" and not symbol:
        st.session_state[forms.DS_SYMBOL] = "DEMO"


def _request_action(action: str) -> None:
    """Button callback: remember the click; the script performs it before drawing the buttons,
    so they reflect the cache state after the load."""
    st.session_state[_ACTION] = action


def _save_upload(upload: Any) -> str:
    """Store an uploaded CSV under ``$PHI_HOME/uploads`` (content-addressed) and return its path,
    so a saved run can be re-run from its config later."""
    from phi.data.uploads import store_upload

    # a partial or different file under the same name is replaced, never reused
    return str(store_upload(upload.getvalue(), upload.name))


def symbol_from_filename(name: str) -> str:
    """A ticker-like symbol from an uploaded file's own name: ``"my fund (2024).csv"`` ->
    ``"MY_FUND_2024"`` (letters, digits, ``. - _`` only, at most 32 characters)."""
    stem = os.path.splitext(os.path.basename(name or ""))[0]
    sym = re.sub(r"[^A-Za-z0-9.\-]+", "_", stem).strip("._-").upper()[:32]
    return sym or "CSV"


def _request(upload: Any = None) -> dict[str, Any]:
    """The request the form describes (validated by phi when it is used). For a CSV upload the
    symbol defaults to the uploaded file's name and the stored file replaces the dates."""
    req = state_mod.form_request_from(st.session_state)
    if req["vendor"] == "csv":
        if not req["symbol"] and upload is not None:
            req["symbol"] = symbol_from_filename(upload.name)
        stored = ui.attempt(_save_upload, upload) if upload is not None else None  # PHI_HOME full/read-only
        req["path"] = None if isinstance(stored, ui.Failed) else stored
        req["file_name"] = os.path.basename(upload.name) if upload is not None else None
    return req


def as_uploaded(text: str, path: str | None, file_name: str | None) -> str:
    """``text`` naming the uploaded file as the user knows it (``'prices.csv'``), not the
    content-addressed copy phi read (``'/home/u/uploads/3ea0a4f16a5c_prices.csv'``), and
    pointing at the form's Timeframe where phi's message names the API's argument."""
    if not path or not file_name:
        return text
    for form in (str(path), os.path.basename(str(path))):
        text = text.replace(form, file_name)
    # the CSV vendor speaks to API callers ("pass timeframe='1D'"); here it is the form's Timeframe
    return re.sub(r"pass timeframe='([^']+)'", r"choose Timeframe \1 in the form", text)


def _file_range(path: str, timeframe: str) -> tuple[dt.date, dt.date]:
    """First and last date of a CSV file's bars (read by phi's CSV vendor)."""
    from phi.data.vendors.csv_vendor import fetch_csv

    frame = fetch_csv(path, timeframe).frame
    if len(frame) == 0:
        from phi.errors import DataError

        raise DataError(f"CSV file {os.path.basename(path)!r} holds no bars")
    return frame.index[0].date(), frame.index[-1].date()


def load(req: dict[str, Any], *, refresh: bool, path: str | None = None) -> bool:
    """Load the dataset of ``req`` into the session; True on success. A failure is kept (with
    the request it belongs to) and shown until the request changes or a load succeeds; the
    dataset loaded before stays loaded."""
    from phi.data.store import get_dataset
    from phi.errors import PhiError

    path = path or req.get("path")
    key = state_mod.request_key(req)
    label = req["symbol"] or "CSV"
    with st.spinner(f"Loading {label} {req['timeframe']} from {req['vendor']} ..."), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            start, end = req["start"], req["end"]
            if req["vendor"] == "csv" and path:  # the file's own range: health coverage against it
                start, end = _file_range(path, req["timeframe"])
            ds = get_dataset(req["symbol"], start, end, req["timeframe"], req["vendor"], path=path, refresh=refresh)
        except Exception as exc:
            text = ui.vendor_error_text(exc, req["vendor"])
            st.session_state[state_mod.DATASET_ERROR] = (key, as_uploaded(text, path, req.get("file_name")))
            if not isinstance(exc, PhiError):
                ui.log.error("workbench: dataset load failed", exc_info=exc)
            return False
        finally:
            ui.show_warnings(str(w.message) for w in caught if issubclass(w.category, UserWarning))
    st.session_state.pop(state_mod.DATASET_ERROR, None)
    meta = ds.metadata
    st.session_state[forms.DATASET] = ds
    st.session_state[forms.DATASET_SPEC] = {
        "symbol": str(meta.get("symbol") or req["symbol"]),
        "vendor": req["vendor"],
        "timeframe": str(meta.get("timeframe", req["timeframe"])),
        "start": f"{start:%Y-%m-%d}",
        "end": f"{end:%Y-%m-%d}",
        "path": path,
    }
    return True


def ensure_form_dataset() -> str | None:
    """Before a run: load the form's dataset if it is not the one loaded (cache first).
    Returns None when the loaded dataset is the form's, else one line saying why not."""
    req = st.session_state.get(state_mod.FORM_REQUEST)
    spec = st.session_state.get(forms.DATASET_SPEC)
    if req is None or not state_mod.dataset_differences(req, spec):
        return None if spec is not None else "no dataset loaded: choose one in the sidebar and press Fetch"
    if req["vendor"] == "csv" and not req.get("path"):
        return "choose a CSV file to upload first"
    if st.session_state.get(state_mod.FORM_PROBLEM) or not load(req, refresh=False):
        return SEE_FORM  # the reason is shown once, in the dataset form, next to the input
    return None


def form() -> None:
    """The dataset form (sidebar): vendor, symbol, timeframe, dates, capital, the load buttons,
    the dataset error (while its cause is there) and a line saying what is loaded."""
    from phi.data.fetchers import VENDORS
    from phi.data.timeframes import TIMEFRAMES

    st.html('<div class="phi-side-head">1 · Dataset</div>')
    vendor = st.selectbox(
        "Vendor", list(VENDORS), key=forms.DS_VENDOR, format_func=lambda v: VENDOR_LABELS.get(v, v),
        persist_state="session", on_change=_vendor_changed,
    )  # fmt: skip
    c = st.columns([1.3, 1])
    c[0].text_input(
        "Symbol", key=forms.DS_SYMBOL, persist_state="session",  # "DEMO" until changed (forms.ensure_defaults)
        help="Ticker such as AAPL, BRK-B, ^GSPC, EURUSD=X. For a CSV file it may stay empty: "
        "the symbol is then the uploaded file's name.",
    )  # fmt: skip
    timeframe = c[1].selectbox("Timeframe", list(TIMEFRAMES), key=forms.DS_TIMEFRAME, persist_state="session")
    start = st.session_state.get(forms.DS_START, DEFAULT_START)
    upload = None
    if vendor == "csv":
        upload = st.file_uploader("CSV file", type=["csv", "txt"], key=forms.DS_UPLOAD)
    else:
        d = st.columns(2)
        start = d[0].date_input(
            "Start", value=DEFAULT_START, min_value=MIN_DATE, max_value=MAX_DATE, key=forms.DS_START,
            persist_state="session", format="YYYY-MM-DD",
        )  # fmt: skip
        d[1].date_input(
            "End", value=DEFAULT_END, min_value=MIN_DATE, max_value=MAX_DATE, key=forms.DS_END,
            persist_state="session", format="YYYY-MM-DD",
        )  # fmt: skip
    st.number_input(
        "Initial capital", min_value=1_000.0, value=100_000.0, step=1_000.0, key=forms.DS_CAPITAL,
        persist_state="session", format="%.2f", help="Cash at the start of every run (thousands: 100000 = 100,000.00).",
    )  # fmt: skip

    notes, problem = _vendor_notes(vendor, timeframe, start)
    if vendor == "csv" and upload is None:
        problem = problem or NEED_FILE
    req = _request(upload)
    if vendor == "csv" and upload is not None and req["path"] is None:
        problem = problem or "the uploaded file could not be stored (see the error above)"
    st.session_state[state_mod.FORM_REQUEST] = req
    action = st.session_state.pop(_ACTION, None)
    if problem is None and action is not None:
        load(req, refresh=action == "fetch")
    elif forms.DATASET not in st.session_state and not st.session_state.get(forms.AUTOLOADED):
        st.session_state[forms.AUTOLOADED] = True
        if vendor == "demo" and problem is None:  # first visit: the demo dataset, no click needed
            load(req, refresh=False)
    cached = None
    if problem is None:
        from phi.data.fetchers import parse_date_range

        if vendor != "csv":
            rng = ui.attempt(parse_date_range, req["start"], req["end"])
            if isinstance(rng, ui.Failed):
                problem = "fix the dates above"
            else:
                from phi.data.cache import find_covering

                # quiet: a damaged cache entry is reported by the load that meets it and by the
                # Cache manager, not on every page through this look-up
                found = ui.attempt(find_covering, vendor, req["symbol"], timeframe, req["start"], req["end"], quiet=True)
                if isinstance(found, ui.Failed):
                    problem = "fix the symbol above"
                else:
                    cached = found
    elif problem != NEED_FILE:
        st.error(problem, icon=":material/block:")

    b = st.columns(2)
    b[0].button(
        "Load file" if vendor == "csv" else "Fetch & cache", key=forms.DS_FETCH, type="primary",
        disabled=problem is not None, on_click=_request_action, args=("fetch",), width="stretch",
        help="Read the uploaded file (its whole range; CSV files are never cached)." if vendor == "csv"
        else "Download from the vendor and cache it (the demo is generated locally).",
    )  # fmt: skip
    if vendor != "csv":
        b[1].button(
            "Use cached", key=forms.DS_USE_CACHED, disabled=problem is not None or cached is None,
            on_click=_request_action, args=("cached",), width="stretch",
            help="Enabled when the cache already holds this range (or a wider one).",
        )  # fmt: skip
    st.session_state[state_mod.FORM_PROBLEM] = None if problem == NEED_FILE else problem
    _show_dataset_error(req)
    for note in notes:
        st.caption(note)
    if cached is not None:
        st.caption(
            f"Cached: {cached.get('start')} .. {cached.get('end')} ({ui.count(int(cached.get('rows', 0) or 0), 'bar')}, fetched "
            f"{str(cached.get('fetched_at', ''))[:16].replace('T', ' ')} UTC)"
        )
    _loaded_line(req)


def _show_dataset_error(req: dict[str, Any]) -> None:
    """The last load error while the form still asks for the same dataset, naming what is
    still loaded; dropped as soon as the request changes (its cause may be fixed)."""
    err = st.session_state.get(state_mod.DATASET_ERROR)
    if not err:
        return
    if err[0] != state_mod.request_key(req):
        st.session_state.pop(state_mod.DATASET_ERROR, None)
        return
    spec = st.session_state.get(forms.DATASET_SPEC)
    still = f" Still loaded: {state_mod.describe(spec)}." if spec else ""
    st.error(ui.sentence(err[1]) + still, icon=":material/error:")


def _loaded_line(req: dict[str, Any]) -> None:
    ds = st.session_state.get(forms.DATASET)
    spec = st.session_state.get(forms.DATASET_SPEC)
    if ds is None or spec is None:
        st.caption("No dataset loaded.")
        return
    frame = ds.frame
    fmt = "%Y-%m-%d" if charts.is_daily(frame.index) else "%Y-%m-%d %H:%M"
    tz = ds.metadata.get("exchange_tz")
    idx = charts.local_index(frame.index, tz)
    synthetic = " · synthetic" if ds.synthetic else ""
    st.caption(
        f"**Loaded:** {spec['symbol']} {spec['timeframe']} ({spec['vendor']}{synthetic}) · {ui.count(len(frame), 'bar')} · "
        f"{idx[0]:{fmt}} → {idx[-1]:{fmt}}"
    )
    diff = state_mod.dataset_differences(req, spec)
    if diff:
        st.caption(f":orange[The form differs from the loaded dataset ({'; '.join(diff)}): Run loads the form's dataset first.]")


def summary() -> None:
    """Summary strip, candlestick chart and health report of the loaded dataset."""
    ds = st.session_state.get(forms.DATASET)
    if ds is None:
        st.info("No dataset loaded yet: choose one in the sidebar and press **Fetch & cache**.")
        return
    from phi.backtest.summary import buy_and_hold_window
    from phi.data.health import HealthReport

    meta, frame = ds.metadata, ds.frame
    spec = st.session_state[forms.DATASET_SPEC]
    bh = buy_and_hold_window(frame["close"])
    daily = charts.is_daily(frame.index)
    stamp = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M"
    tz = meta.get("exchange_tz")
    idx = charts.local_index(frame.index, tz)
    ui.ribbon(
        [
            ("symbol", f"{spec['symbol']} · {spec['vendor']} · {spec['timeframe']}", 0),
            ("bars", f"{len(frame):,}", 0),
            ("first bar", f"{idx[0]:{stamp}}", 0),
            ("last bar", f"{idx[-1]:{stamp}}", 0),
            ("last close", ui.fmt_value(frame['close'].iloc[-1], "money"), 0),
            ("buy & hold, all bars", ui.fmt_value(bh, "pct"), 1 if bh > 0 else -1 if bh < 0 else 0),
        ]
    )
    source = "from the cache" if ds.from_cache else "fetched and cached" if spec["vendor"] != "csv" else "read from file"
    local = "" if daily or not tz else f" · times in {tz}"
    extra = f" · adjustment: {meta.get('adjustment', '?')} · {source}{local} · dataset id {meta.get('dataset_id', '?')}"
    if ds.synthetic:
        st.html(f'<span class="phi-synthetic">SYNTHETIC DEMO DATA</span><span>{html.escape(extra)}</span>')
    else:
        st.caption(extra.lstrip(" ·"))
    for note in meta.get("repairs") or []:
        st.caption(f"repaired: {note}")
    if not ui.section_open(forms.SECTIONS[1]):
        return  # hidden: the chart and the health report are drawn when the section is opened
    chart = _price_chart(ds, spec)
    ui.show_chart(chart, key="chart:dataset")
    health = HealthReport.from_dict(meta.get("health") or {"rows": len(frame), "timeframe": spec["timeframe"]})
    label, color = STATUS_BADGE.get(health.status, (health.status, "gray"))
    with st.expander(f"Data health: {label}", expanded=health.status == "bad"):
        st.badge(f"data health: {health.status}", color=color)  # type: ignore[arg-type]
        st.markdown("\n".join(f"- {line}" for line in health.summary_lines()))
        if health.gaps:
            st.caption("Largest gaps (expected bars with no data)")
            st.dataframe(health.gaps, hide_index=True, key="table:gaps")
        if health.suspected_splits:
            st.caption("Large one-bar moves")
            st.dataframe(health.suspected_splits, hide_index=True, key="table:splits")


def title(spec: dict[str, Any], synthetic: bool) -> str:
    """A dataset's chart title; demo data says it is synthetic in the title itself."""
    return f"{spec['symbol']} {spec['timeframe']} · " + ("SYNTHETIC demo data" if synthetic else spec["vendor"])


def _price_chart(ds: Any, spec: dict[str, Any]) -> charts.Chart:
    key = ("price", ds.content_hash, spec["symbol"])
    cache = st.session_state.setdefault("_fig_cache", {})
    if key not in cache:
        cache.clear()
        cache[key] = charts.price_chart(ds.frame, title(spec, ds.synthetic), tz=ds.metadata.get("exchange_tz"))
    chart: charts.Chart = cache[key]
    return chart
