"""The ML presets in the strategy catalogue: complete configs, run through phi.run causally."""

from __future__ import annotations

import pytest

import phi.strategies as strategies
from phi.backtest.run_config import DatasetSpec

ML = ("ML Classifier", "LightGBM", "Ensemble", "WyckoffML", "RL agent")


def test_ml_presets_are_registered_with_their_rules():
    for name in ML:
        p = strategies.get(name)
        assert p.family == "ml" and p.indicators[0].name in ("ml_classifier", "rl_agent")
    assert strategies.get("lgbm").engine["entry_threshold"] == pytest.approx(0.24)  # P(up) >= 0.62
    assert strategies.get("Ensemble").indicators[0].params["model"] == 4
    assert strategies.get("WyckoffML").indicators[0].params["features"] == 1


def test_ml_classifier_preset_runs_through_the_engine():
    run = strategies.run_preset("ML Classifier", DatasetSpec("DEMO", "demo", "1D", "2018-01-01", "2020-12-31"), save=False)
    res = run.result
    sig = res.signal
    assert sig is not None and sig.iloc[:370].isna().all() and sig.iloc[370:].notna().all()
    assert res.assumptions["fill_timing"] and res.metrics["n_trades"] >= 1
    assert (res.trades["entry_time"] > sig.index[370]).all()  # filled after the first forecast
