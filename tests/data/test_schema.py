from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phi.data.schema import DataRepairWarning, check_ohlcv, validate_ohlcv
from phi.errors import DataError
from tests.conftest import make_ohlcv


def test_valid_frame_passes_unchanged():
    df = make_ohlcv(50)
    res = check_ohlcv(df)
    assert res.repairs == []
    pd.testing.assert_frame_equal(res.frame, df)


def test_repairs_are_reported():
    df = make_ohlcv(20)
    messy = pd.concat([df.iloc[10:], df.iloc[:10], df.iloc[[3]]])
    messy.index = messy.index.tz_localize(None)
    messy.columns = [c.upper() for c in messy.columns]
    with pytest.warns(DataRepairWarning, match="sorted.*duplicate"):
        out = validate_ohlcv(messy)
    pd.testing.assert_frame_equal(out, df, check_freq=False)


def test_all_nan_rows_dropped_partial_nan_rejected():
    df = make_ohlcv(20)
    df.iloc[5, :4] = np.nan
    res = check_ohlcv(df)
    assert len(res.frame) == 19 and "no prices" in res.repairs[0]
    df.iloc[7, 1] = np.nan
    with pytest.raises(DataError, match="missing prices"):
        check_ohlcv(df)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.iloc[:0], "no rows"),
        (lambda d: d.drop(columns="volume"), "missing column"),
        (lambda d: d.assign(close=-d["close"]), "price <= 0"),
        (lambda d: d.assign(high=d["low"] * 0.5), "high < low"),
        (lambda d: d.assign(open=d["high"] * 2), "outside"),
        (lambda d: d.assign(volume=-1.0), "negative volume"),
        (lambda d: d.assign(close="x"), "non-numeric"),
    ],
)
def test_rejections_name_the_problem(mutate, message):
    with pytest.raises(DataError, match=message):
        check_ohlcv(mutate(make_ohlcv(10)))


def test_not_a_frame():
    with pytest.raises(DataError, match="DataFrame"):
        check_ohlcv([1, 2, 3])  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    shuffle=st.booleans(),
    dups=st.integers(0, 5),
)
def test_validated_frames_satisfy_the_contract(n, seed, shuffle, dups):
    df = make_ohlcv(n, seed=seed)
    rng = np.random.default_rng(seed)
    if dups:
        df = pd.concat([df, df.iloc[rng.integers(0, n, dups)]])
    if shuffle:
        df = df.iloc[rng.permutation(len(df))]
    out = check_ohlcv(df).frame
    assert out.index.is_monotonic_increasing and out.index.is_unique
    assert str(out.index.tz) == "UTC"
    assert list(out.columns) == ["open", "high", "low", "close", "volume"]
    assert all(out[c].dtype == "float64" for c in out.columns)
    assert len(out) == n
    assert (out["high"] >= out["low"]).all()


def test_a_numeric_index_is_refused_not_read_as_1970_nanoseconds():
    frame = make_ohlcv(5).reset_index(drop=True)  # a frame read without index_col: rows 0..4
    with pytest.raises(DataError) as err:
        check_ohlcv(frame)
    msg = str(err.value)
    assert "index holds numbers (int64)" in msg and "set_index('date')" in msg and "\n" not in msg
    with pytest.raises(DataError, match="index holds numbers"):
        check_ohlcv(frame.set_axis(frame.index.astype("float64")))


def test_a_price_column_given_twice_is_named_as_such():
    frame = make_ohlcv(5)
    twice = pd.concat([frame, frame[["close"]]], axis=1)
    with pytest.raises(DataError, match=r"column\(s\) close appear more than once"):
        check_ohlcv(twice)
