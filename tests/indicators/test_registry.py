"""The registry's API: declared specs, parameter resolution, frame checks, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import phi
from phi.errors import ConfigError, DataError, IndicatorError, ParameterError, UnknownIndicatorError
from phi.indicators.registry import (
    INDICATORS,
    IndicatorSpec,
    ParamSpec,
    compute_all_signals,
    compute_raw,
    compute_signal,
    get_indicator,
    list_indicators,
    register_indicator,
    resolve_params,
)
from tests.conftest import make_ohlcv

SPEC_NAMES = [
    "rsi",
    "macd",
    "bollinger",
    "stochastic",
    "dual_sma",
    "ema_crossover",
    "momentum",
    "roc",
    "atr_ratio",
    "vwap_dev",
    "cmf",
    "adx",
    "wyckoff",
    "range_pos",
]


@pytest.fixture
def df() -> pd.DataFrame:
    return make_ohlcv(300, 5)


@pytest.fixture
def restore_registry():
    saved = dict(INDICATORS)
    yield
    INDICATORS.clear()
    INDICATORS.update(saved)


# ---------------------------------------------------------------------------- specs


def test_the_fourteen_indicators_in_spec_order():
    assert list_indicators()[:14] == SPEC_NAMES
    assert phi.list_indicators is list_indicators and phi.INDICATORS is INDICATORS


def test_types_match_the_spec():
    expected = dict(
        rsi="A", macd="B", bollinger="A", stochastic="A", dual_sma="B", ema_crossover="B", momentum="B",
        roc="B", atr_ratio="B", vwap_dev="D", cmf="A", adx="B", wyckoff="C", range_pos="A",
    )  # fmt: skip
    assert {n: INDICATORS[n].type for n in SPEC_NAMES} == expected


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_spec_is_complete(name):
    spec = INDICATORS[name]
    assert spec.name == name and spec.description and spec.signal_mapping and spec.params
    for p in spec.params:
        assert p.kind in (int, float) and isinstance(p.default, p.kind)
        assert isinstance(p.low, p.kind) and isinstance(p.high, p.kind)
        assert p.low <= p.default <= p.high and p.step > 0 and p.description
    assert resolve_params(name, None) == spec.defaults
    assert spec.warmup(spec.defaults) >= 1


def test_paramspec_and_indicatorspec_reject_bad_declarations():
    with pytest.raises(ValueError, match="low <= default <= high"):
        ParamSpec("p", int, 100, 1, 50, 1, "x")
    with pytest.raises(TypeError, match="kind"):
        ParamSpec("p", str, 1, 1, 2, 1, "x")
    spec = INDICATORS["rsi"]
    with pytest.raises(ValueError, match="type must be one of"):
        IndicatorSpec("x", "E", "d", "m", spec.params, spec.compute, spec.raw, spec.warmup)


def test_specs_are_frozen():
    with pytest.raises(AttributeError):
        INDICATORS["rsi"].type = "B"  # type: ignore[misc]


# ---------------------------------------------------------------------------- parameters


def test_resolve_merges_over_defaults():
    assert resolve_params("macd", {"fast": 5}) == {"fast": 5, "slow": 26, "signal": 9}
    assert resolve_params("bollinger", {"nbdev": 3}) == {"period": 20, "nbdev": 3.0}
    assert isinstance(resolve_params("bollinger", {"nbdev": 3})["nbdev"], float)


def test_integral_float_accepted_for_int_param():
    out = resolve_params("rsi", {"period": 14.0})
    assert out == {"period": 14} and isinstance(out["period"], int)
    assert resolve_params("rsi", {"period": np.int64(10)}) == {"period": 10}


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        (
            "rsi",
            {"periods": 14},
            r"unknown parameter 'periods'\. Did you mean 'period'\? Valid parameters: period",
        ),
        ("macd", {"fats": 5}, r"Did you mean 'fast'\?.*fast, slow, signal"),
        ("rsi", {"period": 1}, r"'period' = 1 is out of range; valid range 2\.\.50"),
        ("rsi", {"period": 500}, r"out of range; valid range 2\.\.50"),
        ("bollinger", {"nbdev": 9.5}, r"'nbdev' = 9\.5 is out of range; valid range 1\.0\.\.3\.5"),
        ("rsi", {"period": 14.5}, r"'period' must be an integer, got 14\.5"),
        ("rsi", {"period": "14"}, r"'period' must be int, got str '14'"),
        ("rsi", {"period": True}, r"'period' must be int, got bool True"),
        ("bollinger", {"nbdev": False}, r"must be float, got bool"),
        ("bollinger", {"nbdev": float("nan")}, r"must be a finite number"),
        ("rsi", {"period": None}, r"must be int, got NoneType"),
        (
            "macd",
            {"fast": 20, "slow": 20},
            r"fast must be smaller than slow \(got fast=20, slow=20, signal=9\)",
        ),
        ("dual_sma", {"fast": 40, "slow": 30}, r"fast must be smaller than slow"),
        ("ema_crossover", {"fast": 25, "slow": 20}, r"fast must be smaller than slow"),
        ("rsi", [("period", 3)], r"parameters must be a mapping"),
    ],
)
def test_bad_params(name, params, match):
    with pytest.raises(ParameterError, match=match) as info:
        resolve_params(name, params)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, IndicatorError)
    assert name in str(info.value)


def test_unknown_indicator_did_you_mean():
    with pytest.raises(
        UnknownIndicatorError,
        match=r"unknown indicator 'rsii'\. Did you mean 'rsi'\? Valid choices: .*adx.*wyckoff",
    ):
        get_indicator("rsii")
    with pytest.raises(UnknownIndicatorError, match="Valid choices"):
        compute_signal("bolinger_bands_x", make_ohlcv(50))
    with pytest.raises(UnknownIndicatorError):
        get_indicator(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- frames


def test_signal_contract(df):
    s = compute_signal("rsi", df, {"period": 10})
    assert s.name == "rsi" and s.dtype == np.float64 and s.index.equals(df.index)
    assert s.iloc[:10].isna().all() and s.iloc[10:].notna().all()


def test_missing_columns(df):
    with pytest.raises(
        DataError, match=r"missing column\(s\) volume \(needs high, low, close, volume"
    ):
        compute_signal("cmf", df.drop(columns="volume"))
    # rsi reads only the close: other columns may be absent
    assert compute_signal("rsi", df[["close"]]).notna().sum() == len(df) - 14


def test_nan_rows(df):
    bad = df.copy()
    bad.iloc[[40, 41], 3] = np.nan
    with pytest.raises(
        DataError, match=r"'close' has 2 NaN value\(s\), first at 2020-02-2.*df\.dropna\(\)"
    ):
        compute_signal("rsi", bad)
    bad = df.copy()
    bad.iloc[7, 1] = np.inf
    with pytest.raises(DataError, match=r"'high' has 1 NaN/infinite"):
        compute_all_signals(bad, ["rsi", "adx"])


def test_non_numeric_and_not_a_frame(df):
    bad = df.astype({"close": object})
    bad["close"] = "x"
    with pytest.raises(DataError, match="'close' holds a value that is not a number, 'x'"):
        compute_signal("rsi", bad)
    with pytest.raises(DataError, match="ohlcv must be a pandas DataFrame, got ndarray"):
        compute_signal("rsi", df.to_numpy())  # type: ignore[arg-type]


def test_too_short(df):
    with pytest.raises(
        IndicatorError,
        match=r"rsi\(period=14\) needs more than 14 bars \(its warm-up\); the frame has 14",
    ):
        compute_signal("rsi", df.iloc[:14])
    assert compute_signal("rsi", df.iloc[:15]).notna().sum() == 1
    with pytest.raises(
        IndicatorError, match=r"dual_sma\(fast=10, slow=50\) needs more than 108 bars"
    ):
        compute_all_signals(df.iloc[:100], ["rsi", "dual_sma"])
    with pytest.raises(IndicatorError, match="needs more than"):
        compute_raw("adx", df.iloc[:20])


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_warmup_is_exact_at_minimum_length(name, df):
    spec = INDICATORS[name]
    warm = spec.warmup(spec.defaults)
    s = compute_signal(name, df.iloc[: warm + 1])
    assert s.iloc[:warm].isna().all() and np.isfinite(s.iloc[warm])


# ---------------------------------------------------------------------------- compute_all_signals


def test_compute_all_signals_order_and_params(df):
    out = compute_all_signals(df, {"adx": None, "rsi": {"period": 5}, "macd": {}})
    assert list(out.columns) == ["adx", "rsi", "macd"] and out.index.equals(df.index)
    pd.testing.assert_series_equal(out["rsi"], compute_signal("rsi", df, {"period": 5}))
    out = compute_all_signals(df, ["range_pos", "cmf"])
    assert list(out.columns) == ["range_pos", "cmf"]
    assert compute_all_signals(df, []).shape == (len(df), 0)


def test_compute_all_signals_validates_everything_first(df, monkeypatch):
    calls = []
    monkeypatch.setattr("phi.indicators.signals.rsi_signal", lambda *a, **k: calls.append(1))
    with pytest.raises(ParameterError, match="cmf: unknown parameter 'lookback'"):
        compute_all_signals(df, {"rsi": None, "cmf": {"lookback": 3}})
    with pytest.raises(UnknownIndicatorError, match="Did you mean 'adx'"):
        compute_all_signals(df, ["rsi", "adxx"])
    assert calls == []


def test_compute_all_signals_bad_selection(df):
    with pytest.raises(IndicatorError, match="listed twice"):
        compute_all_signals(df, ["rsi", "rsi"])
    with pytest.raises(IndicatorError, match=r"use \['rsi'\]"):
        compute_all_signals(df, "rsi")  # type: ignore[arg-type]


def _spec_with(compute, name="broken") -> IndicatorSpec:
    rsi = INDICATORS["rsi"]
    return IndicatorSpec(
        name, "B", "d", "m", rsi.params, compute, rsi.raw, rsi.warmup, inputs=("close",)
    )


def test_failing_indicator_raises_never_zeros(df, restore_registry):
    def boom(frame, period):
        raise RuntimeError("kernel exploded")

    register_indicator(_spec_with(boom))
    with pytest.raises(RuntimeError, match="kernel exploded"):
        compute_all_signals(df, ["rsi", "broken"])


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (lambda n: np.full(n, 2.0), r"signal value 2\.0 .* within \[-1, 1\]"),
        (lambda n: np.r_[np.full(n - 1, 0.1), np.nan], r"signal value nan at .* \(bar 299\)"),
    ],
)
def test_invalid_output_of_a_registered_indicator(df, restore_registry, values, match):
    register_indicator(
        _spec_with(lambda frame, period: pd.Series(values(len(frame)), index=frame.index))
    )
    with pytest.raises(IndicatorError, match=match):
        compute_signal("broken", df)
    register_indicator(_spec_with(lambda frame, period: np.zeros(3)))
    with pytest.raises(IndicatorError, match="expected a Series of 300"):
        compute_signal("broken", df)


def test_register_indicator_adds_and_lists(df, restore_registry):
    register_indicator(
        _spec_with(lambda frame, period: pd.Series(0.0, index=frame.index), name="phi_mft")
    )
    assert "phi_mft" in list_indicators()  # (other tests may have loaded on-demand indicators after it)
    assert (compute_signal("phi_mft", df).dropna() == 0).all()
    with pytest.raises(TypeError, match="IndicatorSpec"):
        register_indicator({"name": "x"})  # type: ignore[arg-type]


def test_huge_finite_values_are_not_mistaken_for_inf(df):
    big = df.copy()
    big[["open", "high", "low", "close"]] = 1e306  # the column sum overflows; values are finite
    assert compute_signal("rsi", big).dropna().eq(0.0).all()
    big.iloc[3, 3] = -np.inf
    with pytest.raises(DataError, match="'close' has 1 NaN/infinite"):
        compute_signal("rsi", big)


def test_did_you_mean_ignores_letter_case():
    from phi.errors import UnknownIndicatorError, did_you_mean

    assert did_you_mean("RSI", ["macd", "rsi"]) == " Did you mean 'rsi'?"
    assert did_you_mean("Dual_SMA", ["dual_sma", "rsi"]) == " Did you mean 'dual_sma'?"
    assert did_you_mean("zzz", ["rsi"]) == ""
    with pytest.raises(UnknownIndicatorError, match="Did you mean 'rsi'"):
        get_indicator("RSI")
