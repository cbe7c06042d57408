"""Run storage at the edges: saves that fail (read-only, not a folder, full disk) lose no result
and leave no partial run; kill -9 mid-save; 60 concurrent saves; checksums; corrupt runs.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.backtest import run_history as rh
from phi.backtest import run_storage as rs
from phi.backtest.engine import BacktestResult, EngineConfig, run_backtest
from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.cli import main
from phi.errors import RunError
from phi.paths import runs_root
from phi.pipeline import run
from tests.conftest import make_ohlcv

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["--start", "2021-01-01", "--end", "2022-12-31"]
CONFIG = RunConfig(DatasetSpec("DEMO", start="2021-01-01", end="2022-12-31"), ["rsi", "macd"], description="storage")


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    """A real engine result (no data cache touched): a momentum signal on a random walk."""
    bars = make_ohlcv(300, seed=3)
    signal = np.sign(bars["close"].pct_change(5)).fillna(0.0)
    res = run_backtest(bars, signal, EngineConfig(allow_short=True, stop_loss_pct=0.03))
    assert isinstance(res, BacktestResult) and len(res.trades) > 5
    return res


def phi(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The one ``error:`` line on stderr (warnings from other layers may precede it)."""
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


# ---------------------------------------------------------------------------- failing saves


def _mount_tmpfs(path: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"mount not permitted here: {proc.stderr.decode(errors='replace').strip()}")


@pytest.fixture
def tmpfs() -> Iterator[Callable[[Path, str], None]]:
    mounted: list[Path] = []

    def mount(path: Path, options: str) -> None:
        _mount_tmpfs(path, options)
        mounted.append(path)

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def read_only_runs(home: Path, tmpfs: Callable[[Path, str], None]) -> Path:
    """``PHI_HOME/runs`` read-only: chmod for a normal user, a read-only tmpfs for root
    (root writes through any mode bits)."""
    runs = home / "runs"
    if os.geteuid() == 0:
        tmpfs(runs, "ro,size=64k")
    else:
        runs.mkdir()
        runs.chmod(0o555)
    return runs


def full_runs(home: Path, tmpfs: Callable[[Path, str], None]) -> Path:
    """``PHI_HOME/runs`` on a 200 kB tmpfs with 12 kB left (a run needs ~40 kB)."""
    runs = home / "runs"
    tmpfs(runs, "size=200k")
    (runs / "filler").write_bytes(b"\0" * 188_000)
    return runs


def phi_home_is_a_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = home / "not_a_folder"
    target.write_text("x")
    monkeypatch.setenv("PHI_HOME", str(target))
    return target


CASES = {
    "full disk": (full_runs, r"could not save the run: no space left on the device of .*runs"),
}


def test_cli_refuses_a_read_only_runs_folder_before_any_work(
    capsys: pytest.CaptureFixture[str], _isolated_phi_home: Path, tmpfs: Callable[[Path, str], None]
) -> None:
    """A runs folder that cannot be written at all is said before the backtest runs (one line,
    with the way out), not after it; nothing is left in it."""
    runs = read_only_runs(_isolated_phi_home, tmpfs)
    before = leftovers(runs)
    code, out, err = phi(capsys, "backtest", *SHORT)
    assert code == 2 and "Total return [%]" not in out
    line = error_line(err)
    assert re.search(r"cannot write runs/ under PHI_HOME=.*--no-save", line), line
    assert leftovers(runs) == before


@pytest.mark.parametrize("case", CASES)
def test_cli_prints_the_result_then_one_line_and_leaves_no_partial_run(
    case: str, capsys: pytest.CaptureFixture[str], _isolated_phi_home: Path, tmpfs: Callable[[Path, str], None]
) -> None:
    make, message = CASES[case]
    runs = make(_isolated_phi_home, tmpfs)
    before = leftovers(runs)
    code, out, err = phi(capsys, "backtest", *SHORT)
    assert code == 2
    assert "Total return [%]" in out and "SYNTHETIC DEMO DATA" in out and "Saved as run" not in out
    line = error_line(err)
    assert re.search(message, line), line
    assert line.endswith(f"(PHI_HOME={_isolated_phi_home})")
    assert leftovers(runs) == before  # no partial or temporary run folder


