"""Audit of multi-asset portfolios on data shapes they were not built on (2026-12-01).

Mixed calendars (a 24/7 series beside an NYSE one with holidays), a symbol listed mid-run and
one whose bars end with a position held, NaN gaps, daily + hourly bars, split-adjusted vs
unadjusted prices, the weight rules (gross > 1, shorts, leverage, whole units, schedules),
every fill against a hand formula, the equity identity ``cash + Σ units × last close``,
vectorbt's cash-sharing ``Portfolio`` and empyrical's metrics, hostile inputs through the API
and the CLI, and the strategy catalogue head to head on a fresh GARCH series and GOOG with a
truncation check (the signal and position at bar t are the same on ``bars[:t+1]``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from phi.backtest import run_history as rh
from phi.backtest.engine import run_backtest
from phi.backtest.portfolio import PortfolioConfig, run_portfolio
from phi.backtest.run_config import DatasetSpec
from phi.backtest.weights import equal_weight, inverse_vol_weights, momentum_rotation_weights
from phi.blending.blender import blend
from phi.cli import main as phi_main
from phi.errors import ConfigError, EngineError, PhiError
from phi.indicators.registry import compute_all_signals

CAP = 100_000.0
COMM, FIXED, SLIP = 0.001, 1.0, 5e-4  # 0.1 % + 1 per fill, 5 bps


def _ohlc(idx: pd.DatetimeIndex, close: np.ndarray, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0.0, 0.002, len(close)))
    return pd.DataFrame(
        {"open": open_, "high": np.maximum(open_, close) * 1.002, "low": np.minimum(open_, close) * 0.998,
         "close": close, "volume": 1e6},
        index=idx,
    )  # fmt: skip


def garch(idx: pd.DatetimeIndex, seed: int, start: float = 100.0) -> pd.DataFrame:
    """GARCH(1,1) log returns (omega 2e-6, alpha 0.09, beta 0.89, t(5) shocks) as OHLC bars."""
    rng = np.random.default_rng(seed)
    n = len(idx)
    z = rng.standard_t(5, n) / np.sqrt(5 / 3)
    r, var = np.empty(n), 2e-6 / (1 - 0.09 - 0.89)
    for t in range(n):
        r[t] = np.sqrt(var) * z[t]
        var = 2e-6 + 0.09 * r[t] ** 2 + 0.89 * var
    return _ohlc(idx, start * np.exp(np.cumsum(r + 2e-4)), seed + 1)


def _marks(res, bars) -> pd.DataFrame:
    """Each symbol's last close on the run's bars (NaN before its first)."""
    return pd.DataFrame({s: b["close"] for s, b in bars.items()}).reindex(res.equity.index).ffill()


def _identity(res, bars) -> None:
    value = (res.holdings * _marks(res, bars)).fillna(0.0).sum(axis=1)
    np.testing.assert_allclose(res.equity, res.cash + value, rtol=1e-12, atol=1e-9)


NYSE_HOLIDAYS = ["2024-01-15", "2024-02-19", "2024-03-29"]
CRYPTO = pd.date_range("2024-01-01", "2024-04-30", freq="D", tz="UTC")
NYSE = pd.bdate_range("2024-01-02", "2024-04-30", tz="UTC").drop(pd.DatetimeIndex(NYSE_HOLIDAYS, tz="UTC"))


# ---------------------------------------------------------------------------------------- 1


def test_mixed_calendars_fill_at_each_symbols_next_open_by_hand():
    bars = {"BTC": garch(CRYPTO, 11, 40_000.0), "SPY": garch(NYSE, 12, 470.0)}
    cfg = PortfolioConfig(rebalance="weekly", commission_pct=COMM, commission_fixed=FIXED, slippage_bps=SLIP * 1e4)
    res = run_portfolio(bars, pd.DataFrame(0.5, index=CRYPTO, columns=["BTC", "SPY"]), cfg)
    _identity(res, bars)
    # fully invested (weights sum to 1): cash may end a round-off below 0 (-7e-12 here), no more
    assert (res.cash >= -1e-9 * CAP).all() and res.assumptions["calendar"] == "24/7"
    f = res.fills
    # weekly = the union's last bar of each ISO week: every Sunday (the crypto bars)
    assert set(f["decision_time"].dt.dayofweek) == {6}
    for _, row in f.iterrows():  # each fill at the symbol's first open after its decision
        b = bars[row["symbol"]]
        when = b.index[b.index > row["decision_time"]][0]
        assert row["time"] == when and row["price"] == b.loc[when, "open"]
        assert row["late"] == (CRYPTO.get_loc(when) - CRYPTO.get_loc(row["decision_time"]) > 1)
    # MLK day: SPY's target decided Sunday 14 Jan fills Tuesday 16 Jan, flagged late
    mlk = f[(f["symbol"] == "SPY") & (f["decision_time"] == pd.Timestamp("2024-01-14", tz="UTC"))]
    assert list(mlk["time"]) == [pd.Timestamp("2024-01-16", tz="UTC")] and bool(mlk["late"].iloc[0])
    # the first fills (Monday 8 Jan, from cash): units = (w E - fixed) / (open (1 + slip)(1 + comm))
    first = f[f["time"] == f["time"].iloc[0]].set_index("symbol")
    for sym in ("BTC", "SPY"):
        o = bars[sym].loc[pd.Timestamp("2024-01-08", tz="UTC"), "open"]
        want = (0.5 * CAP - FIXED) / (o * (1 + SLIP) * (1 + COMM))
        assert first.loc[sym, "units"] == pytest.approx(want, rel=1e-9)
        assert first.loc[sym, "costs"] == pytest.approx(want * o * (1 + SLIP) * COMM + FIXED + want * o * SLIP, rel=1e-9)


def test_listed_mid_run_and_ended_with_a_position_is_stated_in_the_ledger():
    idx = pd.bdate_range("2024-01-01", periods=60, tz="UTC")
    bars = {"A": garch(idx, 21), "B": garch(idx[:30], 22), "C": garch(idx[20:], 23), "ONE": garch(idx[:1], 24)}
    closes = pd.DataFrame({s: b["close"] for s, b in bars.items()})
    res = run_portfolio(bars, equal_weight(closes))
    _identity(res, bars)
    h = res.holdings
    assert (h["C"].iloc[:21] == 0).all() and h["C"].iloc[21] > 0  # first fill at C's first open + 1
    assert (h["B"].iloc[29:] == h["B"].iloc[29]).all() and h["B"].iloc[29] > 0  # frozen after its last bar
    assert (h["ONE"] == 0).all()  # one bar: its target never finds an open
    held = f"B: bars end {idx[29]} with {h['B'].iloc[29]:g} units held, kept at its last close"
    assert held in res.assumptions["data_ended"]
    assert "ONE" not in res.assumptions["data_ended"]
    assert res.missing_data["B"]["bars_after_last"] == 30 and res.missing_data["C"]["bars_before_first"] == 20
    b_trade = res.trades[res.trades["symbol"] == "B"].iloc[0]
    assert bool(b_trade["open"]) and b_trade["exit_price"] == bars["B"]["close"].iloc[-1]


def test_drift_band_is_not_triggered_every_bar_by_a_delisted_symbol():
    """B's bars end after a 60 % fall: its frozen weight stays outside the band for good. Only a
    symbol with a bar at the close can be corrected, so only A's or C's drift decides."""
    idx = pd.bdate_range("2024-01-01", periods=120, tz="UTC")
    b = garch(idx[:40], 22)
    b.iloc[-1, :4] *= 0.4
    b.iloc[-1, 1], b.iloc[-1, 2] = b.iloc[-1, [0, 3]].max(), b.iloc[-1, [0, 3]].min()
    bars = {"A": garch(idx, 21), "B": b, "C": garch(idx, 23)}
    w = equal_weight(pd.DataFrame({s: x["close"] for s, x in bars.items()}))
    res = run_portfolio(bars, w, PortfolioConfig(rebalance="drift:0.02", commission_pct=COMM, commission_fixed=FIXED))
    _identity(res, bars)
    now = res.holdings * _marks(res, bars) / res.equity.to_numpy()[:, None]  # weights at each close
    off = (now - w).abs()[["A", "C"]].max(axis=1) > 0.02
    decided = set(res.fills["decision_time"])
    after = idx[40:-1]  # B has no bar: the band is A's and C's
    assert [t for t in after if t in decided] == [t for t in after if off[t]]
    assert 0 < len(decided & set(after)) < 10  # was a decision (two fills) on every one of 79 bars


def test_nan_gap_is_refused_by_name_and_runs_once_the_rows_are_dropped():
    idx = pd.bdate_range("2024-01-01", periods=80, tz="UTC")
    a, g = garch(idx, 31), garch(idx, 32)
    g.iloc[20:55, :4] = np.nan
    w = pd.DataFrame(0.5, index=idx, columns=["A", "G"])
    with pytest.raises(EngineError, match=r"^bars\['G'\] column 'open' has 35 NaN value\(s\), first at 2024-01-29 .*dropna"):
        run_portfolio({"A": a, "G": g}, w)
    res = run_portfolio({"A": a, "G": g.dropna()}, w)
    assert res.missing_data["G"]["missing_bars"] == 35
    _identity(res, {"A": a, "G": g.dropna()})
    assert (res.holdings["G"].iloc[20:55] == res.holdings["G"].iloc[19]).all()  # not traded in the gap


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (pd.date_range("2024-01-02", periods=200, freq="h", tz="UTC"), "daily (date-only stamps) but bars['B'] are intraday (1 hour"),
        (pd.date_range("2024-01-02 14:30", periods=200, freq="5min", tz="UTC"), "but bars['B'] are intraday (5 minutes"),
    ],
)
def test_mixed_frequencies_are_refused_in_one_line(second, message):
    """A daily bar stamped at its day's start beside hourly bars would show its close hours early."""
    first = pd.bdate_range("2024-01-02", periods=60, tz="UTC")
    bars = {"A": garch(first, 41), "B": garch(second, 42)}
    w = pd.DataFrame(0.5, index=first.union(second), columns=["A", "B"])
    with pytest.raises(EngineError, match="one bar frequency") as exc:
        run_portfolio(bars, w)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_split_adjustment_is_stated_and_unadjusted_split_shows_in_equity():
    idx = pd.bdate_range("2024-01-01", periods=40, tz="UTC")
    adj = garch(idx, 51)
    raw = adj.copy()
    raw.iloc[:20, :4] *= 2.0  # a 2:1 split before bar 20 left in the prices
    adj.attrs, raw.attrs = {"adjustment": "split_adjusted"}, {"adjustment": "none"}
    w = pd.DataFrame({"X": 1.0}, index=idx)
    r_adj, r_raw = run_portfolio({"X": adj}, w), run_portfolio({"X": raw}, w)
    assert r_adj.assumptions["adjustment"] == "split_adjusted" and r_raw.assumptions["adjustment"] == "none"
    both = run_portfolio({"X": adj, "Y": raw}, pd.DataFrame({"X": 0.5, "Y": 0.5}, index=idx))
    assert both.assumptions["adjustment"] == "X: split_adjusted; Y: none"
    bare = adj.copy()
    bare.attrs = {}
    plain = run_portfolio({"X": bare}, w)  # nothing recorded with the bars
    assert plain.assumptions["adjustment"] == "unknown (not recorded with the data)"
    # units bought at bar 1's open, held: the unadjusted run loses half its position on the split
    u_adj, u_raw = CAP / adj["open"].iloc[1], CAP / raw["open"].iloc[1]
    np.testing.assert_allclose(r_adj.equity.iloc[1:], u_adj * adj["close"].iloc[1:], rtol=1e-12)
    np.testing.assert_allclose(r_raw.equity.iloc[1:], u_raw * raw["close"].iloc[1:], rtol=1e-12)
    assert r_raw.equity.iloc[20] / r_raw.equity.iloc[19] == pytest.approx(adj["close"].iloc[20] / adj["close"].iloc[19] / 2)


