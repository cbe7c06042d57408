"""Hostile inputs to the classifier store and predictions: a model file that unpickles to
something else, metadata written by another program, bars out of order, a malformed entry in
the model list — each a one-line PhiError, never an AttributeError or KeyError."""

from __future__ import annotations

import hashlib
import json
import pickle

import pytest

import phi.ml
from phi.errors import DataError
from phi.ml.model import ModelError
from phi.ml.store import list_models, load_metadata
from tests.ml.frames import planted


@pytest.fixture(scope="module")
def bars():
    return planted(900, seed=5)


@pytest.fixture
def saved(bars, _isolated_phi_home):
    phi.ml.train_classifier(bars, model="lr", folds=2, save_as="good")
    return _isolated_phi_home / "models" / "good"


def _rewrite(folder, meta=None, blob=None):
    m = json.loads((folder / "metadata.json").read_text())
    if blob is not None:
        (folder / "model.joblib").write_bytes(blob)
        m["files"]["model.joblib"] = hashlib.sha256(blob).hexdigest()  # a consistent hash: not "corrupt"
    if meta is not None:
        m = meta(m)
    (folder / "metadata.json").write_text(json.dumps(m))


def test_a_model_file_that_is_not_a_classifier_is_refused_on_load(saved):
    _rewrite(saved, blob=pickle.dumps({"not": "an estimator"}))
    with pytest.raises(ModelError) as err:
        phi.ml.load_model("good")
    assert str(err.value) == (
        f"model 'good': {saved / 'model.joblib'} holds a dict, not a fitted classifier of its "
        f"{len(json.loads((saved / 'metadata.json').read_text())['features'])} features; retrain it"
    )


def test_a_model_file_that_does_not_unpickle_is_refused(saved):
    _rewrite(saved, blob=b"\x80\x04garbage")
    with pytest.raises(ModelError, match=r"^model 'good' cannot be loaded \(.*\); retrain it$"):
        phi.ml.load_model("good")


def test_metadata_from_another_program_is_refused_and_listed_as_broken(saved):
    _rewrite(saved, meta=lambda m: {k: v for k, v in m.items() if k not in ("name", "cv_scores")})
    with pytest.raises(ModelError) as err:
        load_metadata("good")
    assert str(err.value) == f"model 'good': {saved / 'metadata.json'} lacks or mistypes cv_scores; retrain it"
    (row,) = list_models()
    assert row["name"] == "good" and row["error"] == str(err.value)
    with pytest.raises(ModelError, match=r"^no model called 'other' .*\(stored: good\)$"):
        load_metadata("other")  # the listing of stored names survives a broken entry


def test_metadata_of_an_unknown_kind_is_refused(saved):
    _rewrite(saved, meta=lambda m: {**m, "kind": "oracle"})
    with pytest.raises(ModelError, match=r"names kind 'oracle', neither a classifier nor an RL agent; retrain it$"):
        load_metadata("good")


def test_features_this_phi_does_not_compute_are_a_model_error(saved, bars):
    _rewrite(saved, meta=lambda m: {**m, "features": ["from_the_future", *m["features"][1:]]})
    model = phi.ml.load_model("good")
    with pytest.raises(ModelError) as err:
        model.predict_proba(bars)
    assert str(err.value) == "model 'good' reads feature(s) 'from_the_future' that this phi does not compute; retrain it"


def test_predictions_refuse_bars_out_of_order(saved, bars):
    model = phi.ml.load_model("good")
    with pytest.raises(DataError, match=r"^ohlcv index is not sorted by time; sort it first"):
        model.predict_proba(bars.iloc[::-1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"refit_every": 0}, "refit_every must be an integer >= 1, got 0"),
        ({"min_train": 5}, "min_train must be an integer >= 20, got 5"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"model": "xgb"}, "unknown model 'xgb'. Did you mean 'gb'? Valid choices: ensemble, gb, lgbm, lr, rf"),
    ],
)
def test_walk_forward_signal_arguments_are_checked(bars, kwargs, message):
    from phi.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        phi.ml.walk_forward_signal(bars, **kwargs)
    assert str(err.value) == message


def test_one_extra_indicator_given_as_a_string_is_one_name(bars):
    m = phi.ml.train_classifier(bars, model="lr", folds=2, indicators="rsi")
    assert m.extra_indicators == ("rsi",) and m.features.count("ind:rsi") == 1


def test_a_feature_without_any_finite_value_is_named(bars, monkeypatch):
    import numpy as np

    import phi.ml.train as train

    build = train.build_features

    def one_empty(*args, **kwargs):
        x = build(*args, **kwargs)
        x.iloc[:, 2] = np.nan
        return x

    monkeypatch.setattr(train, "build_features", one_empty)
    name = build(bars).columns[2]
    with pytest.raises(DataError) as err:
        phi.ml.train_classifier(bars, model="lr", folds=2)
    assert str(err.value) == (
        f"feature(s) {name!r} have no finite value on any of the {len(bars)} bars (constant or missing "
        "volume?); use other bars or another feature set"
    )


def test_the_fingerprint_check_takes_naive_stamps_as_utc(saved, bars):
    from phi.ml.model import DataMismatchError

    model = phi.ml.load_model("good")
    model.check_data(bars)
    model.check_data(bars.tz_localize(None))  # the same bars, stamps without a time zone: no TypeError
    changed = bars.tz_localize(None).copy()
    changed.iloc[10, 3] *= 1.01
    with pytest.raises(DataMismatchError, match=r"the data changed"):
        model.check_data(changed)
    model.data["first"] = "not a date"
    with pytest.raises(ModelError, match=r"^model 'good' records no valid training range \(first/last\); retrain it$"):
        model.check_data(bars)
