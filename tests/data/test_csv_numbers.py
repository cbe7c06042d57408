"""Data that is wrong but looks fine: decimal commas are read as decimals (1,5 -> 1.5, never 15),
ambiguous or mixed files are refused, and an uploaded file is never reused from a partial copy."""

from __future__ import annotations

import hashlib
import os

import pandas as pd
import pytest

from phi.data.fetchers import fetch
from phi.data.uploads import store_upload, upload_name, uploads_root
from phi.data.vendors import csv_vendor as cv
from phi.errors import DataError

IDX = pd.DatetimeIndex(["2024-01-02", "2024-01-03"], tz="UTC", name="timestamp")


def read(tmp_path, text: str) -> pd.DataFrame:
    path = tmp_path / "bars.csv"
    path.write_text(text)
    return fetch("", "2024-01-01", "2024-01-31", vendor="csv", path=str(path))


def expect(open_, high, low, close, volume) -> pd.DataFrame:
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=IDX, dtype="float64"
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (  # the reported case: semicolons and decimal commas; 1,5 is one and a half
            "Date;Open;High;Low;Close;Volume\n02.01.2024;1,5;2,0;1,0;1,75;1.234\n03.01.2024;1,6;2,1;1,1;1,85;2.345\n",
            expect([1.5, 1.6], [2.0, 2.1], [1.0, 1.1], [1.75, 1.85], [1234.0, 2345.0]),
        ),
        (  # thousands dots and decimal commas
            "Date;Open;High;Low;Close;Volume\n2024-01-02;1.234,50;1.300,00;1.200,00;1.250,25;1.234.567\n"
            "2024-01-03;1.250,00;1.310,00;1.240,00;1.300,00;2.000.000\n",
            expect([1234.5, 1250.0], [1300.0, 1310.0], [1200.0, 1240.0], [1250.25, 1300.0], [1234567.0, 2000000.0]),
        ),
        (  # tab-separated with spaces as thousands separators (French style)
            "Date\tOpen\tHigh\tLow\tClose\tVolume\n2024-01-02\t1 234,5\t1 300\t1 200\t1 250,25\t1 000\n"
            "2024-01-03\t1 250\t1 310\t1 240\t1 300\t2 000\n",
            expect([1234.5, 1250.0], [1300.0, 1310.0], [1200.0, 1240.0], [1250.25, 1300.0], [1000.0, 2000.0]),
        ),
        (  # quoted decimal commas in a comma-separated file
            'Date,Open,High,Low,Close,Volume\n2024-01-02,"1,5","2,0","1,0","1,75",100\n2024-01-03,"1,6","2,1","1,1","1,85",200\n',
            expect([1.5, 1.6], [2.0, 2.1], [1.0, 1.1], [1.75, 1.85], [100.0, 200.0]),
        ),
        (  # US style: quoted thousands commas and a decimal point
            'Date,Open,High,Low,Close,Volume\n2024-01-02,"1,234.5",1300,1200,"1,250.25","1,000,000"\n'
            '2024-01-03,1250,1310,1240,1300,"2,000,000"\n',
            expect([1234.5, 1250.0], [1300.0, 1310.0], [1200.0, 1240.0], [1250.25, 1300.0], [1e6, 2e6]),
        ),
        (  # quoted "1,234" in a comma-separated file is a thousands separator
            'Date,Open,High,Low,Close,Volume\n2024-01-02,"1,234",1300,1200,1250,100\n2024-01-03,1250,1310,1240,1300,200\n',
            expect([1234.0, 1250.0], [1300.0, 1310.0], [1200.0, 1240.0], [1250.0, 1300.0], [100.0, 200.0]),
        ),
        (  # semicolons with a decimal point (and 3 decimals) stay decimal points
            "Date;Open;High;Low;Close;Volume\n2024-01-02;1.234;1.300;1.200;1.250;100\n2024-01-03;1.250;1.310;1.240;1.300;200\n",
            expect([1.234, 1.25], [1.3, 1.31], [1.2, 1.24], [1.25, 1.3], [100.0, 200.0]),
        ),
        (  # scientific notation
            "Date,Open,High,Low,Close,Volume\n2024-01-02,1.5e2,2e2,1e2,1.75e2,1e3\n2024-01-03,150,200,100,175,1000\n",
            expect([150.0, 150.0], [200.0, 200.0], [100.0, 100.0], [175.0, 175.0], [1000.0, 1000.0]),
        ),
    ],
)
def test_numbers_are_read_with_the_right_decimal_mark(tmp_path, text, want):
    pd.testing.assert_frame_equal(read(tmp_path, text), want, check_freq=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (  # every value reads both ways: 1,234 is 1234 or 1.234
            "Date;Open;High;Low;Close;Volume\n2024-01-02;1,234;1,300;1,200;1,250;100\n2024-01-03;1,250;1,310;1,240;1,300;100\n",
            "cannot tell whether ',' in '1,234'",
        ),
        (  # a decimal point in one column, decimal commas in another
            "Date;Open;High;Low;Close;Volume\n2024-01-02;1.5;2,0;1,0;1,75;1\n2024-01-03;1,6;2,1;1,1;1,85;2\n",
            "writes numbers two ways: '1.5' (decimal point) and",
        ),
        (  # unquoted decimal commas in a comma-separated file: more fields than names
            "Date,Open,High,Low,Close,Volume\n2024-01-02,1,5,2,0,1,0,1,75,100\n2024-01-03,1,6,2,1,1,1,1,85,100\n",
            "has rows with 10 fields but 6 column names; numbers with a decimal comma need ';'",
        ),
        (  # one surplus field shifts every column: refused, not read shifted
            "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,100,7\n2024-01-03,1,2,0.5,1.5,100,7\n",
            "has rows with 7 fields but 6 column names",
        ),
    ],
)
def test_ambiguous_or_mixed_numbers_are_refused(tmp_path, text, words):
    with pytest.raises(DataError) as err:
        read(tmp_path, text)
    msg = str(err.value)
    assert words in msg and "\n" not in msg


