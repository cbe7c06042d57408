"""The PhiAI panel in a real browser (Playwright driving Debian's Chromium, RECIPES §2b): what a
trader types there, without pressing Run PhiAI, is still there after switching the mode both
ways and after a trip to the Workbench's Blend step. The panel was an ``st.form`` whose edits
lived in the browser until submitted: 'Max indicators' went back to 3 on a mode switch and every
field to its default after another page. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import ARTIFACTS, _idle, _key, _nav, _open, _type, chromium_page
from tests.e2e.fit import check_tick_labels

FULL_AUTO = "Full auto: choose from every indicator"
CHOOSE = "Tune the indicators I choose"
TYPED = {"ai:max_indicators": "5", "ai:trials": "37", "ai:dd_cap_pct": "12.00", "ai:min_trades": "4"}


def _fields(page: Any) -> dict[str, str]:
    out = {k: page.locator(_key(k) + " input").first.input_value() for k in TYPED}
    out["metric"] = page.locator(_key("ai:metric") + " input[role=combobox]").input_value()
    tags = page.locator(_key("ai:indicators") + " [aria-label='Selected values']").first.locator("[data-tag]")
    out["indicators"] = " ".join(t.get_attribute("aria-label") or "" for t in tags.all())
    return out


def _check_fields(page: Any, want: dict[str, str], seconds: float = 15.0) -> None:
    """The PhiAI fields read ``want`` within ``seconds`` (a script run still finishing may
    redraw a field after the page looked idle; it failed once reading one mid-redraw)."""
    deadline = time.monotonic() + seconds
    while (got := _fields(page)) != want and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert got == want


def test_phiai_edits_survive_mode_switches_and_another_page(server: str) -> None:
    from playwright.sync_api import expect

    with chromium_page("failure_phiai.png") as page:
        _open(page, server, "PhiAI")
        page.get_by_text(FULL_AUTO).click()
        _idle(page)
        for key, value in TYPED.items():
            _type(page, key, value)
        page.locator(_key("ai:metric")).click()
        page.get_by_role("option", name="sortino", exact=True).click()
        _idle(page)
        page.get_by_text(CHOOSE).click()
        _idle(page)
        page.locator(_key("ai:indicators") + " input").first.click()
        page.keyboard.type("roc")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        _idle(page)
        want = {**TYPED, "metric": "sortino", "indicators": "rsi macd roc"}
        _check_fields(page, want)
        # the user's own choice of indicators says what Step 2 has, and offers it back
        expect(page.get_by_text("Your own choice (kept). Step 2 has: rsi, macd.")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "20_phiai_after_mode_switch.png"))
        page.get_by_text(FULL_AUTO).click()
        _idle(page)
        _check_fields(page, want)
        page.get_by_text(CHOOSE).click()
        _idle(page)
        _nav(page, "Workbench")
        page.get_by_role("tab", name="3 · Blend", exact=True).click()
        _idle(page)
        _nav(page, "PhiAI")
        _check_fields(page, want)
        expect(page.get_by_role("radio", name=CHOOSE)).to_be_checked()
        page.screenshot(path=str(ARTIFACTS / "21_phiai_after_another_page.png"))


def test_a_full_auto_search_draws_its_fold_chart_whole(server: str) -> None:
    """A small full-auto search (20 trials an indicator): the walk-forward fold chart's x labels
    are all inside the chart and none over another, at 1440 and 1280 px. They were one tilted
    "vwap_dev · fold 5" per bar pair, cut by the chart's bottom edge."""
    from playwright.sync_api import expect

    with chromium_page("failure_phiai_report.png") as page:
        _open(page, server, "PhiAI")
        page.get_by_text(FULL_AUTO).click()
        _idle(page)
        _type(page, "ai:trials", "20")
        page.locator(_key("ai:go") + " button").click()
        _idle(page)
        chart = page.locator(_key("ai:chart:folds") + " .js-plotly-plot")
        expect(chart).to_be_visible(timeout=300_000)
        check_tick_labels(page, chart, 6, exact=False)  # 3 indicators x folds, drawn
        chart.screenshot(path=str(ARTIFACTS / "22_phiai_folds.png"))
