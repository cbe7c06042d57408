"""The Regime page in a real browser (Playwright driving Debian's Chromium, RECIPES §2b), on the
built-in offline demo data: a trader changes the engine's settings, runs it, and sees the
regime charts drawn with data, the summary ribbon and its words, no exception box; the settings
typed (run or not yet run) are still there after a trip to the Workbench, and a result they no
longer describe is marked. Screenshots: ``tests/artifacts/40_regime*.png``.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ARTIFACTS, _idle, _key, _nav, _open, _type, chromium_page
from tests.e2e.fit import overlapping

FLOOR = "regime:floor"
SOFT_KINGDOM = "regime:temp:kingdom"
SOFT_GENUS = "regime:temp:genus"
CHARTS = ("regime:chart:probs", "regime:chart:timeline", "regime:chart:composite", "regime:chart:confidence")
#: finite y values of each trace of a chart, by trace name (what Plotly has drawn)
POINTS_JS = """gd => Object.fromEntries((gd._fullData || []).map((t, i) => [t.name || String(i),
  Array.from(t.y || []).filter(v => v !== null && Number.isFinite(Number(v))).length]))"""


def _fields(page: Any) -> dict[str, str]:
    out = {k: page.locator(_key(k) + " input").first.input_value() for k in (SOFT_KINGDOM, SOFT_GENUS)}
    out["floor"] = page.locator(_key(FLOOR) + " input[type=range]").input_value()
    return out


def _advanced(page: Any) -> None:
    """Open the Advanced expander (its fields are drawn, collapsed, on every run)."""
    summary = page.get_by_text("Advanced: how fast and how sharply each taxonomy level reacts")
    if not page.locator(_key(SOFT_GENUS) + " input").first.is_visible():
        summary.click()
        _idle(page)


def test_regime_page_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import expect

    with chromium_page("failure_regime.png") as page:
        _open(page, server, "Regime")
        expect(page.locator(_key("regime:chart:probs") + " .js-plotly-plot")).to_be_visible(timeout=120_000)
        _idle(page)
        expect(page.get_by_text("SYNTHETIC demo data").first).to_be_visible()  # the dataset line says so

        # the trader's settings: minimum confidence 0.30 -> 0.35 (5 steps of 0.01), genus softness 30
        slider = page.locator(_key(FLOOR) + " input[type=range]")
        slider.focus()
        for _ in range(5):
            slider.press("ArrowRight")
        _idle(page)
        _advanced(page)
        _type(page, SOFT_GENUS, "30")
        expect(page.get_by_text("Previous regime result shown")).to_be_visible()  # not run yet: said
        page.locator(_key("regime:go") + " button").click()
        _idle(page)
        expect(page.get_by_text("Previous regime result shown")).to_have_count(0)

        # what a trader sees: the ribbon, its words, four charts with data, the latest bar's table
        cards = page.locator(".phi-card:visible")
        texts = {c.locator(".k").inner_text().strip().lower(): c.locator(".v").inner_text().strip() for c in cards.all()}
        assert set(texts) >= {"dominant regime", "its probability", "composite signal", "confidence", "score",
                              "warm-up bars"}, texts  # fmt: skip
        assert texts["confidence"].endswith("/ min 0.35"), texts
        margin = cards.filter(has_text="confidence").locator(".n").first.inner_text().strip()
        assert margin.startswith("top-two margin "), margin  # the confidence card's second line
        assert texts["dominant regime"] and texts["dominant regime"] not in ("–", "n/a", "None"), texts
        expect(page.get_by_text("is at or above the minimum of 0.35").or_(
            page.get_by_text("is below the minimum of 0.35"))).to_be_visible()  # fmt: skip
        expect(page.get_by_text("How far to trust it")).to_be_visible()
        for key in CHARTS:
            plot = page.locator(_key(key) + " .js-plotly-plot")
            expect(plot).to_be_visible()
            points = plot.evaluate(POINTS_JS)
            assert points and max(points.values()) > 100, (key, points)  # the demo's bars, drawn
        probs = page.locator(_key("regime:chart:probs") + " .js-plotly-plot").evaluate(POINTS_JS)
        assert len(probs) == 8, probs  # the 8 regimes stacked
        expect(page.get_by_text("Latest bar: regime probabilities")).to_be_visible()
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
        page.wait_for_timeout(300)  # plotly's transitions settle before the picture
        page.screenshot(path=str(ARTIFACTS / "40_regime.png"))
        for i, key in enumerate(CHARTS):  # the charts, below the first screen
            page.locator(_key(key)).scroll_into_view_if_needed()
            page.wait_for_timeout(200)
            page.locator(_key(key)).screenshot(path=str(ARTIFACTS / f"40_regime_chart{i + 1}.png"))
        page.locator(_key(CHARTS[0])).scroll_into_view_if_needed()
        # no legend entry runs into the next ("expert agreement (c_consensus)" did, at both widths)
        for width, height in ((1440, 900), (1280, 720)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(800)  # plotly redraws at the new width
            for key in CHARTS:
                chart = page.locator(_key(key) + " .js-plotly-plot")
                assert not overlapping(chart, ".legend .traces"), (key, width, overlapping(chart, ".legend .traces"))
        page.set_viewport_size({"width": 1440, "height": 900})

        # typed without Run, then a trip to the Workbench: every field as the trader left it
        _type(page, SOFT_KINGDOM, "6")
        want = {SOFT_KINGDOM: "6.00", SOFT_GENUS: "30.00", "floor": "0.35"}
        assert _fields(page) == want
        _nav(page, "Workbench")
        page.get_by_role("tab", name="3 · Blend", exact=True).click()
        _idle(page)
        _nav(page, "Regime")
        expect(page.locator(_key("regime:chart:probs") + " .js-plotly-plot")).to_be_visible(timeout=60_000)
        _advanced(page)
        assert _fields(page) == want
        stale = page.get_by_text("Previous regime result shown")
        expect(stale).to_be_visible()
        expect(stale).to_contain_text("softness · kingdom 6 (run: 4)")
        card = page.locator(".phi-card:visible").filter(has_text="confidence").first
        assert card.locator(".v").inner_text().strip().endswith("/ min 0.35")
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "41_regime_after_another_page.png"))
