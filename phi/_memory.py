"""Large float64 buffers for data kept while a study runs, reused by the next study.

A new array of a few MiB costs a page fault (and the kernel's zeroing) per 4 KiB page when it
is first written, and glibc hands memory freed at the end of a study back to the system, so the
next study pays again: about 4 ms of a 25 ms tuning study on the machine of
``benchmarks/RESULTS.md``. :func:`pooled_rows` hands out rows of blocks that return to a small
process-wide pool (at most :data:`POOL_BYTES`) once nothing refers to them any more, and
:class:`RowArena` hands out batches of rows from such blocks. Blocks start on a 2 MiB boundary:
NumPy asks Linux for transparent huge pages on allocations this large, and only an aligned range
can get them.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["ARENA_BYTES", "HUGE_PAGE", "POOL_BYTES", "RowArena", "pooled_rows"]

#: The size (and alignment) of a transparent huge page on x86-64 and most arm64 Linux systems.
HUGE_PAGE = 1 << 21
#: Bytes a new block of a :class:`RowArena` holds at least.
ARENA_BYTES = 1 << 22
#: Bytes of free blocks the pool keeps for later studies (0: none, every block is new memory).
POOL_BYTES = 1 << 27

_lock = threading.Lock()
_free: dict[int, list[np.ndarray]] = {}  # block bytes -> free raw allocations
_kept = [0]


class _Block:
    """Owner of one block's memory: arrays made from it refer to it, and when the last one is
    gone its raw allocation goes back to the pool."""

    def __init__(self, raw: np.ndarray, start: int, size: int) -> None:
        self._raw = raw
        self._size = size
        self.__array_interface__: dict[str, Any] = {
            "data": (raw.ctypes.data + start, False),
            "shape": (size // 8,),
            "typestr": "<f8",
            "version": 3,
        }

    def __del__(
        self,
        _lock: threading.Lock = _lock,
        _free: dict[int, list[np.ndarray]] = _free,
        _kept: list[int] = _kept,
    ) -> None:
        # the pool's objects bound as defaults: still there while the interpreter shuts down
        try:
            limit = int(POOL_BYTES)
        except (NameError, TypeError):  # the module is already torn down
            return
        with _lock:
            if _kept[0] + self._raw.nbytes <= limit:
                _free.setdefault(self._size, []).append(self._raw)
                _kept[0] += self._raw.nbytes


def _block(size: int) -> np.ndarray:
    """A float64 array of ``size`` bytes (a multiple of :data:`HUGE_PAGE`) on a huge-page
    boundary: a free block of that size from the pool, else a new one."""
    with _lock:
        spare = _free.get(size)
        raw = spare.pop() if spare else None
        if raw is not None:
            _kept[0] -= raw.nbytes
    if raw is None:
        raw = np.empty(size + HUGE_PAGE, dtype=np.uint8)
    start = -raw.ctypes.data % HUGE_PAGE
    return np.asarray(_Block(raw, start, size))


def pooled_rows(rows: int, n: int) -> np.ndarray:
    """An uninitialised C-contiguous float64 ``(r, n)`` array, ``r >= rows``, on whole huge
    pages, from the pool when a block of its size is free."""
    rows, n = max(int(rows), 1), int(n)
    if n <= 0:
        return np.empty((rows, 0))
    row_bytes = 8 * n
    size = -(-rows * row_bytes // HUGE_PAGE) * HUGE_PAGE
    fit = size // row_bytes
    return _block(size)[: fit * n].reshape(fit, n)


class RowArena:
    """Rows of ``n`` float64 values handed out in order from blocks of :func:`pooled_rows`
    (each at least :data:`ARENA_BYTES`). Rows handed out are never handed out again, whichever
    threads ask."""

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self._block: np.ndarray | None = None
        self._used = 0
        self._lock = threading.Lock()

    def take(self, k: int) -> np.ndarray:
        """A C-contiguous ``(k, n)`` array of rows not handed out before (uninitialised)."""
        with self._lock:
            if self._block is None or self._used + k > len(self._block):
                rows = max(k, -(-ARENA_BYTES // (8 * max(self.n, 1))))
                self._block = pooled_rows(rows, self.n)
                self._used = 0
            out = self._block[self._used : self._used + k]
            self._used += k
        return out
