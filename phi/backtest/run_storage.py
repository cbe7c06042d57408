"""Run folders on disk: written whole or not at all, read back with their checksums checked.

A run is written into a temporary folder inside the runs root (``.tmp-run-{pid}-{hex}-{host}``,
hidden from listings), every file and the folder fsync'ed, then the folder is renamed to its
run id in one step: a run folder is either complete or absent, whatever happens to the process
or the disk. The writer holds an ``flock`` on its temporary folder while it writes, so leftovers
of a killed process are recognised (:func:`clean_root`) without touching a save in progress.

Nothing here imports pandas, numpy or numba (``phi runs list`` stays fast).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from phi._io import fsync_file, in_the_way
from phi.errors import RunError

__all__ = [
    "GRACE_SECONDS",
    "CleanReport",
    "clean_root",
    "file_checksum",
    "publish_run",
    "publish_runs",
    "read_run_file",
    "save_failure",
    "stat_run_file",
]

#: Leftovers younger than this (seconds) are never removed on age alone.
GRACE_SECONDS: Final = 3600.0
TEMP_PREFIX: Final = ".tmp-run-"
_TEMP_DIR = re.compile(r"^\.tmp-run-(\d+)-[0-9a-f]{8}-(.*)$")
#: Temporary files left inside run folders by per-file atomic writes of older versions.
_LEGACY_TEMP_FILE = re.compile(r"^\..+\.tmp$")
_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname() or "host")[:64]


# ---------------------------------------------------------------------------- errors


def save_failure(exc: OSError, root: Path) -> str:
    """One line saying why a run could not be saved under ``root``, e.g.
    ``could not save the run: /x/runs is read-only (PHI_HOME=/x)``.
    """
    home = os.environ.get("PHI_HOME")
    where = f" (PHI_HOME={home})" if home else ""
    blocker = in_the_way(root)
    if blocker is not None:
        reason = blocker
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        target = next((p for p in (root, *root.parents) if p.exists()), root)
        reason = f"{target} is read-only" if exc.errno == errno.EROFS else f"no permission to write in {target}"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = f"no space left on the device of {root}"
    else:
        reason = f"{root}: {exc.strerror or exc}"
    return f"could not save the run: {reason}{where}"


# ---------------------------------------------------------------------------- write


def file_checksum(data: bytes) -> dict[str, object]:
    """``{"sha256": hex, "bytes": n}`` as recorded per file in ``results.json``."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """fsync a folder (its entries); skipped where the file system cannot (EINVAL, ENOTSUP)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _make_temp_dir(root: Path) -> tuple[Path, int]:
    """A new temporary folder in ``root``, locked by this process: ``(path, locked fd)``."""
    while True:
        tmp = root / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{_HOST}"
        try:
            os.mkdir(tmp)
        except FileExistsError:
            continue
        fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        with contextlib.suppress(OSError):  # no flock here (some network file systems): the pid still tells
            fcntl.flock(fd, fcntl.LOCK_EX)
        return tmp, fd


def publish_run(
    root: Path,
    files: Mapping[str, bytes],
    last: tuple[str, Callable[[str], bytes]],
    run_ids: Iterable[str],
) -> str:
    """Write a whole run folder atomically; returns the run id it was published under.

    ``files`` are written first, then ``last[0]`` with the content ``last[1](run_id)`` (the
    results, which name the run id), all fsync'ed inside a temporary folder that is then renamed
    to the first of ``run_ids`` not taken (taken ids, also by a concurrent writer, are skipped).
    Raises :class:`RunError` with one line (:func:`save_failure`) on any OS error; nothing
    partial is left behind.
    """
    try:
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(root))
        root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            clean_root(root, deep=False)
        tmp, lock = _make_temp_dir(root)
    except OSError as exc:
        raise RunError(save_failure(exc, root)) from None
    try:
        for name, data in files.items():
            _write_synced(tmp / name, data)
        name, content = last
        for run_id in run_ids:
            target = root / run_id
            if os.path.lexists(target):
                continue
            _write_synced(tmp / name, content(run_id))
            _fsync_dir(tmp)
            try:
                os.rename(tmp, target)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                    continue  # taken meanwhile by a concurrent writer
                raise
            with contextlib.suppress(OSError):
                _fsync_dir(root)
            return run_id
        raise RunError(f"could not save the run: no free run id in {root}")
    except OSError as exc:
        raise RunError(save_failure(exc, root)) from None
    finally:
        os.close(lock)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