def test_rerun_on_a_full_disk_prints_the_result_and_the_check_then_one_line(
    capsys: pytest.CaptureFixture[str], _isolated_phi_home: Path, tmpfs: Callable[[Path, str], None]
) -> None:
    runs = _isolated_phi_home / "runs"
    tmpfs(runs, "size=400k")
    first = run(CONFIG)
    assert first.run_id is not None
    free = shutil.disk_usage(runs).free
    (runs / "filler").write_bytes(b"\0" * max(0, free - 8_000))
    code, out, err = phi(capsys, "runs", "rerun", first.run_id)
    assert code == 2
    assert "Total return [%]" in out and f"Identical to {first.run_id}" in out
    assert re.fullmatch(r"error: could not save the run: no space left on the device of .*runs \(PHI_HOME=.*\)", error_line(err))
    assert leftovers(runs) == sorted([first.run_id, "filler"])


def test_cli_when_phi_home_is_a_file(
    capsys: pytest.CaptureFixture[str], _isolated_phi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI says so before any work (nothing computed, so nothing lost); the API, which
    cannot know in advance, returns the result with the reason (test below)."""
    target = phi_home_is_a_file(_isolated_phi_home, monkeypatch)
    code, out, err = phi(capsys, "demo")
    assert code == 2
    line = error_line(err)
    assert "PHI_HOME=" in line and str(target) in line and "not a folder" in line
    assert target.read_text() == "x"


@pytest.mark.parametrize("case", [*CASES, "file"])
def test_api_returns_the_result_with_the_reason(
    case: str, _isolated_phi_home: Path, tmpfs: Callable[[Path, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    unsaved = run(CONFIG, save=False)  # caches the data first, while PHI_HOME is a folder
    if case == "file":
        target = phi_home_is_a_file(_isolated_phi_home, monkeypatch)
        with pytest.warns(UserWarning, match="could not cache"):  # the data layer, also unwritable
            res = run(CONFIG)
        assert res.save_error == f"could not save the run: {target} is a file, not a folder (PHI_HOME={target})"
    else:
        make, message = CASES[case]
        runs = make(_isolated_phi_home, tmpfs)
        before = leftovers(runs)
        res = run(CONFIG)
        assert res.save_error is not None and re.match(message, res.save_error)
        assert leftovers(runs) == before
        assert "\n" not in res.save_error
    assert res.run_id is None
    assert json.dumps(res.metrics, sort_keys=True) == json.dumps(unsaved.metrics, sort_keys=True)
    pd.testing.assert_frame_equal(res.trades, unsaved.trades)
    assert unsaved.save_error is None


def test_save_run_raises_one_line_and_a_later_save_works(result: BacktestResult, _isolated_phi_home: Path,
                                                         tmpfs: Callable[[Path, str], None]) -> None:
    runs = full_runs(_isolated_phi_home, tmpfs)
    with pytest.raises(RunError, match="no space left"):
        rh.save_run(CONFIG, result)
    assert leftovers(runs) == ["filler"]
    (runs / "filler").unlink()
    rid = rh.save_run(CONFIG, result)
    assert [r["run_id"] for r in rh.list_runs()] == [rid]


def test_an_unexpected_save_failure_keeps_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise TypeError("something nobody expected")

    monkeypatch.setattr(rh, "save_run", broken)
    res = run(CONFIG)
    assert res.run_id is None and len(res.equity) > 0
    assert res.save_error == "could not save the run: TypeError: something nobody expected"


# ---------------------------------------------------------------------------- kill -9, concurrency

DRIVER = r"""
import json, os, pickle, random, signal, sys, threading, time
from pathlib import Path
from phi.backtest.run_history import save_run
from phi.backtest.run_storage import TEMP_PREFIX

mode, blob = sys.argv[1], Path(sys.argv[2])
config, result = pickle.loads(blob.read_bytes())
root = Path(os.environ["PHI_HOME"]) / "runs"
root.mkdir(parents=True, exist_ok=True)

if mode == "kill":
    import phi.backtest.run_storage as rs

    rng = random.Random(int(sys.argv[3]))
    kills = orphans = 0
    deadline = time.monotonic() + 10.0
    while kills < 12 and time.monotonic() < deadline:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # saves forever, saying "w" before each file it writes and "." after each run
            write = rs._write_synced
            rs._write_synced = lambda path, data: (os.write(w, b"w"), write(path, data))
            while True:
                save_run(config, result)
                os.write(w, b".")
        os.close(w)
        while os.read(r, 1) != b".":  # the first save is done (lazy imports behind it)
            pass
        for _ in range(rng.randint(1, 4)):  # then kill while the k-th file of a run is written
            while os.read(r, 1) != b"w":
                pass
        time.sleep(rng.uniform(0.0, 0.001))  # a synced file write takes longer: the kill lands mid-save
        os.kill(pid, signal.SIGKILL)
        os.close(r)
        os.waitpid(pid, 0)
        kills += 1
        orphans += sum(p.name.startswith(TEMP_PREFIX) for p in root.iterdir())
    print(json.dumps({"kills": kills, "orphans_seen": orphans}))
else:  # "race": processes x threads save the same config, all at one instant
    n_proc, n_thread = int(sys.argv[3]), int(sys.argv[4])
    start = time.time() + 0.5
    children = []
    for _ in range(n_proc):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            ids, errors = [], []
            def save():
                time.sleep(max(0.0, start - time.time()))
                try:
                    ids.append(save_run(config, result))
                except Exception as exc:
                    errors.append(repr(exc))
            threads = [threading.Thread(target=save) for _ in range(n_thread)]
            for t in threads: t.start()
            for t in threads: t.join()
            os.write(w, json.dumps({"ids": ids, "errors": errors}).encode())
            os._exit(0)
        os.close(w)
        children.append((pid, r))
    out = {"ids": [], "errors": []}
    for pid, r in children:
        chunks = []
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
        os.waitpid(pid, 0)
        part = json.loads(b"".join(chunks))
        out["ids"] += part["ids"]; out["errors"] += part["errors"]
    print(json.dumps(out))
"""


def drive(tmp_path: Path, result: BacktestResult, *args: str) -> dict:
    blob = tmp_path / "result.pickle"
    blob.write_bytes(pickle.dumps((CONFIG, result)))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, args[0], str(blob), *args[1:]],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"}, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_kill_9_during_saves_leaves_no_partial_run(tmp_path: Path, result: BacktestResult) -> None:
    stats = drive(tmp_path, result, "kill", "7")
    assert stats["kills"] >= 5
    # the kills did land inside saves (how many depends on the machine's timing; at least some)
    assert stats["orphans_seen"] >= max(1, stats["kills"] // 4)
    rows = rh.list_runs()  # the next start: no warning (pytest turns one into an error)
    assert not [p for p in runs_root().iterdir() if p.name.startswith(rs.TEMP_PREFIX)]
    assert len(rows) >= 1
    for row in rows:  # every visible run is complete and intact
        saved = rh.load_run(row["run_id"])
        assert len(saved.trades) == len(result.trades)
        np.testing.assert_array_equal(saved.equity["equity"].to_numpy(), result.equity.to_numpy())


def test_60_concurrent_saves_in_processes_and_threads_give_60_runs(tmp_path: Path, result: BacktestResult) -> None:
    out = drive(tmp_path, result, "race", "4", "15")
    assert out["errors"] == []
    ids = out["ids"]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert sorted(r["run_id"] for r in rh.list_runs()) == sorted(ids)
    for rid in ids[::7]:
        assert json.loads((runs_root() / rid / "results.json").read_text())["run_id"] == rid
        rh.load_run(rid)


def test_60_concurrent_saves_in_threads_all_in_one_millisecond(
    result: BacktestResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = "20250101-000000-000-abcdef"
    monkeypatch.setattr(rh, "new_run_id", lambda config_hash, now=None: base)  # every save collides
    barrier = threading.Barrier(60)
    ids: list[str] = []
    errors: list[BaseException] = []

    def save() -> None:
        barrier.wait()
        try:
            ids.append(rh.save_run(CONFIG, result))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 60 and base in ids
    assert all(re.fullmatch(base + r"-[0-9a-f]{4}", i) for i in ids if i != base)
    assert sorted(r["run_id"] for r in rh.list_runs()) == sorted(ids)
    assert not [p for p in runs_root().iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------- corrupt runs


def _rewrite_results(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads((path / "results.json").read_text())
    change(data)
    (path / "results.json").write_text(json.dumps(data))


def _flip_byte(file: Path) -> None:
    raw = bytearray(file.read_bytes())
    raw[len(raw) // 2] ^= 0x20
    file.write_bytes(bytes(raw))


def _cut_trades(path: Path) -> None:
    text = (path / "trades.csv").read_text()
    lines = text.splitlines(keepends=True)
    half = len(lines) // 2
    (path / "trades.csv").write_text("".join(lines[:half]) + lines[half][:25])  # cut mid-row


def _reseal(path: Path, name: str) -> None:
    import hashlib

    raw = (path / name).read_bytes()
    _rewrite_results(path, lambda d: d["checksums"].__setitem__(name, {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}))


def _latin1_config(path: Path) -> None:
    cfg = path / "config.json"
    cfg.write_bytes(cfg.read_bytes().replace(b'"storage"', b'"st\xf6rage"'))
    _reseal(path, "config.json")


def _symlinked(path: Path) -> None:
    elsewhere = path.parent.parent / "elsewhere"
    shutil.move(path, elsewhere)
    path.symlink_to(elsewhere, target_is_directory=True)


def _results_to_dev_zero(path: Path) -> None:
    (path / "results.json").unlink()
    (path / "results.json").symlink_to("/dev/zero")


def _results_fifo(path: Path) -> None:
    (path / "results.json").unlink()
    os.mkfifo(path / "results.json")


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "metric of the wrong type": (lambda p: _rewrite_results(p, lambda d: d["metrics"].__setitem__("sharpe", "high")), "metric 'sharpe' is a str"),
    "summary not an object": (lambda p: _rewrite_results(p, lambda d: d.__setitem__("summary", [1, 2])), "summary is a list"),
    "indicators not names": (lambda p: _rewrite_results(p, lambda d: d["summary"].__setitem__("indicators", 5)), "summary.indicators is not a list of names"),
    "created_at a number": (lambda p: _rewrite_results(p, lambda d: d.__setitem__("created_at", 5)), "created_at is a int"),
    "schema_version text": (lambda p: _rewrite_results(p, lambda d: d.__setitem__("schema_version", "2")), "no valid schema_version"),
    "checksums missing": (lambda p: _rewrite_results(p, lambda d: d.pop("checksums")), "no valid checksum for config.json"),
    "deeply nested json": (lambda p: (p / "results.json").write_text("[" * 100_000 + "]" * 100_000), "nested too deeply"),
    "results not utf-8": (lambda p: (p / "results.json").write_bytes(b'{"a": "\xff"}'), "not UTF-8"),
    "results.json -> /dev/zero": (_results_to_dev_zero, "results.json is a symbolic link"),
    "results.json a FIFO": (_results_fifo, "results.json is not a regular file"),
    "run folder a symlink": (_symlinked, "the run folder is a symbolic link"),
    "trades.csv missing": (lambda p: (p / "trades.csv").unlink(), "trades.csv is missing"),
    "equity.parquet missing": (lambda p: (p / "equity.parquet").unlink(), "equity.parquet is missing"),
    "results.json missing": (lambda p: (p / "results.json").unlink(), r"is incomplete \(no results.json\)"),
    "trades.csv cut mid-row": (_cut_trades, "trades.csv is .* bytes, .* were saved"),
    "config.json cut": (lambda p: (p / "config.json").write_text("{"), "config.json is 1 bytes"),
}
#: Damage that keeps every size: found when the run is read, not in a listing.
ON_LOAD: dict[str, tuple[Callable[[Path], None], str]] = {
    "flipped byte in equity.parquet": (lambda p: _flip_byte(p / "equity.parquet"), "equity.parquet does not match its checksum"),
    "flipped byte in trades.csv": (lambda p: _flip_byte(p / "trades.csv"), "trades.csv does not match its checksum"),
    "flipped byte in config.json": (lambda p: _flip_byte(p / "config.json"), "config.json does not match its checksum"),
    "non-UTF-8 config.json": (_latin1_config, "config.json is not UTF-8 text"),
}


def _good_and_bad(result: BacktestResult, damage: Callable[[Path], None]) -> tuple[str, str]:
    good = rh.save_run(CONFIG, result)
    bad = rh.save_run(CONFIG, result)
    damage(runs_root() / bad)
    return good, bad


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_a_bad_run_is_skipped_with_one_warning_and_is_a_one_line_error(
    case: str, result: BacktestResult, capsys: pytest.CaptureFixture[str]
) -> None:
    damage, message = CORRUPTIONS[case]
    good, bad = _good_and_bad(result, damage)
    with pytest.warns(rh.RunWarning) as caught:
        rows = rh.list_runs()
    assert [r["run_id"] for r in rows] == [good]
    assert len(caught) == 1 and re.search(message, str(caught[0].message)), str(caught[0].message)
    assert str(caught[0].message).startswith(f"run {bad!r}: ")
    with pytest.raises(RunError, match=message):
        rh.load_run(bad)
    code, out, err = phi(capsys, "runs", "list")
    assert code == 0 and good in out and bad not in out
    assert [ln for ln in err.splitlines() if ln.strip()] == [ln for ln in err.splitlines() if ln.startswith("warning: run ")]
    code, out, err = phi(capsys, "runs", "show", bad)
    assert code == 2 and len([ln for ln in err.splitlines() if ln.strip()]) == 1 and "Traceback" not in err
    code, _, err = phi(capsys, "runs", "compare", good, bad)
    assert code == 2 and error_line(err)


@pytest.mark.parametrize("case", ON_LOAD)
def test_damage_that_keeps_the_size_is_caught_on_load(
    case: str, result: BacktestResult, capsys: pytest.CaptureFixture[str]
) -> None:
    damage, message = ON_LOAD[case]
    good, bad = _good_and_bad(result, damage)
    assert {r["run_id"] for r in rh.list_runs()} == {good, bad}
    with pytest.raises(RunError, match=message):
        rh.load_run(bad)
    code, out, err = phi(capsys, "runs", "show", bad)
    assert code == 2 and message.split(" ")[0] in error_line(err)
    code, out, err = phi(capsys, "runs", "rerun", bad, "--no-save")
    assert code == 2 and "Identical" not in out and message.split(" ")[0] in error_line(err)


def test_rerun_of_a_cut_trades_csv_is_refused_not_identical(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: a trades.csv cut mid-row showed 9 of 17 trades and re-ran as "Identical"."""
    res = run(CONFIG)
    assert res.run_id is not None and len(res.trades) > 9
    _cut_trades(runs_root() / res.run_id)
    code, out, err = phi(capsys, "runs", "rerun", res.run_id, "--no-save")
    assert code == 2 and "Identical" not in out
    assert "trades.csv is" in error_line(err) and "were saved" in error_line(err)


def test_delete_of_a_symlinked_run_removes_the_link_only(result: BacktestResult) -> None:
    _, bad = _good_and_bad(result, _symlinked)
    target = (runs_root() / bad).resolve()
    rh.delete_run(bad)
    assert not os.path.lexists(runs_root() / bad) and (target / "results.json").is_file()


def test_a_v1_run_without_checksums_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "tests" / "golden" / "saved_runs_v1", tmp_path / "runs")
    monkeypatch.setenv("PHI_HOME", str(tmp_path))
    (row,) = rh.list_runs()
    saved = rh.load_run(row["run_id"])
    assert "checksums" not in saved.results and saved.results["schema_version"] == 1
    assert len(saved.trades) == saved.metrics["n_trades"] + saved.metrics["n_open_trades"] == 30
    _cut_trades(tmp_path / "runs" / row["run_id"])  # no checksum, but its trade count gives it away
    with pytest.raises(RunError, match=r"trades.csv has 15 trades, results.json counts 30 \(cut short\?\)"):
        rh.load_run(row["run_id"])


