"""phi._memory: pooled huge-page blocks (returned only when nothing refers to them) and the
row arena the tuner keeps a study's signals and returns in."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from phi import _memory as mem
from phi.backtest.engine import EngineConfig
from phi.backtest.segments import SegmentSweep
from phi.errors import EngineError, IndicatorError
from phi.indicators.batch import batch_signals
from tests.indicators import frames


@pytest.fixture(autouse=True)
def empty_pool() -> Iterator[None]:
    gc.collect()
    with mem._lock:
        mem._free.clear()
        mem._kept[0] = 0
    yield
    gc.collect()
    with mem._lock:
        mem._free.clear()
        mem._kept[0] = 0


def test_rows_are_aligned_contiguous_and_at_least_asked() -> None:
    for rows, n in [(1, 1), (200, 2609), (3, 300_000), (17, 1828)]:
        a = mem.pooled_rows(rows, n)
        assert a.shape[1] == n and a.shape[0] >= rows and a.flags.c_contiguous
        assert a.dtype == np.float64 and a.ctypes.data % mem.HUGE_PAGE == 0
        assert a.base.nbytes % mem.HUGE_PAGE == 0  # its block spans whole huge pages
    assert mem.pooled_rows(4, 0).shape == (4, 0)


def test_a_block_returns_to_the_pool_only_when_its_last_view_is_gone() -> None:
    a = mem.pooled_rows(10, 1000)
    address = a.ctypes.data
    view = a[2:4]
    del a
    gc.collect()
    assert not any(mem._free.values())  # a view still refers to the block
    view[:] = 7.0
    del view
    assert sum(map(len, mem._free.values())) == 1
    b = mem.pooled_rows(10, 1000)  # the same size: the same memory again
    assert b.ctypes.data == address and not any(mem._free.values())


def test_the_pool_keeps_at_most_pool_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mem, "POOL_BYTES", 0)
    a = mem.pooled_rows(10, 1000)
    del a
    assert not any(mem._free.values()) and mem._kept[0] == 0
    monkeypatch.setattr(mem, "POOL_BYTES", 3 * mem.HUGE_PAGE)  # one block (2 MiB + alignment)
    blocks = [mem.pooled_rows(10, 1000) for _ in range(3)]
    del blocks
    assert sum(map(len, mem._free.values())) == 1 and mem._kept[0] <= 3 * mem.HUGE_PAGE


def test_arena_rows_never_overlap_across_blocks_and_threads() -> None:
    arena = mem.RowArena(5000)  # 4 MiB blocks of 104 rows
    taken: list[np.ndarray] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        for _ in range(40):
            rows = arena.take(k)
            assert rows.shape == (k, 5000) and rows.flags.c_contiguous
            with lock:
                taken.append(rows)

    threads = [threading.Thread(target=work, args=(k,)) for k in (3, 16, 33)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans = sorted((r.ctypes.data, r.ctypes.data + r.nbytes) for r in taken)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
    for i, rows in enumerate(taken):  # each batch written and read back intact
        rows[:] = i
    assert all((rows == i).all() for i, rows in enumerate(taken))


def test_batch_signals_into_out_equal_and_bad_out_named() -> None:
    df = frames.random_ohlcv(300, seed=4)
    sets = [{"fast": 5, "slow": 20}, {"fast": 9, "slow": 40}]
    for name in ("dual_sma", "rsi"):
        params = sets if name == "dual_sma" else [{"period": 7}, {"period": 21}]
        want = batch_signals(name, df, params)
        out = np.full((2, len(df)), -9.0)
        got = batch_signals(name, df, params, out=out)
        np.testing.assert_array_equal(got, want)
        assert got.base is out or np.shares_memory(got, out)
    with pytest.raises(IndicatorError, match="out must be"):
        batch_signals("dual_sma", df, sets, out=np.empty((3, len(df))))


def test_segment_returns_into_returns_out() -> None:
    df = frames.random_ohlcv(400, seed=8)
    df.index = pd.bdate_range("2020-01-01", periods=len(df))
    sig = batch_signals("dual_sma", df, [{"fast": 5, "slow": 20}, {"fast": 3, "slow": 12}])
    sweep = SegmentSweep(df, [(30, 200), (30, 390)], EngineConfig(warmup_bars=1), equity_span=(30, 390))
    st, want = sweep.run(sig, checked=True, returns=True)
    out = np.full((2, 359), -9.0)
    st2, got = sweep.run(sig, checked=True, returns=True, returns_out=out)
    assert got is out and np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(st, st2, equal_nan=True)
    with pytest.raises(EngineError, match="returns_out must be"):
        sweep.run(sig, returns=True, returns_out=np.empty((2, 358)))
