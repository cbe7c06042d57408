"""Blender: hand-worked values, NaN policy, bad weights, and phiai's walk-forward honesty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from phi.blending.blender import (
    BLEND_MODES,
    Blender,
    blend,
    next_bar_scorer,
    phiai_fit,
    score_weights,
)
from phi.errors import ConfigError
from tests.conftest import make_ohlcv


def frame(**cols: list[float]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    idx = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(cols, index=idx, dtype="float64")


# ---------------------------------------------------------------------------- weighted_sum


def test_weighted_sum_hand_worked() -> None:
    s = frame(a=[1.0, -0.5, 0.2], b=[0.0, 0.5, -1.0])
    # w = (3, 1): (3*1 + 0)/4, (3*-0.5 + 0.5)/4, (0.6 - 1)/4
    out = blend(s, "weighted_sum", {"a": 3, "b": 1})
    np.testing.assert_allclose(out.to_numpy(), [0.75, -0.25, -0.1], rtol=0, atol=1e-15)
    assert out.name == "blend"
    assert out.index.equals(s.index)


def test_weighted_sum_has_no_tanh_squashing() -> None:
    s = frame(a=[1.0, -1.0], b=[1.0, -1.0], c=[1.0, -1.0])
    assert blend(s).tolist() == [1.0, -1.0]  # tanh would give 0.76


def test_missing_weights_default_to_one_and_negative_inverts() -> None:
    s = frame(a=[0.4], b=[0.8], c=[0.2])
    assert blend(s, weights={"a": 2.0}).iloc[0] == pytest.approx((0.8 + 0.8 + 0.2) / 4)
    # a negative weight inverts that indicator, normalised by sum |w|
    assert blend(s, weights={"b": -1.0}).iloc[0] == pytest.approx((0.4 - 0.8 + 0.2) / 3)


def test_nan_while_any_weighted_input_is_nan_zero_weight_ignored() -> None:
    s = frame(fast=[0.5, 0.5, 0.5], slow=[np.nan, np.nan, -0.5])
    out = blend(s)
    assert np.isnan(out.iloc[0]) and np.isnan(out.iloc[1])
    assert out.iloc[2] == 0.0
    # a zero-weight indicator is left out, so its warm-up NaNs do not matter
    assert blend(s, weights={"slow": 0}).tolist() == [0.5, 0.5, 0.5]


# ---------------------------------------------------------------------------- voting


def test_voting_net_weighted_vote_share() -> None:
    s = frame(a=[0.3, 0.05, -0.9, 0.2], b=[0.9, -0.3, -0.01, np.nan], c=[-0.2, 0.0, 0.5, 0.4])
    # dead zone 0.05: |0.05| abstains (not strictly greater), -0.01 abstains
    out = blend(s, "voting", {"a": 2, "b": 1, "c": 1}, dead_zone=0.05)
    np.testing.assert_allclose(out.to_numpy()[:3], [(2 + 1 - 1) / 4, (0 - 1 + 0) / 4, (-2 + 0 + 1) / 4])
    assert np.isnan(out.iloc[3])


def test_voting_unanimous_is_one_and_dead_zone_checked() -> None:
    s = frame(a=[0.1], b=[0.9])
    assert blend(s, "voting").iloc[0] == 1.0
    assert blend(s, "voting", dead_zone=0.5).iloc[0] == 0.5
    with pytest.raises(ConfigError, match=r"dead_zone must be in \[0, 1\), got 1.5"):
        blend(s, "voting", dead_zone=1.5)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (30, 4), elements=st.floats(-1, 1)),
    st.lists(st.floats(-5, 5).filter(lambda x: abs(x) > 1e-3), min_size=4, max_size=4),
    st.sampled_from(["weighted_sum", "voting"]),
)
def test_output_always_in_range(values: np.ndarray, ws: list[float], mode: str) -> None:
    s = pd.DataFrame(values, columns=list("abcd"))
    out = blend(s, mode, dict(zip("abcd", ws, strict=True)))
    assert out.between(-1.0, 1.0).all()


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"rsx": 1.0}, r"blend weights name 'rsx', which is not in the blend\. Did you mean 'rsi'\?"),
        ({"rsi": 0, "macd": 0.0}, r"all blend weights are zero"),
        ({"rsi": float("nan")}, r"blend weights\['rsi'\] must be finite, got nan"),
        ({"rsi": float("inf")}, r"must be finite"),
        ({"rsi": "2"}, r"blend weights\['rsi'\] must be a number, got '2'"),
        ({"rsi": True}, r"must be a number, got True"),
        ([1.0, 2.0], r"must be a mapping"),
    ],
)
def test_bad_weights_are_one_line_config_errors(weights: object, message: str) -> None:
    s = frame(rsi=[0.1], macd=[0.2])
    with pytest.raises(ConfigError, match=message) as info:
        blend(s, "weighted_sum", weights)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_bad_mode_and_bad_signals() -> None:
    s = frame(rsi=[0.1])
    with pytest.raises(ConfigError, match=r"unknown blend mode 'votng'\. Did you mean 'voting'\?"):
        blend(s, "votng")
    with pytest.raises(ConfigError, match="no columns"):
        blend(pd.DataFrame(index=s.index))
    with pytest.raises(ConfigError, match="must be a DataFrame"):
        blend(s["rsi"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown blend mode"):
        Blender("tanh")


# ---------------------------------------------------------------------------- regime_weighted


def test_regime_weighted_needs_probabilities() -> None:
    with pytest.raises(ConfigError, match=r"^regime_weighted needs regime probabilities \(the regime engine, issue 04\)"):
        blend(frame(a=[0.1]), "regime_weighted")


def test_regime_weighted_hand_worked() -> None:
    s = frame(a=[1.0, 0.5], b=[-1.0, 0.5])
    probs = pd.DataFrame({"trend": [0.75, 0.0], "range": [0.25, 1.0]}, index=s.index)
    W = {"trend": {"a": 1.0, "b": 0.0}, "range": {"a": 1.0, "b": 3.0}}
    out = blend(s, "regime_weighted", regime_probs=probs, regime_weights=W)
    # bar 0: 0.75 * 1 + 0.25 * (1 - 3)/4 = 0.625; bar 1: 1.0 * (0.5 + 1.5)/4 = 0.5
    np.testing.assert_allclose(out.to_numpy(), [0.625, 0.5])


def test_regime_weighted_validation() -> None:
    s = frame(a=[1.0, 0.5], b=[-1.0, 0.5])
    good = pd.DataFrame({"trend": [0.5, 0.5], "range": [0.5, 0.5]}, index=s.index)
    with pytest.raises(ConfigError, match=r"regime_weights names regime 'trnd'.*Did you mean 'trend'"):
        blend(s, "regime_weighted", regime_probs=good, regime_weights={"trnd": {"a": 1}})
    with pytest.raises(ConfigError, match="rows must sum to 1"):
        blend(s, "regime_weighted", regime_probs=good * 0.9)
    with pytest.raises(ConfigError, match="no row for 1 signal bar"):
        blend(s, "regime_weighted", regime_probs=good.iloc[:1])
    with pytest.raises(ConfigError, match=r"regime_weights\['trend'\]\['c'\]|name 'c'"):
        blend(s, "regime_weighted", regime_probs=good, regime_weights={"trend": {"c": 1}})


# ---------------------------------------------------------------------------- phiai


def phiai_inputs(n: int = 400, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = make_ohlcv(n, seed=seed)
    ret_next = df["close"].pct_change().shift(-1)
    rng = np.random.default_rng(seed)
    # "oracle" peeks at the next return (only the scorer sees its past), "noise" is random,
    # "contrarian" is the oracle inverted, "late" has a long warm-up
    oracle = np.sign(ret_next).fillna(0.0)
    signals = pd.DataFrame(
        {
            "oracle": oracle,
            "noise": rng.uniform(-1, 1, n),
            "contrarian": -oracle,
            "late": np.where(np.arange(n) < 60, np.nan, rng.uniform(-1, 1, n)),
        },
        index=df.index,
    )
    return signals, df


def test_phiai_warm_up_then_weights_from_past_scores() -> None:
    signals, df = phiai_inputs()
    out = blend(signals, "phiai", ohlcv=df, train_bars=100, step=20)
    assert out.iloc[:100].isna().all()
    assert out.iloc[100:].notna().all()
    fit = phiai_fit(signals, ohlcv=df, train_bars=100, step=20)
    assert list(fit.train_end) == list(range(100, 400, 20))
    assert (fit.train_start == 0).all()
    # the peeking oracle scores best, the contrarian is negative -> weight 0
    assert (fit.weights["oracle"] > 0.5).all()
    assert (fit.weights["contrarian"] == 0).all()
    np.testing.assert_allclose(fit.weights.sum(axis=1), 1.0)


def test_phiai_blend_equals_weighted_sum_with_the_scheduled_weights() -> None:
    signals, df = phiai_inputs()
    fit = phiai_fit(signals, ohlcv=df, train_bars=100, step=50, window="rolling")
    assert list(fit.train_start) == [b - 100 for b in fit.train_end]
    out = blend(signals, "phiai", ohlcv=df, train_bars=100, step=50, window="rolling")
    for j, b in enumerate(fit.train_end):
        seg = slice(int(b), int(b) + 50)
        w = fit.weights.iloc[j].to_dict()
        expected = blend(signals.iloc[seg], "weighted_sum", w)
        pd.testing.assert_series_equal(out.iloc[seg], expected)


def test_phiai_scores_only_bars_before_those_it_trades() -> None:
    signals, df = phiai_inputs()
    seen: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    inner = next_bar_scorer(df["close"])

    def spy(train: pd.DataFrame) -> np.ndarray:
        seen.append((train.index[0], train.index[-1]))
        return inner(train)

    fit = phiai_fit(signals, score_fn=spy, train_bars=100, step=30)
    assert len(seen) == len(fit.weights)
    for (_, last_scored), first_applied in zip(seen, fit.weights.index, strict=True):
        assert last_scored < first_applied


def test_phiai_no_look_ahead_by_truncation() -> None:
    signals, df = phiai_inputs(300)
    full = blend(signals, "phiai", ohlcv=df, train_bars=80, step=15)
    for k in (80, 81, 95, 96, 150, 299):
        part = blend(signals.iloc[:k], "phiai", ohlcv=df.iloc[:k], train_bars=80, step=15)
        pd.testing.assert_series_equal(part, full.iloc[:k])


def test_phiai_future_changes_do_not_move_the_past() -> None:
    signals, df = phiai_inputs(300)
    full = blend(signals, "phiai", ohlcv=df, train_bars=80, step=15)
    t = 170
    df2, sig2 = df.copy(), signals.copy()
    df2.iloc[t:, :4] *= 3.0  # wild future prices
    sig2.iloc[t:] = -sig2.iloc[t:]
    changed = blend(sig2, "phiai", ohlcv=df2, train_bars=80, step=15)
    pd.testing.assert_series_equal(changed.iloc[:t], full.iloc[:t])


def test_phiai_equal_weights_when_no_positive_score() -> None:
    np.testing.assert_allclose(score_weights(np.array([-1.0, np.nan, 0.0])), [1 / 3] * 3)
    np.testing.assert_allclose(score_weights(np.array([2.0, -1.0, 6.0])), [0.25, 0.0, 0.75])
    s = frame(a=[0.5] * 6, b=[-0.5] * 6)
    out = blend(s, "phiai", score_fn=lambda tr: [-1.0, -2.0], train_bars=2, step=2)
    assert out.iloc[:2].isna().all() and (out.iloc[2:] == 0.0).all()
    out = blend(s, "phiai", score_fn=lambda tr: {"a": 3.0, "b": 1.0}, train_bars=2, step=2)
    np.testing.assert_allclose(out.iloc[2:], 0.25)


def test_phiai_bad_input() -> None:
    s = frame(a=[0.5] * 6)
    with pytest.raises(ConfigError, match="pass ohlcv="):
        blend(s, "phiai")
    with pytest.raises(ConfigError, match="do not pass weights"):
        blend(s, "phiai", {"a": 1.0}, score_fn=lambda tr: [1.0])
    with pytest.raises(ConfigError, match=r"phiai train_bars must be an integer >= 2, got 0"):
        blend(s, "phiai", score_fn=lambda tr: [1.0], train_bars=0)
    with pytest.raises(ConfigError, match=r"unknown phiai window 'expandng'"):
        blend(s, "phiai", score_fn=lambda tr: [1.0], train_bars=2, window="expandng")
    with pytest.raises(ConfigError, match="must return 1 scores, got 2"):
        blend(s, "phiai", score_fn=lambda tr: [1.0, 2.0], train_bars=2)
    # shorter than one training window: all warm-up
    assert blend(s, "phiai", score_fn=lambda tr: [1.0], train_bars=10).isna().all()


def test_blender_class_matches_function() -> None:
    signals, df = phiai_inputs(200)
    for mode in ("weighted_sum", "voting"):
        b = Blender(mode, weights={"noise": 2.0}, dead_zone=0.1)
        pd.testing.assert_series_equal(
            b(signals), blend(signals, mode, {"noise": 2.0}, dead_zone=0.1)
        )
    b = Blender("phiai", train_bars=50, step=10)
    pd.testing.assert_series_equal(
        b.blend(signals, ohlcv=df), blend(signals, "phiai", ohlcv=df, train_bars=50, step=10)
    )
    assert set(BLEND_MODES) == {"weighted_sum", "voting", "regime_weighted", "phiai"}


def test_complex_signals_are_refused_not_cut_to_their_real_part():
    # a complex column blended as its real part (astype float64 only warns)
    s = pd.DataFrame({"rsi": [0.5 + 1j, -0.5 + 0j], "macd": [0.0, 0.5]})
    with pytest.raises(ConfigError, match=r"^signals column 'rsi' holds complex numbers"):
        blend(s)
