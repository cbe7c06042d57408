"""Pages other than the Workbench in a real browser (Playwright driving Debian's Chromium,
RECIPES §2b). The Batch page: what a trader types there, without pressing Run batch, is still
there after a trip to the Workbench (the page was an ``st.form`` whose edits lived in the browser
until submitted and were lost on a trip to another page). Screenshot:
``tests/artifacts/30_batch_after_another_page.png``. The Scanner's heatmap names every regime
whole; the Run history's and the Scanner's tables show every column at 1280 px.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, _idle, _key, _nav, _open, chromium_page

TYPED = {"batch:symbols": "AAA, BBB", "batch:grid": "period=6,10", "batch:workers": "3"}


def _fields(page: Any) -> dict[str, str]:
    out = {k: page.locator(_key(k) + " input").first.input_value() for k in TYPED}
    out["run on"] = page.locator(_key("batch:where") + " input[role=combobox]").input_value()
    return out


def test_batch_edits_survive_another_page(server: str) -> None:
    from playwright.sync_api import expect

    with chromium_page("failure_batch.png") as page:
        _open(page, server, "Batch")
        for key, value in TYPED.items():
            box = page.locator(_key(key) + " input").first
            box.fill(value)
            box.press("Tab")  # committed on blur
            _idle(page)
        page.locator(_key("batch:where")).click()
        page.get_by_role("option", name="this process (no Dask)", exact=True).click()
        _idle(page)
        want = {**TYPED, "run on": "this process (no Dask)"}
        assert _fields(page) == want
        _nav(page, "Workbench")
        page.get_by_role("tab", name="3 · Blend", exact=True).click()
        _idle(page)
        _nav(page, "Batch")
        assert _fields(page) == want  # was: DEMO, DEMO2, ... / period=7..28:7 / 2 / local workers
        expect(page.get_by_role("button", name="Run batch")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "30_batch_after_another_page.png"))


def test_scanner_heatmap_names_every_regime_whole(server: str) -> None:
    """A scan of the default universe (demo data): the heatmap's regime names are inside the chart
    and none runs into the next at 1440 or 1280 px ("BREAKOUT_UP" met "BREAKOUT_DN" at 1280)."""
    from playwright.sync_api import expect

    from tests.e2e.fit import check_tick_labels

    with chromium_page("failure_scanner.png") as page:
        _open(page, server, "Scanner")
        page.locator(_key("scan:go") + " button").click()
        _idle(page)
        chart = page.locator(_key("scan:heatmap") + " .js-plotly-plot")
        expect(chart).to_be_visible(timeout=300_000)
        check_tick_labels(page, chart, 8, exact=True)  # the eight regimes
        chart.screenshot(path=str(ARTIFACTS / "31_scanner_heatmap.png"))


#: [scrollWidth, clientWidth] of each drawn table's scroller (glide-data-grid draws the cells on
#: a canvas; the scroller's scroll width is the columns' total width)
WIDTHS_JS = """() => Array.from(document.querySelectorAll('[data-testid=stDataFrame] .dvn-scroller'))
  .filter(e => e.offsetParent !== null).map(e => [e.scrollWidth, e.clientWidth])"""


def _every_column_on_screen(page: Any, what: str, tables: int) -> None:
    """At 1440 x 900 and 1280 x 720 (left so): ``tables`` tables drawn, none wider than its box
    (no horizontal scroll: every column on screen); a screenshot of each size."""
    for width, height in ((1440, 900), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(800)
        drawn = page.evaluate(WIDTHS_JS)
        assert len(drawn) == tables, (width, drawn)
        for scroll, client in drawn:  # was 1938 > 958 (history), 1806 > 958 (scanner) at 1440
            assert scroll <= client, (what, width, drawn)
        page.screenshot(path=str(ARTIFACTS / f"32_{what}_{width}.png"))


def test_history_and_scanner_tables_show_every_column_without_a_sideways_scroll(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Eleven saved runs (one with a long name: three indicators, regime_weighted) and a scan of
    the default universe: each table shows all its columns at 1280 and 1440 px, the sidebar open
    (both had 18 columns, those past "created" and "top species" off to the right). What left the
    tables is one click away: a run's id, date, data, tags and description under One run once its
    row is ticked; each symbol's top species, bars and level-2 features in the scanner's
    expander, whose two tables fit too. Screenshots: ``tests/artifacts/32_*.png``."""
    from playwright.sync_api import expect

    from phi.backtest.run_config import DatasetSpec, RunConfig
    from phi.pipeline import run

    monkeypatch.setenv("PHI_HOME", str(tmp_path / "home"))  # the server's (conftest.server)
    ids = []
    for i, (indicators, symbol) in enumerate(itertools.product((["rsi"], ["macd"], ["rsi", "macd"], ["bollinger"], ["rsi", "bollinger"]), ("DEMO", "DEMO2"))):  # fmt: skip
        ids.append(run(RunConfig(DatasetSpec(symbol, start="2021-01-01", end="2022-12-31"), indicators,
                                 description=f"history width {i}", tags=("width",))).run_id)  # fmt: skip
    ids.append(run(RunConfig(DatasetSpec("DEMO", start="2020-01-01", end="2024-12-31"), ["rsi", "macd", "bollinger"],
                             blend={"mode": "regime_weighted"})).run_id)  # fmt: skip
    with chromium_page("failure_table_widths.png", viewport={"width": 1280, "height": 720}) as page:
        _open(page, server, "Run history")
        table = page.locator("[data-testid=stDataFrame]").first
        expect(table).to_be_visible(timeout=60_000)
        _every_column_on_screen(page, "history", 1)
        box = table.bounding_box()
        assert box is not None
        # the third row's tick box (newest first): 35 px rows under a 35 px header
        page.mouse.click(box["x"] + 17, box["y"] + 35 + 35 * 2 + 17)
        _idle(page)
        details = page.locator(_key("hist:details"))
        expect(details).to_contain_text(str(ids[-3]))
        expect(details).to_contain_text("DEMO 1D · 2021-01-01 → 2022-12-31")
        expect(details).to_contain_text("history width 8")
        picked = page.locator(_key("hist:selected") + " input[role=combobox]")  # One run's too
        expect(picked).to_have_value("rsi+bollinger · DEMO 1D · 2021–2022 · #9")
        page.screenshot(path=str(ARTIFACTS / "32_history_row_details.png"))

        _nav(page, "Scanner")
        for _ in range(2):  # the second from the cache: "(cached)", the widest "last bar"
            page.locator(_key("scan:go") + " button").click()
            _idle(page)
            expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible(timeout=300_000)
        expect(page.get_by_text("L2 quotes: not requested")).to_be_visible()
        _every_column_on_screen(page, "scanner", 1)
        page.locator(_key("scan:details")).get_by_text("Top species", exact=False).click()
        _idle(page)
        level2 = page.locator(_key("scan:details") + " [data-testid=stDataFrame]").last
        expect(level2).to_be_visible()
        _every_column_on_screen(page, "scanner_details", 3)
