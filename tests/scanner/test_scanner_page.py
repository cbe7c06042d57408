"""The Scanner page of the workbench under AppTest: scan a demo universe with a failing symbol."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.app.conftest import assert_clean, figure, html_text, start, warnings_

# the workbench pages run phi in threads: kernels compiled first, in the main thread
pytestmark = pytest.mark.usefixtures("warm_kernels")


def test_scanner_page_scans_ranks_and_reports_failures() -> None:
    at = start()
    at.segmented_control(key="nav").set_value("Scanner").run()
    assert_clean(at)
    assert any("Choose symbols and press Scan" in i.value for i in at.info)
    at.text_input(key="scan:symbols").set_value("SPY, QQQ, BAD/.., GLD")
    at.date_input(key="scan:start").set_value(dt.date(2023, 1, 1))
    at.date_input(key="scan:end").set_value(dt.date(2024, 6, 30))
    at.button[0].click().run()  # the form's Scan button
    assert_clean(at)
    # Markdown source: the '_' escaped (app_streamlit.ui.md_text), shown as typed
    assert warnings_(at) == ["BAD/.. skipped: symbol 'BAD/..' contains '/'; only letters, digits and . - ^ = \\_ are allowed"]
    table = at.dataframe[0].value
    assert list(table["rank"]) == [1, 2, 3] and sorted(table["symbol"]) == ["GLD", "QQQ", "SPY"]
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    # no L2 source: unavailable, not 0 (in the expander below the ranked table, with the species)
    (l2,) = [d.value for d in at.dataframe if "ofi" in d.value.columns]
    assert list(l2["symbol"]) == list(table["symbol"]) and set(l2["ofi"]) == {"unavailable"}
    text = html_text(at)
    assert "SYNTHETIC" in text and "top symbol" in text and "L2 quotes: not requested" in text
    spec = figure(at, "scan:heatmap")
    heat = spec["data"][0]
    assert heat["type"] == "heatmap" and heat["y"] == list(table["symbol"]) and len(heat["x"]) == 8


def test_scanner_page_l2_without_a_key_says_unavailable(monkeypatch) -> None:
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    at = start()
    at.segmented_control(key="nav").set_value("Scanner").run()
    at.text_input(key="scan:symbols").set_value("SPY")
    at.date_input(key="scan:start").set_value(dt.date(2023, 1, 1))
    at.date_input(key="scan:end").set_value(dt.date(2024, 6, 30))
    at.checkbox(key="scan:l2").check()
    at.button[0].click().run()
    assert_clean(at)
    assert "L2 quotes: unavailable - POLYGON_API_KEY is not set" in html_text(at)
    (l2,) = [d.value for d in at.dataframe if "book_imbalance" in d.value.columns]
    assert set(l2["book_imbalance"]) == {"unavailable"}


def test_many_skipped_symbols_are_one_warning_and_a_list_not_a_wall_of_warnings() -> None:
    """Five bad symbols: one warning naming the first three and the count, every reason in an
    expander (five warnings, one a symbol, pushed the ranking down the page); the good symbol
    is still ranked."""
    at = start()
    at.segmented_control(key="nav").set_value("Scanner").run()
    bad = ["A/1", "B/2", "C/3", "D/4", "E/5"]
    at.text_input(key="scan:symbols").set_value(", ".join(["SPY", *bad]))
    at.date_input(key="scan:start").set_value(dt.date(2023, 1, 1))
    at.date_input(key="scan:end").set_value(dt.date(2024, 6, 30))
    at.button[0].click().run()
    assert_clean(at)
    assert warnings_(at) == ["5 symbols skipped: A/1, B/2, C/3, ... (each reason below)"]
    (why,) = [e for e in at.expander if e.label == "Why the 5 symbols were skipped"]
    lines = why.markdown[0].value.split("  \n")
    assert [line.split(":")[0] for line in lines] == bad and all("contains '/'" in line for line in lines)
    assert list(at.dataframe[0].value["symbol"]) == ["SPY"]
