"""yfinance vendor: fetcher logic on a monkeypatched ``Ticker.history``, plus contract tests
running yfinance's real parser on hand-made chart JSON (RECIPES §3). Never touches the network."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import responses
import yfinance as yf

from phi.data.fetchers import fetch, fetch_result
from phi.data.vendors import resample_session_4h
from phi.data.vendors import yfinance_vendor as yv
from phi.errors import ConfigError, DataError, RateLimitError, VendorError, VendorLimitError

FIXTURES = Path(__file__).parent / "fixtures"
NOW = pd.Timestamp("2024-06-14 15:00", tz="UTC")  # a Friday
NY = "America/New_York"


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch):
    monkeypatch.setattr(yv, "utc_now", lambda: NOW)


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg
    return msg


def _session_hours(
    day: str, tz: str = NY, first: str = "09:30", n: int = 7, freq: str = "1h"
) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(f"{day} {first}", tz=tz), periods=n, freq=freq)


def _sessions(days, **kw) -> pd.DatetimeIndex:
    """UTC stamps of the sessions on ``days`` (see :func:`_session_hours`)."""
    parts = [_session_hours(str(d.date()), **kw).tz_convert("UTC") for d in days]
    return parts[0].append(parts[1:])


def _yahoo_frame(idx: pd.DatetimeIndex, start_price: float = 100.0) -> pd.DataFrame:
    """What ``Ticker.history(actions=False)`` returns: capitalised columns, exchange-tz index 'Date'."""
    n = len(idx)
    o = start_price + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "Open": o,
            "High": o + 1.0,
            "Low": o - 0.5,
            "Close": o + 0.5,
            "Volume": (np.arange(n) + 1) * 1000,
        },
        index=idx.rename("Date"),
    )


class FakeHistory:
    """Stands in for ``yf.Ticker.history``; ``make(start, end, interval)`` builds each answer."""

    def __init__(self, make):
        self.make = make
        self.calls: list[dict] = []

    def __call__(self, ticker, *args, **kwargs):
        self.calls.append({"symbol": ticker.ticker, **kwargs})
        return self.make(kwargs["start"], kwargs["end"], kwargs["interval"])


@pytest.fixture
def fake(monkeypatch):
    holder: dict = {}

    def install(make):
        fh = FakeHistory(make)
        monkeypatch.setattr(yf.Ticker, "history", lambda self, *a, **k: fh(self, *a, **k))
        holder["fh"] = fh
        return fh

    return install


def _business_days(start, end_exclusive, tz=NY):
    days = pd.date_range(start, end_exclusive, freq="B", inclusive="left")
    return pd.DatetimeIndex(days).tz_localize(tz)


# ---- daily ------------------------------------------------------------------------------


def test_daily_stamped_at_utc_midnight_of_the_session_date(fake):
    fh = fake(lambda s, e, i: _yahoo_frame(_business_days(s, e)))
    res = fetch_result("aapl", "2024-01-02", "2024-01-05", "1D", "yfinance")
    assert fh.calls == [
        {
            "symbol": "AAPL",
            "start": "2024-01-02",
            "end": "2024-01-06",
            "interval": "1d",
            "auto_adjust": True,
            "actions": False,
        }
    ]
    assert list(res.frame.index) == list(pd.date_range("2024-01-02", "2024-01-05", tz="UTC"))
    assert (res.frame.index.hour == 0).all()  # not 05:00 UTC
    assert res.frame["close"].tolist() == [100.5, 101.5, 102.5, 103.5]
    assert res.adjustment == "auto_adjusted" and res.exchange_tz == NY
    assert res.coverage_start is None and res.repairs == []


def test_daily_old_ranges_have_no_limit(fake):
    fake(lambda s, e, i: _yahoo_frame(_business_days(s, e)))
    assert len(fetch("AAPL", "1995-01-02", "1995-01-06", vendor="yfinance")) == 5


# ---- intraday ---------------------------------------------------------------------------


def test_hourly_converted_to_utc(fake):
    fh = fake(lambda s, e, i: _yahoo_frame(_session_hours("2024-06-10")))
    res = fetch_result("AAPL", "2024-06-10", "2024-06-10", "1H", "yfinance")
    assert fh.calls[0]["interval"] == "1h"
    assert res.frame.index[0] == pd.Timestamp("2024-06-10 13:30", tz="UTC")  # 09:30 EDT
    assert len(res.frame) == 7 and res.adjustment == "split_adjusted"
    assert res.coverage_start == pd.Timestamp("2022-06-16", tz="UTC")  # 729 days before 2024-06-14


@pytest.mark.parametrize(("tf", "interval"), [("15m", "15m"), ("5m", "5m"), ("1m", "1m")])
def test_minute_intervals(fake, tf, interval):
    minutes = {"15m": 15, "5m": 5, "1m": 1}[tf]
    fh = fake(
        lambda s, e, i: _yahoo_frame(
            _session_hours("2024-06-11", n=390 // minutes, freq=f"{minutes}min")
        )
    )
    res = fetch_result("AAPL", "2024-06-11", "2024-06-11", tf, "yfinance")
    assert fh.calls[0]["interval"] == interval
    assert len(res.frame) == 390 // minutes
    assert res.frame.index[-1] == pd.Timestamp("2024-06-11 20:00", tz="UTC") - pd.Timedelta(
        minutes=minutes
    )


def test_4h_resampled_by_hand_winter_and_summer(fake):
    # 7 hourly bars per NYSE session; bar k: open 100+k, high 101+k, low 99.5+k, close 100.5+k, volume 1000(k+1)
    idx = _session_hours("2024-03-08").append(_session_hours("2024-03-11"))  # EST, then EDT
    fake(lambda s, e, i: _yahoo_frame(idx))
    res = fetch_result("AAPL", "2024-03-08", "2024-03-11", "4H", "yfinance")
    want = pd.DataFrame(
        {
            "open": [100.0, 104.0, 107.0, 111.0],
            "high": [104.0, 107.0, 111.0, 114.0],
            "low": [99.5, 103.5, 106.5, 110.5],
            "close": [103.5, 106.5, 110.5, 113.5],
            "volume": [10000.0, 18000.0, 38000.0, 39000.0],
        },
        index=pd.DatetimeIndex(
            ["2024-03-08 14:30", "2024-03-08 18:30", "2024-03-11 13:30", "2024-03-11 17:30"],
            tz="UTC",
            name="timestamp",
        ),
    )
    pd.testing.assert_frame_equal(res.frame, want, check_index_type=False)
    assert res.extra["resampled_from"] == "1H" and res.extra["session_anchor"] == "09:30"
    assert res.adjustment == "split_adjusted"


def test_4h_bar_holds_only_hourly_bars_inside_its_bin():
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2024-10-28", "2024-11-08")  # spans the US DST change of 3 Nov
    idx = _sessions(days)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(idx))))
    src = pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": rng.integers(1, 100, len(idx)).astype(float),
        },
        index=idx.rename("timestamp"),
    )
    out = resample_session_4h(src, NY)
    assert len(out) == 2 * len(days)
    for stamp, bar in out.iterrows():
        members = src[(src.index >= stamp) & (src.index < stamp + pd.Timedelta(hours=4))]
        assert members.index[0] == stamp  # stamped at its first member's start
        assert bar["high"] == members["high"].max() and bar["low"] == members["low"].min()
        assert bar["open"] == members["open"].iloc[0] and bar["close"] == members["close"].iloc[-1]
        assert bar["volume"] == members["volume"].sum()
    assert out["volume"].sum() == src["volume"].sum()  # every hourly bar used exactly once
    local = out.index.tz_convert(NY)
    assert set(zip(local.hour, local.minute, strict=True)) == {(9, 30), (13, 30)}


def test_4h_early_close_and_24_7_markets():
    early = _session_hours("2024-11-29", n=4)  # day after Thanksgiving: 09:30-13:00
    src = _yahoo_frame(early).rename(columns=str.lower).tz_convert("UTC")
    out = resample_session_4h(src.rename_axis("timestamp"), NY)
    assert len(out) == 1 and out["volume"].iloc[0] == 10000.0
    crypto = pd.date_range("2024-06-08", periods=48, freq="1h", tz="UTC")  # a weekend
    src = _yahoo_frame(crypto).rename(columns=str.lower).rename_axis("timestamp")
    out = resample_session_4h(src, "UTC")
    assert len(out) == 12 and list(out.index.hour[:6]) == [0, 4, 8, 12, 16, 20]


def test_4h_hour_aligned_source_anchors_on_the_hour():
    idx = _session_hours("2024-06-10", first="09:00", n=8)  # 09:00 .. 16:00
    src = _yahoo_frame(idx).rename(columns=str.lower).tz_convert("UTC").rename_axis("timestamp")
    out = resample_session_4h(src, NY)
    assert list(out.index.tz_convert(NY).strftime("%H:%M")) == ["09:00", "13:00"]


def test_4h_duplicate_hourly_bars_are_reported(fake):
    idx = _session_hours("2024-06-10")
    raw = _yahoo_frame(idx)
    fake(lambda s, e, i: pd.concat([raw, raw.iloc[[1]]]))
    res = fetch_result("AAPL", "2024-06-10", "2024-06-10", "4H", "yfinance")
    assert len(res.frame) == 2
    assert any(r.startswith("1h source: dropped 1 duplicate timestamp(s)") for r in res.repairs)


def test_duplicate_stamps_reported(fake):
    raw = _yahoo_frame(_business_days("2024-01-02", "2024-01-06"))
    fake(lambda s, e, i: pd.concat([raw, raw.iloc[[0]]]))
    res = fetch_result("AAPL", "2024-01-02", "2024-01-05", vendor="yfinance")
    assert len(res.frame) == 4 and any("duplicate" in r for r in res.repairs)


# ---- limits, before any request --------------------------------------------------------


@pytest.mark.parametrize(
    ("tf", "start", "days", "earliest"),
    [
        ("1m", "2024-05-15", 29, "2024-05-16"),
        ("5m", "2024-04-15", 59, "2024-04-16"),
        ("15m", "2024-01-01", 59, "2024-04-16"),
        ("1H", "2022-06-15", 729, "2022-06-16"),
        ("4H", "2020-01-01", 729, "2022-06-16"),
    ],
)
def test_limits_raise_before_any_request(fake, tf, start, days, earliest):
    fh = fake(lambda s, e, i: pytest.fail("no request may be made past the limit"))
    with pytest.raises(VendorLimitError) as err:
        fetch("AAPL", start, "2024-06-14", tf, "yfinance")
    msg = one_line(err.value)
    assert f"yfinance keeps {tf} bars for the last {days} days only" in msg
    assert f"start {start} is before the earliest allowed start {earliest}" in msg
    assert isinstance(err.value, ConfigError) and isinstance(err.value, VendorError)
    assert fh.calls == []


def test_limit_boundary_is_allowed(fake):
    fake(lambda s, e, i: _yahoo_frame(_session_hours(s, n=78, freq="5min")))
    assert len(fetch("AAPL", "2024-04-16", "2024-04-16", "5m", "yfinance")) == 78


def test_1m_range_split_into_7_day_requests(fake):
    def make(s, e, i):
        return _yahoo_frame(_sessions(_business_days(s, e), n=390, freq="1min").tz_convert(NY))

    fh = fake(make)
    res = fetch_result("AAPL", "2024-05-20", "2024-06-07", "1m", "yfinance")
    assert [(c["start"], c["end"]) for c in fh.calls] == [
        ("2024-05-20", "2024-05-27"),
        ("2024-05-27", "2024-06-03"),
        ("2024-06-03", "2024-06-08"),
    ]
    assert res.extra["requests"] == 3
    assert len(res.frame) == 15 * 390 and res.frame.index.is_unique
    assert res.coverage_start == pd.Timestamp("2024-05-16", tz="UTC")


# ---- empty answers and yfinance errors ---------------------------------------------------


def test_empty_answer_is_an_error_naming_the_symbol(fake):
    def make(s, e, i):
        logging.getLogger("yfinance").error("$XYZQ: possibly delisted; no timezone found")
        return pd.DataFrame()

    fake(make)
    with pytest.raises(VendorError) as err:
        fetch("xyzq", "2024-01-02", "2024-01-05", vendor="yfinance")
    msg = one_line(err.value)
    assert msg.startswith("yfinance returned no data for 'XYZQ' between 2024-01-02 and 2024-01-05")
    assert "(unknown symbol or no trading in range)" in msg and "no timezone found" in msg


def test_weekend_range_gives_no_bars(fake):
    fake(lambda s, e, i: pd.DataFrame())
    with pytest.raises(DataError) as err:
        fetch("AAPL", "2024-01-06", "2024-01-07", vendor="yfinance")
    assert one_line(err.value).startswith("no bars for AAPL between 2024-01-06 and 2024-01-07")


def test_yfinance_exceptions_become_one_line_vendor_errors(fake):
    def boom(s, e, i):
        raise RuntimeError("Yahoo said:\n  something broke")

    fake(boom)
    with pytest.raises(VendorError) as err:
        fetch("AAPL", "2024-01-02", "2024-01-05", vendor="yfinance")
    assert (
        one_line(err.value)
        == "yfinance failed for 'AAPL' (1d 2024-01-02..2024-01-06): Yahoo said: something broke"
    )


def test_yfinance_rate_limit_becomes_rate_limit_error(fake):
    from yfinance.exceptions import YFRateLimitError

    def limited(s, e, i):
        raise YFRateLimitError()

    fake(limited)
    with pytest.raises(RateLimitError, match="rate limited"):
        fetch("AAPL", "2024-01-02", "2024-01-05", vendor="yfinance")


def test_parse_history_is_pure():
    raw = _yahoo_frame(_session_hours("2024-06-10", n=2))
    frame, tz = yv.parse_history(raw, "1H")
    assert tz == NY and list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert str(frame.index.tz) == "UTC" and frame.index.name == "timestamp"
    with pytest.raises(VendorError, match="lacks column"):
        yv.parse_history(raw.drop(columns="High"), "1H")


# ---- contract: yfinance's real parser, offline -------------------------------------------


@pytest.fixture
def yahoo_offline(tmp_path, monkeypatch):
    """responses-mocked Yahoo endpoints; yfinance's caches redirected and its singleton restored."""
    from yfinance.data import SingletonMeta, YfData

    old_loc = yf.cache._TzDBManager.get_location()
    yf.set_tz_cache_location(str(tmp_path / "yfcache"))
    saved = SingletonMeta._instances.pop(YfData, None)
    YfData.cache_get.cache_clear()
    monkeypatch.setattr(yv, "utc_now", lambda: pd.Timestamp("2026-01-20 12:00", tz="UTC"))

    def serve(body_file: str):
        body = (FIXTURES / body_file).read_text()
        rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
        rsps.add(responses.GET, "https://fc.yahoo.com", body="")
        rsps.add(
            responses.GET,
            re.compile(r"https://query\d\.finance\.yahoo\.com/v1/test/getcrumb"),
            body="crumb",
        )
        rsps.add(
            responses.GET,
            re.compile(r"https://query\d\.finance\.yahoo\.com/v8/finance/chart/AAPL.*"),
            body=body,
        )
        return rsps

    yield serve
    YfData.cache_get.cache_clear()
    SingletonMeta._instances.pop(YfData, None)
    if saved is not None:
        SingletonMeta._instances[YfData] = saved
    yf.set_tz_cache_location(old_loc)


