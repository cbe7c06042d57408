"""Run history (table, compare, open, re-run, delete with confirmation) and the cache manager
(table, health, delete one, clear all with confirmation)."""

from __future__ import annotations

import numpy as np
import pytest

from phi.backtest.run_history import compare_runs, list_runs, load_run
from phi.data.cache import list_cached_datasets
from tests.app.conftest import (
    assert_clean,
    figure,
    html_text,
    open_tab,
    run_backtest,
    start,
    successes,
    tables,
)


@pytest.fixture
def two_runs():
    at = start()
    run_backtest(at)
    at.slider(key="ex:entry_threshold").set_value(0.2)
    at.toggle(key="ex:allow_short").set_value(True)
    at.text_input(key="run:tags").set_value("short, wide").run()
    run_backtest(at)
    assert_clean(at)
    runs = list_runs()
    assert len(runs) == 2
    at.segmented_control(key="nav").set_value("Run history").run()
    assert_clean(at)
    return at, [r["run_id"] for r in runs]


def test_history_table_newest_first(two_runs):
    at, ids = two_runs
    (runs,) = tables(at, "run_id", "sharpe")
    assert runs["run_id"].tolist() == ids  # list_runs is newest first
    assert runs["run"].tolist() == ["rsi+macd · DEMO 1D · 2020–2024 · #2", "rsi+macd · DEMO 1D · 2020–2024 · #1"]
    np.testing.assert_allclose(runs["total_return"], [100 * load_run(i).metrics["total_return"] for i in ids])
    assert runs["tags"].tolist() == ["short, wide", ""]
    assert runs["indicators"].tolist() == ["rsi, macd", "rsi, macd"]
    np.testing.assert_allclose(runs["sharpe"], [load_run(i).metrics["sharpe"] for i in ids])


def test_compare_two_runs_metrics_diff_and_curves(two_runs):
    at, ids = two_runs
    at.multiselect(key="hist:compare").set_value(ids).run()
    assert_clean(at)
    cmp = compare_runs(ids)
    (metrics,) = [t for t in tables(at, "#2", "#1") if "Sharpe" in t.index]  # runs named by number
    assert metrics.loc["Total return"].tolist() == [f"{cmp.metrics.loc['total_return', i]:+.2%}" for i in ids]
    (diff,) = tables(at, "setting", "#2", "#1")
    assert {"engine.allow_short", "engine.entry_threshold"} <= set(diff["setting"])
    row = diff.set_index("setting").loc["engine.entry_threshold"]
    assert row.tolist() == ["0.2", "0.1"]
    curves = figure(at, "hist:chart:compare")["data"]
    # short labels; the full name in the hover
    assert [c["name"] for c in curves] == ["#2 rsi+macd", "#1 rsi+macd"]
    assert curves[0]["hovertemplate"].startswith("rsi+macd · DEMO 1D · 2020–2024 · #2: ")
    assert len({c["line"]["color"] for c in curves}) == 2
    for c, rid in zip(curves, ids, strict=True):
        np.testing.assert_allclose(c["y"], load_run(rid).equity["equity"].to_numpy())


def test_open_rerun_and_delete_with_confirmation(two_runs):
    at, ids = two_runs
    at.multiselect(key="hist:compare").set_value(ids).run()  # compare and open side by side
    at.selectbox(key="hist:selected").set_value(ids[1]).run()
    at.button(key="hist:open").click().run()
    assert_clean(at)
    assert f"Results of run {ids[1]}" in html_text(at)
    open_tab(at, "Equity & drawdown", "hist")
    eq = figure(at, "hist:chart:equity")["data"][0]
    np.testing.assert_allclose(eq["y"], load_run(ids[1]).equity["equity"].to_numpy())
    open_tab(at, "Price & trades", "hist")
    assert figure(at, "hist:chart:price")["data"][0]["type"] == "candlestick"

    at.button(key="hist:rerun").click().run()
    assert_clean(at)
    runs = list_runs()
    assert len(runs) == 3
    new = runs[0]["run_id"]
    assert any(f"Re-ran {ids[1]} as {new}" in s for s in successes(at))
    assert load_run(new).metrics == load_run(ids[1]).metrics

    at.selectbox(key="hist:selected").set_value(ids[0]).run()
    at.button(key="hist:delete").click().run()
    assert any(f"Delete run {ids[0]}?" in w.value for w in at.warning)
    at.button(key="hist:confirm_delete:no").click().run()  # keep it
    assert len(list_runs()) == 3
    at.button(key="hist:delete").click().run()
    at.button(key="hist:confirm_delete:yes").click().run()
    assert_clean(at)
    assert ids[0] not in [r["run_id"] for r in list_runs()]
    assert any(f"Deleted run {ids[0]}." in s for s in successes(at))


