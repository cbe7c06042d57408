"""More storage failures, one parametrised test per class of defect: a failing cache write keeps
the range cached before; a file where a cache folder must be is named; deleting a cached range
that cannot be deleted is one line; a damaged or lost SQLite run index is set aside and rebuilt
from the run folders; a run index held by another process or a server that never answers
gives up after the index timeout with one line; a save that fails part-way keeps the result
and leaves nothing behind; hostile run ids are refused.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.backtest import run_history as rh
from phi.backtest import run_index as ri
from phi.backtest import run_storage as rs
from phi.backtest.engine import BacktestResult, EngineConfig, run_backtest
from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.data import cache
from phi.data.store import get_dataset
from phi.errors import CacheError, PhiError, RunError
from phi.paths import cache_root, phi_home, runs_root
from tests.conftest import make_ohlcv

SPAN = ("2021-01-01", "2021-12-31")
KEY = ("demo", "DEMO", "1D", *SPAN)
CONFIG = RunConfig(DatasetSpec("DEMO", start="2021-01-01", end="2021-12-31"), ["rsi"], description="failures")


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    bars = make_ohlcv(200, seed=5)
    signal = np.sign(bars["close"].pct_change(5)).fillna(0.0)
    return run_backtest(bars, signal, EngineConfig(allow_short=True))


@pytest.fixture(autouse=True)
def _fresh_index(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No engine of another test's PHI_HOME, the SQLite index by default, a short index timeout."""
    monkeypatch.delenv("PHI_DB_URL", raising=False)
    monkeypatch.setattr(ri, "INDEX_TIMEOUT_S", 1.0)
    ri._ENGINES.clear()
    yield
    for eng in ri._ENGINES.values():
        eng.dispose()
    ri._ENGINES.clear()


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert isinstance(exc, PhiError) and "\n" not in text and "Traceback" not in text, repr(exc)
    return text


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp-run-"))


# ---------------------------------------------------------------------------- the data cache


def _enospc_in_parquet(monkeypatch: pytest.MonkeyPatch) -> None:
    def half_then_full(self: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_full)


def _enospc_in_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.write_text

    def full(self: Path, *args: object, **kwargs: object) -> int:
        if "_metadata.json" in self.name:
            real(self, '{"half": ')
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", full)


def _fsync_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def eio(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", eio)


def _writer_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1")
        raise RuntimeError("the writer broke")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)


CACHE_WRITE_FAILURES = {
    "disk full in the parquet": (_enospc_in_parquet, r"\.parquet: No space left on device"),
    "disk full in the metadata": (_enospc_in_metadata, r"_metadata\.json: No space left on device"),
    "fsync fails": (_fsync_fails, r"Input/output error"),
    "the writer raises": (_writer_raises, None),
}


