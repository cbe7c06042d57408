"""Absurd dates anywhere in the data layer are a one-line PhiError, never an OverflowError,
OutOfBoundsDatetime or NotImplementedError traceback."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from phi.cli import main
from phi.data import cache, store
from phi.data.dates import EARLIEST, LATEST, in_span
from phi.data.fetchers import fetch, parse_date_range
from phi.data.schema import check_ohlcv
from phi.data.vendors import csv_vendor as cv
from phi.errors import ConfigError, DataError
from tests.conftest import make_ohlcv


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg and len(msg) < 300
    return msg


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("0000-01-01", "2024-01-01", "outside the supported dates"),
        ("0001-01-01", "2024-01-01", "outside the supported dates"),
        ("-2000-01-01", "2024-01-01", "outside the supported dates"),
        ("1000-01-01", "2024-01-01", "outside the supported dates"),
        ("2020-01-01", "9999-12-31", "outside the supported dates"),
        ("2020-01-01", "3000-01-01", "outside the supported dates"),
        ("9999-99-99", "2024-01-01", "could not read start date"),
        ("2020-01-01", "99999-01-01", "could not read end date"),
        ("2020-13-01", "2024-01-01", "could not read start date"),
        ("1e20", "2024-01-01", "could not read start date"),
        ("2024-02-01", "2024-01-01", "is after end"),
        (dt.date(1, 1, 1), "2024-01-01", "outside the supported dates"),
        (np.datetime64("2300-01-01"), np.datetime64("2301-01-01"), "outside the supported dates"),
    ],
)
def test_bad_request_dates_are_config_errors(start, end, words):
    with pytest.raises(ConfigError) as err:
        store.get_dataset("DEMO", start, end)
    assert words in _one_line(err.value)
    with pytest.raises(ConfigError):
        parse_date_range(start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [("0000-01-01", "2024-01-01"), ("9999-99-99", "2024-01-01"), ("2024-02-01", "2024-01-01"), ("1900-01-01", "9999-12-31")],
)
def test_bad_dates_in_the_cli_exit_2(capsys, start, end):
    assert main(["fetch", "DEMO", "--start", start, "--end", end]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error:")


def test_span_edges():
    assert in_span(EARLIEST) and in_span(LATEST + pd.Timedelta(hours=23))
    assert not in_span(EARLIEST - pd.Timedelta(seconds=1)) and not in_span(LATEST + pd.Timedelta(days=1))
    assert parse_date_range("1800-01-01", "2200-12-31")[0] == pd.Timestamp("1800-01-01", tz="UTC")


def test_cache_paths_refuse_absurd_dates():
    with pytest.raises(ConfigError, match="outside the supported dates"):
        cache.dataset_paths("demo", "AAPL", "1D", "0000-01-01", "2020-01-01")


def test_frames_with_stamps_past_2200_are_refused():
    far = make_ohlcv(100_000)  # business days from 2020 run into the 23rd century
    with pytest.raises(DataError) as err:
        check_ohlcv(far, what="far")
    assert "outside the supported dates" in _one_line(err.value)
    with pytest.raises(DataError):
        cache.save_dataset(far, "demo", "AAPL", "1D", "2020-01-01", "2021-01-01")


def _csv(tmp_path, stamps: list[str]) -> str:
    rows = "".join(f"{s},10,11,9,10.5,100\n" for s in stamps)
    path = tmp_path / "bars.csv"
    path.write_text("date,open,high,low,close,volume\n" + rows)
    return str(path)


@pytest.mark.parametrize(
    "stamps",
    [
        ["100000000000000000000", "100000000000000000001"],  # epoch near 1e20 (overflows ns)
        ["-99999999999999999999", "-99999999999999999998"],
        ["1700000000", "100000000000000000000"],  # one absurd row among good ones
        ["9" * 400, "9" * 401],  # becomes inf as a float
        ["100000000000000000000.5", "100000000000000000001.5"],
        ["0000-01-01", "0000-01-02"],
        ["9999-12-30", "9999-12-31"],
        ["1600-01-01", "1600-01-02"],
        ["01/01/0001", "01/02/0001"],
        ["1700-01-01T00:00Z", "1700-01-02T00:00Z"],
        ["2300-01-01 09:30", "2300-01-01 10:30"],
    ],
)
def test_absurd_csv_stamps_are_one_line_data_errors(tmp_path, stamps):
    path = _csv(tmp_path, stamps)
    with pytest.raises(DataError) as err:
        fetch("", "1990-01-01", "2030-01-01", vendor="csv", path=path)
    msg = _one_line(err.value)
    assert "outside the supported dates" in msg and "'date'" in msg


def test_absurd_csv_stamp_through_the_cli(tmp_path, capsys):
    path = _csv(tmp_path, ["100000000000000000000", "100000000000000000001"])
    assert main(["fetch", "X", "-v", "csv", "--path", path, "--start", "1990-01-01", "--end", "2030-01-01"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "epoch value outside the supported dates" in err


def test_plausible_epochs_still_read():
    wall, utc, label = cv.parse_dates(pd.Series(["1704067200", "1704153600"]), "t")
    assert label == "epoch seconds" and utc is not None
    assert list(utc) == [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC")]


@pytest.mark.parametrize("stamps", [["1e20", "2e20"], ["-1", "-2"], ["99999999", "99999998"]])
def test_odd_numbers_in_the_date_column_are_data_errors(tmp_path, stamps):
    with pytest.raises(DataError) as err:
        fetch("", "1990-01-01", "2030-01-01", vendor="csv", path=_csv(tmp_path, stamps))
    _one_line(err.value)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"vendor": "csv", "path": "x" * 5000}, "File name too long"),
        ({"vendor": "csv", "path": "a\x00b"}, "CSV file not found"),
        ({"start": 10**400}, "is of type int"),
        ({"start": "9" * 5000}, "could not read start date"),
    ],
)
def test_huge_values_give_short_one_line_errors(kwargs, words):
    args = {"symbol": "", "start": "2020-01-01", "end": "2020-02-01", **kwargs}
    with pytest.raises((ConfigError, DataError)) as err:
        store.get_dataset(args.pop("symbol"), args.pop("start"), args.pop("end"), **args)
    assert words in _one_line(err.value) and len(str(err.value)) < 200
