"""What the browser tests share (Playwright driving Debian's Chromium, RECIPES §2b).

* **Marks.** Every test collected from this folder is marked ``browser`` and ``slow`` and is
  skipped when /usr/bin/chromium is absent (``.ci/run`` installs it) — except under ``CI=true``
  (``1``/``yes``), where a missing Chromium fails the test instead, as a missing PostgreSQL fails
  the scale-out tests (``tests/scale/conftest.py``).
* **Servers.** :func:`streamlit_server` starts a Streamlit app on a free loopback port and waits
  for its health check; the ``server`` fixture is the workbench (``app_streamlit.serve``) with
  every vendor's proxy pointing at a closed loopback port (no network).
* **Pages.** :func:`chromium_page` (a headless page, a screenshot in ``tests/artifacts/`` on
  failure), :func:`_idle`, :func:`_key`, :func:`_nav`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
VIEWPORT = {"width": 1440, "height": 900}  # chromium_page's default
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
MISSING = f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)"
HERE = Path(__file__).resolve().parent


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this folder's tests ``browser`` and ``slow``, skipped without Chromium (not under CI)."""
    skip = pytest.mark.skipif(not os.path.exists(CHROMIUM) and not _in_ci(), reason=MISSING)
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _chromium_in_ci() -> None:
    """Under CI a browser test never skips: a missing Chromium is an error at its set-up."""
    if _in_ci() and not os.path.exists(CHROMIUM):
        pytest.fail(MISSING)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(args: list[str], port: int, env: dict[str, str], tmp_path: Path, what: str) -> Iterator[str]:
    """``python args...`` (a Streamlit app listening on ``port``) run from the checkout with
    ``env``, its output in ``tmp_path / "streamlit.log"``; yields its URL once ``/_stcore/health``
    answers (the test fails with the log's tail, "``what`` did not start", after 300 s or if the
    process exits); terminated after."""
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"{what} did not start:\n" + (tmp_path / "streamlit.log").read_text()[-3000:])
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
        log.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The workbench's URL (``app_streamlit.serve``), vendors' proxies at a closed port."""
    port = _free_port()
    closed = _free_port()  # nothing listens there: "no network" for the vendors
    proxy = f"http://127.0.0.1:{closed}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PHI_HOME": str(tmp_path / "home"),
           "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy, "http_proxy": proxy, "ALL_PROXY": proxy}
    args = ["-m", "app_streamlit.serve", "--port", str(port), "--address", "127.0.0.1", "--no-browser"]
    with streamlit_server(args, port, env, tmp_path, "the workbench server") as url:
        yield url


IDLE_JS = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"


def _idle(page: Any) -> None:
    """Wait until the script run the last interaction started has finished."""
    page.wait_for_timeout(250)
    page.wait_for_function(IDLE_JS, timeout=120_000)


def _open(page: Any, server: str, view: str) -> None:
    """Load the workbench at ``server`` and go to the sidebar view ``view``."""
    from playwright.sync_api import expect

    page.goto(server, wait_until="domcontentloaded")
    expect(page.locator(_key("nav"))).to_be_visible(timeout=60_000)
    _idle(page)
    _nav(page, view)


def _choose(page: Any, box: str, option: str, tries: int = 3) -> None:
    """Pick ``option`` in the select box labelled ``box``: open it, click the option, and open it
    again if a script run that was still finishing closed the list first (seen in CI)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    _idle(page)
    for attempt in range(tries):
        page.get_by_role("combobox", name=box).click()
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")
            _idle(page)
    _idle(page)


def _key(key: str) -> str:
    """CSS selector of the container Streamlit gives a widget with ``key``."""
    return ".st-key-" + key.replace(":", "-") + ":not([data-stale='true'])"


def _type(page: Any, key: str, value: str) -> None:
    """Type ``value`` into the number or text box of the widget with ``key`` and commit it."""
    box = page.locator(_key(key) + " input").first
    box.fill(value)
    box.press("Tab")  # a number is committed on blur
    _idle(page)


@contextlib.contextmanager
def chromium_page(failure: str, viewport: dict[str, int] | None = None, page_errors: bool = False) -> Iterator[Any]:
    """A page of a headless Chromium (closed after): a full-page screenshot ``failure`` in
    ``tests/artifacts/`` when the block raises, and no JavaScript error on the page unless
    ``page_errors``."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport=cast(Any, viewport or VIEWPORT))  # a ViewportSize dict
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page
        except Exception:
            page.screenshot(path=str(ARTIFACTS / failure), full_page=True)
            raise
        finally:
            browser.close()
    assert page_errors or not errors, errors


def _nav(page: Any, view: str) -> None:
    """Open the sidebar's page ``view``."""
    page.locator(_key("nav")).get_by_text(view, exact=True).click()
    _idle(page)
