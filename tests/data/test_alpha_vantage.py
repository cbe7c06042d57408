"""Alpha Vantage vendor with ``responses``: requests, parsing, every error body, the key's privacy."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import requests
import responses
from responses import matchers

from phi.data.fetchers import fetch, fetch_result
from phi.data.vendors import alpha_vantage as av
from phi.errors import DataError, MissingAPIKeyError, RateLimitError, VendorError

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://www.alphavantage.co/query"
KEY = "SECRET-KEY-123"
NOW = pd.Timestamp("2024-03-20 15:00", tz="UTC")


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch):
    monkeypatch.setattr(av, "utc_now", lambda: NOW)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as r:
        yield r


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def daily_params(symbol="IBM", key=KEY):
    return {
        "function": "TIME_SERIES_DAILY",
        "symbol": symbol,
        "outputsize": "full",
        "datatype": "json",
        "apikey": key,
    }


def intraday_params(interval="60min", month=None, symbol="IBM"):
    p = {
        "function": "TIME_SERIES_INTRADAY",
        "symbol": symbol,
        "interval": interval,
        "outputsize": "full",
        "adjusted": "false",
        "extended_hours": "false",
        "datatype": "json",
        "apikey": KEY,
    }
    if month:
        p["month"] = month
    return p


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg
    assert KEY not in msg
    return msg


# ---- daily --------------------------------------------------------------------------------


def test_daily_parsed_sliced_and_stamped(rsps):
    rsps.get(
        URL, json=load("av_daily_ibm.json"), match=[matchers.query_param_matcher(daily_params())]
    )
    res = fetch_result("ibm", "2024-01-03", "2024-01-08", "1D", "alpha_vantage", api_key=KEY)
    assert list(res.frame.index) == list(
        pd.DatetimeIndex(
            ["2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"], tz="UTC", name="timestamp"
        )
    )
    row = res.frame.loc[pd.Timestamp("2024-01-05", tz="UTC")]
    assert (row["open"], row["high"], row["low"], row["close"], row["volume"]) == (
        161.59,
        162.0,
        160.5,
        161.41,
        3963700.0,
    )
    assert res.frame.dtypes.eq("float64").all()
    assert res.adjustment == "raw" and res.exchange_tz == "America/New_York"
    assert res.coverage_start is None and res.extra["requests"] == 1
    assert KEY not in repr(res.extra) and KEY not in repr(res.repairs)


def test_key_read_from_environment(rsps, monkeypatch):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "env-key")
    rsps.get(
        URL,
        json=load("av_daily_ibm.json"),
        match=[matchers.query_param_matcher(daily_params(key="env-key"))],
    )
    assert len(fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage")) == 6


def test_parse_series_is_pure_and_sorts_oldest_first():
    frame, tz = av.parse_series(load("av_daily_ibm.json"), "1D")
    assert tz == "America/New_York" and frame.index.is_monotonic_increasing
    assert frame.index[0] == pd.Timestamp("2024-01-02", tz="UTC") and len(frame) == 6
    with pytest.raises(VendorError, match="no time series"):
        av.parse_series({"Meta Data": {}}, "1D")


# ---- intraday -----------------------------------------------------------------------------


def test_intraday_recent_is_one_request_in_utc(rsps, monkeypatch):
    monkeypatch.setattr(av, "utc_now", lambda: pd.Timestamp("2024-03-12 22:00", tz="UTC"))
    rsps.get(
        URL,
        json=load("av_intraday_60min_ibm.json"),
        match=[matchers.query_param_matcher(intraday_params())],
    )
    res = fetch_result("IBM", "2024-03-08", "2024-03-11", "1H", "alpha_vantage", api_key=KEY)
    assert len(res.frame) == 14
    # 09:30 US/Eastern: 14:30 UTC before the DST change (8 March), 13:30 UTC after it (11 March)
    assert res.frame.index[0] == pd.Timestamp("2024-03-08 14:30", tz="UTC")
    assert res.frame.index[7] == pd.Timestamp("2024-03-11 13:30", tz="UTC")
    assert res.frame["close"].iloc[0] == 100.5 and res.frame["volume"].iloc[-1] == 14000.0
    assert res.extra["months"] == [] and res.coverage_start == pd.Timestamp("2000-01-01", tz="UTC")


def test_intraday_older_range_fetched_month_by_month(rsps):
    body = load("av_intraday_60min_ibm.json")
    feb = {"Meta Data": body["Meta Data"], "Time Series (60min)": {}}
    rsps.get(URL, json=feb, match=[matchers.query_param_matcher(intraday_params(month="2024-02"))])
    rsps.get(URL, json=body, match=[matchers.query_param_matcher(intraday_params(month="2024-03"))])
    res = fetch_result("IBM", "2024-02-01", "2024-03-08", "1H", "alpha_vantage", api_key=KEY)
    assert res.extra["months"] == ["2024-02", "2024-03"] and res.extra["requests"] == 2
    assert len(res.frame) == 7  # 8 March only; 11 March is after the end date


def test_intraday_4h_resampled_from_60min(rsps, monkeypatch):
    monkeypatch.setattr(av, "utc_now", lambda: pd.Timestamp("2024-03-12 22:00", tz="UTC"))
    rsps.get(
        URL,
        json=load("av_intraday_60min_ibm.json"),
        match=[matchers.query_param_matcher(intraday_params())],
    )
    res = fetch_result("IBM", "2024-03-08", "2024-03-11", "4H", "alpha_vantage", api_key=KEY)
    want_idx = pd.DatetimeIndex(
        ["2024-03-08 14:30", "2024-03-08 18:30", "2024-03-11 13:30", "2024-03-11 17:30"],
        tz="UTC",
        name="timestamp",
    )
    assert list(res.frame.index) == list(want_idx)
    assert res.frame["open"].tolist() == [100.0, 104.0, 107.0, 111.0]
    assert res.frame["high"].tolist() == [104.0, 107.0, 111.0, 114.0]
    assert res.frame["volume"].tolist() == [10000.0, 18000.0, 38000.0, 39000.0]
    assert res.extra["resampled_from"] == "60min"


@pytest.mark.parametrize(("tf", "interval"), [("1m", "1min"), ("5m", "5min"), ("15m", "15min")])
def test_intraday_interval_names(tf, interval):
    assert av.build_params("IBM", tf)["interval"] == interval
    assert av.build_params("IBM", tf)["outputsize"] == "full"


def test_months_to_request():
    assert av.months_to_request(pd.Timestamp("2024-03-01", tz="UTC"), NOW, NOW) == [None]
    assert av.months_to_request(
        pd.Timestamp("2023-11-15", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC"), NOW
    ) == ["2023-11", "2023-12", "2024-01"]


# ---- errors -------------------------------------------------------------------------------


def test_error_message_body_is_vendor_error(rsps):
    rsps.get(
        URL,
        json={
            "Error Message": "Invalid API call. Please retry or visit the documentation "
            "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."
        },
    )
    with pytest.raises(VendorError) as err:
        fetch("XYZQ", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=KEY)
    msg = one_line(err.value)
    assert msg.startswith(
        "Alpha Vantage rejected TIME_SERIES_DAILY 'XYZQ' (unknown symbol or bad call): Invalid API call"
    )
    assert not isinstance(err.value, RateLimitError)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (
            "Note",
            "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day.",
        ),
        ("Information", "Thank you for using Alpha Vantage! ... (25 requests per day) ..."),
    ],
)
def test_rate_limit_bodies_are_rate_limit_errors(rsps, key, text):
    rsps.get(URL, json={key: text}, status=200)
    with pytest.raises(RateLimitError) as err:
        fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=KEY)
    assert "rate limit or premium-only" in one_line(err.value) and "Thank you" in str(err.value)


def test_http_error_is_vendor_error(rsps):
    rsps.get(URL, body="Service Unavailable", status=503)
    with pytest.raises(VendorError) as err:
        fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=KEY)
    assert one_line(err.value) == "Alpha Vantage answered HTTP 503 for TIME_SERIES_DAILY 'IBM'"


def test_non_json_body_is_vendor_error(rsps):
    rsps.get(URL, body="<html>oops</html>", status=200)
    with pytest.raises(VendorError, match="not JSON"):
        fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=KEY)


@pytest.mark.parametrize("exc_type", [requests.ConnectionError, requests.Timeout])
def test_unreachable_is_vendor_error_without_the_key(rsps, exc_type):
    # requests puts the whole URL, key included, into its exception text
    rsps.get(URL, body=exc_type(f"Max retries exceeded with url: /query?function=X&apikey={KEY}"))
    with pytest.raises(VendorError) as err:
        fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=KEY)
    msg = one_line(err.value)
    assert msg.startswith("could not reach Alpha Vantage: ") and "/query?<query hidden>" in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_missing_key_raises_before_any_request(monkeypatch):
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as r,
        pytest.raises(MissingAPIKeyError) as err,
    ):
        fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage")
    assert "set the environment variable ALPHAVANTAGE_API_KEY" in one_line(err.value)
    assert len(r.calls) == 0


def test_empty_key_counts_as_missing(monkeypatch):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "  ")
    with pytest.raises(MissingAPIKeyError):
        fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage")


def test_range_before_history_gives_no_bars(rsps):
    rsps.get(URL, json=load("av_daily_ibm.json"))
    with pytest.raises(DataError) as err:
        fetch("IBM", "1990-01-01", "1990-12-31", vendor="alpha_vantage", api_key=KEY)
    assert one_line(err.value).startswith("no bars for IBM between 1990-01-01 and 1990-12-31")


def test_injected_session_is_used():
    class Sess:
        def __init__(self):
            self.calls = []

        def get(self, url, params=None, timeout=None):
            self.calls.append((url, params, timeout))
            r = requests.Response()
            r.status_code = 200
            r._content = json.dumps(load("av_daily_ibm.json")).encode()
            return r

    s = Sess()
    assert (
        len(
            fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=KEY, session=s)
        )
        == 6
    )
    assert s.calls[0][0] == URL and s.calls[0][1]["outputsize"] == "full" and s.calls[0][2] == 30


# ---- the key never leaks, in any spelling -----------------------------------------------------

ODD_KEYS = [
    "a+b/c=d&e f",
    "+/=&",
    "key with spaces",
    "Ünï cödé/ключ+1",
    "x'y\"z\\w&q=1",
    "%2Bpre-encoded%20",
    "SECRET-KEY-123",
]


def spellings(key: str) -> set[str]:
    """The key as a message or log could carry it, built independently of phi's redaction."""
    from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

    prepared = requests.Request("GET", URL, params={"symbol": "IBM", "apikey": key}).prepare().url
    sent = dict(parse_qsl(urlsplit(prepared).query, keep_blank_values=True))
    assert sent["apikey"] == key  # what Alpha Vantage receives
    as_sent = urlsplit(prepared).query.split("apikey=", 1)[1].split("&", 1)[0]
    forms = {key, quote(key), quote(key, safe=""), quote_plus(key), as_sent, repr(key)[1:-1], json.dumps(key)[1:-1]}
    forms |= {f.lower() for f in forms if "%" in f}  # lower-case hex
    forms |= {quote(as_sent, safe="")}  # encoded twice
    return {f for f in forms if len(f) >= 3}


