"""Daily bars of a portfolio are dated by their exchange's local trading date, in every real
stamping convention (hand-worked; the old rule took the calendar date in the index's own zone).

Each bar below is the session of a weekday D of 25 Mar - 12 Apr 2024, a span that crosses
London's BST start (31 Mar) and Sydney's AEDT end (7 Apr) (New York is on EDT throughout):

* yfinance's tz-aware local midnight converted to UTC: Tokyo 15:00 UTC of D-1; Sydney 13:00
  UTC of D-1 (AEDT, to 5 Apr) then 14:00 (AEST); London 00:00 UTC of D, then 23:00 UTC of D-1.
  The old rule dated these a day early (Sunday to Thursday), so beside a US stock the Tokyo
  row of 'Monday' held Tuesday's Tokyo session and a weight decided on it filled at an open
  that came before the close that decided it.
* Stamps already right, which must not move: 00:00 UTC date labels, local midnight in the
  exchange's zone, the close in UTC (Tokyo 15:00 JST = 06:00 UTC; New York 16:00 EDT =
  20:00 UTC), and the demo data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.portfolio import align_sessions, run_portfolio, session_dates
from phi.errors import EngineError, PhiError
from tests.backtest.test_portfolio_frequency import _bars  # bars from opens and closes

CAP = 100_000.0
DAYS = pd.bdate_range("2024-03-25", "2024-04-12")  # 15 weekdays, Mon 25 Mar .. Fri 12 Apr
N = len(DAYS)
SESSIONS = DAYS.tz_localize("UTC")  # the data layer's stamps: 00:00 UTC of the session date


def _local_midnight_in_utc(tz: str) -> pd.DatetimeIndex:
    return DAYS.tz_localize(tz).tz_convert("UTC")


def _x(idx: pd.DatetimeIndex) -> pd.DataFrame:  # opens 100, 101, ...; closes 0.5 higher
    return _bars(idx, 100.0 + np.arange(len(idx)), 100.5 + np.arange(len(idx)))


def _us(idx: pd.DatetimeIndex) -> pd.DataFrame:  # opens 50, 49, ...; closes 0.25 lower
    return _bars(idx, 50.0 - np.arange(len(idx)), 49.75 - np.arange(len(idx)))


def _check_pairs(res) -> None:
    """0.5 / 0.5 decided at Mon 25 Mar's close: both fill at Tue 26 Mar's opens (X 101, US 49),
    E = 100 000, then equity = units x close on each date, one row per date."""
    assert res.equity.index.equals(SESSIONS)
    ux, uu = 0.5 * CAP / 101.0, 0.5 * CAP / 49.0
    eq = ux * (100.5 + np.arange(N)) + uu * (49.75 - np.arange(N))
    eq[0] = CAP
    assert res.equity.to_numpy() == pytest.approx(eq, rel=1e-12)
    f = res.fills
    assert len(f) == 2 and f.set_index("symbol").loc["US", "price"] == 49.0
    assert f.loc[f["symbol"] != "US", "price"].tolist() == [101.0]
    assert (pd.DatetimeIndex(f["time"]) == SESSIONS[1]).all()
    assert all(m["missing_bars"] == 0 for m in res.missing_data.values())


def _run(x: pd.DataFrame, x_name: str, us: pd.DataFrame):
    bars = {x_name: x, "US": us}
    w = pd.DataFrame(0.5, index=SESSIONS[:1], columns=[x_name, "US"])
    return run_portfolio(bars, w)


# -------------------------------------------------------------------------------------------
# hand-written stamps, one per convention


@pytest.mark.parametrize(
    ("stamp", "zone", "session"),
    [
        ("2024-01-14 15:00+00:00", "Asia/Tokyo", "2024-01-15"),  # Tokyo 00:00 JST, Mon 15 Jan
        ("2024-07-14 15:00+00:00", "Asia/Tokyo", "2024-07-15"),  # no DST in Tokyo
        ("2024-01-15 06:00+00:00", "Asia/Tokyo", "2024-01-15"),  # Tokyo's 15:00 close
        ("2024-01-14 13:00+00:00", "Australia/Sydney", "2024-01-15"),  # 00:00 AEDT (+11)
        ("2024-07-14 14:00+00:00", "Australia/Sydney", "2024-07-15"),  # 00:00 AEST (+10)
        ("2024-01-15 05:00+00:00", "Australia/Sydney", "2024-01-15"),  # Sydney's 16:00 close
        ("2024-01-15 00:00+00:00", "Europe/London", "2024-01-15"),  # 00:00 GMT
        ("2024-07-14 23:00+00:00", "Europe/London", "2024-07-15"),  # 00:00 BST
        ("2024-07-15 15:30+00:00", "Europe/London", "2024-07-15"),  # 16:30 BST close
        ("2024-01-15 21:00+00:00", "America/New_York", "2024-01-15"),  # 16:00 EST close
        ("2024-07-15 20:00+00:00", "America/New_York", "2024-07-15"),  # 16:00 EDT close
        ("2024-07-15 21:00+00:00", "America/New_York", "2024-07-15"),  # 21:00 UTC all year
        ("2024-07-15 19:00+00:00", "America/New_York", "2024-07-15"),  # 19:00 UTC all year
        ("2024-07-15 04:00+00:00", "America/New_York", "2024-07-15"),  # 00:00 EDT (yfinance)
        ("2024-01-16 06:00+09:00", "America/New_York", "2024-01-15"),  # NY close shown in Tokyo
        ("2024-07-15 00:00+00:00", "America/New_York", "2024-07-15"),  # a UTC-midnight label
        ("2024-07-15 00:00+00:00", "Asia/Tokyo", "2024-07-15"),  # a UTC-midnight label
    ],
)
def test_a_stamp_is_dated_by_its_exchanges_local_date(stamp, zone, session):
    idx = pd.DatetimeIndex([pd.Timestamp(stamp)])
    assert session_dates(idx, zone)[0] == pd.Timestamp(session, tz="UTC")


@pytest.mark.parametrize(
    ("symbol", "attrs", "zone"),
    [
        ("7203.T", {}, "Asia/Tokyo"), ("bhp.ax", {}, "Australia/Sydney"), ("VOD.L", {}, "Europe/London"),
        ("^N225", {}, "Asia/Tokyo"), ("A", {"symbol": "7203.T"}, "Asia/Tokyo"),
        ("A", {"exchange_tz": "Asia/Tokyo"}, "Asia/Tokyo"), ("AAPL", {}, None), ("BRK.B", {}, None),
        ("A", {"exchange_tz": "UTC"}, None), ("BTC-USD", {}, None),
    ],
)  # fmt: skip
def test_exchange_zone_from_metadata_or_yahoo_suffix(symbol, attrs, zone):
    from phi.backtest.portfolio_sessions import exchange_zone

    assert exchange_zone(symbol, attrs) == zone


# -------------------------------------------------------------------------------------------
# two-symbol portfolios pair the same trading day


US_CONVENTIONS = {
    "utc_midnight": SESSIONS,
    "close_in_utc": (DAYS.tz_localize("America/New_York") + pd.Timedelta(hours=16)).tz_convert("UTC"),
    "ny_midnight": DAYS.tz_localize("America/New_York"),
}


@pytest.mark.parametrize("us", sorted(US_CONVENTIONS))
@pytest.mark.parametrize(
    ("name", "attrs", "tz"),
    [
        ("7203.T", {}, "Asia/Tokyo"),
        ("BHP.AX", {}, "Australia/Sydney"),
        ("VOD.L", {}, "Europe/London"),
        ("X", {"exchange_tz": "Asia/Tokyo"}, "Asia/Tokyo"),
        ("X", {"symbol": "BHP.AX"}, "Australia/Sydney"),
    ],
)
def test_local_midnight_given_in_utc_pairs_the_same_trading_day(name, attrs, tz, us):
    idx = _local_midnight_in_utc(tz)
    if tz == "Asia/Tokyo":
        assert (idx.hour == 15).all() and idx[0] == pd.Timestamp("2024-03-24 15:00", tz="UTC")
    x = _x(idx)
    x.attrs = dict(attrs)
    res = _run(x, name, _us(US_CONVENTIONS[us]))
    _check_pairs(res)
    aligned = align_sessions({name: x})[name]
    assert aligned.index.equals(SESSIONS) and aligned.attrs == attrs


@pytest.mark.parametrize(
    ("name", "idx"),
    [
        ("7203.T", SESSIONS),  # 00:00 UTC date labels
        ("7203.T", DAYS.tz_localize("Asia/Tokyo")),  # yfinance, in the exchange's zone
        ("7203.T", DAYS.tz_localize("UTC") + pd.Timedelta(hours=6)),  # Tokyo's close in UTC
        ("BHP.AX", DAYS.tz_localize("Australia/Sydney")),
        ("VOD.L", DAYS.tz_localize("Europe/London")),
        ("TOKYO", DAYS.tz_localize("Asia/Tokyo")),  # unknown symbol in its own zone
        ("TOKYO", SESSIONS.tz_convert("America/New_York")),  # UTC labels shown in New York
        ("X", DAYS),  # tz-naive dates
    ],
)
def test_correctly_dated_frames_do_not_move(name, idx):
    want = DAYS if idx.tz is None else SESSIONS
    out = align_sessions({name: _x(idx), "US": _us(want)})
    assert out[name].index.equals(want) and out["US"].index.equals(want)
    if idx.tz is not None:
        res = _run(_x(idx), name, _us(SESSIONS))
        assert res.equity.index.equals(SESSIONS) and len(res.fills) == 2


def test_demo_data_keeps_its_dates():
    from phi.data.demo import generate_demo

    a = generate_demo("AAA", "2024-03-25", "2024-04-12")
    b = generate_demo("BBB", "2024-03-25", "2024-04-12")
    out = align_sessions({"7203.T": a, "AAA": a, "BBB": b})
    for frame in out.values():
        assert frame.index.equals(a.index)
    assert a.index.equals(SESSIONS)  # Good Friday is a weekday in the demo calendar


def test_the_close_shown_in_a_far_east_zone_is_read_in_the_exchanges_zone():
    """New York's 16:00 EDT close shown in Tokyo time is 05:00 JST of the next day."""
    shown = (DAYS.tz_localize("America/New_York") + pd.Timedelta(hours=16)).tz_convert("Asia/Tokyo")
    assert shown[0] == pd.Timestamp("2024-03-26 05:00", tz="Asia/Tokyo")
    us = _us(shown)
    us.attrs = {"exchange_tz": "America/New_York"}
    x = _x(SESSIONS)
    res = run_portfolio({"X": x, "US": us}, pd.DataFrame(0.5, index=SESSIONS[:1], columns=["X", "US"]))
    _check_pairs(res)


