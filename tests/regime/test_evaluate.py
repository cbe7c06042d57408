"""The evaluation harness: metrics by hand, families, ex-post labels, baselines, the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from phi.errors import ConfigError
from phi.regime.evaluate import (
    HIT_MEASURES,
    baselines,
    evaluate_families,
    hit_aucs,
    hit_markdown,
    hit_measures,
    main,
    to_markdown,
    truth_bins,
)
from phi.regime.families import FAMILIES, ex_post_labels, make_family
from phi.regime.metrics import balanced_accuracy, median_run, roc_auc, spearman
from tests.conftest import make_ohlcv

SMALL = 1200


def test_auc_hand_worked() -> None:
    # positives 0.35, 0.8 vs negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3 of 4
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])) == 0.75
    # a tie counts one half: positive 0.5 vs negatives 0.5, 0.2 -> (0.5 + 1) / 2
    assert roc_auc(np.array([0.5, 0.5, 0.2]), np.array([True, False, False])) == 0.75
    assert np.isnan(roc_auc(np.array([1.0, 2.0]), np.array([True, True])))


def test_median_run_and_spearman() -> None:
    assert median_run(["a", "a", "b", "a", "a", "a", "c"]) == 1.5  # runs 2, 1, 3, 1
    assert median_run(["a", "a", "b", "a", "a", "a", "c", "c"]) == 2.0  # runs 2, 1, 3, 2
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=300), rng.normal(size=300)
    y = y + 0.5 * x
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)
    assert balanced_accuracy(["a", "b", "b"], ["a", "a", "b"]) == pytest.approx(0.75)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_families_are_seeded_labelled_and_volume_is_noise(name: str) -> None:
    lab = make_family(name, SMALL, 7)
    df = lab.ohlcv
    again = make_family(name, SMALL, 7)
    pd.testing.assert_frame_equal(df, again.ohlcv)
    assert not make_family(name, SMALL, 8).ohlcv.equals(df)
    assert len(df) == len(lab.direction) == len(lab.vol) == SMALL
    assert set(lab.direction) <= {"up", "down", "range"} and set(lab.vol) <= {"low", "normal", "high"}
    assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all() and (df["low"] > 0).all()
    assert df.index.is_monotonic_increasing and df.index.tz is not None
    r = np.abs(np.diff(np.log(df["close"].to_numpy())))
    logv = np.log(df["volume"].to_numpy()[1:])
    if name != "intraday":  # intraday volume follows the time of day, as its volatility does
        assert abs(spearman(r, logv)) < 0.1


def test_family_errors() -> None:
    with pytest.raises(ConfigError, match="trend_ou"):
        make_family("trend_uo")
    with pytest.raises(ConfigError, match="at least 100"):
        make_family("garch", 10)


def test_ex_post_labels_by_hand() -> None:
    # returns: 20 steady +1 % bars, then 20 bars alternating -1 % / +1 %; horizon 5.
    # t <= 15 sees only the climb (ER 1, vol 0): "up", "low"; 20 <= t <= 35 only the zigzag
    # (ER 0.2, vol ~1 %): "range", "high" (the climb: "low"/"normal", its vol ~0 up to rounding); the last 5 bars have no full future: unlabelled.
    r = np.concatenate([[0.0], np.full(20, 0.01), np.tile([-0.01, 0.01], 10)])
    df = make_ohlcv(len(r), 1).assign(close=100 * np.exp(np.cumsum(r)))
    lab = ex_post_labels(df, horizon=5)
    assert (lab.direction[:16] == "up").all() and "high" not in set(lab.vol[:16])
    assert (lab.direction[20:36] == "range").all() and (lab.vol[20:36] == "high").all()
    assert (lab.direction[36:] == None).all() and (lab.vol[36:] == None).all()  # noqa: E711


def test_truth_bins_and_baselines_are_causal() -> None:
    d = np.array(["up", "down", "range", "range", None], dtype=object)
    v = np.array(["normal", "normal", "high", "low", "normal"], dtype=object)
    assert list(truth_bins(d, v)) == ["TREND_UP", "TREND_DN", "HIGHVOL", "LOWVOL", None]
    df = make_ohlcv(600, 2)
    full = baselines(df)
    part = baselines(df.iloc[:400])
    pd.testing.assert_frame_equal(full.iloc[:400], part)


def test_hit_rate_and_measure_aucs_by_hand() -> None:
    # bins TREND_UP, TREND_DN, RANGE, BREAKOUT_UP, BREAKOUT_DN, EXHAUST_REV, LOWVOL, HIGHVOL
    probs = np.array([
        [0.50, 0.2 / 6, 0.30, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6],  # top 0.5, margin 0.2
        [0.35, 0.25 / 6, 0.40, 0.25 / 6, 0.25 / 6, 0.25 / 6, 0.25 / 6, 0.25 / 6],  # 0.4, 0.05
        [0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.10, 0.70],  # 0.7, 0.6
        [0.45 / 6, 0.25, 0.30, 0.45 / 6, 0.45 / 6, 0.45 / 6, 0.45 / 6, 0.45 / 6],  # unlabelled bar
    ])
    mix = pd.DataFrame({"confidence": [0.1, 0.3, 0.2, 0.9], "c_field": [0.2, 0.2, 0.1, 0.0]})
    m = hit_measures(probs, mix)
    assert set(m) == set(HIT_MEASURES)
    np.testing.assert_allclose(m["p_top"], [0.5, 0.4, 0.7, 0.3])
    np.testing.assert_allclose(m["margin"], [0.2, 0.05, 0.6, 0.05])
    dom = np.array(["TREND_UP", "RANGE", "HIGHVOL", "RANGE"], dtype=object)
    truth = np.array(["TREND_UP", "TREND_UP", "HIGHVOL", None], dtype=object)
    out = hit_aucs(m, dom, truth)
    # labelled bars 0-2: right, wrong, right; the unlabelled bar 3 (confidence 0.9) is not scored
    assert out["hit_rate"] == pytest.approx(2 / 3)
    assert out["auc_hit_margin"] == 1.0 and out["auc_hit_p_top"] == 1.0  # both right bars above 0.05 / 0.4
    assert out["auc_hit_confidence"] == 0.0  # right 0.1, 0.2 below wrong 0.3
    assert out["auc_hit_c_field"] == 0.25  # right 0.2 ties wrong 0.2 (1/2), right 0.1 below it (0)


def test_harness_on_small_families_reports_every_figure() -> None:
    table = evaluate_families(n=SMALL, families=("trend_ou", "vol_states"), skip=300)
    assert list(table.index) == ["trend_ou", "vol_states"]
    for col in ("auc_trend", "er30_auc_trend", "bal_acc", "base_bal_acc", "median_run", "ic", "mom_ic"):
        assert table[col].notna().all(), col
    assert np.isnan(table.loc["trend_ou", "auc_highvol"])  # one vol state only
    assert table.loc["vol_states", "rv_auc_highvol"] > 0.7  # the baseline sees the vol states
    assert table.loc["trend_ou", "er30_auc_trend"] > 0.6  # and ER30 the trends
    dom = table[[c for c in table.columns if c.startswith("dominant_")]].sum(axis=1)
    np.testing.assert_allclose(dom, 1.0)
    md = to_markdown(table)
    assert md.count("\n") == 3 and "| vol_states |" in md
    for col in ("hit_rate", *(f"auc_hit_{m}" for m in HIT_MEASURES)):
        assert table[col].between(0.0, 1.0).all(), col
    assert hit_markdown(table).count("\n") == 3


def test_main_prints_a_table(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    path = tmp_path / "bars.csv"
    make_ohlcv(700, 4).to_csv(path)
    assert main(["--n", "700", "--csv", str(path)]) == 0
    out = capsys.readouterr().out
    assert "| garch |" in out and f"| {path} |" in out and "AUC margin" not in out
    assert main(["--n", "700", "--csv", str(path), "--confidence"]) == 0
    out = capsys.readouterr().out
    assert "| family | hit rate | AUC confidence | AUC c_field | AUC p_top | AUC margin |" in out