def test_empty_history_and_corrupt_run_do_not_crash():
    at = start()
    at.segmented_control(key="nav").set_value("Run history").run()
    assert_clean(at)
    assert any("No saved runs yet" in i.value for i in at.info)
    at.segmented_control(key="nav").set_value("Workbench").run()
    run_backtest(at)
    (rid,) = [r["run_id"] for r in list_runs()]
    (load_run(rid).path / "results.json").write_text("{ not json")
    at.segmented_control(key="nav").set_value("Run history").run()
    assert not at.exception
    assert any("unreadable" in w.value for w in at.warning)


def test_state_survives_switching_views():
    at = start()
    at.slider(key="ex:entry_threshold").set_value(0.25)
    at.slider(key="ind:rsi:p:period").set_value(9).run()
    at.segmented_control(key="nav").set_value("Cache manager").run()
    at.segmented_control(key="nav").set_value("Workbench").run()
    assert at.slider(key="ex:entry_threshold").value == 0.25
    assert at.slider(key="ind:rsi:p:period").value == 9
    assert figure(at, "chart:dataset")["data"][0]["type"] == "candlestick"


def test_cache_manager_lists_deletes_and_clears():
    at = start()
    at.text_input(key="ds:symbol").set_value("XYZ").run()
    at.button(key="ds:fetch").click().run()
    assert len(list_cached_datasets()) == 2
    at.segmented_control(key="nav").set_value("Cache manager").run()
    assert_clean(at)
    (table,) = tables(at, "vendor", "symbol", "health")
    assert sorted(table["symbol"]) == ["DEMO", "XYZ"]
    assert set(table["health"]) == {"ok"} and table["synthetic"].all()
    assert "no problems found" in html_text(at)

    label = [o for o in at.selectbox(key="cache:selected").options if "XYZ" in o][0]
    at.selectbox(key="cache:selected").set_value(label).run()
    at.button(key="cache:delete").click().run()
    assert any("Delete the cached dataset" in w.value for w in at.warning)
    at.button(key="cache:confirm_delete:yes").click().run()
    assert_clean(at)
    assert [m["symbol"] for m in list_cached_datasets()] == ["DEMO"]

    at.button(key="cache:clear").click().run()
    at.button(key="cache:confirm_clear:no").click().run()
    assert len(list_cached_datasets()) == 1
    at.button(key="cache:clear").click().run()
    at.button(key="cache:confirm_clear:yes").click().run()
    assert_clean(at)
    assert list_cached_datasets() == []
    assert any("Removed 1 cached dataset(s)." in s for s in successes(at))
    assert any("The cache is empty" in i.value for i in at.info)


def test_history_counts_trades_as_the_strip_does():
    from app_streamlit.views.history import runs_table

    rows = [{"run_id": "a", "indicators": ["rsi"], "n_trades": 32.0, "n_open_trades": 1.0},
            {"run_id": "b", "indicators": ["rsi"], "n_trades": 5.0, "n_open_trades": 0.0}]
    assert list(runs_table(rows)["trades"]) == ["32 closed + 1 open", "5 closed"]


def test_what_the_history_table_leaves_out_is_in_the_picked_runs_details():
    """The table shows the name and results only (so it fits 1280 px); a run's id, date, exact
    data, tags, description and hashes are under One run once its row is ticked."""
    from app_streamlit.views.history import SHOWN_COLUMNS, run_details

    assert "run_id" not in SHOWN_COLUMNS and "description" not in SHOWN_COLUMNS
    r = {"run_id": "20260102-030405-006-abcdef", "created_at": "2026-01-02T03:04:05+00:00", "vendor": "demo",
         "symbol": "DEMO", "timeframe": "1D", "start": "2021-01-01", "end": "2022-12-31", "bars": 520,
         "synthetic": True, "indicators": ["rsi", "macd"], "blend_mode": "voting", "tags": ["swing", "q1"],
         "description": "stop *4%*", "config_hash": "0123456789abcdef", "data_fingerprint": "fedcba9876543210"}  # fmt: skip
    assert run_details(r) == [
        "**run id** `20260102-030405-006-abcdef` · **created** 2026-01-02 03\\:04\\:05 UTC",  # shown 03:04:05
        "**data** demo DEMO 1D · 2021-01-01 → 2022-12-31 · 520 bars · synthetic",
        "**indicators** rsi, macd · **blend** voting",
        "**tags** swing, q1 · **description** stop \\*4%\\*",
        "**hashes** config `0123456789ab` · data `fedcba987654`",
    ]


