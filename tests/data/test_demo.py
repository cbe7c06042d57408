"""The demo vendor: determinism, sub-range equality, regime truth, intraday consistency."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from phi.data.demo import (
    DEMO_LABEL,
    REGIMES,
    demo_regimes,
    generate_demo,
    generate_demo_with_regimes,
)
from phi.data.schema import check_ohlcv
from phi.errors import ConfigError, DataError, SymbolError

LONG = ("1995-01-01", "2024-12-31")  # 30 years of daily bars


@pytest.fixture(scope="module")
def long_daily() -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    return {s: generate_demo_with_regimes(s, *LONG) for s in ("DEMO", "AAPL", "SPY")}


def test_contract_and_label():
    df = generate_demo("DEMO", "2024-01-01", "2024-01-31")
    assert check_ohlcv(df).repairs == []
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert str(df.index.tz) == "UTC" and df.index.name == "timestamp"
    assert len(df) == 23  # weekdays of January 2024
    assert (df.index == df.index.normalize()).all()  # daily bars at 00:00 UTC
    assert df.attrs["label"] == DEMO_LABEL == "SYNTHETIC DEMO DATA"
    assert (df.volume > 0).all() and (df.volume == np.round(df.volume)).all()
    assert (df.low <= df[["open", "close"]].min(axis=1)).all()
    assert (df.high >= df[["open", "close"]].max(axis=1)).all()


def test_deterministic_and_seeded_by_symbol():
    a = generate_demo("DEMO", "2020-01-01", "2020-06-30")
    pd.testing.assert_frame_equal(a, generate_demo("DEMO", "2020-01-01", "2020-06-30"))
    pd.testing.assert_frame_equal(a, generate_demo(" demo ", "2020-01-01", "2020-06-30"))
    b = generate_demo("AAPL", "2020-01-01", "2020-06-30")
    assert not np.allclose(a.close.to_numpy(), b.close.to_numpy())


def test_prices_start_near_100_and_stay_plausible(long_daily):
    first = generate_demo("DEMO", "1990-01-01", "1990-01-05")
    assert 95 < first.open.iloc[0] < 105
    for df, _ in long_daily.values():
        assert df.close.min() > 20 and df.close.max() < 500


@pytest.mark.parametrize("tf", ["1D", "1H", "1m"])
def test_sub_range_equals_larger_range(tf):
    big_span = ("2012-01-01", "2014-12-31") if tf == "1D" else ("2023-11-01", "2023-11-30")
    sub_span = ("2013-02-05", "2013-02-14") if tf == "1D" else ("2023-11-06", "2023-11-08")
    big = generate_demo("SPY", *big_span, timeframe=tf)
    sub = generate_demo("SPY", *sub_span, timeframe=tf)
    pd.testing.assert_frame_equal(sub, big.loc[sub.index])
    pd.testing.assert_series_equal(
        demo_regimes("SPY", *sub_span, timeframe=tf), demo_regimes("SPY", *big_span, timeframe=tf).loc[sub.index]
    )


def test_regimes_series_matches_frame():
    df, labels = generate_demo_with_regimes("DEMO", "2020-01-01", "2021-12-31")
    assert labels.index.equals(df.index) and labels.name == "regime"
    assert set(labels.unique()) <= set(REGIMES)
    pd.testing.assert_series_equal(labels, demo_regimes("DEMO", "2020-01-01", "2021-12-31"))


def test_every_regime_occurs_with_persistence(long_daily):
    for _, labels in long_daily.values():
        assert set(labels.unique()) == set(REGIMES)
        run_id = (labels != labels.shift()).cumsum()
        runs = labels.groupby(run_id).agg(["first", "size"])
        mean_len = runs.groupby("first")["size"].mean()
        assert (mean_len[["trend_up", "trend_down", "range"]] >= 20).all(), mean_len
        assert (mean_len[["vol_burst", "breakout"]] >= 5).all(), mean_len
        assert len(runs) < len(labels) / 15  # regimes switch rarely
        share = labels.value_counts(normalize=True)
        assert (share > 0.02).all(), share


def _log_returns(df: pd.DataFrame) -> pd.Series:
    return np.log(df.close).diff()


def test_regimes_differ_in_their_defining_statistics(long_daily):
    for df, labels in long_daily.values():
        r = _log_returns(df)
        first_day = labels != labels.shift()
        r_in = r[~first_day]  # returns inside a regime segment
        lab = labels[~first_day]
        stats = r_in.groupby(lab).agg(["mean", "std"])
        assert stats.loc["trend_up", "mean"] > 0.0008
        assert stats.loc["trend_down", "mean"] < -0.0008
        assert abs(stats.loc["range", "mean"]) < 0.0004
        assert stats.loc["vol_burst", "std"] >= 2 * stats.loc["range", "std"]
        assert stats.loc["vol_burst", "std"] >= 2 * stats.loc["trend_up", "std"]
        # range: mean reverting -> negative lag-1 autocorrelation inside range segments
        seg = (labels != labels.shift()).cumsum()
        in_range = (labels == "range") & (seg == seg.shift()) & (seg == seg.shift(2))
        lag = r.shift(1)
        ac = np.corrcoef(r[in_range], lag[in_range])[0, 1]
        assert ac < -0.04, ac
        # trends do not mean-revert
        in_trend = labels.isin(["trend_up", "trend_down"]) & (seg == seg.shift()) & (seg == seg.shift(2))
        assert np.corrcoef(r[in_trend], lag[in_trend])[0, 1] > -0.04


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a random ``pos`` value > a random ``neg`` value), ties counted half (Mann-Whitney U / n1 n2)."""
    neg = np.sort(neg)
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float(np.mean(below + 0.5 * ties) / len(neg))


