"""The plain segment kernels (next-open fills, no stops, targets or time exits) against the
general ones: every statistic and every equity value bit for bit, on inputs that reach every
branch (costs, gaps, NaN warm-ups, flat and constant signals, shorts, ruin with and without an
open position, a fill and a ruin on one bar, blocks of candidates cut short)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from phi.backtest import _nb
from phi.backtest.engine import EngineConfig, run_backtest
from phi.backtest.segments import SegmentSweep, balanced_cuts
from phi.errors import EngineError


def _bars(
    n: int, index: pd.Index, seed: int, drift: float = 0.0, gap: float = 0.01
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(drift, 0.02, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0, gap, n))  # gaps
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.004, n)))
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=index)


def _signals(n: int, m: int, seed: int) -> np.ndarray:
    """(n, m): random crossings, NaN warm-ups of many lengths, flat, constant, thresholds hit
    exactly, +/-1 and NaN gaps after the warm-up."""
    rng = np.random.default_rng(seed)
    raw = np.clip(np.cumsum(rng.normal(0, 0.4, (m, n)), axis=1) / 2.0, -1, 1)
    for j in range(m):
        raw[j, : (7 * j) % (n + 3)] = np.nan
    raw[1 % m] = 0.0  # flat: never trades
    if m > 2:
        raw[2] = 0.5  # constant after its warm-up
        raw[2, :5] = np.nan
    if m > 3:
        raw[3, ::3] = 0.1  # exactly at the default entry threshold
        raw[3, 1::3] = 0.0  # exactly at the default exit threshold
    if m > 4:
        raw[4] = np.sign(raw[4])  # +/-1 jumps
        raw[4, n // 2 : n // 2 + 4] = np.nan  # NaN after the warm-up: no cross
    return np.ascontiguousarray(raw).T


def _both(bars: pd.DataFrame, spans, cfg: EngineConfig, sig: np.ndarray, which=None) -> None:
    eq_span = spans[len(spans) // 2]
    sweep = SegmentSweep(bars, spans, cfg, equity_span=eq_span)
    assert sweep.plain
    st_plain, eq_plain = sweep.run(sig, which)
    sweep.plain = False  # the general kernels
    st_gen, eq_gen = sweep.run(sig, which)
    assert np.array_equal(st_plain, st_gen, equal_nan=True)
    if eq_gen is None:
        assert eq_plain is None
    else:
        assert np.array_equal(eq_plain, eq_gen)
        assert np.array_equal(np.signbit(eq_plain), np.signbit(eq_gen))
    # the parallel variant of the plain kernel, called directly, gives the same numbers with
    # the segments in one group, one group each, or two balanced groups
    which_arr = np.arange(len(spans), dtype=np.int64) if which is None else np.asarray(which)
    eq = np.empty_like(eq_gen) if eq_gen is not None else np.empty((sig.shape[1], 0))
    cols = np.full(len(spans), -1, dtype=np.int64)  # equity and returns from column 0
    if sweep.eq_seg in which_arr:
        cols[sweep.eq_seg] = 0
    rets = np.empty((eq.shape[0], max(eq.shape[1] - 1, 0)))
    lengths = (sweep.offsets[which_arr + 1] - sweep.offsets[which_arr]).tolist()
    k = len(which_arr)
    for cuts in ([0, k], list(range(k + 1)), balanced_cuts(lengths, 2).tolist()):
        st = np.full_like(st_gen, -7.0)
        _nb.simulate_segments_plain_split_nb(
            sweep.open, sweep.close, sweep.day_end, sweep.offsets, sweep.starts, which_arr,
            np.asarray(cuts, dtype=np.int64), np.ascontiguousarray(sig.T), sweep.fp, sweep.ip,
            cols, eq, cols, rets, st,
        )  # fmt: skip
        assert np.array_equal(st, st_gen, equal_nan=True), cuts
    if eq_gen is not None:
        assert np.array_equal(eq, eq_gen)
        # per-bar returns from the kernel (no equity matrix) equal NumPy's from the equity
        want = np.divide(eq_gen[:, 1:], eq_gen[:, :-1])
        want -= 1.0
        assert np.array_equal(rets, want, equal_nan=True)
        sweep.plain = True
        st_r, got = sweep.run(sig, which, returns=True)
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(st_r, st_gen, equal_nan=True)
        sweep.plain = False
        assert np.array_equal(sweep.run(sig, which, returns=True)[1], want, equal_nan=True)


CONFIGS = [
    EngineConfig(warmup_bars=1, calendar="exchange"),
    EngineConfig(
        warmup_bars=3,
        calendar="exchange",
        allow_short=True,
        commission_pct=0.002,
        slippage_bps=7.0,
        commission_fixed=1.5,
    ),  # fmt: skip
    EngineConfig(
        warmup_bars=0,
        calendar="24/7",
        allow_short=True,
        signal_exit=False,
        fractional=False,
        entry_threshold=0.3,
        exit_threshold=0.2,
    ),  # fmt: skip
    EngineConfig(
        warmup_bars=2,
        calendar="exchange",
        sizing="fixed_cash",
        size_cash=30_000.0,
        entry_threshold=0.0,
        exit_threshold=0.0,
        allow_short=True,
    ),  # fmt: skip
    EngineConfig(warmup_bars=1, calendar="exchange", sizing="fixed_units", size_units=7.0),
    EngineConfig(warmup_bars=5, calendar="exchange", size_pct=1.0, fractional=False),
]


@pytest.mark.parametrize("k", range(len(CONFIGS)))
@pytest.mark.parametrize("m", [1, 5, 16, 37])
def test_plain_kernel_equals_general_on_daily_segments(k, m):
    n = 420
    bars = _bars(n, pd.date_range("2019-01-01", periods=n, freq="B", tz="UTC"), 10 + k)
    spans = [(0, 150), (149, 300), (299, 420), (0, 420), (60, 61), (200, 203)]
    _both(bars, spans, CONFIGS[k], _signals(n, m, 20 + k + m))


def test_plain_kernel_on_a_subset_of_segments_and_intraday_day_ends():
    days = pd.bdate_range("2024-03-04", periods=15)
    stamps = [d + pd.Timedelta(hours=9, minutes=30) + pd.Timedelta(minutes=30 * i)
              for d in days for i in range(13)]  # fmt: skip
    idx = pd.DatetimeIndex(stamps).tz_localize("America/New_York").tz_convert("UTC")
    bars = _bars(len(idx), idx, 3)
    bars.attrs["exchange_tz"] = "America/New_York"
    cfg = EngineConfig(warmup_bars=2, calendar="exchange", allow_short=True, commission_pct=0.001)
    sig = _signals(len(idx), 19, 4)
    spans = [(5, 47), (46, 90), (5, 151), (89, 195)]
    _both(bars, spans, cfg, sig)
    _both(bars, spans, cfg, sig, which=[3, 0])  # without the equity segment
    _both(bars, spans, cfg, sig, which=[2, 1])


def test_plain_kernel_on_a_plain_index():
    bars = _bars(300, pd.RangeIndex(300), 5)
    cfg = EngineConfig(warmup_bars=1, periods_per_year=252, allow_short=True)
    _both(bars, [(0, 100), (99, 300), (0, 300)], cfg, _signals(300, 9, 6))


def test_plain_kernel_through_ruin():
    """Shorts on a price that multiplies: equity <= 0 closes the position at that close (also
    on a bar whose open filled an entry); fixed commissions larger than the account ruin a
    flat account; afterwards nothing trades."""
    n = 260
    bars = _bars(n, pd.date_range("2019-01-01", periods=n, freq="B", tz="UTC"), 8, drift=0.03)
    m = 21
    sig = -np.abs(_signals(n, m, 9))  # short most of the time
    sig[:, 0] = -1.0
    sig[0, 0] = np.nan
    rng = np.random.default_rng(1)
    sig[:, 5] = np.where(rng.random(n) < 0.5, 1.0, -1.0)  # a cross on almost every bar
    cfg = EngineConfig(warmup_bars=1, calendar="exchange", allow_short=True, size_pct=1.0)
    spans = [(0, 130), (129, 260), (0, 260)]
    sweep = SegmentSweep(bars, spans, cfg)
    stats, _ = sweep.run(sig)
    ruin = SegmentSweep.metric(stats, "ruin_bar")
    assert np.isfinite(ruin).sum() >= 3  # the test reaches the ruin rule
    _both(bars, spans, cfg, sig)
    # a short filled at bar 60's open and ruined at its close (the close triples the open)
    spike = bars.copy()
    spike.iloc[60, 3] = 3.0 * spike.iloc[60, 0]
    spike.iloc[60, 1] = spike.iloc[60, 3] * 1.01
    sig[:59, 7], sig[59:, 7] = 0.0, -1.0
    trades = run_backtest(spike, sig[:, 7], cfg).trades
    assert trades[["entry_bar", "exit_bar"]].to_numpy().tolist() == [[60, 60]]
    assert str(trades["exit_reason"].iloc[0]) == "ruin"
    _both(spike, spans, cfg, sig)
    falling = _bars(n, bars.index, 8, drift=-0.03)
    drain = dataclasses.replace(cfg, commission_fixed=40_000.0, allow_short=False)
    up_down = _signals(n, m, 10)
    stats, _ = SegmentSweep(falling, spans, drain).run(up_down)
    ruin = SegmentSweep.metric(stats, "ruin_bar")
    assert np.isfinite(ruin).any()
    _both(falling, spans, drain, up_down)


@pytest.mark.parametrize(
    "change",
    [
        {"stop_loss_pct": 0.05},
        {"take_profit_pct": 0.05},
        {"trailing_stop_pct": 0.05},
        {"time_exit_bars": 10},
        {"fill": "close"},
    ],
)
def test_stops_targets_time_exits_and_close_fills_use_the_general_kernel(change):
    bars = _bars(50, pd.RangeIndex(50), 1)
    cfg = EngineConfig(periods_per_year=252, **change)
    assert not SegmentSweep(bars, [(0, 50)], cfg).plain
    assert SegmentSweep(bars, [(0, 50)], EngineConfig(periods_per_year=252)).plain


def test_checked_signals_skip_only_the_range_check():
    bars = _bars(120, pd.RangeIndex(120), 2)
    sweep = SegmentSweep(bars, [(0, 60), (59, 120)], EngineConfig(periods_per_year=252))
    sig = _signals(120, 3, 1)
    a, _ = sweep.run(sig)
    b, _ = sweep.run(sig, checked=True)
    assert np.array_equal(a, b, equal_nan=True)
    sig[70, 1] = 2.0
    with pytest.raises(EngineError, match=r"\[-1, 1\]"):
        sweep.run(sig)


@pytest.mark.parametrize("short", [False, True])
def test_plain_kernel_skips_quiet_bars_exactly(short):
    """Slow signals (crosses tens of bars apart, in and out of blocks of the fill pass's scan),
    a warm-up longer than a scan block, exits on and off, a short that ruins: the plain kernel
    still equals the general one."""
    n = 700
    bars = _bars(n, pd.date_range("2018-01-01", periods=n, freq="B", tz="UTC"), 21, drift=0.01)
    rng = np.random.default_rng(22)
    t = np.arange(n)[:, None]
    sig = np.sin(t / rng.uniform(5, 60, 24)[None, :] + rng.uniform(0, 6, 24)[None, :])
    sig[:, 1] = np.where(t[:, 0] % 97 < 60, 0.5, -0.5)  # long runs on each side
    sig[:45, 2] = np.nan
    for k, cfg in enumerate(
        [
            EngineConfig(warmup_bars=40, calendar="exchange", allow_short=short),
            EngineConfig(warmup_bars=3, calendar="exchange", allow_short=short, signal_exit=False),
            EngineConfig(
                warmup_bars=33, calendar="exchange", allow_short=short, entry_threshold=0.5,
                exit_threshold=0.2, commission_pct=0.001, size_pct=1.0,
            ),
        ]
    ):  # fmt: skip
        _both(bars, [(0, 300), (299, 700), (0, 700), (33, 66)], cfg, sig[:, k::1])
