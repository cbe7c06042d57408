"""Workbench speed in a real browser (Playwright + Debian's Chromium): not a test, a measurement.

    .venv/bin/python benchmarks/bench_workbench.py                 # prints the table
    .venv/bin/python benchmarks/bench_workbench.py --write         # and replaces "## Workbench" in RESULTS.md
    .venv/bin/python benchmarks/bench_workbench.py --repeat 3 --skip-million

What is measured (each server in a fresh temporary ``PHI_HOME``):

1. Server start: ``python -m app_streamlit.serve`` (what ``phi workbench`` runs) until
   ``/_stcore/health`` answers, with the warm-up (kernels loaded before serving) and without.
2. First page after the server is up: ``page.goto`` until the title is visible, until the
   candlestick of the auto-loaded demo dataset is drawn, and until the script run is over
   (Streamlit's status widget gone). For the first session of the process and for later ones.
3. 10 years of daily demo bars (2015-01-01 .. 2024-12-31): click on *Run backtest* until the
   results of the new run are drawn (new run id in the results header, the KPI strip and the
   Summary tab's equity chart drawn, script run over), median of ``--repeat`` runs after one
   warm-up run; whether the KPI strip and the exports sit inside the first 1440 × 900 viewport;
   then each results tab, click -> its chart or table drawn (median over the tabs and rounds).
4. 1,000,000 one-minute demo bars: fetch time, the largest number of points any chart trace
   holds in the browser (``gd.data[i].x.length`` of every plotly chart), the bytes the browser
   receives for the page, a widget change (re-run of the page) with the data loaded, and a
   backtest on the million bars.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
MAX_POINTS_JS = """() => Math.max(0, ...Array.from(document.querySelectorAll('.js-plotly-plot'))
    .flatMap(gd => (gd._fullData || []).map(t => t._length || 0)))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m app_streamlit.serve`` in a temporary PHI_HOME; ``up_s`` = launch -> health."""

    def __init__(self, warm: bool) -> None:
        self.home = tempfile.mkdtemp(prefix="phi_bench_wb_")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "app_streamlit.serve", "--port", str(self.port), "--address", "127.0.0.1", "--no-browser"]
        if not warm:
            args.append("--no-warmup")
        self.log = open(Path(self.home) / "server.log", "w")  # noqa: SIM115
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(args, cwd=self.home, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PHI_HOME": self.home, "PYTHONUNBUFFERED": "1"})
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError((Path(self.home) / "server.log").read_text())
            time.sleep(0.05)
        self.up_s = time.perf_counter() - t0
        text = (Path(self.home) / "server.log").read_text()
        m = re.search(r"Warm in ([0-9.]+) s", text)
        self.warm_s = float(m.group(1)) if m else 0.0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


VIEWPORT = {"width": 1440, "height": 900}
IDLE_JS = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"
#: counts script runs in the page (each transition of Streamlit's script state to "running")
COUNT_RUNS_JS = """
window.__phiRuns = 0;
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.getAttribute && r.target.getAttribute('data-test-script-state') === 'running' && r.oldValue !== 'running') {
      window.__phiRuns += 1;
    }
  }
}).observe(document, {attributes: true, subtree: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
"""


def _key(key: str) -> str:
    return ".st-key-" + key.replace(":", "-") + ":not([data-stale='true'])"


def _runs(page: Any) -> int:
    return int(page.evaluate("() => window.__phiRuns || 0"))


def _idle(page: Any, after: int | None = None, timeout: float = 600_000) -> None:
    """Wait until a script run that started after the run count ``after`` has finished."""
    if after is not None:
        page.wait_for_function("(n) => (window.__phiRuns || 0) > n", arg=after, timeout=timeout)
    page.wait_for_function(IDLE_JS, timeout=timeout)


def _new_page(browser: Any) -> Any:
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script(COUNT_RUNS_JS)
    return page


def _first_page(browser: Any, url: str) -> dict[str, float]:
    page = _new_page(browser)
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    page.locator(".phi-title").first.wait_for(timeout=120_000)
    title = time.perf_counter() - t0
    page.locator(".phi-card").first.wait_for(timeout=120_000)
    summary = time.perf_counter() - t0
    page.locator(_key("chart:dataset") + " .js-plotly-plot").wait_for(timeout=120_000)
    chart = time.perf_counter() - t0
    _idle(page, 0)
    done = time.perf_counter() - t0
    page.close()
    return {"title": title, "summary": summary, "chart": chart, "done": done}


def _set_dates(page: Any, start: str, end: str) -> None:
    for key, value in (("ds:start", start), ("ds:end", end)):
        if page.locator(_key(key) + " input[type=date]").input_value() == value:
            continue  # unchanged: no re-run to wait for
        n = _runs(page)
        page.locator(_key(key)).get_by_role("spinbutton").first.click()  # the year segment
        page.keyboard.type(value.replace("-", ""))
        page.locator(".phi-title").click()  # the value is committed on blur
        _idle(page, n)


def _choose(page: Any, label: str, option: str) -> None:
    n = _runs(page)
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    _idle(page, n)


def _run(page: Any) -> float:
    """Click Run backtest; seconds until the new run's results are drawn (its id in the ribbon,
    the Summary tab's KPIs shown, the script run over)."""
    success = page.locator("[data-testid='stAlertContentSuccess']").filter(has_text="saved:")
    before = success.inner_text() if success.count() else ""
    n = _runs(page)
    t0 = time.perf_counter()
    page.locator(_key("run:go") + " button").click()
    page.wait_for_function(
        """(before) => { const el = Array.from(document.querySelectorAll("[data-testid='stAlertContentSuccess']"))
              .find(e => e.innerText.includes('saved:')); return el && el.innerText !== before; }""",
        arg=before, timeout=600_000,
    )  # fmt: skip
    run_id = re.search(r"Run (\S+) saved", success.inner_text()).group(1)  # type: ignore[union-attr]
    page.locator(".phi-run-name", has_text=run_id).wait_for(timeout=600_000)
    page.locator(".phi-card:visible").first.wait_for(timeout=600_000)
    page.locator(_key("res:chart:overview") + " .js-plotly-plot").wait_for(timeout=600_000)
    _idle(page, n)
    return time.perf_counter() - t0


def _kpis_in_first_viewport(page: Any) -> bool:
    """True when every KPI card and the three export buttons end inside the first viewport."""
    boxes = [page.locator(".phi-card:visible").nth(i).bounding_box() for i in range(page.locator(".phi-card:visible").count())]
    boxes += [page.locator(_key(k)).bounding_box() for k in ("res:dl:trades", "res:dl:report", "res:dl:config")]
    return bool(boxes) and all(b is not None and b["y"] + b["height"] <= VIEWPORT["height"] for b in boxes)


#: seconds from each results-tab click until its chart or table was visible (before the run was over)
_VISIBLE: list[float] = []


def _tab(page: Any, name: str, chart_key: str) -> float:
    """Open a results tab; seconds until its chart (or, for ``table:``, its table) is drawn and
    the script run is over (the time until it was visible goes to ``_VISIBLE``)."""
    n = _runs(page)
    t0 = time.perf_counter()
    page.get_by_role("tab", name=name, exact=True).click()
    if chart_key == "table:":
        page.get_by_role("tabpanel", name=name, exact=True).locator("[data-testid='stDataFrame']").first.wait_for(
            timeout=600_000
        )
    elif ":chart:" in chart_key:
        page.locator(_key(chart_key) + " .js-plotly-plot").first.wait_for(timeout=600_000)
    else:
        page.locator(_key(chart_key)).first.wait_for(timeout=600_000)
    _VISIBLE.append(time.perf_counter() - t0)
    _idle(page, n)
    return time.perf_counter() - t0


RESULT_TABS = (("Equity & drawdown", "res:chart:equity"), ("Price & trades", "res:chart:price"),
               ("Trades", "res:chart:pnl"), ("Metrics", "table:"), ("Signals", "res:chart:signals"),
               ("Summary", "res:chart:overview"))


def _fetch(page: Any) -> float:
    """Click Fetch & cache; seconds until the summary strip shows the new bar count."""
    before = page.locator(".phi-card").nth(1).inner_text()
    n = _runs(page)
    t0 = time.perf_counter()
    page.locator(_key("ds:fetch") + " button").first.click()
    page.wait_for_function(
        "(before) => { const c = document.querySelectorAll('.phi-card')[1]; return c && c.innerText !== before; }",
        arg=before, timeout=600_000,
    )  # fmt: skip
    page.locator(_key("chart:dataset") + " .js-plotly-plot").first.wait_for(timeout=600_000)
    _idle(page, n)
    return time.perf_counter() - t0


def bench(repeat: int, million: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        # 1 + 2 without warm-up
        cold = Server(warm=False)
        try:
            out["cold_up"] = cold.up_s
            out["cold_first"] = _first_page(browser, cold.url)
        finally:
            cold.stop()
        # 1 + 2 with warm-up (phi workbench)
        srv = Server(warm=True)
        try:
            out["warm_up"], out["warm_s"] = srv.up_s, srv.warm_s
            out["first"] = _first_page(browser, srv.url)
            later = [_first_page(browser, srv.url) for _ in range(repeat)]
            out["later"] = {k: statistics.median(r[k] for r in later) for k in later[0]}

            # 3. ten years of daily bars, click -> drawn results
            page = _new_page(browser)
            page.goto(srv.url, wait_until="domcontentloaded")
            page.locator(_key("chart:dataset") + " .js-plotly-plot").wait_for(timeout=120_000)
            _idle(page, 0)
            _set_dates(page, "2015-01-01", "2024-12-31")
            _fetch(page)
            bars = page.locator(".phi-card").nth(1).inner_text()
            _run(page)  # warm-up run
            runs = [_run(page) for _ in range(repeat)]
            out["daily_bars"] = bars.split("\n")[-1]
            out["daily_runs"] = runs
            out["daily_kpis_visible"] = _kpis_in_first_viewport(page)
            page.screenshot(path=str(Path(srv.home) / "results.png"))
            _tab(page, "Equity & drawdown", "res:chart:equity")  # first visit of each tab builds its figure
            for name, key in RESULT_TABS[1:]:
                _tab(page, name, key)
            _VISIBLE.clear()
            switches = [_tab(page, name, key) for _ in range(max(1, repeat // 2)) for name, key in RESULT_TABS]
            out["daily_tab_visible"] = statistics.median(_VISIBLE)
            out["daily_tab_visible_max"] = max(_VISIBLE)
            out["daily_tab"] = statistics.median(switches)
            out["daily_tab_max"] = max(switches)
            out["daily_points"] = page.evaluate(MAX_POINTS_JS)

            # 4. a million one-minute bars
            if million:
                received: list[int] = []
                page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
                page.reload(wait_until="domcontentloaded")
                page.locator(_key("chart:dataset") + " .js-plotly-plot").wait_for(timeout=120_000)
                _idle(page, 0)
                _choose(page, "Timeframe", "1m")
                _set_dates(page, "2015-01-01", "2024-10-31")
                received.clear()
                out["m_fetch"] = _fetch(page)
                out["m_fetch_bytes"] = sum(received)
                out["m_bars"] = page.locator(".phi-card").nth(1).inner_text().split("\n")[-1]
                out["m_points"] = page.evaluate(MAX_POINTS_JS)
                received.clear()
                _tab(page, "4 · Execution", "ex:allow_short")
                n = _runs(page)
                t0 = time.perf_counter()
                page.locator(_key("ex:allow_short") + " label").click()
                _idle(page, n)
                out["m_fragment"] = time.perf_counter() - t0
                out["m_fragment_bytes"] = sum(received)
                received.clear()
                _tab(page, "2 · Indicators", "ind:rsi:enabled")
                n = _runs(page)
                t0 = time.perf_counter()
                page.locator(_key("ind:rsi:enabled") + " label").click()  # a full page re-run
                _idle(page, n)
                out["m_rerun"] = time.perf_counter() - t0
                out["m_rerun_bytes"] = sum(received)
                n = _runs(page)
                page.locator(_key("ind:rsi:enabled") + " label").click()
                _idle(page, n)
                received.clear()
                out["m_run"] = _run(page)
                out["m_run_bytes"] = sum(received)
                received.clear()
                out["m_tabs"] = {
                    name: _tab(page, name, key)
                    for name, key in (("Equity & drawdown", "res:chart:equity"), ("Price & trades", "res:chart:price"),
                                      ("Trades", "res:chart:pnl"), ("Signals", "res:chart:signals"))
                }
                out["m_tabs_bytes"] = sum(received)
                out["m_points_results"] = page.evaluate(MAX_POINTS_JS)
            page.close()
        finally:
            srv.stop()
        browser.close()
    out["load_after"] = os.getloadavg()[0]
    return out


def table(r: dict[str, Any], repeat: int) -> str:
    import platform
    from importlib.metadata import version

    import streamlit

    med = statistics.median(r["daily_runs"])
    lines = [
        f"`benchmarks/bench_workbench.py`, CPython {platform.python_version()}, streamlit {streamlit.__version__}, "
        f"playwright {version('playwright')}, Debian Chromium (headless), {os.cpu_count()} CPUs; the "
        "browser and the server share the machine (1-minute load average "
        f"{r['load_before']:.1f} at the start, {r['load_after']:.1f} at the end: other work was running). "
        f"Times in seconds; medians of {repeat} where marked. Viewport 1440 × 900.",
        "",
        "| what | measured | target |",
        "|---|---:|---|",
        f"| server start → health, `phi workbench` (warm-up {r['warm_s']:.1f} s included) | {r['warm_up']:.2f} | – |",
        f"| server start → health, no warm-up (`streamlit run`) | {r['cold_up']:.2f} | – |",
        f"| first page, first session: title and form visible | {r['first']['title']:.2f} | < 3 s |",
        f"| first page, first session: demo dataset summary strip visible | {r['first']['summary']:.2f} | < 3 s |",
        f"| first page, first session: demo candlestick drawn (after plotly.js, 4.7 MB, loads) | {r['first']['chart']:.2f} | |",
        f"| first page, first session: script run over (all of Step 1–5 drawn) | {r['first']['done']:.2f} | |",
        f"| first page, later sessions (median): summary / candlestick / all drawn | {r['later']['summary']:.2f} / {r['later']['chart']:.2f} / {r['later']['done']:.2f} | |",
        f"| first page without warm-up, first session: candlestick / all drawn | {r['cold_first']['chart']:.2f} / {r['cold_first']['done']:.2f} | (for comparison) |",
        f"| 10 years daily ({r['daily_bars']} bars), click → results drawn, median of {repeat} (min {min(r['daily_runs']):.2f}, max {max(r['daily_runs']):.2f}) | **{med:.2f}** | ≤ 1 s |",
        f"| … KPI strip and exports inside the first 1440 × 900 viewport after the run | {'yes' if r['daily_kpis_visible'] else '**no**'} | yes |",
        f"| … results tab switch (6 tabs, already opened once), click → chart or table visible, median (max {r['daily_tab_visible_max']:.2f}) | **{r['daily_tab_visible']:.2f}** | ≤ 0.5 s |",
        f"| … the same switches, click → visible and the fragment's re-run over, median (max {r['daily_tab_max']:.2f}) | {r['daily_tab']:.2f} | – |",
        f"| largest chart trace in the browser, 10-year daily page | {r['daily_points']:,} points | ≤ ~10,000 |",
    ]
    if "m_fetch" in r:
        lines += [
            f"| 1m demo bars: {r['m_bars']} bars — fetch & cache (generate, health, parquet) and draw | {r['m_fetch']:.2f} | – |",
            f"| … bytes the browser received for that page | {r['m_fetch_bytes'] / 1e6:.1f} MB | – |",
            f"| … largest chart trace in the browser (dataset, signals, blend) | {r['m_points']:,} points | ≤ ~10,000 |",
            f"| … an execution setting changed (re-runs Step 4 only) | {r['m_fragment']:.2f} ({r['m_fragment_bytes'] / 1e6:.2f} MB) | responsive |",
            f"| … an indicator switched off (re-runs the whole page, charts from the session store) | {r['m_rerun']:.2f} ({r['m_rerun_bytes'] / 1e6:.1f} MB) | responsive |",
            f"| … click → results drawn for a backtest on the million bars | {r['m_run']:.2f} ({r['m_run_bytes'] / 1e6:.1f} MB) | – |",
            "| … then each results tab, click → chart drawn: "
            + ", ".join(f"{k} {v:.2f}" for k, v in r["m_tabs"].items())
            + f" ({r['m_tabs_bytes'] / 1e6:.1f} MB for the four) | | – |",
            f"| … largest chart trace in the browser after all tabs were opened | {r['m_points_results']:,} points | ≤ ~10,000 |",
        ]
    lines += [
        "",
        "Reading: the charts wait for Streamlit's plotly.js bundle (4.7 MB) to download and compile in the",
        "browser. A run re-draws only what is visible: the Results section (KPI strip, exports, the open",
        "results tab); hidden set-up sections keep their widgets but draw no charts. A results tab switch",
        "re-runs only the Results fragment (a whole page re-run is ~0.1 s on the server with AppTest; ~0.3 s",
        "of a switch is the fragment round trip, the rest plotly drawing the tab's chart). Charts never hold",
        "more than ~10,000 points per trace whatever the data size; tables hold at most 10,000 trades.",
    ]
    return "\n".join(lines) + "\n"


def write(section: str) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    block = "## Workbench\n\n" + section
    m = re.search(r"^## Workbench\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
    text = text[: m.start()] + block + ("\n" + text[m.end():] if m.end() < len(text) else "") if m else text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-million", action="store_true")
    ap.add_argument("--write", action="store_true", help="replace the '## Workbench' section of RESULTS.md")
    args = ap.parse_args()
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)")
        return 1
    r = bench(args.repeat, not args.skip_million)
    section = table(r, args.repeat)
    print("## Workbench\n\n" + section)
    if args.write:
        write(section)
        print("wrote the '## Workbench' section of benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
