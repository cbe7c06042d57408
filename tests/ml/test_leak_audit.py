"""Leak audit on bars the classifiers were not built on (2026-12-01).

Purge and embargo against a hand-worked split; features, observations and predictions at bar t
unchanged when the bars after t are cut off or replaced (1-minute bars with overnight gaps, a
x10 jump); a changed hold-out that reaches neither the CV nor the final model; in-sample scores
recorded beside the out-of-sample ones, checked against scikit-learn on a refitted model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")

from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402

import phi.ml  # noqa: E402
from phi.ml.cv import walk_forward_splits  # noqa: E402
from phi.ml.features import build_features  # noqa: E402
from phi.ml.models import make_model  # noqa: E402
from phi.ml.train import training_set  # noqa: E402
from tests.ml.frames import random_walk  # noqa: E402


def _bars(rets: np.ndarray, idx: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rets))
    open_ = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.002, len(rets)))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, len(rets))))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, len(rets))))
    vol = rng.integers(100, 5000, len(rets)).astype(float)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": vol}, index=idx)


def minute_bars(n: int, seed: int = 0) -> pd.DataFrame:
    """1-minute bars 09:30-15:59 New York on weekdays, an overnight gap return each morning."""
    days = pd.bdate_range("2024-03-04", periods=n // 390 + 1)
    idx = pd.DatetimeIndex(
        [d + pd.Timedelta(minutes=570 + m) for d in days for m in range(390)][:n]
    ).tz_localize("America/New_York")
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 0.0006, n)
    r[np.r_[False, idx[1:].date != idx[:-1].date]] += 0.01
    return _bars(r, idx, seed)


def jump_bars(n: int, seed: int = 0) -> pd.DataFrame:
    """Daily bars with a x10 jump and, 40 bars later, a 95 % crash."""
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 0.01, n)
    r[n // 2], r[n // 2 + 40] = np.log(10.0), np.log(0.05)
    return _bars(r, pd.bdate_range("2005-01-03", periods=n, tz="UTC"), seed)


def other_future(df: pd.DataFrame, t: int) -> pd.DataFrame:
    """The same bars up to t; after t the bars shuffled, rescaled and with other volumes."""
    rng = np.random.default_rng(t)
    out = df.copy()
    fut = df.iloc[t + 1 :].to_numpy()[rng.permutation(len(df) - t - 1)]
    fut[:, :4] *= np.exp(rng.normal(0, 0.3, (len(fut), 1)))
    fut[:, 4] *= rng.uniform(0.1, 10.0, len(fut))
    out.iloc[t + 1 :] = fut
    return out


def test_purge_and_embargo_match_a_hand_worked_split():
    """30 samples, one per bar, horizon 2 (sample t's label reads bars t+1, t+2), 2 folds,
    embargo 1, hold-out 20 %: 24 development samples in 3 blocks of 8, hold-out from bar 24.
    Fold 1 tests 8..15 and trains on t with t + 2 < 8 - 1, i.e. 0..4; fold 2 tests 16..21
    (22 and 23 would read hold-out bars 24, 25) and trains on t + 2 < 15, i.e. 0..12; the
    final model trains on t + 2 < 23, i.e. 0..20."""
    bar = np.arange(30)
    sp = walk_forward_splits(bar, bar + 2, folds=2, embargo=1, holdout=0.2, min_train=3)
    (tr1, te1), (tr2, te2) = sp.folds
    assert list(tr1) == list(range(5)) and list(te1) == list(range(8, 16))
    assert list(tr2) == list(range(13)) and list(te2) == list(range(16, 22))
    assert list(sp.final_train) == list(range(21)) and sp.holdout_start == 24
    assert list(sp.holdout) == list(range(24, 30))


def test_purge_uses_each_labels_own_end():
    """Triple-barrier labels end where a barrier is touched: sample 5 (touched at bar 6) stays
    in fold 1's training set, sample 2 (time barrier at bar 12) is purged; with embargo 2 a
    label must end before bar 8 - 2 = 6, so sample 5 (end 6) goes and sample 4 (end 5) stays."""
    bar = np.arange(40)
    end = bar + 10
    end[[0, 1, 3, 4, 5]] = [1, 2, 4, 5, 6]
    sp = walk_forward_splits(bar, end, folds=3, embargo=0, holdout=0.2, min_train=2)
    assert list(sp.folds[0][0]) == [0, 1, 3, 4, 5] and sp.folds[0][1][0] == 8
    sp2 = walk_forward_splits(bar, end, folds=3, embargo=2, holdout=0.2, min_train=2)
    assert list(sp2.folds[0][0]) == [0, 1, 3, 4]


@pytest.mark.parametrize("make", [minute_bars, jump_bars], ids=["1-minute", "x10-jump"])
def test_features_and_observations_ignore_the_future(make):
    from phi.rl.observe import observation_matrix

    df = make(330)
    full = build_features(df).to_numpy()
    obs = observation_matrix(df)
    for t in (165, 206, 300):
        np.testing.assert_array_equal(build_features(df.iloc[: t + 1]).to_numpy(), full[: t + 1])
        np.testing.assert_array_equal(build_features(other_future(df, t)).to_numpy()[: t + 1], full[: t + 1])
        np.testing.assert_array_equal(observation_matrix(other_future(df, t))[: t + 1], obs[: t + 1])
    assert np.isfinite(full[-1]).all() and np.isfinite(obs[-1]).all()


@pytest.fixture(scope="module")
def walk_model():
    df = random_walk(720, seed=41)
    return df, phi.ml.train_classifier(df, model="lr", folds=2, seed=0)


def test_hold_out_bars_reach_neither_cv_nor_the_final_model(walk_model):
    """Replace every bar from the hold-out's first on: the CV rows, the final model's in-sample
    scores and its forecasts before the hold-out are unchanged."""
    df, m = walk_model
    t = int(df.index.searchsorted(pd.Timestamp(m.holdout_scores["start"]))) - 1
    other = phi.ml.train_classifier(other_future(df, t), model="lr", folds=2, seed=0)
    pd.testing.assert_frame_equal(other.cv_scores, m.cv_scores)
    assert other.holdout_scores["train_accuracy"] == m.holdout_scores["train_accuracy"]
    np.testing.assert_array_equal(other.predict_proba(df).to_numpy(), m.predict_proba(df).to_numpy())
    assert other.holdout_scores["accuracy"] != m.holdout_scores["accuracy"]  # it did change


def test_in_sample_scores_sit_beside_the_out_of_sample_ones(walk_model, monkeypatch):
    """Fold 1's and the final model's in-sample scores equal scikit-learn's on a model refitted
    on the same rows; the CLI table shows both."""
    from rich.console import Console

    import phi.cli.ml as cli_ml

    df, m = walk_model
    x, y, bar, end = training_set(df, m.label)
    sp = walk_forward_splits(bar, end, 2, m.embargo, 0.2)
    for rows, got in ((sp.folds[0][0], m.cv_scores.iloc[0]), (sp.final_train, m.holdout_scores)):
        ref = make_model("lr", 0).fit(x.to_numpy()[rows], y[rows])
        p = ref.predict_proba(x.to_numpy()[rows])[:, 1]
        assert got["train_accuracy"] == pytest.approx(accuracy_score(y[rows], p > 0.5), abs=1e-12)
        assert got["train_auc"] == pytest.approx(roc_auc_score(y[rows], p), abs=1e-9)
    con = Console(record=True, width=240)
    monkeypatch.setattr(cli_ml, "console", con)
    cli_ml.print_scores(m)
    text = con.export_text()
    assert "IS acc" in text and "OOS acc" in text and "in-sample (the final model" in text
    assert f"{m.cv_scores['train_accuracy'].iloc[0]:.3f}" in text
