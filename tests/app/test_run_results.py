"""Step 5 — Run and the results: progress, cancel, the ribbon, every tab, and the exports."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pandas as pd
import pytest

from app_streamlit import exports
from app_streamlit.results import ResultData
from phi.backtest.run_config import RunConfig
from phi.backtest.run_history import list_runs, load_run
from phi.backtest.summary import trade_count
from phi.data.store import get_dataset
from tests.app.conftest import (
    assert_clean,
    errors,
    figure,
    figures,
    html_text,
    open_tab,
    run_backtest,
    start,
    successes,
    tables,
)


@pytest.fixture
def ran(app):
    run_backtest(app)
    assert_clean(app)
    (summary,) = list_runs()
    return app, load_run(summary["run_id"])


def test_run_saves_and_shows_the_ribbon_and_kpis(ran):
    at, saved = ran
    (msg,) = successes(at)
    count = trade_count(saved.metrics)
    assert msg.startswith(f"Run {saved.run_id} saved: rsi+macd · DEMO 1D · 2020–2024 · #1 · {count.text} trade(s)")
    assert count.total == len(saved.trades)
    text = html_text(at)
    m = saved.metrics
    assert "100,000.00" in text and f"{m['final_equity']:,.2f}" in text
    net = m["final_equity"] - 100_000.0
    assert f"{net:,.2f}" in text
    assert f"{m['sharpe']:,.3f}" in text  # the highlighted metric (default sharpe)
    assert saved.run_id in text
    kpis = {k.label: k.value for k in at.metric}
    assert kpis["CAGR"] == f"{m['cagr']:+.2%}"
    assert kpis["Direction acc."] == f"{m['direction_accuracy']:.2%}"
    assert kpis["Profit factor"] == f"{m['profit_factor']:,.3f}"
    # no help icon beside "Expectancy ($)": with one the label showed as "Expectanc…" (browser test)
    assert [k.help for k in at.metric if k.label == "Expectancy ($)"] == [""]
    # the strip: "N closed + M open" trades, win rate, and buy & hold over the run's own window
    assert f">{count.text}</div>" in text
    assert f"{m['total_return']:+.2%}" in text and f"{m['win_rate']:.2%}" in text
    assert f"{m['buy_and_hold_return']:+.2%}" in text and "buy &amp; hold, same window" in text.lower()
    tabs = [t.label for t in at.tabs]
    sections = ["Results", "1 · Dataset", "2 · Indicators", "3 · Blend", "4 · Execution"]
    assert [t for t in tabs if t in sections] == sections
    results_tabs = ["Summary", "Equity & drawdown", "Price & trades", "Trades", "Metrics", "Signals"]
    assert tabs[1:7] == results_tabs  # inside Results
    assert at.session_state["wb:section"] == "Results"  # a finished run opens its results


def test_highlighted_metric_follows_the_choice(ran):
    at, saved = ran
    at.selectbox(key="run:metric").set_value("max_drawdown").run()
    assert f"{saved.metrics['max_drawdown']:+.2%}" in html_text(at)
    assert "Max drawdown" in html_text(at)


def test_assumption_ledger_and_equity_chart(ran):
    at, saved = ran
    ledger = tables(at, "assumption", "value")[0]
    assert dict(zip(ledger["assumption"], ledger["value"], strict=True))["fill"] == "next_open"
    assert set(ledger["assumption"]) == set(saved.assumptions)
    assert "res:chart:equity" not in figures(at)  # only the open tab is computed
    open_tab(at, "Equity & drawdown")
    spec = figure(at, "res:chart:equity")
    eq, dd = spec["data"]
    np.testing.assert_allclose(eq["y"], saved.equity["equity"].to_numpy())
    assert min(dd["y"]) == pytest.approx(saved.metrics["max_drawdown"])


def test_price_chart_has_the_trade_markers(ran):
    at, saved = ran
    open_tab(at, "Price & trades")
    spec = figure(at, "res:chart:price")
    by_name = {t["name"]: t for t in spec["data"]}
    longs = saved.trades[saved.trades["side"] == "long"]
    np.testing.assert_allclose(by_name["long entry"]["y"], longs["entry_price"].to_numpy())
    closed = saved.trades[~saved.trades["open"]]
    np.testing.assert_allclose(by_name["exit"]["y"], closed["exit_price"].to_numpy())


def test_trades_table_pnl_chart_metrics_and_signals(ran):
    at, saved = ran
    assert {b.label for b in at.get("download_button")} == {"Config JSON", "Trades CSV", "HTML report"}
    open_tab(at, "Trades")
    table = tables(at, "P&L", "exit reason")[0]
    assert len(table) == len(saved.trades)
    np.testing.assert_allclose(table["P&L"].to_numpy(), saved.trades["pnl"].to_numpy())
    np.testing.assert_allclose(table["return"].to_numpy(), 100 * saved.trades["return_pct"].to_numpy())
    # daily bars as dates; the engine's internal columns stay in the CSV export only
    assert str(table["entry"].iloc[0]) == f"{saved.trades['entry_time'].iloc[0]:%Y-%m-%d}"
    assert not {"entry_bar", "exit_bar", "open"} & set(table.columns)
    assert {"entry_bar", "exit_bar", "open"} <= set(pd.read_csv(io.StringIO(exports.trades_csv(ResultData.from_saved(saved, None)))).columns)
    bars, cum = figure(at, "res:chart:pnl")["data"]
    np.testing.assert_allclose(bars["y"], saved.trades["pnl"].to_numpy())
    np.testing.assert_allclose(cum["y"], saved.trades["pnl"].cumsum().to_numpy())
    open_tab(at, "Metrics")
    (metrics_table,) = tables(at, "group", "metric", "value")  # one full-width table
    assert list(dict.fromkeys(metrics_table["group"]))[:5] == ["Returns", "Risk", "Trades", "Accuracy", "Capital"]
    shown = dict(zip(metrics_table["metric"], metrics_table["value"], strict=True))
    assert shown["Total return"] == f"{saved.metrics['total_return']:+.2%}"
    assert shown["Sharpe"] == f"{saved.metrics['sharpe']:,.3f}"
    # money says its unit, as the strip's "end capital ($)" (was a bare 116,600.47)
    assert shown["Final equity"] == f"${saved.metrics['final_equity']:,.2f}"
    assert shown["Expectancy (per trade)"] == f"${saved.metrics['expectancy']:,.2f}"
    assert len(shown) == len(saved.metrics)
    open_tab(at, "Signals")
    sig = {t["name"]: t for t in figure(at, "res:chart:signals")["data"]}
    assert set(sig) == {"rsi", "macd", "blend"}
    np.testing.assert_allclose(sig["blend"]["y"], saved.equity["signal"].to_numpy(), equal_nan=True)
    pos = figure(at, "res:chart:position")["data"][0]
    np.testing.assert_allclose(pos["y"], saved.equity["position"].to_numpy())


def test_exports_match_the_saved_run(ran):
    at, saved = ran
    frame = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame
    data = ResultData.from_saved(saved, frame)
    assert RunConfig.from_json(exports.config_json(data)) == saved.config
    assert exports.config_json(data) == (saved.path / "config.json").read_text()
    assert exports.trades_csv(data) == (saved.path / "trades.csv").read_text()
    report = exports.html_report(data)
    assert report.startswith("<!DOCTYPE html>") and "Phi-nance backtest report" in report
    assert "<scriptsrc=" not in report.replace(" ", "") and report.count("Plotly.newPlot") == 3
    assert "plotly.js v" in report
    assert len(report) > 1_000_000  # plotly.js is inline: the page works offline
    assert "SYNTHETIC DEMO DATA" in report and saved.run_id in report
    assert pd.read_csv(io.StringIO(exports.trades_csv(data)))["pnl"].sum() == pytest.approx(saved.trades["pnl"].sum())


def test_run_without_dataset_is_an_error():
    at = start(**{"ds:vendor": "csv"})  # nothing autoloads for csv
    run_backtest(at)
    assert not at.exception
    assert any("Cannot run" in e and "choose a CSV file" in e for e in errors(at)), errors(at)
    assert list_runs() == []


def test_cancel_really_stops_a_long_run(monkeypatch):
    """A long phiai run (refresh every bar over 20 years) is cancelled mid-blend: the thread stops
    within a second and nothing is saved."""
    import app_streamlit.views.run as run_view

    at = start()
    at.date_input(key="ds:start").set_value(pd.Timestamp("2000-01-01").date()).run()
    at.button(key="ds:fetch").click().run()
    at.selectbox(key="bl:mode").set_value("phiai").run()
    at.number_input(key="bl:step").set_value(1).run()
    monkeypatch.setattr(run_view, "MAX_WAIT_S", 0.0)  # return at once, the run keeps going
    run_backtest(at)
    job = at.session_state["run:job"]
    deadline = time.monotonic() + 60
    while job.stage != "blend" and not job.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.stage == "blend" and not job.finished
    time.sleep(0.3)
    monkeypatch.setattr(run_view, "MAX_WAIT_S", 30.0)
    at.button(key="run:cancel").click().run()
    assert job.finished and job.cancelled
    assert any("Run cancelled during 'blend signals'" in w.value and "nothing was saved" in w.value for w in at.warning)
    assert list_runs() == []
    assert "run:job" not in at.session_state
    # the page is usable again: a normal run afterwards works
    at.selectbox(key="bl:mode").set_value("weighted_sum").run()
    run_backtest(at)
    assert_clean(at)
    assert len(list_runs()) == 1


def test_saved_config_json_is_what_ran(ran):
    at, saved = ran
    cfg = json.loads((saved.path / "config.json").read_text())
    assert cfg["dataset"]["symbol"] == "DEMO" and [i["name"] for i in cfg["indicators"]] == ["rsi", "macd"]
    assert cfg["dataset"]["content_hash"]


def test_an_opened_tab_stays_drawn_until_another_run_shows(ran):
    at, _ = ran
    assert "res:chart:equity" not in figures(at)
    open_tab(at, "Equity & drawdown")
    open_tab(at, "Summary")
    assert "res:chart:equity" in figures(at)  # kept: going back to it needs no re-draw
    assert "res:chart:price" not in figures(at)  # never opened: never computed
    run_backtest(at)  # a new run on screen forgets the opened tabs
    assert_clean(at)
    assert "res:chart:equity" not in figures(at)


def test_a_run_draws_its_kpis_without_building_the_heavy_exports(app, monkeypatch):
    """The grey boxes seen for a moment after the first run of a browser session are Streamlit's
    own: the frontend lazily fetches the DownloadButton / Metric code the first time those
    elements appear. Our part stays cheap: the trades CSV and the HTML report (plotly.js
    inline, > 1 MB) are built only when their button is clicked, never while the KPIs draw."""
    built: list[str] = []
    for name in ("html_report", "trades_csv"):
        real = getattr(exports, name)

        def spy(data, name=name, real=real):
            built.append(name)
            return real(data)

        monkeypatch.setattr(exports, name, spy)
    run_backtest(app)
    assert_clean(app)
    assert len(app.metric) == 8 and ">net P/L ($)<" in html_text(app).replace("</div>", "<")  # KPIs drawn
    assert [b.label for b in app.get("download_button")] == ["Trades CSV", "HTML report", "Config JSON"]
    assert built == []  # the exports are built on click, not on draw
