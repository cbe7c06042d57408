"""The engine at its edges, on real bars (GOOG daily and EURUSD hourly, bundled with
backtesting.py, a test-only dependency): ruin, inputs it must refuse, market calendars and the
conventions its ledger states."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from phi.backtest import metrics as M
from phi.backtest.engine import (
    SWEEP_METRICS,
    BacktestResult,
    EngineConfig,
    run_backtest,
    run_backtest_many,
)
from phi.errors import EngineError
from tests.conftest import make_ohlcv

backtesting = pytest.importorskip("backtesting")
empyrical = pytest.importorskip("empyrical")
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.test import EURUSD, GOOG  # noqa: E402

SHORT_ALL_IN = {"allow_short": True, "size_pct": 1.0}


def _bars(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.rename(columns=str.lower)
    df.index = pd.DatetimeIndex(df.index).tz_localize("UTC")  # the bundled stamps are UTC
    return df


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return _bars(GOOG)


@pytest.fixture(scope="module")
def eurusd() -> pd.DataFrame:
    return _bars(EURUSD)


def _one(ohlcv, signal, cfg) -> BacktestResult:
    res = run_backtest(ohlcv, signal, cfg)
    assert isinstance(res, BacktestResult)
    return res


def _short_from_bar_1(n: int) -> np.ndarray:
    sig = np.full(n, -1.0)
    sig[0] = 0.0
    return sig


# ---- ruin -----------------------------------------------------------------------------


@pytest.mark.parametrize("fractional", [True, False])
def test_a_short_against_googs_rise_is_ruined_truthfully(goog, fractional):
    cfg = EngineConfig(**SHORT_ALL_IN, fractional=fractional)
    sig = _short_from_bar_1(len(goog))
    res = _one(goog, sig, cfg)
    m = res.metrics
    assert all(isinstance(v, float) for v in m.values())  # never complex
    for key in ("total_return", "cagr", "annual_volatility", "sharpe", "sortino", "calmar",
                "max_drawdown", "final_equity"):  # fmt: skip
        assert np.isfinite(m[key]), key
    assert m["cagr"] == -1.0 and m["sharpe"] <= 0 and m["sortino"] <= 0
    # the ruin bar: the first close with equity <= 0; the short is closed there
    eq = res.equity.to_numpy()
    k = int(np.argmax(eq <= 0))
    assert eq[k] <= 0 < eq[:k].min()
    assert res.assumptions["ruin_bar"] == str(goog.index[k])
    assert str(goog.index[k]) in str(res.assumptions["ruin"])
    t = res.trades
    assert len(t) == 1 and t["exit_reason"][0] == "ruin" and t["exit_bar"][0] == k
    assert t["exit_price"][0] == goog["close"].iloc[k]
    # nothing after it: flat, equity frozen at the ruin value
    assert (res.positions.to_numpy()[k:] == 0).all() and (eq[k:] == eq[k]).all()
    # total return is below -100 % only by the ruin bar's own move (no costs here)
    close = goog["close"].to_numpy()
    units = t["size"][0]
    assert eq[k] == pytest.approx(eq[k - 1] - units * (close[k] - close[k - 1]), rel=1e-12)
    assert m["total_return"] == pytest.approx(eq[k] / cfg.initial_capital - 1, rel=1e-12)
    # the lean 2-D path agrees on every metric and on the ruin bar
    lean = run_backtest_many(goog, sig[:, None], cfg).iloc[0]
    assert lean["ruin_bar"] == k
    for key in SWEEP_METRICS:
        if key in m:
            assert lean[key] == pytest.approx(m[key], rel=1e-9, nan_ok=True), key
    two_d = run_backtest(goog, np.column_stack([sig, sig]), cfg)
    assert isinstance(two_d, list)
    np.testing.assert_array_equal(two_d[1].equity.to_numpy(), eq)


class _ShortAllIn(Strategy):
    def init(self) -> None:
        pass

    def next(self) -> None:
        if not self.position:
            self.sell()


def test_ruin_matches_backtesting_py_where_the_conventions_agree(goog):
    """backtesting.py also closes everything at the ruin bar's close and stops; it then sets
    the equity to 0, where phi keeps the real (negative) equity of that close."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(GOOG, _ShortAllIn, cash=100_000, commission=0.0).run()
    bt = stats["_trades"]
    # backtesting.py enters on its first next() (bar 1) at bar 2's open: signal -1 from bar 1
    res = _one(goog, _short_from_bar_1(len(goog)), EngineConfig(**SHORT_ALL_IN, fractional=False))
    t = res.trades
    assert len(t) == len(bt) == 1
    assert (t["entry_bar"][0], t["exit_bar"][0]) == (bt["EntryBar"][0], bt["ExitBar"][0])
    assert -t["size"][0] == bt["Size"][0]
    for ours, theirs in [("entry_price", "EntryPrice"), ("exit_price", "ExitPrice"),
                         ("pnl", "PnL"), ("return_pct", "ReturnPct")]:  # fmt: skip
        assert t[ours][0] == pytest.approx(bt[theirs][0], rel=1e-12), ours
    k = int(t["exit_bar"][0])
    bt_eq = stats["_equity_curve"]["Equity"].to_numpy()
    np.testing.assert_allclose(res.equity.to_numpy()[:k], bt_eq[:k], rtol=1e-12)
    assert (bt_eq[k:] == 0).all() and res.equity.iloc[k] == pytest.approx(100_000 + t["pnl"][0])
    assert stats["CAGR [%]"] == res.metrics["cagr"] * 100 == -100.0


