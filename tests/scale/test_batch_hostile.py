"""Hostile batch inputs: a config file or line that is not JSON (or not UTF-8) in a folder of
good ones is reported as a failed config while the good ones run and are saved; a malformed
scheduler address, a peer that is not a Dask scheduler, and a scheduler without workers are one
ConfigError each, before anything runs (never a traceback or a batch that waits forever)."""

from __future__ import annotations

import contextlib
import gc
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phi.batch import load_configs, run_batch
from phi.errors import ConfigError
from phi.paths import runs_root
from tests.scale._helpers import config


def _saved_runs() -> list[str]:
    root = runs_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def test_bad_files_and_lines_in_a_folder_are_failed_configs_and_the_good_ones_run(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "a_good.json").write_text(config(7).to_json())
    (folder / "b_broken.json").write_text("{not json")
    (folder / "c_latin1.json").write_bytes(b'{"caf\xe9": 1}')
    (folder / "d_deep.json").write_text("[" * 100_000)
    line = [json.dumps(json.loads(config(14).to_json())), "{bad line", json.dumps(json.loads(config(21).to_json()))]
    (folder / "e_lines.jsonl").write_text("\n".join(line) + "\n")
    items = load_configs(folder)
    errors = [str(i) for i in items if isinstance(i, ConfigError)]
    assert errors == [
        "b_broken.json is not JSON (Expecting property name enclosed in double quotes at line 1 column 2)",
        f"config file {str(folder / 'c_latin1.json')!r} is not UTF-8 text: byte 0xe9 at offset 5; save it as UTF-8",
        "d_deep.json is not JSON (nested too deeply)",
        "e_lines.jsonl line 2 is not JSON (Expecting property name enclosed in double quotes at line 1 column 2)",
    ]
    res = run_batch(items, scheduler="inline")
    assert sorted(o.params["period"] for o in res.ok) == [7, 14, 21]
    assert len(res.failed) == 4 and len(_saved_runs()) == 3


def test_one_unreadable_file_given_alone_is_still_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "one.json"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(it looks like UTF-16\): byte 0xff at offset 0; save it as UTF-8$"):
        load_configs(bad)


@pytest.mark.parametrize("address", ["nonsense", "tcp://h:99999", "http://127.0.0.1:8786", "tcp://[::1:8786"])
def test_a_malformed_scheduler_address_is_refused_before_anything_runs(address: str) -> None:
    with pytest.raises(ConfigError) as err:
        run_batch([config(7)], scheduler=address)
    assert str(err.value) == (
        f"Dask scheduler address {address!r} is not of the form tcp://host:port "
        "(e.g. tcp://10.0.0.5:8786, as `dask scheduler` prints it)"
    )
    assert _saved_runs() == []


