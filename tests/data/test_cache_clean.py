"""Leftovers of killed writers: kill -9 during saves never leaves a partial dataset visible,
and the temporary files are removed on the next start and by ``phi cache clean``."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from phi._io import ORPHAN_TEMP_AGE_S, remove_orphan_temps
from phi.cli import main
from phi.data import cache
from phi.data.schema import ohlcv_hash
from phi.paths import cache_root
from tests.conftest import make_ohlcv

REPO = Path(__file__).resolve().parents[2]
ARGS = ("demo", "AAPL", "1H", "2020-01-01", "2021-12-31")
STEM = "2020-01-01_2021-12-31"


def _leftovers(root: Path) -> list[Path]:
    temps = [p for p in root.rglob(".*.tmp")]
    bare = [p for p in root.rglob("*.parquet") if not p.with_name(p.stem + "_metadata.json").exists()]
    return temps + bare


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


# The driver imports once, then forks one saving child per line read from stdin and prints
# its pid; the test kills it with SIGKILL at a random moment. Forking avoids paying the
# interpreter start-up per kill (the parent never touches pyarrow, so the fork is safe).
DRIVER = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[1])
    from tests.conftest import make_ohlcv
    from phi.data import cache
    frames = [make_ohlcv(100_000, seed=s, freq="h") for s in range(3)]
    ranges = [("2020-01-01", "2021-12-31"), ("2019-01-01", "2022-12-31")]
    print("ready", flush=True)
    for _ in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                i = 0
                while True:
                    cache.save_dataset(frames[i % 3], "demo", "AAPL", "1H", *ranges[i % 2])
                    i += 1
            finally:
                os._exit(1)
        print(pid, flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill_9_during_saves_leaves_no_partial_dataset(_isolated_phi_home):
    env = dict(os.environ, PHI_HOME=str(_isolated_phi_home), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(REPO)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    assert driver.stdin is not None and driver.stdout is not None
    rng = random.Random(7)
    root = cache_root()
    seen: set[str] = set()
    kills = 0
    try:
        assert driver.stdout.readline().strip() == "ready"
        while kills < 20 and (kills < 10 or len(seen) < 3):
            driver.stdin.write("go\n")
            driver.stdin.flush()
            pid = int(driver.stdout.readline())
            time.sleep(rng.uniform(0.15, 0.6))
            os.kill(pid, signal.SIGKILL)
            assert driver.stdout.readline().strip() == "reaped"
            kills += 1
            seen |= {p.name for p in _leftovers(root)}
    finally:
        driver.stdin.close()
        driver.wait(timeout=60)
    assert seen, "no kill landed inside a save"
    valid = {ohlcv_hash(make_ohlcv(100_000, seed=s, freq="h")) for s in range(3)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a torn or mismatched pair would warn
        for meta_path in root.rglob("*_metadata.json"):
            start, end = meta_path.name[: -len("_metadata.json")].split("_")
            frame = cache.load_dataset("demo", "AAPL", "1H", start, end)
            assert frame is not None and ohlcv_hash(frame) in valid
        # the next start (any listing or save) removes what the killed writers left
        listed = cache.list_cached_datasets()
    assert _leftovers(root) == []
    assert all(m["content_hash"] in valid for m in listed)


def test_next_save_to_a_folder_removes_its_leftovers():
    cache.save_dataset(make_ohlcv(20), *ARGS)
    folder = cache.dataset_dir("demo", "AAPL", "1H")
    orphans = [folder / f".{STEM}.parquet.abc123.tmp", folder / ".2019-01-01_2019-12-31_metadata.json.x1.tmp"]
    for p in orphans:
        p.write_bytes(b"x" * 1000)
    (folder / "2018-01-01_2018-12-31.parquet").write_bytes(b"half")  # parquet without metadata
    cache.save_dataset(make_ohlcv(20), *ARGS)
    assert _leftovers(cache_root()) == []
    assert cache.load_dataset(*ARGS) is not None


def test_a_live_writer_is_never_disturbed():
    cache.save_dataset(make_ohlcv(20), *ARGS)
    folder = cache.dataset_dir("demo", "AAPL", "1H")
    busy = folder / f".{STEM}.parquet.live01.tmp"
    busy.write_bytes(b"in progress")
    _age(busy, 10 * ORPHAN_TEMP_AGE_S)  # even an old-looking temp is kept while its key is locked
    lock = os.open(folder / f".{STEM}.lock", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert cache.clean_cache() == (0, 0)
        assert busy.exists()
    finally:
        os.close(lock)
    assert cache.clean_cache() == (1, len(b"in progress"))
    assert not busy.exists()


def test_stray_temps_go_only_after_the_grace_period():
    root = cache_root()
    root.mkdir(parents=True)
    fresh, old = root / ".stray.json.aaa.tmp", root / ".stray.json.bbb.tmp"
    for p in (fresh, old):
        p.write_text("{}")
    _age(old, ORPHAN_TEMP_AGE_S + 60)
    keep = root / "notes.tmp"  # not an atomic-write temp name: never touched
    keep.write_text("mine")
    assert cache.clean_cache() == (1, 2)
    assert fresh.exists() and not old.exists() and keep.exists()


def test_remove_orphan_temps_handles_folders_and_symlinks(tmp_path):
    (tmp_path / "sub").mkdir()
    tmp_dir = tmp_path / "sub" / ".run_x.abc.tmp"
    tmp_dir.mkdir()
    (tmp_dir / "results.json").write_text("{}")
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    link = tmp_path / ".link.abc.tmp"
    link.symlink_to(target)
    for p in (tmp_dir / "results.json", tmp_dir, link):
        os.utime(p, (time.time() - 7200,) * 2, follow_symlinks=False)
    assert remove_orphan_temps(tmp_path, min_age_s=3600)[0] == 2
    assert not tmp_dir.exists() and not link.is_symlink() and target.read_text() == "keep"
    assert remove_orphan_temps(tmp_path / "missing") == (0, 0)


def test_cli_cache_clean(capsys):
    cache.save_dataset(make_ohlcv(20), *ARGS)
    folder = cache.dataset_dir("demo", "AAPL", "1H")
    (folder / f".{STEM}.parquet.k1.tmp").write_bytes(b"x" * 2_000_000)
    (folder / f".{STEM}_metadata.json.k2.tmp").write_bytes(b"{")
    assert main(["cache", "clean"]) == 0
    assert "Removed 2 leftover file(s) (2.0 MB)" in capsys.readouterr().out
    assert _leftovers(cache_root()) == [] and cache.load_dataset(*ARGS) is not None
    assert main(["cache", "clean"]) == 0
    assert "Removed 0 leftover file(s)" in capsys.readouterr().out


def test_next_use_of_a_dataset_removes_its_leftovers():
    from phi.data import store

    store.get_dataset("DEMO", "2022-01-01", "2022-12-31")
    folder = cache.dataset_dir("demo", "DEMO", "1D")
    orphan = folder / ".2022-01-01_2022-12-31.parquet.dead01.tmp"
    orphan.write_bytes(b"x" * 500)
    assert store.get_dataset("DEMO", "2022-03-01", "2022-03-31").from_cache
    assert not orphan.exists()


def test_cache_path_that_is_a_file_is_a_clear_error(capsys):
    root = cache_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("not a folder")
    assert cache.list_cached_datasets() == [] and cache.clean_cache() == (0, 0)
    assert main(["cache", "clear", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "data_cache' is a file, not a folder" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert root.read_text() == "not a folder"
