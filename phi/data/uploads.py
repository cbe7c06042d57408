"""Files a user uploads (a CSV of bars in the workbench), kept under ``$PHI_HOME/uploads``.

Each file is stored under a name made of its content hash and its sanitised original name,
so a saved run can point at exactly the bytes it used. The file is written atomically; an
existing file of that name is reused only when its bytes are the upload's bytes: a partial
copy left by an interrupted write, or any other content, is replaced.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from phi._io import atomic_write
from phi.errors import DataError, shown
from phi.paths import phi_home

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_NAME = 60


def uploads_root() -> Path:
    """Folder of uploaded files: ``$PHI_HOME/uploads``."""
    return phi_home() / "uploads"


def upload_name(data: bytes, name: str | None) -> str:
    """``<sha256[:12]>_<safe name>``: the stored name of ``data`` uploaded as ``name``."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DataError(f"an upload's data must be bytes, got {shown(data)}")
    if name is not None and not isinstance(name, str):
        raise DataError(f"an upload's name must be a string or None, got {shown(name)}")
    stem = _UNSAFE.sub("_", os.path.basename(name or "") or "upload.csv")[:MAX_NAME].lstrip(".")
    return f"{hashlib.sha256(data).hexdigest()[:12]}_{stem or 'upload.csv'}"


def _same_content(path: Path, data: bytes) -> bool:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size != len(data):
            return False
        return hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    except OSError:
        return False


def store_upload(data: bytes, name: str | None) -> Path:
    """Store uploaded bytes under ``$PHI_HOME/uploads`` and return the file's path.

    A file of the same stored name is kept only if its size and SHA-256 match ``data``;
    otherwise (a partial copy, a symlink, other bytes) it is replaced atomically.

    Raises
    ------
    DataError
        When the file cannot be written (read-only or full ``PHI_HOME``).
    """
    path = uploads_root() / upload_name(data, name)
    if _same_content(path, data):
        return path
    if path.is_symlink() or path.is_dir():
        raise DataError(f"cannot store the upload: {str(path)!r} exists and is not a regular file")

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write(path, write)  # CacheError (a DataError) with the reason when it fails
    return path
