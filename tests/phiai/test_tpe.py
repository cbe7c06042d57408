"""The batched TPE (phi.phiai.tpe): its estimator against Optuna's own, its search against
Optuna's TPESampler and random search, determinism, bounds, invalid and infeasible trials."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.samplers._tpe._truncnorm import _log_gauss_mass
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_gamma, default_weights
from scipy import special
from scipy.stats import mannwhitneyu, truncnorm

from phi.phiai import _tpe_nb as nb
from phi.phiai.spaces import SearchSpace, search_space
from phi.phiai.tpe import BatchedTPE, batch_sizes, gamma, parzen, weights
from phi.phiai.tuner import PhiAITuner
from tests.phiai.frames import random_walk

_OPTUNA_PARAMS = _ParzenEstimatorParameters(1.0, True, False, default_weights, False)


def _observations(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "int":  # integers, some outside the range (a conditional bound moved past them)
        return rng.integers(-5, 80, size=n).astype(float)
    if kind == "step":
        return 1.0 + 0.25 * rng.integers(0, 11, size=n)
    if kind == "logint":
        return rng.integers(1, 200, size=n).astype(float)
    return np.exp(rng.uniform(math.log(0.01), math.log(5.0), size=n))


_CASES = {
    "int": (IntDistribution(5, 60), 1.0, False),
    "step": (FloatDistribution(1.0, 3.5, step=0.25), 0.25, False),
    "float": (FloatDistribution(0.01, 5.0), 0.0, False),
    "log": (FloatDistribution(0.01, 5.0, log=True), 0.0, True),
    "logint": (IntDistribution(1, 200, log=True), 1.0, True),
}


@pytest.mark.parametrize("kind", list(_CASES))
def test_log_density_equals_optunas_parzen_estimator(kind):
    """Below/above groups alike: any observations and weights (ties included), every value."""
    dist, step, log = _CASES[kind]
    rng = np.random.default_rng(len(kind))
    for n in (0, 1, 2, 3, 7, 24, 25, 26, 60, 140):
        obs = _observations(rng, kind, n)
        if kind in ("int", "step", "logint"):
            xs = np.arange(dist.low, dist.high + 1e-9, dist.step)
        else:
            xs = np.exp(rng.uniform(math.log(dist.low), math.log(dist.high), size=64))
        want = _ParzenEstimator({"x": obs}, {"x": dist}, _OPTUNA_PARAMS).log_pdf({"x": xs})
        est = parzen(obs, weights(n), np.array([dist.low]), np.array([dist.high]), step, log)
        got = est.log_pdf(xs, np.zeros(xs.size, dtype=np.intp))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_rows_with_their_own_bounds_equal_optuna_per_distribution():
    """Conditional bounds: each row's mixture is Optuna's estimator on that row's distribution."""
    rng = np.random.default_rng(3)
    obs = rng.integers(10, 200, size=90).astype(float)
    lows = np.array([11.0, 40.0, 120.0, 199.0])
    est = parzen(obs, weights(obs.size), lows, np.full(4, 200.0), 1.0)
    for r, low in enumerate(lows):
        dist = IntDistribution(int(low), 200)
        xs = np.arange(low, 201.0)
        want = _ParzenEstimator({"x": obs}, {"x": dist}, _OPTUNA_PARAMS).log_pdf({"x": xs})
        got = est.log_pdf(xs, np.full(xs.size, r, dtype=np.intp))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        ks = np.unique(rng.integers(0, xs.size, size=xs.size // 2 + 1))  # the kernel's path
        grid = nb.grid_log_pdf_nb(
            ks, low, 200.0, 1.0, False, est.mus[r], est.sigmas[r], est.log_w[r], est.log_z[r]
        )
        np.testing.assert_allclose(grid, want[ks], rtol=1e-12, atol=1e-12)


def test_lattice_tails_equal_optuna_on_float_steps_and_narrow_bounds():
    """The cached lattice tails (float step 0.25; bounds that exclude most observations, whose
    kernels are pruned from their nearest point inside the bounds) give Optuna's numbers."""
    rng = np.random.default_rng(8)
    obs = 1.0 + 0.25 * rng.integers(0, 41, size=70)  # 1.0 .. 11.0
    for low, high in ((1.0, 11.0), (9.5, 11.0), (1.0, 1.75), (4.0, 4.0)):
        est = parzen(obs, weights(obs.size), np.array([low]), np.array([high]), 0.25)
        xs = np.arange(low, high + 1e-9, 0.25)
        dist = FloatDistribution(low, high, step=0.25)
        want = _ParzenEstimator({"x": obs}, {"x": dist}, _OPTUNA_PARAMS).log_pdf({"x": xs})
        ks = np.arange(xs.size)
        got = nb.grid_log_pdf_nb(
            ks, low, high, 0.25, False, est.mus[0], est.sigmas[0], est.log_w[0], est.log_z[0]
        )
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)  # one value: log 1 = 0


def test_fast_draws_within_the_cell_tolerance_of_the_exact_quantile():
    """propose_nb takes a draw's cell from Acklam's quantile alone unless it lies within
    ``1e-3 + 1e-8 * (1 + |z|) * sigma`` steps of a cell's edge: the approximation's error
    (Acklam's, 1.2e-9 relative) stays 5x inside that."""
    rng = np.random.default_rng(5)
    a = rng.normal(0, 6, 4000)
    b = a + np.abs(rng.normal(0, 4, 4000)) + 1e-3
    u = rng.random(4000)
    n_fast = 0
    for ui, ai, bi in zip(u, a, b, strict=True):
        fast = nb._draw_fast_nb(ui, ai, bi, *nb._truncnorm_masses_nb(ai, bi))
        if math.isnan(fast):
            continue
        n_fast += 1
        assert abs(fast - nb.truncnorm_ppf_nb(ui, ai, bi)) < 2e-9 * (1.0 + abs(fast))
    assert n_fast > 3000


def test_group_sizes_and_weights_are_optunas():
    for n in (0, 1, 9, 10, 11, 24, 25, 26, 100, 249, 250, 251, 1000):
        assert gamma(n) == default_gamma(n)
        np.testing.assert_array_equal(weights(n), default_weights(n))


def test_normal_helpers_against_scipy():
    z = np.concatenate([np.linspace(-60, 12, 2000), [-200.0, -1e3]])
    got = np.array([nb.log_ndtr_nb(v) for v in z])
    np.testing.assert_allclose(got, special.log_ndtr(z), rtol=1e-12)
    lp = np.concatenate([-np.logspace(-15, 4, 500)])
    got = np.array([nb.ndtri_exp_nb(v) for v in lp])
    np.testing.assert_allclose(got, special.ndtri_exp(lp), rtol=1e-11, atol=1e-11)
    rng = np.random.default_rng(4)
    a = rng.normal(0, 15, 3000)
    b = a + np.abs(rng.normal(0, 3, 3000)) + 1e-6
    u = rng.random(3000)
    got = np.array([nb.truncnorm_ppf_nb(*t) for t in zip(u, a, b, strict=True)])
    want = truncnorm.ppf(u, a, b)
    ok = np.isfinite(want)
    assert ok.mean() > 0.9
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-11, atol=1e-11)
    m = np.array([nb.log_mass_nb(x, y) for x, y in zip(a, b, strict=True)])
    np.testing.assert_allclose(m, _log_gauss_mass(a, b), rtol=1e-10)  # Optuna's, log space


