"""``phi workbench``: start the Streamlit workbench."""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def workbench(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option("--address", help="Address to bind (0.0.0.0 for all interfaces).")] = "localhost",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a browser once the server is up.")] = True,
    warmup: Annotated[bool, typer.Option("--warmup/--no-warmup", help="Load the compiled kernels before serving.")] = True,
) -> None:
    """Start the Streamlit workbench (demo dataset preselected; data and runs under $PHI_HOME or here)."""
    import os

    _check_bind(address, port)
    args = ["--port", str(port), "--address", address]
    args += [] if browser else ["--no-browser"]
    args += [] if warmup else ["--no-warmup"]
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "app_streamlit.serve", *args])


def _check_bind(address: str, port: int) -> None:
    """An address that does not resolve or a port already taken is one error line here, not a
    traceback from the Streamlit server after the warm-up."""
    import socket

    from phi.errors import ConfigError

    try:
        family, kind, proto, _, where = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(where)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConfigError(f"cannot serve the workbench on {address}:{port}: {reason}; pick another --port or --address") from None