def test_a_frozen_v2_run_still_loads_with_its_checksums(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """STYLE note 10: the schema-2 assets (tests/golden/saved_runs_v2) stay readable, checksums checked."""
    shutil.copytree(ROOT / "tests" / "golden" / "saved_runs_v2", tmp_path / "runs")
    monkeypatch.setenv("PHI_HOME", str(tmp_path))
    (row,) = rh.list_runs()
    saved = rh.load_run(row["run_id"])
    assert saved.results["schema_version"] == 2 and set(saved.results["checksums"]) == set(rh.DATA_FILES)
    assert len(saved.trades) == saved.metrics["n_trades"] + saved.metrics["n_open_trades"] == 14
    assert saved.equity["equity"].iloc[-1] == pytest.approx(saved.metrics["final_equity"])
    _flip_byte(tmp_path / "runs" / row["run_id"] / "equity.parquet")
    with pytest.raises(RunError, match="equity.parquet does not match its checksum"):
        rh.load_run(row["run_id"])


def test_saved_results_record_each_files_checksum(result: BacktestResult) -> None:
    import hashlib

    rid = rh.save_run(CONFIG, result)
    path = runs_root() / rid
    data = json.loads((path / "results.json").read_text())
    assert data["schema_version"] == rh.RESULTS_SCHEMA_VERSION == 2
    assert data["run_id"] == rid
    for name in ("config.json", "trades.csv", "equity.parquet"):
        raw = (path / name).read_bytes()
        assert data["checksums"][name] == {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}


# ---------------------------------------------------------------------------- clean


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (old, old), follow_symlinks=False)