def test_a_runs_number_is_a_column_of_its_own_first_so_a_long_name_cut_keeps_it():
    """A long name ends in "…" in its column at 1280 px; the run's number (#2) was the end of
    that name and went with it. It is now the first column, the name beside it without it."""
    from app_streamlit.views.history import SHOWN_COLUMNS, runs_table, table_columns

    long = {"run_id": "b", "indicators": ["rsi", "macd", "bollinger", "stochastic"], "blend_mode": "regime_weighted",
            "symbol": "DEMO", "timeframe": "1D", "start": "2020-01-01", "end": "2024-12-31"}  # fmt: skip
    short = {"run_id": "a", "indicators": ["rsi"], "symbol": "SPY", "timeframe": "1D", "start": "2021-01-01", "end": "2021-12-31"}
    table = runs_table([long, short])  # newest first
    assert SHOWN_COLUMNS[:2] == ("no", "name")
    assert list(table["no"]) == [2, 1]
    assert list(table["name"]) == ["rsi+macd+bollinger+stochastic (regime_weighted) · DEMO 1D · 2020–2024", "rsi · SPY 1D · 2021"]
    assert list(table["run"]) == [f"{n} · #{k}" for n, k in zip(table["name"], (2, 1), strict=True)]  # the picker's names
    widths = table_columns(table)
    assert widths["no"]["label"] == "#" and widths["name"]["label"] == "run"


def test_ten_runs_compare_readably_legend_below_short_labels_and_fitting_metric_names():
    """Ten runs compared: the legend sits under the plot (horizontal) with short labels
    ("#3 macd"), each line's hover says the run's full name; the metric names column is pinned
    and wide enough for its longest name ("Max DD duration (bars)", not "Max drawdown duratio…");
    the total returns are each run's final / initial equity - 1 (hand formula)."""
    import json

    from phi.backtest.run_config import DatasetSpec, RunConfig
    from phi.pipeline import run

    kinds = ["rsi", "macd", "bollinger", "stochastic", "dual_sma"] * 2
    for i, name in enumerate(kinds):
        run(RunConfig(DatasetSpec("DEMO", start="2021-01-01", end="2022-12-31"), [name],
                      engine={"entry_threshold": 0.1 + 0.02 * i}))  # fmt: skip
    ids = [r["run_id"] for r in list_runs()]  # newest first: #10 .. #1
    at = start()
    at.segmented_control(key="nav").set_value("Run history").run()
    at.multiselect(key="hist:compare").set_value(ids).run()
    assert_clean(at)

    spec = figure(at, "hist:chart:compare")
    names = [kinds[n - 1] for n in range(10, 0, -1)]
    assert [t["name"] for t in spec["data"]] == [f"#{n} {names[10 - n]}" for n in range(10, 0, -1)]
    for t, n in zip(spec["data"], range(10, 0, -1), strict=True):
        assert t["hovertemplate"].startswith(f"{names[10 - n]} · DEMO 1D · 2021–2022 · #{n}: ")
    # ten lines, eight colours: the repeats are dotted, so no two lines look the same
    looks = [(t["line"]["color"], t["line"]["dash"]) for t in spec["data"]]
    assert len(set(looks)) == 10 and [d for _, d in looks].count("dot") == 2
    legend = spec["layout"]["legend"]
    assert (legend["orientation"], legend["yanchor"]) == ("h", "top")  # a horizontal block ...
    assert legend["y"] < 0  # ... under the plot
    assert spec["layout"]["margin"]["t"] <= 40  # no legend rows stacked above the plot

    (metrics,) = [d for d in at.dataframe if "Sharpe" in d.value.index]
    assert "Max DD duration (bars)" in metrics.value.index
    assert max(len(str(m)) for m in metrics.value.index) <= 22
    cols = json.loads(metrics.proto.columns)
    index_col = cols["_index"]
    assert index_col["pinned"] is True
    # a 14 px font: about 7.5 px a character, plus the cell's padding
    assert index_col["width"] >= 7.5 * len("Max DD duration (bars)") + 16
    for rid in ids:
        eq = load_run(rid).equity["equity"].to_numpy()
        col = "#" + str(len(ids) - ids.index(rid))
        assert metrics.value.loc["Total return", col] == f"{eq[-1] / eq[0] - 1:+.2%}"


def test_a_run_summary_without_symbol_timeframe_or_dates_says_question_marks_not_none():
    """A hand-edited results.json may lack the dataset's fields: the name and details say "?"
    where one is missing (they said "None")."""
    from app_streamlit.views.history import run_details, summary_name

    r = {"run_id": "x", "indicators": ["rsi"], "vendor": "demo", "start": "2021-01-01"}
    assert summary_name(r, 4) == "rsi · ? ? · 2021–? · #4"
    assert summary_name({"run_id": "y"}, None) == "no indicator · ? ? · ?"
    assert run_details(r)[1] == "**data** demo ? ? · 2021-01-01 → ?"