# ---------------------------------------------------------------- search quality


def _noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, (210, 210))


def _objective(name: str, noise: np.ndarray):
    """A smooth bump (optimum inside the range) plus fixed noise per parameter set."""
    if name == "channel_breakout":  # period 2..120
        return lambda p: -(((p["period"] - 80) / 6) ** 2) + 0.15 * noise[p["period"], 0]
    return lambda p: (
        -(((p["fast"] - 9) / 6) ** 2)
        - (((p["slow"] - 60) / 25) ** 2)
        + 0.3 * noise[p["fast"], p["slow"]]
    )


def _best_batched(space: SearchSpace, f, seed: int, n: int) -> float:
    tpe = BatchedTPE(space, seed, n_startup=10)
    best = -math.inf
    for _ in range(n // 16):
        asked = tpe.ask(16)
        values = [f(p) for p in asked]
        tpe.tell(asked, values)
        best = max(best, *values)
    return best


def _best_optuna(space: SearchSpace, f, seed: int, n: int) -> float:
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=10)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    best = -math.inf
    for _ in range(n // 16):
        asked = [study.ask() for _ in range(16)]
        params = [space.suggest(t) for t in asked]  # the tuner's pattern: all asked, then told
        for t, p in zip(asked, params, strict=True):
            value = f(p)
            study.tell(t, value)
            best = max(best, value)
    return best


@pytest.mark.parametrize(
    ("name", "alpha"),  # 1-D over 119 values (64 random draws already cover much); 2-D, slow > fast
    [("channel_breakout", 0.05), ("dual_sma", 0.01)],
)
def test_search_no_worse_than_optunas_tpe_and_better_than_random(name, alpha):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = search_space(name)
    n, seeds = 64, range(16)
    mine, theirs, rand = [], [], []
    for seed in seeds:
        f = _objective(name, _noise(100 + seed))
        mine.append(_best_batched(space, f, seed, n))
        theirs.append(_best_optuna(space, f, seed, n))
        rand.append(max(f(p) for p in space.optuna_random(seed, n)))
    # Optuna's TPE asked 16 at a time as the tuner's stored studies are (its default constant
    # liar spreads each batch): not worse (one-sided test), and clearly better than random
    assert mannwhitneyu(mine, theirs, alternative="less").pvalue > 0.05
    se = math.sqrt((np.var(mine, ddof=1) + np.var(theirs, ddof=1)) / len(mine))
    assert np.mean(mine) >= np.mean(theirs) - 2.0 * se
    assert mannwhitneyu(mine, rand, alternative="greater").pvalue < alpha


def test_default_batches_of_32_after_64_trials_search_as_well_as_batches_of_16():
    """The tuner's default schedule (16 until 64 trials, then 32): 200-trial studies find as
    good a best value as batches of 16 (one-sided test; 200 seeds gave p 0.29 and 0.44)."""
    space = search_space("dual_sma")
    n, seeds = 200, range(16)
    sched, fixed = [], []
    for seed in seeds:
        f = _objective("dual_sma", _noise(300 + seed))
        for sizes, out in ((batch_sizes(n), sched), (batch_sizes(n, 16), fixed)):
            tpe, best = BatchedTPE(space, seed, n_startup=10), -math.inf
            for size in sizes:
                asked = tpe.ask(size)
                values = [f(p) for p in asked]
                tpe.tell(asked, values)
                best = max(best, *values)
            out.append(best)
    assert mannwhitneyu(sched, fixed, alternative="less").pvalue > 0.05
    se = math.sqrt((np.var(sched, ddof=1) + np.var(fixed, ddof=1)) / len(sched))
    assert np.mean(sched) >= np.mean(fixed) - 2.0 * se


def test_batch_sizes():
    assert batch_sizes(40) == [16, 16, 8] == batch_sizes(40, 16)  # up to 64: as before
    assert batch_sizes(200) == [16, 16, 16, 16, 32, 32, 32, 40]  # no remainder under 16
    assert batch_sizes(96) == [16, 16, 16, 16, 32] and batch_sizes(95)[-1] == 31
    assert batch_sizes(100, 32) == [32, 32, 32, 4] and batch_sizes(3) == [3]
    assert batch_sizes(0) == []


# ---------------------------------------------------------------- behaviour


def test_same_seed_same_trials_and_bounds_respected():
    space = search_space("macd")
    f = _objective("dual_sma", _noise(1))

    def run(seed: int) -> list[dict]:
        tpe, out = BatchedTPE(space, seed, n_startup=5), []
        for size in (7, 16, 16, 3):
            asked = tpe.ask(size)
            tpe.tell(asked, [f(p) for p in asked])
            out += asked
        return out

    a, b, c = run(0), run(0), run(1)
    assert a == b and a != c
    specs = {p.name: p for p in space.params}
    for p in a:
        assert list(p) == list(specs)  # the registry's order
        for k, v in p.items():
            assert type(v) is int and specs[k].low <= v <= specs[k].high
        assert p["fast"] < p["slow"] and space.problem(p) is None


def test_float_steps_stay_on_the_grid():
    space = search_space("bollinger")
    tpe = BatchedTPE(space, 2, n_startup=3)
    for _ in range(4):
        asked = tpe.ask(16)
        tpe.tell(asked, [-abs(p["nbdev"] - 2.75) for p in asked])
    for p in asked:
        assert type(p["nbdev"]) is float and 1.0 <= p["nbdev"] <= 3.5
        assert (p["nbdev"] - 1.0) / 0.25 == round((p["nbdev"] - 1.0) / 0.25)


def test_startup_draws_ignore_values_and_the_model_starts_after_them():
    space = search_space("rsi")
    first = BatchedTPE(space, 5, n_startup=10).ask(6)

    def after(values: list[float], n_startup: int) -> list[dict]:
        tpe = BatchedTPE(space, 5, n_startup=n_startup)
        tpe.tell(first, values)
        return tpe.ask(8)

    low, high = [float(i) for i in range(6)], [float(-i) for i in range(6)]
    assert after(low, 10) == after(high, 10)  # fewer than n_startup told: uniform draws
    assert after(low, 6) != after(high, 6)  # then the values matter


def test_nothing_told_and_empty_batches():
    """Invalid parameter sets are never told (like Optuna's failed trials): a study whose
    batches were all invalid keeps drawing uniformly; empty tells and asks are harmless."""
    space = search_space("rsi")
    tpe = BatchedTPE(space, 0, n_startup=4)
    assert tpe.ask(0) == []
    for _ in range(3):
        tpe.tell([], [])
        batch = tpe.ask(16)
    assert batch == BatchedTPE(space, 0, n_startup=4).ask(16 * 3)[32:]
    with pytest.raises(ValueError, match="values"):
        tpe.tell(batch[:2], [1.0])


def test_constant_liar_spreads_a_batch():
    """With running trials counted in the above group, a batch does not repeat the peak."""
    space = search_space("rsi")
    tpe = BatchedTPE(space, 9, n_startup=10)
    first = tpe.ask(40)
    tpe.tell(first, [-abs(p["period"] - 20) for p in first])
    batch = [p["period"] for p in tpe.ask(16)]
    assert len(set(batch)) >= 8
    assert np.median(batch) == pytest.approx(20, abs=6)


def test_minimize_direction():
    space = search_space("rsi")
    tpe = BatchedTPE(space, 1, n_startup=10, direction="minimize")
    for _ in range(5):
        asked = tpe.ask(16)
        tpe.tell(asked, [(p["period"] - 44) ** 2 for p in asked])
    assert np.median([p["period"] for p in tpe.ask(16)]) >= 35


def test_tuner_tpe_in_memory_without_optuna_and_stored_with_it(monkeypatch, tmp_path):
    df = random_walk(900, seed=31)
    made = []
    real = optuna.create_study
    monkeypatch.setattr(optuna, "create_study", lambda *a, **k: made.append(1) or real(*a, **k))
    res = PhiAITuner(df, seed=3, candidates=["macd"]).tune_indicator("macd", n_trials=100)
    assert not made and len(res.trials) == 100  # batches of 16, 16, 16, 16, 36
    assert (res.trials["fast"] < res.trials["slow"]).all()
    again = PhiAITuner(df, seed=3, n_jobs=2, candidates=["macd"]).tune_indicator("macd", 100)
    pd.testing.assert_frame_equal(res.trials, again.trials)
    fixed = PhiAITuner(df, seed=3, batch_size=16, candidates=["macd"]).tune_indicator("macd", 100)
    pd.testing.assert_frame_equal(res.trials.iloc[:64], fixed.trials.iloc[:64])
    assert not res.trials.iloc[64:].equals(fixed.trials.iloc[64:])
    stored = PhiAITuner(df, seed=3, storage=str(tmp_path / "s.db"), candidates=["macd"])
    assert len(stored.tune_indicator("macd", n_trials=20).trials) == 20 and made


def test_tuner_tpe_invalid_infeasible_and_tiny_studies(monkeypatch):
    df = random_walk(900, seed=32)
    # every trial infeasible: all told the penalty, the study still runs to its end
    strict = PhiAITuner(df, seed=1, candidates=["rsi"], constraints={"min_trades": 10**6})
    res = strict.tune_indicator("rsi", n_trials=24)
    assert len(res.trials) == 24 and not res.trials["feasible"].any()
    # fewer trials than the startup count
    assert len(PhiAITuner(df, seed=1, candidates=["rsi"]).tune_indicator("rsi", 3).trials) == 3
    # invalid parameter sets are dropped, not evaluated, not told
    monkeypatch.setattr(
        SearchSpace, "problem", lambda self, p: "odd" if p.get("period", 0) % 2 else None
    )
    res = PhiAITuner(df, seed=1, candidates=["rsi"]).tune_indicator("rsi", n_trials=48)
    assert 0 < len(res.trials) < 48 and (res.trials["period"] % 2 == 0).all()
    assert res.stats["n_trials"] == len(res.trials)


def test_tpe_batches_scored_on_all_numba_threads_and_the_count_restored(monkeypatch):
    """Without a helper thread a batch's kernels use numba's threads (the segment sweep runs its
    segments in groups); the caller's thread count is what it was afterwards."""
    import numba

    from phi.phiai.evaluate import Evaluator

    df = random_walk(600, seed=33)
    threads: list[int] = []
    real = Evaluator.score

    def score(self, name, params):  # noqa: ANN001, ANN202
        threads.append(numba.get_num_threads())
        return real(self, name, params)

    monkeypatch.setattr(Evaluator, "score", score)
    before = numba.get_num_threads()
    PhiAITuner(df, seed=1, candidates=["rsi"]).tune_indicator("rsi", n_trials=20)
    assert threads and set(threads) == {before} and numba.get_num_threads() == before


def _liar_share(v: float, mu: float, gap: float, low: float, high: float, n_g: int) -> float:
    """A running trial's truncated kernel: its mass of grid value ``v``'s cell over its mass
    inside the widened bounds (Optuna 5's constant liar, the width clipped as Optuna does)."""
    lo, hi = low - 0.5, high + 0.5
    span = hi - lo
    sig = min(max(gap, span / min(100.0, n_g + 2.0)), span) if math.isfinite(gap) else span
    cell = special.ndtr((v + 0.5 - mu) / sig) - special.ndtr((v - 0.5 - mu) / sig)
    return float(cell / (special.ndtr((hi - mu) / sig) - special.ndtr((lo - mu) / sig)))


def _liar_gap(v: float, x_g: np.ndarray, earlier: list[float]) -> float:
    below = max([x for x in x_g if x < v] + [u for u in earlier if u <= v], default=-math.inf)
    above = min([x for x in x_g if x >= v] + [u for u in earlier if u >= v], default=math.inf)
    if math.isinf(below) and math.isinf(above):
        return math.nan
    return max(
        v - below if math.isfinite(below) else 0.0, above - v if math.isfinite(above) else 0.0
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_row_takes_the_best_candidate_with_its_running_trials(seed):
    """propose_nb, integer parameter with conditional lower bounds (several rows per bound, as
    ``slow > fast`` gives) and running trials (pending, then the batch's earlier rows): every
    row's value is the candidate with the largest ``log l - log g`` where ``g`` counts each
    running trial's kernel, scored here one candidate at a time with scipy's normal cdf."""
    rng = np.random.default_rng(seed)
    x_l = rng.integers(30, 90, size=6).astype(float)
    x_g = rng.integers(10, 200, size=50).astype(float)
    pending = rng.integers(40, 160, size=5).astype(float)
    rows, n_cand = 24, 24
    low = (rng.integers(3, 9, size=rows) * 5 + 1).astype(float)  # ~6 distinct bounds
    high = np.full(rows, 200.0)
    u_k, u_q = rng.random((rows, n_cand)), rng.random((rows, n_cand))
    w_g = weights(x_g.size)
    args = (x_l, np.argsort(x_l), np.ones(x_l.size), x_g, np.argsort(x_g), w_g, low, high, 1.0,
            False, 1.0)  # fmt: skip
    out = nb.propose_nb(*args, u_k, u_q, pending)
    # each candidate alone (one per row): the draws depend on the row's bounds alone
    cands = np.column_stack(
        [
            nb.propose_nb(*args, u_k[:, c : c + 1].copy(), u_q[:, c : c + 1].copy(), pending)
            for c in range(n_cand)
        ]  # fmt: skip
    )
    assert np.all((cands >= low[:, None]) & (cands <= high[:, None]))
    total_g = 1.0 + w_g.sum()
    liars = list(pending)
    for r in range(rows):
        est_l = parzen(x_l, np.ones(x_l.size), low[r : r + 1], high[r : r + 1], 1.0)
        est_g = parzen(x_g, w_g, low[r : r + 1], high[r : r + 1], 1.0)
        row = np.zeros(n_cand, dtype=np.intp)
        log_l, log_g0 = est_l.log_pdf(cands[r], row), est_g.log_pdf(cands[r], row)
        gaps = [_liar_gap(u, x_g, liars[:i]) for i, u in enumerate(liars)]
        scores = []
        for c, v in enumerate(cands[r]):
            run = sum(_liar_share(v, u, gp, low[r], high[r], x_g.size)
                      for u, gp in zip(liars, gaps, strict=True))  # fmt: skip
            g = (math.exp(log_g0[c]) * total_g + run) / (total_g + len(liars))
            scores.append(log_l[c] - math.log(g))
        assert out[r] in cands[r]
        assert scores[list(cands[r]).index(out[r])] >= max(scores) - 1e-9
        liars.append(float(out[r]))


def _phase_one(args: tuple, u_k: np.ndarray, u_q: np.ndarray, two: bool) -> tuple:
    """propose_nb's phase 1 (candidates and their log l, log g without running trials) over
    every run of equal bounds, in one part or in two parts on two threads (two caches)."""
    x_l, order_l, w_l, x_g, order_g, w_g, low, high, step, is_log, prior = args
    rows, n_cand = u_k.shape
    by_bounds = np.argsort(low * 1e6 + high)
    starts = nb._run_starts_nb(by_bounds, low, high)
    n_runs = starts.size - 1
    out = [np.full((rows, n_cand), -7.0) for _ in range(3)]  # candidates, log l, log g
    row_lo, row_hi = np.full(rows, -7.0), np.full(rows, -7.0)
    extras = np.full((rows, 3), -1, dtype=np.int64)
    group = np.full(rows, -1, dtype=np.int64)
    store = nb.tails_store_nb(512, 3 * rows)
    common = (by_bounds, low, high, step, is_log, prior, x_l, order_l, w_l, x_g, order_g, w_g,
              u_k, u_q)  # fmt: skip
    if two:
        other = nb.tails_store_nb(512, 3 * rows)
        nb._two_parts_nb(
            n_runs // 2, starts, *common, store, other, *out, row_lo, row_hi, extras, group
        )
        caches = [store if run < n_runs // 2 else other for run in group]
    else:
        nb._part_nb(0, n_runs, starts, *common, store, *out, row_lo, row_hi, extras, group)
        caches = [store] * rows
    # the clipped widths' slots differ between caches: compare the widths they hold
    widths = np.array(
        [[caches[r][1][e] if e >= 0 else -1.0 for e in extras[r]] for r in range(rows)]
    )
    return (*out, row_lo, row_hi, group, widths)


@pytest.mark.parametrize("kind", ["int", "step", "float", "log", "logint"])
def test_phase_one_in_two_parts_equals_one_part(kind):
    """propose_nb scores its runs of equal bounds in two parts on two threads, each part with
    its own tails cache: every candidate, log l and log g equal one part's, bit for bit."""
    rng = np.random.default_rng(7)
    _, step, is_log = _CASES[kind]
    x_l, x_g = _observations(rng, kind, 7), _observations(rng, kind, 60)
    if kind == "float" or kind == "log":
        low = np.round(rng.uniform(0.01, 1.0, 20), 2)
        high = np.full(20, 5.0)
    else:
        lo0 = 1.0 if kind in ("step", "logint") else 5.0
        low = lo0 + step * rng.integers(0, 8, 20)
        high = np.full(20, 3.5 if kind == "step" else 60.0 if kind == "int" else 200.0)
    if is_log:
        x_l, x_g = np.log(x_l), np.log(x_g)
    args = (x_l, np.argsort(x_l), np.ones(x_l.size), x_g, np.argsort(x_g), weights(x_g.size),
            low, high, step, is_log, 1.0)  # fmt: skip
    u_k, u_q = rng.random((20, 24)), rng.random((20, 24))
    one, two = _phase_one(args, u_k, u_q, False), _phase_one(args, u_k, u_q, True)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    assert len(set(two[-2].tolist())) > 2  # several runs of bounds in each part