def test_runs_clean_removes_leftovers_never_a_complete_run(
    result: BacktestResult, capsys: pytest.CaptureFixture[str]
) -> None:
    good = rh.save_run(CONFIG, result)
    root = runs_root()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    host = rs._HOST
    orphan = root / f"{rs.TEMP_PREFIX}{dead_pid}-0123abcd-{host}"  # writer killed: removed at once
    orphan.mkdir()
    (orphan / "equity.parquet").write_bytes(b"\0" * 1000)
    foreign_old = root / f"{rs.TEMP_PREFIX}1-89abcdef-otherhost"  # another machine's, stale
    foreign_old.mkdir()
    _age(foreign_old, 2 * 3600)
    foreign_new = root / f"{rs.TEMP_PREFIX}1-89abcdee-otherhost"  # another machine's, maybe live
    foreign_new.mkdir()
    legacy = root / "20200101-000000-000-aaaaaa"  # incomplete run folder of an older phi
    legacy.mkdir()
    (legacy / "config.json").write_text("{}")
    (legacy / ".trades.csv.x1y2.tmp").write_text("half")
    _age(legacy, 2 * 3600)
    fresh = root / "20200101-000000-001-aaaaaa"  # incomplete, but touched recently: kept
    fresh.mkdir()
    (fresh / "config.json").write_text("{}")
    stray = root / good / ".equity.parquet.abcd.tmp"  # a temp file inside a complete run
    stray.write_text("x")
    _age(stray, 2 * 3600)
    mine = root / "20200101-000000-002-aaaaaa"  # a user's own files: not ours to delete
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    _age(mine, 2 * 3600)

    with pytest.warns(rh.RunWarning):
        rh.list_runs()  # the next start removes orphaned temporary folders, nothing else
    assert not orphan.exists() and not foreign_old.exists() and foreign_new.exists()
    assert legacy.exists() and stray.exists()

    code, out, err = phi(capsys, "runs", "clean")
    assert code == 0, err
    assert "Removed 2 leftover(s)" in out
    assert not legacy.exists() and not stray.exists()
    assert foreign_new.exists() and fresh.exists() and (mine / "notes.txt").exists()
    rh.load_run(good)
    code, out, _ = phi(capsys, "runs", "clean")
    assert code == 0 and "Nothing to clean" in out