# ---- inputs the engine must refuse ---------------------------------------------------------


def _one_line_error(call, match: str) -> None:
    with pytest.raises(EngineError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda df: pd.Series(0.5, index=pd.RangeIndex(len(df))),
         "signal has a RangeIndex, the bars a DatetimeIndex"),
        (lambda df: pd.Series(0.5, index=df.index.tz_localize(None)),
         r"signal's stamps are tz-naive, the bars' tz-aware \(UTC\)"),
        (lambda df: pd.Series(0.5, index=df.index + pd.Timedelta(hours=1)),
         "stamps differ, the first at bar 0"),
        (lambda df: pd.Series(0.5, index=df.index[::2]), "the signal has 1074 stamps, the bars 2148"),
        (lambda df: pd.DataFrame({"a": 0.5}, index=pd.RangeIndex(len(df))), "RangeIndex"),
    ],
)  # fmt: skip
def test_a_signal_on_other_stamps_is_refused(goog, make, match):
    sig = make(goog)
    _one_line_error(lambda: run_backtest(goog, sig), "signal index does not match the bars: .*" + match)
    _one_line_error(lambda: run_backtest_many(goog, sig), match)


def test_tz_aware_bars_against_a_naive_signal_and_the_reverse(eurusd):
    naive = eurusd.tz_localize(None)
    sig = pd.Series(0.5, index=eurusd.index)
    _one_line_error(lambda: run_backtest(naive, sig), r"tz-aware \(UTC\), the bars' tz-naive")


def test_a_length_matched_array_or_the_same_instants_elsewhere_are_accepted(goog):
    sig = _short_from_bar_1(len(goog)) * -1
    base = _one(goog, sig, EngineConfig())
    same = _one(goog, pd.Series(sig, index=goog.index.tz_convert("Asia/Tokyo")), EngineConfig())
    pd.testing.assert_series_equal(base.equity, same.equity)
    assert len(base.trades) == 1


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda df: df.iloc[::-1], r"not sorted by time: bar 1 \(2013-02-28"),
        (lambda df: df.iloc[[0, 1, 3, 2, 4, 5]], r"not sorted by time: bar 3 \(2004-08-23"),
        (lambda df: df.iloc[[0, 1, 2, 2, 3, 4]], "duplicate timestamps: bars 2 and 3 are both at 2004-08-23"),
    ],
)  # fmt: skip
def test_unsorted_or_duplicate_bars_are_refused(goog, mutate, match):
    bad = mutate(goog)
    sig = np.zeros(len(bad))
    _one_line_error(lambda: run_backtest(bad, sig), match)
    _one_line_error(lambda: run_backtest_many(bad, sig[:, None]), match)
    _one_line_error(lambda: run_backtest(bad, pd.Series(sig, index=bad.index)), match)


def test_a_missing_stamp_and_an_unsorted_plain_index_are_refused(goog):
    df = goog.iloc[:5].copy()
    df.index = pd.DatetimeIndex([*df.index[:4], pd.NaT])
    _one_line_error(lambda: run_backtest(df, np.zeros(5)), "missing timestamp")
    plain = goog.iloc[:4].set_axis(pd.Index([3, 1, 2, 4]))
    _one_line_error(
        lambda: run_backtest(plain, np.zeros(4), EngineConfig(periods_per_year=252)),
        r"not sorted by time: bar 1 \(1\)",
    )


def test_bars_without_timestamps_need_periods_per_year(goog):
    plain = goog.reset_index(drop=True)
    sig = -_short_from_bar_1(len(goog))
    _one_line_error(lambda: run_backtest(plain, sig), "no DatetimeIndex .*periods_per_year")
    _one_line_error(lambda: run_backtest_many(plain, sig[:, None]), "periods_per_year")
    res = _one(plain, sig, EngineConfig(periods_per_year=252))
    dated = _one(goog, sig, EngineConfig(calendar="exchange"))
    assert res.assumptions["calendar"] == "none" and res.assumptions["periods_per_year"] == 252
    for key in ("sharpe", "sortino", "cagr", "annual_volatility", "max_drawdown"):
        assert res.metrics[key] == pytest.approx(dated.metrics[key], rel=1e-12), key


