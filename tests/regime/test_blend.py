"""The regime_weighted blend: default matrix, hand-worked values, bounds, the blender and pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from phi.blending.blender import blend
from phi.errors import ConfigError
from phi.indicators.registry import compute_all_signals
from phi.regime.blend import default_regime_weights, regime_weight_matrix, regime_weighted_blend
from phi.regime.engine import RegimeEngine
from phi.regime.taxonomy import REGIMES
from tests.conftest import make_ohlcv


def onehot(regime: str, n: int = 1, index: pd.Index | None = None) -> pd.DataFrame:
    p = np.zeros((n, 8))
    p[:, REGIMES.index(regime)] = 1.0
    return pd.DataFrame(p, columns=list(REGIMES), index=index)


def test_default_matrix() -> None:
    w = default_regime_weights(["macd", "rsi", "atr_ratio", "wyckoff"])
    assert list(w.index) == list(REGIMES) and w.shape == (8, 4)
    assert w["macd"].to_dict() == {
        "TREND_UP": 1.5, "TREND_DN": 1.5, "RANGE": 0.5, "BREAKOUT_UP": 1.5, "BREAKOUT_DN": 1.5,
        "EXHAUST_REV": 0.5, "LOWVOL": 0.5, "HIGHVOL": 0.5,
    }  # fmt: skip
    assert w["rsi"]["RANGE"] == 1.5 and w["rsi"]["EXHAUST_REV"] == 1.5 and w["rsi"]["TREND_UP"] == 0.7
    assert w["atr_ratio"]["HIGHVOL"] == 1.3 and w["atr_ratio"]["BREAKOUT_DN"] == 1.3 and w["atr_ratio"]["RANGE"] == 0.8
    assert (w["wyckoff"] == 1.0).all()


def test_hand_worked() -> None:
    s = pd.DataFrame({"macd": [1.0, 1.0], "rsi": [-1.0, -1.0]})
    p = pd.concat([onehot("TREND_UP"), onehot("RANGE")], ignore_index=True)
    out = regime_weighted_blend(s, p)
    # TREND_UP: (1.5 - 0.7) / 2.2; RANGE: (0.5 - 1.5) / 2.0
    np.testing.assert_allclose(out, [0.8 / 2.2, -0.5])
    mixed = pd.DataFrame([[0.25, 0, 0.75, 0, 0, 0, 0, 0]], columns=list(REGIMES))
    assert regime_weighted_blend(s.iloc[:1], mixed).iloc[0] == pytest.approx(0.25 * 0.8 / 2.2 + 0.75 * -0.5)
    user = {"RANGE": {"macd": 0.0, "rsi": 2.0}}  # unnamed regimes keep the default rows
    out = regime_weighted_blend(s, p, user)
    np.testing.assert_allclose(out, [0.8 / 2.2, -1.0])
    matrix = pd.DataFrame(1.0, index=list(REGIMES), columns=["macd", "rsi"])
    np.testing.assert_allclose(regime_weighted_blend(s, p, matrix), [0.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(
    sig=arrays(np.float64, (30, 3), elements=st.floats(-1, 1)),
    raw_p=arrays(np.float64, (30, 8), elements=st.floats(0.0, 1.0)),
    w=arrays(np.float64, (8, 3), elements=st.floats(-3, 3)),
)
def test_blend_is_bounded(sig, raw_p, w) -> None:
    raw_p[:, 0] += 1e-3
    p = pd.DataFrame(raw_p / raw_p.sum(axis=1, keepdims=True), columns=list(REGIMES))
    w[:, 0] = np.where(w[:, 0] == 0, 1.0, w[:, 0])
    out = regime_weighted_blend(pd.DataFrame(sig, columns=list("abc")), p, pd.DataFrame(w, index=list(REGIMES), columns=list("abc")))
    assert (out.abs() <= 1.0).all()


def test_nan_semantics() -> None:
    s = pd.DataFrame({"macd": [np.nan, 0.5, 0.5], "rsi": [0.1, 0.1, np.nan]})
    p = pd.concat([onehot("TREND_UP", 2), pd.DataFrame([[np.nan] * 8], columns=list(REGIMES))], ignore_index=True)
    out = regime_weighted_blend(s, p)
    assert np.isnan(out.iloc[0]) and np.isfinite(out.iloc[1]) and np.isnan(out.iloc[2])
    # an indicator no regime weighs cannot make the blend NaN
    zero_rsi = pd.DataFrame({"macd": 1.0, "rsi": 0.0}, index=list(REGIMES))
    assert regime_weighted_blend(s.iloc[2:], onehot("TREND_UP", 1, s.index[2:]), zero_rsi).iloc[0] == 0.5


def test_validation() -> None:
    s = pd.DataFrame({"macd": [0.5], "rsi": [0.1]})
    good = onehot("RANGE")
    with pytest.raises(ConfigError, match="rows must sum to 1"):
        regime_weighted_blend(s, good * 0.5)
    with pytest.raises(ConfigError, match=r"probabilities in \[0, 1\]"):
        regime_weighted_blend(s, good * 2 - 0.5)
    with pytest.raises(ConfigError, match="no row for 1 signal bar"):
        regime_weighted_blend(s, good.iloc[:0])
    with pytest.raises(ConfigError, match=r"name regime 'RANGES'.*Did you mean 'RANGE'\?"):
        regime_weighted_blend(s, good, {"RANGES": {"macd": 1}})
    with pytest.raises(ConfigError, match=r"name 'mcd', which is not a signal\. Did you mean 'macd'\?"):
        regime_weighted_blend(s, good, {"RANGE": {"mcd": 1}})
    with pytest.raises(ConfigError, match="every weight of regime"):
        regime_weighted_blend(s, good, {"RANGE": {"macd": 0, "rsi": 0}})
    with pytest.raises(ConfigError, match="no default regime weights for regime"):
        regime_weight_matrix(None, ["trend"], ["macd"])
    with pytest.raises(ConfigError, match="must be a finite number"):
        regime_weighted_blend(s, good, {"RANGE": {"macd": float("nan")}})


def test_blender_mode_uses_the_engine_probabilities() -> None:
    df = make_ohlcv(400, 21)
    signals = compute_all_signals(df, ["rsi", "macd", "atr_ratio"])
    probs = RegimeEngine().run(df).regime_probs
    out = blend(signals, "regime_weighted", {"rsi": 2.0}, regime_probs=probs)
    expected = regime_weighted_blend(signals, probs, default_regime_weights(signals.columns) * pd.Series({"rsi": 2.0, "macd": 1.0, "atr_ratio": 1.0}))
    pd.testing.assert_series_equal(out, expected)
    assert out.notna().sum() > 250 and (out.dropna().abs() <= 1).all()
    # differs from a plain weighted sum: the weights follow the regimes
    flat = blend(signals, "weighted_sum", {"rsi": 2.0})
    assert not np.allclose(out.dropna(), flat[out.notna()])
    # a user matrix for some regimes: the others use the flat weights (blender semantics)
    out2 = blend(signals, "regime_weighted", regime_probs=probs, regime_weights={"RANGE": {"rsi": 3.0}})
    assert out2.notna().sum() == out.notna().sum()
