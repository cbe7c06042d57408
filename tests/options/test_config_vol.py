"""OptionsConfig validation, the structure table and the synthetic vol model."""

from __future__ import annotations

import numpy as np
import pytest

from phi.errors import ConfigError
from phi.options.config import OptionsConfig
from phi.options.structures import STRUCTURES, get_structure
from phi.options.vol import bars_per_year, realised_vol, skewed_iv, synthetic_iv


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"structure": "iron_condr"}, "Did you mean 'iron_condor'"),
        ({"strike_rule": "gamma"}, "strike rule"),
        ({"moneyness": (0.1, 0.05)}, "near < far"),
        ({"delta": (0.2, 0.3)}, "far < near"),
        ({"dte": 0}, "dte must be between 1 and 3650"),
        ({"dte": 2.5}, "whole number"),
        ({"iv_premium": 0}, "iv_premium must be > 0"),
        ({"bid_ask_haircut": 1.0}, r"in \[0, 1\)"),
        ({"roll_dte": 45}, "roll_dte must be in"),
        ({"contracts": 0}, "contracts must be >= 1"),
        ({"risk_free_rate": float("nan")}, "finite"),
        ({"multiplier": "100"}, "must be a number"),
        ({"stop_loss_pct": -0.1}, "stop_loss_pct must be > 0"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        OptionsConfig(**kwargs)


def test_config_defaults_and_dict():
    cfg = OptionsConfig(dte=30, moneyness=[0.01, 0.04])
    assert cfg.moneyness == (0.01, 0.04) and cfg.multiplier == 100.0
    d = cfg.to_dict()
    assert d["moneyness"] == [0.01, 0.04] and d["structure"] == "bull_call_spread"


def test_structure_table():
    assert set(STRUCTURES) == {
        "long_call",
        "long_put",
        "bull_call_spread",
        "bear_put_spread",
        "bull_put_spread",
        "bear_call_spread",
        "straddle",
        "strangle",
        "iron_condor",
        "covered_call",
    }
    # a put structure has no bullish side; calls none bearish; non-directional on one row
    assert (
        not get_structure("long_put").bullish and get_structure("long_put").bearish[0].kind == "put"
    )
    assert not get_structure("bull_call_spread").bearish
    # the credit spreads: sell the near strike, buy the far one, on their one side
    bps, bcs = get_structure("bull_put_spread"), get_structure("bear_call_spread")
    assert [(leg.kind, leg.qty, leg.role) for leg in bps.bullish] == [("put", -1, "near"), ("put", 1, "far")]
    assert not bps.bearish and not bcs.bullish
    assert [(leg.kind, leg.qty, leg.role) for leg in bcs.bearish] == [("call", -1, "near"), ("call", 1, "far")]
    ic = get_structure("iron_condor")
    assert not ic.directional and sum(leg.qty for leg in ic.bullish) == 0
    with pytest.raises(ConfigError, match="Valid choices"):
        get_structure("butterfly")


def test_realised_vol_by_hand_and_causal():
    c = np.array([100.0, 101.0, 99.0, 102.0, 102.5, 101.0])
    rv = realised_vol(c, 3, 252)
    r = np.log(c[1:] / c[:-1])
    assert np.isnan(rv[:3]).all()
    assert rv[3] == pytest.approx(np.std(r[0:3], ddof=1) * np.sqrt(252), rel=1e-12)
    assert rv[5] == pytest.approx(np.std(r[2:5], ddof=1) * np.sqrt(252), rel=1e-12)
    c2 = c.copy()
    c2[5] = 50.0
    np.testing.assert_array_equal(realised_vol(c2, 3, 252)[:5], rv[:5])


def test_synthetic_iv_premium_floor_skew():
    c = 100 * np.exp(np.cumsum(np.r_[0, np.full(9, 0.001) * (-1) ** np.arange(9)]))
    iv = synthetic_iv(c, 4, 252, premium=1.2, floor=0.05)
    rv = realised_vol(c, 4, 252)
    np.testing.assert_allclose(iv[4:], np.maximum(rv[4:] * 1.2, 0.05))
    assert skewed_iv(0.2, 100, 90, 0.5) == pytest.approx(0.2 * (1 + 0.5 * np.log(100 / 90)))
    assert skewed_iv(0.2, 100, 110, 0.5) == pytest.approx(0.2)  # the call wing is not richer


def test_bars_per_year():
    assert bars_per_year(252, np.ones(10, dtype=bool)) == 252
    hourly = np.tile([False] * 6 + [True], 5)  # 7 bars a day
    assert bars_per_year(252, hourly) == 252 * 7


@pytest.mark.parametrize("window", [10**30, 1e308, 1_000_000_001])
def test_a_huge_vol_window_is_refused_when_the_config_is_built(window):
    # 10**30 passed the config and died in an OverflowError in the rolling-vol kernel
    want = r"^OptionsConfig\.vol_window must be from 2 to 1,000,000,000 bars, got "
    with pytest.raises(ConfigError, match=want):
        OptionsConfig(vol_window=window)
    assert OptionsConfig(vol_window=1_000_000_000).vol_window == 1_000_000_000
