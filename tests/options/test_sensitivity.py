"""Sensitivity of an options run to IV and bid-ask haircuts; the options run beside the
underlying on the same signal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import EngineConfig, run_backtest
from phi.errors import ConfigError
from phi.options.config import OptionsConfig
from phi.options.sensitivity import (
    options_sensitivity,
    options_vs_underlying,
    sensitivity_grid,
)
from phi.options.simulator import run_options_backtest
from tests.conftest import make_ohlcv
from tests.options.test_chains import CHAIN, _bars, _cfg, _signal

IVS = (0.7, 1.0, 1.4, 2.0)
HCS = (0.0, 0.01, 0.03, 0.08)


def _square(n: int, period: int = 50) -> np.ndarray:
    """Between 0.05 and 0.9: crosses up through 0.1 every period, never down through 0 (no
    signal exits): every trade ends at expiry."""
    return np.where(np.arange(n) % period < period // 2, 0.05, 0.9)


@pytest.fixture(scope="module")
def table():
    df = make_ohlcv(600, seed=11)
    o = OptionsConfig(structure="long_call", dte=30, contracts=2, profit_target_pct=None, stop_loss_pct=None)
    return df, o, options_sensitivity(df, _square(len(df)), o, iv_multipliers=IVS, haircuts=HCS)


def test_table_shape_and_cells_are_plain_runs(table):
    df, o, t = table
    assert t.index.names == ["iv_multiplier", "haircut"] and len(t) == len(IVS) * len(HCS)
    cell = t.loc[(1.4, 0.03)]
    cfg = dataclasses.replace(o, iv_premium=o.iv_premium * 1.4, bid_ask_haircut=0.03)
    again = run_options_backtest(df, _square(len(df)), cfg)
    assert cell["final_equity"] == again.metrics["final_equity"]
    assert cell["iv_premium"] == pytest.approx(o.iv_premium * 1.4)
    assert (t["n_trades"] == t["n_trades"].iloc[0]).all() and t["n_trades"].iloc[0] > 3


def test_higher_haircut_never_raises_final_equity(table):
    grid = sensitivity_grid(table[2])
    assert list(grid.columns) == list(HCS) and list(grid.index) == list(IVS)
    assert (np.diff(grid.to_numpy(), axis=1) <= 1e-9).all()
    assert (np.diff(grid.to_numpy(), axis=1) < 0).any()


def test_dearer_vol_never_helps_a_bought_call_held_to_expiry(table):
    # the same trades settle at intrinsic whatever the vol; only the premium paid changes
    grid = sensitivity_grid(table[2])
    assert (np.diff(grid.to_numpy(), axis=0) <= 1e-9).all()


def test_options_beside_the_underlying_on_the_same_signal():
    df = make_ohlcv(400, seed=5)
    sig = _square(len(df), 40)
    eng = EngineConfig(initial_capital=50_000.0)
    cmp = options_vs_underlying(df, sig, OptionsConfig(structure="long_call", contracts=1), eng)
    assert list(cmp.columns) == ["options", "underlying"]
    und = run_backtest(df, sig, eng)
    opt = run_options_backtest(df, sig, OptionsConfig(structure="long_call", contracts=1), eng)
    assert cmp.loc["final_equity", "underlying"] == und.metrics["final_equity"]
    assert cmp.loc["final_equity", "options"] == opt.metrics["final_equity"]


def test_chain_sensitivity_is_over_haircuts_on_the_mid():
    t = options_sensitivity(_bars(), _signal(2), _cfg(), iv_multipliers=(1.0,), haircuts=(0.0, 0.05))
    # bought at the mid 2.1 x (1 + h), settled at intrinsic 11: P&L 1100 - 210 (1 + h) - 1
    np.testing.assert_allclose(t["final_equity"].to_numpy(), [1e5 + 1100 - 210 - 1, 1e5 + 1100 - 210 * 1.05 - 1])
    with pytest.raises(ConfigError, match="a chain's prices come from its quotes"):
        options_sensitivity(_bars(), _signal(2), _cfg(), iv_multipliers=(1.0, 1.2))
    assert CHAIN.endswith("chain_tiny.csv")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"haircuts": (0.0, 1.0)}, r"^haircuts: 1\.0 is not allowed; each value must be in \[0, 1\)"),
        ({"iv_multipliers": ()}, r"^iv_multipliers is empty"),
        ({"iv_multipliers": (1.0, -1.0)}, r"^iv_multipliers: -1\.0 is not allowed"),
        ({"haircuts": (0.01, 0.01)}, r"^haircuts lists a value twice"),
        ({"haircuts": ("x",)}, r"^haircuts must be a list of numbers"),
    ],
)
def test_bad_grids_are_one_line_errors(kw, message):
    df = make_ohlcv(60)
    with pytest.raises(ConfigError, match=message):
        options_sensitivity(df, np.zeros(len(df)), **kw)


def test_cli_sensitivity(capsys, tmp_path):
    from phi.cli import main

    out = tmp_path / "sens.csv"
    code = main(["options", "sensitivity", "--start", "2022-01-01", "--end", "2023-06-30",
                 "--structure", "long_call", "--contracts", "1", "--iv", "1,1.5",
                 "--haircuts", "0,5%", "--csv", str(out)])  # fmt: skip
    text = capsys.readouterr()
    assert code == 0, text.err
    assert "final_equity by IV multiplier" in text.out and "underlying" in text.out
    t = pd.read_csv(out)
    assert len(t) == 4 and {"iv_multiplier", "haircut", "final_equity"} <= set(t.columns)
    fe = t.set_index(["iv_multiplier", "haircut"])["final_equity"]
    assert fe.loc[(1.0, 0.05)] <= fe.loc[(1.0, 0.0)]
    code = main(["options", "sensitivity", "--haircuts", "0,150%"])
    assert code == 2 and "haircuts: 1.5 is not allowed" in capsys.readouterr().err