# ---- market calendars ----------------------------------------------------------------------


def _fx_trading_day_closes(equity: pd.Series) -> pd.Series:
    """By hand: each bar's New York time, plus 7 h, gives the day that ends 17:00 New York;
    Saturday and Sunday roll forward to Monday; the last equity of each day."""
    ny = equity.index.tz_convert("America/New_York").tz_localize(None) + pd.Timedelta(hours=7)
    day = ny.normalize()
    day = day + pd.to_timedelta(np.where(day.day_of_week >= 5, 7 - day.day_of_week, 0), "D")
    return equity.groupby(day).last()


@pytest.fixture(scope="module")
def fx_run(eurusd) -> BacktestResult:
    c = eurusd["close"]
    sig = np.sign(c.rolling(10).mean() - c.rolling(20).mean())
    return _one(eurusd, sig.where(sig != 0), EngineConfig(**SHORT_ALL_IN))


def test_eurusd_hourly_is_detected_as_fx(fx_run, eurusd):
    a = fx_run.assumptions
    assert a["calendar"] == "fx" and a["periods_per_year"] == 260
    assert "around the clock" in str(a["calendar_source"])
    assert "17:00 America/New_York" in str(a["annualisation"])
    naive = _one(eurusd.tz_localize(None), np.zeros(len(eurusd)), EngineConfig())
    assert naive.assumptions["calendar"] == "fx"


def test_fx_risk_metrics_use_weekday_closes_at_17h_new_york(fx_run):
    daily = _fx_trading_day_closes(fx_run.equity)
    assert (daily.index.day_of_week < 5).all()  # no Sunday (or Saturday) stubs
    values = daily.to_numpy()
    r = values / np.concatenate(([100_000.0], values[:-1])) - 1
    m = fx_run.metrics
    assert m["annual_volatility"] == pytest.approx(np.std(r, ddof=1) * np.sqrt(260), rel=1e-12)
    assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=260), rel=1e-12)
    assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=260), rel=1e-12)
    assert m["cagr"] == pytest.approx(empyrical.annual_return(r, annualization=260), rel=1e-12)


def test_the_old_calendar_day_convention_is_still_there_on_request(fx_run, eurusd):
    """calendar='exchange' splits at UTC midnight (Sunday stubs included) with 252 a year:
    the old convention, which understated the volatility of this run."""
    old = _one(eurusd, fx_run.signal, EngineConfig(**SHORT_ALL_IN, calendar="exchange"))
    eq = old.equity
    daily = eq.groupby(eq.index.normalize()).last().to_numpy()
    r = daily / np.concatenate(([100_000.0], daily[:-1])) - 1
    assert old.metrics["annual_volatility"] == pytest.approx(np.std(r, ddof=1) * np.sqrt(252))
    assert old.metrics["annual_volatility"] < fx_run.metrics["annual_volatility"]
    np.testing.assert_array_equal(old.equity.to_numpy(), fx_run.equity.to_numpy())


def test_the_sweep_path_uses_the_same_calendar(fx_run, eurusd):
    lean = run_backtest_many(eurusd, fx_run.signal.to_frame("x"), EngineConfig(**SHORT_ALL_IN))
    for key in ("sharpe", "sortino", "annual_volatility", "cagr"):
        assert lean.loc["x", key] == pytest.approx(fx_run.metrics[key], rel=1e-9), key


@pytest.mark.parametrize(
    ("frame", "attrs", "calendar"),
    [
        (lambda: make_ohlcv(300, freq="B"), {}, "exchange"),
        (lambda: make_ohlcv(300, freq="D"), {}, "24/7"),
        (lambda: make_ohlcv(24 * 30, freq="h"), {}, "24/7"),
        (lambda: make_ohlcv(300, freq="B"), {"symbol": "EURUSD=X"}, "fx"),
        (lambda: make_ohlcv(300, freq="B"), {"symbol": "BTC-USD"}, "24/7"),
        (lambda: make_ohlcv(300, freq="B"), {"symbol": "AAPL"}, "exchange"),
        (lambda: make_ohlcv(300, freq="D"), {"calendar": "fx"}, "fx"),
        (lambda: _bars(GOOG), {}, "exchange"),
    ],
)
def test_calendar_detection_from_data_and_metadata(frame, attrs, calendar):
    df = frame()
    df.attrs.update(attrs)
    res = _one(df, np.zeros(len(df)), EngineConfig())
    assert res.assumptions["calendar"] == calendar
    assert res.assumptions["periods_per_year"] == {"exchange": 252, "fx": 260, "24/7": 365}[calendar]
    lean = run_backtest_many(df, np.zeros((len(df), 1)), EngineConfig())
    assert lean.shape[0] == 1


