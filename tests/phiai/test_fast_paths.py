"""The tuner's fast paths against the plain ones they replace: random and grid studies without
an Optuna study, and the evaluator's one-call segment sweep."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from phi.errors import ConfigError
from phi.indicators.registry import list_indicators
from phi.indicators.rule_specs import PRESET_RULES
from phi.phiai.evaluate import FLAT_IS_ZERO, Evaluator
from phi.phiai.spaces import search_space
from phi.phiai.tuner import PhiAITuner
from tests.phiai.frames import random_walk

NAMES = [
    n for n in list_indicators() if n not in PRESET_RULES and n not in ("ml_classifier", "rl_agent")
]


@pytest.mark.parametrize("seed", [0, 2024])
def test_optuna_random_is_what_optunas_random_sampler_suggests(seed):
    """Every registry space: the same values, of the same types, in the same order."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in NAMES:
        space = search_space(name)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
        want = []
        for _ in range(60):
            trial = study.ask()
            want.append(space.suggest(trial))
            study.tell(trial, 0.0)
        got = space.optuna_random(seed, 60)
        assert [[(k, type(v), v) for k, v in p.items()] for p in got] == [
            [(k, type(v), v) for k, v in p.items()] for p in want
        ], name


@pytest.mark.parametrize(
    ("name", "sampler", "grid"),
    [
        ("macd", "random", None),
        ("bollinger", "random", None),
        ("rsi", "grid", None),
        ("dual_sma", "grid", [{"fast": f, "slow": s} for f in (5, 10, 40) for s in (10, 20, 60)]),
    ],
)
def test_studies_without_optuna_equal_the_ask_tell_study(name, sampler, grid):
    """In memory the random and grid samplers skip Optuna; with a storage they go through
    ask/tell (the study is kept): both must find the same trials, scores and statistics.
    The dual_sma grid holds invalid points (fast >= slow), which are never evaluated."""
    df = random_walk(1100, seed=21)
    kw = {"seed": 5, "batch_size": 7, "candidates": [name]}
    fast = PhiAITuner(df, **kw)
    slow = PhiAITuner(df, storage="sqlite:///:memory:", **kw)  # a storage: the ask/tell path
    valid = None if grid is None else [p for p in grid if p["fast"] < p["slow"]]
    if grid is not None:  # explicit points: each is validated first (no invalid set allowed)
        grid = valid
    a = fast.tune_indicator(name, n_trials=30, sampler=sampler, grid=grid)
    b = slow.tune_indicator(name, n_trials=30, sampler=sampler, grid=grid)
    pd.testing.assert_frame_equal(a.trials, b.trials)
    assert a.best_params == b.best_params and str(a.holdout) == str(b.holdout)
    assert str(a.stats) == str(b.stats)
    assert fast.n_trials_total == slow.n_trials_total == len(a.trials)
    pd.testing.assert_frame_equal(a.folds, b.folds)


def test_same_seed_same_random_trials_with_one_and_two_workers_and_any_batch():
    df = random_walk(1100, seed=22)
    runs = [
        PhiAITuner(df, seed=3, n_jobs=j, batch_size=bs).tune_indicator(
            "adx", n_trials=25, sampler="random"
        )
        for j, bs in ((1, None), (2, None), (1, 4))
    ]
    for r in runs[1:]:
        pd.testing.assert_frame_equal(runs[0].trials, r.trials)


@pytest.mark.parametrize(
    ("metric", "scheme"), [("sharpe", "rolling"), ("max_drawdown", "anchored")]
)
def test_sweep_scores_equal_one_engine_run_per_segment(metric, scheme):
    """The evaluator's one-call sweep against run_backtest_many on every segment separately
    (and the development region's returns against every block's per-bar equity), bit for bit."""
    from phi.backtest.engine import EngineConfig
    from phi.phiai.folds import make_folds

    df = random_walk(1000, seed=23)
    plan = make_folds(len(df), 60, 4, scheme, 0.2)
    ev = Evaluator(df, EngineConfig(stop_loss_pct=0.04, allow_short=True), plan, metric)
    params = [{"fast": f, "slow": s} for f, s in ((5, 20), (10, 50), (20, 30), (15, 60))]
    scores = ev.score("ema_crossover", params)
    sig = ev.matrix("ema_crossover", params)

    def fill(table: pd.DataFrame) -> np.ndarray:
        v = table[metric]
        return (v.fillna(0.0) if metric in FLAT_IS_ZERO else v).to_numpy()

    per_span = {span: fill(ev.run_segment(sig, span)) for span in ev.segments}
    blocks = [plan.folds[0].train, *(f.test for f in plan.folds)]
    runs = [ev.run_equity(sig, span) for span in blocks]  # each block with its equity
    for j, s in enumerate(scores):
        assert s.is_folds == [per_span[f.train][j] for f in plan.folds]
        assert s.oos_folds == [per_span[f.test][j] for f in plan.folds]
        assert s.dev_trades == sum(table["n_trades"].iloc[j] for table, _ in runs)
        returns = np.concatenate([eq[j, 1:] / eq[j, :-1] - 1.0 for _, eq in runs])
        assert np.array_equal(s.returns, returns)


