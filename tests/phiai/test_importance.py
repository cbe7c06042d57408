"""fANOVA parameter importance of a tuning study: a variance split worked by hand, a planted
single-parameter score, the trials it uses, edge cases and seeding."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from phi.phiai.importance import param_importance
from phi.phiai.tuner import PhiAITuner, TuneResult
from tests.phiai.frames import random_walk


def _result(name: str, rows: list[dict], scores, feasible=None) -> TuneResult:  # noqa: ANN001
    trials = pd.DataFrame(rows)
    trials["is_score"] = np.asarray(scores, dtype=np.float64)
    trials["feasible"] = True if feasible is None else np.asarray(feasible, dtype=bool)
    return TuneResult(name, dict(rows[0]), 0.0, 0.0, trials, {}, pd.DataFrame())


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def test_additive_score_splits_as_its_main_effects_variances():
    """Score 3 z(period) + z(nbdev) on the full bollinger grid: the main effects' variances are
    9 and 1, so fANOVA's shares are 0.9 and 0.1 (the forest's fit within 0.03)."""
    periods, nbdevs = np.arange(5, 61, 1), np.arange(1.0, 3.51, 0.25)
    grid = list(itertools.product(periods, nbdevs))
    p = np.array([g[0] for g in grid], dtype=float)
    n = np.array([g[1] for g in grid])
    score = 3.0 * _z(p) + _z(n)
    rows = [{"period": int(a), "nbdev": float(b)} for a, b in grid]
    imp = param_importance(_result("bollinger", rows, score))
    assert list(imp) == ["period", "nbdev"]  # largest first
    assert imp["period"] == pytest.approx(0.9, abs=0.03)
    assert imp["nbdev"] == pytest.approx(0.1, abs=0.03)
    assert sum(imp.values()) == pytest.approx(1.0)


def test_a_score_of_one_parameter_gives_it_nearly_everything():
    rng = np.random.default_rng(3)
    fast = rng.integers(2, 40, 300)
    slow = np.maximum(10, fast + rng.integers(5, 120, 300))
    rows = [{"fast": int(f), "slow": int(s)} for f, s in zip(fast, slow, strict=True)]
    imp = param_importance(_result("dual_sma", rows, np.sin(slow / 15.0)))
    assert imp["slow"] > 0.9 > 0.1 > imp["fast"]


def test_infeasible_trials_are_left_out_unless_none_is_feasible():
    rng = np.random.default_rng(4)
    period = rng.integers(5, 61, 200)
    nbdev = 1.0 + 0.25 * rng.integers(0, 11, 200)
    rows = [{"period": int(a), "nbdev": float(b)} for a, b in zip(period, nbdev, strict=True)]
    feasible = np.arange(200) % 2 == 0
    # feasible trials: score by nbdev only; infeasible ones: by period only (must be ignored)
    score = np.where(feasible, nbdev, period / 10.0)
    imp = param_importance(_result("bollinger", rows, score, feasible))
    assert imp["nbdev"] > 0.9
    both = param_importance(_result("bollinger", rows, score, np.zeros(200, dtype=bool)))
    assert both["period"] > 0.5  # none feasible: every trial counts


def test_values_set_by_hand_outside_the_range_still_count():
    rows = [{"period": p, "nbdev": 0.6 + 0.1 * (p % 7)} for p in range(3, 80)]  # beyond 5..60, 1..3.5
    imp = param_importance(_result("bollinger", rows, [r["nbdev"] for r in rows]))
    assert imp["nbdev"] > 0.9


def test_edge_cases():
    one = _result("rsi", [{"period": 5}, {"period": 9}, {"period": 14}], [0.1, 0.3, 0.2])
    assert param_importance(one) == {"period": 1.0}
    flat = _result("bollinger", [{"period": 5, "nbdev": 2.0}, {"period": 9, "nbdev": 1.0}], [0.4, 0.4])
    assert all(math.isnan(v) for v in param_importance(flat).values())
    lone = _result("bollinger", [{"period": 5, "nbdev": 2.0}, {"period": 9, "nbdev": 1.0}], [0.4, math.nan])
    assert all(math.isnan(v) for v in param_importance(lone).values())  # one finite score
    assert param_importance(TuneResult("buy_and_hold", {}, 0.0, 0.0,
                                       pd.DataFrame({"is_score": [0.1, 0.2]}), {}, pd.DataFrame())) == {}  # fmt: skip


def test_a_real_study_is_seeded_and_sums_to_one():
    res = PhiAITuner(random_walk(900, seed=21), seed=2).tune_indicator("macd", n_trials=60)
    a, b = param_importance(res, seed=5), param_importance(res, seed=5)
    assert a == b and set(a) == {"fast", "slow", "signal"}
    assert sum(a.values()) == pytest.approx(1.0) and min(a.values()) >= 0.0
