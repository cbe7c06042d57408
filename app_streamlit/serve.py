"""Start the workbench server: ``python -m app_streamlit.serve`` (what ``phi workbench`` runs).

1. Warm up in this process (import pandas, plotly and phi; load the compiled numba kernels by
   running every indicator, a blend and the engine on a small synthetic frame, in memory,
   nothing written), so the first page a browser asks for is served warm.
2. Start Streamlit on ``live_workbench.py`` with the workbench theme (``--theme.*`` flags from
   :mod:`app_streamlit.styles`, so it holds from any working directory), headless, no usage
   statistics.
3. Open a browser on the page once the server answers (unless ``--no-browser``).

The data cache and run history live under ``$PHI_HOME`` (default: the working directory).
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

ENTRY = Path(__file__).resolve().parent / "live_workbench.py"


def streamlit_args(port: int, address: str) -> list[str]:
    """Arguments of ``streamlit run`` for the workbench."""
    from app_streamlit.styles import streamlit_flags

    return [
        "run",
        str(ENTRY),
        f"--server.port={port}",
        f"--server.address={address}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--client.toolbarMode=minimal",
        *streamlit_flags(),
    ]


def warm_up() -> float:
    """Import and exercise the heavy modules once (in memory); returns the seconds it took."""
    t0 = time.perf_counter()
    import plotly.graph_objects  # noqa: F401

    from phi.backtest.engine import EngineConfig, run_backtest
    from phi.blending.blender import blend
    from phi.data.demo import generate_demo
    from phi.indicators.registry import INDICATORS, compute_all_signals

    frame = generate_demo("DEMO", "2018-01-01", "2020-12-31")
    from phi.indicators.rule_specs import PRESET_RULES

    # the price indicators only: the regime engine's (MFT) and the models' (ML) are warmed by use
    names = [n for n, spec in INDICATORS.items() if spec.type not in ("MFT", "ML") and n not in PRESET_RULES]
    signals = compute_all_signals(frame, names)
    sig = blend(signals, "weighted_sum")
    run_backtest(frame, sig, EngineConfig(stop_loss_pct=0.05, take_profit_pct=0.1, trailing_stop_pct=0.05))
    import app_streamlit.charts  # noqa: F401
    import phi.pipeline  # noqa: F401

    # the compiler's garbage (llvmlite objects) freed here, not later by whichever server
    # thread the garbage collector happens to run in
    gc.collect()
    return time.perf_counter() - t0


def _open_when_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:  # noqa: S310 - local URL
                if r.status == 200:
                    webbrowser.open(url)
                    return
        except OSError:
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phi workbench", description="Start the Phi-nance workbench.")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default="localhost")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--no-warmup", action="store_true", help="start the server without warming up")
    args = parser.parse_args(argv)
    if not args.no_warmup:
        print("Warming up (imports, compiled kernels) ...", flush=True)
        print(f"Warm in {warm_up():.1f} s.", flush=True)
    url = f"http://{args.address}:{args.port}"
    print(f"Phi-nance workbench on {url}  (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        threading.Thread(target=_open_when_up, args=(url,), daemon=True).start()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", *streamlit_args(args.port, args.address)]
    try:
        stcli.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
