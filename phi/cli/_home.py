"""PHI_HOME checked once, before any work: a value that is no folder, or a folder a command
cannot write in, is one error line (not a run whose result is then lost to a failed save)."""

from __future__ import annotations

import errno
import os

#: Commands that read or write the data cache or the run history under PHI_HOME.
STORAGE_COMMANDS = frozenset(
    {"fetch", "data", "cache", "regime", "backtest", "demo", "runs", "batch", "tune", "workbench", "plutus", "scan", "strategies", "ml", "rl", "portfolio"}
)

#: (command, subcommand) -> the PHI_HOME folder it exists to write; a saving command with
#: ``--no-save`` writes none (a dataset cache write on the way is only a warning).
_WRITES = {
    ("fetch", ""): "data_cache",
    ("cache", "clear"): "data_cache",
    ("cache", "clean"): "data_cache",
    ("backtest", ""): "runs",
    ("demo", ""): "runs",
    ("strategies", "run"): "runs",
    ("strategies", "compare"): "runs",
    ("portfolio", "run"): "runs",
    ("batch", "run"): "runs",
    ("batch", "sweep"): "runs",
    ("runs", "rerun"): "runs",
    ("runs", "delete"): "runs",
    ("runs", "clean"): "runs",
    ("plutus", "backtest"): "runs",
    ("ml", "train"): "models",
    ("rl", "train"): "models",
}
_SINGLE = frozenset({"fetch", "backtest", "demo", "tune"})  # commands without subcommands


def _written(argv: list[str]) -> str | None:
    """The PHI_HOME folder this command line exists to write, or ``None``."""
    cmd = argv[0]
    sub = "" if cmd in _SINGLE else (argv[1] if len(argv) > 1 else "")
    if cmd == "tune":  # writes only when asked: a saved run, or a study in the sqlite storage
        if "--save" in argv:
            return "runs"
        storage = argv[argv.index("--storage") + 1] if "--storage" in argv[:-1] else None
        return "phiai" if storage == "sqlite" or (storage is None and "--study" in argv) else None
    if "--no-save" in argv or (cmd == "backtest" and "--write-config" in argv):
        return None
    return _WRITES.get((cmd, sub))


def _unwritable(folder: str) -> str | None:
    """Why this process cannot write in ``folder`` (its nearest existing part is a file, or a
    folder without write permission), or ``None``."""
    path = os.path.abspath(folder)
    while not os.path.lexists(path) and path != os.path.dirname(path):
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        return f"{path!r} is a file, not a folder"
    return None if os.access(path, os.W_OK | os.X_OK) else f"{path!r} is read-only"


def home_problem(argv: list[str]) -> str | None:
    """What is wrong with PHI_HOME for this command line, said once before any work."""
    raw = os.environ.get("PHI_HOME")
    if not argv or argv[0] not in STORAGE_COMMANDS or "--help" in argv:
        return None
    if raw is not None and raw != "" and not raw.strip():  # "   ": a folder named by spaces here
        return f"PHI_HOME={raw!r} is blank; point PHI_HOME at a folder (it holds data_cache/ and runs/) or unset it"
    home = os.path.expanduser(raw) if raw else None
    if home is not None:
        try:
            os.lstat(home)
        except OSError as exc:  # lexists() below says False for a name the system refuses
            if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
                from phi.errors import shown

                return f"PHI_HOME={shown(raw)} cannot be used: {os.strerror(exc.errno).lower()}; point PHI_HOME at a folder or unset it"
        if os.path.lexists(home) and not os.path.isdir(home):
            return f"PHI_HOME={raw!r} is not a folder; point PHI_HOME at a folder (it holds data_cache/ and runs/) or unset it"
        parent = os.path.dirname(os.path.abspath(home))  # a folder still to be made: inside a file?
        while not os.path.lexists(parent) and parent != os.path.dirname(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            return f"PHI_HOME={raw!r} cannot be made: {parent!r} is not a folder; point PHI_HOME at a folder or unset it"
    written = _written(argv)
    if written is None:
        return None
    blocked = _unwritable(os.path.join(home or os.getcwd(), written))
    if blocked is None:
        return None
    where = f"PHI_HOME={raw!r}" if home is not None else "the working directory (PHI_HOME is not set)"
    hint = " or add --no-save" if written == "runs" and argv[0] not in ("runs", "batch") else ""
    return f"cannot write {written}/ under {where}: {blocked}; point PHI_HOME at a folder you can write{hint}"
