"""Labels worked by hand, purged/embargoed walk-forward splits, scores against scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from phi.errors import ConfigError
from phi.ml.cv import walk_forward_splits
from phi.ml.labels import LabelSpec, make_labels
from phi.ml.scores import calibration_bins, score


def _frame(close, high=None, low=None):
    close = np.asarray(close, dtype=float)
    idx = pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC")
    return pd.DataFrame({
        "open": close, "high": close if high is None else high, "low": close if low is None else low,
        "close": close, "volume": 1.0,
    }, index=idx)  # fmt: skip


def test_direction_label_by_hand():
    y, end = make_labels(_frame([10, 11, 10.5, 10.5, 12]), LabelSpec("direction", 1))
    np.testing.assert_array_equal(y[:4], [1, 0, 0, 1])  # a flat close is "not up"
    assert np.isnan(y[4]) and list(end) == [1, 2, 3, 4, 5]
    y2, end2 = make_labels(_frame([10, 11, 10.5, 10.5, 12]), LabelSpec("direction", 2))
    np.testing.assert_array_equal(y2[:3], [1, 0, 1])
    assert np.isnan(y2[3:]).all() and end2[0] == 2


def test_triple_barrier_by_hand():
    close = [100, 100, 100, 100, 100, 100]
    high = [100, 101, 103, 100, 100, 100]  # bar 2 reaches +3 %
    low = [100, 99, 99, 97, 100, 100]  # bar 3 reaches -3 %
    y, end = make_labels(_frame(close, high, low), LabelSpec("triple_barrier", 3, profit=0.02, stop=0.02))
    # bar 0: bar 2 touches the profit barrier first -> 1, ends at 2
    assert (y[0], end[0]) == (1.0, 2)
    # bar 1 (close 100): bar 2 touches +2 % -> 1 at bar 2
    assert (y[1], end[1]) == (1.0, 2)
    # bar 2: bar 3 touches the stop -> 0
    assert (y[2], end[2]) == (0.0, 3)
    # the last 3 bars have no label
    assert np.isnan(y[3:]).all()
    both = make_labels(_frame([100, 100, 100], [100, 103, 100], [100, 97, 100]),
                       LabelSpec("triple_barrier", 1, profit=0.02, stop=0.02))[0]
    assert both[0] == 0.0  # profit and stop in one bar: the stop, conservatively
    timeout = make_labels(_frame([100, 101, 100.5]), LabelSpec("triple_barrier", 2, 0.05, 0.05))
    assert (timeout[0][0], timeout[1][0]) == (1.0, 2)  # no touch: the close's direction at t + 2


@pytest.mark.parametrize("bad", [{"kind": "dir"}, {"horizon": 0}, {"horizon": 1.5}, {"profit": 0}, {"stop": 1.2}])
def test_label_spec_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        LabelSpec(**bad)


@pytest.mark.parametrize("horizon,embargo,folds", [(1, 0, 5), (5, 10, 4), (20, 3, 3)])
def test_splits_purge_and_embargo(horizon, embargo, folds):
    rng = np.random.default_rng(horizon)
    bar = np.sort(rng.choice(3000, 2000, replace=False))
    end = bar + horizon
    sp = walk_forward_splits(bar, end, folds, embargo, 0.2)
    assert len(sp.folds) == folds
    for train, test in sp.folds:
        first_test = bar[test[0]]
        assert (end[train] < first_test - embargo).all()  # no label window reaches the test bars
        assert bar[train].max() < first_test
        assert len(np.intersect1d(train, test)) == 0
    assert (end[sp.final_train] < sp.holdout_start - embargo).all()
    assert bar[sp.holdout[0]] == sp.holdout_start and sp.holdout[-1] == len(bar) - 1
    tested = np.concatenate([t for _, t in sp.folds])
    assert (end[tested] < sp.holdout_start).all()  # no CV label reads a hold-out bar
    assert len(np.intersect1d(tested, sp.holdout)) == 0  # the hold-out is never a CV test bar


def test_splits_refuse_too_little_data():
    bar = np.arange(200)
    with pytest.raises(ConfigError, match="too few"):
        walk_forward_splits(bar, bar + 1, 5, 0, 0.2)
    with pytest.raises(ConfigError, match="holdout"):
        walk_forward_splits(bar, bar + 1, 2, 0, 0.9)


def test_scores_match_scikit_learn():
    rng = np.random.default_rng(3)
    y = (rng.random(500) > 0.4).astype(float)
    p = np.round(np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1), 2)  # ties in p
    s = score(y, p)
    assert s["accuracy"] == pytest.approx(accuracy_score(y, p > 0.5))
    assert s["log_loss"] == pytest.approx(log_loss(y, p, labels=[0, 1]))
    assert s["auc"] == pytest.approx(roc_auc_score(y, p))
    assert np.isnan(score(np.ones(5), np.full(5, 0.7))["auc"])
    cal = calibration_bins(y, p)
    assert sum(c["count"] for c in cal) == 500
    assert all(0 <= c["observed"] <= 1 for c in cal)
