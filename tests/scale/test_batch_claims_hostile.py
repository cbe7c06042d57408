"""Claims rows no live batch can have written (a damaged table, a process id reused by another
process, a batch killed with SIGKILL) never block a batch nor give a traceback: such a claim is
taken over at once (phi.batch.claims: stale), a table that cannot hold claims lets the batch run
unclaimed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from phi.batch import run_batch
from tests.scale._helpers import config
from tests.scale.test_batch_claims import _claims, _runs_per_hash


def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    import phi.batch.claims as claims

    def no_waiting(seconds: float) -> None:
        raise AssertionError("waited for a claim no live batch holds")

    monkeypatch.setattr(claims, "_pause", no_waiting)


def _raw_claim(values: str, schema: str | None = None) -> None:
    """A row put in phi_batch_claims by hand (``schema``: the table made anew so, first)."""
    from phi.backtest.run_index import _engine
    from phi.batch.claims import Claims

    Claims().close()  # the table in place
    with _engine().begin() as conn:
        if schema is not None:
            conn.execute(text("DROP TABLE phi_batch_claims"))
            conn.execute(text(f"CREATE TABLE phi_batch_claims ({schema})"))
        if values:
            conn.execute(text(f"INSERT INTO phi_batch_claims VALUES ({values})"))


def _ran_once(cfg: Any) -> None:
    res = run_batch([cfg], scheduler="inline")
    assert [o.status for o in res.outcomes] == ["ok"] and res.outcomes[0].run_id is not None
    assert _runs_per_hash() == {cfg.config_hash(): 1}


HOST = socket.gethostname()[:100]
NOW = "strftime('%s','now')"


@pytest.mark.parametrize(
    "row",
    [
        "'elsewhere', 5, 'not a time'",  # heartbeat text: was a TypeError traceback
        "'elsewhere', 5, 1e18",  # refreshed 'in the future' on another machine: was waited for for ever
        f"'{HOST}', -1, {NOW}",  # a negative pid on this host: os.kill(-1, 0) succeeds, was 'alive'
        f"'{HOST}', 0, {NOW}",  # pid 0: this process's group, was 'alive'
        f"'{HOST}', 99999999999, {NOW}",  # beyond any pid: os.kill overflowed, a traceback
    ],
)
def test_a_claim_no_live_batch_can_hold_is_taken_over_at_once(row: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_waiting(monkeypatch)
    cfg = config(9)
    _raw_claim(f"'{cfg.config_hash()}', 'someone', {row}")
    _ran_once(cfg)
    assert _claims() == []


def test_null_fields_of_a_table_without_constraints_are_taken_over(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_waiting(monkeypatch)
    cfg = config(9)
    schema = "config_hash TEXT PRIMARY KEY, owner TEXT, host TEXT, pid INTEGER, heartbeat REAL"
    _raw_claim(f"'{cfg.config_hash()}', NULL, '{HOST}', NULL, NULL", schema)
    _ran_once(cfg)


def test_a_claims_table_with_other_columns_lets_the_batch_run_unclaimed(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_waiting(monkeypatch)
    _raw_claim("'garbage', 1", "x TEXT, y INTEGER")
    _ran_once(config(9))


def _live_child(code: str) -> subprocess.Popen[str]:
    """A Python child that prints one line once ready, then sleeps until killed."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ})  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="process start times come from /proc")
def test_a_claim_whose_pid_now_names_an_unrelated_live_process_is_taken_over(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_waiting(monkeypatch)
    cfg = config(9)
    other = _live_child("import time; print('ready', flush=True); time.sleep(600)")
    try:
        start = int(Path(f"/proc/{other.pid}/stat").read_text().rsplit(")", 1)[1].split()[19])  # proc(5): starttime
        assert start > 0
        # the claim's owner was process other.pid started one tick earlier: the pid is reused now
        _raw_claim(f"'{cfg.config_hash()}', '{HOST}:{other.pid}:{start - 1}:gone', '{HOST}', {other.pid}, {time.time()}")
        _ran_once(cfg)
    finally:
        other.kill()
        other.wait(timeout=60)


def test_a_batch_killed_mid_run_has_its_claims_taken_over_by_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    import phi.batch.claims as claims
    from phi.backtest.run_index import _engine
    from phi.batch.claims import CLAIMS

    cfg = config(9)
    holder = _live_child(f"""
        import time
        from phi.batch.claims import Claims
        c = Claims()
        assert c.claim({{{cfg.config_hash()!r}}}) == {{{cfg.config_hash()!r}}}
        print('ready', flush=True)
        time.sleep(600)
    """)
    looks: list[int] = []

    def kill_the_holder(seconds: float) -> None:  # the first look found a live claim: it waits
        looks.append(holder.pid)
        assert len(looks) == 1, "waited again after its owner was killed"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)

    monkeypatch.setattr(claims, "_pause", kill_the_holder)
    try:
        with _engine().connect() as conn:
            assert [r.pid for r in conn.execute(select(CLAIMS))] == [holder.pid]
        _ran_once(cfg)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=60)
    assert looks == [holder.pid] and holder.returncode == -signal.SIGKILL
    assert _claims() == []


