"""Run history and Scanner pages with unusual but possible data: missing and NaN metrics, zero
trades, Markdown/HTML/LaTeX in descriptions and tags, symbols with underscores, 150+ runs, an
older results layout, a run deleted while the page shows it; a scan with NaN scores, partial
level-2 features, every symbol failing, one symbol and sixty."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.backtest.run_history import load_run, runs_root
from phi.pipeline import run
from tests.app.conftest import assert_clean, figure, html_text, start, tables, warnings_

SHOWN = ["no", "name", "total_return", "cagr", "sharpe", "max_drawdown", "trades", "final_equity"]


def _save(symbol: str = "DEMO", indicators: tuple[str, ...] = ("rsi",), **kw) -> str:
    res = run(
        RunConfig(DatasetSpec(symbol, start="2021-01-01", end="2022-12-31"), list(indicators), **kw)
    )
    assert res.run_id
    return str(res.run_id)


def _edit_results(run_id: str, edit) -> None:
    path = runs_root() / run_id / "results.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _history(**state):
    at = start(**state)
    at.segmented_control(key="nav").set_value("Run history").run()
    assert_clean(at)
    return at


def _runs_table(at) -> pd.DataFrame:
    (table,) = tables(at, "run_id", "trades")
    return table.set_index("run_id")


# ---------------------------------------------------------------------------- Run history


def test_zero_trades_and_a_results_file_without_some_metrics_show_missing_not_zero():
    """A run with no trade has Sharpe NaN (and a real 0% return, 0 trades); a results.json
    without n_trades and sharpe (hand-edited, or an older writer) tolerated by the history
    shows "–" trades and an empty Sharpe: never "0 closed" and never 0."""
    flat = _save(engine={"entry_threshold": 1.0})  # no signal reaches 1.0: no trade
    edited = _save(indicators=("macd",))
    assert load_run(flat).metrics["n_trades"] == 0 and math.isnan(load_run(flat).metrics["sharpe"])

    def drop(d):
        del d["metrics"]["n_trades"], d["metrics"]["sharpe"]

    _edit_results(edited, drop)
    table = _runs_table(_history())
    assert table.loc[flat, "trades"] == "0 closed"  # a real zero is a zero
    assert table.loc[flat, "total_return"] == 0.0 and table.loc[flat, "final_equity"] == 100_000.0
    assert math.isnan(table.loc[flat, "sharpe"])
    assert table.loc[edited, "trades"] == "–"  # was "0 closed": no count is not zero trades
    assert pd.isna(table.loc[edited, "sharpe"])
    # the other numbers are the saved run's: return = last / first equity - 1, in percent
    eq = load_run(edited).equity["equity"].to_numpy()
    np.testing.assert_allclose(
        table.loc[edited, "total_return"], 100 * (eq[-1] / eq[0] - 1), rtol=1e-9
    )
    np.testing.assert_allclose(table.loc[edited, "final_equity"], eq[-1], rtol=1e-12)
    assert not any(
        str(v) in ("nan", "None", "inf") for v in table[SHOWN[:2] + ["trades"]].to_numpy().ravel()
    )


HOSTILE_DESCRIPTION = (
    "**x** <script>alert(1)</script> | a | b | `rm -rf` costs $5 and $x^2$ _y_ [l](http://e.x)"
)
HOSTILE_TAGS = ["$a$", "**b**", "<i>c</i>", "|p|", "`t`"]


def test_six_indicators_and_markdown_html_latex_in_description_and_tags_are_shown_as_typed():
    six = ("rsi", "macd", "bollinger", "stochastic", "dual_sma", "ema_crossover")
    rid = _save("EURUSD=X", six, description=HOSTILE_DESCRIPTION, tags=HOSTILE_TAGS)
    none = _save(indicators=("rsi",))
    _edit_results(none, lambda d: d["summary"].update(indicators=[]))  # a run with no indicator
    at = _history()
    table = _runs_table(at)
    assert (
        table.loc[rid, "name"]
        == "rsi+macd+bollinger+stochastic+dual_sma+ema_crossover · EURUSD=X 1D · 2021–2022"
    )
    assert table.loc[none, "name"] == "no indicator · DEMO 1D · 2021–2022"
    at.selectbox(key="hist:selected").set_value(rid).run()
    assert_clean(at)
    (details,) = [m.value for m in at.markdown if m.value.startswith("**run id**")]
    tags_line = details.split("  \n")[3]
    # every character that starts Markdown, HTML or LaTeX is escaped (shown as typed)
    body = tags_line.replace("**tags** ", "", 1).replace(" · **description** ", " ", 1)
    assert not re.search(r"(?<!\\)[*_$`<\[]", body), body
    assert (
        r"\$5 and \$x^2\$" in tags_line and r"\<script>" in tags_line and r"\`rm -rf\`" in tags_line
    )
    assert "**indicators** rsi, macd, bollinger, stochastic, dual\\_sma, ema\\_crossover" in details


def test_symbols_with_underscores_are_literal_in_the_compare_key_and_the_gone_note():
    """Symbols may contain '_' ("_X_" is a valid ticker): in Markdown "_X_" is italic X. The
    compare key above the metrics and the note on a run deleted elsewhere show it as typed."""
    a = _save("_X_", ("rsi",))
    b = _save("Y_", ("macd",))
    at = _history()
    at.multiselect(key="hist:compare").set_value([b, a]).run()
    assert_clean(at)
    (key,) = [c.value for c in at.caption if c.value.startswith("**#2**")]
    assert key == r"**#2** macd · Y\_ 1D · 2021–2022 · #2 · **#1** rsi · \_X\_ 1D · 2021–2022 · #1"
    at.selectbox(key="hist:selected").set_value(a).run()
    shutil.rmtree(runs_root() / a)  # deleted with phi runs delete, another tab ...
    at.run()
    assert not at.exception
    (note,) = [i.value for i in at.info if "No longer in the run history" in i.value]
    assert r"rsi · \_X\_ 1D · 2021–2022 · #1 (" in note


def test_150_runs_are_numbered_oldest_first_and_draw_quickly():
    import time

    first = _save()
    # older copies of the run (ids sort by time): #1 .. #150, the real run #151
    for i in range(150):
        shutil.copytree(runs_root() / first, runs_root() / f"20200101-000000-{i:03d}-abcdef")
    at = _history()
    t = time.perf_counter()
    at.run()
    assert time.perf_counter() - t < 10
    table = _runs_table(at)
    assert list(table["no"]) == list(range(151, 0, -1))
    assert table.index[0] == first and table.index[-1] == "20200101-000000-000-abcdef"
    assert at.selectbox(key="hist:selected").format_func(first).endswith(" · #151")
    eq = load_run(first).equity["equity"].to_numpy()
    np.testing.assert_allclose(table["total_return"], 100 * (eq[-1] / eq[0] - 1), rtol=1e-9)
    cols = json.loads(at.dataframe[0].proto.columns)
    assert cols["no"]["width"] >= 18 + 6.2 * 3  # three digits fit


def test_a_run_saved_with_the_older_results_layout_lists_and_opens():
    rid = _save()
    _edit_results(
        rid, lambda d: (d.pop("checksums"), d.update(schema_version=1, phi_version="0.0.1"))
    )
    at = _history()
    assert list(_runs_table(at).index) == [rid]
    at.button(key="hist:open").click().run()
    assert_clean(at)
    assert f"Results of run {rid}" in html_text(at)


def test_a_run_deleted_between_listing_and_the_click_is_one_line_not_a_traceback(monkeypatch):
    import phi.backtest.run_history as rh

    keep, gone = _save(), _save(indicators=("macd",))
    at = _history()
    at.selectbox(key="hist:selected").set_value(gone).run()
    listed = rh.list_runs

    def list_then_delete():  # the folder goes after the page listed it, before Open reads it
        rows = listed()
        shutil.rmtree(runs_root() / gone, ignore_errors=True)
        return rows

    monkeypatch.setattr(rh, "list_runs", list_then_delete)
    at.button(key="hist:open").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value and gone in at.error[0].value
    monkeypatch.setattr(rh, "list_runs", listed)
    at.run()
    assert not at.exception and list(_runs_table(at).index) == [keep]
    assert any("No longer in the run history" in i.value for i in at.info)


# ---------------------------------------------------------------------------- Scanner


def _scan(at, symbols: str):
    at.text_input(key="scan:symbols").set_value(symbols)
    at.date_input(key="scan:start").set_value(dt.date(2023, 1, 1))
    at.date_input(key="scan:end").set_value(dt.date(2024, 6, 30))
    at.button(key="scan:go").click().run()
    assert_clean(at)
    return at


@pytest.fixture
def scanner():
    at = start()
    at.segmented_control(key="nav").set_value("Scanner").run()
    return at


@pytest.fixture
def nan_scores(monkeypatch):
    """Symbols starting with N get no score, composite, confidence or field confidence."""
    import phi.scanner as sc

    scan_one = sc._scan_one

    def scan_one_nan(symbol, *args, **kwargs):
        row = scan_one(symbol, *args, **kwargs)
        if symbol.startswith("N"):
            row.update(score=math.nan, composite=math.nan, confidence=math.nan, c_field=math.nan)
        return row

    monkeypatch.setattr(sc, "_scan_one", scan_one_nan)


def _ribbon(at) -> str:
    return next(p for p in html_text(at).split("\n") if "phi-ribbon" in p)


def test_a_single_symbol_without_a_score_says_so_not_nan(scanner, nan_scores):
    at = _scan(scanner, "NAA")
    ribbon = _ribbon(at)
    assert "nan" not in ribbon.lower()  # was "NAA (+nan)", in red
    assert '<div class="v ">NAA (no score)</div>' in ribbon
    table = at.dataframe[0].value
    assert (
        list(table["symbol"]) == ["NAA"]
        and table["score"].isna().all()
        and table["composite"].isna().all()
    )
    assert table["consensus"].notna().all()  # the rest of the row is there


def test_nan_scores_rank_last_and_stay_empty(scanner, nan_scores):
    at = _scan(scanner, "NAA SPY NBB QQQ")
    table = at.dataframe[0].value
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert list(table["symbol"][2:]) == ["NAA", "NBB"] and table["score"][2:].isna().all()
    assert table["score"][:2].notna().all() and table["score"][0] >= table["score"][1]
    assert "nan" not in _ribbon(at).lower()


def test_level2_source_with_missing_and_nan_fields(scanner, monkeypatch):
    import phi.data.l2 as l2

    feats = {"SPY": {"ofi": 1.25, "spread_bps": math.nan, "book_imbalance": "x"}, "QQQ": None}
    monkeypatch.setattr(l2, "scanner_source", lambda names: (feats.get, "L2 quotes: a test source"))
    scanner.checkbox(key="scan:l2").check()
    at = _scan(scanner, "SPY QQQ")
    (shown,) = [d.value for d in at.dataframe if "ofi" in d.value.columns]
    row = shown.set_index("symbol")
    assert row.loc["SPY"].tolist() == [
        "unavailable",
        "unavailable",
        "1.250",
        "unavailable",
        "unavailable",
    ]
    assert set(row.loc["QQQ"]) == {"unavailable"}
    assert "L2 quotes: a test source" in html_text(at)


def test_every_symbol_failing_is_reported_without_a_table(scanner):
    at = _scan(scanner, "BAD/ X/Y")
    assert len(warnings_(at)) == 2 and all("skipped" in w for w in warnings_(at))
    assert any("No symbol could be scanned" in i.value for i in at.info)
    assert not at.dataframe


def test_sixty_symbols_are_all_ranked_with_one_heatmap_row_each(scanner):
    syms = [f"S{i:02d}" for i in range(60)]
    at = _scan(scanner, " ".join(syms))
    table = at.dataframe[0].value
    assert list(table["rank"]) == list(range(1, 61)) and sorted(table["symbol"]) == syms
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    heat = figure(at, "scan:heatmap")
    assert heat["data"][0]["y"] == list(table["symbol"]) and len(heat["data"][0]["z"]) == 60
