"""The tuner end to end: no skill on noise, a planted edge found, determinism, exact re-runs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import EngineConfig, run_backtest
from phi.backtest.run_config import DatasetSpec
from phi.errors import ConfigError
from phi.phiai.tuner import PhiAITuner, load_bars, phiai_full_auto
from tests.phiai.frames import planted_rsi, random_walk


@pytest.fixture(scope="module", params=[1, 2, 3])
def noise_result(request):
    return phiai_full_auto(
        random_walk(1500, seed=request.param), max_indicators=3, n_trials=24, seed=0
    )


def test_no_skill_on_noise(noise_result):
    s = noise_result.stats
    # every trial of every step is counted: 8 probes x 15 candidates (some deduplicated) + 3 x 24
    tuned = sum(len(t.trials) for t in noise_result.tuning.values())
    assert s["n_trials_total"] == noise_result.selection["trials"].sum() + tuned
    assert noise_result.selection["trials"].sum() >= 15 and tuned == 24 * len(noise_result.tuning)
    assert s["dsr_pvalue"] > 0.05
    assert s["pbo"] >= 0.3
    assert "Not distinguishable from luck" in noise_result.explanation
    assert abs(s["holdout_sharpe"]) < 2.0  # near 0: no edge survives on unseen bars


@pytest.fixture(scope="module")
def planted_result():
    return phiai_full_auto(
        planted_rsi(1500, seed=0, period=5, edge=0.4), max_indicators=3, n_trials=24, seed=0
    )


def test_finds_a_planted_edge(planted_result):
    r = planted_result
    chosen = r.selection.loc[r.selection["chosen"], "name"].tolist()
    assert "rsi" in chosen
    assert 3 <= r.tuning["rsi"].best_params["period"] <= 8  # the planted region (period 5)
    assert r.stats["holdout_sharpe"] > 1.0
    assert r.stats["dsr_pvalue"] < 0.05
    assert "Distinguishable from luck" in r.explanation
    assert r.stats["pbo"] < 0.3


def test_selection_table_and_constraints():
    tuner = PhiAITuner(
        random_walk(1500, seed=4), constraints={"max_drawdown": -0.05, "min_trades": 10}
    )
    sel = tuner.select_indicators(["rsi", "macd", "momentum"], top_n=2)
    assert list(sel.columns[:6]) == ["name", "is_score", "oos_score", "trades", "chosen", "why"]
    assert sel["chosen"].sum() >= 1
    # a 5 % drawdown cap on a random walk leaves (almost) nothing feasible: said in 'why'
    assert sel["why"].str.len().gt(0).all()
    with pytest.raises(ConfigError, match="unknown constraint"):
        PhiAITuner(random_walk(600), constraints={"max_dd": -0.2})
    with pytest.raises(ConfigError, match="metric"):
        PhiAITuner(random_walk(600), metric="sharp")


def test_same_seed_same_trials_with_one_and_two_workers():
    df = random_walk(1200, seed=5)
    a = PhiAITuner(df, seed=7, n_jobs=1, batch_size=8).tune_indicator("macd", n_trials=24)
    b = PhiAITuner(df, seed=7, n_jobs=2, batch_size=8).tune_indicator("macd", n_trials=24)
    pd.testing.assert_frame_equal(a.trials, b.trials)
    assert a.best_params == b.best_params
    assert (a.trials["fast"] < a.trials["slow"]).all()  # the ordered pair is sampled in order
    c = PhiAITuner(df, seed=8, n_jobs=1, batch_size=8).tune_indicator("macd", n_trials=24)
    assert not a.trials[["fast", "slow", "signal"]].equals(c.trials[["fast", "slow", "signal"]])


def test_max_drawdown_is_maximised_towards_zero():
    tuner = PhiAITuner(
        random_walk(1200, seed=6),
        metric="max_drawdown",
        constraints={"max_drawdown": -1.0, "min_trades": 0},
    )
    res = tuner.tune_indicator("rsi", n_trials=16, sampler="random")
    scores = res.trials["is_score"]
    assert (scores <= 0).all()
    assert res.is_score == pytest.approx(scores.max())  # the shallowest drawdown, not the deepest


def test_grid_sampler_covers_a_regular_grid():
    res = PhiAITuner(random_walk(1200, seed=2)).tune_indicator("rsi", n_trials=10, sampler="grid")
    periods = sorted(res.trials["period"])
    assert periods[0] == 2 and periods[-1] == 50 and len(periods) == len(set(periods)) <= 10


def test_segment_scores_equal_a_full_run_started_at_the_segment():
    df = random_walk(1200, seed=9)
    tuner = PhiAITuner(df)
    fold = tuner.plan.folds[1]
    a, b = fold.test
    params = {"period": 9}
    got = tuner.evaluator.run_segment(tuner.evaluator.matrix("rsi", [params]), (a, b)).iloc[0]
    sig = tuner.evaluator.signal("rsi", params)
    full = run_backtest(df.iloc[:b], sig[:b], dataclasses.replace(EngineConfig(), warmup_bars=a))
    for key in ("sharpe", "total_return", "max_drawdown", "n_trades"):
        assert got[key] == pytest.approx(full.metrics[key], rel=1e-9, nan_ok=True)


def test_tuned_config_reruns_to_the_reported_holdout_exactly():
    import phi

    ds = DatasetSpec("DEMO", start="2015-01-01", end="2020-12-31")
    bars = load_bars(ds)
    res = phiai_full_auto(
        bars,
        max_indicators=2,
        n_trials=8,
        seed=3,
        dataset=ds,
        candidates=["rsi", "macd", "bollinger", "momentum"],
    )
    run = phi.run(res.run_config, save=False)
    for key, value in res.holdout.items():
        got = run.metrics[key]
        assert (math.isnan(value) and math.isnan(got)) or got == value, key
    assert res.run_config.engine.warmup_bars == len(bars) - int(round(0.2 * len(bars)))
    assert np.isfinite(res.stats["dsr"])


def test_sqlite_storage_under_phi_home_and_progress_callback(tmp_path):
    import optuna

    from phi.paths import phi_home

    calls = []
    tuner = PhiAITuner(
        random_walk(1200, seed=11),
        storage="sqlite",
        progress=lambda *a: calls.append(a),
        batch_size=4,
    )
    res = tuner.tune_indicator("rsi", n_trials=8, sampler="random")
    db = phi_home() / "phiai" / "optuna.db"
    assert db.is_file()
    summaries = optuna.get_all_study_summaries(f"sqlite:///{db}")
    assert len(summaries) == 1 and summaries[0].n_trials == 8
    assert calls == [("tune rsi", 4, 8), ("tune rsi", 8, 8)]
    assert len(res.trials) == 8 and tuner.n_trials_total == 8
    with pytest.raises(ConfigError, match="storage"):
        PhiAITuner(random_walk(1200), storage="mysql-ish").tune_indicator("rsi", n_trials=1)


def test_extra_run_files_need_plain_names():
    import phi
    from phi.backtest.run_history import save_run
    from phi.errors import RunError

    res = phi.run(
        phi.RunConfig(DatasetSpec("DEMO", start="2020-01-01", end="2021-12-31"), ["rsi"]),
        save=False,
    )
    for bad in ("../x.json", "config.json", "results.json", "a b.json"):
        with pytest.raises(RunError, match="not allowed"):
            save_run(res.config, res, extra_files={bad: b"{}"})


def test_holdout_bars_are_never_seen_by_selection_or_tuning():
    df = random_walk(1200, seed=12)
    tuner = PhiAITuner(df, seed=1)
    h0 = tuner.plan.holdout_start
    changed = df.copy()
    rng = np.random.default_rng(0)
    factor = np.exp(np.cumsum(rng.normal(0, 0.02, len(df) - h0)))
    for col in ("open", "high", "low", "close"):
        changed.iloc[h0:, changed.columns.get_loc(col)] *= factor
    other = PhiAITuner(changed, seed=1)
    pd.testing.assert_frame_equal(
        tuner.select_indicators(["rsi", "macd"]), other.select_indicators(["rsi", "macd"])
    )
    a, b = tuner.tune_indicator("rsi", n_trials=12), other.tune_indicator("rsi", n_trials=12)
    pd.testing.assert_frame_equal(a.trials, b.trials)
    assert a.best_params == b.best_params and a.stats["dsr"] == b.stats["dsr"]
    assert a.holdout != b.holdout  # only the final hold-out score sees those bars


def test_the_search_computes_signals_on_bars_before_the_holdout_only():
    """Every signal the selection and the study compute stops before the hold-out (an indicator
    is causal, so its values there are the ones all bars give); only the best set's hold-out
    score computes one on all bars."""
    from phi.indicators.registry import INDICATORS, register_indicator

    rsi = INDICATORS["rsi"]
    seen: list[int] = []

    def spy(frame, **params):  # noqa: ANN001, ANN003, ANN202
        seen.append(len(frame))
        return rsi.compute(frame, **params)

    saved = dict(INDICATORS)
    try:
        register_indicator(dataclasses.replace(rsi, name="rsi_spy", compute=spy))
        df = random_walk(1200, seed=15)
        tuner = PhiAITuner(df, seed=3, candidates=["rsi_spy", "macd"])
        h0 = tuner.plan.holdout_start
        tuner.select_indicators(["rsi_spy"])
        res = tuner.tune_indicator("rsi_spy", n_trials=10, sampler="random")
        assert seen[-1] == len(df) and set(seen[:-1]) == {h0}, (set(seen), h0)
        ref = PhiAITuner(df, seed=3, candidates=["rsi", "macd"]).tune_indicator(
            "rsi", n_trials=10, sampler="random"
        )
        pd.testing.assert_frame_equal(
            res.trials.drop(columns="name"), ref.trials.drop(columns="name")
        )
        assert pd.Series(res.holdout).equals(pd.Series(ref.holdout))
    finally:
        INDICATORS.clear()
        INDICATORS.update(saved)


@pytest.mark.parametrize("name", ["cmf", "phi_mft"])  # a batched one and one scored per set
def test_a_bad_value_in_the_holdout_is_said_before_the_search(name):
    """The search reads bars before the hold-out only, but the input columns are checked on all
    bars first: a NaN volume in the hold-out is one DataError line, before any trial."""
    from phi.errors import DataError

    df = random_walk(1200, seed=16)
    tuner = PhiAITuner(df, seed=0, candidates=[name])
    df.iloc[tuner.plan.holdout_start + 5, df.columns.get_loc("volume")] = np.nan
    tuner = PhiAITuner(df, seed=0, candidates=[name])
    with pytest.raises(DataError, match="volume"):
        tuner.tune_indicator(name, n_trials=4, sampler="random")
    assert tuner.log == []


def test_no_global_random_state_is_touched():
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    PhiAITuner(random_walk(1200, seed=13), seed=2).tune_indicator("macd", n_trials=8)
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_candidates_set_the_warmup_and_bound_what_is_tuned():
    df = random_walk(400, seed=14)
    with pytest.raises(ConfigError, match="too few"):
        PhiAITuner(df)  # dual_sma's longest warm-up (258 bars) leaves too few bars for 5 folds
    tuner = PhiAITuner(df, candidates=["rsi"])
    assert tuner.plan.first == 51  # rsi's longest warm-up (period 50) + 1
    assert len(tuner.tune_indicator("rsi", n_trials=4).trials) == 4
    with pytest.raises(ConfigError, match="not among this tuner's candidates"):
        tuner.tune_indicator("macd", n_trials=4)


def test_full_auto_checks_its_arguments_before_any_work():
    df = random_walk(400, seed=15)  # too few bars for the registry: the argument errors come first
    with pytest.raises(ConfigError, match="sampler"):
        phiai_full_auto(df, sampler="cmaes")
    with pytest.raises(ConfigError, match="max_indicators"):
        phiai_full_auto(df, max_indicators=0)


def test_explicit_grid_points_are_validated_and_evaluated_once_each():
    tuner = PhiAITuner(random_walk(1200, seed=16), candidates=["dual_sma"])
    pts = [{"fast": f, "slow": s} for f in (5, 10) for s in (20, 40)]
    res = tuner.tune_indicator("dual_sma", sampler="grid", grid=pts)
    assert sorted(zip(res.trials["fast"], res.trials["slow"], strict=True)) == [
        (5, 20),
        (5, 40),
        (10, 20),
        (10, 40),
    ]
    with pytest.raises(ConfigError, match="fast must be smaller than slow"):
        tuner.tune_indicator("dual_sma", sampler="grid", grid=[{"fast": 30, "slow": 20}])
    with pytest.raises(ConfigError, match="sampler='grid'"):
        tuner.tune_indicator("dual_sma", grid=pts)


def test_bad_arguments_and_bars_are_one_line_errors():
    """Each hostile input found by the audit: a ConfigError/EngineError line, no traceback."""
    from phi.errors import EngineError

    df = random_walk(1200, seed=17)
    for bad, match in (
        ({"max_drawdown": math.nan}, r"max_drawdown.*\[-1, 0\].*nan"),
        ({"max_drawdown": 0.3}, r"max_drawdown.*\[-1, 0\]"),
        ({"max_drawdown": -1.5}, r"max_drawdown.*\[-1, 0\]"),
        ({"min_trades": "ten"}, r"min_trades.*>= 0.*'ten'"),
        ({"min_trades": -1}, r"min_trades.*>= 0"),
        ({"min_trades": True}, r"min_trades"),
    ):
        with pytest.raises(ConfigError, match=match):
            PhiAITuner(df, candidates=["rsi"], constraints=bad)
    # the bounds themselves are fine
    PhiAITuner(df, candidates=["rsi"], constraints={"max_drawdown": -1.0, "min_trades": 0})
    tuner = PhiAITuner(df, candidates=["rsi"])
    with pytest.raises(ConfigError, match="grid is empty"):
        tuner.tune_indicator("rsi", sampler="grid", grid=[])
    with pytest.raises(ConfigError, match="candidates is empty"):
        tuner.select_indicators(candidates=[])
    for kwargs, match in (({"top_n": 0}, "top_n"), ({"probe_trials": 0}, "probe_trials")):
        with pytest.raises(ConfigError, match=match):
            tuner.select_indicators(candidates=["rsi"], **kwargs)
    assert tuner.n_trials_total == 0  # nothing was evaluated by a refused call
    # storage that cannot be reached or loaded: one line, the password hidden
    for url, reason in (
        ("postgresql://u:s3cret@127.0.0.1:1/x", "connect"),
        ("nosuchdb://x", "nosuchdb"),
    ):
        with pytest.raises(ConfigError, match=f"study storage .* cannot be used: .*{reason}") as err:
            PhiAITuner(df, candidates=["rsi"], storage=url).tune_indicator("rsi", n_trials=2)
        assert "s3cret" not in str(err.value) and "\n" not in str(err.value)
    # bars the engine refuses are refused even where only the warm-up reads them
    dup = pd.concat([df.iloc[:10], df.iloc[9:]])
    with pytest.raises(EngineError, match="duplicate timestamps"):
        PhiAITuner(dup, candidates=["rsi"])
    broken = df.copy()
    broken.iloc[3, broken.columns.get_loc("low")] = -1.0
    with pytest.raises(EngineError, match="non-positive price"):
        PhiAITuner(broken, candidates=["rsi"])


def test_wrong_argument_types_are_one_line_errors():
    """Arguments of the wrong type or size said in one line before any bar is scored (they
    used to raise TypeError/AttributeError, or run a billion trials)."""
    df = random_walk(600, seed=19)
    for kwargs, match in (
        ({"engine": "fast"}, "engine must be an EngineConfig, got str"),
        ({"storage": 123}, "storage must be None .* got int"),
        ({"n_jobs": 0}, r"n_jobs must be an integer >= 1, got 0"),
        ({"n_jobs": -1}, r"n_jobs must be an integer >= 1, got -1"),
        ({"n_jobs": True}, r"n_jobs must be an integer >= 1, got True"),
        ({"progress": "x"}, "progress must be a callable"),
        ({"study_name": 5}, "study_name must be a string"),
        ({"constraints": [("max_drawdown", -0.2)]}, "constraints must be a mapping"),
        ({"holdout": "20%"}, r"holdout must be a share in \[0, 0.9\), got '20%'"),
    ):
        with pytest.raises(ConfigError, match=match):
            PhiAITuner(df, candidates=["rsi"], **kwargs)
    tuner = PhiAITuner(df, candidates=["rsi"])
    for n in (0, 2.5, True, 100_001, 10**9):
        with pytest.raises(ConfigError, match="n_trials must be an integer from 1 to 100,000"):
            tuner.tune_indicator("rsi", n_trials=n)
    for grid, match in (
        ("x", "grid must be a list of parameter sets"),
        ({"period": 5}, "grid must be a list of parameter sets .* got dict"),
        ([{"period": 5}] * 100_001, "grid has 100,001 parameter sets; at most 100,000"),
    ):
        with pytest.raises(ConfigError, match=match):
            tuner.tune_indicator("rsi", sampler="grid", grid=grid)
    for kwargs, match in (
        ({"candidates": 123}, "candidates must be a list of indicator names, got int"),
        ({"candidates": {"rsi": 1}}, "candidates must be a list .* got dict"),
        ({"probe_trials": 10**9}, "probe_trials must be at most 100,000"),
    ):
        with pytest.raises(ConfigError, match=match):
            tuner.select_indicators(**kwargs)
    assert tuner.n_trials_total == 0
    seen = []
    with pytest.raises(ConfigError, match="n_trials must be an integer from 1 to 100,000"):
        phiai_full_auto(df, n_trials=10**9, candidates=["rsi"], progress=lambda *a: seen.append(a))
    assert seen == []  # refused before the selection step


def test_small_sample_warning_counts_the_blends_development_trades():
    """The warning compares the tuned parameters with the trades the blend made on the
    development bars (stats['dev_trades']), 10 per parameter at least."""
    loose = {"max_drawdown": -1.0, "min_trades": 0}
    df = random_walk(1200, seed=18)
    for name in ("macd", "dual_sma", "momentum"):
        r = phiai_full_auto(
            df, candidates=[name], select=False, n_trials=8, seed=0, constraints=loose
        )
        n_params, trades = r.stats["n_params"], r.stats["dev_trades"]
        warned = f"Warning: {n_params} tuned parameters for about {trades} development trades"
        assert (warned in r.explanation) == (trades / n_params < 10), (name, n_params, trades)


def test_holdout_trade_warning_counts_in_words():
    from phi.phiai.explain import explain

    df = random_walk(1200, seed=19)
    r = phiai_full_auto(df, candidates=["rsi"], select=False, n_trials=4, seed=0)
    tuner = PhiAITuner(df, candidates=["rsi"])
    for trades, want in ((1.0, "only 1 trade on the hold-out"), (3.0, "only 3 trades on the hold-out")):
        r.holdout["n_trades"] = trades
        assert f"Warning: {want}; its figures are noisy." in explain(r, tuner)
    r.holdout["n_trades"] = 5.0
    assert "on the hold-out; its figures are noisy" not in explain(r, tuner)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # a list as the metric died in a TypeError (unhashable type: 'list')
        (lambda df: PhiAITuner(df, metric=["sharpe"]), r"^unknown metric \['sharpe'\]\. Valid choices: "),
        # a seed RunConfig cannot hold was tuned with, then refused when the run config was built
        (lambda df: PhiAITuner(df, seed=2**63), r"^seed must be an integer from 0 to 2\*\*63 - 1, got "),
        # a misspelt tuner option died in a TypeError from PhiAITuner.__init__
        (
            lambda df: phiai_full_auto(df, n_trials=2, candidates=["rsi"], fold=3),
            r"^phiai_full_auto got an unknown option 'fold'\. Did you mean 'folds'\? Tuner options: folds, ",
        ),
        # select='no' is a true string: it ran the selection step
        (
            lambda df: phiai_full_auto(df, n_trials=2, candidates=["rsi"], select="no"),
            r"^select must be True or False, got 'no'$",
        ),
    ],
)
def test_bad_tuner_arguments_are_one_line(call, message):
    with pytest.raises(ConfigError, match=message):
        call(random_walk(600, seed=3))
