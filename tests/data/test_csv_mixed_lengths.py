"""A CSV file holds bars of one length: intraday bars of two lengths (hourly, then 5-minute) and
daily bars stamped at a time the intraday bars also use (5-minute bars stamped at their end, then
daily bars stamped 16:00; 24/7 hourly bars, then daily bars at 00:00) are refused in one line,
while what a trader's export really looks like (a few missing bars, a half-day session, a
holiday week, a DST change, FX's Sunday evening, a thinly traded day) loads as before.

Sessions are built by hand: 09:30-16:00 New York (13:00 on the day after Thanksgiving), the
NYSE's published 2023 holidays, DST from 12 March and to 5 November 2023; every file is loaded
through what a user calls (``phi.fetch``, ``phi fetch -v csv --path``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import phi
from phi.cli import main
from tests.data.nyse2023 import NY, RANGE, bars, iso, loads, naive_utc, sessions
from tests.data.nyse2023 import refused as _refused


def write(path: Path, stamps: list[str], volume: list[float] | None = None, seed: int = 0) -> Path:
    """A random-walk OHLCV file (high/low around open and close) with ``stamps`` as written."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, len(stamps))))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * 1.001
    low = np.minimum(open_, close) * 0.999
    vol = volume if volume is not None else list(rng.integers(2_000, 9_000, len(stamps)).astype(float))
    rows = (f"{s},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{v:.0f}\n" for s, o, h, lo, c, v in zip(stamps, open_, high, low, close, vol, strict=True))
    path.write_text("Datetime,Open,High,Low,Close,Volume\n" + "".join(rows))
    return path


def refused(path: Path, timeframe: str) -> str:
    return _refused(path, timeframe, phi.fetch)


def cli(capsys: pytest.CaptureFixture[str], path: Path, timeframe: str) -> tuple[int, str]:
    code = main(["fetch", "MINE", "-v", "csv", "--path", str(path), "--start", RANGE[0], "--end", RANGE[1], "--timeframe", timeframe])
    return code, capsys.readouterr().err


# ---- two intraday bar lengths ---------------------------------------------------------------

HOURLY_DAYS = sessions("2023-03-06", "2023-03-17")  # DST starts on Sunday 12 March
FIVE_DAYS = sessions("2023-03-20", "2023-03-31")
HOURLY_THEN_FIVE = [t for d in HOURLY_DAYS for t in bars(d, 60)] + [t for d in FIVE_DAYS for t in bars(d, 5)]


def test_the_hand_built_sessions() -> None:
    assert len(HOURLY_DAYS) == 10 and len(FIVE_DAYS) == 10
    assert len(bars("2023-03-20", 5)) == 78 and len(bars("2023-03-20", 60)) == 7 and len(bars("2023-11-24", 5)) == 42
    # 09:30 New York is 14:30 UTC before the DST change and 13:30 UTC after it
    assert naive_utc(bars("2023-03-10", 60))[0] == "2023-03-10 14:30" and naive_utc(bars("2023-03-13", 60))[0] == "2023-03-13 13:30"


@pytest.mark.parametrize("written", [iso, naive_utc])  # with New York offsets, or naive UTC
def test_hourly_then_five_minute_bars_across_dst_are_refused_naming_both_and_the_change(
    tmp_path: Path, written: object
) -> None:
    path = write(tmp_path / "mix.csv", written(HOURLY_THEN_FIVE))  # type: ignore[operator]
    want = (
        "CSV file 'mix.csv' mixes bars 1 hour apart (2023-03-06 .. 2023-03-17) with bars 5 minutes "
        "apart (2023-03-20 .. 2023-03-31): the bar length changes on 2023-03-20; a file holds one "
        "timeframe: split it there, or resample it to one"
    )
    for tf in ("5m", "1H", "1D"):  # was (5m): 780 5-minute bars plus 70 hourly ones read as 5-minute bars with gaps
        assert refused(path, tf) == want


def test_hourly_bars_through_thanksgiving_week_then_five_minute_bars_are_refused(tmp_path: Path) -> None:
    hourly = sessions("2023-11-13", "2023-11-24")  # closed Thursday 23rd, 13:00 close on Friday 24th
    five = sessions("2023-11-27", "2023-12-01")
    assert len(hourly) == 9 and len(bars("2023-11-24", 60)) == 4
    stamps = [t for d in hourly for t in bars(d, 60)] + [t for d in five for t in bars(d, 5)]
    msg = refused(write(tmp_path / "thanks.csv", iso(stamps)), "5m")
    assert "mixes bars 1 hour apart (2023-11-13 .. 2023-11-24) with bars 5 minutes apart (2023-11-27 .. 2023-12-01)" in msg
    assert "the bar length changes on 2023-11-27" in msg


