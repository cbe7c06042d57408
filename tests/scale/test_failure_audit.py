"""Failures under a batch or a shared study: the Dask scheduler lost mid-batch, every worker
gone, a worker without phi; a study's PostgreSQL server that refuses, never answers or drops
its connections mid-study. Each is one line naming the problem (a PhiError, exit code 2 in the
CLI), never a password, never an endless wait; what finished is kept and a rerun resumes."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phi.batch import run_batch
from phi.errors import ConfigError, RunError
from phi.paths import runs_root
from tests.scale._helpers import config, one_line, phi

SECRET = "s3cret-pw"
_RERUN = "every run saved so far is complete and kept; run the same batch again to run the rest (saved configs are skipped)"


def _saved() -> list[str]:
    root = runs_root()
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


@contextlib.contextmanager
def _tcp_cluster(n_workers: int) -> Iterator[Any]:
    """An in-process LocalCluster whose scheduler listens on loopback TCP (workers elsewhere can join);
    its dashboard on a free port (the default 8787 may be taken by a parallel test: a warning, an error here)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=n_workers, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:  # fmt: skip
        yield cluster


def test_losing_the_scheduler_mid_batch_is_one_line_and_a_rerun_finishes() -> None:
    cfgs = [config(p) for p in range(5, 9)]  # 1 worker: chunks of 2, 1, 1 configs
    with _tcp_cluster(1) as cluster:
        address = cluster.scheduler_address

        def lose_it(done: int, total: int, outcome: Any) -> None:
            if done == 2:
                cluster.close()
                closed.append(time.monotonic())

        closed: list[float] = []
        with pytest.raises(RunError) as err:
            run_batch(cfgs, scheduler=address, progress=lose_it)
        assert time.monotonic() - closed[0] < 5  # not Dask's 10 s of reconnect attempts, nor a wait per task
    left = re.fullmatch(rf"lost the Dask scheduler at {re.escape(address)} with (\d+) config\(s\) left; {re.escape(_RERUN)}", str(err.value))
    assert left is not None and 0 < int(left.group(1)) <= 2
    first = _saved()
    assert len(first) >= 2
    again = run_batch(cfgs, scheduler="inline")
    assert len(again.skipped) == len(first) and len(again.ok) == 4 - len(first) and not again.failed
    assert len(_saved()) == 4