def test_auc_helper_against_a_case_worked_by_hand():
    # pairs (pos > neg): 3>1, 3>2, 3=3 (half), 5>1, 5>2, 5>3 -> 5.5 of 6
    assert _auc(np.array([3.0, 5.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(5.5 / 6)
    assert _auc(np.array([0.0]), np.array([1.0])) == 0.0


def test_volume_carries_no_regime_information(long_daily):
    for df, labels in long_daily.values():
        vol = np.log(df.volume.to_numpy())
        lab = labels.to_numpy()
        for regime in REGIMES:  # each regime against all the others
            auc = _auc(vol[lab == regime], vol[lab != regime])
            assert abs(auc - 0.5) < 0.05, (regime, auc)
        trend = np.isin(lab, ["trend_up", "trend_down"])
        assert abs(_auc(vol[trend], vol[lab == "range"]) - 0.5) < 0.05


def test_bar_range_tells_trend_from_range_no_more_than_the_close_does(long_daily):
    """Given the day's close-to-close move, a range bar is as wide as a trend bar.

    Ranges have quieter closes, so their bars are narrower on average; what must not differ
    is the bar range beyond that. Bars are compared within deciles of |close-to-close return|:
    the mean within-decile AUC of high/low and of true range / previous close, trend vs range.
    """
    for df, labels in long_daily.values():
        prev = df.close.shift().to_numpy()[1:]
        h, lo, c = (df[k].to_numpy()[1:] for k in ("high", "low", "close"))
        lab = labels.to_numpy()[1:]
        move = np.abs(np.log(c / prev))
        cues = {
            "log(high/low)": np.log(h / lo),
            "true range / prev close": (np.maximum(h, prev) - np.minimum(lo, prev)) / prev,
        }
        trend = np.isin(lab, ["trend_up", "trend_down"])
        rng = lab == "range"
        edges = np.quantile(move[trend | rng], np.linspace(0, 1, 11)[1:-1])
        decile = np.searchsorted(edges, move)
        for name, cue in cues.items():
            aucs = [_auc(cue[trend & (decile == d)], cue[rng & (decile == d)]) for d in range(10)]
            assert abs(np.mean(aucs) - 0.5) < 0.05, (name, aucs)


def test_breakout_leaves_its_range_with_a_jump(long_daily):
    df, labels = long_daily["DEMO"]
    mft = demo_regimes("DEMO", *LONG, labels="mft")
    r = _log_returns(df)
    starts = (labels == "breakout") & (labels.shift() != "breakout")
    up = starts & (mft == "BREAKOUT_UP")
    down = starts & (mft == "BREAKOUT_DN")
    assert up.sum() + down.sum() == starts.sum() > 10
    assert (r[up] > 0.02).mean() > 0.9 and (r[down] < -0.02).mean() > 0.9
    # a breakout follows a range most of the time
    assert (labels.shift()[starts] == "range").mean() > 0.8


def test_mft_label_scheme():
    mft = demo_regimes("DEMO", "2000-01-01", "2010-12-31", labels="mft")
    demo = demo_regimes("DEMO", "2000-01-01", "2010-12-31")
    assert set(mft.unique()) <= {"TREND_UP", "TREND_DN", "RANGE", "HIGHVOL", "BREAKOUT_UP", "BREAKOUT_DN"}
    assert ((demo == "trend_up") == (mft == "TREND_UP")).all()
    assert ((demo == "vol_burst") == (mft == "HIGHVOL")).all()
    with pytest.raises(ConfigError, match="label scheme"):
        demo_regimes("DEMO", "2000-01-01", "2000-02-01", labels="xyz")


def _daily_from_intraday(m: pd.DataFrame) -> pd.DataFrame:
    g = m.groupby(m.index.tz_convert("America/New_York").date)
    agg = pd.DataFrame(
        {"open": g.open.first(), "high": g.high.max(), "low": g.low.min(), "close": g.close.last(), "volume": g.volume.sum()}
    )
    agg.index = pd.DatetimeIndex(pd.to_datetime(agg.index)).tz_localize("UTC").as_unit("ns")
    agg.index.name = "timestamp"
    return agg


@pytest.mark.parametrize("tf", ["4H", "1H", "15m", "5m", "1m"])
def test_intraday_aggregates_exactly_to_daily(tf):
    span = ("2024-03-01", "2024-03-20")  # crosses the US DST change on 2024-03-10
    daily = generate_demo("AAPL", *span)
    intraday = generate_demo("AAPL", *span, timeframe=tf)
    assert check_ohlcv(intraday).repairs == []
    pd.testing.assert_frame_equal(_daily_from_intraday(intraday), daily, check_exact=True, check_freq=False)
    labels = demo_regimes("AAPL", *span, timeframe=tf)
    daily_labels = demo_regimes("AAPL", *span)
    per_day = labels.groupby(labels.index.tz_convert("America/New_York").date).agg(["first", "nunique"])
    assert (per_day["nunique"] == 1).all() and (per_day["first"].to_numpy() == daily_labels.to_numpy()).all()


@pytest.mark.parametrize(
    ("tf", "per_day", "first_utc"),
    [("1H", 7, "14:30"), ("4H", 2, "14:30"), ("15m", 26, "14:30"), ("1m", 390, "14:30")],
)
def test_session_stamps(tf, per_day, first_utc):
    df = generate_demo("DEMO", "2024-01-08", "2024-01-08", tf)  # a Monday in EST (UTC-5)
    assert len(df) == per_day
    assert df.index[0].strftime("%H:%M") == first_utc
    local = df.index.tz_convert("America/New_York")
    assert local[0].strftime("%H:%M") == "09:30" and local[-1] < local[0].replace(hour=16, minute=0)
    if tf == "4H":
        assert [t.strftime("%H:%M") for t in local] == ["09:30", "13:30"]
    summer = generate_demo("DEMO", "2024-07-08", "2024-07-08", tf)  # EDT (UTC-4)
    assert summer.index[0].strftime("%H:%M") == "13:30"


def test_one_year_of_minute_bars_is_fast():
    t0 = time.perf_counter()
    df = generate_demo("FAST", "2023-01-01", "2023-12-31", "1m")
    elapsed = time.perf_counter() - t0
    assert len(df) == 260 * 390
    assert elapsed < 2.0, elapsed  # typically ~0.05 s


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        ("2024-01-06", "2024-01-07", "no weekday sessions between 2024-01-06 and 2024-01-07"),
        ("2024-01-06", "2024-01-06", "2024-01-06"),
        ("2024-02-01", "2024-01-01", "after end"),
        ("1980-01-01", "1985-01-01", "outside the synthetic epoch"),
        ("not a date", "2024-01-01", "not a date"),
    ],
)
def test_bad_ranges(start, end, match):
    with pytest.raises(DataError, match=match):
        generate_demo("DEMO", start, end)


def test_bad_symbol_and_timeframe():
    with pytest.raises(SymbolError):
        generate_demo("  ", "2024-01-01", "2024-01-31")
    with pytest.raises(ConfigError, match="timeframe"):
        generate_demo("DEMO", "2024-01-01", "2024-01-31", "2H")
