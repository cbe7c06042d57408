"""System status (``phi doctor`` and the workbench's System status page): every component
with ``ok`` / ``degraded`` / ``failed`` and the reason, in one line each.

Components: Python, required and optional packages, the numba kernel cache, the data vendors
(demo always; yfinance and Alpha Vantage reachable or not, key present or not — a key is never
shown), the data cache and the run history (writable, sizes), the run index database
(``$PHI_DB_URL`` or SQLite under ``PHI_HOME``), Dask (when ``$PHI_DASK_SCHEDULER`` is set),
stored models (``PHI_HOME/models``), the level-2 quote key and the LLM server (Plutus).

Nothing here writes to disk except a probe file that is removed at once, and every network
check waits at most ``timeout`` seconds. The vendor URLs checked are :data:`VENDOR_URLS`,
overridable per call or by ``$PHI_STATUS_VENDOR_URLS`` (``yfinance=URL,alpha_vantage=URL``), so
tests point them at loopback.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

__all__ = ["OK", "DEGRADED", "FAILED", "Check", "VENDOR_URLS", "overall", "system_status"]

OK: Final = "ok"
DEGRADED: Final = "degraded"
FAILED: Final = "failed"

#: Where the vendor reachability checks go (any HTTP answer counts as reachable).
VENDOR_URLS: Final[dict[str, str]] = {
    "yfinance": "https://query2.finance.yahoo.com",
    "alpha_vantage": "https://www.alphavantage.co",
}
REQUIRED: Final = ("numpy", "pandas", "pyarrow", "numba", "ta-lib", "plotly", "streamlit", "optuna", "typer",
                   "rich", "yfinance", "requests", "sqlalchemy", "psycopg", "websockets")  # fmt: skip
OPTIONAL: Final = {"dask": "batches on Dask", "distributed": "batches on Dask", "scikit-learn": "ML models",
                   "lightgbm": "LightGBM models", "gymnasium": "RL environment"}  # fmt: skip
MIN_PYTHON: Final = (3, 11)


@dataclass(frozen=True)
class Check:
    """One component's state: ``status`` is ``ok``, ``degraded`` (works, with a limitation) or
    ``failed`` (does not work); ``detail`` says why in one line."""

    component: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def overall(checks: list[Check]) -> str:
    """The worst status of ``checks``."""
    states = {c.status for c in checks}
    return FAILED if FAILED in states else DEGRADED if DEGRADED in states else OK


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def _one_line(text: object, limit: int = 160) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


# ---------------------------------------------------------------------------- software


def check_python() -> Check:
    v = sys.version_info
    text = f"Python {v.major}.{v.minor}.{v.micro} ({sys.executable})"
    return Check("Python", OK if (v.major, v.minor) >= MIN_PYTHON else FAILED, text if (v.major, v.minor) >= MIN_PYTHON
                 else f"{text}; Phi-nance needs Python >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]}")  # fmt: skip


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_packages() -> list[Check]:
    import phi

    found = {d: _version(d) for d in REQUIRED}
    missing = [d for d, v in found.items() if v is None]
    listed = ", ".join(f"{d} {v}" for d, v in found.items() if v)
    req = Check("Packages", FAILED if missing else OK,
                (f"missing {', '.join(missing)} (pip install -e .); " if missing else "") + f"phi {phi.__version__}; {listed}")  # fmt: skip
    opt = {d: _version(d) for d in OPTIONAL}
    absent = [d for d, v in opt.items() if v is None]
    have = ", ".join(f"{d} {v}" for d, v in opt.items() if v) or "none"
    detail = f"installed: {have}" + (f"; not installed: {', '.join(f'{d} ({OPTIONAL[d]})' for d in absent)}" if absent else "")
    return [req, Check("Optional packages", DEGRADED if absent else OK, detail)]


def check_numba_cache() -> Check:
    """Compiled kernels are cached next to the modules (``__pycache__``) or in ``$NUMBA_CACHE_DIR``."""
    import phi

    root = Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR") else Path(phi.__file__).parent
    index = list(root.rglob("*.nbi")) if root.is_dir() else []
    where = f"$NUMBA_CACHE_DIR={root}" if os.environ.get("NUMBA_CACHE_DIR") else f"{root}/**/__pycache__"
    probe = _writable(root if os.environ.get("NUMBA_CACHE_DIR") else root / "__pycache__")
    if probe:
        return Check("Numba cache", DEGRADED, f"{where} is not writable ({probe}): kernels compile again in every process")
    text = f"{len(index)} cached kernel index file(s) in {where}"
    return Check("Numba cache", OK, text if index else f"{text}: the first run compiles the kernels (about a minute), later runs load them")


# ---------------------------------------------------------------------------- storage


def _writable(folder: Path) -> str | None:
    """None when files can be created in ``folder`` (or in the first existing parent it would
    be made in), else why not. The probe file is removed at once."""
    from phi._io import in_the_way

    blocked = in_the_way(folder)  # a file, a symbolic link to nowhere or a loop on the way
    if blocked and not blocked.endswith(" is a file, not a folder"):
        return blocked
    target = folder
    while not target.exists():
        if target.parent == target:
            return f"no existing parent of {folder}"
        target = target.parent
    if not target.is_dir():
        return f"{target} is not a folder"
    try:
        fd, name = tempfile.mkstemp(prefix=".phi-status-", dir=target)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return f"cannot write in {target}: {exc.strerror or exc}"
    return None


def _folder_size(folder: Path) -> tuple[int, int, int]:
    """(files, bytes, leftover temporary files of interrupted saves) under ``folder``."""
    from phi._io import is_temp_name

    files = total = temps = 0
    if folder.is_dir():
        for p in folder.rglob("*"):
            try:
                if p.is_file():
                    files += 1
                    total += p.stat().st_size
                    temps += is_temp_name(p.name)
            except OSError:
                continue
    return files, total, temps


def check_storage() -> list[Check]:
    from phi.paths import cache_root, phi_home, runs_root

    home = phi_home()
    home_text = f"PHI_HOME={home}" if os.environ.get("PHI_HOME") else f"{home} (PHI_HOME not set: the working directory)"
    out = []
    for name, folder, what in (("Data cache", cache_root(), "file(s)"), ("Run history", runs_root(), "file(s)")):
        problem = _writable(folder)
        files, size, temps = _folder_size(folder)
        if name == "Run history" and folder.is_dir():
            runs = sum(1 for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
            what_text = f"{runs} run(s), {_size(size)}"
        else:
            what_text = f"{files} {what}, {_size(size)}"
            if temps:
                what_text += f"; {temps} temporary file(s) of interrupted or running saves (phi cache clean removes the orphans)"
        if problem:
            out.append(Check(name, FAILED, f"{folder}: not writable ({problem}); set PHI_HOME to a writable folder; {home_text}"))
        else:
            out.append(Check(name, OK, f"{folder}: writable, {what_text if folder.exists() else 'empty (created on first use)'}"))
    return out


def check_models() -> Check:
    """Stored models (``PHI_HOME/models``); with ``phi.ml`` present each one's metadata is read,
    and a model that cannot be read makes this component degraded."""
    from phi.paths import phi_home

    folder = phi_home() / "models"
    if folder.exists() and not folder.is_dir():
        return Check("Models", FAILED, f"{folder} is not a folder: no model can be saved (move it away)")
    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) if folder.is_dir() else []
    except OSError as exc:
        return Check("Models", FAILED, f"{folder}: cannot list it ({exc.strerror or exc})")
    if not names:
        problem = None if folder.is_dir() else _writable(folder)
        if problem:  # PHI_HOME is a file, or not writable: no model can be saved
            return Check("Models", FAILED, f"{folder} cannot be created ({problem}); set PHI_HOME to a writable folder")
        return Check("Models", OK, f"none stored yet in {folder} (phi ml train makes one)")
    broken: list[str] = []
    if importlib.util.find_spec("phi.ml.store") is not None:
        from phi.ml.store import list_models

        try:
            broken = [f"{m['name']} ({m['error']})" for m in list_models() if m.get("error")]
        except Exception as exc:  # noqa: BLE001 - an unreadable store is this component's state
            return Check("Models", DEGRADED, f"{folder}: cannot list the models ({_one_line(exc)})")
    shown = ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")
    if broken:
        return Check("Models", DEGRADED, f"{len(broken)} of {len(names)} in {folder} cannot be read: {_one_line('; '.join(broken))}")
    return Check("Models", OK, f"{len(names)} in {folder}: {shown}")


# ---------------------------------------------------------------------------- database and dask


def _db_url() -> tuple[str, Callable[[str], str]]:
    if importlib.util.find_spec("phi.backtest.run_index") is not None:
        from phi.backtest import run_index

        return run_index.index_url(), run_index._shown
    from phi.paths import phi_home

    url = os.environ.get("PHI_DB_URL", "").strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url or f"sqlite:///{phi_home() / 'runs.db'}", lambda u: u.split("@")[-1]


def check_database(url: str | None = None, timeout: float = 3.0) -> Check:
    """The run index database answers ``SELECT 1`` (SQLite: its folder is writable)."""
    default_url, shown = _db_url()
    url = url or default_url
    name = "Run index database"
    if url.startswith("sqlite"):
        from urllib.parse import unquote  # the index URL escapes %, ? and # of the path

        path = Path(unquote(url.split("///", 1)[-1].split("?", 1)[0])) if "///" in url else None
        if path is not None and not path.exists():
            problem = _writable(path.parent)
            if problem:
                return Check(name, FAILED, f"SQLite {path}: cannot be created ({problem})")
            return Check(name, OK, f"SQLite {path}: not created yet (made on the first indexed run)")
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool
    except ImportError:
        return Check(name, FAILED, "SQLAlchemy is not installed (pip install -e .)")
    args: dict[str, Any] = {"timeout": timeout} if url.startswith("sqlite") else {"connect_timeout": max(1, round(timeout))}
    damage: str | None = None
    try:
        eng = create_engine(url, poolclass=NullPool, connect_args=args)
        try:
            with eng.connect() as conn:
                if url.startswith("sqlite"):  # SELECT 1 answers even on a file that is not a database
                    rows = conn.execute(text("PRAGMA quick_check(1)")).fetchall()
                    damage = None if [tuple(r) for r in rows] == [("ok",)] else str(rows[0][0] if rows else "no answer")
                else:
                    conn.execute(text("SELECT 1"))
        finally:
            eng.dispose()
    except Exception as exc:  # noqa: BLE001 - any driver error is this component's failure
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        code = getattr(getattr(exc, "orig", exc), "sqlite_errorcode", None)
        if url.startswith("sqlite") and isinstance(code, int) and code & 0xFF in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
            damage = reason[0] if reason else "corrupt"
        else:
            return Check(name, FAILED, f"{shown(url)}: cannot connect ({_one_line(reason[0] if reason else type(exc).__name__)})")
    if damage is not None:
        return Check(name, DEGRADED, f"{shown(url)}: damaged ({_one_line(damage, 100)}); phi sets it aside and rebuilds it "
                                     "from the run folders when a query meets the damage (no run is lost)")  # fmt: skip
    kind = "SQLite" if url.startswith("sqlite") else "PostgreSQL" if "postgres" in url else url.split(":", 1)[0]
    return Check(name, OK, f"{kind} {shown(url)}: answers")


def _tcp(host: str, port: int, timeout: float) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def check_dask(scheduler: str | None = None, timeout: float = 2.0) -> Check:
    version = _version("distributed")
    scheduler = scheduler or os.environ.get("PHI_DASK_SCHEDULER") or None
    if not scheduler:
        if version is None:
            return Check("Dask", DEGRADED, "not installed (pip install 'dask[distributed]'): batches run one by one")
        return Check("Dask", OK, f"distributed {version}; no scheduler configured (PHI_DASK_SCHEDULER): a local cluster starts on demand")
    if version is None:
        return Check("Dask", FAILED, f"scheduler {scheduler} configured but dask[distributed] is not installed")
    try:
        parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
        host, port = parts.hostname, parts.port or 8786
    except ValueError:  # a malformed IPv6 host, a port that is not a number or out of range
        return Check("Dask", FAILED, f"scheduler address {_one_line(repr(scheduler), 80)} is malformed (use tcp://host:8786)")
    if not host:
        return Check("Dask", FAILED, f"scheduler address {scheduler!r} has no host (use tcp://host:8786)")
    problem = _tcp(host, port, timeout)
    if problem:
        return Check("Dask", FAILED, f"scheduler {scheduler} does not answer ({problem})")
    return Check("Dask", OK, f"scheduler {scheduler} answers (distributed {version})")


# ---------------------------------------------------------------------------- network services


def _reachable(url: str, timeout: float) -> str | None:
    """None when ``url`` gives any HTTP answer within ``timeout`` s, else why not."""
    import requests

    try:
        requests.head(url, timeout=(timeout, timeout), allow_redirects=False)
    except requests.exceptions.RequestException as exc:
        return _one_line(type(exc).__name__ + (": timed out" if isinstance(exc, requests.exceptions.Timeout) else ""))
    return None


def _env_urls() -> dict[str, str]:
    """``$PHI_STATUS_VENDOR_URLS`` (``yfinance=URL,alpha_vantage=URL``) overrides the checked URLs."""
    out = {}
    for part in os.environ.get("PHI_STATUS_VENDOR_URLS", "").split(","):
        name, _, url = part.partition("=")
        if name.strip() in VENDOR_URLS and url.strip():
            out[name.strip()] = url.strip()
    return out


def check_vendors(urls: Mapping[str, str] | None = None, timeout: float = 3.0, network: bool = True) -> list[Check]:
    urls = {**VENDOR_URLS, **_env_urls(), **(urls or {})}
    out = [Check("Vendor demo", OK, "synthetic data generated locally; always available offline")]
    reach: dict[str, str | None] = {}
    if network:  # both servers side by side: the check waits about one timeout
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(_reachable, urls[name], timeout) for name in ("yfinance", "alpha_vantage")}
            reach = {name: f.result() for name, f in futures.items()}
    if not network:
        out.append(Check("Vendor yfinance", OK, "not checked (--no-network)"))
    else:
        problem = reach["yfinance"]
        out.append(Check("Vendor yfinance", DEGRADED if problem else OK,
                         f"{urls['yfinance']} not reachable ({problem}); use the demo or csv vendor offline" if problem
                         else f"{urls['yfinance']} reachable"))  # fmt: skip
    has_key = bool(os.environ.get("ALPHAVANTAGE_API_KEY", "").strip())
    key_text = "ALPHAVANTAGE_API_KEY is set" if has_key else "ALPHAVANTAGE_API_KEY is not set (free key: alphavantage.co)"
    if not network:
        out.append(Check("Vendor alpha_vantage", OK if has_key else DEGRADED, f"{key_text}; server not checked (--no-network)"))
    else:
        problem = reach["alpha_vantage"]
        status = OK if has_key and not problem else DEGRADED
        where = f"{urls['alpha_vantage']} not reachable ({problem})" if problem else f"{urls['alpha_vantage']} reachable"
        out.append(Check("Vendor alpha_vantage", status, f"{key_text}; {where}"))
    return out


def check_l2() -> Check:
    has_key = bool(os.environ.get("POLYGON_API_KEY", "").strip())
    if has_key:
        return Check("Level-2 quotes", OK, "POLYGON_API_KEY is set (real-time quotes need a paid Polygon plan)")
    return Check("Level-2 quotes", DEGRADED, "POLYGON_API_KEY is not set: the scanner's L2 columns are unavailable")


def check_llm(base_url: str | None = None, timeout: float = 2.0, model: str | None = None) -> Check:
    """The Plutus LLM server answers, and (Ollama) has the model."""
    import requests

    from phi.errors import ConfigError
    from phi.plutus.client import LLMClient

    try:
        client = LLMClient(base_url=base_url, model=model or os.environ.get("PHI_PLUTUS_MODEL") or None,
                           protocol=os.environ.get("PHI_PLUTUS_PROTOCOL", "ollama"), timeout=max(timeout, 0.1))  # fmt: skip
    except ConfigError as exc:  # a malformed OLLAMA_HOST / OPENAI_BASE_URL or protocol
        return Check("LLM server", FAILED, _one_line(exc))
    problem = client.ping(timeout)
    if problem:
        return Check("LLM server", DEGRADED, f"{problem}; Plutus replies come only from its cache")
    shown = client.shown_url
    if client.protocol != "ollama":
        return Check("LLM server", OK, f"{shown} answers (OpenAI protocol, model {client.model})")
    try:
        tags = requests.get(f"{client.base_url}/api/tags", timeout=(timeout, timeout)).json()
        names = {m.get("name", "").split(":")[0] for m in tags.get("models", [])} | {m.get("name", "") for m in tags.get("models", [])}
    except (requests.exceptions.RequestException, ValueError, AttributeError, TypeError, RecursionError):
        names = set()
    if client.model not in names:
        return Check("LLM server", DEGRADED, f"Ollama at {shown} answers but has no model {client.model!r} (ollama pull {client.model})")
    return Check("LLM server", OK, f"Ollama at {shown} answers, model {client.model} present")


# ---------------------------------------------------------------------------- all


def system_status(
    *,
    network: bool = True,
    timeout: float = 2.0,
    vendor_urls: Mapping[str, str] | None = None,
    llm_url: str | None = None,
    db_url: str | None = None,
    scheduler: str | None = None,
) -> list[Check]:
    """Every component's :class:`Check`, in a fixed order.

    Parameters
    ----------
    network
        Check the vendors' servers (False: only keys and packages).
    timeout
        Seconds each network check may wait.
    vendor_urls, llm_url, db_url, scheduler
        Override the addresses checked (default: :data:`VENDOR_URLS`, ``$OLLAMA_HOST``,
        ``$PHI_DB_URL`` or SQLite under PHI_HOME, ``$PHI_DASK_SCHEDULER``).
    """
    from concurrent.futures import ThreadPoolExecutor

    from phi.errors import ConfigError

    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0.0 < timeout <= 60.0:
        raise ConfigError(f"status timeout must be a number of seconds in (0, 60], got {timeout!r}")
    # the network checks run side by side, so the whole status waits about one timeout
    with ThreadPoolExecutor(max_workers=4) as pool:
        vendors = pool.submit(check_vendors, vendor_urls, timeout, network)
        database = pool.submit(check_database, db_url, timeout)
        dask = pool.submit(check_dask, scheduler, timeout)
        llm = pool.submit(check_llm, llm_url, timeout)
        local = [check_python(), *check_packages(), check_numba_cache()]
        stores = [*check_storage()]
        return [*local, *vendors.result(), *stores, database.result(), dask.result(), check_models(), check_l2(),
                llm.result()]  # fmt: skip
