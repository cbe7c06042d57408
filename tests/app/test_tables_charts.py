"""Tables and charts for traders: dates for daily bars, exchange-local times intraday, percent
and money formats, internal columns hidden (kept in the CSV), runs named by what they are,
distinct series colours, axes that end with the data, vendor errors in plain words."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from app_streamlit import charts, tables, ui
from app_streamlit.results import run_name
from app_streamlit.styles import BLEND, COLORWAY, REGIME_COLORS
from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.backtest.run_history import list_runs, load_run
from phi.errors import VendorError
from tests.app.conftest import assert_clean, open_tab, run_backtest, start
from tests.app.conftest import tables as page_tables


def _trades(stamps: list[str], is_open: list[bool], held: str = "2D") -> pd.DataFrame:
    n = len(stamps)
    t = pd.DatetimeIndex(stamps, tz="UTC")
    return pd.DataFrame(
        {"entry_time": t, "exit_time": t + pd.Timedelta(held), "side": ["long"] * n, "entry_price": 1234.5,
         "exit_price": 1300.25, "size": 3.0, "pnl": 197.25, "return_pct": 0.0533, "bars_held": 2,
         "exit_reason": ["signal"] * (n - 1) + ["end_of_data"], "costs": 0.0, "open": is_open,
         "entry_bar": np.arange(n), "exit_bar": np.arange(n) + 2},
    )  # fmt: skip


def test_palette_is_eight_distinct_colour_blind_safe_hues():
    assert len({c.lower() for c in COLORWAY}) == 8
    assert len({c.lower() for c in REGIME_COLORS.values()}) == 8
    names = [f"ind{i}" for i in range(8)] + ["blend"]
    colours = charts.distinct_colors(names, {"blend": BLEND})
    assert colours["blend"] == BLEND and len(set(colours.values())) == 9


def test_lines_chart_colours_differ_and_the_axis_ends_with_the_data():
    idx = pd.date_range("2024-01-01", periods=50, freq="D", tz="UTC")
    series = {n: pd.Series(np.sin(np.arange(50) + i), index=idx) for i, n in enumerate(("rsi", "macd", "blend"))}
    fig = charts.figure_spec(charts.lines_chart(series, title="t", colors={"blend": BLEND}).figure)
    colours = [t["line"]["color"] for t in fig["data"]]
    assert len(set(colours)) == 3
    assert fig["layout"]["xaxis"]["range"] == ["2024-01-01T00:00:00", "2024-02-19T00:00:00"]


def test_local_index_dates_daily_and_exchange_time_intraday():
    daily = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    assert list(charts.local_index(daily, "America/New_York").strftime("%Y-%m-%d %H:%M")) == [
        "2024-01-01 00:00", "2024-01-02 00:00", "2024-01-03 00:00"]  # fmt: skip
    hourly = pd.DatetimeIndex(["2024-07-01 13:30", "2024-07-01 14:30"], tz="UTC")
    assert list(charts.local_index(hourly, "America/New_York").strftime("%H:%M")) == ["09:30", "10:30"]


def test_trades_view_hides_internals_and_formats_for_people():
    view, config = tables.trades_view(_trades(["2024-01-02", "2024-01-05"], [False, True]), tz=None, fractional=False)
    assert not {"entry_bar", "exit_bar", "open"} & set(view.columns)
    assert view["entry"].tolist() == [dt.date(2024, 1, 2), dt.date(2024, 1, 5)]  # daily: dates
    assert view["status"].tolist() == ["closed", "open"] and view["exit"].iloc[1] is None
    assert view["return"].tolist() == [5.33, 5.33] and config["return"]["type_config"]["format"] == "%.2f%%"
    assert config["P&L"]["type_config"]["format"] == "accounting"  # 1,234.50 style
    assert config["units"]["type_config"]["format"] == "%d"  # whole units
    assert view["exit reason"].tolist() == ["signal", "still open (marked at the last close)"]
    assert len(tables.filter_trades(view, "all", "open", "all")) == 1
    hourly, cfg = tables.trades_view(_trades(["2024-07-01 13:30", "2024-07-02 14:30"], [False, False], "2h"),
                                     tz="America/New_York", fractional=True)  # fmt: skip
    assert hourly["entry"].iloc[0] == pd.Timestamp("2024-07-01 09:30")
    assert cfg["entry"]["label"] == "entry (America/New_York)"


def test_runs_are_named_by_what_they_are():
    cfg = RunConfig(DatasetSpec("DEMO", "demo", "1D", "2020-01-01", "2024-12-31"), ["rsi", "macd"])
    assert run_name(cfg, 3) == "rsi+macd · DEMO 1D · 2020–2024 · #3"


def test_vendor_errors_in_plain_words():
    exc = VendorError("yfinance failed for 'AAPL' (1d 2024-01-01..2024-03-02): Failed to perform, curl: (6) Could "
                      "not resolve host: query2.finance.yahoo.com. See https://curl.se/libcurl/c/libcurl-errors.html")
    text = ui.vendor_error_text(exc, "yfinance")
    assert text.startswith("Could not reach Yahoo Finance — no network?") and "2024-03-02" not in text
    assert ui.vendor_error_text(VendorError("no data for 'ZZZZQ'"), "yfinance") == "no data for 'ZZZZQ'"


def test_intraday_trades_show_exchange_local_times():
    at = start()
    at.selectbox(key="ds:timeframe").set_value("1H")
    at.date_input(key="ds:start").set_value(dt.date(2024, 1, 1))
    at.date_input(key="ds:end").set_value(dt.date(2024, 3, 31)).run()
    run_backtest(at)  # Run loads the form's dataset itself
    assert_clean(at)
    saved = load_run(list_runs()[0]["run_id"])
    open_tab(at, "Trades")
    (table,) = page_tables(at, "entry", "P&L")
    first = saved.trades["entry_time"].iloc[0].tz_convert("America/New_York").tz_localize(None)
    assert pd.Timestamp(table["entry"].iloc[0]) == first


def test_a_legend_below_the_plot_is_as_wide_as_its_longest_name():
    """Entries of a legend under the plot were 190 px for the regime confidence chart, and
    "expert agreement (c_consensus)" (30 characters, 7 px each at 12 px) ran into the next one.
    An entry is as wide as the longest name (a shape's too) needs, never narrower than asked."""
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter(y=[1, 2], name="expert agreement (c_consensus)"), go.Scatter(y=[2, 1], name="confidence")])
    assert charts.legend_below(fig, 190).layout.legend.entrywidth == 30 * 7
    fig = go.Figure([go.Scatter(y=[1, 2], name="a")])
    fig.add_hline(y=0.3, name="minimum to trade 0.30 and a long tail", showlegend=True)
    assert charts.legend_below(fig, 100).layout.legend.entrywidth == 37 * 7
    short = go.Figure([go.Scatter(y=[1, 2], name="#3 rsi+macd"), go.Scatter(y=[1, 2], name="hidden " * 30, showlegend=False)])
    assert charts.legend_below(short).layout.legend.entrywidth == 130  # short names: as before


def test_scanner_heatmap_cells_in_percent_as_its_colour_bar_and_regime_names_on_two_lines():
    """The cells said 0.58 beside a colour bar in per cent; "BREAKOUT_UP" and "BREAKOUT_DN" side
    by side ran into each other at 1280 px. Now 58% and two-line names (hover keeps the name)."""
    from app_streamlit.views.scanner import heatmap_chart

    heat = pd.DataFrame([[0.58, 0.42], [0.1, 0.9]], index=["AAPL", "SPY"], columns=["BREAKOUT_UP", "RANGE"])
    fig = heatmap_chart(heat).figure
    (trace,) = fig.data
    assert trace.texttemplate == "%{z:.0%}" and trace.colorbar.tickformat == ".0%"
    assert list(fig.layout.xaxis.tickvals) == ["BREAKOUT_UP", "RANGE"]
    assert list(fig.layout.xaxis.ticktext) == ["BREAKOUT_<br>UP", "RANGE"]
    assert list(trace.x) == ["BREAKOUT_UP", "RANGE"] and fig.layout.xaxis.automargin is True