# ---------------------------------------------------------------------------------------- 2


def test_weight_rules_refused_or_handled_as_documented():
    idx = pd.bdate_range("2024-01-01", periods=50, tz="UTC")
    bars = {"A": garch(idx, 61), "B": garch(idx, 62)}
    with pytest.raises(ConfigError, match=r"sum to 1.2 \(gross"):
        run_portfolio(bars, pd.DataFrame(0.6, index=idx, columns=["A", "B"]))
    with pytest.raises(ConfigError, match=r"target_weights\['B'\] is -0.3 .* a short"):
        run_portfolio(bars, pd.DataFrame({"A": 0.5, "B": -0.3}, index=idx))
    # short: proceeds held as cash, no interest; cash = CAP - Σ units x price at zero costs
    res = run_portfolio(bars, pd.DataFrame({"A": 0.5, "B": -0.5}, index=idx), PortfolioConfig(allow_short=True))
    f = res.fills
    assert res.cash.iloc[-1] == pytest.approx(CAP - float((f["units"] * f["price"]).sum()), rel=1e-12)
    assert res.holdings["B"].iloc[-1] == pytest.approx(-0.5 * CAP / bars["B"]["open"].iloc[1], rel=1e-12)
    _identity(res, bars)
    # leverage: documented, and only there may cash go below 0
    lev = PortfolioConfig(allow_leverage=True, max_gross=1.6)
    res = run_portfolio(bars, pd.DataFrame(0.8, index=idx, columns=["A", "B"]), lev)
    assert res.cash.iloc[-1] == pytest.approx(CAP - 1.6 * CAP, rel=1e-12)
    # whole units at every_bar with costs on a small account: integer holdings, cash >= 0
    cfg = PortfolioConfig(initial_capital=5_000.0, rebalance="every_bar", fractional=False,
                          commission_pct=COMM, commission_fixed=FIXED, slippage_bps=SLIP * 1e4)  # fmt: skip
    rng = np.random.default_rng(63)
    w = pd.DataFrame(rng.dirichlet([1, 1, 1], len(idx))[:, :2], index=idx, columns=["A", "B"])
    res = run_portfolio(bars, w, cfg)
    assert (res.holdings == np.floor(res.holdings)).all().all() and (res.cash >= -1e-9).all()
    _identity(res, bars)


