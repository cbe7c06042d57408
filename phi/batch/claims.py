"""Claims: the configs a batch is running, marked in the run index so that a concurrent batch
on the same run history does not run them too.

Before it runs anything, a batch claims each config hash in the index's database (the run
index's SQLite file or ``$PHI_DB_URL``), one row per hash in ``phi_batch_claims``, inserted
only where none exists: of two batches claiming one config, exactly one gets it. A batch
runs only the configs it claimed and releases each claim once the config's run is saved and
indexed (or has failed); the other batch waits for the claim to go, then reuses the saved run
(or, if there is none, the config failed there: claims and runs it itself).

A claim whose owner died does not block forever. It is **stale**, and any batch may take it
over (atomically, against the row it read), when

* its owner ran on this machine (same host name) and that process no longer exists, or its
  process id now names another process (started at another time than the owner's), or
* its owner has not refreshed it for :data:`CLAIM_STALE_S` seconds (a live batch refreshes its
  claims every ``CLAIM_STALE_S / 4`` s from a background thread; this covers owners on other
  machines, killed or cut off from the database), or
* the row cannot be a live batch's: a refresh time missing, not a number or more than
  :data:`CLAIM_STALE_S` ahead of this clock, or a process id missing or not positive.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, and_, delete, select, update

from phi.errors import RunError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["CLAIM_POLL_S", "CLAIM_STALE_S", "CLAIMS", "Claims"]

#: Seconds without a refresh after which a claim is stale (its owner presumed dead).
CLAIM_STALE_S: float = 120.0
#: Seconds between looks at the claims a batch waits for.
CLAIM_POLL_S: float = 1.0
_CHUNK: Final = 500

_meta = MetaData()
CLAIMS: Final = Table(
    "phi_batch_claims",
    _meta,
    Column("config_hash", String(200), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("heartbeat", Float, nullable=False),
)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` (> 0) exists on this machine (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):  # no such process id on this system
        return False
    except (PermissionError, OSError):
        return True
    return _stat(pid)[:1] != ["Z"]  # a killed batch not yet reaped by its parent is gone


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state first), [] where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _started(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc), or "" where unknown."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


def _number(value: Any) -> float | None:
    """``value`` as a finite float, else None (a damaged row's NULL, text or NaN)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _pause(seconds: float) -> None:
    """Wait between looks at claims held by another batch (a seam for tests)."""
    time.sleep(seconds)


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(items)
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class Claims:
    """This batch's claims: :meth:`claim`, :meth:`release`, :meth:`wait` for others'; refreshed
    while open, every one released by :meth:`close` (also on Ctrl-C). Opening and claiming raise
    :class:`RunError` (one line) when the index's database cannot be used."""

    def __init__(self) -> None:
        from phi.backtest.run_index import _engine, index_url
        from phi.paths import phi_home

        self.host = socket.gethostname()[:100]
        self.pid = os.getpid()
        # host:pid:start:uuid; its start tells this process from a later one given the same pid
        self.owner = f"{self.host}:{self.pid}:{_started(self.pid)}:{uuid.uuid4().hex}"
        self.url = index_url()
        try:
            phi_home().mkdir(parents=True, exist_ok=True)  # the SQLite index lives there
        except OSError as exc:
            raise RunError(f"cannot claim the batch's configs in {phi_home()}: {exc.strerror or exc}") from None
        self.engine: Engine = _engine()
        self._prepare()
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._refresh, name="phi-batch-claims", daemon=True)
        self._beat.start()

    def _prepare(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        for attempt in range(3):
            try:
                _meta.create_all(self.engine, checkfirst=True)
                break
            except SQLAlchemyError as exc:  # another process created it meanwhile: look again
                if attempt == 2 or "already exists" not in str(exc) and "UNIQUE" not in str(exc) and "duplicate" not in str(exc):
                    raise self._failure(exc) from None

    def _failure(self, exc: BaseException) -> RunError:
        from phi.backtest.run_index import _failure

        return _failure(exc, self.url, "cannot hold the batch's claims")

    def _write(self, fn: Any) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.begin() as conn:
                return fn(conn)
        except SQLAlchemyError as exc:
            raise self._failure(exc) from None
        except (TypeError, ValueError) as exc:  # a damaged table's values
            raise RunError(f"cannot hold the batch's claims: the table phi_batch_claims is damaged ({exc})") from None

    def _row(self, now: float) -> dict[str, Any]:
        return {"owner": self.owner, "host": self.host, "pid": self.pid, "heartbeat": now}

    def _stale(self, row: Any, now: float) -> bool:
        beat, pid = _number(row.heartbeat), _number(row.pid)
        if beat is None or not now - CLAIM_STALE_S <= beat <= now + CLAIM_STALE_S:
            return True
        if row.host != self.host:
            return False
        if pid is None or pid <= 0 or pid != int(pid):
            return True
        if int(pid) == self.pid:
            return False
        return not _alive(int(pid)) or _reused(str(row.owner), int(pid))

    def claim(self, hashes: Iterable[str]) -> set[str]:
        """Claim the config hashes among ``hashes`` that are free or whose claim is stale;
        returns those now this batch's (including any it held already)."""
        wanted = set(hashes)
        if not wanted:
            return set()

        def run(conn: Connection) -> set[str]:
            _lock(conn)
            now = time.time()
            got: set[str] = set()
            rows: list[Any] = []
            for part in _chunks(wanted):
                rows += conn.execute(select(CLAIMS).where(CLAIMS.c.config_hash.in_(part))).all()
            held = {r.config_hash for r in rows}
            for r in rows:
                if r.owner == self.owner:
                    got.add(r.config_hash)
                elif self._stale(r, now):  # taken over only if still the row we judged stale
                    took = conn.execute(
                        update(CLAIMS)
                        .where(and_(CLAIMS.c.config_hash == r.config_hash, CLAIMS.c.owner == r.owner, CLAIMS.c.heartbeat == r.heartbeat))
                        .values(**self._row(now))
                    )
                    if took.rowcount == 1:
                        got.add(r.config_hash)
            free = sorted(wanted - held)
            if free:  # one statement for all; then which of them are ours (others' may have won some)
                _insert_new(conn, [{"config_hash": h, **self._row(now)} for h in free])
                for part in _chunks(free):
                    mine = select(CLAIMS.c.config_hash).where(and_(CLAIMS.c.owner == self.owner, CLAIMS.c.config_hash.in_(part)))
                    got.update(conn.execute(mine).scalars())
            return got

        return set(self._write(run))

    def release(self, hashes: Iterable[str]) -> None:
        """Drop this batch's claims on ``hashes`` (others' are left alone). Best effort: a claim
        the database failed to drop goes with :meth:`close`, or stale."""
        wanted = set(hashes)
        if not wanted:
            return
        with contextlib.suppress(Exception), self.engine.begin() as conn:
            for part in _chunks(wanted):
                conn.execute(delete(CLAIMS).where(and_(CLAIMS.c.owner == self.owner, CLAIMS.c.config_hash.in_(part))))

    def wait(self) -> None:
        """Pause :data:`CLAIM_POLL_S` before the next look at others' claims."""
        _pause(CLAIM_POLL_S)

    def _refresh(self) -> None:
        while not self._stop.wait(CLAIM_STALE_S / 4):
            with contextlib.suppress(Exception), self.engine.begin() as conn:  # missed: the next one, or the bound
                conn.execute(update(CLAIMS).where(CLAIMS.c.owner == self.owner).values(heartbeat=time.time()))

    def close(self) -> None:
        """Stop refreshing; release every claim of this batch (best effort: a claim left by a
        database that failed goes stale)."""
        self._stop.set()
        self._beat.join()
        with contextlib.suppress(Exception), self.engine.begin() as conn:
            conn.execute(delete(CLAIMS).where(CLAIMS.c.owner == self.owner))

    def __enter__(self) -> Claims:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reused(owner: str, pid: int) -> bool:
    """Whether process ``pid`` is not the one that wrote ``owner`` (host:pid:start:uuid): it
    started at another time. False where either start is unknown (older claims, no /proc)."""
    parts = owner.rsplit(":", 3)
    if len(parts) != 4 or parts[1] != str(pid) or not parts[2]:
        return False
    now = _started(pid)
    return bool(now) and now != parts[2]


def _lock(conn: Connection) -> None:
    """SQLite: take the write lock before reading (a no-op write), so that two batches claiming
    at once queue up behind the busy timeout instead of one failing at once ("database is
    locked": both read, then both ask to write). PostgreSQL's row locks need nothing."""
    if conn.dialect.name == "sqlite":
        conn.execute(update(CLAIMS).where(CLAIMS.c.config_hash.is_(None)).values(heartbeat=0.0))


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the claims ``rows``, each unless its config hash has a claim already."""
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        conn.execute(insert(CLAIMS).on_conflict_do_nothing(index_elements=["config_hash"]), rows)
        return
    from sqlalchemy.exc import IntegrityError

    for row in rows:  # any other database: a savepoint per row
        try:
            with conn.begin_nested():
                conn.execute(CLAIMS.insert().values(**row))
        except IntegrityError:
            continue
