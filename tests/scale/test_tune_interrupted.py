"""A stored study cut off mid-batch (Ctrl-C, a failed batch, its storage failing) keeps no trial
"running": the trials asked and not yet told are told as failed, so ``--resume`` and Optuna's
dashboards see them as failed; when the storage itself is gone, the original error still wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
from sqlalchemy.exc import OperationalError

from phi.backtest.run_index import sqlite_url
from phi.errors import ConfigError
from phi.phiai.tuner import PhiAITuner
from tests.phiai.frames import random_walk

BATCH = 4
State = optuna.trial.TrialState


def _tuner(db: Path, cut: BaseException | None) -> PhiAITuner:
    """A tuner on a SQLite-stored study whose second batch of trials raises ``cut`` while being
    scored (its four trials asked from the study, none told yet)."""
    tuner = PhiAITuner(random_walk(600, seed=3), candidates=["rsi"], folds=2, storage=str(db), study_name="cut", batch_size=BATCH)
    if cut is not None:
        record, calls = tuner._record, []

        def second_batch_fails(*args: Any) -> Any:
            calls.append(1)
            if len(calls) == 2:
                raise cut
            return record(*args)

        tuner._record = second_batch_fails  # type: ignore[method-assign]
    return tuner


def _states(db: Path) -> list[State]:
    study = optuna.load_study(study_name="cut-rsi", storage=sqlite_url(db))
    return [t.state for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)]


@pytest.mark.parametrize(
    ("cut", "raised"),
    [
        (KeyboardInterrupt(), KeyboardInterrupt),
        (RuntimeError("a failed batch"), RuntimeError),
        (OperationalError("UPDATE trials", {}, Exception("disk I/O error")), ConfigError),  # the storage, then fine again
    ],
    ids=["ctrl-c", "failed-batch", "storage-error"],
)
def test_a_study_cut_off_mid_batch_tells_its_untold_trials_as_failed(tmp_path: Path, cut: BaseException, raised: type) -> None:
    db = tmp_path / "study.db"
    with pytest.raises(raised) as err:
        _tuner(db, cut).tune_indicator("rsi", n_trials=3 * BATCH)
    if raised is ConfigError:
        assert str(err.value).endswith("disk I/O error; the trials finished so far are kept (--resume continues the study)")
    assert _states(db) == [State.COMPLETE] * BATCH + [State.FAIL] * BATCH  # none left RUNNING
    _tuner(db, None).tune_indicator("rsi", n_trials=BATCH)  # the study resumes
    assert _states(db) == [State.COMPLETE] * BATCH + [State.FAIL] * BATCH + [State.COMPLETE] * BATCH


def test_a_storage_gone_when_telling_the_failures_does_not_mask_the_interruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "study.db"
    tell, fails = optuna.Study.tell, []

    def storage_gone_for_failures(self: optuna.Study, trial: Any, values: Any = None, state: Any = None, **kw: Any) -> Any:
        if state == State.FAIL:
            fails.append(trial)
            raise OperationalError("UPDATE trials", {}, Exception("the storage is gone"))
        return tell(self, trial, values, state, **kw)

    monkeypatch.setattr(optuna.Study, "tell", storage_gone_for_failures)
    with pytest.raises(KeyboardInterrupt):
        _tuner(db, KeyboardInterrupt()).tune_indicator("rsi", n_trials=3 * BATCH)
    assert len(fails) == 1  # the first failed tell ends the attempt: no wait per trial on a dead server
    assert _states(db) == [State.COMPLETE] * BATCH + [State.RUNNING] * BATCH  # nothing could be told
