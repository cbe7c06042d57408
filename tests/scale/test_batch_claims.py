"""Two batches at once on one run history: each config is claimed in the run index before it
runs, so it runs once; the other batch waits for the claim and reports the saved run. A claim
whose owner died (its process gone, or not refreshed for CLAIM_STALE_S) is taken over."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from phi.batch import BatchResult, run_batch
from phi.paths import runs_root
from tests.scale._helpers import bad_config, config
from tests.scale.test_failure_audit import _tcp_cluster


def _runs_per_hash() -> dict[str, int]:
    """Indexed runs per config hash (every run folder is indexed: the counts agree)."""
    from phi.backtest.run_index import RUNS, _engine, sync

    sync()
    with _engine().connect() as conn:
        rows = conn.execute(select(RUNS.c.config_hash, func.count()).group_by(RUNS.c.config_hash)).all()
    folders = [p for p in runs_root().iterdir() if not p.name.startswith(".")]
    assert sum(n for _, n in rows) == len(folders)
    return {h: n for h, n in rows}


def _claims() -> list[Any]:
    from phi.backtest.run_index import _engine
    from phi.batch.claims import CLAIMS

    with _engine().connect() as conn:
        return list(conn.execute(select(CLAIMS)).all())


@pytest.mark.parametrize(("backend", "first_on"), [("sqlite", "inline"), ("postgresql", "inline"), ("sqlite", "dask")])
def test_two_batches_at_once_run_each_config_once(
    backend: str, first_on: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import phi.batch.claims as claims
    import phi.batch.task as task

    if backend == "postgresql":
        monkeypatch.setenv("PHI_DB_URL", request.getfixturevalue("pg_url"))
    monkeypatch.setattr(claims, "CLAIM_POLL_S", 0.01)
    # Both batches past their look at the run history (index and folders) before either runs a
    # config: without claims both would run the two configs they share.
    both_looked = threading.Barrier(2, timeout=120)
    looked: set[object] = set()
    saved_hashes = task._saved_hashes

    def look_then_meet(hashes: set[str]) -> set[str]:
        found = saved_hashes(hashes)
        me = threading.current_thread()  # a batch: its thread, or every Dask worker thread (a new one per task at times)
        batch = "dask" if "Dask" in me.name else me.ident
        if batch not in looked:
            looked.add(batch)
            both_looked.wait()
        return found

    monkeypatch.setattr(task, "_saved_hashes", look_then_meet)
    batches = {"a": [config(p) for p in (5, 6, 7)], "b": [config(p) for p in (6, 7, 8)]}  # each has one of its own
    results: dict[str, BatchResult | BaseException] = {}

    def batch(name: str, scheduler: str) -> None:
        try:
            results[name] = run_batch(batches[name], scheduler=scheduler)
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[name] = exc

    with contextlib.ExitStack() as stack:
        first = "inline"
        if first_on == "dask":  # batch a's tasks in the worker thread of an in-process cluster
            first = stack.enter_context(_tcp_cluster(1)).scheduler_address
        threads = [threading.Thread(target=batch, args=("a", first)), threading.Thread(target=batch, args=("b", "inline"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    a, b = results["a"], results["b"]
    assert isinstance(a, BatchResult) and isinstance(b, BatchResult), results
    hashes = {c.config_hash() for c in batches["a"] + batches["b"]}
    assert _runs_per_hash() == dict.fromkeys(hashes, 1)  # one run per config, four in all
    run_of: dict[str, str] = {}
    for res, cfgs in ((a, batches["a"]), (b, batches["b"])):
        assert [o.config_hash for o in res.outcomes] == [c.config_hash() for c in cfgs]  # every config reported
        for o in res.outcomes:
            assert o.status in ("ok", "skipped") and o.run_id is not None and o.metrics["n_trades"] >= 0
            assert run_of.setdefault(o.config_hash, o.run_id) == o.run_id  # both report the same run
    assert len(a.ok) + len(b.ok) == 4 and len(a.skipped) + len(b.skipped) == 2
    assert _claims() == []  # every claim released


def _foreign_claim(cfg: Any, host: str, pid: int, age: float) -> None:
    """A claim on ``cfg`` by another batch (``host``, ``pid``, refreshed ``age`` s ago)."""
    from phi.backtest.run_index import _engine
    from phi.batch.claims import CLAIMS, Claims

    Claims().close()  # the table in place
    with _engine().begin() as conn:
        conn.execute(insert(CLAIMS).values(config_hash=cfg.config_hash(), owner=f"{host}:{pid}:other", host=host, pid=pid,
                                           heartbeat=time.time() - age))  # fmt: skip


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


@pytest.mark.parametrize("owner", ["process-gone", "not-refreshed"])
def test_a_claim_whose_owner_died_is_taken_over_at_once(owner: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import phi.batch.claims as claims

    def no_waiting(seconds: float) -> None:
        raise AssertionError("waited for a dead owner's claim")

    monkeypatch.setattr(claims, "_pause", no_waiting)
    cfg = config(9)
    if owner == "process-gone":  # this machine, a process that has exited, refreshed just now
        _foreign_claim(cfg, socket.gethostname(), _dead_pid(), 0.0)
    else:  # another machine, last refreshed longer ago than the bound
        _foreign_claim(cfg, "elsewhere.example", 1, claims.CLAIM_STALE_S + 5)
    res = run_batch([cfg], scheduler="inline")
    assert [o.status for o in res.outcomes] == ["ok"] and res.outcomes[0].run_id is not None
    assert _runs_per_hash() == {cfg.config_hash(): 1} and _claims() == []


@pytest.mark.parametrize("other", ["saved", "failed"])
def test_a_live_claim_is_waited_for_then_its_run_reused_or_the_config_run(other: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import phi
    import phi.batch.claims as claims
    from phi.backtest.run_index import _engine
    from phi.batch.claims import CLAIMS

    cfg = config(9) if other == "saved" else bad_config()
    _foreign_claim(cfg, "elsewhere.example", os.getpid(), 0.0)  # alive: refreshed just now
    saved: list[str | None] = []

    def other_batch_finishes(seconds: float) -> None:  # the first look found it claimed: it waits
        assert not saved, "waited again after the claim was released"
        assert [r.owner for r in _claims()] == [f"elsewhere.example:{os.getpid()}:other"]
        saved.append(phi.run(cfg).run_id if other == "saved" else None)  # the other batch's run (or failure)
        with _engine().begin() as conn:
            conn.execute(CLAIMS.delete())

    monkeypatch.setattr(claims, "_pause", other_batch_finishes)
    res = run_batch([config(5), cfg], scheduler="inline")
    assert len(saved) == 1
    first, second = res.outcomes
    assert first.status == "ok" and first.run_id is not None
    if other == "saved":
        assert (second.status, second.run_id) == ("skipped", saved[0]) and second.metrics["n_trades"] >= 0
        assert _runs_per_hash() == {config(5).config_hash(): 1, cfg.config_hash(): 1}
    else:  # released without a run: claimed and run here (and failing here too, as there)
        assert second.status == "failed" and second.index == 1 and second.error
    assert _claims() == []
