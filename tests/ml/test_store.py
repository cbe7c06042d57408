"""The model store: round trip, card, listing, fingerprint refusal, corrupt files, failed saves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import phi.ml
from phi.errors import PhiError
from phi.ml.model import DataMismatchError, ModelError
from phi.ml.store import list_models, load_metadata, models_root
from tests.ml.frames import planted


@pytest.fixture(scope="module")
def bars():
    return planted(1500, seed=2)


@pytest.fixture
def saved(bars):
    return phi.ml.train_classifier(bars, model="lr", folds=2, save_as="ar_lr")


def test_round_trip_gives_the_same_predictions(saved, bars, _isolated_phi_home):
    folder = _isolated_phi_home / "models" / "ar_lr"
    assert sorted(p.name for p in folder.iterdir()) == ["card.md", "metadata.json", "model.joblib"]
    back = phi.ml.load_model("ar_lr")
    pd.testing.assert_series_equal(back.predict_proba(bars), saved.predict_proba(bars))
    pd.testing.assert_frame_equal(back.cv_scores, saved.cv_scores, check_dtype=False)
    meta = load_metadata("ar_lr")
    assert meta["data"]["fingerprint"] == saved.fingerprint and meta["features"] == saved.features
    assert meta["versions"]["scikit-learn"] and meta["label"] == {"kind": "direction", "horizon": 1,
                                                                  "profit": 0.02, "stop": 0.02}
    card = (folder / "card.md").read_text()
    assert "Walk-forward CV" in card and "Hold-out" in card and saved.fingerprint[:16] in card
    assert [m["name"] for m in list_models()] == ["ar_lr"]
    back.check_data(bars)  # the same bars pass


def test_changed_data_is_refused(saved, bars):
    revised = bars.copy()
    revised.iloc[700, 3] *= 1.01  # one revised close inside the training range
    with pytest.raises(DataMismatchError, match="fingerprint .* the data changed"):
        phi.ml.load_model("ar_lr").check_data(revised)
    saved.check_data(pd.concat([bars, planted(1600, seed=3).iloc[1500:]]))  # later bars are fine


def test_corrupt_or_missing_files_are_clear_errors(saved, _isolated_phi_home):
    folder = _isolated_phi_home / "models" / "ar_lr"
    blob = folder / "model.joblib"
    data = blob.read_bytes()
    blob.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="corrupt .* retrain"):
        phi.ml.load_model("ar_lr")
    blob.write_bytes(data)
    (folder / "metadata.json").write_text("{not json")
    with pytest.raises(ModelError, match="missing or corrupt"):
        phi.ml.load_model("ar_lr")
    assert "error" in list_models()[0]
    with pytest.raises(ModelError, match="no model called 'nope'"):
        phi.ml.load_model("nope")


def test_saving_replaces_atomically_and_a_failed_save_keeps_the_model(bars, monkeypatch):
    import phi.ml.store as store

    a = phi.ml.train_classifier(bars, model="lr", folds=2, save_as="m")
    b = phi.ml.train_classifier(bars, model="lr", folds=2, seed=3, save_as="m")
    assert phi.ml.load_model("m").seed == b.seed != a.seed
    assert [p.name for p in models_root().iterdir()] == ["m"]  # no temp folder left behind
    real = store.os.replace

    def disk_full(src, dst):
        if str(src).endswith(".tmp") and str(dst).endswith("/m"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(store.os, "replace", disk_full)
    with pytest.raises(PhiError, match="cannot write model 'm'.*No space left") as info:
        phi.ml.train_classifier(bars, model="lr", folds=2, seed=5, save_as="m")
    assert info.value.model.seed == 5 and info.value.model.holdout_scores["n"] > 0  # type: ignore[attr-defined]
    monkeypatch.setattr(store.os, "replace", real)
    assert [p.name for p in models_root().iterdir()] == ["m"]
    assert json.loads((models_root() / "m" / "metadata.json").read_text())["seed"] == 3
    assert np.isfinite(phi.ml.load_model("m").holdout_scores["accuracy"])


def test_a_save_cut_off_between_its_two_renames_loses_no_model(saved, _isolated_phi_home):
    """A save moves the old model aside (hidden ``.{name}.*.old``), then moves the new one in.
    A process killed between the two left no model under its name: the next load, list or save
    puts the old one back."""
    name = "ar_lr"
    root = models_root()
    before = load_metadata(name)
    aside = root / f".{name}.k3x9_q2a.old"
    (root / name).rename(aside)  # as write_model_dir does, just before the crash
    (root / f".{name}.zz.tmp").mkdir()  # the new model's half-written folder
    assert [m["name"] for m in list_models()] == [name]
    assert load_metadata(name) == before and not aside.exists()
    (root / name).rename(aside)
    assert load_metadata(name) == before  # a load on its own too
    # a folder already under the name is never replaced by a hidden copy
    (root / name).rename(root / ".other.abc.old")
    (root / "other").mkdir()
    assert [m["name"] for m in list_models()] == ["other"]
    assert (root / ".other.abc.old" / "metadata.json").is_file()
    assert not any((root / "other").iterdir())