def test_contract_daily_through_real_parser(yahoo_offline):
    with yahoo_offline("yf_chart_aapl_1d.json") as rsps:
        res = fetch_result(
            "AAPL", "2026-01-05", "2026-01-09", "1D", "yfinance", session=requests.Session()
        )
        urls = [c.request.url for c in rsps.calls]
    assert any("/v8/finance/chart/AAPL" in u and "interval=1d" in u for u in urls)
    assert list(res.frame.index) == list(
        pd.date_range("2026-01-05", "2026-01-09", tz="UTC", name="timestamp")
    )
    # auto_adjust scaled OHLC by adjclose/close = 0.99
    assert res.frame["close"].tolist() == pytest.approx([99.0, 99.99, 100.98, 101.97, 102.96])
    assert res.frame["open"].iloc[0] == pytest.approx(99.5 * 0.99)
    assert res.frame["volume"].iloc[0] == 1_000_000.0
    assert res.exchange_tz == NY and res.adjustment == "auto_adjusted"


def test_contract_4h_through_real_parser(yahoo_offline):
    with yahoo_offline("yf_chart_aapl_1h.json"):
        res = fetch_result(
            "AAPL", "2026-01-05", "2026-01-06", "4H", "yfinance", session=requests.Session()
        )
    assert list(res.frame.index.tz_convert(NY).strftime("%m-%d %H:%M")) == [
        "01-05 09:30",
        "01-05 13:30",
        "01-06 09:30",
        "01-06 13:30",
    ]
    first = res.frame.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"]) == (
        100.0,
        104.0,
        99.5,
        103.5,
        10000.0,
    )
    chart = json.loads((FIXTURES / "yf_chart_aapl_1h.json").read_text())
    assert res.frame["volume"].sum() == sum(
        chart["chart"]["result"][0]["indicators"]["quote"][0]["volume"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. See https://curl.se/libcurl/c/libcurl-errors.html first for more details.",
        "Failed to perform, curl: (7) Failed to connect to query2.finance.yahoo.com:443 over proxy 127.0.0.1 after 0 ms: Could not connect to server",
        "HTTPSConnectionPool(host='query2.finance.yahoo.com', port=443): Max retries exceeded with url: /v8 (Caused by NameResolutionError)",
    ],
)
def test_no_network_is_said_as_such(fake, text):
    def offline(s, e, i):
        raise RuntimeError(text)

    fake(offline)
    with pytest.raises(VendorError) as err:
        fetch("AAPL", "2024-01-02", "2024-01-05", vendor="yfinance")
    msg = one_line(err.value)
    assert msg.startswith("yfinance could not reach Yahoo Finance for 'AAPL' (no network, a proxy or Yahoo down; use --vendor demo offline): ")
    assert "curl.se" not in msg and len(msg) < 330


def test_no_network_logged_instead_of_raised_is_not_called_an_unknown_symbol(fake):
    def logged_only(s, e, i):  # what yfinance does for some failures: log, return nothing
        logging.getLogger("yfinance").error("$AAPL: Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")
        return pd.DataFrame()

    fake(logged_only)
    with pytest.raises(VendorError) as err:
        fetch("AAPL", "2024-01-02", "2024-01-05", vendor="yfinance")
    msg = one_line(err.value)
    assert "could not reach Yahoo Finance" in msg and "unknown symbol" not in msg