def test_a_session_date_never_depends_on_the_bars_after_it():
    x = _x(_local_midnight_in_utc("Australia/Sydney"))  # 13:00 then 14:00 UTC
    full = align_sessions({"BHP.AX": x})["BHP.AX"].index
    assert full.equals(SESSIONS)
    for k in (1, 3, 9, 10, N):
        assert align_sessions({"BHP.AX": x.iloc[:k]})["BHP.AX"].index.equals(full[:k]), k


# -------------------------------------------------------------------------------------------
# unknown zone, dates a day off: refused in one line


def test_far_east_midnight_in_utc_of_an_unknown_symbol_is_refused():
    x = _x(_local_midnight_in_utc("Asia/Tokyo"))
    with pytest.raises(EngineError, match=r"bars\['TOYOTA'\].*15:00 UTC.*Sunday to Thursday.*day early.*exchange_tz") as exc:
        _run(x, "TOYOTA", _us(SESSIONS))
    assert "\n" not in str(exc.value) and isinstance(exc.value, PhiError)
    with pytest.raises(EngineError, match="Sunday to Thursday"):
        align_sessions({"TOYOTA": x})


def test_a_western_close_shown_far_east_of_an_unknown_symbol_is_refused():
    shown = (DAYS.tz_localize("America/New_York") + pd.Timedelta(hours=16)).tz_convert("Asia/Tokyo")
    with pytest.raises(EngineError, match=r"bars\['SPY'\].*05:00 Asia/Tokyo.*Tuesday to Saturday.*day late"):
        run_portfolio({"SPY": _us(shown)}, pd.DataFrame(0.5, index=shown[:1], columns=["SPY"]))


