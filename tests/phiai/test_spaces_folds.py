"""Search spaces read from the registry's ParamSpecs; walk-forward fold plans."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from phi.errors import ConfigError
from phi.indicators.registry import get_indicator, list_indicators
from phi.phiai.folds import make_folds
from phi.phiai.spaces import search_space


@pytest.mark.parametrize("name", ["rsi", "macd", "bollinger", "dual_sma"])
def test_suggested_params_follow_the_paramspecs(name):
    spec = get_indicator(name)
    space = search_space(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(40):
        trial = study.ask()
        params = space.suggest(trial)
        study.tell(trial, 0.0)
        assert spec.resolve(params) == params  # in range, right type, constraint (fast < slow) met
        for p in spec.params:
            assert isinstance(params[p.name], p.kind)
            assert ((params[p.name] - p.low) / p.step) == pytest.approx(
                round((params[p.name] - p.low) / p.step)
            )


def test_sample_and_grid_are_valid_for_every_indicator():
    rng = np.random.default_rng(0)
    for name in list_indicators():
        space = search_space(name)
        spec = space.spec
        for _ in range(20):
            p = space.sample(rng)
            assert spec.resolve(p) == p
        grid = space.grid(50)
        assert 1 <= len(grid) <= 50
        for p in grid:
            assert spec.resolve(p) == p


def test_grid_includes_both_ends():
    grid = search_space("bollinger").grid(30)
    assert {g["period"] for g in grid} >= {5, 60}
    assert {g["nbdev"] for g in grid} >= {1.0, 3.5}


def test_fold_plan_rolling_and_anchored():
    plan = make_folds(1000, first=100, folds=4, scheme="rolling", holdout=0.2)
    assert plan.holdout == (800, 1000) and plan.dev == (100, 800)
    # 700 dev bars in 5 blocks of 140: fold i trains on block i-1, tests on block i
    assert [f.train for f in plan.folds] == [(100, 240), (240, 380), (380, 520), (520, 660)]
    assert [f.test for f in plan.folds] == [(240, 380), (380, 520), (520, 660), (660, 800)]
    anchored = make_folds(1000, first=100, folds=4, scheme="anchored")
    assert all(f.train_start == 100 for f in anchored.folds)
    assert [f.test for f in anchored.folds] == [f.test for f in plan.folds]
    # nothing tuned ever touches the hold-out
    assert max(f.test_end for f in plan.folds) <= plan.holdout_start


def test_fold_plan_errors():
    with pytest.raises(ConfigError, match="too few"):
        make_folds(200, first=150, folds=5)
    with pytest.raises(ConfigError, match="scheme"):
        make_folds(1000, first=10, scheme="expanding")
    with pytest.raises(ConfigError, match="folds"):
        make_folds(1000, first=10, folds=0)
