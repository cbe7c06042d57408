"""``phi workbench``: start the Streamlit workbench."""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def workbench(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option("--address", help="Address to bind (0.0.0.0 for all interfaces).")] = "localhost",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a browser once the server is up.")] = True,
    warmup: Annotated[bool, typer.Option("--warmup/--no-warmup", help="Load the compiled kernels before serving.")] = True,
) -> None:
    """Start the Streamlit workbench (demo dataset preselected; data and runs under $PHI_HOME or here)."""
    import os

    args = ["--port", str(port), "--address", address]
    args += [] if browser else ["--no-browser"]
    args += [] if warmup else ["--no-warmup"]
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "app_streamlit.serve", *args])

