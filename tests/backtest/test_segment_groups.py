"""SegmentSweep's segments in groups on numba's threads: the cut positions (the best contiguous
partition, against brute force) and the same numbers as one thread, bit for bit."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pandas as pd
import pytest

from phi.backtest import segments
from phi.backtest.engine import EngineConfig
from phi.backtest.segments import SegmentSweep, balanced_cuts


def _brute(lengths: list[int], groups: int) -> int:
    """The smallest largest group sum over every cut into at most ``groups`` groups."""
    n = len(lengths)
    best = sum(lengths)
    for g in range(1, min(groups, n) + 1):
        for inner in itertools.combinations(range(1, n), g - 1):
            cuts = [0, *inner, n]
            best = min(best, max(sum(lengths[a:b]) for a, b in itertools.pairwise(cuts)))
    return best


@pytest.mark.parametrize("seed", range(30))
def test_balanced_cuts_are_an_optimal_contiguous_partition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 400, rng.integers(1, 8)).tolist()
    groups = int(rng.integers(1, 5))
    cuts = balanced_cuts(lengths, groups).tolist()
    assert cuts[0] == 0 and cuts[-1] == len(lengths)
    assert all(a < b for a, b in itertools.pairwise(cuts))  # non-empty groups, in order
    assert len(cuts) - 1 == min(groups, len(lengths))
    largest = max(sum(lengths[a:b]) for a, b in itertools.pairwise(cuts))
    assert largest == _brute(lengths, groups)


def test_balanced_cuts_worked_by_hand() -> None:
    # six fold blocks of 305 bars and the development region of 1,829: blocks | development
    assert balanced_cuts([305] * 6 + [1829], 2).tolist() == [0, 6, 7]
    assert balanced_cuts([5, 1, 1, 1, 5], 3).tolist() == [0, 1, 4, 5]
    assert balanced_cuts([9], 4).tolist() == [0, 1]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.015, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0, 0.004, n))
    idx = pd.bdate_range("2012-01-02", periods=n)
    hi, lo = np.maximum(open_, close) * 1.003, np.minimum(open_, close) * 0.997
    return pd.DataFrame({"open": open_, "high": hi, "low": lo, "close": close}, index=idx)


@pytest.mark.parametrize("m", [1, 16, 23, 40])
def test_grouped_segments_equal_one_thread(m: int, monkeypatch: pytest.MonkeyPatch) -> None:
    bars = _frame(1500, m)
    rng = np.random.default_rng(m)
    sig = np.clip(np.cumsum(rng.normal(0, 0.3, (m, len(bars))), axis=1) / 3, -1, 1)
    sig[:, :20] = np.nan
    spans = [(99, 400), (399, 700), (699, 1000), (1000, 1300), (99, 1300), (1299, 1500)]
    cfg = EngineConfig(warmup_bars=1, allow_short=True, commission_pct=0.001)
    sweep = SegmentSweep(bars, spans, cfg, equity_span=(99, 1300))
    which = [0, 1, 2, 3, 4]
    monkeypatch.setattr(segments, "SPLIT_MIN_CELLS", 10**12)  # one thread, one kernel call
    want_st, want_r = sweep.run(sig.T, which, returns=True)
    monkeypatch.setattr(segments, "SPLIT_MIN_CELLS", 1)  # every batch in groups
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            st, r = sweep.run(sig.T, which, returns=True)
            assert np.array_equal(st, want_st, equal_nan=True)
            assert np.array_equal(r, want_r, equal_nan=True)
    finally:
        numba.set_num_threads(before)
