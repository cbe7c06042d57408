"""Prediction scorecard: hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from phi.backtest.scorecard import SCORECARD_NAMES, prediction_scorecard
from phi.errors import EngineError


def _idx(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")


def test_hand_worked_case():
    # bar:     0     1     2     3     4     5     6
    close = [100.0, 102.0, 101.0, 101.0, 104.0, 103.0, 110.0]
    signal = [0.5, 0.8, -0.3, 0.0, -0.6, np.nan, 1.0]
    # bar 0 UP,   move +2  -> right (|2|)
    # bar 1 UP,   move -1  -> wrong (|1|)
    # bar 2 DOWN, move  0  -> wrong (flat counts as wrong, |0|)
    # bar 3 neutral; bar 4 DOWN, move -1 -> right (|1|); bar 5 NaN -> neutral
    # bar 6 is the last bar: no next move, not scored
    idx = _idx(7)
    card = prediction_scorecard(pd.Series(signal, idx), pd.Series(close, idx))
    assert set(card) == set(SCORECARD_NAMES)
    assert card["n_predictions"] == 4
    assert card["hits"] == 2 and card["misses"] == 2
    assert card["accuracy"] == 0.5
    assert card["up_predictions"] == 2 and card["up_accuracy"] == 0.5
    assert card["down_predictions"] == 2 and card["down_accuracy"] == 0.5
    assert card["mean_move_right"] == pytest.approx(1.5)  # (2 + 1) / 2
    assert card["mean_move_wrong"] == pytest.approx(0.5)  # (1 + 0) / 2
    assert card["edge"] == pytest.approx(1.0)
    right = (2 / 100 + 1 / 104) / 2
    wrong = (1 / 102 + 0 / 101) / 2
    assert card["edge_return"] == pytest.approx(right - wrong)


def test_threshold_makes_weak_calls_neutral():
    close = [100.0, 102.0, 101.0, 101.0, 104.0, 103.0, 110.0]
    signal = [0.5, 0.8, -0.3, 0.0, -0.6, np.nan, 1.0]
    card = prediction_scorecard(np.array(signal), np.array(close), threshold=0.5)
    # only bar 1 (UP, wrong) and bar 4 (DOWN, right) have |signal| > 0.5
    assert card["n_predictions"] == 2
    assert card["up_accuracy"] == 0.0 and card["down_accuracy"] == 1.0
    assert card["edge"] == pytest.approx(1.0 - 1.0)


def test_no_calls_gives_nan_accuracies_and_zero_counts():
    card = prediction_scorecard(np.zeros(5), np.arange(1.0, 6.0))
    assert card["n_predictions"] == 0 and card["hits"] == 0
    assert math.isnan(card["accuracy"]) and math.isnan(card["edge"])


def test_all_right_edge_is_nan():
    close = np.array([1.0, 2.0, 3.0, 2.0])
    card = prediction_scorecard(np.array([1.0, 1.0, -1.0, 0.0]), close)
    assert card["accuracy"] == 1.0
    assert math.isnan(card["edge"])  # no wrong call to compare with


def test_mismatched_inputs_are_clear_errors():
    with pytest.raises(EngineError, match="different indexes"):
        prediction_scorecard(pd.Series([1.0, 1.0], _idx(2)), pd.Series([1.0, 2.0]))
    with pytest.raises(EngineError, match="has 3 bars but close has 2"):
        prediction_scorecard(np.ones(3), np.ones(2))
    with pytest.raises(EngineError, match="threshold"):
        prediction_scorecard(np.ones(2), np.ones(2), threshold=1.5)
