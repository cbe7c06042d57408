"""The run index: one database row per saved run, for fast filtered and sorted listings.

The run folders under ``PHI_HOME/runs`` stay the record (:mod:`phi.backtest.run_history`);
the index only points at them, so it can always be rebuilt from them (:func:`reindex`) and
losing it loses nothing. Where it lives (:func:`index_url`):

* ``$PHI_DB_URL`` when set: any SQLAlchemy URL, e.g. ``postgresql://user@host:5432/phi``
  (psycopg 3 is used for ``postgresql://``), for several machines sharing one history;
* otherwise an embedded SQLite file, ``$PHI_HOME/runs.db`` (no server).

Every save adds its row (:func:`index_run`); a failure to index never loses the saved run: it is
said in one :class:`RunIndexWarning` and the next listing indexes it. Listings first
:func:`sync` the index with the run folders (a directory listing and one query: folders saved
by older versions or by a failed index write are added, deleted folders dropped), then filter
and sort in the database, then read back only the rows shown, so a run damaged since it was
indexed is skipped with a warning exactly as by the folder scan.

One database serves one run history (one ``PHI_HOME``): point two histories at two databases.
Non-finite metrics (NaN, inf) are stored as NULL and sort last.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    not_,
    or_,
    select,
)

from phi._io import in_the_way
from phi.backtest.run_filter import (
    FIELDS,
    BoolOp,
    Compare,
    Has,
    Node,
    Not,
    parse_filter,
    parse_sort,
)
from phi.backtest.run_history import NewerIndexError, RunIndexWarning, history_exists
from phi.errors import ConfigError, RunError, shown
from phi.paths import phi_home, runs_root

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.sql.elements import ColumnElement

__all__ = [
    "INDEX_SCHEMA_VERSION",
    "IndexQuery",
    "ReindexReport",
    "RunIndexWarning",
    "database_url",
    "index_row",
    "index_run",
    "index_runs",
    "index_url",
    "index_available",
    "indexed_config_hashes",
    "latest_runs",
    "query_runs",
    "reindex",
    "sync",
    "unindex_run",
]

#: Layout of the index tables; an index of another version is rebuilt from the run folders.
INDEX_SCHEMA_VERSION: Final = 1
DB_FILE: Final = "runs.db"
_CHUNK: Final = 500

_meta = MetaData()
_LIST_FIELDS = {name for name, kind in FIELDS.items() if kind == "list"}


def _column(name: str, kind: str) -> Column[Any]:
    if name == "run_id":
        return Column(name, String(160), primary_key=True)
    if kind == "number":
        return Column(name, Float, nullable=True)
    if kind == "bool":
        return Column(name, Boolean, nullable=True)
    indexed = name in ("config_hash", "symbol", "created_at")
    return Column(name, Text if kind == "list" else String(200), nullable=True, index=indexed)


RUNS: Final = Table("phi_runs", _meta, *(_column(n, k) for n, k in FIELDS.items()))
META: Final = Table("phi_index_meta", _meta, Column("key", String(64), primary_key=True), Column("value", String(200)))


# ---------------------------------------------------------------------------- where and how


def database_url(url: str) -> str:
    """``url`` with a driver SQLAlchemy can load here: ``postgresql://`` / ``postgres://``
    become ``postgresql+psycopg://`` (psycopg 3); anything else is returned unchanged."""
    if not isinstance(url, str):
        raise ConfigError(f"a database URL must be a string, got {type(url).__name__}")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def index_url() -> str:
    """``$PHI_DB_URL`` (driver-normalised) or ``sqlite:///$PHI_HOME/runs.db``."""
    url = os.environ.get("PHI_DB_URL", "").strip()
    return database_url(url) if url else sqlite_url(phi_home() / DB_FILE)


def sqlite_url(path: Path) -> str:
    """``sqlite:///path`` for any file name: the characters a URL would read otherwise
    (``%``, ``?``, ``#``) escaped, so that ``PHI_HOME=/data/q?1`` keeps its index in that
    folder (was: the path cut at ``?`` and the database made beside it)."""
    text = str(path).replace("%", "%25").replace("?", "%3F").replace("#", "%23")
    return f"sqlite:///{text}"