def test_an_index_server_that_never_answers_lets_the_batch_run_unclaimed_or_fail_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import phi.backtest.run_index as run_index
    from tests.scale._helpers import one_line, phi
    from tests.scale.test_failure_audit import _silent_server

    monkeypatch.setattr(run_index, "INDEX_TIMEOUT_S", 1.0)
    args = ("batch", "run", "--grid", "period=8,14", "--start", "2023-01-01", "--end", "2023-12-31", "--scheduler", "inline")
    with _silent_server() as port:
        monkeypatch.setenv("PHI_DB_URL", f"postgresql://phi:pw@127.0.0.1:{port}/phi")
        code, out, err = phi(capsys, *args)  # no history yet: nothing to look up, both run unclaimed
        assert code == 0 and "Traceback" not in err and "2 run (2 saved), 0 failed" in out, (out, err)
        assert "no answer within 1 s" in err and "pw" not in err
        code, out, err = phi(capsys, *args)  # a history to look up, in an index that never answers
    assert code == 2 and one_line(err).endswith("cannot be used: connection timeout expired (no answer within 1 s)")


def test_an_index_server_that_never_answers_is_asked_once_per_batch_not_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: every run's index row asked the server again, INDEX_TIMEOUT_S (10 s) each, so a batch
    of N configs waited about N x 10 s (53 s for 3 configs)."""
    import phi.backtest.run_index as run_index

    pytest.importorskip("psycopg")
    monkeypatch.setattr(run_index, "INDEX_TIMEOUT_S", 1.0)
    monkeypatch.setattr(run_index, "SILENT_S", 3600.0, raising=False)  # longer than any batch here
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    asked: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # counts the connections; answers none
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                asked.append(srv.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("PHI_DB_URL", f"postgresql://phi@127.0.0.1:{srv.getsockname()[1]}/phi")
        with pytest.warns(run_index.RunIndexWarning, match="saved but not indexed"):
            res = run_batch([config(p) for p in (5, 6, 7, 8)], scheduler="inline")
    finally:
        stop.set()
        thread.join(timeout=60)
        for c in asked:
            c.close()
        srv.close()
    assert [o.status for o in res.outcomes] == ["ok"] * 4 and all(o.run_id for o in res.outcomes)
    assert len(asked) == 1  # the claims' look; the four runs' rows did not ask again


def test_a_read_only_index_lets_the_batch_run_unclaimed(monkeypatch: pytest.MonkeyPatch) -> None:
    import phi.backtest.run_index as run_index
    from phi.paths import phi_home

    first = run_batch([config(5)], scheduler="inline")  # a history, indexed
    db = phi_home() / run_index.DB_FILE
    monkeypatch.setenv("PHI_DB_URL", f"sqlite:///file:{db}?mode=ro&uri=true")  # readable, never writable
    with pytest.warns(run_index.RunIndexWarning, match="readonly database"):
        res = run_batch([config(5), config(6)], scheduler="inline")
    assert [o.status for o in res.outcomes] == ["skipped", "ok"]
    assert res.outcomes[0].run_id == first.outcomes[0].run_id and res.outcomes[1].run_id


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="process states come from /proc")
def test_a_killed_batch_its_parent_has_not_reaped_yet_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_waiting(monkeypatch)
    cfg = config(9)
    holder = _live_child("import time; print('ready', flush=True); time.sleep(600)")
    try:
        start = Path(f"/proc/{holder.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        holder.send_signal(signal.SIGKILL)
        os.waitid(os.P_PID, holder.pid, os.WEXITED | os.WNOWAIT)  # exited, left a zombie (not reaped)
        assert Path(f"/proc/{holder.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        _raw_claim(f"'{cfg.config_hash()}', '{HOST}:{holder.pid}:{start}:x', '{HOST}', {holder.pid}, {time.time()}")
        _ran_once(cfg)
    finally:
        holder.kill()
        holder.wait(timeout=60)
