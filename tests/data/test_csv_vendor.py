"""csv vendor: hand-made files with different headers, number styles and date formats, and bad ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from phi.data.fetchers import fetch, fetch_result
from phi.data.vendors import csv_vendor as cv
from phi.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"
WIDE = ("2000-01-01", "2030-12-31")


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg
    return msg


def write(tmp_path: Path, text: str, name: str = "bars.csv") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def from_csv(path: str, tf: str = "1D", start: str = WIDE[0], end: str = WIDE[1], symbol: str = ""):
    return fetch_result(symbol, start, end, tf, "csv", path=path)


# ---- good files ---------------------------------------------------------------------------


def test_yahoo_style_export():
    res = from_csv(str(FIXTURES / "csv_yahoo_style.csv"), symbol="aapl")
    assert res.symbol == "AAPL" and res.vendor == "csv" and len(res.frame) == 5
    assert res.frame.index[0] == pd.Timestamp("2024-01-02", tz="UTC")
    assert res.frame["close"].iloc[0] == 185.64  # Close, not Adj Close
    assert res.frame["volume"].iloc[0] == 82488700.0
    assert res.adjustment == "raw" and res.exchange_tz == "UTC" and res.coverage_start is None
    assert res.extra["columns"]["close"] == "Close" and res.extra["file_timeframe"] == "1D"


def test_nasdaq_style_dollars_us_dates_newest_first():
    res = from_csv(str(FIXTURES / "csv_nasdaq_style.csv"))
    assert res.symbol == "CSV_NASDAQ_STYLE"
    assert res.frame.index.is_monotonic_increasing and len(res.frame) == 5
    first = res.frame.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        187.15,
        188.44,
        183.89,
        185.64,
    )
    assert res.frame.loc[pd.Timestamp("2024-01-04", tz="UTC"), "high"] == 183.0872
    assert res.extra["date_format"] == "%m/%d/%Y" and res.extra["columns"]["close"] == "Close/Last"
    assert "sorted the bars by time" in res.repairs


def test_same_bars_from_two_formats_are_equal():
    a = from_csv(str(FIXTURES / "csv_yahoo_style.csv")).frame
    b = from_csv(str(FIXTURES / "csv_nasdaq_style.csv")).frame
    cols = ["open", "low", "close"]
    pd.testing.assert_frame_equal(a[cols].iloc[:4], b[cols].iloc[:4])  # row 5: 182.09 vs 182.085


def test_epoch_milliseconds_and_short_names():
    res = from_csv(str(FIXTURES / "csv_epoch_ms_5m.csv"), "5m")
    assert res.frame.index[0] == pd.Timestamp("2024-01-05 14:30", tz="UTC")
    assert res.frame.index[1] - res.frame.index[0] == pd.Timedelta(minutes=5)
    assert res.extra["date_format"] == "epoch milliseconds"
    assert res.frame["close"].tolist() == [182.10, 182.35, 182.25, 182.55, 182.70]


def test_epoch_seconds(tmp_path):
    path = write(
        tmp_path,
        "time,open,high,low,close,volume\n1704465000,1,2,0.5,1.5,10\n1704465060,1.5,2,1,1.2,11\n",
    )
    res = from_csv(path, "1m")
    assert res.frame.index[0] == pd.Timestamp("2024-01-05 14:30", tz="UTC")
    assert res.extra["date_format"] == "epoch seconds"


def test_offsets_converted_to_utc_and_semicolons():
    res = from_csv(str(FIXTURES / "csv_offsets_1h.csv"), "1H")
    assert res.frame.index[0] == pd.Timestamp("2024-03-08 14:30", tz="UTC")
    assert res.frame.index[7] == pd.Timestamp("2024-03-11 13:30", tz="UTC")  # -04:00 after DST


def test_offsets_file_as_4h_uses_its_own_wall_clock():
    res = from_csv(str(FIXTURES / "csv_offsets_1h.csv"), "4H")
    assert list(res.frame.index) == list(
        pd.DatetimeIndex(
            ["2024-03-08 14:30", "2024-03-08 18:30", "2024-03-11 13:30"], tz="UTC", name="timestamp"
        )
    )
    assert res.frame["volume"].tolist() == [10000.0, 18000.0, 17000.0]
    assert res.frame["high"].tolist() == [104.0, 107.0, 109.0]


def test_daily_rows_written_as_local_midnight_keep_their_date(tmp_path):
    # what DataFrame.to_csv writes for yfinance daily bars
    path = write(
        tmp_path,
        "Date,Open,High,Low,Close,Volume\n"
        "2024-01-02 00:00:00-05:00,10,11,9,10.5,100\n2024-01-03 00:00:00-05:00,10.5,11,10,10.8,120\n",
    )
    res = from_csv(path)
    assert list(res.frame.index) == list(
        pd.DatetimeIndex(["2024-01-02", "2024-01-03"], tz="UTC", name="timestamp")
    )


def test_missing_volume_becomes_zero_with_note_and_day_first_dates():
    res = from_csv(str(FIXTURES / "csv_no_volume_eu.csv"))
    assert (res.frame["volume"] == 0.0).all()
    assert any("no volume column; volume set to 0" in r for r in res.repairs)
    assert res.frame.index[0] == pd.Timestamp("2024-01-15", tz="UTC")
    assert res.extra["date_format"] == "%d/%m/%Y"


def test_naive_intraday_times_read_as_utc_with_a_note(tmp_path):
    path = write(
        tmp_path,
        "Datetime,Open,High,Low,Close,Volume\n"
        "2024-01-05 14:30,1,2,0.5,1.5,1\n2024-01-05 15:30,1.5,2,1,1.2,1\n",
    )
    res = from_csv(path, "1H")
    assert res.frame.index[0] == pd.Timestamp("2024-01-05 14:30", tz="UTC")
    assert any("intraday times read as UTC" in r for r in res.repairs)


def test_naive_intraday_times_in_a_given_zone(tmp_path):
    path = write(
        tmp_path,
        "Datetime,Open,High,Low,Close,Volume\n"
        "2024-01-05 09:30,1,2,0.5,1.5,1\n2024-01-05 10:30,1.5,2,1,1.2,1\n",
    )
    src = cv.fetch_csv(path, "1H", tz="US/Eastern")
    assert src.exchange_tz == "America/New_York"
    assert src.frame.index[0] == pd.Timestamp("2024-01-05 14:30", tz="UTC") and src.notes == []


def test_separate_date_and_time_columns_and_other_formats(tmp_path):
    path = write(
        tmp_path,
        "Date,Time,Open,High,Low,Close,Vol\n"
        "2024/01/05,09:30,1,2,0.5,1.5,7\n2024/01/05,09:35,1.5,2,1,1.2,8\n",
    )
    res = from_csv(path, "5m")
    assert res.frame.index[1] == pd.Timestamp("2024-01-05 09:35", tz="UTC")
    assert res.frame["volume"].tolist() == [7.0, 8.0]
    path = write(
        tmp_path,
        "date,open,high,low,close\n20240105,1,2,0.5,1.5\n20240108,1.5,2,1,1.2\n",
        "ymd.csv",
    )
    assert from_csv(path).frame.index[1] == pd.Timestamp("2024-01-08", tz="UTC")


def test_only_adj_close_is_labelled_adjusted(tmp_path):
    path = write(
        tmp_path,
        "Date,Open,High,Low,Adj Close,Volume\n2024-01-02,10,11,9,10.5,1\n2024-01-03,10,11,9,10.2,1\n",
    )
    res = from_csv(path)
    assert res.adjustment == "adjusted" and res.frame["close"].iloc[0] == 10.5


def test_unnamed_index_column_and_thousands_separators(tmp_path):
    path = write(
        tmp_path,
        ',open,high,low,close,volume\n2024-01-02,"1,000.5","1,010",990,"1,005","2,500,000"\n',
    )
    res = from_csv(path)
    assert res.frame.iloc[0].tolist() == [1000.5, 1010.0, 990.0, 1005.0, 2_500_000.0]


def test_sliced_to_the_requested_dates():
    res = from_csv(str(FIXTURES / "csv_yahoo_style.csv"), start="2024-01-03", end="2024-01-04")
    assert len(res.frame) == 2 and res.start == pd.Timestamp("2024-01-03", tz="UTC")


def test_nan_rows_dropped_and_reported(tmp_path):
    path = write(
        tmp_path,
        "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,1\n2024-01-03,,,,,\n"
        "2024-01-04,10,11,9,10.2,1\n",
    )
    res = from_csv(path)
    assert len(res.frame) == 2 and any("dropped 1 bar(s) with no prices" in r for r in res.repairs)


def test_duplicate_rows_repaired_and_reported(tmp_path):
    path = write(
        tmp_path,
        "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,1\n2024-01-02,10,11,9,10.6,1\n"
        "2024-01-03,10,11,9,10.2,1\n",
    )
    res = from_csv(path)
    assert len(res.frame) == 2 and res.frame["close"].iloc[0] == 10.6
    assert any(
        "dropped 1 duplicate timestamp(s), first at 2024-01-02 00:00:00+00:00; kept the last row of each" in r
        for r in res.repairs
    )


# ---- bad files ----------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(DataError) as err:
        fetch("", *WIDE, vendor="csv", path=str(tmp_path / "nope.csv"))
    assert one_line(err.value).startswith("CSV file not found:") and "nope.csv" in str(err.value)


def test_directory_and_empty_file(tmp_path):
    with pytest.raises(DataError, match="is not a file"):
        fetch("X", *WIDE, vendor="csv", path=str(tmp_path))
    with pytest.raises(DataError, match="is empty"):
        fetch("X", *WIDE, vendor="csv", path=write(tmp_path, ""))


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "Date,Open,High,Low,Close\n2024-01-02,1,2,0.5,1\n")
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if str(self) == path:
            raise PermissionError(13, "Permission denied", path)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(DataError) as err:
        fetch("X", *WIDE, vendor="csv", path=path)
    assert one_line(err.value).startswith("could not read CSV file") and "Permission denied" in str(
        err.value
    )


def test_unknown_time_zone(tmp_path):
    path = write(
        tmp_path,
        "Datetime,Open,High,Low,Close\n2024-01-05 09:30,1,2,0.5,1\n2024-01-05 10:30,1,2,0.5,1\n",
    )
    with pytest.raises(DataError) as err:
        cv.fetch_csv(path, "1H", tz="Mars/Olympus")
    assert "unknown time zone 'Mars/Olympus'" in one_line(err.value)


def test_binary_garbage(tmp_path):
    p = tmp_path / "bars.csv"
    p.write_bytes(b"\xff\xfe\x00\x81garbage\x00\x9c")
    with pytest.raises(DataError) as err:
        fetch("X", *WIDE, vendor="csv", path=str(p))
    one_line(err.value)


def test_missing_column_named_with_columns_found(tmp_path):
    path = write(tmp_path, "Date,Open,Low,Close\n2024-01-02,1,0.5,1\n")
    with pytest.raises(DataError) as err:
        fetch("X", *WIDE, vendor="csv", path=path)
    msg = one_line(err.value)
    assert msg.startswith("CSV file 'bars.csv': no 'high' column")
    assert "columns found: Date, Open, Low, Close" in msg


def test_header_only(tmp_path):
    with pytest.raises(DataError, match="header but no data rows"):
        fetch("X", *WIDE, vendor="csv", path=write(tmp_path, "Date,Open,High,Low,Close\n"))


def test_unreadable_dates(tmp_path):
    path = write(tmp_path, "Date,Open,High,Low,Close\nsoon,1,2,0.5,1\nlater,1,2,0.5,1\n")
    with pytest.raises(DataError) as err:
        fetch("X", *WIDE, vendor="csv", path=path)
    assert "could not read the dates in column 'Date', e.g. 'soon'" in one_line(err.value)


def test_text_in_a_price_column(tmp_path):
    path = write(
        tmp_path, "Date,Open,High,Low,Close\n2024-01-02,1,2,0.5,1\n2024-01-03,1,two,0.5,1\n"
    )
    with pytest.raises(DataError) as err:
        fetch("X", *WIDE, vendor="csv", path=path)
    assert "column 'High' holds a value that is not a number: 'two'" in one_line(err.value)


def test_timeframe_mismatch(tmp_path):
    with pytest.raises(DataError) as err:
        fetch("X", *WIDE, timeframe="1H", vendor="csv", path=str(FIXTURES / "csv_yahoo_style.csv"))
    assert "holds 1D bars, not 1H; pass timeframe='1D'" in one_line(err.value)


def test_high_below_low_rejected(tmp_path):
    path = write(tmp_path, "Date,Open,High,Low,Close\n2024-01-02,1,0.5,2,1\n")
    with pytest.raises(DataError, match="high < low"):
        fetch("X", *WIDE, vendor="csv", path=path)


def test_mixed_time_zone_stamps(tmp_path):
    path = write(
        tmp_path,
        "Datetime,Open,High,Low,Close\n2024-01-05 09:30-05:00,1,2,0.5,1\n2024-01-05 10:30,1,2,0.5,1\n",
    )
    with pytest.raises(DataError, match="mixes stamps with and without a time zone"):
        fetch("X", *WIDE, "1H", vendor="csv", path=path)


def test_find_columns_and_parse_dates_are_pure():
    cols = cv.find_columns(["DATE", "o", "h", "l", "c", "v"])
    assert cols == {
        "open": "o",
        "high": "h",
        "low": "l",
        "close": "c",
        "volume": "v",
        "date": "DATE",
    }
    wall, utc, fmt = cv.parse_dates(
        pd.Series(["2024-01-05T14:30:00Z", "2024-01-05T14:35:00Z"]), "t"
    )
    assert (
        fmt == "ISO8601"
        and utc is not None
        and utc[0] == pd.Timestamp("2024-01-05 14:30", tz="UTC")
    )
    assert (
        cv.infer_timeframe(
            pd.DatetimeIndex(["2024-01-05 09:30", "2024-01-05 09:45", "2024-01-05 10:00"])
        )
        == "15m"
    )
