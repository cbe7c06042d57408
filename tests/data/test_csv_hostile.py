"""CSV files found by the hostile-input audit: refused before pandas spends minutes on them or
misreads them, one line naming the file and the problem."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from phi.cli import main
from phi.data.vendors import csv_vendor as cv
from phi.errors import DataError

ROWS = "".join(f"2021-01-{d:02d},10,11,9,10.5,1000\n" for d in range(4, 29))
OHLC = "date,open,high,low,close,volume\n"


def _sparse(path: Path, head: str, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.write(head.encode())
        fh.truncate(size)  # the rest reads as NUL bytes, takes no disk
    return path


def _refusal(path: Path) -> str:
    t0 = time.perf_counter()
    with pytest.raises(DataError) as err:
        cv.fetch_csv(path, "1D")
    assert time.perf_counter() - t0 < 10  # a 600 MB file used to run for minutes
    msg = str(err.value)
    assert "\n" not in msg and path.name in msg
    return msg


def test_a_file_larger_than_the_limit_is_refused_by_its_size(tmp_path: Path) -> None:
    path = _sparse(tmp_path / "huge.csv", OHLC + ROWS, cv.MAX_CSV_BYTES + 1)
    msg = _refusal(path)
    assert "MiB" in msg and "larger than the 512 MiB" in msg


def test_nul_bytes_after_good_rows_are_refused(tmp_path: Path) -> None:
    path = _sparse(tmp_path / "truncated.csv", OHLC + ROWS, 3 * 1024 * 1024)  # a download cut into zeros
    msg = _refusal(path)
    assert f"NUL byte at offset {len(OHLC + ROWS):,}" in msg and "not UTF-8 text" in msg


def test_a_nul_inside_a_number_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes((OHLC + ROWS).encode().replace(b"10.5", b"10\x005", 1))
    assert "NUL byte" in _refusal(path)


def test_utf16_is_still_named_as_utf16(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes((OHLC + ROWS).encode("utf-16"))
    assert "looks like UTF-16" in _refusal(path)


def test_a_file_without_a_date_column_says_so(tmp_path: Path) -> None:
    path = tmp_path / "nodate.csv"
    path.write_text("open,high,low,close,volume\n" + "".join(",".join(r.split(",")[1:]) for r in ROWS.splitlines(True)))
    # the first price column was read as epoch seconds: "no bars between ..." in 1970
    msg = _refusal(path)
    assert "no date column" in msg and "open, high, low, close, volume" in msg


def test_the_cli_says_it_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _sparse(tmp_path / "cut.csv", OHLC + ROWS, 1024 * 1024)
    assert main(["fetch", "MINE", "-v", "csv", "--path", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "NUL byte" in err


def test_a_good_file_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_text(OHLC + ROWS)
    assert len(cv.fetch_csv(path, "1D").frame) == 25


def _daily(path: Path, stamps: list[str]) -> Path:
    path.write_text(OHLC + "".join(f"{s},10,11,9,10.5,1000\n" for s in stamps))
    return path


def test_daily_bars_stamped_at_their_close_time_become_session_dates(tmp_path: Path) -> None:
    days = pd.bdate_range("2021-01-04", periods=30)
    data = cv.fetch_csv(_daily(tmp_path / "close_time.csv", [f"{d:%Y-%m-%d} 16:00:00" for d in days]), "1D")
    # they were kept at 16:00 UTC, against the convention every other vendor keeps (00:00 UTC)
    assert list(data.frame.index) == list(days.tz_localize("UTC"))
    assert any("stamps its daily bars at 16:00" in n for n in data.notes)
    local = cv.fetch_csv(_daily(tmp_path / "offset.csv", [f"{d:%Y-%m-%d}T20:00:00-05:00" for d in days]), "1D")
    assert list(local.frame.index) == list(days.tz_localize("UTC"))  # the local date, not 01:00 UTC the next day
