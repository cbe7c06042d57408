"""A CSV file holds bars of one length, also where the second length hides on the first one's
grid or clock: hourly beside 4H bars (the 4H stamps 09:30 and 13:30 are hourly stamps too), one
day (or a few single days) of intraday bars in a daily file, a stretch of daily bars at 00:00 or
16:00 inside an intraday file that also uses that time. Each is refused in one line naming both
lengths, their dates and where the length changes; what a real export looks like (4H bars on
their own, thin hourly or 1-minute bars, FX's Sunday evening, 24/7 bars, weekly gaps, a single
day of bars, DST, half-days) loads unchanged.

Sessions are built by hand: 09:30-16:00 New York (13:00 on the day after Thanksgiving and on
3 July), the NYSE's published 2023 holidays, DST from 12 March and to 5 November 2023. Files
have no volume column unless said (volume 0: only the stamps can tell), and are loaded through
what a user calls (``phi.get_dataset``, ``phi fetch -v csv --path``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.cli import main
from tests.data.nyse2023 import NY, RANGE, bars, iso, loads, naive, naive_utc, refused, sessions

TOLD = "a file holds one timeframe: split it there, or resample it to one"


def four_hour(day: str) -> list[pd.Timestamp]:
    """yfinance's 4H bars of one session: 09:30 and 13:30 (only 09:30 on a 13:00 close)."""
    return [t for t in bars(day, 60) if f"{t:%H:%M}" in ("09:30", "13:30")]


def write(path: Path, stamps: Sequence[str], volume: Sequence[float] | None = None) -> Path:
    """A random-walk OHLC file with ``stamps`` as written; a volume column only if given."""
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, len(stamps))))
    open_ = np.concatenate([[100.0], close[:-1]])
    high, low = np.maximum(open_, close) * 1.001, np.minimum(open_, close) * 0.999
    cols = "Datetime,Open,High,Low,Close" + (",Volume" if volume is not None else "")
    rows = [f"{s},{o:.2f},{h:.2f},{lo:.2f},{c:.2f}" for s, o, h, lo, c in zip(stamps, open_, high, low, close, strict=True)]
    if volume is not None:
        rows = [f"{r},{v:.0f}" for r, v in zip(rows, volume, strict=True)]
    path.write_text(cols + "\n" + "\n".join(rows) + "\n")
    return path


def test_the_hand_built_sessions() -> None:
    assert len(sessions("2023-03-06", "2023-03-31")) == 20 and len(sessions("2023-04-03", "2023-04-28")) == 19  # Good Friday
    assert len(sessions("2023-02-01", "2023-02-28")) == 19 and len(sessions("2023-03-01", "2023-03-31")) == 23
    assert len(sessions("2023-01-03", "2023-06-30")) == 20 + 19 + 23 + 19 + 22 + 21
    assert four_hour("2023-11-24") == [pd.Timestamp("2023-11-24 09:30", tz=NY)]
    # 4H bars at 09:30 and 13:30 New York: 14:30 and 18:30 UTC in February, 13:30 and 17:30 after 12 March
    assert naive_utc(four_hour("2023-02-01")) == ["2023-02-01 14:30", "2023-02-01 18:30"]
    assert naive_utc(four_hour("2023-03-13")) == ["2023-03-13 13:30", "2023-03-13 17:30"]


# ---- (a) hourly and 4H bars in one file ---------------------------------------------------------

HOURLY_MARCH = [t for d in sessions("2023-03-06", "2023-03-31") for t in bars(d, 60)]
FOUR_H_APRIL = [t for d in sessions("2023-04-03", "2023-04-28") for t in four_hour(d)]


def test_hourly_then_4h_bars_are_refused_naming_both_lengths_and_the_change(tmp_path: Path) -> None:
    assert len(HOURLY_MARCH) == 20 * 7 and len(FOUR_H_APRIL) == 19 * 2
    path = write(tmp_path / "h4.csv", iso(HOURLY_MARCH + FOUR_H_APRIL))
    want = (
        "CSV file 'h4.csv' mixes bars 1 hour apart (2023-03-06 .. 2023-03-31) with bars 4 hours apart "
        f"(2023-04-03 .. 2023-04-28): the bar length changes on 2023-04-03; {TOLD}"
    )
    for tf in ("1H", "4H"):  # was (1H): 178 bars, April's 4H bars read as hourly bars with gaps
        assert refused(path, tf) == want


