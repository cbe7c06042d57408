"""Hostile frames and CSV files found by the sweep of the shared OHLCV check (2026-12-02), beyond
tests/test_ohlcv_frames.py and tests/data/test_csv_hostile.py.

- An infinite volume passed the validator every vendor goes through (``phi.validate_ohlcv``,
  the CSV loader): ``phi fetch`` cached it and ``phi regime`` then died in a ZeroDivisionError
  traceback; ``RegimeEngine().run`` on such a frame did the same.
- ``validate_ohlcv`` read a datetime volume as microseconds since 1970, a bool volume as 1/0
  and a complex close as its real part, silently, where every entry point refuses them.
- ``run_portfolio`` said ``bars['A']: ohlcv is not sorted by time`` for the bars the user passed.
- No rows: ``observation_matrix`` died in a reshape ValueError, ``train_classifier`` and the
  regime's ``raw_features`` in a numba TypingError (a read-only empty volume written in place).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi._math import rolling_std
from phi.backtest.portfolio import run_portfolio
from phi.data.schema import validate_ohlcv
from phi.data.vendors.csv_vendor import fetch_csv
from phi.errors import DataError, OHLCVError, PhiError
from phi.ml.train import train_classifier
from phi.regime.config import FeatureConfig, feature_names
from phi.regime.engine import RegimeEngine
from phi.regime.features import raw_features
from phi.rl.observe import observation_matrix
from tests.test_cli_hostile_more import _refused


def _bars(n: int = 300) -> pd.DataFrame:
    """Hand-made daily bars: a slow zig-zag around 100, high/low 1 above/below."""
    close = 100.0 + np.sin(np.arange(n) / 5.0) * 5.0 + np.arange(n) * 0.01
    return pd.DataFrame(
        {"open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close, "volume": 1000.0 + np.arange(n)},
        index=pd.bdate_range("2022-01-03", periods=n, tz="UTC"),
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text, text
    return text


# ---------------------------------------------------------------- an infinite volume


def _csv_with_volume(tmp_path, value: str):
    rows = [f"2024-01-{d:02d},10,11,9,10.5,{value if d == 3 else 1000}" for d in range(1, 11)]
    path = tmp_path / "inf_volume.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("value", ["inf", "Infinity", "1e400"])
def test_a_csv_file_with_an_infinite_volume_is_refused_naming_the_file_and_the_bar(tmp_path, value) -> None:
    with pytest.raises(DataError) as caught:
        fetch_csv(_csv_with_volume(tmp_path, value), "1D")  # was: loaded, volume inf
    assert _one_line(caught.value) == "CSV file 'inf_volume.csv': infinite volume at 2024-01-03 00:00:00+00:00"


def test_phi_fetch_refuses_a_csv_file_with_an_infinite_volume(tmp_path, capsys, cwd) -> None:
    path = _csv_with_volume(tmp_path, "inf")
    args = ["fetch", "X", "--vendor", "csv", "--path", str(path), "--start", "2024-01-01", "--end", "2024-01-31"]
    # was exit 0 (cached), and `phi regime` on it then a ZeroDivisionError traceback
    assert _refused(capsys, args) == "error: CSV file 'inf_volume.csv': infinite volume at 2024-01-03 00:00:00+00:00"


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_validate_ohlcv_refuses_an_infinite_volume(value) -> None:
    bars = _bars(20)
    bars.iloc[4, 4] = value
    with pytest.raises(DataError, match=r"^data: infinite volume at 2022-01-07 00:00:00\+00:00$"):
        validate_ohlcv(bars)


def test_the_regime_engine_refuses_an_infinite_volume_in_one_line() -> None:
    bars = _bars()
    bars.iloc[10, 4] = np.inf
    with pytest.raises(OHLCVError) as caught:  # was ZeroDivisionError in the features kernel
        RegimeEngine().run(bars)
    assert _one_line(caught.value).startswith("OHLCV volume is infinite at 2022-01-17 00:00:00+00:00;")


def test_a_nan_volume_is_still_a_gap_to_the_regime_engine() -> None:
    bars = _bars()
    bars.iloc[10, 4] = np.nan
    RegimeEngine().run(bars)  # a missing print, tolerated as before


# ---------------------------------------------------------------- columns that hold no numbers


@pytest.mark.parametrize(
    ("column", "values", "dtype"),
    [
        ("volume", pd.Timestamp("2024-01-01"), "datetime64[us]"),  # was: volume 1.7e15 (microseconds)
        ("volume", True, "bool"),  # was: volume 1.0
        ("close", None, "complex128"),  # was: the real part, with a ComplexWarning
    ],
)
def test_validate_ohlcv_refuses_columns_every_entry_point_refuses(column, values, dtype) -> None:
    bars = _bars(20)
    bars[column] = bars[column].astype(complex) if dtype == "complex128" else values
    with pytest.raises(OHLCVError) as caught:
        validate_ohlcv(bars)
    text = _one_line(caught.value)
    assert text.startswith(f"data: column {column!r} holds "), text
    assert dtype in text and "not numbers" in text


def test_validate_ohlcv_still_takes_ints_text_and_nullable_numbers() -> None:
    bars = _bars(20)
    mixed = bars.astype({"volume": "Int64"})
    mixed["close"] = mixed["close"].map(repr)  # numbers held as text, exactly
    pd.testing.assert_frame_equal(validate_ohlcv(mixed), validate_ohlcv(bars))


# ---------------------------------------------------------------- the portfolio names its bars


@pytest.mark.parametrize(
    ("order", "start"),
    [
        (lambda b: b.iloc[::-1], "bars['A'] is not sorted by time: bar 1 (2022-10-06 00:00:00+00:00) comes before bar 0 (2022-10-07 00:00:00+00:00); sort it first (bars['A'].sort_index())"),
        (lambda b: pd.concat([b, b.iloc[[5]]]).sort_index(), "bars['A'] has duplicate timestamps: bars 5 and 6"),
    ],
)
def test_run_portfolio_names_the_symbols_bars_not_ohlcv(order, start) -> None:
    bars = _bars(200)
    weights = pd.DataFrame(0.5, index=bars.index, columns=["A", "B"])
    with pytest.raises(PhiError) as caught:
        run_portfolio({"A": order(bars), "B": bars}, weights)
    text = _one_line(caught.value)
    assert text.startswith(start), text  # was "bars['A']: ohlcv is not sorted by time: ..."
    assert not text.startswith("bars['A']: ohlcv")


# ---------------------------------------------------------------- no rows


def test_rolling_std_of_no_rows_is_no_rows() -> None:
    assert rolling_std(np.empty(0), 5).shape == (0,)  # was: ValueError from reshape(0, -1)
    assert rolling_std(np.empty((0, 3)), 5).shape == (0, 3)


def test_observation_matrix_of_no_bars_is_an_empty_matrix() -> None:
    assert observation_matrix(_bars().iloc[:0], lookback=10).shape == (0, 13)


def test_raw_regime_features_of_no_bars_are_an_empty_frame() -> None:
    fc = FeatureConfig()
    out = raw_features(_bars().iloc[:0], fc)  # was: numba TypingError (read-only volume)
    assert out.shape == (0, len(feature_names(fc)))


def test_train_classifier_on_no_bars_is_one_line() -> None:
    with pytest.raises(PhiError) as caught:  # was: numba TypingError
        train_classifier(_bars().iloc[:0], model="lr", folds=2)
    assert "0" in _one_line(caught.value)
