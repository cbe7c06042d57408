"""Data-health report on hand-made frames with known defects, and on the (healthy) demo data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from phi.data.calendar import exchange_holidays, expected_bars, session_days
from phi.data.demo import generate_demo
from phi.data.health import HealthReport, data_health
from phi.errors import ConfigError, DataError
from tests.conftest import make_ohlcv


def _bars_on(days: pd.DatetimeIndex, seed: int = 0) -> pd.DataFrame:
    """A valid daily frame stamped on exactly ``days``."""
    df = make_ohlcv(len(days), seed=seed)
    df.index = pd.DatetimeIndex(days, name="timestamp").tz_localize("UTC")
    return df


def _exchange_days(start: str, end: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(session_days(start, end, "exchange").astype("datetime64[ns]"))


@pytest.fixture
def clean() -> pd.DataFrame:
    return _bars_on(_exchange_days("2021-03-01", "2021-06-30"))


def test_clean_frame_is_ok(clean):
    r = data_health(clean)
    assert r.status == "ok"
    assert (r.missing_bars, r.duplicate_stamps, r.zero_volume_bars, r.flat_bars, r.ohlc_inconsistent) == (0, 0, 0, 0, 0)
    assert r.suspected_splits == [] and r.gaps == [] and r.uncovered_fraction == 0.0
    assert r.rows == r.expected_bars == len(clean)
    assert r.first == "2021-03-01T00:00:00+00:00" and r.last == "2021-06-30T00:00:00+00:00"
    assert r.summary_lines()[-1] == "no problems found"


def test_three_removed_weekdays_are_three_missing_bars(clean):
    gone = pd.DatetimeIndex(["2021-03-10", "2021-04-20", "2021-04-21"], tz="UTC")
    r = data_health(clean.drop(gone))
    assert r.missing_bars == 3 and r.gap_count == 2
    assert r.gaps == [
        {"after": "2021-03-09T00:00:00+00:00", "before": "2021-03-11T00:00:00+00:00", "missing": 1},
        {"after": "2021-04-19T00:00:00+00:00", "before": "2021-04-22T00:00:00+00:00", "missing": 2},
    ]
    assert r.status == "warn"
    assert any("3 missing bar(s) in 2 gap(s)" in line for line in r.summary_lines())


def test_holidays_are_not_missing_on_the_exchange_calendar():
    # 2024-07-04 (Thursday) is an NYSE holiday; weekday data without it
    days = pd.bdate_range("2024-07-01", "2024-07-12")
    df = _bars_on(days[days != "2024-07-04"])
    assert data_health(df).missing_bars == 0
    assert data_health(df, calendar="weekdays").missing_bars == 1
    with_holiday = _bars_on(days)
    r = data_health(with_holiday)
    assert r.off_calendar_bars == 1 and r.missing_bars == 0 and r.status == "ok"
    assert r.summary_lines()[-2:] == [
        "no problems found",
        "note: 1 bar(s) outside the exchange calendar (holidays, weekends or extended hours; not a problem)",
    ]
    assert data_health(df, calendar="24/7").missing_bars == 1 + 2  # + one weekend
    assert pd.Timestamp("2024-07-04") in exchange_holidays("2024-01-01", "2024-12-31")


def test_many_holidays_known():
    got = set(exchange_holidays("2023-01-01", "2023-12-31").strftime("%Y-%m-%d"))
    assert got == {
        "2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29", "2023-06-19",
        "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25",
    }  # fmt: skip


def test_unadjusted_two_for_one_split(clean):
    df = clean.copy()
    df.iloc[40:, :4] /= 2.0  # prices halve from bar 40 on, never come back
    r = data_health(df)
    assert len(r.suspected_splits) == 1
    ev = r.suspected_splits[0]
    assert ev["kind"] == "split" and ev["ratio"] == "2:1"
    assert ev["at"] == df.index[40].isoformat()
    assert ev["move"] == pytest.approx(df.close.iloc[40] / df.close.iloc[39] - 1, abs=1e-6)
    assert r.status == "bad"
    assert any("likely unrepaired 2:1 split" in line for line in r.summary_lines())


def test_reverse_split_and_small_moves(clean):
    df = clean.copy()
    df.iloc[60:, :4] *= 10.0
    assert [e["ratio"] for e in data_health(df).suspected_splits] == ["1:10"]
    calm = clean.copy()
    calm.iloc[60:, :4] *= 1.35  # a 35 % jump stays below the 40 % threshold
    assert data_health(calm).suspected_splits == []


def test_one_bar_spike_that_reverts(clean):
    df = clean.copy()
    df.iloc[30, :4] *= 3.0  # a bad print: up 200 %, back the next bar
    r = data_health(df)
    assert [e["kind"] for e in r.suspected_splits] == ["spike"]  # the reverting move is not listed again
    assert r.status == "warn"


def test_duplicate_unsorted_zero_volume_flat(clean):
    df = pd.concat([clean, clean.iloc[[5]]])  # one duplicate stamp, appended out of order
    df.iloc[10, df.columns.get_loc("volume")] = 0.0
    df.iloc[11, [0, 1, 2, 3]] = 50.0  # flat bar
    r = data_health(df)
    assert r.duplicate_stamps == 1 and r.unsorted_stamps == 1
    assert r.zero_volume_bars == 1 and r.flat_bars == 1
    assert r.missing_bars == 0 and r.ohlc_inconsistent == 0
    assert r.rows == len(clean) + 1 and r.status == "warn"


def test_ohlc_inconsistencies(clean):
    df = clean.copy()
    i = df.columns.get_loc
    df.iloc[3, i("high")] = df.iloc[3, i("low")] - 1.0  # high < low
    df.iloc[4, i("close")] = df.iloc[4, i("high")] + 1.0  # close above high
    df.iloc[5, i("low")] = -1.0  # non-positive price
    df.iloc[6, i("open")] = np.nan  # missing price
    r = data_health(df)
    assert r.ohlc_inconsistent == 3 and r.nan_bars == 1
    assert r.status == "bad"


def test_raw_inputs_naive_index_and_column_case(clean):
    raw = clean.rename(columns=str.title)
    raw.index = raw.index.tz_localize(None)
    assert data_health(raw).to_dict() == data_health(clean).to_dict()
    ny = clean.copy()
    ny.index = clean.index.tz_localize(None).tz_localize("America/New_York")  # NY midnight stamps
    assert data_health(ny).missing_bars == 0


def test_uncovered_fraction(clean):
    # request March..June, the vendor's history only starts on 2021-05-03
    part = clean.loc["2021-05-03":]
    expected_total = len(clean)
    r = data_health(part, requested_start="2021-03-01", requested_end="2021-06-30", coverage_start="2021-05-03")
    n_uncovered = len(clean.loc[:"2021-04-30"])
    assert r.uncovered_fraction == pytest.approx(n_uncovered / expected_total, abs=1e-6)
    assert r.requested_start == "2021-03-01" and r.requested_end == "2021-06-30"
    assert r.coverage_start == "2021-05-03T00:00:00+00:00"
    assert r.status == "bad"  # more than half uncovered
    assert any("not covered" in line for line in r.summary_lines())
    full = data_health(clean, requested_start="2021-03-01", requested_end="2021-06-30")
    assert full.uncovered_fraction == 0.0 and full.status == "ok"
    # the data stop short of the requested end
    r2 = data_health(clean.loc[:"2021-06-25"], requested_start="2021-03-01", requested_end="2021-06-30")
    assert r2.uncovered_fraction == pytest.approx(3 / expected_total, abs=1e-6)
    assert r2.status == "warn"


def test_empty_frame(clean):
    r = data_health(clean.iloc[:0], requested_start="2021-03-01", requested_end="2021-03-31")
    assert r.rows == 0 and r.status == "bad" and r.uncovered_fraction == 1.0
    assert r.summary_lines() == ["no bars at all"]


def test_intraday_missing_bars():
    df = generate_demo("DEMO", "2024-10-07", "2024-10-18", "1H")  # 10 sessions x 7 bars
    assert data_health(df, "1H").missing_bars == 0
    ny_dates = df.index.tz_convert("America/New_York").date
    drop = (ny_dates == pd.Timestamp("2024-10-10").date()) | df.index.isin(df.index[[8, 9]])
    r = data_health(df[~drop], "1H")
    assert r.missing_bars == 7 + 2 and r.gap_count == 2
    assert r.gaps[1]["missing"] == 7
    assert r.gaps[0] == {
        "after": df.index[7].isoformat(),
        "before": df.index[10].isoformat(),
        "missing": 2,
    }


def test_intraday_early_close_and_holiday():
    # 2024-11-28 Thanksgiving (closed), 2024-11-29 closes at 13:00
    days = session_days("2024-11-25", "2024-12-03", "exchange")
    starts, _ = expected_bars(days, "15m", "exchange")
    idx = pd.DatetimeIndex(starts.view("datetime64[ns]")).tz_localize("UTC")
    df = make_ohlcv(len(idx))
    df.index = idx
    r = data_health(df, "15m")
    assert r.missing_bars == 0 and r.status == "ok"
    assert r.expected_bars == 5 * 26 + 14  # 5 full sessions + 09:30-13:00
    assert data_health(df, "15m", calendar="weekdays").missing_bars == 26 + 12


def test_intraday_24_7():
    idx = pd.date_range("2024-01-01", "2024-01-03 23:00", freq="1h", tz="UTC")
    df = make_ohlcv(len(idx))
    df.index = idx
    assert data_health(df, "1H", calendar="24/7").missing_bars == 0
    assert data_health(df.drop(idx[30:35]), "1H", calendar="24/7").missing_bars == 5


@pytest.mark.parametrize("tf", ["1D", "4H", "5m"])
def test_demo_data_is_healthy(tf):
    span = ("2015-01-01", "2024-12-31") if tf == "1D" else ("2024-06-01", "2024-08-31")
    df = generate_demo("DEMO", *span, timeframe=tf)
    for cal in ("exchange", "weekdays"):
        r = data_health(df, tf, requested_start=span[0], requested_end=span[1], calendar=cal)
        assert r.status == "ok", r.summary_lines()
        assert r.missing_bars == 0 and r.suspected_splits == [] and r.flat_bars == 0
        assert (r.off_calendar_bars > 0) == (cal == "exchange")  # demo trades on holidays


def test_json_round_trip(clean):
    df = clean.drop(clean.index[[3, 4]])
    df.iloc[40:, :4] /= 2.0
    r = data_health(df, requested_start="2021-02-01", requested_end="2021-06-30")
    d = json.loads(json.dumps(r.to_dict()))
    assert d == r.to_dict()
    assert HealthReport.from_dict(d) == r
    assert HealthReport.from_dict({**d, "future_field": 1}) == r
    old = HealthReport.from_dict({"rows": 3, "status": "ok"})
    assert old.timeframe == "1D" and old.gaps == [] and old.first is None


def test_bad_inputs(clean):
    with pytest.raises(DataError, match="missing column"):
        data_health(clean.drop(columns="volume"))
    with pytest.raises(DataError, match="DataFrame"):
        data_health([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="calendar"):
        data_health(clean, calendar="lunar")
    with pytest.raises(ConfigError, match="timeframe"):
        data_health(clean, "2H")
    with pytest.raises(DataError, match="not a date"):
        data_health(clean, requested_start="soon")