def test_24_7_and_sunday_to_thursday_date_labels_are_not_refused():
    every_day = pd.date_range("2024-03-25", periods=21, tz="America/New_York")  # midnight New York
    assert align_sessions({"BTC-USD": _x(every_day)})["BTC-USD"].index.equals(
        every_day.tz_localize(None).tz_localize("UTC")
    )
    sun_thu = SESSIONS - pd.Timedelta(days=1)  # a Sunday-Thursday market's 00:00 UTC labels
    assert align_sessions({"2222": _x(sun_thu)})["2222"].index.equals(sun_thu)
    riyadh = (DAYS - pd.Timedelta(days=1)).tz_localize("Asia/Riyadh")  # its midnight, its zone
    assert align_sessions({"2222": _x(riyadh)})["2222"].index.equals(sun_thu)


def test_a_bad_exchange_tz_is_one_line():
    x = _x(SESSIONS)
    x.attrs = {"exchange_tz": "Mars/Olympus"}
    with pytest.raises(EngineError, match=r"bars\['X'\]\.attrs\['exchange_tz'\] is 'Mars/Olympus', not a known time zone"):
        run_portfolio({"X": x}, pd.DataFrame(0.5, index=SESSIONS[:1], columns=["X"]))


# -------------------------------------------------------------------------------------------
# intraday: instants


def test_intraday_bars_of_two_zones_line_up_by_instant():
    """Tokyo's 09:00-14:00 JST hourly bars given in Tokyo time beside the same hours in UTC
    (00:00-05:00 UTC): one row per instant, fills at the next instant's opens."""
    utc = pd.date_range("2024-03-25 00:00", periods=6, freq="h", tz="UTC")
    tokyo = utc.tz_convert("Asia/Tokyo")
    assert tokyo[0].hour == 9
    res = run_portfolio({"X": _x(tokyo), "US": _us(utc)}, pd.DataFrame(0.5, index=tokyo[:1], columns=["X", "US"]))
    assert len(res.equity) == 6 and (res.equity.index == utc).all()
    assert sorted(res.fills["price"]) == [49.0, 101.0] and (pd.DatetimeIndex(res.fills["time"]) == utc[1]).all()
