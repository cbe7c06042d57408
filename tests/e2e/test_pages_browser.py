"""The Batch page in a real browser (Playwright driving Debian's Chromium, RECIPES §2b): what a
trader types there, without pressing Run batch, is still there after a trip to the Workbench.
The page was an ``st.form`` whose edits lived in the browser until submitted and were lost on a
trip to another page. Screenshot: ``tests/artifacts/30_batch_after_another_page.png``.
"""

from __future__ import annotations

from typing import Any

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