def test_schedules_decide_on_the_hand_worked_bars():
    idx = pd.bdate_range("2024-01-01", "2024-04-30", tz="UTC")
    bars = {"A": garch(idx, 71), "B": garch(idx, 72)}
    w = pd.DataFrame({"A": np.where(np.arange(len(idx)) % 2, 0.3, 0.7)}, index=idx)
    w["B"] = 1.0 - w["A"]
    monthly = run_portfolio(bars, w, PortfolioConfig(rebalance="monthly"))
    month_ends = idx.to_series().groupby(idx.month).max().iloc[:-1]  # the last month's end has no next bar
    assert sorted(set(monthly.fills["decision_time"])) == list(month_ends)
    every = run_portfolio(bars, w, PortfolioConfig(rebalance="every:7"))
    assert sorted(set(every.fills["decision_time"])) == list(idx[0 : len(idx) - 1 : 7])


# ---------------------------------------------------------------------------------------- 3, 4


def test_equity_against_vectorbt_cash_sharing():
    vbt = pytest.importorskip("vectorbt")
    idx = pd.bdate_range("2018-01-02", periods=400, tz="UTC")
    bars = {s: garch(idx, 80 + i) for i, s in enumerate("ABCD")}
    closes = pd.DataFrame({s: b["close"] for s, b in bars.items()})
    w = momentum_rotation_weights(closes, lookback=20, every=5, top_n=2)
    res = run_portfolio(bars, w, PortfolioConfig(rebalance="on_change"))
    dec = res.fills["decision_time"].drop_duplicates()
    size = pd.DataFrame(np.nan, index=idx, columns=list(bars))
    for t in dec:  # weights decided at t's close are orders at the next bar's open
        size.iloc[idx.get_loc(t) + 1] = w.loc[t].to_numpy()
    pf = vbt.Portfolio.from_orders(
        close=closes.tz_localize(None), size=size.tz_localize(None), size_type="targetpercent",
        price=pd.DataFrame({s: b["open"] for s, b in bars.items()}).tz_localize(None),
        init_cash=CAP, cash_sharing=True, group_by=True, call_seq="auto", freq="1D",
    )  # fmt: skip
    np.testing.assert_allclose(res.equity.to_numpy(), pf.value().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.cash.to_numpy(), pf.cash().to_numpy(), rtol=1e-9, atol=1e-6)


