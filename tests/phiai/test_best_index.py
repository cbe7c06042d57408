"""The tuner's best index: the first best finite value, as a left-to-right scan keeps it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phi.phiai.tuner import PhiAITuner
from tests.indicators import frames


def _scan(values: list[float], maximize: bool) -> int:
    """Reference: keep the first value, replace it by a later finite one that is better."""
    best = -1
    for i, v in enumerate(values):
        if (
            best < 0
            or math.isfinite(v)
            and (
                not math.isfinite(values[best])
                or (v > values[best] if maximize else v < values[best])
            )
        ):
            best = i
    return best


@pytest.mark.parametrize("metric", ["sharpe", "annual_volatility"])
def test_best_index_matches_a_scan(metric: str) -> None:
    tuner = PhiAITuner(frames.random_ohlcv(400, 2), metric=metric, candidates=["rsi"])
    maximize = tuner.direction == "maximize"
    rng = np.random.default_rng(5)
    cases: list[list[float]] = [[], [math.nan], [math.inf, -math.inf], [1.0, 1.0], [-0.0, 0.0]]
    for _ in range(300):
        vals = rng.choice([-2.0, -1.0, 0.0, 0.5, 1.0, math.nan, math.inf, -math.inf], size=7)
        cases.append([float(v) for v in vals[: rng.integers(1, 8)]])
    for values in cases:
        assert tuner._best_index(values) == _scan(values, maximize), values
        assert tuner._best_index(np.asarray(values)) == _scan(values, maximize), values