@contextlib.contextmanager
def _garbage_server() -> Iterator[int]:
    """A loopback TCP server that answers every connection with bytes no Dask peer sends."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"\xff" * 64)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(srv.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        srv.close()


def test_a_peer_that_is_not_a_dask_scheduler_is_one_config_error() -> None:
    with _garbage_server() as port, pytest.raises(ConfigError) as err:
        run_batch([config(7)], scheduler=f"tcp://127.0.0.1:{port}")
    msg = str(err.value)
    assert msg.startswith(f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: ") and "\n" not in msg
    assert _saved_runs() == []


def test_a_refused_scheduler_leaves_no_half_made_client_for_the_garbage_collector() -> None:
    """The Client that failed to connect is closed before the error is raised: left to the
    garbage collector, its close ran whenever a collection happened, once inside the next
    test's LocalCluster start, and both waited on distributed's one LoopRunner lock (a hang)."""
    from distributed import Client

    with _garbage_server() as port, pytest.raises(ConfigError):
        run_batch([config(7)], scheduler=f"tcp://127.0.0.1:{port}")

    def unclosed() -> list[str]:
        out = []
        for obj in gc.get_objects():
            try:
                if type(obj) is Client and obj.status != "closed":
                    out.append(obj.status)
            except ReferenceError:  # a weak proxy whose object is gone
                pass
        return out

    assert unclosed() == []


def test_a_scheduler_without_workers_is_reported_not_waited_on_forever(monkeypatch) -> None:
    from distributed import LocalCluster

    import phi.batch.runner as runner

    monkeypatch.setattr(runner, "WORKER_WAIT", 0.5)
    with LocalCluster(n_workers=0, processes=False, dashboard_address="127.0.0.1:0") as cluster:
        address = cluster.scheduler_address
        t0 = time.monotonic()
        with pytest.raises(ConfigError) as err:
            run_batch([config(7)], scheduler=address)
    assert time.monotonic() - t0 < 15
    assert str(err.value) == (
        f"the Dask scheduler at {address} has no workers (waited 0.5 s); start one: dask worker {address} --nthreads 1"
    )
    assert _saved_runs() == []


@pytest.mark.parametrize(("spec", "bad"), [("period=nan..5", "nan"), ("period=1..inf", "inf"), ("period=1..5:nan", "nan")])
def test_a_grid_range_over_a_non_finite_number_is_one_config_error(spec: str, bad: str) -> None:
    from phi.batch import parse_grid

    with pytest.raises(ConfigError) as err:
        parse_grid(spec)
    assert str(err.value) == f"--grid: period: {bad!r} is not a finite number"


def test_a_device_as_a_symbols_or_config_file_is_refused_unread() -> None:
    from phi.batch import load_symbols

    with pytest.raises(ConfigError, match=r"^symbols file '/dev/zero' is a character device, not a regular file$"):
        load_symbols("/dev/zero")
    with pytest.raises(ConfigError, match=r"^/dev/zero is neither a config file nor a folder of config files$"):
        load_configs("/dev/zero")


def test_a_sweep_runs_the_good_symbols_and_reports_the_bad_one() -> None:
    from phi.batch import parse_grid, sweep_configs

    items = sweep_configs(["DEMO", "../etc", "DEMO2"], "rsi", parse_grid("period=7,14"), start="2023-01-01", end="2023-12-31")
    assert [str(i) for i in items if isinstance(i, ConfigError)] == [
        "../etc: dataset.symbol: symbol '../etc' contains '/'; only letters, digits and . - ^ = _ are allowed"
    ]
    res = run_batch(items, scheduler="inline")
    assert sorted((o.symbol, o.params["period"]) for o in res.ok) == [("DEMO", 7), ("DEMO", 14), ("DEMO2", 7), ("DEMO2", 14)]
    assert len(res.failed) == 1 and len(_saved_runs()) == 4
    with pytest.raises(ConfigError, match=r"^--preset: "):
        sweep_configs(["DEMO"], "no_such_preset", {})


def test_a_local_cluster_of_thousands_of_workers_is_refused() -> None:
    import os

    from phi.batch.runner import max_local_workers

    with pytest.raises(ConfigError) as err:
        run_batch([config(7)], n_workers=10_000)
    assert str(err.value) == (
        f"n_workers 10000 is more than {max_local_workers()} local worker processes ({os.cpu_count() or 1} "
        "core(s); each worker loads phi): use fewer, or a cluster's scheduler"
    )
    assert _saved_runs() == []


def test_sweep_summary_ranks_runs_that_could_not_be_saved() -> None:
    """An unsaved run (status ok, save_error set, metrics kept) is ranked like a saved one; a
    failed config and a skipped one without a saved run are not."""
    from phi.batch.runner import BatchResult
    from phi.batch.summary import sweep_summary
    from phi.batch.task import TaskOutcome

    def outcome(i: int, status: str, symbol: str, sharpe: float | None, run_id: str | None = None, **kw):
        metrics = {} if sharpe is None else {"sharpe": sharpe}
        return TaskOutcome(i, status, f"{symbol} #{i}", symbol=symbol, params={"p": i}, run_id=run_id,
                           metrics=metrics, **kw)  # fmt: skip

    res = BatchResult(
        [
            outcome(0, "ok", "AAA", 0.5, save_error="runs folder is read-only"),
            outcome(1, "ok", "AAA", 1.5, save_error="runs folder is read-only"),
            outcome(2, "ok", "BBB", 0.2, run_id="r2"),
            outcome(3, "failed", "BBB", None, error="boom"),
            outcome(4, "skipped", "BBB", 0.9, run_id="r4"),
            outcome(5, "skipped", "CCC", None),
        ],
        seconds=1.0,
        n_workers=1,
        scheduler="inline",
    )
    s = sweep_summary(res, "sharpe")
    assert sorted(s.rows["index"]) == [0, 1, 2, 4]
    assert s.best["sharpe"].to_dict() == {"AAA": 1.5, "BBB": 0.9}
    assert s.best.loc["AAA", "index"] == 1
