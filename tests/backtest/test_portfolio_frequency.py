"""A portfolio's one-bar-frequency rule reads what the stamps are, not their median gap.

A daily symbol that trades less often than every 4 days (every 5th or 10th trading day, long
halts, a weekly sample stored as daily stamps) beside a normal daily one is daily: it runs,
each symbol filling on its own bars from one shared cash account (checked by hand below).
Daily beside intraday bars, or intraday bars of two lengths, are still refused in one line
(API: EngineError; CLI: exit code 2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.portfolio import PortfolioConfig, run_portfolio
from phi.data.calendar import bar_frequency
from phi.errors import EngineError

CAP = 100_000.0
DAYS = pd.bdate_range("2024-01-02", periods=120, tz="UTC")


def _bars(idx: pd.DatetimeIndex, opens: np.ndarray, closes: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"open": opens, "high": np.maximum(opens, closes) + 0.25, "low": np.minimum(opens, closes) - 0.25,
         "close": closes, "volume": 1e5},
        index=idx,
    )  # fmt: skip


def _walk(idx: pd.DatetimeIndex, seed: int, start: float = 100.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(2e-4, 0.01, len(idx))))
    return _bars(idx, np.r_[start, close[:-1]], close)


def test_every_5th_day_beside_daily_by_hand():
    """A daily every bar; B every 5th trading day. Weights 0.5/0.5 decided at bar 0's close,
    zero costs. A fills at bar 1's open; B has no bar there, so its target waits for its next
    bar (bar 5, a late fill) and is sized on the equity marked at bar 5's opens (A at its open,
    cash what A's purchase left). Cash is one account: what A spent, B cannot."""
    idx = DAYS[:15]
    a = _bars(idx, 100.0 - np.arange(15.0), 99.5 - np.arange(15.0))  # opens 100, 99, ..., closes 0.5 lower
    b_idx = idx[::5]  # bars 0, 5, 10
    b = _bars(b_idx, np.array([50.0, 52.0, 55.0]), np.array([51.0, 53.0, 54.0]))
    res = run_portfolio({"A": a, "B": b}, pd.DataFrame(0.5, index=idx, columns=["A", "B"]))
    f = res.fills.set_index("symbol")
    assert list(res.fills["symbol"]) == ["A", "B"]
    units_a = 0.5 * CAP / 99.0  # E = cash = 100 000 at bar 1's open
    assert f.loc["A", "time"] == idx[1] and f.loc["A", "price"] == 99.0
    assert f.loc["A", "units"] == pytest.approx(units_a, rel=1e-12) and not f.loc["A", "late"]
    cash_after_a = CAP - units_a * 99.0  # 50 000
    e5 = cash_after_a + units_a * 95.0  # bar 5's opens: A 95
    units_b = 0.5 * e5 / 52.0  # 0.5 x 97 979.80 / 52 = 942.11 units, under the 50 000 cash left
    assert f.loc["B", "time"] == idx[5] == b_idx[1] and f.loc["B", "price"] == 52.0
    assert f.loc["B", "decision_time"] == idx[0] and bool(f.loc["B", "late"])
    assert f.loc["B", "units"] == pytest.approx(units_b, rel=1e-12)
    cash = cash_after_a - units_b * 52.0
    assert res.cash.iloc[5:].to_numpy() == pytest.approx(np.full(10, cash), rel=1e-12)
    # B marked at its last close between its bars: 53 from bar 5 to 9, 54 from bar 10
    b_mark = np.r_[np.zeros(5), np.full(5, 53.0), np.full(5, 54.0)]
    a_mark = 99.5 - np.arange(15.0)
    want = np.r_[CAP, cash_after_a + units_a * a_mark[1:5], cash + units_a * a_mark[5:] + units_b * b_mark[5:]]
    np.testing.assert_allclose(res.equity.to_numpy(), want, rtol=1e-12)
    assert res.missing_data["B"]["missing_bars"] == 8  # bars 1-4 and 6-9 of its span 0..10


