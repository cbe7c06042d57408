"""What a trader reads off the result pages: every money axis says it is money and in which
currency, and the Backtests comparison opens on its key columns (no horizontal scroll)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import phi.strategies as strategies
from app_streamlit import charts
from app_streamlit.views import backtests as view
from tests.app.conftest import (
    assert_clean,
    figure,
    html_text,
    open_tab,
    run_backtest,
    start,
    tables,
)


def _ytitle(spec, axis="yaxis"):
    return ((spec["layout"].get(axis) or {}).get("title") or {}).get("text")


@pytest.fixture
def ran(app):
    run_backtest(app)
    assert_clean(app)
    return app


def test_result_charts_name_their_money_axes(ran):
    at = ran
    summary = figure(at, "res:chart:overview")
    assert (_ytitle(summary), _ytitle(summary, "yaxis2")) == ("Equity ($)", "Drawdown")
    assert summary["layout"]["yaxis2"]["tickformat"] == ".0%"  # the drawdown axis is in percent
    open_tab(at, "Equity & drawdown")
    assert _ytitle(figure(at, "res:chart:equity")) == "Equity ($)"
    open_tab(at, "Price & trades")
    assert _ytitle(figure(at, "res:chart:price")) == "Price ($)"
    open_tab(at, "Trades")
    pnl = figure(at, "res:chart:pnl")
    assert (_ytitle(pnl), _ytitle(pnl, "yaxis2")) == ("P&L ($)", "Cumulative ($)")


def test_a_known_currency_is_named_on_every_money_axis():
    idx = pd.bdate_range("2024-01-01", periods=5)
    equity = pd.Series([100.0, 101.0, 99.0, 102.0, 103.0], index=idx)
    frame = pd.DataFrame(
        {"open": equity, "high": equity + 1, "low": equity - 1, "close": equity}, index=idx
    )
    trades = pd.DataFrame({"pnl": [1.0, -2.0]})
    assert (
        charts.equity_chart(equity, 100.0, currency="EUR").figure.layout.yaxis.title.text
        == "Equity (EUR)"
    )
    assert (
        charts.price_chart(frame, "X", currency="EUR").figure.layout.yaxis.title.text
        == "Price (EUR)"
    )
    assert (
        charts.overlay_chart(
            pd.DataFrame({"a": equity}), currency="EUR"
        ).figure.layout.yaxis.title.text
        == "Equity (EUR)"
    )
    pnl = charts.trade_pnl_chart(trades, currency="EUR").figure.layout
    assert (pnl.yaxis.title.text, pnl.yaxis2.title.text) == ("P&L (EUR)", "Cumulative (EUR)")
    # unknown currency: dollars, as the demo and US vendors are
    assert charts.equity_chart(equity, 100.0).figure.layout.yaxis.title.text == "Equity ($)"


CHOSEN = ("BuyAndHold", "RSI", "ChannelBreakout")


def test_backtests_table_opens_on_its_key_columns_and_the_others_can_be_added():
    at = start()
    at.segmented_control(key="nav").set_value("Backtests").run()
    for p in strategies.list():
        at.checkbox(key=view.pick(p.key)).set_value(p.name in CHOSEN)
    at.date_input(key=view.START).set_value(dt.date(2023, 1, 1))
    at.button[[b.label for b in at.button].index("Run head to head")].click().run()
    assert_clean(at)
    (table,) = tables(at, "strategy", "Return")
    assert list(table.columns) == [
        "#",
        "strategy",
        "Return",
        "CAGR",
        "Sharpe",
        "Max DD",
        "Trades",
        "Win rate",
        "Excess",
        "IR",
    ]
    cmp = at.session_state[view.RESULT]
    # IR by hand: annualised mean over std of the daily active return against the benchmark
    rsi = next(r for r in cmp.runs if r.preset.name == "RSI")
    active = (
        rsi.result.equity.pct_change() - rsi.benchmark["benchmark_equity"].pct_change()
    ).dropna()
    row = list(table["strategy"]).index("RSI")
    assert float(table["IR"].iloc[row]) == pytest.approx(
        np.sqrt(252) * active.mean() / active.std(ddof=1), abs=0.02
    )
    assert figure(at, "bt:chart:equity")["layout"]["yaxis"]["title"]["text"] == "Equity ($)"
    # the others, and the run id, on request (in the table's own order)
    at.multiselect(key=view.SHOWN).set_value(
        [*at.multiselect(key=view.SHOWN).value, "Alpha", "run"]
    ).run()
    (table,) = tables(at, "strategy", "Return")
    assert list(table.columns)[-3:] == ["Alpha", "IR", "run"]
    assert set(table["run"]) == {r.run_id for r in cmp.runs}


def test_the_sort_metric_is_always_a_default_column():
    assert "Accuracy" in view.default_headers("accuracy")
    assert "Accuracy" not in view.default_headers("sharpe")


def test_run_history_shows_the_results_next_to_the_run_name(app):
    from phi.backtest.run_history import list_runs, load_run

    run_backtest(app)
    app.segmented_control(key="nav").set_value("Run history").run()
    assert_clean(app)
    (runs,) = tables(app, "run_id", "sharpe")
    # the name already says indicators, symbol, timeframe and years: the results come right after it
    assert list(runs.columns)[:8] == [
        "run",
        "total_return",
        "cagr",
        "sharpe",
        "max_drawdown",
        "trades",
        "final_equity",
        "created_at",
    ]
    saved = load_run(list_runs()[0]["run_id"])
    equity = saved.equity["equity"]
    assert runs["final_equity"].iloc[0] == pytest.approx(equity.iloc[-1])
    peak = np.maximum.accumulate(np.maximum(equity.to_numpy(), saved.config.engine.initial_capital))
    warm = int(saved.assumptions.get("warmup_bars", 0) or 0)
    assert runs["max_drawdown"].iloc[0] == pytest.approx(
        100 * (equity.to_numpy()[warm:] / peak[warm:] - 1).min(), abs=1e-6
    )


def test_a_portfolio_runs_fill_count_is_a_whole_number_and_turnover_says_its_unit():
    """Run history's side-by-side metrics showed "N fills 167.000" and a bare "Turnover 165.839"."""
    from app_streamlit import ui
    from app_streamlit.results import METRIC_KIND, label

    assert (label("n_fills"), ui.fmt_value(167.0, METRIC_KIND["n_fills"])) == ("Fills", "167")
    assert label("turnover") == "Turnover (× mean equity)"


def test_the_results_money_figures_say_their_currency(ran):
    from phi.backtest.run_history import list_runs, load_run

    at = ran
    saved = load_run(list_runs()[0]["run_id"])
    text = html_text(at)
    end = saved.equity["equity"].iloc[-1]
    assert f'end capital ($)</div><div class="v ">{end:,.2f}' in text
    assert f'net P/L ($)</div><div class="v phi-pos">{end - 100_000:,.2f}' in text or end <= 100_000
    assert "start capital $100,000.00" in " ".join(c.value for c in at.caption)
    closed = saved.trades[~saved.trades["open"].astype(bool)]
    (expectancy,) = [m for m in at.metric if m.label == "Expectancy ($)"]
    assert expectancy.value == f"{closed['pnl'].mean():,.2f}"  # mean P&L per closed trade
