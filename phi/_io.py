"""Atomic file writes (temporary file in the same directory, then rename) and safe reads and
writes of files a user names on the command line."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from phi.errors import CacheError, ConfigError


def file_in_the_way(path: Path) -> Path | None:
    """The first existing entry among ``path`` and its parents that is not a folder (a file
    where a folder must be), or ``None`` when the nearest existing one is a folder."""
    for p in (path, *path.parents):
        try:
            st = p.stat()
        except OSError:
            continue
        return None if stat.S_ISDIR(st.st_mode) else p
    return None


def in_the_way(path: Path) -> str | None:
    """What stops ``path`` from being (or becoming) a folder, in a few words, or ``None``:
    a file where a folder must be, a symbolic link that leads nowhere, or a symbolic link loop
    (among ``path`` and its parents, nearest first)."""
    chain = (path, *path.parents)
    for i, p in enumerate(chain):
        try:
            st = p.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # name the loop itself, the highest entry that loops
                top = next(q for q in reversed(chain[i:]) if _loops(q))
                return f"{top} is a symbolic link loop"
            if os.path.islink(p):
                return f"{p} is a symbolic link to {os.readlink(p)}, which does not exist"
            continue
        return None if stat.S_ISDIR(st.st_mode) else f"{p} is a file, not a folder"
    return None


def _loops(path: Path) -> bool:
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def os_reason(exc: OSError, folder: Path, *targets: Path) -> str:
    """Why writing in ``folder`` failed, in a few words: a file or a broken symbolic link in
    the way of the folder (``/x/data_cache is a file, not a folder``), else the OS's reason,
    naming the file it concerns when that is not one of ``targets`` (e.g. an old file that
    could not be removed)."""
    blocker = in_the_way(folder)
    if blocker is not None:
        return blocker
    reason = exc.strerror or str(exc) or type(exc).__name__
    name = os.fsdecode(exc.filename) if isinstance(exc.filename, str | bytes) else None
    if name is not None and Path(name) not in {folder, *targets} and not is_temp_name(Path(name).name):
        reason += f": {name}"  # another file than the one written (an old one that would not go)
    return reason


def fsync_file(path: Path) -> None:
    """Write a file's data through to its device (``fsync``)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a folder's entries (a rename into it) durable; skipped where the file system cannot."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_all(
    items: Sequence[tuple[Path, Callable[[Path], None]]],
    *,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """Write several files so that a failure while writing changes none of them.

    Each ``write(tmp_path)`` fills a temporary file beside its target; only when every one is
    complete and synced to disk is ``before_commit()`` called and the temporary files renamed
    onto their targets, in order. A full disk, a read-only folder or an exception in a writer
    therefore leaves every target exactly as it was (and no temporary file). Raises
    :class:`~phi.errors.CacheError` with one line naming the file and the reason on an OS error.
    """
    temps: list[tuple[Path, Path]] = []
    current = Path(items[0][0]) if items else Path()
    try:
        try:
            for path, write in items:
                current = path = Path(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                os.close(fd)
                tmp = Path(tmp_name)
                temps.append((tmp, path))
                write(tmp)
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
                fsync_file(tmp)
            if before_commit is not None:
                before_commit()
            for tmp, path in temps:
                current = path
                os.replace(tmp, path)
            for folder in dict.fromkeys(path.parent for _, path in temps):
                _fsync_dir(folder)
        except OSError as exc:
            raise CacheError(f"cannot write {current}: {os_reason(exc, current.parent, current)}") from None
    finally:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then atomically rename the temp file onto ``path``.

    A crash, a full disk or a concurrent writer never leaves a torn file at ``path``: readers
    see either the old complete file or the new complete file (synced to disk before the
    rename). :class:`~phi.errors.CacheError` with one line on an OS error.
    """
    path = Path(path)
    atomic_write_all([(path, write)])
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return atomic_write(path, write)


def atomic_write_json(path: Path, obj: Any) -> Path:
    """Atomically write ``obj`` as indented, key-sorted JSON."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


# ---------------------------------------------------------------------------- user files
#: Largest config file we read (a run config is a few KB; this stops /dev/zero-like inputs).
MAX_CONFIG_BYTES = 10 * 1024 * 1024
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads(text, object_pairs_hook=unique_keys)``: a key given twice in one object is a
    :class:`ConfigError` (``json`` keeps the last one silently, so a config read
    ``{"seed": 1, "seed": 2}`` would run with 2 and show nothing)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(f"key {key!r} is given twice in one JSON object; keep one of them")
        out[key] = value
    return out


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_user_text(path: str | os.PathLike[str], what: str, max_bytes: int = MAX_CONFIG_BYTES) -> str:
    """Read a user's UTF-8 text file (a config), refusing anything that is not a small regular file.

    Devices, FIFOs and folders are refused before any byte is read (``/dev/zero`` never ends),
    at most ``max_bytes + 1`` bytes are read, and bytes that are not UTF-8 are a one-line
    :class:`~phi.errors.ConfigError` naming ``what`` (e.g. ``"run config"``) and the file.
    """
    name = os.fspath(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read {what} {name!r}: {reason}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{what} {name!r} is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise ConfigError(f"{what} {name!r} is {st.st_size:,} bytes; the limit is {max_bytes:,}")
        chunks, left = [], max_bytes + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {name!r}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise ConfigError(f"{what} {name!r} is larger than the limit of {max_bytes:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ConfigError(
            f"{what} {name!r} is not UTF-8 text{hint}: byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}; save it as UTF-8"
        ) from None
    if "\0" in text:  # valid UTF-8 but binary: its bytes would be read as symbols or keys
        raise ConfigError(
            f"{what} {name!r} is not a text file (a NUL byte at offset {data.index(0)}: a binary or damaged file)"
        )
    return text


def write_user_text(path: str | os.PathLike[str], text: str, what: str) -> Path:
    """Write ``text`` (UTF-8) to a file the user named, never replacing what is not a file.

    The target must be a regular file or not exist yet, in a folder that exists (no folder is
    created). A symlink is written through: its final target is replaced if it is a regular
    file; a dangling link, a device, a FIFO, a socket or a folder is refused with a one-line
    :class:`~phi.errors.ConfigError` naming ``what`` (e.g. ``"--write-config"``). The content
    is written to a temporary file beside the target and renamed onto it, so a reader never
    sees half a file; an existing file keeps its permissions (and, where allowed, its owner).

    Returns
    -------
    Path
        The file actually written (the resolved target of a symlink).
    """
    name = os.fspath(path)
    if not name or "\x00" in name:
        raise ConfigError(f"{what}: {name!r} is not a valid file name")
    target = Path(name)
    try:
        if target.is_symlink():
            resolved = Path(os.path.realpath(target))
            if not resolved.exists():
                raise ConfigError(f"{what}: {name!r} is a symlink to {str(resolved)!r}, which does not exist")
            target = resolved
        old: os.stat_result | None = None
        if target.exists():
            old = target.stat()
            if not stat.S_ISREG(old.st_mode):
                raise ConfigError(f"{what}: {name!r} is {_kind(old.st_mode)}; give the path of a regular file")
        parent = target.parent
        if not parent.is_dir():
            raise ConfigError(f"{what}: the folder {str(parent)!r} does not exist; create it first")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise ConfigError(f"{what}: cannot write {name!r}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask())
        if old is not None and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):  # keep the owner where we may (as root)
                os.chown(tmp, old.st_uid, old.st_gid)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{what}: cannot write {name!r}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


# ---------------------------------------------------------------------------- orphan temps
#: A temporary file this old (seconds) belongs to no live writer: it was left by a killed process.
ORPHAN_TEMP_AGE_S = 3600.0


def is_temp_name(name: str) -> bool:
    """True for the names :func:`atomic_write` gives its temporary files (``.<name>.<random>.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp") and len(name) > 5


def remove_orphan_temps(
    folder: Path,
    *,
    min_age_s: float = ORPHAN_TEMP_AGE_S,
    recursive: bool = True,
    skip: Callable[[str], bool] | None = None,
) -> tuple[int, int]:
    """Remove temporary files and folders (``.<name>.<random>.tmp``) older than ``min_age_s``.

    Such entries are what a writer killed between "write the temporary" and "rename it into
    place" leaves behind. The grace period spares a concurrent writer's fresh temporary; a
    folder counts as old only when nothing inside it is newer. Names for which
    ``skip(name)`` is true are left alone (the caller decides those, e.g. by a lock).
    Symlinks are never followed. Anything that cannot be removed is left alone: cleaning
    never raises.

    Returns
    -------
    tuple[int, int]
        The number of entries removed and the bytes they held.
    """
    import shutil
    import time

    cutoff = time.time() - min_age_s
    removed = freed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0, 0
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            if not is_temp_name(entry.name):
                if recursive and is_dir:
                    n, b = remove_orphan_temps(Path(entry.path), min_age_s=min_age_s, skip=skip)
                    removed, freed = removed + n, freed + b
                continue
            if skip is not None and skip(entry.name):
                continue
            newest, size = _newest_mtime_and_size(Path(entry.path)) if is_dir else (
                entry.stat(follow_symlinks=False).st_mtime,
                entry.stat(follow_symlinks=False).st_size,
            )
            if newest > cutoff:
                continue
            if is_dir:
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed, freed = removed + 1, freed + size
    return removed, freed


def _newest_mtime_and_size(folder: Path) -> tuple[float, int]:
    newest, size = folder.lstat().st_mtime, 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            newest, size = max(newest, st.st_mtime), size + st.st_size
        newest = max(newest, os.lstat(dirpath).st_mtime)
    return newest, size