def _halts(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """A day or two of trading between halts of 3 to 6 weeks."""
    return idx[[0, 1, 16, 17, 30, 52, 53, 75, 90, 119]]


@pytest.mark.parametrize(
    "sparse",
    [
        DAYS[::5],
        DAYS[::10],
        _halts(DAYS),
        pd.date_range("2024-01-05", "2024-06-14", freq="W-FRI", tz="UTC"),  # a weekly sample, daily stamps
    ],
    ids=["every-5th", "every-10th", "long-halts", "weekly"],
)
def test_sparse_daily_beside_daily_runs_on_its_own_bars(sparse):
    bars = {"D": _walk(DAYS, 1), "S": _walk(sparse, 2, 40.0)}
    assert float(np.median(np.diff(sparse.as_unit("ns").asi8))) > 4 * 86_400e9  # the old rule refused all four
    w = pd.DataFrame({"D": 0.4, "S": 0.4}, index=DAYS)
    w.iloc[60:] = 0.2  # a second decision, mid-run
    res = run_portfolio(bars, w, PortfolioConfig(commission_pct=0.001, commission_fixed=1.0))
    assert len(res.fills) >= 4
    for _, row in res.fills.iterrows():  # every fill at the symbol's own next bar's open
        own = bars[row["symbol"]]
        assert row["time"] == own.index[own.index > row["decision_time"]][0]
        assert row["price"] == own.loc[row["time"], "open"]
    marks = pd.DataFrame({s: x["close"] for s, x in bars.items()}).reindex(res.equity.index).ffill()
    value = (res.holdings * marks).fillna(0.0).sum(axis=1)
    np.testing.assert_allclose(res.equity, res.cash + value, rtol=1e-12)  # one shared account
    spent = -res.fills["cash_change"].sum()
    assert res.cash.iloc[-1] == pytest.approx(CAP - spent, rel=1e-12)


HOURLY = pd.date_range("2024-01-02 14:30", periods=300, freq="h", tz="UTC")
FIVE_MIN = pd.date_range("2024-01-02 14:30", periods=300, freq="5min", tz="UTC")
MINUTE = pd.date_range("2024-01-02 14:30", periods=300, freq="min", tz="UTC")
SESSIONS = pd.DatetimeIndex([t for d in DAYS[:40] for t in d + pd.to_timedelta([14.5, 15.5, 16.5, 17.5, 18.5, 19.5, 20.5], "h")])
THIN = SESSIONS[np.isin(np.arange(len(SESSIONS)) % 7, [0, 1, 4, 5])]  # gaps 1, 3, 1 h, then overnight


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (DAYS, HOURLY, "bars['A'] are daily (date-only stamps) but bars['B'] are intraday (1 hour between stamps within a day)"),
        (DAYS, FIVE_MIN, "bars['A'] are daily (date-only stamps) but bars['B'] are intraday (5 minutes between"),
        (HOURLY, MINUTE, "bars['A'] are intraday (1 hour between stamps within a day) but bars['B'] are intraday (1 minute"),
        (MINUTE, DAYS[::5], "bars['A'] are intraday (1 minute between stamps within a day) but bars['B'] are daily"),
        (DAYS, THIN, "but bars['B'] are intraday (1 hour between"),  # thin hourly: median gap 2 h
        (SESSIONS, SESSIONS[::2], "bars['A'] are intraday (1 hour between stamps within a day) but bars['B'] are intraday (2 hours"),
    ],
    ids=["daily+hourly", "daily+5min", "hourly+minute", "minute+sparse-daily", "daily+thin-hourly", "1h+2h"],
)  # fmt: skip
def test_mixed_frequencies_are_still_refused_in_one_line(first, second, message):
    bars = {"A": _walk(first, 3), "B": _walk(second, 4)}
    w = pd.DataFrame(0.5, index=first.union(second), columns=["A", "B"])
    with pytest.raises(EngineError, match="one bar frequency") as exc:
        run_portfolio(bars, w)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_declared_timeframe_settles_what_one_stamp_a_day_cannot():
    """An hourly symbol so thin it has one bar a day, always at 15:30, looks like daily bars
    stamped at 15:30; the data layer's attrs['timeframe'] says what it is."""
    thin = DAYS[::3] + pd.Timedelta(hours=15.5)
    assert bar_frequency(thin) == (1440.0, "daily (one stamp a day at 15:30)")
    d, h = _walk(DAYS, 5), _walk(thin, 6)
    w = pd.DataFrame(0.5, index=DAYS.union(thin), columns=["D", "H"])
    h.attrs = {"timeframe": "1h"}
    with pytest.raises(EngineError, match=r"bars\['H'\] are 1H bars \(declared: timeframe='1H'\): a portfolio"):
        run_portfolio({"D": d, "H": h}, w)
    d.attrs = {"timeframe": "1D"}
    h.attrs = {}
    run_portfolio({"D": d, "H": h}, w)  # both daily by their stamps: one stamp a day
    varying = thin + pd.to_timedelta(np.arange(len(thin)) % 3, "h")  # one a day at 15:30, 16:30 or 17:30
    assert bar_frequency(varying)[0] is None
    with pytest.raises(EngineError, match=r"are intraday \(stamps at varying times of day, never two on one day\)"):
        run_portfolio({"D": d, "H": _walk(varying, 6)}, w.reindex(DAYS.union(varying)).fillna(0.5))


def test_bar_frequency_reads_the_stamps_of_every_timeframe():
    from phi.data.demo import generate_demo

    want = {"1D": 1440.0, "4H": 240.0, "1H": 60.0, "15m": 15.0, "5m": 5.0, "1m": 1.0}
    for tf, minutes in want.items():
        frame = generate_demo("DEMO", "2024-03-01", "2024-03-20", tf)
        assert bar_frequency(frame.index)[0] == minutes
    sparse = generate_demo("DEMO", "2024-01-01", "2024-06-30", "1D").index[::7]
    assert bar_frequency(sparse) == (1440.0, "daily (date-only stamps)")
    close = pd.bdate_range("2024-03-01", periods=30, tz="America/New_York") + pd.Timedelta(hours=16)
    assert bar_frequency(close) == (1440.0, "daily (one stamp a day at 16:00)")
    assert bar_frequency(close.tz_convert("UTC")) == (1440.0, "daily (one stamp a day at 20:00 or 21:00)")  # DST


