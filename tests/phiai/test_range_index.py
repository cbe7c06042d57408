"""The tuner on bars without timestamps (a RangeIndex and EngineConfig.periods_per_year)."""

from __future__ import annotations

import pytest

from phi.backtest.engine import EngineConfig
from phi.errors import PhiError
from phi.phiai.tuner import PhiAITuner
from tests.phiai.frames import random_walk


def test_range_index_bars_tune_with_positions_as_fold_labels() -> None:
    bars = random_walk(900, seed=3)
    dated = PhiAITuner(bars, engine=EngineConfig(periods_per_year=252), folds=3).tune_indicator(
        "rsi", n_trials=12
    )
    plain = PhiAITuner(
        bars.reset_index(drop=True), engine=EngineConfig(periods_per_year=252), folds=3
    )
    res = plain.tune_indicator("rsi", n_trials=12)
    wf = res.folds
    # the same bars by position give the same study; the fold labels are bar positions
    assert res.best_params == dated.best_params
    assert list(wf["train"]) == [f"{f.train_start}..{f.train_end - 1}" for f in plain.plan.folds]
    assert list(wf["test"]) == [f"{f.train_end}..{f.test_end - 1}" for f in plain.plan.folds]


def test_range_index_bars_without_periods_per_year_raise_a_phi_error() -> None:
    # refused when the tuner is built (its bars are checked then), before any trial
    with pytest.raises(PhiError, match="periods_per_year"):
        PhiAITuner(random_walk(600, seed=1).reset_index(drop=True), folds=3)
