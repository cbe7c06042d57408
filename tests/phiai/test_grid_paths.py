"""The grid and random studies' faster paths against the plain computations they replace:
PBO from per-batch block sums, and the normal law's cdf / ppf without scipy.stats."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from phi.phiai import stats as st
from phi.phiai.tuner import PhiAITuner, _pbo
from tests.phiai.frames import random_walk


def test_pbo_from_batch_block_sums_equals_pbo_of_the_stacked_rows():
    """Rows split into batches of any sizes, in any order of the parts: the same PBO and logits
    as :func:`pbo_cscv_rows` of the stacked rows, bit for bit (flat, duplicated, NaN rows)."""
    rng = np.random.default_rng(5)
    for _ in range(30):
        n, t = int(rng.integers(2, 50)), int(rng.integers(16, 600))
        splits = int(rng.choice([2, 4, 8]))
        r = rng.normal(0.0003, 0.01, (n, t)) * 10.0 ** rng.integers(-3, 2)
        r[0] = 0.0
        if n > 3:
            r[2] = r[1]
        if n > 5 and rng.random() < 0.3:
            r[4, 3] = np.nan
        cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, 3), replace=False))
        edges = [0, *cuts.tolist(), n]
        batches = [st.block_sums(r[a:b], splits) for a, b in zip(edges, edges[1:], strict=False)]
        parts = [(bs, 0, b - a) for bs, a, b in zip(batches, edges, edges[1:], strict=False)]
        want = st.pbo_cscv_rows(r, splits)
        got = st.pbo_cscv_sums(parts)
        assert got[0] == want[0] or (math.isnan(got[0]) and math.isnan(want[0]))
        assert np.array_equal(got[1], want[1], equal_nan=True)
        # a sub-range of one batch
        whole = st.block_sums(r, splits)
        sub = st.pbo_cscv_sums([(whole, 1, n)])
        assert np.array_equal(sub[1], st.pbo_cscv_rows(r[1:], splits)[1], equal_nan=True)
    assert st.block_sums(np.zeros((3, 5)), 8) is None  # fewer values than blocks
    assert math.isnan(st.pbo_cscv_sums([])[0])


def test_tuner_pbo_from_block_sums_equals_the_stacked_rows():
    """The tuner's PBO from its batches' block sums (grid in batches of 7, repeated parameter
    sets from the cache) equals PBO of every trial's return row stacked."""
    bars = random_walk(700, seed=3)
    tuner = PhiAITuner(bars, candidates=["dual_sma"], batch_size=7, folds=3)
    grid = [{"fast": f, "slow": s} for f in (5, 10, 15) for s in (20, 30, 40, 60)]
    res = tuner.tune_indicator("dual_sma", sampler="grid", grid=grid + grid[:5])
    trials = tuner.log
    assert all(t.scores.blocks is not None for t in trials)
    rows = np.stack([t.scores.returns for t in trials])
    splits = st.pbo_splits(rows.shape[1])
    assert res.stats["pbo_splits"] == splits
    assert _pbo(trials, splits) == st.pbo_cscv_rows(rows, splits)[0] == res.stats["pbo"]


def test_normal_cdf_and_ppf_equal_scipy_stats_norm():
    """psr / expected_max_sharpe use scipy.special's ndtr / ndtri: scipy.stats.norm's values."""
    rng = np.random.default_rng(1)
    for sr, n, skew, kurt in zip(
        rng.normal(0, 0.1, 200), rng.integers(2, 5000, 200), rng.normal(0, 1, 200),
        rng.uniform(1.5, 9, 200), strict=True,
    ):  # fmt: skip
        var = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
        if var > 0:
            z = sr * math.sqrt(n - 1) / math.sqrt(var)
            assert st.psr(sr, int(n), skew, kurt) == float(norm.cdf(z))
    for n in (2, 3, 10, 345, 10_000, 10**7):
        v = 1.7e-4
        want = math.sqrt(v) * (
            (1.0 - st.EULER_GAMMA) * norm.ppf(1.0 - 1.0 / n)
            + st.EULER_GAMMA * norm.ppf(1.0 - 1.0 / (n * math.e))
        )
        assert st.expected_max_sharpe(n, v) == float(want)


def test_row_sharpes_equal_numpys_mean_and_std_at_every_pairwise_block_edge():
    """The compiled row Sharpe ratios (NumPy's pairwise sums written out) equal
    :func:`sharpe_per_period` (``ndarray.mean`` / ``ndarray.std(ddof=1)``) bit for bit, at the
    lengths where NumPy's pairwise summation changes shape (8 accumulators, blocks of 128)."""
    rng = np.random.default_rng(8)
    lengths = [2, 3, 7, 8, 9, 15, 16, 17, 127, 128, 129, 130, 255, 256, 257, 263, 1000, 1564, 4099]
    for t in lengths:
        r = rng.normal(0.0004, 0.012, (9, t)) * 10.0 ** rng.integers(-4, 3, (9, 1))
        r[1] = -0.0
        r[2, ::2] = 0.0
        got = st.sharpes_per_period(r)
        want = np.array([st.sharpe_per_period(row) for row in r])
        assert np.array_equal(got, want, equal_nan=True), t


def test_small_grid_and_random_studies_run_as_one_batch_with_the_same_results():
    """In memory, a study whose signals fit ONE_BATCH_CELLS is one batch (progress once); the
    trials, statistics, folds and hold-out equal those in batches of 5, and a study past the
    budget keeps batches of 256."""
    import pandas as pd

    from phi.phiai import tuner as tn

    bars = random_walk(600, seed=4)
    grid = [{"fast": f, "slow": s} for f in (3, 5, 8, 12) for s in (15, 20, 30, 45)]
    for sampler, kw in (("grid", {"grid": grid}), ("random", {"n_trials": 23})):
        calls: list[tuple] = []
        one = PhiAITuner(
            bars, candidates=["dual_sma"], folds=2, progress=lambda *a, c=calls: c.append(a)
        ).tune_indicator("dual_sma", sampler=sampler, **kw)
        assert len(calls) == 1 and calls[0][1] == calls[0][2]
        five = PhiAITuner(bars, candidates=["dual_sma"], folds=2, batch_size=5).tune_indicator(
            "dual_sma", sampler=sampler, **kw
        )
        pd.testing.assert_frame_equal(one.trials, five.trials, check_exact=True)
        pd.testing.assert_frame_equal(one.folds, five.folds, check_exact=True)
        assert str(one.stats) == str(five.stats) and str(one.holdout) == str(five.holdout)
    assert tn._sweep_batch(345, 2609) == 345
    assert tn._sweep_batch(5000, 2609) == 256
    assert tn._sweep_batch(0, 100) == 1
