"""The data commands of the ``phi`` CLI: tables on success, one line and exit 2 on bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from phi.cli import main
from phi.data import cache


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fetch_then_cache_list_then_clear(capsys):
    code, out, _ = run(capsys, "fetch", "DEMO", "--start", "2022-01-01", "--end", "2022-12-31")
    assert code == 0
    assert "fetched" in out and "SYNTHETIC DEMO DATA" in out and "Data health" in out
    code, out, _ = run(capsys, "fetch", "DEMO", "--start", "2022-03-01", "--end", "2022-03-31")
    assert code == 0 and "cache" in out
    code, out, _ = run(capsys, "cache", "list")
    assert code == 0 and "DEMO" in out and "2022-01-01..2022-12-31" in out
    code, out, _ = run(capsys, "cache", "clear", "--yes")
    assert code == 0 and "Removed 1" in out
    assert cache.list_cached_datasets() == []


def test_data_health(capsys):
    code, out, _ = run(capsys, "data", "health", "DEMO", "--start", "2023-01-01", "--end", "2023-06-30", "-t", "1H")
    assert code == 0 and "Data health" in out and "1H" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (("fetch", "../../etc", "--start", "2020-01-01", "--end", "2020-02-01"), "only letters"),
        (("fetch", "DEMO", "--start", "2020-02-01", "--end", "2020-01-01"), "after"),
        (("fetch", "DEMO", "--start", "2020-01-01", "--end", "2020-02-01", "-t", "2D"), "timeframe"),
        (("fetch", "DEMO", "--start", "2020-01-01", "--end", "2020-02-01", "-v", "yfinanc"), "Did you mean 'yfinance'"),
        (("fetch", "DEMO", "--start", "yesterday-ish", "--end", "2020-02-01"), "date"),
        (("fetch", "DEMO", "--start", "2024-01-06", "--end", "2024-01-07"), "no weekday"),
        (("fetch", "IBM", "--start", "2020-01-01", "--end", "2020-02-01", "-v", "alpha_vantage"), "ALPHAVANTAGE_API_KEY"),
        (("fetch", "X", "-v", "csv", "--start", "2020-01-01", "--end", "2020-02-01"), "path"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) <= 3  # one message (rich may wrap a long line)


def test_unknown_symbol_on_yfinance_is_one_line(capsys, monkeypatch):
    import phi.data.vendors.yfinance_vendor as yfv

    monkeypatch.setattr(yfv, "request_history", lambda *a, **k: (pd.DataFrame(), []))
    today = pd.Timestamp.now(tz="UTC").normalize()
    start = (today - pd.Timedelta(days=20)).strftime("%Y-%m-%d")
    code, _, err = run(capsys, "fetch", "NOSUCHTICKER", "-v", "yfinance", "--start", start, "--end", today.strftime("%Y-%m-%d"))
    assert code == 2 and "NOSUCHTICKER" in err and "Traceback" not in err


def test_corrupt_cache_entry_is_refetched_with_a_warning(capsys):
    assert main(["fetch", "DEMO", "--start", "2022-01-01", "--end", "2022-12-31"]) == 0
    parquet = cache.dataset_paths("demo", "DEMO", "1D", "2022-01-01", "2022-12-31")[0]
    parquet.write_bytes(b"garbage")
    capsys.readouterr()
    code, out, err = run(capsys, "fetch", "DEMO", "--start", "2022-01-01", "--end", "2022-12-31")
    assert code == 0 and "fetched" in out and "corrupt" in err


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("fetch", "cache", "data"):
        assert word in out