def test_row_sharpes_equal_the_one_row_function_bit_for_bit():
    from phi.phiai import stats as st

    rng = np.random.default_rng(24)
    r = rng.normal(0.0003, 0.01, (40, 517))
    r[3] = 0.0  # flat: nan
    r[5, 10] = np.nan  # non-finite rows take the one-row path
    r[6, 200] = np.inf
    r[7, :] = 0.001  # constant but not flat: sd 0 -> nan
    got = st.sharpes_per_period(r)
    want = [st.sharpe_per_period(row) for row in r]
    assert np.array_equal(got, np.asarray(want), equal_nan=True)
    assert np.isnan(st.sharpes_per_period(r[:, :1])).all()  # one bar: undefined


@pytest.mark.parametrize("value", [0.1, 1 / 3, 0.0007, -0.013, 2.5e-9])
def test_constant_returns_have_no_sharpe_ratio_not_a_huge_one(value):
    """A constant series' standard deviation is rounding noise (~1e-17): its Sharpe ratio is
    undefined (nan) on both paths, not ~1e15; a genuinely varying series keeps its value."""
    from phi.phiai import stats as st

    rows = np.full((3, 517), value)
    rows[2, ::2] *= 1.0 + 1e-6  # varies: sd / |mean| ~ 5e-7
    one = [st.sharpe_per_period(row) for row in rows]
    assert np.isnan(one[0]) and np.isnan(one[1])
    assert np.isnan(st.sharpes_per_period(rows[:2])).all()
    r = rows[2]
    want = r.mean() / r.std(ddof=1)  # the textbook formula, by hand
    assert one[2] == pytest.approx(want, rel=1e-12)
    assert st.sharpes_per_period(rows)[2] == pytest.approx(want, rel=1e-12)


def test_rank_of_one_value_is_scipys_average_rank():
    from scipy.stats import rankdata

    from phi.phiai.stats import _rank_of

    rng = np.random.default_rng(25)
    for _ in range(200):
        x = rng.integers(0, 6, rng.integers(2, 30)).astype(float)  # many ties
        i = int(rng.integers(0, len(x)))
        assert _rank_of(x, i) == rankdata(x)[i]
    x = np.array([1.0, np.nan, 0.5])
    assert np.isnan(_rank_of(x, 0)) and np.isnan(rankdata(x)[0])


def test_holdout_metrics_equal_the_engine_run_on_the_holdout():
    df = random_walk(1000, seed=26)
    tuner = PhiAITuner(df, candidates=["rsi"])
    params = {"period": 9}
    got = tuner.holdout_metrics("rsi", params)
    sig = tuner.evaluator.matrix("rsi", [params])
    want = tuner.evaluator.run_segment(sig, tuner.plan.holdout).iloc[0]
    assert np.array_equal(np.array(list(got.values())), want.to_numpy(), equal_nan=True)
    assert list(got) == list(want.index)
    none = PhiAITuner(df, candidates=["rsi"], holdout=0.0).tune_indicator(
        "rsi", n_trials=4, sampler="random"
    )
    assert np.isnan(none.holdout["sharpe"])  # no hold-out kept: nothing to score


def test_row_means_equal_nanmean_of_each_row():
    from phi.phiai.evaluate import nanmean, row_nanmeans

    rng = np.random.default_rng(27)
    for folds in (1, 2, 5, 8, 11):
        m = rng.normal(0, 1, (300, folds)) * 10.0 ** rng.integers(-6, 6, (300, folds))
        m[4, 0] = np.nan
        m[9, -1] = -np.inf
        m[11, :] = np.nan
        want = np.array([nanmean(list(row)) for row in m])
        assert np.array_equal(row_nanmeans(m), want, equal_nan=True), folds


def test_in_memory_studies_create_no_optuna_study(monkeypatch):
    def no_study(*args, **kwargs):
        raise AssertionError("an Optuna study was created")

    df = random_walk(900, seed=28)
    tuner = PhiAITuner(df, candidates=["rsi"])
    monkeypatch.setattr(optuna, "create_study", no_study)
    assert len(tuner.tune_indicator("rsi", n_trials=6, sampler="random").trials) == 6
    assert len(tuner.tune_indicator("rsi", n_trials=4, sampler="grid").trials) == 4
    # TPE in memory: the batched phi.phiai.tpe (a stored study keeps Optuna's TPESampler)
    assert len(tuner.tune_indicator("rsi", n_trials=4, sampler="tpe").trials) == 4


