"""The top-two margin (``RegimeResult.margin``, ``top_two_margin``): hand-worked values, NaN in
the warm-up, one home (the evaluation harness reads it), and no other output changed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from phi.data.demo import generate_demo
from phi.errors import DataError
from phi.regime.engine import RegimeEngine, RegimeResult, top_two_margin
from phi.regime.evaluate import hit_measures
from phi.regime.taxonomy import REGIMES

# bins TREND_UP, TREND_DN, RANGE, BREAKOUT_UP, BREAKOUT_DN, EXHAUST_REV, LOWVOL, HIGHVOL
HAND = np.array([
    [np.nan] * 8,  # warm-up: NaN
    [0.50, 0.05, 0.30, 0.03, 0.03, 0.03, 0.03, 0.03],  # 0.50 - 0.30 = 0.20
    [0.35, 0.05, 0.40, 0.04, 0.04, 0.04, 0.04, 0.04],  # the top bin is not the first: 0.40 - 0.35 = 0.05
    [0.30, 0.30, 0.10, 0.06, 0.06, 0.06, 0.06, 0.06],  # a tie at the top: 0
    [0.125] * 8,  # uniform: 0
    [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.10, 0.90],  # 0.90 - 0.10 = 0.80
])  # fmt: skip
HAND_MARGIN = [np.nan, 0.20, 0.05, 0.0, 0.0, 0.80]


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, RegimeResult]:
    df = generate_demo("DEMO", "2017-01-01", "2020-12-31")
    return df, RegimeEngine().run(df)


def test_margin_of_a_hand_made_probability_frame(demo: tuple[pd.DataFrame, RegimeResult]) -> None:
    np.testing.assert_allclose(top_two_margin(HAND), HAND_MARGIN, rtol=0, atol=1e-15)
    idx = pd.date_range("2024-01-01", periods=len(HAND), freq="D", tz="UTC")
    res = dataclasses.replace(demo[1], regime_probs=pd.DataFrame(HAND, index=idx, columns=list(REGIMES)))
    m = res.margin
    assert m.name == "margin" and m.index.equals(idx) and m.dtype == np.float64
    np.testing.assert_allclose(m.to_numpy(), HAND_MARGIN, rtol=0, atol=1e-15)
    # a NaN anywhere in a row makes its margin NaN (never the margin of the other bins)
    part = HAND[1:2].copy()
    part[0, 2] = np.nan
    assert np.isnan(top_two_margin(part)).all()


def test_margin_refuses_what_is_not_a_probability_table() -> None:
    for bad in (np.array([0.4, 0.6]), np.ones((3, 1))):
        with pytest.raises(DataError, match=r"top_two_margin takes a \(bars, bins\) array with at least 2 bins"):
            top_two_margin(bad)
    assert top_two_margin(np.empty((0, 8))).shape == (0,)


def test_margin_of_a_run_is_top_minus_second_and_nan_in_the_warm_up(demo: tuple[pd.DataFrame, RegimeResult]) -> None:
    _, res = demo
    m = res.margin
    assert m.index.equals(res.regime_probs.index)
    k = res.warmup
    assert m.iloc[:k].isna().all() and m.iloc[k:].notna().all()
    # a plain loop over the rows as the reference
    ref = [sorted(row)[-1] - sorted(row)[-2] for row in res.regime_probs.iloc[k:].itertuples(index=False)]
    np.testing.assert_array_equal(m.iloc[k:].to_numpy(), ref)
    assert m.iloc[k:].between(0.0, 1.0).all()
    info = res.latest()
    assert info["margin"] == m.iloc[-1]
    # the harness scores the same numbers (one home)
    got = hit_measures(res.regime_probs.to_numpy(), res.mix)["margin"]
    np.testing.assert_array_equal(got, m.to_numpy())


def test_margin_changes_no_other_output(demo: tuple[pd.DataFrame, RegimeResult]) -> None:
    df, res = demo
    before = {n: getattr(res, n).copy() for n in ("node_probs", "regime_probs", "signals", "weights", "mix", "levels", "volume_gate")}
    _ = res.margin, res.latest()
    again = RegimeEngine().run(df)
    for name, frame in before.items():
        for other in (getattr(res, name), getattr(again, name)):
            assert other.equals(frame), name
            assert other.to_numpy().tobytes() == frame.to_numpy().tobytes(), name  # bit for bit
    # the margin is a property, not a new field or mix column; latest() gains one key
    fields = [f.name for f in dataclasses.fields(RegimeResult) if not f.name.startswith("_")]
    assert fields == ["node_probs", "regime_probs", "signals", "weights", "mix", "warmup", "levels", "volume_gate", "dominant_margin"]
    assert list(res.mix.columns) == ["composite", "c_field", "c_consensus", "c_liquidity", "confidence", "score"]
    assert set(res.latest()) == {"timestamp", "regime_probs", "dominant_regime", "volume_used", *res.mix.columns, "margin"}