def test_metrics_against_empyrical_and_turnover_by_hand():
    empyrical = pytest.importorskip("empyrical")
    idx = pd.bdate_range("2019-01-02", periods=500, tz="UTC")
    bars = {s: garch(idx, 90 + i) for i, s in enumerate("ABC")}
    closes = pd.DataFrame({s: b["close"] for s, b in bars.items()})
    cfg = PortfolioConfig(rebalance="weekly", commission_pct=COMM, slippage_bps=5.0)
    res = run_portfolio(bars, inverse_vol_weights(closes, lookback=20), cfg)
    periods = res.assumptions["periods_per_year"]
    eq = np.r_[CAP, res.equity.to_numpy()]  # daily bars: each bar's return, the first on the capital
    r = pd.Series(eq[1:] / eq[:-1] - 1.0)
    m = res.metrics
    assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=periods), rel=1e-9)
    assert m["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-9)
    assert m["annual_volatility"] == pytest.approx(empyrical.annual_volatility(r, annualization=periods), rel=1e-9)
    f = res.fills
    assert m["turnover"] == pytest.approx(float((f["units"].abs() * f["price"]).sum()) / res.equity.mean(), rel=1e-12)


# ---------------------------------------------------------------------------------------- 5


def test_hostile_inputs_through_the_api():
    idx = pd.bdate_range("2024-01-01", periods=40, tz="UTC")
    a = garch(idx, 101)
    w1 = pd.DataFrame({"A": 1.0}, index=idx)
    with pytest.raises(EngineError, match="two symbols named '1'"):
        run_portfolio({1: a, "1": a}, pd.DataFrame({"1": 0.5}, index=idx))
    flat = a.copy()
    flat.iloc[:, :4] = 50.0
    iv = inverse_vol_weights(pd.DataFrame({"A": a["close"], "K": flat["close"]}), lookback=10)
    assert np.isfinite(iv.to_numpy()[~np.isnan(iv.to_numpy())]).all()  # a flat symbol never gets inf
    zero = a.copy()
    zero.iloc[5, :4] = 0.0
    for bad in ({"A": a, "Z": zero}, {"A": a.iloc[:0]}):
        with pytest.raises(PhiError) as exc:
            run_portfolio(bad, w1)
        assert "\n" not in str(exc.value)
    # one symbol at weight 1 from flat buys E / open at bar 1's open and holds
    res = run_portfolio({"A": a}, w1)
    np.testing.assert_allclose(res.equity.iloc[1:], CAP / a["open"].iloc[1] * a["close"].iloc[1:], rtol=1e-12)
    # 200 symbols x 2,520 bars, rotation of the best 10 every 5 bars: well under a few seconds
    big_idx = pd.bdate_range("2015-01-02", periods=2520, tz="UTC")
    rng = np.random.default_rng(102)
    big = {}
    for j in range(200):
        c = 50.0 * np.exp(np.cumsum(rng.normal(2e-4, 0.015, len(big_idx))))
        big[f"S{j:03d}"] = _ohlc(big_idx, c, j)
    wb = momentum_rotation_weights(pd.DataFrame({s: b["close"] for s, b in big.items()}), 20, 5, 10)
    t0 = time.perf_counter()
    res = run_portfolio(big, wb, PortfolioConfig(rebalance="every:5"))
    assert time.perf_counter() - t0 < 5.0 and len(res.fills) > 1000


def test_hostile_inputs_through_the_cli_are_one_line_and_write_nothing(capsys):
    base = ["portfolio", "run", "--start", "2023-01-01", "--end", "2023-06-30"]
    for args, message in (
        (["--symbols", "SPY,spy"], "listed twice"),
        (["--symbols", "SPY,QQQ", "--weights", "rotation", "--lookback", "200"], "needs more than 201 bars"),
    ):
        assert phi_main([*base, *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert rh.list_runs() == []  # nothing half-written
    assert phi_main([*base, "--symbols", "SPY", "--no-save"]) == 0  # one symbol is a portfolio too
    assert "Total return [%]" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------- 6

def _goog() -> pd.DataFrame:
    goog = pytest.importorskip("backtesting.test").GOOG
    out = goog.rename(columns=str.lower)[["open", "high", "low", "close", "volume"]].astype(float)
    return out.set_index(out.index.tz_localize("UTC"))


def test_catalogue_head_to_head_on_garch_and_goog_without_look_ahead(tmp_path):
    """Each single-symbol preset's signal and engine run (the pipeline's own steps; ``compare``'s
    plumbing is tested in tests/strategies/test_runs.py) on GOOG (2,148 real bars) and a fresh
    900-bar GARCH series: no failure, finite equity, and the signal and position of bar t are
    the same on ``bars[:t+1]``."""
    # imported here, not at collection: the catalogue registers the on-demand plutus indicator,
    # which the "every indicator" tests of files collected later would then loop over
    from phi.strategies import catalogue as _catalogue

    single = [p.name for p in _catalogue.list_presets() if not p.is_portfolio and p.family not in ("ml", "llm")]
    garch_bars = garch(pd.bdate_range("2016-01-04", periods=900, tz="UTC"), 2026)
    for name, df in (("garchx", garch_bars), ("googx", _goog())):
        ds = DatasetSpec(name.upper(), "csv", "1D", f"{df.index[0]:%Y-%m-%d}", f"{df.index[-1]:%Y-%m-%d}", path=str(tmp_path / "x.csv"))
        cuts = (len(df) // 3, len(df) // 2 + 7, len(df) - 1)
        sharpe = {}
        for preset in single:
            p = _catalogue.get(preset)
            sel = {i.name: i.params for i in p.indicators}
            weights = {i.name: i.weight for i in p.indicators}
            eng = p.config(ds).engine

            def run(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, Any]:
                sig = blend(compute_all_signals(bars, sel), p.blend, weights)  # noqa: B023
                res = run_backtest(bars, sig.fillna(0.0), eng)  # noqa: B023
                return sig.to_numpy(), res.positions.to_numpy(), res

            full_sig, full_pos, res = run(df)
            assert np.isfinite(res.equity.to_numpy()).all(), (preset, name)
            m = res.metrics
            sharpe[preset] = m["sharpe"] if m["n_trades"] + m.get("n_open_trades", 0) else 0.0  # flat: NaN
            for k in cuts:  # the signal and position of bar t on bars[:t+1]
                sig, pos, _ = run(df.iloc[: k + 1])
                np.testing.assert_array_equal(sig, full_sig[: k + 1], err_msg=f"{preset} {name} {k}")
                np.testing.assert_array_equal(pos, full_pos[: k + 1], err_msg=f"{preset} {name} {k}")
        assert len(sharpe) == len(single) and np.isfinite(list(sharpe.values())).all(), (name, sharpe)
    # the portfolio preset (MomentumRotation's weights) on GARCH symbols: causal weights
    idx = pd.bdate_range("2016-01-04", periods=300, tz="UTC")
    closes = pd.DataFrame({s: garch(idx, 300 + i)["close"] for i, s in enumerate("ABCD")})
    full = momentum_rotation_weights(closes, 20, 5, 1).to_numpy()
    for k in (60, 151, 299):
        np.testing.assert_array_equal(momentum_rotation_weights(closes.iloc[: k + 1], 20, 5, 1).to_numpy(), full[: k + 1])