def test_pbo_from_rows_equals_pbo_of_the_transposed_matrix():
    """Same block sums bit for bit (NumPy sums a matrix over axis 0 row after row), so the same
    PBO and logits, including flat and duplicated trials."""
    from phi.phiai import stats as st
    from phi.phiai._stats_nb import block_sums_nb

    rng = np.random.default_rng(29)
    for _ in range(25):
        n, t = int(rng.integers(2, 40)), int(rng.integers(16, 700))
        splits = int(rng.choice([2, 4, 8]))
        r = rng.normal(0.0002, 0.01, (n, t)) * 10.0 ** rng.integers(-3, 2)
        r[0] = 0.0
        if n > 3:
            r[2] = r[1]
        m = np.ascontiguousarray(r.T)
        size = t // splits
        blocks = [m[i * size : (i + 1) * size] for i in range(splits)]
        centre = np.vstack(blocks).mean(axis=0)
        sums = np.stack([(b - centre).sum(axis=0) for b in blocks])
        squares = np.stack([((b - centre) ** 2).sum(axis=0) for b in blocks])
        got = block_sums_nb(r, splits, size)
        for a, b in zip(got, (centre, sums, squares), strict=True):
            assert np.array_equal(a, b)
        pbo, lam = st.pbo_cscv(m, splits)
        pbo_rows, lam_rows = st.pbo_cscv_rows(r, splits)
        assert pbo == pbo_rows and np.array_equal(lam, lam_rows)
    assert np.isnan(st.pbo_cscv_rows(np.zeros((1, 50)), 4)[0])


def _pbo_one_combination_at_a_time(m: np.ndarray, splits: int) -> tuple[float, np.ndarray]:
    """PBO as computed before the vectorised version: per combination, NumPy's axis-0 sums of the
    chosen blocks' sums and scipy's average rank of the in-sample winner out of sample."""
    import itertools
    import math

    from scipy.stats import rankdata

    t, n = m.shape
    size = t // splits
    blocks = [m[i * size : (i + 1) * size] for i in range(splits)]
    centre = np.vstack(blocks).mean(axis=0)
    sums = np.stack([(b - centre).sum(axis=0) for b in blocks])
    squares = np.stack([((b - centre) ** 2).sum(axis=0) for b in blocks])

    def perf(idx: list[int]) -> np.ndarray:
        rows = size * len(idx)
        s, q = sums[idx].sum(axis=0), squares[idx].sum(axis=0)
        dev = s / rows
        sd = np.sqrt(np.maximum(q - s * dev, 0.0) / (rows - 1))
        flat = sd <= 1e-12 * (np.abs(centre + dev) + np.sqrt(q / rows))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(flat, 0.0, (centre + dev) / np.where(flat, 1.0, sd))

    logits = []
    for combo in itertools.combinations(range(splits), splits // 2):
        best = int(np.argmax(perf(list(combo))))
        oos = perf([i for i in range(splits) if i not in combo])
        rank = math.nan if np.isnan(oos).any() else rankdata(oos)[best]
        w = rank / (n + 1)
        logits.append(math.log(w / (1.0 - w)))
    lam = np.asarray(logits)
    return float((lam <= 0).mean()), lam


def test_pbo_all_combinations_at_once_equals_one_at_a_time():
    """The vectorised CSCV (every half of the blocks in one array) gives the per-combination
    loop's PBO and logits bit for bit: ties, flat and duplicated trials, NaN returns, 2..16
    splits."""
    from phi.phiai import stats as st

    rng = np.random.default_rng(31)
    for k in range(24):
        n, t = int(rng.integers(2, 60)), int(rng.integers(32, 900))
        splits = 16 if k == 0 else int(rng.choice([2, 4, 8]))  # 16: 12,870 combinations
        r = rng.normal(0.0002, 0.01, (n, t)) * 10.0 ** rng.integers(-3, 2)
        r[0] = 0.0
        if n > 3:
            r[2] = r[1]
        if n > 5 and rng.random() < 0.3:
            r[4, 7] = np.nan
        want = _pbo_one_combination_at_a_time(np.ascontiguousarray(r.T), splits)
        for got in (st.pbo_cscv(np.ascontiguousarray(r.T), splits), st.pbo_cscv_rows(r, splits)):
            assert np.array_equal(got[1], want[1], equal_nan=True)
            assert got[0] == want[0]


def test_holdout_metrics_with_no_params_are_the_defaults_and_other_names_are_refused():
    # params=None died in an AttributeError ('NoneType' object has no attribute 'items')
    df = random_walk(1000, seed=26)
    tuner = PhiAITuner(df, candidates=["rsi"])
    got, want = tuner.holdout_metrics("rsi", None), tuner.holdout_metrics("rsi", {"period": 14})
    assert list(got) == list(want) and got["n_trades"] > 0
    assert np.array_equal(list(got.values()), list(want.values()), equal_nan=True)
    with pytest.raises(ConfigError, match=r"^'adx' is not among this tuner's candidates \(rsi\)"):
        tuner.holdout_metrics("adx", None)