def test_detect_decimal_is_pure():
    s = pd.Series
    assert cv.detect_decimal([s(["1,5", "2"])], ";") == ","
    assert cv.detect_decimal([s(["1.5", "2"])], ";") == "."
    assert cv.detect_decimal([s(["1,234,567"]), s(["1.5"])], ",") == "."
    assert cv.detect_decimal([s(["1.234.567"]), s(["1,5"])], ";") == ","
    assert cv.detect_decimal([s(["100", "200"])], ";") == "."
    assert cv.detect_decimal([s(["1,234"])], ",") == "."
    with pytest.raises(DataError):
        cv.detect_decimal([s(["1,234"])], ";")


def test_fixtures_still_read_the_same():
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    df = fetch("", "2024-01-01", "2024-12-31", vendor="csv", path=str(fixtures / "csv_no_volume_eu.csv"))
    assert df["close"].tolist()[:3] == [10.2, 10.8, 10.5]


# ---- uploads -------------------------------------------------------------------------------


def test_upload_is_stored_content_addressed():
    data = b"date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n"
    path = store_upload(data, "../my fund (2024).csv")
    assert path.parent == uploads_root() and path.read_bytes() == data
    assert path.name == f"{hashlib.sha256(data).hexdigest()[:12]}_my_fund__2024_.csv"
    assert store_upload(data, "../my fund (2024).csv") == path  # same bytes: reused
    assert [p.name for p in uploads_root().iterdir()] == [path.name]  # no temp file left


@pytest.mark.parametrize("partial", [b"", b"date,open,high,low,close\n2024-01-02,1,2", b"x" * 10_000])
def test_partial_copy_under_the_same_name_is_replaced(partial):
    data = b"date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n2024-01-03,1,2,0.5,1.5\n"
    target = uploads_root() / upload_name(data, "bars.csv")
    target.parent.mkdir(parents=True)
    target.write_bytes(partial)  # an interrupted earlier write
    assert store_upload(data, "bars.csv") == target
    assert target.read_bytes() == data


def test_same_size_different_bytes_are_replaced():
    data = b"date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n"
    target = uploads_root() / upload_name(data, "bars.csv")
    target.parent.mkdir(parents=True)
    target.write_bytes(data.replace(b"1.5", b"9.5"))
    store_upload(data, "bars.csv")
    assert target.read_bytes() == data


def test_a_symlink_in_the_way_is_refused_and_its_target_untouched(tmp_path):
    data = b"date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n"
    target = uploads_root() / upload_name(data, "bars.csv")
    target.parent.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    os.symlink(victim, target)
    with pytest.raises(DataError, match="not a regular file"):
        store_upload(data, "bars.csv")
    assert victim.read_text() == "mine"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("date,open,high,low,close\n2024-01-02,1,2,0.5,1.5 \u00e9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9)"),
        ("date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n".encode("utf-16"), "(it looks like UTF-16)"),
        (bytes(range(256)) * 4, "not UTF-8 text"),
    ],
)
def test_non_utf8_files_are_one_line_errors(tmp_path, data, words):
    path = tmp_path / "bars.csv"
    path.write_bytes(data)
    with pytest.raises(DataError) as err:
        fetch("", "2024-01-01", "2024-01-31", vendor="csv", path=str(path))
    assert words in str(err.value) and "save it as UTF-8" in str(err.value) and "\n" not in str(err.value)