def assert_no_key(text: str, key: str) -> None:
    for form in spellings(key):
        assert form not in text, f"{form!r} leaked into {text!r}"


def _url_with(key: str) -> str:
    return requests.Request("GET", URL, params={**daily_params(key=key)}).prepare().url


@pytest.mark.parametrize("key", ODD_KEYS)
def test_key_absent_from_connection_errors(rsps, key):
    url = _url_with(key)
    path = url.split(".co", 1)[1]
    rsps.get(URL, body=requests.ConnectionError(f"Max retries exceeded with url: {path} (Caused by X); {url}"))
    with pytest.raises(VendorError) as err:
        fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=key)
    msg = str(err.value)
    assert_no_key(msg, key)
    assert "\n" not in msg and "/query?<query hidden>" in msg and "Caused by X" in msg


@pytest.mark.parametrize("key", ODD_KEYS)
def test_key_absent_from_error_and_rate_limit_bodies(rsps, key):
    echo = f"Invalid API call for apikey={key} ({_url_with(key)}); your key {key} is unknown."
    rsps.get(URL, json={"Error Message": echo})
    rsps.get(URL, json={"Note": f"Key {key} : 5 calls per minute. {_url_with(key)}"})
    for kind in (VendorError, RateLimitError):
        with pytest.raises(kind) as err:
            fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=key)
        assert_no_key(str(err.value), key)
        assert "Alpha Vantage" in str(err.value)


