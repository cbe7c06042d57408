"""The catalogue's presets and every blend mode on bars they were not built on.

Every single-symbol preset (the model presets are covered by tests/ml/test_unseen_leaks.py)
runs end to end from a CSV of hostile bars; each preset's blended signal and each blend mode
(weighted_sum, voting, regime_weighted with the regime engine's probabilities, phiai with the
engine's walk-forward scores, expanding and rolling) is prefix invariant on a trending
regime-switching process, a gappy one and a flat stretch after a x10 gap.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine_config import EngineConfig
from phi.backtest.run_config import DatasetSpec
from phi.blending.blender import apply_phiai, blend, phiai_fit
from phi.indicators.registry import compute_all_signals
from phi.pipeline import engine_scorer
from phi.regime.engine import RegimeEngine
from phi.strategies import catalogue as strategies
from phi.strategies.runner import run_preset
from tests.indicators.test_unseen_bars import (
    flat_after_gap,
    gappy,
    huge_volume,
    limit_up,
    regime_switching,
)

PRESETS = [
    p.name
    for p in strategies.list_presets()
    if not p.is_portfolio and p.family not in ("ml", "llm")
]
PROCESSES = {"regime": regime_switching, "gappy": gappy, "flat_after_gap": flat_after_gap}


def _csv(tmp_path, name: str, df: pd.DataFrame, timeframe: str = "1D") -> DatasetSpec:
    fmt = "%Y-%m-%d" if timeframe == "1D" else "%Y-%m-%d %H:%M:%S"
    out = pd.DataFrame(
        {"date": df.index.strftime(fmt), **{c: df[c].to_numpy() for c in df.columns}}
    )
    path = tmp_path / f"{name}.csv"
    out.to_csv(path, index=False)
    first, last = df.index[0].strftime("%Y-%m-%d"), df.index[-1].strftime("%Y-%m-%d")
    return DatasetSpec(name.upper(), "csv", timeframe, first, last, path=str(path))


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unseen_csv")
    return {
        "limit_up": _csv(tmp, "limitup", limit_up()),
        "flat_after_gap": _csv(tmp, "flatgap", flat_after_gap()),
        "five_minute": _csv(tmp, "fivemin", huge_volume(), "5m"),
    }


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_runs_on_hostile_bars(preset, datasets):
    for key, ds in datasets.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = run_preset(preset, ds, save=False)
        res = run.result
        assert res is not None, run
        for w in caught:  # prices near 1e6 against 100,000 of capital: no whole unit fits
            assert key == "five_minute" and res.metrics["n_trades"] == 0, (key, str(w.message))
            assert "entries were skipped: each one's size came out as zero" in str(w.message)
        assert np.isfinite(res.equity.to_numpy()).all()
        s = blend(res.signals, "weighted_sum").to_numpy()
        first = int(np.argmax(np.isfinite(s)))
        assert np.isfinite(s[first:]).all() and (np.abs(s[first:]) <= 1.0).all()


def _preset_signal(preset: str, df: pd.DataFrame) -> np.ndarray:
    p = strategies.get(preset)
    sel = {i.name: i.params for i in p.indicators}
    weights = {i.name: i.weight for i in p.indicators}
    return blend(compute_all_signals(df, sel), p.blend, weights).to_numpy()


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_signals_are_prefix_invariant(preset):
    for make in PROCESSES.values():
        df = make()
        full = _preset_signal(preset, df)
        for k in (119, 160, 277, len(df) - 1):
            np.testing.assert_array_equal(_preset_signal(preset, df.iloc[:k]), full[:k])


SELECTION = {"rsi": None, "macd": None, "adx": None, "cmf": None, "channel_breakout": None}
MODES = {
    "weighted_sum": {"weights": {"macd": 2.0, "cmf": -1.0}},
    "voting": {"dead_zone": 0.3},
    "regime_weighted": {"weights": {"adx": 3.0}},
    "phiai_bar_score_rolling": {"train_bars": 100, "step": 7, "window": "rolling"},
    "phiai_engine_expanding": {"train_bars": 150, "step": 20},
    "phiai_engine_rolling": {
        "train_bars": 120,
        "step": 15,
        "window": "rolling",
        "metric": "total_return",
    },
}


def _blend(mode: str, df: pd.DataFrame) -> np.ndarray:
    kw = dict(MODES[mode])
    sig = compute_all_signals(df, SELECTION)
    if mode == "regime_weighted":
        return blend(sig, mode, regime_probs=RegimeEngine().run(df).regime_probs, **kw).to_numpy()
    if mode.startswith("phiai_engine"):
        scorer = engine_scorer(df, EngineConfig(), kw.pop("metric", "sharpe"), 86)
        return apply_phiai(sig, phiai_fit(sig, score_fn=scorer, **kw)).to_numpy()
    if mode.startswith("phiai"):
        return blend(sig, "phiai", ohlcv=df, **kw).to_numpy()
    return blend(sig, mode, **kw).to_numpy()


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("process", list(PROCESSES))
def test_every_blend_mode_is_prefix_invariant(mode, process):
    """The blend at bar t on bars[:t+1] equals the blend on all bars: the regime probabilities and
    phiai's walk-forward weights (scored by the real engine) read nothing after t."""
    df = PROCESSES[process]()
    full = _blend(mode, df)
    assert np.isfinite(full[-100:]).all() and (np.abs(full[-100:]) <= 1.0).all()
    for k in (130, 171, 251, len(df) - 1):
        np.testing.assert_array_equal(_blend(mode, df.iloc[:k]), full[:k])
