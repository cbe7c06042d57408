"""The workbench in a real browser (Playwright driving Debian's Chromium, RECIPES §2b).

Starts the server (``python -m app_streamlit.serve``) on a free port, picks the demo dataset,
adds two indicators, runs a backtest, checks the equity chart and the trades table, runs a
second backtest, opens the run history and compares the two runs. Screenshots of each step are
saved under ``tests/artifacts/``. Skipped only when /usr/bin/chromium is absent (``.ci/run``
installs it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "app_streamlit.serve", "--port", str(port), "--address", "127.0.0.1", "--no-browser"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("the workbench server did not start:\n" + (tmp_path / "streamlit.log").read_text()[-3000:])
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
        log.close()


def _idle(page) -> None:  # noqa: ANN001 - a playwright Page
    """Wait until the script run the last interaction started has finished."""
    page.wait_for_timeout(200)
    page.wait_for_function(IDLE_JS, timeout=120_000)


IDLE_JS = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"


def _key(key: str) -> str:
    """CSS selector of the container Streamlit gives a widget with ``key``."""
    return ".st-key-" + key.replace(":", "-") + ":not([data-stale='true'])"


def test_demo_backtest_compare_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            _drive(page, server)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        assert not errors, errors
        browser.close()


def _drive(page, server: str) -> None:  # noqa: ANN001 - a playwright Page
    from playwright.sync_api import expect

    page.goto(server, wait_until="domcontentloaded")
    page.get_by_text("Phi-nance workbench").first.wait_for(timeout=60_000)

    # 1. the demo dataset: vendor demo, symbol DEMO, Fetch & cache
    page.get_by_role("combobox", name="Vendor").click()
    page.get_by_role("option", name="demo — synthetic, offline").click()
    expect(page.get_by_role("combobox", name="Vendor")).to_have_value("demo — synthetic, offline")
    symbol = page.locator(_key("ds:symbol") + " input")
    symbol.fill("DEMO")
    symbol.press("Enter")
    page.locator(_key("ds:fetch") + " button").click()
    expect(page.get_by_text("SYNTHETIC DEMO DATA").first).to_be_visible(timeout=60_000)
    expect(page.locator(_key("chart:dataset") + " .js-plotly-plot")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "01_dataset.png"))

    # 2. add two indicators (rsi and macd are preselected; add bollinger and dual_sma)
    for name in ("bollinger", "dual_sma"):
        page.locator(_key(f"ind:{name}:add") + " button").click()
        expect(page.locator(_key(f"chart:ind:{name}") + " .js-plotly-plot")).to_be_visible(timeout=60_000)
    page.locator(_key("chart:blend")).first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "02_indicators.png"))

    # 3. run: the equity chart and the trades table
    page.locator(_key("run:go") + " button").click()
    expect(page.get_by_text("saved:").first).to_be_visible(timeout=120_000)
    page.get_by_role("tab", name="Equity & drawdown", exact=True).click()
    equity = page.locator(_key("res:chart:equity") + " .js-plotly-plot")
    expect(equity).to_be_visible(timeout=30_000)
    equity.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "03_equity.png"))
    page.get_by_role("tab", name="Trades", exact=True).click()
    panel = page.get_by_role("tabpanel", name="Trades", exact=True)
    expect(panel.locator("[data-testid='stDataFrame']")).to_be_visible(timeout=30_000)
    expect(page.locator(_key("res:chart:pnl") + " .js-plotly-plot")).to_be_visible(timeout=30_000)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "04_trades.png"))

    # 4. a second run with shorts allowed
    first = page.locator("[data-testid='stAlertContentSuccess']").filter(has_text="saved:").inner_text()
    page.locator(_key("ex:allow_short") + " label").click()
    expect(page.locator(_key("ex:allow_short") + " input")).to_be_checked()
    _idle(page)
    page.locator(_key("run:go") + " button").click()
    success = page.locator("[data-testid='stAlertContentSuccess']").filter(has_text="saved:")
    expect(success).not_to_have_text(first, timeout=120_000)
    expect(success).to_be_visible()
    _idle(page)

    # 5. run history: compare the two runs
    page.locator(_key("nav")).get_by_text("Run history").click()
    expect(page.get_by_text("Compare runs")).to_be_visible(timeout=30_000)
    compare = page.locator(_key("hist:compare"))
    for _ in range(2):
        compare.locator("input").click()
        page.get_by_role("option").first.click()
        page.keyboard.press("Escape")
    chart = page.locator(_key("hist:chart:compare") + " .js-plotly-plot")
    expect(chart).to_be_visible(timeout=30_000)
    expect(chart.locator(".legendtext")).to_have_count(2)
    expect(page.get_by_text("Config differences")).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 2200})
    page.get_by_text("Compare runs").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "05_compare.png"))


def test_cancel_stops_a_long_run_in_a_real_browser(server: str) -> None:
    """A walk-forward phiai run refreshed every bar over 25 years takes many seconds; Cancel stops
    it during its blend stage and nothing is saved."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(server, wait_until="domcontentloaded")
            expect(page.locator(_key("chart:dataset") + " .js-plotly-plot")).to_be_visible(timeout=60_000)
            _idle(page)
            page.locator(_key("ds:start")).get_by_role("spinbutton").first.click()
            page.keyboard.type("20000101")
            page.get_by_text("Phi-nance workbench").first.click()  # a date is committed on blur
            _idle(page)
            page.locator(_key("ds:fetch") + " button").click()
            expect(page.get_by_text("2000-01-03").first).to_be_visible(timeout=60_000)
            _idle(page)
            page.get_by_role("combobox", name="Blend mode").click()
            page.keyboard.type("phiai")
            page.keyboard.press("Enter")
            _idle(page)
            step = page.locator(_key("bl:step") + " input")
            step.fill("1")
            step.press("Enter")
            _idle(page)
            page.locator(_key("run:go") + " button").click()
            expect(page.get_by_text("blend signals ·").first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "07_running.png"))
            page.locator(_key("run:cancel") + " button").click()
            expect(page.get_by_text("Run cancelled during").first).to_be_visible(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "08_cancelled.png"))
            page.locator(_key("nav")).get_by_text("Run history").click()
            expect(page.get_by_text("No saved runs yet")).to_be_visible(timeout=30_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure_cancel.png"), full_page=True)
            raise
        finally:
            browser.close()
