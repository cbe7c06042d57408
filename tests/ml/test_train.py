"""No skill on a random walk, skill on a planted pattern, reproducibility, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import phi.ml
from phi.errors import ConfigError, DataError
from phi.ml.models import MODELS
from tests.ml.frames import planted, random_walk


@pytest.fixture(scope="module")
def walk():
    return random_walk(6000, seed=11)


@pytest.fixture(scope="module")
def pattern():
    return planted(3000, seed=5)


@pytest.mark.parametrize("kind", list(MODELS))
def test_no_skill_on_a_random_walk(walk, kind):
    """A leaking split (a training label reading test bars) would show skill here."""
    m = phi.ml.train_classifier(walk, model=kind, holdout=0.25, seed=0)
    cv = m.cv_scores
    assert list(cv.columns[:3]) == ["fold", "train_start", "train_end"]
    assert len(cv) == 5 and cv["n_test"].sum() > 3500
    pooled = float(np.average(cv["accuracy"], weights=cv["n_test"]))
    assert abs(pooled - 0.5) < 0.03, cv["accuracy"].tolist()
    assert abs(m.holdout_scores["accuracy"] - 0.5) < 0.03
    assert abs(m.holdout_scores["auc"] - 0.5) < 0.05
    assert m.holdout_scores["n"] > 1400
    assert (pd.to_datetime(cv["train_end"]) < pd.to_datetime(cv["test_start"])).all()


@pytest.mark.parametrize("kind", list(MODELS))
def test_finds_a_planted_pattern(pattern, kind):
    m = phi.ml.train_classifier(pattern, model=kind, folds=3, seed=0)
    assert m.holdout_scores["accuracy"] > 0.55, m.holdout_scores
    assert m.cv_scores["accuracy"].mean() > 0.55


def test_triple_barrier_label_trains(pattern):
    m = phi.ml.train_classifier(pattern, model="lr", label="triple_barrier", horizon=5,
                                profit=0.015, stop=0.015, folds=3)
    assert m.label.kind == "triple_barrier" and m.embargo == 30  # max(5, 1 % of 3000)
    assert 0.0 <= m.holdout_scores["accuracy"] <= 1.0 and m.holdout_scores["n"] > 400


def test_same_seed_same_model_and_predictions(pattern):
    bars = pattern.iloc[:1500]
    for kind in ("rf", "lgbm"):
        a = phi.ml.train_classifier(bars, model=kind, folds=2, seed=7)
        b = phi.ml.train_classifier(bars, model=kind, folds=2, seed=7)
        pd.testing.assert_frame_equal(a.cv_scores, b.cv_scores)
        pd.testing.assert_series_equal(a.predict_proba(bars), b.predict_proba(bars))
        c = phi.ml.train_classifier(bars, model=kind, folds=2, seed=8)
        assert not np.allclose(a.predict_proba(bars).dropna(), c.predict_proba(bars).dropna())


def test_predict_proba_is_causal(pattern):
    m = phi.ml.train_classifier(pattern.iloc[:1500], model="lr", folds=2)
    full = m.predict_proba(pattern)
    k = 2000
    changed = pattern.copy()
    changed.iloc[k:, :4] *= 1.5
    changed.iloc[k:, 4] *= 3
    np.testing.assert_array_equal(m.predict_proba(changed).iloc[:k], full.iloc[:k])
    assert full.iloc[:100].isna().all() and full.iloc[200:].notna().all()
    assert ((full.dropna() >= 0) & (full.dropna() <= 1)).all()


@pytest.mark.parametrize(
    "kwargs,err,match",
    [
        ({"model": "xgb"}, ConfigError, "Did you mean"),
        ({"label": "up"}, ConfigError, "unknown label"),
        ({"folds": 0}, ConfigError, "folds"),
        ({"holdout": 0.9}, ConfigError, "holdout"),
        ({"seed": -1}, ConfigError, "seed"),
        ({"save_as": "../x"}, ConfigError, "model name"),
        ({"feature_set": "price"}, ConfigError, "feature set"),
    ],
)
def test_bad_arguments_are_one_clear_error(pattern, kwargs, err, match):
    with pytest.raises(err, match=match):
        phi.ml.train_classifier(pattern.iloc[:1200], **kwargs)


def test_too_few_bars_and_bad_frames(pattern):
    with pytest.raises(ConfigError, match="too few"):
        phi.ml.train_classifier(pattern.iloc[:400])
    with pytest.raises(DataError):
        phi.ml.train_classifier(pattern.reset_index(drop=True))
    with pytest.raises(DataError, match="^ohlcv index is not sorted by time"):
        phi.ml.train_classifier(pattern.iloc[::-1])