def test_4h_then_hourly_bars_in_utc_across_dst_are_refused(tmp_path: Path) -> None:
    four = [t for d in sessions("2023-02-01", "2023-03-31") for t in four_hour(d)]  # DST on 12 March
    hourly = [t for d in sessions("2023-04-03", "2023-04-14") for t in bars(d, 60)]
    path = write(tmp_path / "h4utc.csv", naive_utc(four + hourly))
    want = (
        "CSV file 'h4utc.csv' mixes bars 4 hours apart (2023-02-01 .. 2023-03-31) with bars 1 hour apart "
        f"(2023-04-03 .. 2023-04-14): the bar length changes on 2023-04-03; {TOLD}"
    )
    for tf in ("4H", "1H"):  # was (4H): loaded, April's hourly bars as 4H bars
        assert refused(path, tf) == want


def test_a_week_of_4h_bars_between_hourly_ones_is_refused(tmp_path: Path) -> None:
    four = [t for d in sessions("2023-04-03", "2023-04-07") for t in four_hour(d)]  # 4 sessions: Good Friday
    hourly = [t for d in sessions("2023-04-10", "2023-04-21") for t in bars(d, 60)]
    msg = refused(write(tmp_path / "week.csv", iso(HOURLY_MARCH + four + hourly)), "1H")
    assert msg == (
        "CSV file 'week.csv' mixes bars 1 hour apart (2023-03-06 .. 2023-04-21) with bars 4 hours apart "
        f"(2023-04-03 .. 2023-04-06): the bar length changes on 2023-04-03; {TOLD}"
    )