def _cache_demo(symbol: str, frame: pd.DataFrame) -> None:
    """Put ``frame`` in the demo vendor's cache as ``symbol``'s 1D bars for 2023."""
    from phi.data import cache

    meta = {"adjustment": "none", "exchange_tz": "America/New_York", "synthetic": True}
    cache.save_dataset(frame, "demo", symbol, "1D", "2023-01-01", "2023-12-31", metadata=meta)


def test_cli_portfolio_and_strategies_run_a_sparse_daily_symbol(cwd, capsys):
    """Through the data layer (its cache) and the CLI: GLD trading every 5th day beside daily
    SPY, VEU, AGG. The old rule stopped both commands with exit code 2."""
    from phi.cli import main as phi_main

    _cache_demo("GLD", _walk(pd.bdate_range("2023-01-03", "2023-12-29", tz="UTC")[::5], 7, 180.0))
    dates = ["--start", "2023-01-01", "--end", "2023-12-31"]
    assert phi_main(["portfolio", "run", "--symbols", "SPY,GLD", "--weights", "equal", *dates, "--no-save"]) == 0
    assert "one bar frequency" not in capsys.readouterr().err
    assert phi_main(["strategies", "run", "MomentumRotation", *dates, "--no-save"]) == 0  # SPY, VEU, AGG, GLD
    assert "one bar frequency" not in capsys.readouterr().err


def test_cli_refuses_hourly_bars_cached_as_daily_in_one_line(cwd, capsys):
    """The stamps outrank the declared timeframe: hourly bars filed under 1D are intraday."""
    from phi.cli import main as phi_main

    _cache_demo("GLD", _walk(pd.date_range("2023-01-03 14:30", periods=400, freq="h", tz="UTC"), 8, 180.0))
    args = ["portfolio", "run", "--symbols", "SPY,GLD", "--start", "2023-01-01", "--end", "2023-12-31", "--no-save"]
    assert phi_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "bars['SPY'] are daily (date-only stamps) but bars['GLD'] are intraday (1 hour" in err
    assert len(err.splitlines()) == 1, err


def test_two_hourly_bars_beside_daily_ones_are_refused_not_mixed_in():
    # audit: a 2-bar frame skipped the frequency check; its 14:30 and 15:30 bars became two
    # extra rows between the daily ones (12 rows for 10 sessions), traded as if daily
    two = pd.DatetimeIndex(["2024-01-03 14:30", "2024-01-03 15:30"], tz="UTC")
    bars = {"A": _walk(two, 5), "B": _walk(DAYS[:10], 6)}
    w = pd.DataFrame(0.5, index=DAYS[:10].union(two), columns=["A", "B"])
    with pytest.raises(EngineError, match="one bar frequency") as exc:
        run_portfolio(bars, w)
    assert "bars['A'] are intraday (1 hour between stamps within a day)" in str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("stamps", [["2024-01-03 14:30"], ["2024-01-03 14:30", "2024-01-10 14:30"]], ids=["1", "2"])
def test_one_or_two_daily_bars_beside_daily_ones_line_up_on_their_dates(stamps):
    short = pd.DatetimeIndex(stamps, tz="UTC")
    bars = {"A": _walk(short, 5), "B": _walk(DAYS[:10], 6)}
    w = pd.DataFrame(0.5, index=DAYS[:10], columns=["A", "B"])
    res = run_portfolio(bars, w)
    assert res.equity.index.equals(DAYS[:10])  # 10 sessions, A's bars on their dates
    assert res.holdings["A"].notna().all()


def test_tz_naive_weights_on_tz_aware_bars_say_so_in_one_line():
    # audit: the error named a stamp 'no symbol has a bar at' (2024-01-02 00:00:00), which every
    # symbol has; the cause, naive weights beside UTC bars, was not said
    bars = {"A": _walk(DAYS[:10], 5), "B": _walk(DAYS[:10], 6)}
    w = pd.DataFrame(0.5, index=DAYS[:10].tz_localize(None), columns=["A", "B"])
    with pytest.raises(EngineError) as exc:
        run_portfolio(bars, w)
    msg = str(exc.value)
    assert msg.startswith("target_weights has tz-naive stamps but the bars tz-aware ones") and "\n" not in msg


def test_two_thin_five_minute_bars_beside_five_minute_ones_run():
    # one gap (1 h) is no bar length: a thinly traded 5-minute symbol with two bars that day is
    # not refused as 'hourly' beside a 5-minute one; it lines up on its own stamps
    thin = pd.DatetimeIndex(["2024-01-02 14:30", "2024-01-02 15:30"], tz="UTC")
    bars = {"A": _walk(thin, 5), "B": _walk(FIVE_MIN[:40], 6)}
    w = pd.DataFrame(0.5, index=FIVE_MIN[:40], columns=["A", "B"])
    res = run_portfolio(bars, w)
    assert res.equity.index.equals(FIVE_MIN[:40])  # 14:30 and 15:30 are 5-minute stamps of B