@pytest.mark.parametrize("case", CACHE_WRITE_FAILURES)
def test_a_failing_cache_write_keeps_the_range_cached_before(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: the old metadata was dropped before the new one was written, so a full disk while
    re-fetching lost the range cached before (an intraday range a vendor no longer serves)."""
    before = get_dataset("DEMO", *SPAN, "1D", "demo").frame
    parquet, meta = cache.dataset_paths(*KEY)
    old = parquet.read_bytes(), meta.read_bytes()
    breaks, message = CACHE_WRITE_FAILURES[case]
    with monkeypatch.context() as mp:
        breaks(mp)
        if message is None:
            with pytest.raises(RuntimeError, match="the writer broke"):
                get_dataset("DEMO", *SPAN, "1D", "demo", refresh=True)
        else:
            with pytest.warns(cache.CacheWarning, match=r"could not cache the dataset: cannot write .*" + message) as got:
                ds = get_dataset("DEMO", *SPAN, "1D", "demo", refresh=True)
            assert len(got) == 1 and "\n" not in str(got[0].message)
            pd.testing.assert_frame_equal(ds.frame, before)  # the fetched data is still returned
    assert (parquet.read_bytes(), meta.read_bytes()) == old  # the old range, whole
    assert temps(cache_root()) == []
    again = get_dataset("DEMO", *SPAN, "1D", "demo")
    assert again.from_cache
    pd.testing.assert_frame_equal(again.frame, before)


@pytest.mark.parametrize("level", ["data_cache", "data_cache/demo", "data_cache/demo/DEMO", "data_cache/demo/DEMO/1D"])
def test_a_file_where_a_cache_folder_must_be_is_named(level: str) -> None:
    """Was: 'Not a directory' or 'File exists' for the parquet path, not the file in the way."""
    blocker = phi_home() / level
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    with pytest.warns(cache.CacheWarning) as got:
        ds = get_dataset("DEMO", *SPAN, "1D", "demo")
    assert len(ds.frame) > 200 and not ds.from_cache
    assert [str(w.message).split(": cannot write ")[0] for w in got] == ["could not cache the dataset"]
    assert str(got[0].message).endswith(f": {blocker} is a file, not a folder")
    assert blocker.read_text() == "not a folder"


def _loop(home: Path, name: str) -> Path:
    link = home / name
    link.symlink_to(link)
    return link


LINKS = {
    "data_cache is a link loop": (lambda home: _loop(home, "data_cache"), "is a symbolic link loop"),
    "runs is a link loop": (lambda home: _loop(home, "runs"), "is a symbolic link loop"),
    "PHI_HOME is a link loop": (lambda home: _loop(home, "loop"), "is a symbolic link loop"),
    "PHI_HOME is a dangling link": (
        lambda home: (home / "gone").symlink_to(home / "nowhere") or home / "gone",
        "which does not exist",
    ),
}


@pytest.mark.parametrize("case", LINKS)
def test_a_broken_symbolic_link_in_the_way_is_named_and_the_run_still_returns(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: a RuntimeError traceback ('Symlink loop') from the cache for a loop, and 'File
    exists' as the reason a run or the bars could not be saved for a broken link."""
    from phi.pipeline import run

    make, said = LINKS[case]
    link = make(phi_home())
    if case.startswith("PHI_HOME"):
        monkeypatch.setenv("PHI_HOME", str(link))
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        res = run(CONFIG)
    assert len(res.equity) > 200 and "sharpe" in res.metrics
    cache_said = [str(w.message) for w in got if issubclass(w.category, cache.CacheWarning)]
    assert all("\n" not in m for m in cache_said)
    if case == "data_cache is a link loop":
        assert res.run_id is not None and res.save_error is None  # the run history is fine
    else:
        assert res.run_id is None and f"could not save the run: {link} is a symbolic" in str(res.save_error)
        assert said in str(res.save_error) and "\n" not in str(res.save_error)
    if case == "runs is a link loop":
        assert cache_said == []
    else:
        assert len(cache_said) == 1 and f"{link} is a symbolic" in cache_said[0] and said in cache_said[0]


def _folder_at(which: int) -> Callable[[], str]:
    def make() -> str:
        path = cache.dataset_paths(*KEY)[which]
        path.unlink()
        path.mkdir()
        return f"cannot delete {path}: it is a folder, not a cached file; remove it by hand"

    return make


def _read_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    def make() -> str:
        def erofs(self: Path, missing_ok: bool = False) -> None:
            raise OSError(errno.EROFS, "Read-only file system", str(self))

        monkeypatch.setattr(Path, "unlink", erofs)
        return f"cannot delete {cache.dataset_paths(*KEY)[1]}: Read-only file system"

    return make


@pytest.mark.parametrize("case", ["parquet is a folder", "metadata is a folder", "read-only"])
def test_deleting_a_cached_range_that_cannot_go_is_one_line(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: an IsADirectoryError / OSError traceback from delete_dataset."""
    get_dataset("DEMO", *SPAN, "1D", "demo")
    make = {"parquet is a folder": _folder_at(0), "metadata is a folder": _folder_at(1), "read-only": _read_only(monkeypatch)}
    expected = make[case]()
    with pytest.raises(CacheError) as info:
        cache.delete_dataset(*KEY)
    assert one_line(info.value) == expected


def _half(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _nan_close(p: Path) -> None:
    frame = pd.read_parquet(p)
    frame.iloc[5, frame.columns.get_loc("close")] = np.nan
    frame.to_parquet(p)


@pytest.mark.parametrize(
    "damage",
    [_half, lambda p: p.write_bytes(b""), lambda p: p.write_bytes(os.urandom(3000)), _nan_close],
    ids=["half", "zero bytes", "garbage", "nan close"],
)
def test_a_damaged_cache_file_is_a_miss_and_is_replaced(damage: Callable[[Path], None]) -> None:
    """Representative (passing before): one warning, fresh bars, one valid file after."""
    first = get_dataset("DEMO", *SPAN, "1D", "demo").frame
    damage(cache.dataset_paths(*KEY)[0])
    with pytest.warns(cache.CacheWarning, match="it will be re-fetched") as got:
        ds = get_dataset("DEMO", *SPAN, "1D", "demo")
    assert len(got) == 1 and not ds.from_cache
    pd.testing.assert_frame_equal(ds.frame, first)
    assert cache.load_dataset(*KEY) is not None and temps(cache_root()) == []


def test_metadata_whose_parquet_was_deleted_is_not_listed_and_the_range_is_fetched_again() -> None:
    """Was: the cache listing kept showing the range (its metadata), which was never served."""
    get_dataset("DEMO", *SPAN, "1D", "demo")
    parquet, meta = cache.dataset_paths(*KEY)
    parquet.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.list_cached_datasets() == [] and not meta.exists()
        assert not get_dataset("DEMO", *SPAN, "1D", "demo").from_cache
    assert cache.load_dataset(*KEY) is not None and len(cache.list_cached_datasets()) == 1


# ---------------------------------------------------------------------------- the run index


def _garbage(db: Path) -> None:
    db.write_bytes(os.urandom(8192))


def _header_then_garbage(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[:100] + os.urandom(len(data) - 100))


DAMAGE = {
    "garbage": (_garbage, "file is not a database"),
    "sqlite header, garbage pages": (_header_then_garbage, "database disk image is malformed"),
    "cut in half": (_half, "database disk image is malformed"),
}
USES = {
    "save": lambda res: rh.save_run(CONFIG, res),
    "list": lambda res: ri.query_runs(),
    "reindex": lambda res: ri.reindex(),
    "delete": lambda res: rh.delete_run(rh.list_runs()[-1]["run_id"]),
}


@pytest.mark.parametrize("use", USES)
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_sqlite_index_is_set_aside_and_rebuilt(damage: str, use: str, result: BacktestResult) -> None:
    """Was: every listing, save and even ``phi runs reindex`` failed with 'file is not a
    database' until the user found and deleted runs.db by hand."""
    saved = [rh.save_run(CONFIG, result) for _ in range(2)]
    db = phi_home() / ri.DB_FILE
    ri._ENGINES.clear()
    make, reason = DAMAGE[damage]
    make(db)
    damaged = db.read_bytes()
    with pytest.warns(ri.RunIndexWarning, match=f"the run index {db} was damaged \\({reason}\\); it was moved to runs.db.damaged-"):
        USES[use](result)
    aside = sorted(phi_home().glob("runs.db.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged  # kept for a post-mortem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        listed = [r["run_id"] for r in ri.query_runs().rows]
    assert listed == [r["run_id"] for r in rh.list_runs()]  # the index matches the folders again
    assert set(listed) >= set(saved) - {saved[0]}


def test_an_index_deleted_under_a_running_process_is_recreated(result: BacktestResult) -> None:
    """Was: 'no such table: phi_runs' for the rest of the process (a workbench session) once
    runs.db was deleted, since the tables were made once per process."""
    first = rh.save_run(CONFIG, result)
    assert ri.query_runs().total == 1
    (phi_home() / ri.DB_FILE).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = rh.save_run(CONFIG, result)
        assert [r["run_id"] for r in ri.query_runs().rows] == [second, first]


def test_an_index_that_is_a_folder_is_named(result: BacktestResult) -> None:
    (phi_home() / ri.DB_FILE).mkdir()
    with pytest.warns(ri.RunIndexWarning, match=f"{phi_home() / ri.DB_FILE} is a folder, not a database file"):
        run_id = rh.save_run(CONFIG, result)
    assert [r["run_id"] for r in rh.list_runs()] == [run_id]


@pytest.mark.parametrize("name", ["q?1", "a#b", "pct%20x", "sp ace ü"])
def test_the_index_stays_in_a_phi_home_with_url_characters(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, result: BacktestResult
) -> None:
    """Was: PHI_HOME=/x/q?1 put the index at /x/q (the path cut at '?'), and /x/pct%20x
    could not open one at all (read as /x/pct x)."""
    home = tmp_path / name
    home.mkdir()
    monkeypatch.setenv("PHI_HOME", str(home))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_id = rh.save_run(CONFIG, result)
        assert [r["run_id"] for r in ri.query_runs().rows] == [run_id]
    assert sorted(os.listdir(home)) == ["runs", "runs.db"] and sorted(os.listdir(tmp_path)) == sorted([name, "phi_home"])
    assert str(home / "runs.db") in ri._shown(ri.index_url())


@pytest.fixture
def locked_index(result: BacktestResult) -> Iterator[str]:
    """runs.db with one run, held by another process in an exclusive transaction."""
    run_id = rh.save_run(CONFIG, result)
    ri._ENGINES.clear()
    code = (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(phi_home() / ri.DB_FILE)!r}, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    try:
        yield run_id
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()  # type: ignore[union-attr]
        proc.stdout.close()


def test_an_index_held_by_another_process_gives_up_after_the_timeout(locked_index: str, result: BacktestResult) -> None:
    """Was: a save waited 60 s per attempt, three attempts (minutes), for its index row."""
    t0 = time.perf_counter()
    with pytest.warns(ri.RunIndexWarning, match=r"database is locked \(another process has held it for more than 1 s\)"):
        run_id = rh.save_run(CONFIG, result)
    assert time.perf_counter() - t0 < 8
    assert sorted(os.listdir(runs_root())) == sorted([locked_index, run_id])  # the run is saved
    t0 = time.perf_counter()
    with pytest.raises(RunError) as info:
        ri.query_runs()
    assert "database is locked" in one_line(info.value) and time.perf_counter() - t0 < 8


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    try:
        yield srv.getsockname()[1]
    finally:
        srv.close()


def _refused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


SERVERS = {
    "server never answers": (lambda port: f"postgresql://u:secret@127.0.0.1:{port}/phi", r"timeout expired \(no answer within 1 s\)"),
    "connection refused": (lambda port: f"postgresql://u:secret@127.0.0.1:{_refused_port()}/phi", "Connection refused"),
    "not a URL": (lambda port: "not a url", "Could not parse"),
    "unknown driver": (lambda port: "postgresql+nodriver://u:secret@h/x", "Can't load plugin"),
    "port out of range": (lambda port: "postgresql://u:secret@127.0.0.1:99999999/x", "invalid port"),
}


@pytest.mark.parametrize("case", SERVERS)
def test_a_database_url_that_cannot_be_used_is_one_line_without_a_hang(
    case: str, silent_server: int, result: BacktestResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: a server that accepts and never answers hung every save and listing for ever (no
    connect timeout)."""
    pytest.importorskip("psycopg")
    url, message = SERVERS[case]
    monkeypatch.setenv("PHI_DB_URL", url(silent_server))
    t0 = time.perf_counter()
    with pytest.warns(ri.RunIndexWarning, match="is saved but not indexed") as got:
        run_id = rh.save_run(CONFIG, result)
    assert re.search(message, str(got[0].message)), got[0].message
    assert "secret" not in str(got[0].message)
    assert os.listdir(runs_root()) == [run_id]
    with pytest.raises(RunError) as info:
        ri.query_runs()
    text = one_line(info.value)
    assert "secret" not in text and text.startswith("the run index at ")
    assert time.perf_counter() - t0 < 10


# ---------------------------------------------------------------------------- saving a run


def _fail_on(nth: int, error: int) -> Callable[[pytest.MonkeyPatch], None]:
    def patch(mp: pytest.MonkeyPatch) -> None:
        real, calls = rs._write_synced, [0]

        def write(path: Path, data: bytes) -> None:
            calls[0] += 1
            if calls[0] == nth:
                real(path, data[: len(data) // 2])
                raise OSError(error, os.strerror(error))
            real(path, data)

        mp.setattr(rs, "_write_synced", write)

    return patch


def _rename_fails(mp: pytest.MonkeyPatch) -> None:
    real = os.rename

    def rename(src: str | Path, dst: str | Path) -> None:
        if rs.TEMP_PREFIX in str(src):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    mp.setattr(os, "rename", rename)


SAVE_FAILURES = {
    "disk full in the 2nd file": (_fail_on(2, errno.ENOSPC), "no space left on the device of"),
    "disk full in results.json": (_fail_on(4, errno.ENOSPC), "no space left on the device of"),
    "I/O error": (_fail_on(1, errno.EIO), "Input/output error"),
    "disk full at the rename": (_rename_fails, "no space left on the device of"),
}


@pytest.mark.parametrize("case", SAVE_FAILURES)
def test_a_save_failing_part_way_keeps_the_result_and_leaves_nothing(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Representative (passing before): phi.run returns the finished result with one line."""
    from phi.pipeline import run

    run(CONFIG, save=False)  # the data cached first: only the run's save fails below
    patch, message = SAVE_FAILURES[case]
    with monkeypatch.context() as mp:
        patch(mp)
        res = run(CONFIG)
    assert res.run_id is None and res.save_error is not None and message in res.save_error
    assert "\n" not in res.save_error and len(res.equity) > 200 and "sharpe" in res.metrics
    assert os.listdir(runs_root()) == [] and rh.list_runs() == []


@pytest.mark.parametrize("run_id", ["../../etc", "..", "", "ü-run", "a/b", "nul\x00", ".hidden", "x" * 300])
def test_hostile_run_ids_are_one_line(run_id: str, result: BacktestResult) -> None:
    """Representative (passing before): no file outside the runs folder is touched."""
    rh.save_run(CONFIG, result)
    for use in (rh.load_run, rh.delete_run, lambda r: rh.compare_runs([r, "x"]), lambda r: rh.save_run(CONFIG, result, run_id=r)):
        with pytest.raises(RunError) as info:
            use(run_id)
        one_line(info.value)
    assert len(os.listdir(runs_root())) == 1


# ---------------------------------------------------------------------------- a user's CSV


def _bars_csv(n: int = 60) -> bytes:
    return make_ohlcv(n, seed=2).reset_index().to_csv(index=False).encode()


@pytest.mark.parametrize("cut", [3, 12, 30, 60, 90])
def test_a_csv_cut_short_is_named(cut: int, tmp_path: Path) -> None:
    """Was: 'date column mixes stamps with and without a time zone' for a cut date, a NaN error
    for a cut row, or (a cut volume) the bar read with volume 0."""
    data = _bars_csv()
    last = data.rindex(b"\n", 0, len(data) - 1) + 1
    path = tmp_path / "bars.csv"
    path.write_bytes(data[: last + cut])
    with pytest.raises(PhiError) as info:
        get_dataset("X", "2020-01-01", "2020-12-31", "1D", "csv", path=str(path))
    assert "fields and no line end" in one_line(info.value) and "looks cut short" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [lambda d: d.rstrip(b"\n"), lambda d: d.replace(b"volume\n", b"volume,note\n").rstrip(b"\n")],
    ids=["no final line end", "an empty last column"],
)
def test_a_whole_csv_without_a_final_line_end_still_reads(text: Callable[[bytes], bytes], tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_bytes(text(_bars_csv()))
    assert len(get_dataset("X", "2020-01-01", "2020-12-31", "1D", "csv", path=str(path)).frame) == 60


def _edit_config(run_id: str, change: Callable[[dict[str, object]], None]) -> None:
    """Change a saved run's config.json and record its new checksum (as a newer phi would write)."""
    import hashlib
    import json

    folder = runs_root() / run_id
    cfg = json.loads((folder / "config.json").read_text())
    change(cfg)
    raw = json.dumps(cfg).encode()
    (folder / "config.json").write_bytes(raw)
    res = json.loads((folder / "results.json").read_text())
    res["checksums"]["config.json"] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    (folder / "results.json").write_text(json.dumps(res))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda c: c.update(schema_version=2, risk_budget=1), r"was saved by phi .* \(config schema 2; this phi reads 1\); upgrade phi"),
        (lambda c: c.update(phi_version="9.1.0", risk_budget=1), r"was saved by phi 9\.1\.0, newer than this phi .*; upgrade phi"),
        (lambda c: c.update(risk_budget=1), r"config\.json is invalid: unknown config field 'risk_budget'.*; delete it with"),
    ],
    ids=["newer config schema", "newer phi", "same phi, unknown field"],
)
def test_a_run_from_a_newer_phi_asks_for_an_upgrade_not_a_delete(
    change: Callable[[dict[str, object]], None], said: str, result: BacktestResult
) -> None:
    """Was: a run whose config has fields of a newer phi was called invalid, 'delete it'."""
    run_id = rh.save_run(CONFIG, result)
    _edit_config(run_id, change)
    with pytest.raises(RunError, match=said) as info:
        rh.load_run(run_id)
    one_line(info.value)
    assert [r["run_id"] for r in rh.list_runs()] == [run_id]  # still listed, nothing removed