def test_five_minute_bars_then_one_minute_bars_are_refused(tmp_path: Path) -> None:
    stamps = [t for d in sessions("2023-06-26", "2023-06-30") for t in bars(d, 5)]
    stamps += [t for d in sessions("2023-07-03", "2023-07-07") for t in bars(d, 1)]  # 3 July: a half-day
    msg = refused(write(tmp_path / "fine.csv", iso(stamps)), "1m")
    assert "mixes bars 5 minutes apart (2023-06-26 .. 2023-06-30) with bars 1 minute apart (2023-07-03 .. 2023-07-07)" in msg


def test_crypto_hourly_then_five_minute_bars_around_the_clock_are_refused(tmp_path: Path) -> None:
    hourly = pd.date_range("2023-03-01", "2023-03-15", freq="h", inclusive="left", tz="UTC")
    five = pd.date_range("2023-03-15", "2023-03-18", freq="5min", inclusive="left", tz="UTC")
    stamps = [f"{t:%Y-%m-%dT%H:%M:%SZ}" for t in hourly.append(five)]
    msg = refused(write(tmp_path / "btc.csv", stamps), "5m")  # was: loaded as 5-minute bars
    assert msg.startswith(
        "CSV file 'btc.csv' mixes bars 1 hour apart (2023-03-01 .. 2023-03-14) with bars 5 minutes "
        "apart (2023-03-15 .. 2023-03-17): the bar length changes on 2023-03-15;"
    )


def test_the_cli_refuses_two_bar_lengths_with_exit_2_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(capsys, write(tmp_path / "mix.csv", iso(HOURLY_THEN_FIVE)), "5m")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: CSV file 'mix.csv' mixes bars 1 hour apart") and "changes on 2023-03-20" in err


# ---- what is not a mix: a trader's ordinary export loads as before ----------------------


def test_five_minute_bars_with_missing_bars_a_half_day_and_a_holiday_week_load(tmp_path: Path) -> None:
    stamps = [t for d in sessions("2023-11-13", "2023-12-01") for t in bars(d, 5)]
    for gone in ("2023-11-14 10:05", "2023-11-14 10:10", "2023-11-14 10:15", "2023-11-28 15:55", "2023-11-30 12:00"):
        stamps.remove(pd.Timestamp(gone, tz=NY))  # bars nobody traded in
    assert len(stamps) == 13 * 78 + 42 - 5  # 13 full sessions (Thanksgiving closed)
    loads(write(tmp_path / "five.csv", iso(stamps)), "5m", stamps)


def test_a_thinly_traded_five_minute_file_with_a_few_odd_bars_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    stamps: list[pd.Timestamp] = []
    for d in sessions("2023-05-01", "2023-06-30"):
        day = bars(d, 5)
        stamps += sorted(rng.choice(np.array(day, dtype=object), size=int(rng.integers(3, 12)), replace=False))
    stamps += [bars(d, 5)[0] for d in sessions("2023-07-05", "2023-07-07")]  # then only the open traded
    loads(write(tmp_path / "thin.csv", iso(stamps)), "5m", stamps)


def test_ib_style_hourly_bars_with_a_half_hour_first_bar_load_as_hourly(tmp_path: Path) -> None:
    days = sessions("2023-03-06", "2023-03-17")
    stamps = [pd.Timestamp(f"{d} {h}", tz=NY) for d in days for h in ("09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00")]
    loads(write(tmp_path / "ib.csv", iso(stamps)), "1H", stamps)


def test_fx_hourly_bars_24_5_across_dst_load(tmp_path: Path) -> None:
    # Sunday 17:00 to Friday 17:00 New York: 22:00 UTC on Sunday before 12 March, 21:00 after
    hours = pd.date_range("2023-02-26 17:00", "2023-03-24 17:00", freq="h", inclusive="left", tz=NY)
    dow, hour = hours.day_of_week, hours.hour
    week = hours[~((dow == 5) | ((dow == 4) & (hour >= 17)) | ((dow == 6) & (hour < 17)))]
    assert len(week) == 4 * 120
    stamps = list(week)
    loads(write(tmp_path / "eurusd.csv", [f"{t.tz_convert('UTC'):%Y-%m-%dT%H:%MZ}" for t in stamps]), "1H", stamps)