def test_a_worker_without_phi_is_refused_before_anything_runs(tmp_path: Path) -> None:
    fake = tmp_path / "site" / "phi"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("no phi on this machine")\n')
    dask = str(Path(sys.executable).with_name("dask"))
    with _tcp_cluster(0) as cluster:
        address = cluster.scheduler_address
        env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
        worker = subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            with pytest.raises(ConfigError) as err:
                run_batch([config(7)], scheduler=address)
        finally:
            worker.kill()
            worker.wait(timeout=30)
    assert str(err.value).startswith("the Dask worker tcp://127.0.0.1:")
    assert str(err.value).endswith(
        f" of {address} cannot import phi (ImportError: no phi on this machine): install the same Phi-nance on every worker"
    )
    assert _saved() == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (a hung server)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.1)
    stop, held = threading.Event(), []

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(srv.accept()[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(srv.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        srv.close()


@pytest.mark.parametrize("flag", ["--study", "--resume"])
def test_a_study_server_that_refuses_is_one_line_without_the_password(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://phi:{SECRET}@127.0.0.1:{_free_port()}/phi"
    t0 = time.monotonic()
    code, out, err = phi(capsys, "tune", "DEMO", "-i", "rsi", "--trials", "2", flag, "s", "--storage", url)
    line = one_line(err)
    assert code == 2 and SECRET not in out + err and time.monotonic() - t0 < 10  # no retries of a refused connection
    doing = "cannot be used" if flag == "--study" else "cannot be read"
    assert line.startswith(f"error: {flag if flag == '--resume' else '--storage'}: the study storage "
                           f"postgresql+psycopg://phi:***@127.0.0.1:") and f" {doing}: " in line and "refused" in line  # fmt: skip


def test_a_study_server_that_never_answers_is_given_up_on(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import phi.backtest.run_index as run_index

    monkeypatch.setattr(run_index, "INDEX_TIMEOUT_S", 1.0)
    with _silent_server() as port:
        t0 = time.monotonic()
        code, _, err = phi(capsys, "tune", "DEMO", "-i", "rsi", "--trials", "2", "--study", "s",
                           "--storage", f"postgresql://phi:{SECRET}@127.0.0.1:{port}/phi")  # fmt: skip
    assert code == 2 and time.monotonic() - t0 < 10 and SECRET not in err
    assert one_line(err).endswith("cannot be used: connection timeout expired (no answer within 1 s)")


def test_a_study_whose_server_drops_it_midway_keeps_its_trials_and_resumes(pg_url: str, pg_server: str) -> None:
    import optuna
    import psycopg

    from phi.backtest.run_index import database_url
    from phi.phiai.tuner import PhiAITuner
    from tests.phiai.frames import random_walk

    db = pg_url.rsplit("/", 1)[1]
    bars = random_walk(600, seed=3)

    def cut(step: str, done: int, total: int) -> None:  # after the first batch of trials is told
        if done < total:
            with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS false')  # our own generated name
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (db,))

    tuner = PhiAITuner(bars, candidates=["rsi"], folds=2, storage=database_url(pg_url), study_name="cut", progress=cut, batch_size=4)
    with pytest.raises(ConfigError) as err:
        tuner.tune_indicator("rsi", n_trials=12)
    msg = str(err.value)
    assert msg.startswith(f"the study storage {database_url(pg_url)} cannot be used: ") and "\n" not in msg
    assert msg.endswith("; the trials finished so far are kept (--resume continues the study)")
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true')
    kept = optuna.load_study(study_name="cut-rsi", storage=database_url(pg_url)).get_trials(deepcopy=False)
    complete = [t for t in kept if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4  # the first batch, told before the cut
    again = PhiAITuner(bars, candidates=["rsi"], folds=2, storage=database_url(pg_url), study_name="cut", seed=1, batch_size=4)
    again.tune_indicator("rsi", n_trials=4)
    after = optuna.load_study(study_name="cut-rsi", storage=database_url(pg_url)).get_trials(deepcopy=False)
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in after) == 8


def _workers_gone_after_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker retired (and closed) right after the batch's worker check, before any task
    is submitted: nothing can ever finish, whatever the timing."""
    import phi.batch.watch as watch

    checked = watch.check_workers

    def check_then_retire(client: Any, address: str) -> None:
        checked(client, address)
        client.retire_workers(close_workers=True)  # returns once the scheduler has let them go
        assert client.scheduler_info()["workers"] == {}

    monkeypatch.setattr(watch, "check_workers", check_then_retire)


@pytest.fixture
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> float:
    """The watch's own bounds, lowered: a look every 0.05 s, no workers for 0.5 s is enough."""
    import phi.batch.runner as runner
    import phi.batch.watch as watch

    monkeypatch.setattr(watch, "POLL_S", 0.05)
    monkeypatch.setattr(runner, "WORKER_WAIT", 0.5)
    return 0.5


def test_every_worker_gone_before_the_tasks_is_one_run_error(monkeypatch: pytest.MonkeyPatch, quick_watch: float) -> None:
    _workers_gone_after_the_check(monkeypatch)
    with _tcp_cluster(1) as cluster:
        address = cluster.scheduler_address
        t0 = time.monotonic()
        with pytest.raises(RunError) as err:
            run_batch([config(p) for p in (5, 6, 7)], scheduler=address)
        waited = time.monotonic() - t0
    assert str(err.value) == (
        f"the Dask scheduler at {address} has had no workers for 0.5 s with 3 config(s) left "
        f"(start some: dask worker {address} --nthreads 1); {_RERUN}"
    )
    assert quick_watch <= waited < 30  # gave up after the watch's bound, not never
    assert _saved() == []


def test_every_worker_gone_before_the_tasks_exits_2_in_the_cli(
    monkeypatch: pytest.MonkeyPatch, quick_watch: float, capsys: pytest.CaptureFixture[str]
) -> None:
    _workers_gone_after_the_check(monkeypatch)
    with _tcp_cluster(1) as cluster:
        address = cluster.scheduler_address
        code, _, err = phi(capsys, "batch", "run", "--grid", "period=5..6", "--start", "2023-01-01", "--end", "2023-12-31",
                           "--scheduler", address)  # fmt: skip
    assert code == 2
    assert one_line(err) == (
        f"error: the Dask scheduler at {address} has had no workers for 0.5 s with 2 config(s) left "
        f"(start some: dask worker {address} --nthreads 1); {_RERUN}"
    )
    assert _saved() == []