#: One run for :func:`publish_runs`: ``(files, last, run_ids)`` as for :func:`publish_run`.
PendingRun = tuple[Mapping[str, bytes], tuple[str, Callable[[str], bytes]], Iterable[str]]


def _write_plain(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)


def _syncfs(path: Path) -> bool:
    """``syncfs(2)`` on the file system of ``path`` (Linux): every file and folder on it
    written through in one call; ``False`` where it is not available or failed."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return int(syncfs(fd)) == 0
    finally:
        os.close(fd)


def _sync_folders(root: Path, folders: Sequence[Path]) -> None:
    """Make the files of ``folders`` (in ``root``) and the folders themselves durable: one
    :func:`_syncfs` of their file system, else an fsync of each file and folder."""
    if _syncfs(root):
        return
    for folder in folders:
        for entry in os.scandir(folder):
            fsync_file(Path(entry.path))
        _fsync_dir(folder)


def publish_runs(root: Path, runs: Sequence[PendingRun]) -> list[str | RunError]:
    """Write many run folders, each atomically, with the syncs paid once for all of them.

    Every run is written into its own locked temporary folder; then one ``syncfs`` (Linux; else
    an fsync of every file and folder) makes them all durable, the folders are renamed to their
    run ids and the runs root is fsync'ed once.
    Each run is thus, as with :func:`publish_run`, either complete or absent whatever happens
    to the process (a killed writer leaves temporary folders, removed by :func:`clean_root`).
    Returns, per run in order, its run id or the :class:`RunError` that kept it from being
    saved (one run's failure does not stop the others).
    """
    try:
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(root))
        root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            clean_root(root, deep=False)
    except OSError as exc:
        return [RunError(save_failure(exc, root)) for _ in runs]
    out: list[str | RunError | None] = [None] * len(runs)  # None: on its way
    temps: list[tuple[Path, int]] = []
    todo: list[tuple[int, Path, Iterator[str], str]] = []  # (slot, temporary folder, ids, id)

    def free_id(ids: Iterator[str]) -> str | None:
        return next((r for r in ids if not os.path.lexists(root / r)), None)

    try:
        for slot, (files, (last_name, content), run_ids) in enumerate(runs):  # 1. write, no sync
            try:
                tmp, lock = _make_temp_dir(root)
                temps.append((tmp, lock))
                for name, data in files.items():
                    _write_plain(tmp / name, data)
                ids = iter(run_ids)
                run_id = free_id(ids)
                if run_id is None:
                    out[slot] = RunError(f"could not save the run: no free run id in {root}")
                    continue
                _write_plain(tmp / last_name, content(run_id))
                todo.append((slot, tmp, ids, run_id))
            except OSError as exc:
                out[slot] = RunError(save_failure(exc, root))
        try:  # 2. one sync for all: every file and temporary folder durable before any rename
            _sync_folders(root, [tmp for _, tmp, _, _ in todo])
        except OSError as exc:
            for slot, *_ in todo:
                out[slot] = RunError(save_failure(exc, root))
            todo = []
        for slot, tmp, ids, first_id in todo:  # 3. the renames
            last_name, content = runs[slot][1]
            current: str | None = first_id
            try:
                while current is not None:
                    try:
                        os.rename(tmp, root / current)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                            raise
                    current = free_id(ids)  # taken meanwhile: the next id, its results rewritten
                    if current is not None:
                        os.unlink(tmp / last_name)
                        _write_synced(tmp / last_name, content(current))
                        _fsync_dir(tmp)
                out[slot] = current or RunError(f"could not save the run: no free run id in {root}")
            except OSError as exc:
                out[slot] = RunError(save_failure(exc, root))
        with contextlib.suppress(OSError):  # 4. the renames made durable, once
            _fsync_dir(root)
    finally:
        for tmp, lock in temps:
            os.close(lock)
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return [r if r is not None else RunError("could not save the run: interrupted") for r in out]


# ---------------------------------------------------------------------------- read


def stat_run_file(path: Path, what: str, expected: Mapping[str, object] | None = None) -> os.stat_result:
    """``lstat`` of one file of a run folder: a regular file (no link) of the saved size, or
    :class:`RunError` naming ``what``. Cheap enough for listings (no read).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise RunError(f"{what} is missing") from None
    except OSError as exc:
        raise RunError(f"cannot read {what} ({exc.strerror or exc})") from None
    if stat.S_ISLNK(st.st_mode):
        raise RunError(f"{what} is a symbolic link, not a saved file")
    if not stat.S_ISREG(st.st_mode):
        raise RunError(f"{what} is not a regular file")
    size = expected.get("bytes") if expected else None
    if isinstance(size, int) and st.st_size != size:
        raise RunError(f"{what} is {st.st_size:,} bytes, {size:,} were saved (cut short or changed since)")
    return st


def read_run_file(
    path: Path,
    what: str,
    expected: Mapping[str, object] | None = None,
    max_bytes: int | None = None,
) -> bytes:
    """The bytes of one file of a run folder, checked; :class:`RunError` naming ``what`` if not.

    Refuses symbolic links and anything but a regular file (a FIFO would block, a device
    never end); ``expected`` (``{"sha256", "bytes"}`` from ``results.json``) is verified.
    """
    st = stat_run_file(path, what, expected)
    if max_bytes is not None and st.st_size > max_bytes:
        raise RunError(f"{what} is {st.st_size:,} bytes, more than the {max_bytes:,} it can be")
    try:
        with open(path, "rb") as fh:
            data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    except OSError as exc:
        raise RunError(f"cannot read {what} ({exc.strerror or exc})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise RunError(f"{what} is more than the {max_bytes:,} bytes it can be")
    digest = expected.get("sha256") if expected else None
    if isinstance(digest, str) and hashlib.sha256(data).hexdigest() != digest:
        raise RunError(f"{what} does not match its checksum (damaged or changed since it was saved)")
    return data


# ---------------------------------------------------------------------------- clean


@dataclass
class CleanReport:
    """What :func:`clean_root` removed (paths and their total size in bytes)."""

    removed: list[Path] = field(default_factory=list)
    bytes: int = 0


def _size_and_age(path: Path, now: float) -> tuple[int, float]:
    """Total size of a file or folder tree and the age of its newest entry (seconds)."""
    st = os.lstat(path)
    size, newest = st.st_size, st.st_mtime
    if stat.S_ISDIR(st.st_mode):
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                with contextlib.suppress(OSError):
                    s = os.lstat(os.path.join(dirpath, name))
                    size += s.st_size
                    newest = max(newest, s.st_mtime)
    return size, now - newest


def _locked(path: Path) -> bool:
    """Whether a live writer holds the lock on temporary folder ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return True  # vanished (published) or unreadable: leave it alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False  # no locks on this file system: the writer's pid and the age decide
    finally:
        os.close(fd)  # closing releases the lock we may have taken
    return False


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _orphan_temp_dir(path: Path, age: float, grace: float) -> bool:
    match = _TEMP_DIR.match(path.name)
    if match is None or _locked(path):
        return False
    pid, host = int(match.group(1)), match.group(2)
    if host == _HOST and not _pid_alive(pid):
        return True  # its writer is gone (killed): no need to wait
    return age >= grace  # another machine's, or a recycled pid: only after the grace period


def _remove(path: Path, report: CleanReport, size: int) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return
    report.removed.append(path)
    report.bytes += size


def clean_root(
    root: Path, *, grace: float = GRACE_SECONDS, deep: bool = True, known: Iterable[str] = ()
) -> CleanReport:
    """Remove what interrupted saves left in the runs root; never a complete run.

    Always: temporary run folders whose writer is dead (same machine, no lock), or unlocked
    and older than ``grace`` seconds. With ``deep``: also, when older than ``grace``, temporary
    files inside run folders and incomplete run folders of older versions (no ``results.json``
    and nothing but the run files ``known`` and temporary files in them).
    """
    report = CleanReport()
    if not root.is_dir():
        return report
    now = time.time()
    known_names = set(known)
    for entry in sorted(root.iterdir()):
        try:
            if not (deep or entry.name.startswith(TEMP_PREFIX)) or entry.is_symlink() or not entry.is_dir():
                continue
            if entry.name.startswith(TEMP_PREFIX):
                size, age = _size_and_age(entry, now)
                if _orphan_temp_dir(entry, age, grace):
                    _remove(entry, report, size)
                continue
            if entry.name.startswith("."):
                continue
            children = list(entry.iterdir())
            temps = [c for c in children if _LEGACY_TEMP_FILE.match(c.name) and c.is_file() and not c.is_symlink()]
            others = [c for c in children if c not in temps]
            size, age = _size_and_age(entry, now)
            ours = all(c.name in known_names and c.is_file() and not c.is_symlink() for c in others)
            if age >= grace and ours and not (entry / "results.json").exists():
                _remove(entry, report, size)  # an incomplete run folder of an older version
                continue
            for c in temps:
                st = c.lstat()
                if now - st.st_mtime >= grace:
                    _remove(c, report, st.st_size)
        except OSError:
            continue
    return report