def test_crypto_hourly_bars_24_7_with_an_outage_load(tmp_path: Path) -> None:
    hours = pd.date_range("2023-03-01", "2023-03-31", freq="h", inclusive="left", tz="UTC")
    stamps = [t for t in hours if not pd.Timestamp("2023-03-10 03:00", tz="UTC") <= t < pd.Timestamp("2023-03-10 09:00", tz="UTC")]
    loads(write(tmp_path / "eth.csv", [f"{t:%Y-%m-%d %H:%M}" for t in stamps]), "1H", stamps)


# ---- daily bars at a time the intraday bars also use ------------------------------------


def _five_then_daily(end_stamped: bool) -> tuple[list[pd.Timestamp], list[float]]:
    """5-minute bars in February 2023 (19 sessions: Presidents' Day), then daily bars in March
    (23 sessions) stamped 16:00 New York, each with a day's volume."""
    five = [t for d in sessions("2023-02-01", "2023-02-28") for t in bars(d, 5, end_stamped=end_stamped)]
    daily = [pd.Timestamp(f"{d} 16:00", tz=NY) for d in sessions("2023-03-01", "2023-03-31")]
    rng = np.random.default_rng(3)
    volume = list(rng.integers(2_000, 9_000, len(five)).astype(float)) + list(rng.integers(300_000, 600_000, len(daily)).astype(float))
    return five + daily, volume


def test_end_stamped_five_minute_bars_then_daily_bars_at_16h_are_refused(tmp_path: Path) -> None:
    stamps, volume = _five_then_daily(end_stamped=True)  # 09:35 .. 16:00: 16:00 is a 5-minute stamp too
    assert len(stamps) == 19 * 78 + 23
    path = write(tmp_path / "tail.csv", iso(stamps), volume)
    want = (
        "CSV file 'tail.csv' mixes 23 daily bars (one stamp a day at 16:00, 2023-03-01 .. 2023-03-31) "
        "with 1,482 intraday bars (5 minutes between stamps within a day); a file holds one "
        "timeframe: split it, or resample it to one"
    )
    for tf in ("5m", "1D"):  # was (5m): the daily bars read as 23 lone 5-minute bars
        assert refused(path, tf) == want


def test_utc_five_minute_bars_then_daily_bars_at_16h_utc_are_refused(tmp_path: Path) -> None:
    stamps, volume = _five_then_daily(end_stamped=False)
    written = naive_utc(stamps[:-23]) + [f"{t:%Y-%m-%d} 16:00" for t in stamps[-23:]]  # 16:00 UTC = 11:00 EST
    msg = refused(write(tmp_path / "utc.csv", written, volume), "5m")
    assert "mixes 23 daily bars (one stamp a day at 16:00, 2023-03-01 .. 2023-03-31) with 1,482 intraday bars" in msg


def test_crypto_daily_history_then_hourly_bars_both_at_midnight_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    daily = pd.date_range("2023-01-01", "2023-01-31", freq="D")
    hourly = pd.date_range("2023-02-01", "2023-03-01", freq="h", inclusive="left")
    stamps = [f"{t:%Y-%m-%d %H:%M}" for t in daily.append(hourly)]
    rng = np.random.default_rng(5)
    volume = list(rng.integers(20_000, 40_000, 31).astype(float)) + list(rng.integers(500, 2_000, 672).astype(float))
    path = write(tmp_path / "btc.csv", stamps, volume)
    want = (
        "CSV file 'btc.csv' mixes 31 daily bars (date-only stamps, 2023-01-01 .. 2023-01-31) with 672 "
        "intraday bars (1 hour between stamps within a day); a file holds one timeframe: split it, or resample it to one"
    )
    assert refused(path, "1H") == want  # was: loaded as 1H bars, January's daily bars as lone 00:00 bars
    code, err = cli(capsys, path, "1H")
    assert code == 2 and err == f"error: {want}\n"


def test_lone_bars_of_an_ordinary_bar_s_volume_at_the_end_stay_intraday(tmp_path: Path) -> None:
    """The end of a 5-minute file where only the 16:00 bar traded, with an ordinary bar's
    volume: a thin stretch of intraday bars, not daily bars."""
    stamps, _ = _five_then_daily(end_stamped=True)
    loads(write(tmp_path / "quiet.csv", iso(stamps)), "5m", stamps)
