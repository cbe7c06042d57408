"""SegmentSweep against the engine's own per-segment runs: every (column, segment) pair in one
kernel call must report exactly what run_backtest_many reports on that slice of bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import EngineConfig, run_backtest, run_backtest_many
from phi.backtest.segments import SegmentSweep
from phi.errors import EngineError


def _bars(n: int, index: pd.Index, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * (1 + rng.normal(0, 0.002, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.004, n)))
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=index)


def _signals(n: int, m: int, seed: int) -> np.ndarray:
    """(n, m) signals in [-1, 1] with NaN warm-ups of different lengths."""
    rng = np.random.default_rng(seed)
    raw = np.clip(np.cumsum(rng.normal(0, 0.3, (m, n)), axis=1) / 3.0, -1, 1)
    for j in range(m):
        raw[j, : 3 * j] = np.nan
    return np.ascontiguousarray(raw).T


def _check(bars: pd.DataFrame, spans, cfg: EngineConfig, m: int = 5, seed: int = 0) -> None:
    sig = _signals(len(bars), m, seed)
    eq_span = spans[-1]
    stats, equity = SegmentSweep(bars, spans, cfg, equity_span=eq_span).run(sig)
    assert stats.shape == (m, len(spans), 18)
    for s, (a, b) in enumerate(spans):
        ref = run_backtest_many(bars.iloc[a:b], sig[a:b], cfg)
        assert np.array_equal(stats[:, s, :], ref.to_numpy(), equal_nan=True), (a, b)
    a, b = eq_span
    full = run_backtest(bars.iloc[a:b], sig[a:b], cfg)
    for j, res in enumerate(full):
        assert np.array_equal(equity[j], res.equity.to_numpy())


@pytest.mark.parametrize("calendar", ["auto", "exchange"])
def test_daily_segments_equal_per_slice_runs(calendar):
    idx = pd.date_range("2018-01-01", periods=700, freq="B", tz="UTC")
    bars = _bars(700, idx, 1)
    cfg = EngineConfig(
        warmup_bars=1, calendar=calendar, stop_loss_pct=0.03, take_profit_pct=0.05,
        allow_short=True, slippage_bps=3.0, commission_pct=0.001,
    )  # fmt: skip
    _check(bars, [(40, 200), (199, 400), (399, 699), (40, 699)], cfg)


@pytest.mark.parametrize("calendar", ["auto", "exchange", "fx"])
def test_intraday_segments_ending_mid_day_close_their_last_day(calendar):
    """Segments cut inside a trading day: the slice's last bar ends its day in the per-slice
    run, so the sweep must mark it too (the whole frame's day end is later)."""
    days = pd.bdate_range("2024-03-04", periods=12)
    stamps = [
        d + pd.Timedelta(hours=9, minutes=30) + pd.Timedelta(minutes=30 * k)
        for d in days
        for k in range(13)
    ]
    idx = pd.DatetimeIndex(stamps).tz_localize("America/New_York").tz_convert("UTC")
    bars = _bars(len(idx), idx, 2)
    bars.attrs["exchange_tz"] = "America/New_York"
    cfg = EngineConfig(warmup_bars=2, calendar=calendar, trailing_stop_pct=0.01)
    _check(bars, [(5, 47), (46, 90), (89, 151), (5, 151)], cfg, m=4, seed=3)


def test_plain_index_with_periods_per_year():
    bars = _bars(300, pd.RangeIndex(300), 5)
    cfg = EngineConfig(warmup_bars=1, periods_per_year=252, fill="close")
    _check(bars, [(0, 100), (99, 300), (0, 300)], cfg, m=3, seed=6)


def test_bad_inputs_are_one_line_errors():
    idx = pd.date_range("2018-01-01", periods=100, freq="B", tz="UTC")
    bars = _bars(100, idx, 7)
    sweep = SegmentSweep(bars, [(10, 50), (49, 100)], EngineConfig(calendar="exchange"))
    sig = _signals(100, 2, 8)
    sig[60, 1] = 1.5
    with pytest.raises(EngineError, match=r"\[-1, 1\].*1\.5.*column 1"):
        sweep.run(sig)
    with pytest.raises(EngineError, match="signals must be an"):
        sweep.run(sig[:50])
    with pytest.raises(EngineError, match="not a non-empty slice"):
        SegmentSweep(bars, [(10, 101)])
    with pytest.raises(EngineError, match="equity_span"):
        SegmentSweep(bars, [(10, 50)], equity_span=(0, 50))
    assert sweep.run(sig[:, :1])[1] is None


def test_a_subset_of_segments_in_the_given_order():
    idx = pd.date_range("2018-01-01", periods=400, freq="B", tz="UTC")
    bars = _bars(400, idx, 9)
    spans = [(10, 150), (149, 300), (10, 300), (299, 400)]
    sweep = SegmentSweep(bars, spans, EngineConfig(calendar="exchange"), equity_span=(10, 300))
    sig = _signals(400, 3, 10)
    all_stats, equity = sweep.run(sig)
    part, none = sweep.run(sig, [3, 0])
    assert none is None  # the equity segment was not simulated
    assert np.array_equal(part, all_stats[:, [3, 0]], equal_nan=True)
    for bad in ([4], [], [-1], [0.5], [True], ["a"], [[0, 1]], np.array([[0]]), 1.5, "ab"):
        with pytest.raises(EngineError, match="segments must be positions"):
            sweep.run(sig, bad)  # type: ignore[arg-type]
    # a selection is checked once and remembered: asked again, the same numbers
    assert np.array_equal(sweep.run(sig, (3, 0))[0], part, equal_nan=True)
    assert np.array_equal(sweep.run(sig, np.array([3, 0]))[0], part, equal_nan=True)


def test_signals_up_to_the_selected_segments_stop_are_enough():
    """Signals on the first bars only (up to the last selected segment's stop, or more): the
    same numbers as on all bars; fewer bars than the selection reads is one line."""
    idx = pd.date_range("2018-01-01", periods=400, freq="B", tz="UTC")
    bars = _bars(400, idx, 11)
    spans = [(10, 150), (149, 300), (10, 300), (299, 400)]
    sweep = SegmentSweep(bars, spans, EngineConfig(), equity_span=(10, 300))
    sig = _signals(400, 3, 12)
    want, want_eq = sweep.run(sig, [0, 1, 2])
    for n in (300, 350):
        short = np.ascontiguousarray(sig[:n].T).T  # a fresh (n, m) array: no later bars at all
        got, got_eq = sweep.run(short, [0, 1, 2])
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(got_eq, want_eq)
    bad = np.ascontiguousarray(sig[:300].T).T
    bad[200, 2] = -1.5
    with pytest.raises(EngineError, match=r"\[-1, 1\].*-1\.5.*column 2"):
        sweep.run(bad, [0, 1, 2])
    with pytest.raises(EngineError, match="its first 300 bars or more"):
        sweep.run(sig[:299], [0, 1, 2])
    with pytest.raises(EngineError, match="signals must be an"):
        sweep.run(sig[:300])  # the last segment reads up to bar 400


@pytest.mark.parametrize(
    "cfg",
    [
        EngineConfig(calendar="exchange", commission_pct=0.001, allow_short=True),
        EngineConfig(calendar="exchange", stop_loss_pct=0.02),  # the general kernels
    ],
)
@pytest.mark.parametrize("m", [3, 19])  # one block of candidates, and two (one partial)
def test_a_chain_returns_its_segments_returns_one_after_the_other(cfg, m):
    """A chain of segments laid end to end: the per-bar returns of one run_backtest per segment
    (each started flat on its own lead bar), concatenated, whatever else is simulated."""
    idx = pd.date_range("2018-01-01", periods=500, freq="B", tz="UTC")
    bars = _bars(500, idx, 13)
    chain = [(40, 170), (169, 300), (299, 420)]
    spans = [(40, 300), *chain, (419, 500)]  # a longer span and one after the chain beside it
    sweep = SegmentSweep(bars, spans, cfg, chain=chain)
    sig = _signals(500, m, 14)
    want = []
    for a, b in chain:
        parts = run_backtest(bars.iloc[a:b], sig[a:b], cfg)
        eq = np.array(
            [r.equity.to_numpy() for r in (parts if isinstance(parts, list) else [parts])]
        )
        want.append(eq[:, 1:] / eq[:, :-1] - 1.0)
    want_all = np.concatenate(want, axis=1)
    assert want_all.shape == (m, 420 - 40 - 1)
    stats, got = sweep.run(sig, returns=True)
    assert np.allclose(got, want_all, rtol=0, atol=1e-15)
    for s, (a, b) in enumerate(spans):  # the statistics as without a chain
        ref = run_backtest_many(bars.iloc[a:b], sig[a:b], cfg)
        assert np.array_equal(stats[:, s, :], ref.to_numpy(), equal_nan=True), (a, b)
    out = np.empty((m, 379))
    _, into = sweep.run(sig, [4, 3, 1, 2], returns=True, returns_out=out)  # any order
    assert into is out and np.array_equal(out, got)
    assert sweep.run(sig, [1, 2], returns=True)[1] is None  # not every chain segment: none
    assert sweep.run(sig)[1] is None  # no equity without returns=True
    with pytest.raises(EngineError, match="returns_out must be"):
        sweep.run(sig, returns=True, returns_out=np.empty((m, 380)))


def test_a_chain_must_be_segments_laid_end_to_end():
    idx = pd.date_range("2018-01-01", periods=100, freq="B", tz="UTC")
    bars = _bars(100, idx, 15)
    spans = [(10, 50), (49, 100), (50, 100)]
    with pytest.raises(EngineError, match=r"chain segment \(50, 100\) does not start on the last"):
        SegmentSweep(bars, spans, chain=[(10, 50), (50, 100)])
    with pytest.raises(EngineError, match=r"chain segment \(49, 99\) is not one of the segments"):
        SegmentSweep(bars, spans, chain=[(10, 50), (49, 99)])
    with pytest.raises(EngineError, match="no equity_span beside it"):
        SegmentSweep(bars, spans, chain=[(10, 50)], equity_span=(10, 50))
    with pytest.raises(EngineError, match="at least one segment"):
        SegmentSweep(bars, spans, chain=[])