@pytest.mark.parametrize("key", ODD_KEYS)
def test_key_absent_from_a_real_failed_request_cli_warnings_and_logs(key, monkeypatch, capsys, caplog):
    """No mock: requests builds the real URL and fails (the network is off in tests)."""
    import logging
    import warnings
    from urllib.parse import quote_plus

    from phi.cli import main

    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", key)
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(VendorError) as err:
            fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage")
        code = main(["fetch", "IBM", "-v", "alpha_vantage", "--start", "2024-01-02", "--end", "2024-01-09"])
    # urllib3 logs each request line at DEBUG, the URL with its query string included
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "www.alphavantage.co", 443, "GET",
        f"/query?function=TIME_SERIES_DAILY&apikey={quote_plus(key)}", "HTTP/1.1", 200, None,
    )
    out = capsys.readouterr()
    assert code == 2 and "could not reach Alpha Vantage" in out.err
    texts = [str(err.value), out.out, out.err, caplog.text, *(str(w.message) for w in record)]
    assert "query hidden" in caplog.text
    for text in texts:
        assert_no_key(text, key)


@pytest.mark.parametrize("short", ["a", "e", "ab", "AV", "the"])
def test_short_keys_never_garble_messages(rsps, short):
    """A one-letter key is masked only where it is the key (query string, apikey=); ordinary words stay."""
    text = "Invalid API call. Please retry or visit the documentation for a symbol: apikey={k} and a word."
    messages = []
    for key in (short, "ZQXJ7K2M9P4W8N3V"):
        rsps.get(URL, json={"Error Message": text.format(k=key)})
        rsps.get(URL, body=requests.ConnectionError(f"url: {_url_with(key).split('.co', 1)[1]} (Caused by a timeout)"))
        for _ in range(2):
            with pytest.raises(VendorError) as err:
                fetch("IBM", "2024-01-02", "2024-01-09", vendor="alpha_vantage", api_key=key)
            messages.append(str(err.value))
    assert messages[:2] == messages[2:]  # identical whatever the key: nothing garbled, nothing leaked
    assert "for a symbol: apikey=*** and a word" in messages[0]
    assert "(Caused by a timeout)" in messages[1] and "Alpha Vantage" in messages[1]