def _shown(url: str) -> str:
    """The URL without a password, for messages (a SQLite file by its plain path)."""
    path = _sqlite_path(url)
    if path is not None:
        return f"sqlite:///{path}"
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as given, minus nothing secret
        return url.split("@")[-1]


#: Seconds the index waits for another process (a lock held by a long write, a server that
#: does not answer) before giving up with one line: SQLite's busy timeout, PostgreSQL's connect
#: and lock timeouts. A save never waits longer than this for its index row.
INDEX_TIMEOUT_S: float = 10.0

#: Seconds a server that gave no answer within INDEX_TIMEOUT_S is not asked again by this
#: process (each ask costs INDEX_TIMEOUT_S: a batch would wait that long for every run's row).
SILENT_S: float = 60.0

_ENGINES: dict[tuple[int, str], Engine] = {}
_SILENT: dict[tuple[int, str], tuple[float, BaseException]] = {}
_LOCK = threading.Lock()
#: SQLite's primary result codes for a file that is not (or no longer) a database.
_SQLITE_DAMAGED: Final = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def _engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default :func:`index_url`) with the tables in place, one per
    process and URL. :class:`RunError` (one line) when the database cannot be reached; a server
    that gave no answer is not asked again for :data:`SILENT_S` (the same line at once)."""
    url = url or index_url()
    key = (os.getpid(), url)
    with _LOCK:
        eng = _ENGINES.get(key)
        if eng is not None:
            return eng
        silent = _SILENT.get(key)
        if silent is not None and time.monotonic() - silent[0] < SILENT_S:
            failure = silent[1]
        else:
            made = _connect(url)
            if not isinstance(made, BaseException):
                _SILENT.pop(key, None)
                _ENGINES[key] = made
                return made
            failure = made
            if "timeout expired" in str(failure):  # the server never answered
                _SILENT[key] = (time.monotonic(), failure)
    raise _failure(failure, url, "cannot be used") from None


def _connect(url: str) -> Engine | BaseException:
    """A new engine for ``url`` with the tables in place, or why there is none."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    eng = None
    try:
        if url.startswith("sqlite"):  # a file per history; no pooled handles left open
            eng = create_engine(url, poolclass=NullPool, connect_args={"timeout": INDEX_TIMEOUT_S})
        else:
            eng = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2, **_server_args(url))
        _prepare(eng)
    except (SQLAlchemyError, OSError, ValueError, ImportError, NewerIndexError) as exc:
        if eng is not None:
            eng.dispose()
        return exc
    return eng


def _server_args(url: str) -> dict[str, Any]:
    """Timeouts for a PostgreSQL server: connecting (a host that does not answer) and waiting
    for a lock (another session holding the table), so nothing hangs."""
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() != "postgresql":
        return {}
    return {"connect_args": {"connect_timeout": max(1, math.ceil(INDEX_TIMEOUT_S))}}


def _on_connect_timeouts(eng: Engine) -> None:
    """PostgreSQL: ``lock_timeout`` on every new connection (committed, so it outlives the
    pool's rollback)."""
    from sqlalchemy import event

    if eng.dialect.name != "postgresql":
        return

    @event.listens_for(eng, "connect")
    def _set(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"SET lock_timeout = {max(1, int(INDEX_TIMEOUT_S * 1000))}")
        finally:
            cur.close()
        dbapi_conn.commit()


