"""The engine out of family: leave-one-family-out against the baselines, invariances, the
volume gate, volatility apart from direction, a dominant regime that lasts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from backtesting.test import EURUSD, GOOG

from phi.regime import _nb
from phi.regime.engine import RegimeEngine
from phi.regime.evaluate import score
from phi.regime.families import FAMILIES, Labelled, ex_post_labels, make_family
from phi.regime.levels import level_features, log_returns, volume_gate
from phi.regime.lofo import leave_one_family_out
from phi.regime.metrics import median_run, spearman
from tests.conftest import make_ohlcv

ENGINE = RegimeEngine()


def _real(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=str.lower).tz_localize("UTC")


@pytest.fixture(scope="module")
def lofo():
    # small versions of every family: 2 seeds x 2,000 bars scored, calibrated on 2,000-bar series
    return leave_one_family_out(n=2000, seeds=(0, 1), cal_bars=2000, demo_symbols=())


@pytest.mark.parametrize("family", list(FAMILIES))
def test_left_out_family_beats_the_baselines(lofo, family: str) -> None:
    row = lofo.table.loc[family]
    if np.isfinite(row["er30_auc_trend"]):
        assert row["auc_trend"] >= row["er30_auc_trend"], "trend-vs-range AUC below ER30's"
    if np.isfinite(row["rv_auc_highvol"]):
        assert row["auc_highvol"] >= row["rv_auc_highvol"], "P(HIGHVOL) AUC below realised vol's"
    if np.isfinite(row["rv_auc_lowvol"]):
        assert row["auc_lowvol"] >= 0.70
    assert row["median_run"] >= 5


def test_lofo_reports_the_worst_family_and_refits_per_fold(lofo) -> None:
    worst = lofo.table.loc["worst"]
    fams = lofo.table.loc[list(FAMILIES)]
    assert worst["auc_trend"] == fams.loc[lofo.worst_family["auc_trend"], "auc_trend"]
    assert set(lofo.configs) == set(FAMILIES)
    energies = {f: c.levels.energy["DIR"] for f, c in lofo.configs.items()}
    assert energies["trend_ou"] != energies["garch"]  # each fold is fitted without its family


def _variants(lab: Labelled) -> dict[str, Labelled]:
    df = lab.ohlcv
    shuffled = df.assign(volume=np.random.default_rng(0).permutation(df["volume"].to_numpy()))
    body = df.assign(high=df[["open", "close"]].max(axis=1), low=df[["open", "close"]].min(axis=1))
    return {"shuffled volume": dataclasses.replace(lab, ohlcv=shuffled), "body only": dataclasses.replace(lab, ohlcv=body)}


@pytest.mark.parametrize("which", ["vol_states", "GOOG"])
def test_volume_and_bar_range_carry_no_weight_in_the_aucs(which: str) -> None:
    lab = make_family(which, 1500, 0) if which in FAMILIES else ex_post_labels(_real(GOOG))
    base = score(lab)
    for name, other in _variants(lab).items():
        got = score(other)
        for key in ("auc_trend", "auc_highvol", "auc_lowvol"):
            if np.isfinite(base[key]):
                assert abs(got[key] - base[key]) < 0.02, (name, key)


def test_direction_does_not_move_with_volatility_alone() -> None:
    """Driftless GARCH with volatility regimes: P(DIR) vs the vol state, pooled over seeds."""
    p, v = [], []
    for seed in range(6):
        lab = make_family("garch", 2000, seed)
        res = ENGINE.run(lab.ohlcv)
        p.append(res.node_probs["DIR"].to_numpy()[300:])
        v.append(pd.Series(lab.vol[300:]).map({"low": 0, "normal": 1, "high": 2}).to_numpy(float))
    assert abs(spearman(np.concatenate(p), np.concatenate(v))) < 0.1


@pytest.mark.parametrize("which", ["GOOG", "EURUSD"])
def test_real_bars_against_the_baselines(which: str) -> None:
    """Real bars labelled ex post (README): HIGHVOL and LOWVOL at least as good as trailing
    realised vol; direction within the documented gap of ER30 (EURUSD's direction is below
    it: asserted rather than hidden)."""
    row = score(ex_post_labels(_real({"GOOG": GOOG, "EURUSD": EURUSD}[which]), name=which))
    assert row["auc_highvol"] >= row["rv_auc_highvol"]
    assert row["auc_lowvol"] >= row["rv_auc_lowvol"]
    assert row["auc_trend"] > 0.5 and row["auc_trend"] >= row["er30_auc_trend"] - 0.025


def test_dominant_regime_lasts_on_daily_equity_bars() -> None:
    res = ENGINE.run(_real(GOOG))
    dom = res.dominant_regime().iloc[res.warmup :]
    assert median_run(dom.to_numpy()) >= 5
    assert dom.nunique() >= 4


def test_dominant_hysteresis_by_hand() -> None:
    p = np.array([[0.5, 0.4, 0.1], [0.4, 0.5, 0.1], [0.3, 0.6, 0.1], [np.nan] * 3, [0.2, 0.7, 0.1]])
    # bar 1: 0.5 does not beat 0.4 by > 0.1 -> stay 0; bar 2: 0.6 > 0.3 + 0.1 -> 1; NaN resets
    assert _nb.dominant_nb(p, 0.1).tolist() == [0, 0, 1, -1, 1]
    assert _nb.dominant_nb(p, 0.0).tolist() == [0, 1, 1, -1, 1]


def test_volume_gate() -> None:
    df = make_ohlcv(800, 3)
    assert volume_gate(df.assign(volume=5000.0)).max() == 0.0  # constant
    assert volume_gate(df.assign(volume=np.nan)).max() == 0.0  # absent
    assert volume_gate(df).mean() < 0.1  # random, unrelated to price moves
    real = volume_gate(_real(GOOG))
    assert real[300:].mean() > 0.9  # equity volume follows |returns|
    res = ENGINE.run(df.assign(volume=5000.0))
    assert (res.volume_gate == 0).all() and res.latest()["volume_used"] == 0.0
    assert (res.features["volume_zscore"].dropna() == 0).all()


def test_level_features_are_causal_and_scale_free() -> None:
    df = _real(EURUSD).iloc[:1500]
    full = level_features(df)
    pd.testing.assert_frame_equal(level_features(df.iloc[:900]), full.iloc[:900])
    scaled = df.assign(**{c: df[c] * 250.0 for c in ("open", "high", "low", "close")})
    np.testing.assert_allclose(level_features(scaled).to_numpy(), full.to_numpy(), atol=1e-9, equal_nan=True)


def test_volatility_levels_against_pandas_ewm() -> None:
    """lvl_vol_fast / lvl_vol_slow: log EWM vols (pandas, no jump cap) minus the bias-corrected
    EWM of the log slow vol from the vol_slow-th return on (the long-run geometric-mean
    volatility; 0 before), on daily bars (no time-of-day factor)."""
    df = make_ohlcv(700, seed=3)
    lc = dataclasses.replace(ENGINE.config.levels, jump_clip=1e6)
    got = level_features(df, lc)
    r = pd.Series(np.log(df["close"]).diff().to_numpy()).iloc[1:].reset_index(drop=True)
    log_slow = 0.5 * np.log((r * r).ewm(span=lc.vol_slow, adjust=False).mean())
    log_fast = 0.5 * np.log((r * r).ewm(span=lc.vol_fast, adjust=False).mean())
    start = lc.vol_slow - 1
    ref = log_slow.iloc[start:].ewm(span=lc.vol_ref, adjust=True).mean()
    want_slow = np.r_[np.zeros(start), (log_slow.iloc[start:] - ref).to_numpy()]
    want_fast = np.r_[np.zeros(start), (log_fast.iloc[start:] - ref).to_numpy()]
    np.testing.assert_allclose(got["lvl_vol_slow"].to_numpy()[1:], want_slow, atol=1e-9)
    np.testing.assert_allclose(got["lvl_vol_fast"].to_numpy()[1:], want_fast, atol=1e-9)
    assert got["lvl_vol_slow"].isna().iloc[0]


def test_intraday_seasonality_is_divided_out() -> None:
    lab = make_family("intraday", 3000, 2)
    r = pd.Series(log_returns(lab.ohlcv), index=lab.ohlcv.index)
    raw = pd.Series(np.log(lab.ohlcv["close"]).diff().to_numpy(), index=lab.ohlcv.index)
    hour = lab.ohlcv.index.hour
    spread = lambda x: x.iloc[300:].groupby(hour[300:]).std().agg(["max", "min"])  # noqa: E731
    assert spread(raw)["max"] / spread(raw)["min"] > 2.0
    assert spread(r)["max"] / spread(r)["min"] < 1.25
    daily = make_ohlcv(300, 1)
    c = daily["close"].to_numpy()
    raw_d = np.concatenate([[np.nan], np.log(c[1:] / c[:-1])])
    np.testing.assert_array_equal(log_returns(daily), raw_d)  # one slot: unchanged
