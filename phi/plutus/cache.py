"""Plutus's reply cache: the model's raw reply stored under ``PHI_HOME/plutus/replies/`` by the
hash of the whole request (protocol, server-independent body: model, messages, sampling,
schema), so a backtest re-runs bit for bit without the server.

:func:`count_replies` tallies, for a block of code, how many replies came from the cache, how
many from the server, how many did not come at all, and how many could not be stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phi.paths import phi_home

__all__ = ["ReplyCache", "ReplyTally", "count_replies", "request_key"]


def request_key(protocol: str, body: dict[str, Any]) -> str:
    """SHA-256 of the request, canonical JSON (sorted keys)."""
    text = json.dumps({"protocol": protocol, "body": body}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class ReplyTally:
    """Where the replies of a block came from."""

    cached: int = 0
    fresh: int = 0
    failed: int = 0
    unsaved: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.cached + self.fresh + self.failed

    def summary(self) -> str:
        """``"40 LLM replies: 40 from the cache, 0 from the server"`` (+ failures with the first
        one's reason, unsaved)."""
        text = f"{self.total} LLM {'reply' if self.total == 1 else 'replies'}: {self.cached} from the cache, {self.fresh} from the server"
        if self.failed:
            text += f", {self.failed} without a reply (HOLD"
            text += f"; the first: {self.errors[0]})" if self.errors else ")"
        if self.unsaved:
            text += f"; {self.unsaved} could not be stored in the cache"
        return text


_TALLIES: ContextVar[tuple[ReplyTally, ...]] = ContextVar("plutus_tallies", default=())


@contextlib.contextmanager
def count_replies() -> Iterator[ReplyTally]:
    """Count the replies of every Plutus call made inside the ``with`` block."""
    tally = ReplyTally()
    token = _TALLIES.set((*_TALLIES.get(), tally))
    try:
        yield tally
    finally:
        _TALLIES.reset(token)


def _note(kind: str, error: str | None = None) -> None:
    for tally in _TALLIES.get():
        setattr(tally, kind, getattr(tally, kind) + 1)
        if error and len(tally.errors) < 20:
            tally.errors.append(error)


class ReplyCache:
    """Raw replies by request key (one small JSON file each, written atomically).

    Parameters
    ----------
    root
        Folder (default ``PHI_HOME/plutus/replies``).
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else phi_home() / "plutus" / "replies"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        """The stored reply, or None (also for an unreadable or damaged file)."""
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        raw = data.get("raw") if isinstance(data, dict) else None
        return raw if isinstance(raw, str) else None

    def put(self, key: str, raw: str, **meta: Any) -> bool:
        """Store ``raw``; False (nothing half-written) when the folder is not writable."""
        from phi._io import atomic_write_json
        from phi.errors import PhiError

        try:
            atomic_write_json(self.path(key), {"raw": raw, **meta})
        except (PhiError, OSError):
            return False
        return True

    def size(self) -> tuple[int, int]:
        """(files, bytes) in the cache."""
        files = [p for p in self.root.glob("*/*.json") if p.is_file()] if self.root.is_dir() else []
        return len(files), sum(p.stat().st_size for p in files)