def _reason(exc: BaseException, url: str | None = None) -> str:
    """The first line of a database error; given the index's ``url``, with what it means here
    (the file in the way, the lock or answer the index waited :data:`INDEX_TIMEOUT_S` for)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = (text[0] if text else type(exc).__name__)[:300]
    path = _sqlite_path(url) if url else None
    if path is not None and ("unable to open database file" in reason or "readonly database" in reason):
        blocker = in_the_way(path.parent)
        if blocker is not None:
            return blocker
        if path.is_dir():
            return f"{path} is a folder, not a database file"
        if not path.parent.is_dir():
            return f"the folder {path.parent} does not exist"
    if url is not None and ("database is locked" in reason or "lock timeout" in reason):
        return f"{reason} (another process has held it for more than {INDEX_TIMEOUT_S:g} s)"
    if url is not None and "timeout expired" in reason:
        return f"{reason} (no answer within {INDEX_TIMEOUT_S:g} s)"
    return reason


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or ``None`` (another database, in memory, or not a URL)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL: no file
        return None
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _damaged(exc: BaseException) -> bool:
    """Whether ``exc`` says a SQLite file is not a database or is corrupt."""
    code = getattr(getattr(exc, "orig", exc), "sqlite_errorcode", None)
    return isinstance(code, int) and (code & 0xFF) in _SQLITE_DAMAGED


def _missing_tables(exc: BaseException) -> bool:
    """Whether ``exc`` says the index tables are gone (the database was deleted or replaced
    while this process held an engine on it)."""
    text = str(getattr(exc, "orig", None) or exc)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


class _Healed(RunError):
    """The index was damaged or lost and has been set up afresh: the call is worth one retry."""


def _drop_engine(url: str) -> None:
    with _LOCK:
        eng = _ENGINES.pop((os.getpid(), url), None)
    if eng is not None:
        eng.dispose()


def _still_damaged(path: Path) -> bool:
    """A fresh look at a SQLite file another error called damaged (another process may have
    set it aside already): True only when it is not a database or fails SQLite's quick check."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=INDEX_TIMEOUT_S)) as con:
            rows = con.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return _damaged(exc)
    return rows != [("ok",)]


def _set_aside(path: Path, reason: str) -> None:
    """Move a damaged SQLite index (and its journal files) aside; say so in one warning."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    aside = path.with_name(f"{path.name}.damaged-{stamp}-{os.getpid()}")
    n = 1
    while os.path.lexists(aside):  # an earlier copy of this second is kept too
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{os.getpid()}-{n}")
    os.replace(path, aside)
    for suffix in ("-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    warnings.warn(
        f"the run index {path} was damaged ({reason}); it was moved to {aside.name} and is rebuilt "
        "from the run folders (no run is lost)",
        RunIndexWarning,
        stacklevel=4,
    )


def _failure(exc: BaseException, url: str, doing: str) -> RunError:
    """The one-line :class:`RunError` for ``exc``; a :class:`_Healed` one when the index was
    damaged (a SQLite file that is not a database: moved aside) or lost its tables (the
    engine is dropped), so that :func:`_healing` functions retry once on a fresh index."""
    message = f"the run index at {_shown(url)} {doing}: {_reason(exc, url)}"
    if isinstance(exc, NewerIndexError):
        return NewerIndexError(message, exc.schema)
    path = _sqlite_path(url)
    if path is not None and _damaged(exc):
        _drop_engine(url)
        try:
            if path.is_file() and _still_damaged(path):
                _set_aside(path, _reason(exc))
        except OSError as err:
            return RunError(f"{message}; it could not be moved aside ({err.strerror or err}): delete it, then phi runs reindex")
        return _Healed(message)
    if _missing_tables(exc):
        _drop_engine(url)
        return _Healed(message)
    return RunError(message)


_F = TypeVar("_F", bound=Callable[..., Any])


def _healing(fn: _F) -> _F:
    """Retry ``fn`` once when its index was found damaged and set up afresh (:func:`_failure`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _Healed:
            return fn(*args, **kwargs)

    return cast(_F, wrapper)


def _prepare(eng: Engine) -> None:
    """Create the tables (racing processes tolerated); drop an index of an older layout, leave
    a newer one alone (:class:`NewerIndexError`: the index cannot be used by this phi)."""
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    _on_connect_timeouts(eng)
    for attempt in range(3):
        try:
            _meta.create_all(eng, checkfirst=True)
            break
        except (IntegrityError, ProgrammingError, OperationalError) as exc:  # another process created them
            if attempt == 2 or not (isinstance(exc, IntegrityError) or "already exists" in str(exc)):
                raise  # a lock held too long, a damaged file, ...: no use waiting again
            time.sleep(0.2)
    with eng.begin() as conn:
        version = conn.execute(select(META.c.value).where(META.c.key == "schema_version")).scalar()
        if version == str(INDEX_SCHEMA_VERSION):
            return
        if version is not None and version.isdigit() and int(version) > INDEX_SCHEMA_VERSION:
            # a newer phi's layout (one database may serve several machines): left as it is
            raise NewerIndexError(
                f"it has the layout of a newer phi (index schema {version}; this phi knows {INDEX_SCHEMA_VERSION}); "
                "upgrade phi, or point PHI_DB_URL at another database",
                int(version),
            )
        if version is not None:  # an older layout: rebuilt from the folders by the next sync
            RUNS.drop(conn, checkfirst=True)
            RUNS.create(conn)
            conn.execute(delete(META))
        _upsert(conn, META, [{"key": "schema_version", "value": str(INDEX_SCHEMA_VERSION)}], "key")


def _upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], key: str) -> None:
    """Insert ``rows``, replacing rows with the same ``key`` (a save racing a sync is fine)."""
    if not rows:
        return
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        for i in range(0, len(rows), _CHUNK):
            stmt = insert(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[key], set_={c.name: stmt.excluded[c.name] for c in table.c if c.name != key}
            )
            conn.execute(stmt, list(rows[i : i + _CHUNK]))
        return
    for i in range(0, len(rows), _CHUNK):  # any other database: delete, then insert
        chunk = list(rows[i : i + _CHUNK])
        conn.execute(delete(table).where(table.c[key].in_([r[key] for r in chunk])))
        conn.execute(table.insert(), chunk)


