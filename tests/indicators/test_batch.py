"""batch_signals equals compute_signal column by column, bit for bit, and looks no further ahead."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from phi.errors import DataError, IndicatorError, ParameterError
from phi.indicators.batch import BATCHED, batch_inputs, batch_signals, has_batch
from phi.indicators.params import Deferred
from phi.indicators.registry import INDICATORS, compute_signal, register_indicator
from tests.indicators import frames
from tests.indicators.test_properties import SETTINGS, ohlcv_frames, params_for

NAMES = [*BATCHED, "channel_breakout"]  # channel_breakout: the per-set fallback


def per_set(name: str, df: pd.DataFrame, sets: list[dict]) -> np.ndarray:
    return np.column_stack([compute_signal(name, df, p).to_numpy() for p in sets])


def assert_identical(a: np.ndarray, b: np.ndarray) -> None:
    """Same values, same NaNs, same signs of zero."""
    np.testing.assert_array_equal(a, b)
    assert np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_equals_compute_signal_on_random_sets_and_bars(name, data):
    df = data.draw(ohlcv_frames(n_min=200, n_max=300))
    sets = [data.draw(params_for(name)) for _ in range(data.draw(st.integers(1, 6)))]
    sets.append(dict(sets[0]))  # a repeated set: shared pieces reused
    out = batch_signals(name, df, sets)
    assert out.shape == (len(df), len(sets)) and out.T.flags.c_contiguous
    assert_identical(out, per_set(name, df, sets))


@pytest.mark.parametrize("name", list(BATCHED))
@SETTINGS
@given(df=ohlcv_frames(n_min=200, n_max=260), cut=st.floats(0.0, 1.0), data=st.data())
def test_no_lookahead_truncation(name, df, cut, data):
    """Computing on the first k bars gives exactly the values the full frame gives there."""
    sets = [data.draw(params_for(name)) for _ in range(3)]
    spec = INDICATORS[name]
    warm = max(spec.warmup(spec.resolve(p)) for p in sets)
    k = warm + 1 + int(cut * (len(df) - warm - 1))
    np.testing.assert_array_equal(
        batch_signals(name, df.iloc[:k], sets), batch_signals(name, df, sets)[:k]
    )


@pytest.mark.parametrize("name", list(BATCHED))
@pytest.mark.parametrize(
    "maker", [frames.flat, frames.zero_volume, frames.partly_flat, frames.huge_bar, frames.gaps]
)
def test_adversarial_frames(name, maker):
    df = maker()
    spec = INDICATORS[name]
    sets = [spec.defaults]
    shorter = {k: v - 1 if isinstance(v, int) else v for k, v in spec.defaults.items()}
    with contextlib.suppress(ParameterError):
        sets.append(spec.resolve(shorter))
    assert_identical(batch_signals(name, df, sets), per_set(name, df, sets))


def test_the_sma_grid_on_ten_years():
    df = frames.random_ohlcv(2520, 11)
    grid = [{"fast": f, "slow": s} for f in range(5, 51, 5) for s in range(10, 201, 5) if f < s]
    assert_identical(batch_signals("dual_sma", df, grid), per_set("dual_sma", df, grid))


def test_errors_name_the_problem():
    df = frames.random_ohlcv(300, 1)
    with pytest.raises(ParameterError, match="fast must be smaller than slow"):
        batch_signals("dual_sma", df, [{"fast": 5, "slow": 20}, {"fast": 30, "slow": 20}])
    with pytest.raises(IndicatorError, match="needs more than"):
        batch_signals("dual_sma", df.iloc[:60], [{"fast": 5, "slow": 20}])
    with pytest.raises(DataError, match="missing column"):
        batch_signals("rsi", df.drop(columns="close"), [{"period": 14}])
    assert batch_signals("rsi", df, []).shape == (300, 0)


def test_checked_inputs_given_once_give_the_same_signals():
    df = frames.random_ohlcv(400, 3)
    for name, sets in (
        ("dual_sma", [{"fast": 5, "slow": 20}, {"fast": 12, "slow": 40}]),
        ("stochastic", [{"k_period": 9}, {"k_period": 21}]),
    ):
        cols = batch_inputs(name, df)
        assert sorted(cols) == sorted(INDICATORS[name].inputs)
        assert_identical(batch_signals(name, df, sets, cols), per_set(name, df, sets))
    bad = df.copy()
    bad.iloc[7, bad.columns.get_loc("close")] = np.nan
    with pytest.raises(DataError, match="'close' has 1 NaN"):
        batch_inputs("dual_sma", bad)
    with pytest.raises(DataError, match="missing column"):
        batch_inputs("cmf", df.drop(columns="volume"))


def test_a_reregistered_indicator_uses_its_own_compute():
    spec = INDICATORS["momentum"]
    try:
        register_indicator(
            dataclass_replace(spec, compute=Deferred("phi.indicators.signals", "roc_signal"))
        )
        assert not has_batch("momentum")
        df = frames.random_ohlcv(300, 2)
        sets = [{"period": 5}, {"period": 9}]
        assert_identical(batch_signals("momentum", df, sets), per_set("roc", df, sets))
    finally:
        register_indicator(spec)
    assert has_batch("momentum")


def dataclass_replace(obj, **changes):  # noqa: ANN001, ANN003, ANN201
    import dataclasses

    return dataclasses.replace(obj, **changes)


def test_fused_spread_kernel_equals_rms_scale_nb():
    """spread_signals_nb writes rms_scale_nb's loop out: every row equals rms_scale_nb of the
    prepared spread, bit for bit, through refreshes, huge bars leaving the window, flat stretches,
    infinities, NaN spreads and warm-ups at or past the end."""
    from phi.indicators import _batch_nb, _nb
    from phi.indicators import signals as sg
    from phi.indicators.params import NORM_WINDOW

    rng = np.random.default_rng(7)
    n = 1300  # past two refreshes (every 512 bars)
    a = rng.normal(size=(4, n))
    a[1, 300] = 1e12  # a huge bar that later leaves the window
    a[2, 400:700] = 0.0  # a flat stretch (zero spread)
    a[3, 50] = np.nan  # a NaN spread after the warm-up: read as 0
    den = np.ones((2, n))
    den[1, 900] = 0.0  # a zero divisor: +/-inf, read as the largest finite float
    fast = np.array([1, 2, 3, 0, 1, 0], dtype=np.int64)
    slow = np.array([0, 0, 0, 3, 2, 1], dtype=np.int64)
    div = np.array([0, 1, 0, 1, 0, 0], dtype=np.int64)
    start = np.array([0, 19, 0, 1240, n + 5, 199], dtype=np.int64)
    out = _batch_nb.spread_signals_nb(
        a, den, fast, slow, div, start, sg.NOISE_TOL, NORM_WINDOW, sg.NORM_GAIN,
        _nb._refresh(NORM_WINDOW), _nb.GUARD,
    )  # fmt: skip
    for j in range(len(fast)):
        with np.errstate(divide="ignore", invalid="ignore"):
            x = (a[fast[j]] - a[slow[j]]) / den[div[j]]
        want = sg.rms_scale(x, int(start[j]))
        assert_identical(out[j], want)
    assert np.isnan(out[4]).all() and np.isfinite(out[3]).sum() == 1  # warm-ups at the end


def test_spread_kernel_rows_side_by_side_equal_one_row_at_a_time():
    """Rows whose running sums advance four side by side (starts far apart in one group, a huge
    bar leaving one row's window while the others' do not, refreshes at different bars after a
    guard recompute, flat rows, a group cut short) equal rms_scale of each spread, bit for bit."""
    from phi.indicators import _batch_nb, _nb
    from phi.indicators import signals as sg
    from phi.indicators.params import NORM_WINDOW

    rng = np.random.default_rng(11)
    n = 1900
    a = rng.normal(size=(6, n)) * 10.0 ** rng.integers(-3, 3, (6, 1))
    a[2, 700] = 1e9  # guard in one lane only
    a[3, 100:400] = a[0, 100:400]  # a zero spread (rows 3 - 0) for 300 bars
    a[4, 1500] = 1e15
    den = np.abs(rng.normal(1.0, 0.1, (1, n)))
    m = 11
    fast = np.array([1, 2, 3, 0, 4, 5, 2, 4, 1, 2, 5], dtype=np.int64)  # rows 2 and 4: huge bars
    slow = np.zeros(m, dtype=np.int64)
    slow[3] = 3
    div = np.zeros(m, dtype=np.int64)
    start = np.array([0, 590, 3, 1200, 61, 59, 60, 1880, n - 59, 250, 0], dtype=np.int64)
    out = _batch_nb.spread_signals_nb(
        a, den, fast, slow, div, start, sg.NOISE_TOL, NORM_WINDOW, sg.NORM_GAIN,
        _nb._refresh(NORM_WINDOW), _nb.GUARD,
    )  # fmt: skip
    for j in range(m):
        x = (a[fast[j]] - a[slow[j]]) / den[div[j]]
        assert_identical(out[j], sg.rms_scale(x, int(start[j])))


@pytest.mark.parametrize(("name", "windows"), [("dual_sma", 199), ("ema_crossover", 99)])
def test_moving_average_table_reserved_once_for_every_window(name, windows):
    """With ``pieces`` the table has room for every window the ranges allow (dual_sma: fast
    2..50 and slow 10..200 give 2..200, 199 windows) and is never reallocated across calls; the
    signals stay those of compute_signal."""
    df = frames.random_ohlcv(400, seed=3)
    rng = np.random.default_rng(5)
    pieces: dict = {}
    first = None
    for _ in range(4):
        sets = [{"fast": int(f), "slow": int(f + d)}
                for f, d in zip(rng.integers(2, 20, 9), rng.integers(3, 60, 9), strict=True)]  # fmt: skip
        got = batch_signals(name, df, sets, None, pieces)
        assert_identical(got, per_set(name, df, sets))
        first = pieces["table"] if first is None else first
        assert pieces["table"] is first and len(first) >= windows == pieces["capacity"]
