"""The bar frequency of a CSV file is told by what its stamps are (phi.data.calendar.bar_frequency,
the rule portfolios use), not by their median gap: one stamp a day is daily bars however sparse
(a thinly traded symbol, long halts, a weekly or monthly sample), two stamps on one date are
intraday bars, daily bars beside intraday ones in one file are refused in one line.

Every file is written by hand to a tmp dir and loaded through what a user calls: ``phi.get_dataset`` /
``phi.fetch`` and ``phi fetch --vendor csv --path`` (exit code 2 and one line for a refusal).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import phi
from phi.cli import main
from phi.errors import DataError

HEAD = "date,open,high,low,close,volume\n"
#: the NYSE's full-day closures of 2023 (its published holiday list)
HOLIDAYS_2023 = [
    "2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29",
    "2023-06-19", "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25",
]  # fmt: skip
DAYS_2023 = pd.bdate_range("2023-01-01", "2023-12-31", freq="C", holidays=HOLIDAYS_2023)
RANGE = ("2023-01-01", "2023-12-31")


def _write(path: Path, stamps: list[str]) -> Path:
    path.write_text(HEAD + "".join(f"{s},10,11,9,10.5,1000\n" for s in stamps))
    return path


def _dates(days: pd.DatetimeIndex) -> list[str]:
    return [f"{d:%Y-%m-%d}" for d in days]


def _hours(days: pd.DatetimeIndex, minutes: list[int]) -> list[str]:
    """Stamps ``minutes`` after UTC midnight on each day, written naive (read as UTC)."""
    return [f"{d + pd.Timedelta(minutes=m):%Y-%m-%d %H:%M}" for d in days for m in minutes]


def _utc(stamps: list[str]) -> list[pd.Timestamp]:
    return [pd.Timestamp(s, tz="UTC") for s in stamps]


def test_the_hand_built_calendar_has_the_250_sessions_of_2023() -> None:
    assert len(DAYS_2023) == 250 and DAYS_2023[0] == pd.Timestamp("2023-01-03")


@pytest.mark.parametrize(("step", "bars", "apart"), [(5, 50, 7), (10, 25, 14)])
def test_a_daily_file_with_a_bar_every_5th_or_10th_session_loads_as_daily(
    tmp_path: Path, step: int, bars: int, apart: int
) -> None:
    stamps = _dates(DAYS_2023[::step])
    res = phi.get_dataset("THIN", *RANGE, "1D", "csv", path=str(_write(tmp_path / "thin.csv", stamps)))
    # was: "holds bars about 7 (14) days apart (weekly or monthly?) ... give a daily file"
    assert list(res.frame.index) == _utc(stamps) and len(res.frame) == bars
    assert any(f"daily bars a median {apart} days apart" in n for n in res.metadata["repairs"])


def test_a_daily_file_with_a_three_month_halt_loads_as_daily(tmp_path: Path) -> None:
    halted = DAYS_2023[(DAYS_2023 < "2023-03-01") | (DAYS_2023 >= "2023-06-01")]  # March, April, May
    assert len(halted) == 250 - 23 - 19 - 22
    res = phi.get_dataset("HALT", *RANGE, "1D", "csv", path=str(_write(tmp_path / "halt.csv", _dates(halted))))
    assert list(res.frame.index) == _utc(_dates(halted))
    i = list(res.frame.index).index(pd.Timestamp("2023-02-28", tz="UTC"))
    assert res.frame.index[i + 1] == pd.Timestamp("2023-06-01", tz="UTC")  # the halt is a gap, not bars
    assert not any("median" in n for n in res.metadata["repairs"])  # daily bars a day apart: nothing to say


def test_a_thin_file_with_a_halt_loads_as_daily(tmp_path: Path) -> None:
    thin = DAYS_2023[(DAYS_2023 < "2023-03-01") | (DAYS_2023 >= "2023-06-01")][::10]
    res = phi.get_dataset("HALT", *RANGE, "1D", "csv", path=str(_write(tmp_path / "thin_halt.csv", _dates(thin))))
    assert list(res.frame.index) == _utc(_dates(thin)) and len(res.frame) == 19


@pytest.mark.parametrize(
    ("freq", "count", "apart"),
    [("W-FRI", 52, 7), ("MS", 12, 31)],  # weekly on Fridays; monthly on the 1st
)
def test_weekly_and_monthly_files_load_as_sparse_daily_bars_with_a_note(
    tmp_path: Path, freq: str, count: int, apart: int
) -> None:
    stamps = _dates(pd.date_range("2023-01-01", "2023-12-31", freq=freq))
    res = phi.get_dataset("WK", *RANGE, "1D", "csv", path=str(_write(tmp_path / "sample.csv", stamps)))
    assert list(res.frame.index) == _utc(stamps) and len(res.frame) == count
    assert any(f"a median {apart} days apart" in n and "weekly or monthly sample" in n for n in res.metadata["repairs"])


def test_daily_bars_stamped_at_the_close_in_utc_across_dst_are_session_dates(tmp_path: Path) -> None:
    days = DAYS_2023[(DAYS_2023 >= "2023-03-01") & (DAYS_2023 < "2023-04-01")][::5]
    # the 16:00 New York close: 21:00 UTC before 12 March (EST), 20:00 UTC after (EDT)
    stamps = [f"{d:%Y-%m-%d} {'21' if d < pd.Timestamp('2023-03-12') else '20'}:00" for d in days]
    res = phi.get_dataset("CLOSE", *RANGE, "1D", "csv", path=str(_write(tmp_path / "close.csv", stamps)))
    # was: kept at 20:00 / 21:00 UTC (one clock time was required), against the 00:00 UTC convention
    assert list(res.frame.index) == _utc(_dates(days))
    assert any("stamps its daily bars at 20:00 or 21:00" in n for n in res.metadata["repairs"])


def test_an_hourly_file_loads_as_hourly(tmp_path: Path) -> None:
    stamps = _hours(DAYS_2023[20:30], [14 * 60 + 30 + 60 * k for k in range(7)])  # 09:30..15:30 EST
    res = phi.get_dataset("HR", *RANGE, "1H", "csv", path=str(_write(tmp_path / "hourly.csv", stamps)))
    assert list(res.frame.index) == _utc(stamps)
    with pytest.raises(DataError, match="holds 1H bars, not 1D; pass timeframe='1H'"):
        phi.fetch("HR", *RANGE, "1D", "csv", path=str(tmp_path / "hourly.csv"))


def test_a_thinly_traded_hourly_file_is_still_hourly(tmp_path: Path) -> None:
    # 3 days with 3 bars, then 12 days with only their first hour (10:30 EST) traded
    busy = _hours(DAYS_2023[20:23], [15 * 60 + 30, 16 * 60 + 30, 17 * 60 + 30])
    stamps = busy + _hours(DAYS_2023[23:35], [15 * 60 + 30])
    res = phi.get_dataset("THINH", *RANGE, "1H", "csv", path=str(_write(tmp_path / "thin_hourly.csv", stamps)))
    # was: median gap one day -> "holds 1D bars, not 1H"
    assert list(res.frame.index) == _utc(stamps)


def test_a_five_minute_file_loads_as_five_minute_bars(tmp_path: Path) -> None:
    stamps = _hours(DAYS_2023[20:23], [14 * 60 + 30 + 5 * k for k in range(78)])  # 78 bars a session
    res = phi.get_dataset("FIVE", *RANGE, "5m", "csv", path=str(_write(tmp_path / "five.csv", stamps)))
    assert len(res.frame) == 3 * 78 and list(res.frame.index) == _utc(stamps)


def _mixed(tmp_path: Path, minutes: list[int]) -> Path:
    """January 2023 as daily bars (20 sessions), then 10 February sessions of intraday bars."""
    january = DAYS_2023[DAYS_2023 < "2023-02-01"]
    assert len(january) == 20
    return _write(tmp_path / "mixed.csv", _dates(january) + _hours(DAYS_2023[20:30], minutes))


@pytest.mark.parametrize(
    ("minutes", "timeframe", "intraday"),
    [
        ([14 * 60 + 30 + 60 * k for k in range(7)], "1H", "70 intraday bars (1 hour between stamps within a day)"),
        ([14 * 60 + 30 + 5 * k for k in range(78)], "5m", "780 intraday bars (5 minutes between stamps within a day)"),
    ],
)
def test_a_file_mixing_daily_and_intraday_bars_is_refused_in_one_line(
    tmp_path: Path, minutes: list[int], timeframe: str, intraday: str
) -> None:
    path = _mixed(tmp_path, minutes)
    for tf in (timeframe, "1D"):  # was: read as the majority's timeframe, the others kept as extra bars
        with pytest.raises(DataError) as err:
            phi.fetch("MIX", *RANGE, tf, "csv", path=str(path))
        msg = str(err.value)
        assert "\n" not in msg
        assert msg == (
            "CSV file 'mixed.csv' mixes 20 daily bars (date-only stamps, 2023-01-03 .. 2023-01-31) "
            f"with {intraday}; a file holds one timeframe: split it, or resample it to one"
        )


def _cli(capsys: pytest.CaptureFixture[str], path: Path, timeframe: str) -> tuple[int, str, str]:
    code = main(["fetch", "MINE", "-v", "csv", "--path", str(path), "--start", RANGE[0], "--end", RANGE[1], "--timeframe", timeframe])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_loads_a_sparse_daily_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "thin.csv", _dates(DAYS_2023[::5]))
    code, out, err = _cli(capsys, path, "1D")
    assert code == 0 and not err
    assert "MINE 1D (csv)" in out and "│ 50 " in out and "2023-01-03" in out


@pytest.mark.parametrize(
    ("name", "stamps", "timeframe", "said"),
    [
        (
            "mixed.csv",
            _dates(DAYS_2023[DAYS_2023 < "2023-02-01"]) + _hours(DAYS_2023[20:30], [14 * 60 + 30 + 60 * k for k in range(7)]),
            "1H",
            "mixes 20 daily bars (date-only stamps, 2023-01-03 .. 2023-01-31) with 70 intraday bars",
        ),
        ("weekly.csv", _dates(pd.date_range("2023-01-01", "2023-12-31", freq="W-FRI")), "1H", "holds 1D bars, not 1H"),
        ("seven.csv", _hours(DAYS_2023[20:22], [14 * 60 + 30 + 7 * k for k in range(50)]), "5m", "not 5m bars"),
    ],
)
def test_the_cli_refuses_a_mixed_or_mismatched_file_with_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, stamps: list[str], timeframe: str, said: str
) -> None:
    code, _, err = _cli(capsys, _write(tmp_path / name, stamps), timeframe)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: CSV file '{name}' ") and said in err
