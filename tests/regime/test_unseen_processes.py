"""The regime engine on labelled processes outside its calibration families.

The processes are those of ``benchmarks/regime_unseen.py`` (hidden Markov switching, switching
GARCH parameters, switching jump intensity, trend vs mean reversion at equal volatility, 5-minute
session bars with a daily volatility U-shape and overnight gaps); neither the calibration nor the
other tests use them. Checked here: the generators do what they claim (against closed-form
values), the engine stays causal on them, and the two wins the benchmark reports by the widest
margins hold per seed on short series.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from phi.regime.engine import RegimeEngine
from phi.regime.evaluate import score


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "regime_unseen.py"
    spec = importlib.util.spec_from_file_location("regime_unseen_bench", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


U = _load()


def _returns(lab: Any) -> np.ndarray:
    c = lab.ohlcv["close"].to_numpy()
    return np.diff(np.log(c), prepend=np.nan)


def test_equal_volatility_process_has_equal_vol_and_the_stated_autocorrelations() -> None:
    """Trend bars: AR(1) returns with phi = 0.25; range bars: OU price with pull k = 0.15, whose
    returns have lag-1 autocorrelation -k / 2; both with return std = 1 %."""
    lab = U.momo_mr_eqvol(60_000, 0)
    r = _returns(lab)
    d = lab.direction
    same = np.zeros(len(r), dtype=bool)
    same[2:] = d[2:] == d[1:-1]  # r_t and r_(t-1) inside one state
    for states, ac in ((("up", "down"), 0.25), (("range",), -0.075)):
        m = np.isin(d, states) & same
        x, y = r[m], r[np.flatnonzero(m) - 1]
        mu = (
            np.where(np.isin(d[m], ["up"]), 0.06, np.where(np.isin(d[m], ["down"]), -0.06, 0.0))
            * U.SIGMA
        )
        assert np.std(x - mu) == pytest.approx(U.SIGMA, rel=0.03)
        assert np.corrcoef(x - mu, y - mu)[0, 1] == pytest.approx(ac, abs=0.03)


def test_markov_switching_states_have_their_volatility_and_persistence() -> None:
    lab = U.ms3_persist(80_000, 1)
    r = _returns(lab)
    v = lab.vol
    for state, mult in (("low", 0.7), ("normal", 1.0 * np.sqrt(2.0 / 1.9)), ("high", 2.5)):
        m = v == state
        assert np.nanstd(r[m]) == pytest.approx(mult * U.SIGMA, rel=0.08)
    runs = np.diff(np.flatnonzero(np.concatenate([[True], v[1:] != v[:-1], [True]])))
    starts = np.concatenate([[0], np.cumsum(runs)[:-1]])
    high_runs = runs[v[starts] == "high"]
    assert high_runs.mean() == pytest.approx(5.0, rel=0.15)


@pytest.mark.parametrize(
    "name",
    sorted(
        [
            "ms3_persist", "garch_switch", "jump_switch", "momo_mr_eqvol", "intraday_5m",
            "heston_sv", "asym_weekly",
        ]
    ),  # fmt: skip
)
def test_engine_is_causal_on_unseen_processes(name: str) -> None:
    """Bars before k are the same whether the engine sees ohlcv[:k] or the whole frame."""
    lab = U.PROCESSES[name](1500, 3)
    eng = RegimeEngine()
    full = eng.run(lab.ohlcv)
    k = 1111
    cut = eng.run(lab.ohlcv.iloc[:k])
    np.testing.assert_array_equal(full.regime_probs.to_numpy()[:k], cut.regime_probs.to_numpy())
    np.testing.assert_array_equal(full.mix.to_numpy()[:k], cut.mix.to_numpy())
    assert full.dominant_regime().iloc[:k].equals(cut.dominant_regime())


@pytest.mark.parametrize("seed", [0, 1])
def test_direction_beats_er30_where_volatility_is_equal(seed: int) -> None:
    """Trend vs mean reversion at equal volatility: the engine's P(trend) ranks the states better
    than the 30-bar efficiency ratio, and the volatility percentile is near chance."""
    out = U.score_one(U.momo_mr_eqvol(3000, seed), None)
    assert out["auc_trend"] > out["er30_auc_trend"] + 0.02
    assert out["rv_auc_trend"] < 0.6


@pytest.mark.parametrize("seed", [0, 1])
def test_vol_state_beats_realised_vol_under_intraday_seasonality(seed: int) -> None:
    """5-minute bars with a daily vol U-shape: P(HIGHVOL) / P(LOWVOL) rank the session's vol
    state better than the trailing 20-bar realised-vol percentile, which reads the seasonality."""
    out = score(U.intraday_5m(3000, seed))
    assert out["auc_highvol"] > out["rv_auc_highvol"] + 0.05
    assert out["auc_lowvol"] > out["rv_auc_lowvol"] + 0.05