# ---------------------------------------------------------------------------- rows


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _text(value: object) -> str | None:
    return value[:200] if isinstance(value, str) else None


def _names(value: object) -> str:
    """A list of names as ``,a,b,`` so that ``has 'a'`` is a plain LIKE on ``,a,``."""
    names = [str(v).replace(",", " ") for v in value] if isinstance(value, list) else []
    return "," + ",".join(names) + "," if names else ""


def index_row(run_id: str, results: Mapping[str, Any]) -> dict[str, Any]:
    """The index row of a run from its (checked) ``results.json`` content."""
    summary = results.get("summary") or {}
    metrics = results.get("metrics") or {}
    row: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        if kind == "number":
            row[name] = _number(metrics.get(name, summary.get(name)))
        elif kind == "list":
            row[name] = _names(summary.get(name))
        elif kind == "bool":
            row[name] = bool(summary.get(name)) if summary.get(name) is not None else None
        else:
            row[name] = _text(results.get(name, summary.get(name)))
    row["run_id"] = run_id
    row["mode"] = "options" if summary.get("options") else "portfolio" if summary.get("symbols") else "equities"
    return row


# ---------------------------------------------------------------------------- write


@_healing
def index_run(run_id: str, results: Mapping[str, Any]) -> None:
    """Add (or replace) the row of a saved run; :class:`RunError` if the index is unusable."""
    from sqlalchemy.exc import SQLAlchemyError

    eng = _engine()
    try:
        with eng.begin() as conn:
            _upsert(conn, RUNS, [index_row(run_id, results)], "run_id")
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be written") from None