def test_the_cli_refuses_hourly_beside_4h_bars_with_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "h4.csv", iso(HOURLY_MARCH + FOUR_H_APRIL))
    code = main(["fetch", "MINE", "-v", "csv", "--path", str(path), "--start", RANGE[0], "--end", RANGE[1], "--timeframe", "1H"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: CSV file 'h4.csv' mixes bars 1 hour apart") and "changes on 2023-04-03" in err


# ---- (b) one day, or a few single days, of intraday bars in a daily file ----------------------


def test_one_day_of_24_7_hourly_bars_inside_a_daily_file_is_refused(tmp_path: Path) -> None:
    before = pd.date_range("2023-01-01", "2023-03-31", freq="D")
    day = pd.date_range("2023-04-01", "2023-04-02", freq="h", inclusive="left")
    after = pd.date_range("2023-04-02", "2023-06-30", freq="D")
    assert (len(before), len(day), len(after)) == (90, 24, 90)
    stamps = [f"{d:%Y-%m-%d}" for d in before] + naive(list(day)) + [f"{d:%Y-%m-%d}" for d in after]
    msg = refused(write(tmp_path / "btc.csv", stamps), "1H")  # was: 204 hourly bars, 180 of them lone 00:00 bars
    assert msg == (
        "CSV file 'btc.csv' mixes 180 daily bars (date-only stamps: 2023-01-01 .. 2023-03-31 and "
        "2023-04-02 .. 2023-06-30) with 24 bars 1 hour apart (2023-04-01): the bar length changes on "
        f"2023-04-01 and back on 2023-04-02; {TOLD}"
    )


def test_one_day_of_hourly_bars_after_a_daily_history_is_refused(tmp_path: Path) -> None:
    daily = [f"{d:%Y-%m-%d} 00:00" for d in pd.date_range("2023-01-01", "2023-03-31", freq="D")]
    stamps = daily + naive(list(pd.date_range("2023-04-01", "2023-04-02", freq="h", inclusive="left")))
    msg = refused(write(tmp_path / "eth.csv", stamps, [1_000.0] * len(stamps)), "1H")  # one volume for all rows
    assert msg == (
        "CSV file 'eth.csv' mixes 90 daily bars (date-only stamps: 2023-01-01 .. 2023-03-31) with 24 bars "
        f"1 hour apart (2023-04-01): the bar length changes on 2023-04-01; {TOLD}"
    )


def test_three_single_days_of_five_minute_bars_in_a_close_stamped_daily_file_are_refused(tmp_path: Path) -> None:
    blocks = ("2023-02-15", "2023-03-15", "2023-04-14")
    stamps: list[pd.Timestamp] = []
    for d in sessions("2023-01-03", "2023-06-30"):  # 124 sessions
        stamps += bars(d, 5, end_stamped=True) if d in blocks else [pd.Timestamp(f"{d} 16:00", tz=NY)]
    assert len(stamps) == 121 + 3 * 78  # the 5-minute bars end at 16:00 too
    msg = refused(write(tmp_path / "spy.csv", iso(stamps)), "5m")  # was: loaded as 354 5-minute bars
    assert msg == (
        "CSV file 'spy.csv' mixes 121 daily bars (one stamp a day at 16:00: 2023-01-03 .. 2023-02-14, "
        "2023-02-16 .. 2023-03-14 and 2 more stretches) with 234 bars 5 minutes apart (2023-02-15, "
        "2023-03-15 and 2023-04-14): the bar length changes on 2023-02-15, 2023-02-16 and 4 more dates; "
        f"{TOLD}"
    )


# ---- (c) a stretch of daily bars inside an intraday file ------------------------------------


def test_daily_bars_at_midnight_between_24_7_hourly_bars_are_refused(tmp_path: Path) -> None:
    first = pd.date_range("2023-03-01", "2023-03-15", freq="h", inclusive="left")
    daily = pd.date_range("2023-03-15", "2023-04-15", freq="D", inclusive="left")
    then = pd.date_range("2023-04-15", "2023-04-30", freq="h", inclusive="left")
    assert (len(first), len(daily), len(then)) == (14 * 24, 31, 15 * 24)
    msg = refused(write(tmp_path / "sol.csv", naive(list(first.append(daily).append(then)))), "1H")
    # was: 727 hourly bars, the 31 daily bars among them as lone 00:00 bars
    assert msg == (
        "CSV file 'sol.csv' mixes 696 bars 1 hour apart (2023-03-01 .. 2023-03-14 and 2023-04-15 .. "
        "2023-04-29) with 31 daily bars (date-only stamps: 2023-03-15 .. 2023-04-14): the bar length "
        f"changes on 2023-03-15 and back on 2023-04-15; {TOLD}"
    )


def test_daily_bars_at_16h_between_end_stamped_five_minute_bars_are_refused(tmp_path: Path) -> None:
    stamps = [t for d in sessions("2023-02-01", "2023-02-28") for t in bars(d, 5, end_stamped=True)]
    stamps += [pd.Timestamp(f"{d} 16:00", tz=NY) for d in sessions("2023-03-01", "2023-03-31")]
    stamps += [t for d in sessions("2023-04-03", "2023-04-28") for t in bars(d, 5, end_stamped=True)]
    msg = refused(write(tmp_path / "qqq.csv", iso(stamps)), "5m")
    assert msg == (
        "CSV file 'qqq.csv' mixes 2,964 bars 5 minutes apart (2023-02-01 .. 2023-02-28 and 2023-04-03 .. "
        "2023-04-28) with 23 daily bars (one stamp a day at 16:00: 2023-03-01 .. 2023-03-31): the bar "
        f"length changes on 2023-03-01 and back on 2023-04-03; {TOLD}"
    )


# ---- what is not a mix -------------------------------------------------------------------------


@pytest.mark.parametrize("written", [iso, naive_utc])
def test_4h_bars_on_their_own_with_half_days_and_dst_load(tmp_path: Path, written: object) -> None:
    stamps = [t for d in sessions("2023-06-01", "2023-12-29") for t in four_hour(d)]
    assert len(stamps) == 2 * 147 - 2  # 3 July and 24 November close at 13:00: one bar
    loads(write(tmp_path / "four.csv", written(stamps)), "4H", stamps)  # type: ignore[operator]


def test_24_7_4h_and_fx_4h_bars_with_sunday_evenings_load(tmp_path: Path) -> None:
    crypto = list(pd.date_range("2023-01-01", "2023-06-01", freq="4h", inclusive="left", tz="UTC"))
    loads(write(tmp_path / "btc4h.csv", naive(crypto)), "4H", crypto)
    # FX: Sunday 17:00 to Friday 17:00 New York, 4H bars from 17:00 (Sunday's one bar is alone on its date)
    hours = pd.date_range("2023-02-26 17:00", "2023-04-28 17:00", freq="4h", inclusive="left", tz=NY)
    dow, hour = hours.day_of_week, hours.hour
    fx = list(hours[~((dow == 5) | ((dow == 4) & (hour >= 17)) | ((dow == 6) & (hour < 17)))])
    assert len(fx) == 9 * 30
    loads(write(tmp_path / "eur4h.csv", [f"{t.tz_convert('UTC'):%Y-%m-%dT%H:%MZ}" for t in fx]), "4H", fx)


def test_a_single_day_of_intraday_bars_loads(tmp_path: Path) -> None:
    loads(write(tmp_path / "one.csv", iso(bars("2023-03-15", 60))), "1H", bars("2023-03-15", 60))
    # a 24/7 day exported with its end bound: 25 bars, the last one alone on the next date
    day = list(pd.date_range("2023-03-15", "2023-03-16", freq="h", tz="UTC"))
    loads(write(tmp_path / "day.csv", naive(day)), "1H", day)


def test_hourly_bars_with_weekly_gaps_or_one_day_a_week_load(tmp_path: Path) -> None:
    every_other = [d for i, d in enumerate(sessions("2023-01-03", "2023-12-29")) if (i // 5) % 2 == 0]
    stamps = [t for d in every_other for t in bars(d, 60)]
    loads(write(tmp_path / "weeks.csv", naive_utc(stamps)), "1H", stamps)
    mondays = [t for d in sessions("2023-01-03", "2023-12-29") if pd.Timestamp(d).day_of_week == 0 for t in bars(d, 60)]
    loads(write(tmp_path / "mondays.csv", iso(mondays)), "1H", mondays)


def test_hourly_bars_through_the_year_end_holidays_and_half_days_load(tmp_path: Path) -> None:
    stamps = [t for d in sessions("2023-06-26", "2023-12-29") for t in bars(d, 60)]  # 3 July, 24 Nov: 4 bars
    loads(write(tmp_path / "h2.csv", naive_utc(stamps)), "1H", stamps)


def test_thin_hourly_bars_the_open_and_one_more_hour_load(tmp_path: Path) -> None:
    """A liquid January, then the open and one other hour a day: four days running on
    09:30 and 13:30 (the 4H stamps) are a thin stretch, not 4H bars."""
    rng = np.random.default_rng(7)
    stamps = [t for d in sessions("2023-01-03", "2023-01-31") for t in bars(d, 60)]
    pairs = [(d, int(rng.integers(1, 7))) for d in sessions("2023-02-01", "2023-06-30")]
    stamps += [t for d, k in pairs for t in (bars(d, 60)[0], bars(d, 60)[k])]
    run = "".join("x" if k == 4 else "." for _, k in pairs)
    assert "xxxx" in run  # the construction holds four 09:30 + 13:30 days in a row
    loads(write(tmp_path / "thin.csv", iso(stamps)), "1H", stamps)


def test_thin_hourly_bars_with_days_of_one_bar_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    stamps: list[pd.Timestamp] = []
    for d in sessions("2023-01-03", "2023-12-29"):
        day = bars(d, 60)
        stamps += sorted(rng.choice(np.array(day, dtype=object), size=int(rng.integers(1, 4)), replace=False))
    loads(write(tmp_path / "thin1.csv", iso(stamps)), "1H", stamps)


def test_thin_one_minute_bars_after_a_liquid_month_load(tmp_path: Path) -> None:
    """One to three trades a day at odd minutes after a liquid January: a few lone minutes
    no busy day has are not daily bars (was: refused as 'daily bars at 13:45')."""
    rng = np.random.default_rng(4)
    stamps = [t for d in sessions("2023-01-03", "2023-01-31") for t in bars(d, 1)]
    for d in sessions("2023-02-01", "2023-12-29"):
        day = bars(d, 1)
        stamps += sorted(rng.choice(np.array(day, dtype=object), size=int(rng.integers(1, 4)), replace=False))
    loads(write(tmp_path / "thin1m.csv", naive_utc(stamps)), "1m", stamps)


def test_24_7_hourly_bars_with_a_day_of_one_bar_and_extended_hours_spilling_past_midnight_load(tmp_path: Path) -> None:
    hours = pd.date_range("2023-03-01", "2023-04-01", freq="h", inclusive="left", tz="UTC")
    hours = hours[~((hours >= "2023-03-10 01:00") & (hours < "2023-03-11"))]  # maintenance: only 00:00
    loads(write(tmp_path / "maint.csv", naive(list(hours))), "1H", list(hours))
    # 04:00-20:00 New York, end-stamped: Friday's last bar falls on Saturday in UTC, alone
    ext = [pd.Timestamp(f"{d} 05:00", tz=NY) + pd.Timedelta(hours=k) for d in sessions("2023-01-03", "2023-03-31") for k in range(16)]
    loads(write(tmp_path / "ext.csv", naive_utc(ext)), "1H", ext)
