"""Hostile inputs to the regime engine: a config built in Python is checked like one read from a
file (types, finite numbers, nested sections), and bars with an infinite price or stamps out of
order or repeated are a DataError naming the problem, never a kernel error or a silent answer."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from phi.errors import ConfigError, DataError
from phi.regime import MFTConfig, RegimeEngine
from phi.regime.config import (
    ConfidenceConfig,
    ExpertConfig,
    FeatureConfig,
    LevelConfig,
    ProbabilityConfig,
    TaxonomyConfig,
)
from tests.conftest import make_ohlcv

_SMOOTH = TaxonomyConfig().smoothing


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FeatureConfig(robust_norm="60"), "features.robust_norm must be an integer, got str '60'"),
        (lambda: FeatureConfig(robust_norm=True), "features.robust_norm must be an integer, got bool True"),
        (lambda: FeatureConfig(drift=(15.5, 30, 60)), "features.drift[0] must be an integer, got 15.5"),
        (lambda: FeatureConfig(drift="15"), "features.drift must be a list, got str '15'"),
        (lambda: FeatureConfig(epsilon=math.inf), "features.epsilon must be finite, got inf"),
        (lambda: ProbabilityConfig(direction_scale=math.inf), "probability.direction_scale must be finite, got inf"),
        (lambda: TaxonomyConfig(bias={"DIR": math.nan}), "taxonomy.bias.DIR must be finite, got nan"),
        (lambda: TaxonomyConfig(gate_default=math.nan), "taxonomy.gate_default must be finite, got nan"),
        (lambda: TaxonomyConfig(smoothing={**_SMOOTH, "kingdom": math.nan}), "taxonomy.smoothing.kingdom must be finite, got nan"),
        (lambda: LevelConfig(energy={"DIR": {"lvl_er_10": math.nan}}), "levels.energy.DIR.lvl_er_10 must be finite, got nan"),
        (lambda: ExpertConfig(affinity={"DIR": {"rsi": math.nan}}), "experts.affinity.DIR.rsi must be finite, got nan"),
        (lambda: ConfidenceConfig(field_entropy=3), "confidence.field_entropy must be a string, got int 3"),
        (lambda: MFTConfig(features={"drift": (15, 30, 60)}), "features must be a FeatureConfig, got dict"),
    ],
)
def test_a_config_built_in_python_is_checked_like_a_file(build, message) -> None:
    with pytest.raises(ConfigError) as err:
        build()
    assert str(err.value) == message


def test_python_configs_are_normalised_to_the_file_types() -> None:
    fc = FeatureConfig(drift=[np.int64(15), 30, 60], robust_norm=60.0)  # type: ignore[arg-type]
    assert fc.drift == (15, 30, 60) and type(fc.drift[0]) is int
    assert fc.robust_norm == 60 and type(fc.robust_norm) is int
    assert MFTConfig(features=fc) == MFTConfig()  # the same config as the defaults
    assert MFTConfig.from_dict(MFTConfig().to_dict()) == MFTConfig()


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return make_ohlcv(300, seed=3)


@pytest.mark.parametrize("column", ["open", "high", "low"])
def test_an_infinite_price_is_a_data_error(bars, column) -> None:
    bad = bars.copy()
    bad.iloc[150, bad.columns.get_loc(column)] = np.inf
    with pytest.raises(DataError) as err:
        RegimeEngine().run(bad)
    assert str(err.value) == (
        f"OHLCV {column} is infinite at {bars.index[150]}; repair or drop bad rows first (phi.validate_ohlcv)"
    )


def test_bars_out_of_order_or_with_repeated_stamps_are_a_data_error(bars) -> None:
    """In the line every entry point gives (phi.data.schema.check_bar_order)."""
    with pytest.raises(DataError, match=r"^ohlcv index is not sorted by time; sort it first \(ohlcv.sort_index\(\)\)$"):
        RegimeEngine().run(bars.iloc[::-1])
    dup = bars.copy()
    stamps = dup.index.tolist()
    stamps[151] = stamps[150]
    dup.index = pd.DatetimeIndex(stamps)
    with pytest.raises(DataError, match="^" + re.escape(f"ohlcv index has duplicate timestamps (first {stamps[150]}); ")):
        RegimeEngine().run(dup)


@pytest.mark.parametrize(
    ("column", "factor", "message"),
    [
        ("high", 0.5, "ohlcv has 1 bar(s) with high < low, first at {at}"),
        ("open", 2.0, "ohlcv has 1 bar(s) with open or close outside [low, high], first at {at}"),
        ("close", 0.5, "ohlcv has 1 bar(s) with open or close outside [low, high], first at {at}"),
        ("volume", -1.0, "ohlcv column 'volume' has a negative value ("),
    ],
)
def test_an_inconsistent_bar_or_negative_volume_is_a_data_error(bars, column, factor, message) -> None:
    """As the indicator registry and the engine refuse them (was: silent probabilities)."""
    bad = bars.copy()
    base = "low" if column == "high" else column
    bad.iloc[150, bad.columns.get_loc(column)] = bars[base].iloc[150] * factor
    with pytest.raises(DataError) as err:
        RegimeEngine().run(bad)
    assert str(err.value).startswith(message.format(at=bars.index[150]))


def test_a_missing_open_high_or_low_is_still_tolerated(bars) -> None:
    gap = bars.copy()
    gap.iloc[150, :3] = np.nan  # a missing print, not a bad price
    res = RegimeEngine().run(gap)
    probs = res.regime_probs.iloc[res.warmup :].to_numpy()
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)


def test_a_blend_signal_outside_minus_one_to_one_is_named(bars) -> None:
    from phi.regime import regime_weighted_blend

    res = RegimeEngine().run(bars)
    sig = pd.DataFrame({"rsi": 0.5, "macd": 0.1}, index=bars.index)
    sig.iloc[200, 1] = np.inf
    with pytest.raises(ConfigError) as err:
        regime_weighted_blend(sig, res.regime_probs)
    assert str(err.value) == f"signal 'macd' is inf at {bars.index[200]}; signals must be in [-1, +1] (or NaN)"
    sig.iloc[200, 1] = np.nan  # warm-up NaN is fine
    assert regime_weighted_blend(sig, res.regime_probs).iloc[200] != regime_weighted_blend(sig, res.regime_probs).iloc[200]


def test_a_repeated_or_non_numeric_column_is_a_data_error(bars) -> None:
    with pytest.raises(DataError) as err:
        RegimeEngine().run(pd.concat([bars, bars[["close"]]], axis=1))
    assert str(err.value) == "ohlcv has two 'close' columns ('close' and 'close'); keep one"
    text = bars.copy()
    text["volume"] = text["volume"].astype(str).str.replace("1", "x", n=1)
    with pytest.raises(DataError, match=r"^ohlcv column 'volume' holds a value that is not a number, '\d*x"):
        RegimeEngine().run(text)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"features": {"volume_z": 10**19}}, "features.volume_z must be in 1..100,000, got 10000000000000000000"),
        ({"features": {"entropy_bins": 5000}}, "features.entropy_bins must be in 2..1,000, got 5000"),
        ({"features": {"drift": [15, 30, 10**6]}}, "features.drift windows must be <= 100,000 bars, got [15, 30, 1000000]"),
        ({"levels": {"vol_ref": 10**20}}, "levels.vol_ref must be in 2..100,000 bars, got 100000000000000000000"),
    ],
)
def test_windows_too_long_to_allocate_are_config_errors(data, message) -> None:
    with pytest.raises(ConfigError) as err:
        MFTConfig.from_dict(data)
    assert str(err.value) == message


def test_a_feature_whose_only_energy_weight_is_zero_runs_as_if_it_were_not_listed():
    # taxonomy.energy.family.ALN.er_120 = 0 (er_120's only weight) died in a KeyError: the
    # engine leaves an unweighted feature out, then looked its zero weight up
    zero, dropped = MFTConfig().to_dict(), MFTConfig().to_dict()
    zero["taxonomy"]["energy"]["family"]["ALN"]["er_120"] = 0.0
    del dropped["taxonomy"]["energy"]["family"]["ALN"]["er_120"]
    bars = make_ohlcv(300)
    got = RegimeEngine(MFTConfig.from_dict(zero)).run(bars).regime_probs
    want = RegimeEngine(MFTConfig.from_dict(dropped)).run(bars).regime_probs
    assert np.isfinite(got.to_numpy()[-50:]).all()
    assert np.array_equal(got.to_numpy(), want.to_numpy(), equal_nan=True)


def test_a_huge_level_energy_weight_is_refused_not_turned_into_nan_probabilities():
    # levels.energy.TE.lvl_rev = 1e308 built and ran, with NaN regime probabilities on every bar
    # where the level feature was above 1.8 (the product overflowed)
    data = MFTConfig().to_dict()
    data["levels"]["energy"]["TE"]["lvl_rev"] = 1e308
    want = r"^levels\.energy\.TE\.lvl_rev must be within \+-1,000,000, got 1e\+308$"
    with pytest.raises(ConfigError, match=want):
        MFTConfig.from_dict(data)
    data["levels"]["energy"]["TE"]["lvl_rev"] = -1e6
    assert MFTConfig.from_dict(data).levels.energy["TE"]["lvl_rev"] == -1e6
