"""The shared fetch layer: argument checks, dispatch, slicing, validation, provenance."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from phi.data import fetchers
from phi.data.fetchers import (
    VENDORS,
    FetchResult,
    fetch,
    fetch_result,
    normalize_vendor,
    parse_date_range,
    validate_symbol,
)
from phi.data.vendors import VendorData
from phi.errors import ConfigError, DataError, PhiError, SymbolError
from tests.conftest import make_ohlcv


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg.strip() == msg and msg
    return msg


@pytest.fixture
def fake_vendor(monkeypatch):
    """Route every vendor to a frame the test sets; records the dispatch arguments."""
    state: dict = {"data": None, "calls": []}

    def dispatch(vendor, symbol, start, end, timeframe, *, path, session, api_key):
        state["calls"].append((vendor, symbol, start, end, timeframe, path))
        return state["data"]

    monkeypatch.setattr(fetchers, "_dispatch", dispatch)
    return state


# ---- symbols -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("aapl", "AAPL"),
        ("brk-b", "BRK-B"),
        ("^gspc", "^GSPC"),
        ("EURUSD=X", "EURUSD=X"),
        ("BF.B", "BF.B"),
        (" msft ", "MSFT"),
        ("BTC-USD", "BTC-USD"),
        ("A_1", "A_1"),
    ],
)
def test_validate_symbol_accepts_real_tickers(raw, clean):
    assert validate_symbol(raw) == clean


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("../../etc", "'/'"),
        ("..", "may not start with '.'"),
        (".env", "may not start with '.'"),
        ("A..B", "'..'"),
        ("AA PL", "' '"),
        ("C:\\x", "'\\\\'"),
        ("", "symbol is empty"),
        ("X" * 33, "longer than 32"),
        ("$AAPL", "'$'"),
    ],
)
def test_validate_symbol_rejects_unsafe(raw, needle):
    with pytest.raises(SymbolError) as err:
        validate_symbol(raw)
    assert needle in one_line(err.value)


def test_path_traversal_symbol_rejected_before_any_vendor(fake_vendor):
    with pytest.raises(SymbolError, match=r"symbol '\.\./\.\./etc' contains '/'"):
        fetch_result("../../etc", "2024-01-01", "2024-01-31", vendor="yfinance")
    assert fake_vendor["calls"] == []


# ---- dates ---------------------------------------------------------------------------


def test_parse_date_range_accepts_common_types():
    want = (pd.Timestamp("2024-01-02", tz="UTC"), pd.Timestamp("2024-03-04", tz="UTC"))
    assert parse_date_range("2024-01-02", "2024-03-04") == want
    assert parse_date_range(dt.date(2024, 1, 2), dt.datetime(2024, 3, 4, 15, 30)) == want
    assert parse_date_range(pd.Timestamp("2024-01-02 09:30"), np.datetime64("2024-03-04")) == want
    # a tz-aware stamp keeps its own local date (23:00 New York is still 4 March there)
    assert (
        parse_date_range("2024-01-02", pd.Timestamp("2024-03-04 23:00", tz="America/New_York"))
        == want
    )
    lo, hi = parse_date_range(" 2024-01-02 ", "2024-01-02")
    assert lo == hi and str(lo.tz) == "UTC" and lo.hour == 0


def test_reversed_dates_rejected_with_both_dates():
    with pytest.raises(ConfigError) as err:
        parse_date_range("2024-05-01", "2024-01-01")
    assert one_line(err.value).startswith("start 2024-05-01 is after end 2024-01-01")


@pytest.mark.parametrize("bad", ["2024-13-01", "yesterday-ish", "", None, 20240101, 1.5, True])
def test_unreadable_dates_are_config_errors(bad):
    with pytest.raises(ConfigError) as err:
        parse_date_range(bad, "2024-01-01")
    assert "start" in one_line(err.value)


def test_reversed_dates_via_fetch(fake_vendor):
    with pytest.raises(ConfigError, match="start 2024-05-01 is after end 2024-01-01"):
        fetch("AAPL", "2024-05-01", "2024-01-01", vendor="yfinance")
    assert fake_vendor["calls"] == []


# ---- vendor and timeframe names --------------------------------------------------------


def test_vendor_names_and_aliases():
    assert VENDORS == ("demo", "yfinance", "alpha_vantage", "csv")
    assert normalize_vendor(" YFinance ") == "yfinance"
    assert normalize_vendor("yahoo") == "yfinance"
    assert normalize_vendor("alphavantage") == "alpha_vantage"


def test_unknown_vendor_did_you_mean(fake_vendor):
    with pytest.raises(ConfigError) as err:
        fetch("AAPL", "2024-01-01", "2024-01-31", vendor="alpha_vantge")
    msg = one_line(err.value)
    assert "unknown vendor 'alpha_vantge'" in msg and "Did you mean 'alpha_vantage'?" in msg
    assert "demo, yfinance" in msg or "alpha_vantage, csv, demo, yfinance" in msg


def test_unknown_timeframe_did_you_mean(fake_vendor):
    with pytest.raises(ConfigError) as err:
        fetch("AAPL", "2024-01-01", "2024-01-31", timeframe="15min", vendor="yfinance")
    msg = one_line(err.value)
    assert "unknown timeframe '15min'" in msg and "Did you mean '15m'?" in msg
    assert fake_vendor["calls"] == []


# ---- slicing, validation and provenance -----------------------------------------------


def test_daily_slice_is_inclusive_and_result_carries_provenance(fake_vendor):
    df = make_ohlcv(30, start="2024-01-01", freq="D")
    fake_vendor["data"] = VendorData(
        df, "auto_adjusted", "America/New_York", notes=["vendor note"], extra={"interval": "1d"}
    )
    res = fetch_result("aapl", "2024-01-05", "2024-01-10", "1d", "yfinance")
    assert isinstance(res, FetchResult)
    assert res.frame.index[0] == pd.Timestamp("2024-01-05", tz="UTC")
    assert res.frame.index[-1] == pd.Timestamp("2024-01-10", tz="UTC")
    assert len(res.frame) == 6
    assert (res.vendor, res.symbol, res.timeframe) == ("yfinance", "AAPL", "1D")
    assert res.start == pd.Timestamp("2024-01-05", tz="UTC") and res.end == pd.Timestamp(
        "2024-01-10", tz="UTC"
    )
    assert res.adjustment == "auto_adjusted" and res.exchange_tz == "America/New_York"
    assert res.repairs == ["vendor note"] and not res.synthetic
    assert (
        res.extra["interval"] == "1d" and res.extra["calendar"] == "24/7"
    )  # daily freq has weekends
    pd.testing.assert_frame_equal(
        fetch("AAPL", "2024-01-05", "2024-01-10", "1D", "yfinance"), res.frame
    )


def test_start_equals_end_gives_one_session(fake_vendor):
    fake_vendor["data"] = VendorData(make_ohlcv(10, start="2024-01-01"), "raw")
    res = fetch_result("IBM", "2024-01-03", "2024-01-03", vendor="alpha_vantage")
    assert list(res.frame.index) == [pd.Timestamp("2024-01-03", tz="UTC")]
    assert res.extra["calendar"] == "exchange"


def test_intraday_slice_uses_the_exchange_local_date(fake_vendor):
    # 20:00 New York on 5 Jan is 01:00 UTC on 6 Jan: it belongs to the 5 Jan session
    idx = pd.DatetimeIndex(
        ["2024-01-04 20:30", "2024-01-05 14:30", "2024-01-06 01:00", "2024-01-06 14:30"], tz="UTC"
    )
    df = make_ohlcv(4).set_axis(idx.rename("timestamp"))
    fake_vendor["data"] = VendorData(df, "raw", "America/New_York")
    res = fetch_result("X", "2024-01-05", "2024-01-05", "1H", "alpha_vantage")
    assert list(res.frame.index) == list(idx[1:3])


def test_range_with_no_bars_is_a_data_error(fake_vendor):
    fake_vendor["data"] = VendorData(make_ohlcv(10, start="2024-01-01"), "raw")
    with pytest.raises(DataError) as err:
        fetch("IBM", "2024-01-06", "2024-01-07", vendor="alpha_vantage")  # a weekend
    assert one_line(err.value).startswith("no bars for IBM between 2024-01-06 and 2024-01-07")


def test_nan_rows_dropped_and_reported(fake_vendor):
    df = make_ohlcv(10, start="2024-01-01")
    df.iloc[3, :4] = np.nan
    fake_vendor["data"] = VendorData(df, "raw")
    res = fetch_result("IBM", "2024-01-01", "2024-01-31", vendor="alpha_vantage")
    assert len(res.frame) == 9 and df.index[3] not in res.frame.index
    assert any("dropped 1 bar(s) with no prices" in r for r in res.repairs)


def test_partly_missing_prices_rejected_with_one_line(fake_vendor):
    df = make_ohlcv(10, start="2024-01-01")
    df.iloc[4, 1] = np.nan
    fake_vendor["data"] = VendorData(df, "raw")
    with pytest.raises(DataError) as err:
        fetch("IBM", "2024-01-01", "2024-01-31", vendor="alpha_vantage")
    msg = one_line(err.value)
    assert "alpha_vantage IBM 1D: 1 bar(s) have missing prices (NaN)" in msg and "dropna" in msg


def test_duplicate_stamps_repaired_and_reported(fake_vendor):
    df = make_ohlcv(10, start="2024-01-01")
    dup = pd.concat([df, df.iloc[[2]] * 1.01])
    fake_vendor["data"] = VendorData(dup, "raw")
    res = fetch_result("IBM", "2024-01-01", "2024-01-31", vendor="alpha_vantage")
    assert res.frame.index.is_unique and len(res.frame) == 10
    assert any("dropped 1 duplicate timestamp(s), first at 2024-01-03" in r for r in res.repairs)
    # the last of the duplicates is kept
    assert res.frame.loc[df.index[2], "close"] == pytest.approx(df["close"].iloc[2] * 1.01)


def test_csv_requires_a_path(fake_vendor):
    with pytest.raises(ConfigError) as err:
        fetch("AAPL", "2024-01-01", "2024-01-31", vendor="csv")
    assert "needs a file" in one_line(err.value)
    assert fake_vendor["calls"] == []


def test_csv_symbol_defaults_to_the_file_stem(fake_vendor):
    fake_vendor["data"] = VendorData(make_ohlcv(5, start="2024-01-01"), "raw")
    res = fetch_result("", "2024-01-01", "2024-01-31", vendor="csv", path="/data/my bars.v2.csv")
    assert res.symbol == "MY_BARS.V2"
    assert (
        fetch_result("spy", "2024-01-01", "2024-01-31", vendor="csv", path="x.csv").symbol == "SPY"
    )
    with pytest.raises(SymbolError):
        fetch_result("../x", "2024-01-01", "2024-01-31", vendor="csv", path="x.csv")


def test_every_bad_input_error_is_a_phi_error(fake_vendor):
    for call in (
        lambda: fetch("AAPL", "2024-01-01", "2024-01-31", vendor="nope"),
        lambda: fetch("AAPL", "2024-01-01", "2024-01-31", timeframe="2H"),
        lambda: fetch("AAPL", "bad", "2024-01-31"),
        lambda: fetch("a/b", "2024-01-01", "2024-01-31"),
    ):
        with pytest.raises(PhiError) as err:
            call()
        one_line(err.value)


# ---- demo dispatch ------------------------------------------------------------------


def test_demo_dispatch_is_synthetic_and_deterministic():
    pytest.importorskip("phi.data.demo")
    a = fetch_result("demo", "2024-01-01", "2024-03-31")
    b = fetch_result("DEMO", "2024-01-01", "2024-03-31", "1D", "demo")
    assert a.synthetic and a.adjustment == "synthetic" and a.exchange_tz == "America/New_York"
    assert a.vendor == "demo" and a.symbol == "DEMO" and a.coverage_start is None
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.frame.index[0] >= pd.Timestamp("2024-01-01", tz="UTC")
    assert a.frame.index[-1] <= pd.Timestamp("2024-03-31", tz="UTC")
    assert list(a.frame.columns) == ["open", "high", "low", "close", "volume"]


@pytest.mark.parametrize("tf", ["4H", "1H", "15m"])
def test_demo_dispatch_intraday(tf):
    pytest.importorskip("phi.data.demo")
    res = fetch_result("DEMO", "2024-01-02", "2024-01-03", tf)
    local = res.frame.index.tz_convert("America/New_York")
    assert set(local.date) == {dt.date(2024, 1, 2), dt.date(2024, 1, 3)}
    assert res.timeframe == tf and res.synthetic
