"""``streamlit run dashboard.py`` in a real browser (Playwright driving Debian's Chromium): open
each of the seven tabs, scan a small universe on the Phi-Bot tab, and save a screenshot of every
tab to ``tests/artifacts/dashboard_*.png``. The LLM server, the vendors and the quote stream
point at closed loopback ports (no outside address is contacted). Skipped only when
/usr/bin/chromium is absent (``.ci/run`` installs it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    ARTIFACTS,
    ROOT,
    _free_port,
    _idle,
    _key,
    chromium_page,
    streamlit_server,
)

VIEWPORT = {"width": 1440, "height": 1000}
TABS = ["ML Status", "Fetch Data", "MFT Blender", "Phi-Bot", "Plutus Bot", "Backtests", "System Status"]


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, str]]:
    from app_streamlit.styles import streamlit_flags

    port, closed = _free_port(), _free_port()
    dead = f"http://127.0.0.1:{closed}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PHI_HOME": str(tmp_path / "home"), "OLLAMA_HOST": dead,
           "HTTPS_PROXY": dead, "HTTP_PROXY": dead, "https_proxy": dead, "http_proxy": dead, "ALL_PROXY": dead}  # fmt: skip
    env["PHI_STATUS_VENDOR_URLS"] = f"yfinance={dead},alpha_vantage={dead}"
    for key in ("POLYGON_API_KEY", "NO_PROXY", "no_proxy"):
        env.pop(key, None)
    args = ["-m", "streamlit", "run", str(ROOT / "dashboard.py"), f"--server.port={port}",
            "--server.address=127.0.0.1", "--server.headless=true", "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none", *streamlit_flags()]  # fmt: skip
    with streamlit_server(args, port, env, tmp_path, "the dashboard") as url:
        yield url, dead


def _open_tab(page: Any, label: str) -> None:
    page.get_by_role("tab", name=label, exact=True).click()
    _idle(page)


def test_every_dashboard_tab_in_a_real_browser(dashboard: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    url, dead = dashboard
    with chromium_page("dashboard_failure.png", VIEWPORT) as page:
        page.goto(url, wait_until="domcontentloaded")
        expect(page.get_by_role("tab", name="ML Status", exact=True)).to_be_visible(timeout=60_000)
        _idle(page)
        for i, label in enumerate(TABS, 1):
            _open_tab(page, label)
            panel = page.get_by_role("tabpanel", name=label, exact=True)
            expect(panel).to_be_visible(timeout=60_000)
            if label == "Phi-Bot":
                page.locator(_key("scan:symbols") + " input").fill("SPY, QQQ, AAPL, BAD/.., GLD")
                page.get_by_role("button", name="Scan").click()
                _idle(page)
                expect(page.locator(_key("scan:heatmap") + " .js-plotly-plot")).to_be_visible(timeout=60_000)
                expect(page.get_by_text("BAD/.. skipped")).to_be_visible()
                page.locator(_key("scan:heatmap")).screenshot(path=str(ARTIFACTS / "dashboard_4b_phibot_heatmap.png"))
                page.get_by_role("button", name="Run PhiBot backtest").click()
                _idle(page)
                expect(page.locator(_key("scan:phibot:equity") + " .js-plotly-plot")).to_be_visible(timeout=60_000)
                page.locator(_key("scan:phibot:equity")).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "dashboard_4c_phibot_backtest.png"))
                page.locator(_key("scan:symbols")).scroll_into_view_if_needed()
            if label == "Fetch Data":
                expect(page.locator(_key("chart:dataset") + " .js-plotly-plot")).to_be_visible(timeout=60_000)
            if label == "MFT Blender":
                expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
            if label == "System Status":
                expect(page.locator(".phi-status")).to_be_visible(timeout=60_000)
                expect(page.locator(".phi-status")).to_contain_text(f"{dead} not reachable")
            expect(page.locator("[data-testid='stException']")).to_have_count(0)
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / f"dashboard_{i}_{label.lower().replace(' ', '_').replace('-', '')}.png"),
                            full_page=True)  # fmt: skip
