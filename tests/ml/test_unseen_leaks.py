"""The walk-forward classifiers on bars they were not built on: no leak, no broken contract.

The existing tests check the logistic model on one planted AR(1) series; these run every model
family (gradient boosting, LightGBM, the RF + LightGBM ensemble, logistic), both feature sets
and multi-bar horizons on a trending regime-switching process, a gappy one and a flat stretch
after a x10 gap, cut right after the warm-up and further on, plus the hostile bars of
tests/indicators/test_unseen_bars.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from phi.errors import DataError
from phi.indicators.registry import compute_signal, get_indicator
from phi.ml.features import build_features
from tests.indicators.test_unseen_bars import (
    _broken,
    flat_after_gap,
    gappy,
    high_eq_low,
    limit_up,
    regime_switching,
    tiny_volume,
)

pytest.importorskip("sklearn")
pytest.importorskip("lightgbm")

SPEC = get_indicator("ml_classifier")

#: (process, model code, horizon, refit_every, features): 1 gradient boosting, 2 logistic,
#: 3 LightGBM, 4 the RF + LightGBM ensemble; features 1 is the Wyckoff set. Each family on one
#: process (a fit is the slow part), the logistic model on all three.
CASES = [
    pytest.param(regime_switching, 1, 3, 13, 0, id="regime-gb-h3"),
    pytest.param(gappy, 3, 1, 29, 1, id="gappy-lgbm-wyckoff"),
    pytest.param(flat_after_gap, 4, 2, 40, 0, id="flat_after_gap-ensemble-h2"),
    pytest.param(regime_switching, 2, 5, 7, 1, id="regime-lr-h5-wyckoff"),
    pytest.param(gappy, 2, 1, 11, 0, id="gappy-lr"),
    pytest.param(flat_after_gap, 2, 4, 5, 1, id="flat_after_gap-lr-h4-wyckoff"),
]


def _params(model: int, horizon: int, refit: int, features: int) -> dict:
    return {
        "model": model,
        "horizon": horizon,
        "refit_every": refit,
        "min_train": 100,
        "features": features,
    }


def _warm(params: dict) -> int:
    return int(SPEC.warmup(SPEC.resolve(params)))


@pytest.mark.parametrize(("make", "model", "horizon", "refit", "features"), CASES)
def test_walk_forward_signal_is_prefix_invariant(make, model, horizon, refit, features):
    """The value at bar t computed on bars[:t+1] is the value computed on every bar: refits,
    their labels and the features all stay behind t whatever comes after it."""
    params = _params(model, horizon, refit, features)
    warm = _warm(params)
    df = make(warm + 70)
    full = compute_signal("ml_classifier", df, params).to_numpy()
    assert np.isnan(full[:warm]).all() and np.isfinite(full[warm:]).all()
    assert (np.abs(full[warm:]) <= 1.0).all()
    for k in (warm + 1, warm + 2, warm + refit + 1, len(df) - 1):
        np.testing.assert_array_equal(
            compute_signal("ml_classifier", df.iloc[:k], params).to_numpy(), full[:k]
        )


@pytest.mark.parametrize("feature_set", ["all", "wyckoff"])
def test_features_are_prefix_invariant_on_gappy_bars(feature_set):
    df = gappy(420)
    full = build_features(df, feature_set).to_numpy()
    for k in (150, 233, 419):
        np.testing.assert_array_equal(build_features(df.iloc[:k], feature_set).to_numpy(), full[:k])


@pytest.mark.parametrize(
    "make",
    [limit_up, high_eq_low, flat_after_gap, tiny_volume],
    ids=["limit_up", "high_eq_low", "flat_after_gap", "tiny_volume"],
)
def test_hostile_bars_keep_the_signal_contract(make):
    params = _params(2, 1, 20, 0)
    warm = _warm(params)
    df = make(warm + 60)
    s = compute_signal("ml_classifier", df, params).to_numpy()
    assert (
        np.isnan(s[:warm]).all() and np.isfinite(s[warm:]).all() and (np.abs(s[warm:]) <= 1.0).all()
    )


@pytest.mark.parametrize("kind", ["negative volume", "high < low", "two close columns"])
def test_broken_bars_are_one_line_before_any_fit(kind):
    """Regression: signed volume and inverted bars went into the features silently."""
    with pytest.raises(DataError) as err:
        compute_signal("ml_classifier", _broken(kind), _params(2, 1, 20, 0))
    assert "\n" not in str(err.value)