@_healing
def index_runs(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """:func:`index_run` for many saved runs ``(run_id, results)``, in one transaction."""
    from sqlalchemy.exc import SQLAlchemyError

    eng = _engine()
    try:
        with eng.begin() as conn:
            _upsert(conn, RUNS, [index_row(rid, results) for rid, results in runs], "run_id")
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be written") from None


@_healing
def unindex_run(run_id: str) -> None:
    """Drop a run's row (nothing if it has none); :class:`RunError` if the index is unusable."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with _engine().begin() as conn:
            conn.execute(delete(RUNS).where(RUNS.c.run_id == run_id))
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be written") from None


def _read_rows(ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Index rows of the readable runs among ``ids`` (each bad one warned once), and the bad ids."""
    from phi.backtest.run_history import RunWarning, _read_results

    rows, bad = [], []
    for run_id in ids:
        try:
            rows.append(index_row(run_id, _read_results(run_id)))
        except RunError as exc:
            warnings.warn(str(exc), RunWarning, stacklevel=3)
            bad.append(run_id)
    return rows, bad


@dataclass(frozen=True)
class ReindexReport:
    """What :func:`reindex` did."""

    indexed: int
    skipped: list[str]
    seconds: float
    url: str


@_healing
def reindex() -> ReindexReport:
    """Rebuild the index from the run folders in one transaction (each unreadable run is
    skipped with a one-line :class:`~phi.backtest.run_history.RunWarning`)."""
    from sqlalchemy.exc import SQLAlchemyError

    from phi.backtest.run_history import _existing_ids

    t0 = time.perf_counter()
    rows, bad = _read_rows(_existing_ids())
    eng = _engine()
    try:
        with eng.begin() as conn:
            conn.execute(delete(RUNS))
            _upsert(conn, RUNS, rows, "run_id")
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be written") from None
    return ReindexReport(len(rows), bad, time.perf_counter() - t0, _shown(index_url()))


@_healing
def sync() -> tuple[int, int]:
    """Make the index match the run folders: add the folders it lacks (saved by an older phi,
    or whose index write failed), drop rows whose folder is gone. Returns ``(added, dropped)``.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from phi.backtest.run_history import _existing_ids

    names = set(_existing_ids())
    eng = _engine()
    try:
        with eng.connect() as conn:
            indexed = set(conn.execute(select(RUNS.c.run_id)).scalars())
        missing = sorted(names - indexed, reverse=True)
        gone = sorted(indexed - names)
        rows, _ = _read_rows(missing)
        if rows or gone:
            with eng.begin() as conn:
                _upsert(conn, RUNS, rows, "run_id")
                for i in range(0, len(gone), _CHUNK):
                    conn.execute(delete(RUNS).where(RUNS.c.run_id.in_(gone[i : i + _CHUNK])))
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be used") from None
    return len(rows), len(gone)


# ---------------------------------------------------------------------------- query


def _compile(node: Node) -> ColumnElement[bool]:
    """A filter tree as a SQLAlchemy expression: columns from the declared table, values bound."""
    import operator

    if isinstance(node, BoolOp):
        parts = [_compile(n) for n in node.nodes]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(_compile(node.node))
    if isinstance(node, Has):
        return RUNS.c[node.field].contains("," + node.value.replace(",", " ") + ",", autoescape=True)
    assert isinstance(node, Compare)
    ops = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
    result: ColumnElement[bool] = ops[node.op](RUNS.c[node.field], node.value)
    return result


@dataclass
class IndexQuery:
    """Rows of :func:`query_runs` (as :func:`~phi.backtest.run_history.list_runs` gives them)
    and how many runs match in all (``total``), the index's URL (password hidden)."""

    rows: list[dict[str, Any]]
    total: int
    url: str


#: Largest ``limit`` of :func:`query_runs` (far beyond any run history; SQL needs a 64-bit limit).
MAX_LIMIT: Final = 1_000_000_000


@_healing
def query_runs(where: str | None = None, sort: str | None = None, limit: int | None = None) -> IndexQuery:
    """Saved runs matching ``where``, ordered by ``sort`` (default: newest first), at most
    ``limit`` of them; the index is synced with the run folders first.

    Parameters
    ----------
    where : str, optional
        A filter such as ``"sharpe > 1 and symbol = 'AAPL'"`` (:mod:`phi.backtest.run_filter`).
    sort : str, optional
        ``FIELD`` or ``FIELD:asc`` / ``FIELD:desc`` (default descending); ties newest first,
        missing values last.
    limit : int, optional
        Rows to return (all by default).

    Raises
    ------
    ConfigError
        A bad filter or sort (one line).
    RunError
        The index cannot be reached.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from phi.backtest.run_history import RunWarning, _read_results, _summary_row

    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT
    ):
        raise ConfigError(f"limit must be a whole number of runs in 0..{MAX_LIMIT:,} or None, got {shown(limit)}")
    cond = _compile(parse_filter(where)) if where is not None else None
    field, desc = parse_sort(sort) if sort is not None else ("run_id", True)
    if not history_exists():  # no history yet: nothing to list, nothing created (a file there: RunError)
        return IndexQuery([], 0, _shown(index_url()))
    sync()
    col = RUNS.c[field]
    order = [col.is_(None), col.desc() if desc else col.asc(), RUNS.c.run_id.desc()]
    eng = _engine()
    rows: list[dict[str, Any]] = []
    skipped = 0
    try:
        with eng.connect() as conn:
            count = select(func.count()).select_from(RUNS)
            total = int(conn.execute(count.where(cond) if cond is not None else count).scalar() or 0)
            stmt = select(RUNS.c.run_id).order_by(*order)
            if cond is not None:
                stmt = stmt.where(cond)
            offset, page = 0, max(limit or total, 1)
            while limit is None or len(rows) < limit:  # read back only what is shown
                ids = list(conn.execute(stmt.offset(offset).limit(page)).scalars())
                if not ids:
                    break
                offset += len(ids)
                for run_id in ids:
                    if limit is not None and len(rows) >= limit:
                        break
                    try:
                        rows.append(_summary_row(run_id, _read_results(run_id)))
                    except RunError as exc:  # damaged since it was indexed: as in the folder scan
                        warnings.warn(str(exc), RunWarning, stacklevel=2)
                        skipped += 1
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be read") from None
    return IndexQuery(rows, total - skipped, _shown(index_url()))


@_healing
def indexed_config_hashes(hashes: Iterable[str] | None = None) -> set[str]:
    """Config hashes with at least one saved run (among ``hashes`` if given); synced first."""
    from sqlalchemy.exc import SQLAlchemyError

    if not index_available():
        return set()
    sync()
    wanted = None if hashes is None else sorted(set(hashes))
    out: set[str] = set()
    try:
        with _engine().connect() as conn:
            if wanted is None:
                out.update(h for h in conn.execute(select(RUNS.c.config_hash).distinct()).scalars() if h)
            for i in range(0, len(wanted or []), _CHUNK):
                chunk = (wanted or [])[i : i + _CHUNK]
                stmt = select(RUNS.c.config_hash).where(RUNS.c.config_hash.in_(chunk)).distinct()
                out.update(h for h in conn.execute(stmt).scalars() if h)
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be read") from None
    return out


@_healing
def latest_runs(hashes: Iterable[str], columns: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """The newest indexed run of each config hash among ``hashes``: ``{hash: {"run_id": ...,
    column: value, ...}}`` (no sync: call after :func:`indexed_config_hashes`)."""
    from sqlalchemy.exc import SQLAlchemyError

    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    cols = [RUNS.c.config_hash, RUNS.c.run_id, *(RUNS.c[c] for c in columns if c in RUNS.c)]
    out: dict[str, dict[str, Any]] = {}
    try:
        with _engine().connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                stmt = select(*cols).where(RUNS.c.config_hash.in_(wanted[i : i + _CHUNK])).order_by(RUNS.c.run_id)
                for row in conn.execute(stmt).mappings():
                    out[row["config_hash"]] = {k: v for k, v in row.items() if k != "config_hash"}
    except SQLAlchemyError as exc:
        raise _failure(exc, index_url(), "cannot be read") from None
    return out


def index_available() -> bool:
    """Whether a run history exists to index (a ``runs`` folder under ``PHI_HOME``)."""
    return runs_root().is_dir()