def test_exchange_intraday_bars_in_session_hours_are_exchange():
    days = pd.bdate_range("2024-03-01", periods=40)
    opens = [pd.Timestamp(d).tz_localize("America/New_York") + pd.Timedelta(hours=9.5) for d in days]
    idx = pd.DatetimeIndex([o + pd.Timedelta(hours=h) for o in opens for h in range(7)]).tz_convert("UTC")
    df = make_ohlcv(len(idx)).set_axis(idx)
    res = _one(df, np.zeros(len(df)), EngineConfig())
    assert res.assumptions["calendar"] == "exchange"
    assert "session hours" in str(res.assumptions["calendar_source"])


def test_an_explicit_calendar_or_periods_per_year_wins(eurusd, fx_run):
    sig = fx_run.signal
    crypto = _one(eurusd, sig, EngineConfig(**SHORT_ALL_IN, calendar="fx", periods_per_year=365))
    assert crypto.assumptions["periods_per_year"] == 365
    assert "EngineConfig.periods_per_year" in str(crypto.assumptions["annualisation"])
    ratio = crypto.metrics["annual_volatility"] / fx_run.metrics["annual_volatility"]
    assert ratio == pytest.approx(np.sqrt(365 / 260), rel=1e-12)
    forced = _one(eurusd, sig, EngineConfig(**SHORT_ALL_IN, calendar="24/7"))
    assert forced.assumptions["calendar_source"] == "set in EngineConfig.calendar"


# ---- the conventions in the ledger ---------------------------------------------------------


def test_ledger_states_stops_first_return_and_drawdown_conventions(goog):
    c = goog["close"]
    sig = np.sign(c.rolling(10).mean() - c.rolling(20).mean())
    res = _one(goog, sig.where(sig != 0), EngineConfig(stop_loss_pct=0.05, take_profit_pct=0.1))
    a = res.assumptions
    assert "entry fill's market price" in str(a["stop_reference"])
    assert "initial capital" in str(a["daily_returns"]) and "1/(2n)" in str(a["daily_returns"])
    assert "every bar" in str(a["drawdown"])
    assert a["ruin_bar"] is None and str(a["ruin"]).startswith("none")
    # the first daily return is measured against the initial capital (here a flat 0):
    r_pct = res.equity.pct_change().dropna().to_numpy()
    ours = res.metrics["sharpe"]
    assert ours == pytest.approx(empyrical.sharpe_ratio(np.r_[0.0, r_pct]), rel=1e-12)
    theirs = empyrical.sharpe_ratio(r_pct)
    n = len(r_pct) + 1
    assert ours / theirs == pytest.approx(1 - 1 / (2 * n), rel=2 / n)
    # drawdown on every bar's equity, the initial capital the first peak
    assert res.metrics["max_drawdown"] == M.max_drawdown(res.equity.to_numpy(), 100_000.0)


def _key_ends(keys: np.ndarray) -> np.ndarray:
    return np.r_[keys[1:] != keys[:-1], True]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("calendar", "tz", "index_tz"),
    [("fx", None, "UTC"), ("fx", None, None), ("exchange", "America/New_York", "UTC"),
     ("exchange", None, "Europe/London"), ("24/7", None, "Asia/Kolkata"), ("24/7", None, None)],
)  # fmt: skip
def test_the_day_end_kernel_equals_the_readable_trading_day_rule(seed, calendar, tz, index_tz):
    """Random stamps over the DST changes (and weekends), any resolution, against pandas."""
    from phi.backtest._inputs import _day_end
    from phi.data.calendar import trading_day_keys

    rng = np.random.default_rng(seed)
    lo, hi = pd.Timestamp("2017-03-08").value, pd.Timestamp("2017-03-15").value
    if seed % 2:
        lo, hi = pd.Timestamp("2017-10-31").value, pd.Timestamp("2017-11-08").value
    ns = np.unique(rng.integers(lo, hi, 3000) // 60_000_000_000 * 60_000_000_000)
    idx = pd.DatetimeIndex(ns).as_unit(["ns", "us", "s", "ms"][seed])
    idx = idx.tz_localize(index_tz) if index_tz else idx
    want = _key_ends(trading_day_keys(idx, calendar, tz))
    np.testing.assert_array_equal(_day_end(idx, calendar, tz), want)


def test_the_day_end_kernel_on_eurusd_and_goog(eurusd, goog):
    from phi.backtest._inputs import _day_end
    from phi.data.calendar import trading_day_keys

    for df, cal in ((eurusd, "fx"), (goog, "exchange"), (eurusd, "24/7")):
        want = _key_ends(trading_day_keys(df.index, cal))
        np.testing.assert_array_equal(_day_end(df.index, cal), want)
    assert _day_end(eurusd.index, "fx").sum() == len(_fx_trading_day_closes(eurusd["close"]))
