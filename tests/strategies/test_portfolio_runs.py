"""Portfolio run configs: JSON round trip, field-path errors, ``phi.run`` == ``run_portfolio``,
saved runs that reopen and re-run to the same equity, MomentumRotation saved like any preset."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import phi
from phi.backtest import run_history as rh
from phi.backtest import weights as w
from phi.backtest.portfolio import run_portfolio
from phi.backtest.portfolio_config import PortfolioConfig
from phi.backtest.portfolio_run_config import WEIGHT_RULES, PortfolioRunConfig, WeightRule
from phi.backtest.run_config import DatasetSpec
from phi.data.demo import generate_demo
from phi.errors import ConfigError, DataError
from phi.pipeline import rerun
from phi.portfolio_pipeline import contribution, load_portfolio_files
from phi.strategies.runner import run_preset

SYMBOLS = ("SPY", "VEU", "AGG", "GLD")
START, END = "2023-01-01", "2023-12-31"
RULES = {
    "equal": {},
    "inverse_vol": {"lookback": 30},
    "top_n_momentum": {"lookback": 15, "n": 2},
    "rotation": {"lookback": 20, "every": 5, "top_n": 1},
}


def _config(rule: str, rebalance: str = "monthly", **kw: object) -> PortfolioRunConfig:
    pcfg = PortfolioConfig(rebalance=rebalance, fractional=rule != "rotation").with_cost_preset("us_equities")
    return PortfolioRunConfig(SYMBOLS, start=START, end=END, weights=WeightRule(rule, RULES[rule]), portfolio=pcfg, **kw)  # type: ignore[arg-type]


def _bars() -> dict[str, pd.DataFrame]:
    return {s: generate_demo(s, START, END) for s in SYMBOLS}


def _reference_weights(rule: str, closes: pd.DataFrame) -> pd.DataFrame:
    p = RULES[rule]
    if rule == "equal":
        return w.equal_weight(closes)
    if rule == "inverse_vol":
        return w.inverse_vol_weights(closes, p["lookback"])
    if rule == "top_n_momentum":
        return w.top_n_momentum(closes, p["lookback"], p["n"])
    return w.momentum_rotation_weights(closes, p["lookback"], p["every"], p["top_n"])


# ---------------------------------------------------------------------------- config


@pytest.mark.parametrize("rule", list(RULES))
def test_config_round_trips_through_json(rule):
    cfg = _config(rule, "drift:0.05", description="basket", tags=("a", "b"), seed=3)
    again = PortfolioRunConfig.from_json(cfg.to_json())
    assert again == cfg and again.to_json() == cfg.to_json() and again.config_hash() == cfg.config_hash()
    assert json.loads(cfg.to_json())["mode"] == "portfolio"
    assert again.weights.params == {**WEIGHT_RULES[rule], **RULES[rule]}


def test_defaults_are_filled_and_decide_the_hash():
    bare = PortfolioRunConfig.from_dict({"symbols": ["spy", "agg"], "weights": {"rule": "top_n_momentum"}})
    assert bare.symbols == ("SPY", "AGG") and bare.weights.params == {"lookback": 20, "n": 1}
    other = PortfolioRunConfig.from_dict({"symbols": ["SPY", "AGG"], "weights": {"rule": "top_n_momentum", "params": {"n": 2}}})
    assert other.config_hash() != bare.config_hash()
    assert bare.replace(description="x", tags=("t",)).config_hash() == bare.config_hash()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symbols": []}, "symbols: give at least one symbol"),
        ({"symbols": "SPY"}, "symbols must be a list"),
        ({"symbols": ["SPY", "spy"]}, "symbols[1]: 'SPY' is listed twice"),
        ({"symbols": ["SPY", "../etc"]}, "symbols[1]:"),
        ({"weights": {"rule": "inverse_voll"}}, "weights.rule: unknown weight rule 'inverse_voll'. Did you mean 'inverse_vol'?"),
        ({"weights": {"rule": "equal", "params": {"lookback": 5}}}, "weights.params: 'lookback' is not a setting of rule 'equal'"),
        ({"weights": {"rule": "inverse_vol", "params": {"lookback": 1}}}, "weights.lookback must be >= 2, got 1"),
        ({"weights": {"rule": "rotation", "params": {"every": 0}}}, "weights.every must be >= 1"),
        ({"weights": {"rule": "top_n_momentum", "params": {"n": 3}}}, "weights: rule 'top_n_momentum' holds 3 symbols but only 2"),
        ({"weights": {"rul": "equal"}}, "weights: unknown field 'rul'"),
        ({"portfolio": {"rebalance": "monthy"}}, "portfolio.rebalance: unknown schedule 'monthy'. Did you mean 'monthly'?"),
        ({"portfolio": {"initial_capital": -5}}, "portfolio.initial_capital"),
        ({"portfolio": {"max_gross": 2.0}}, "portfolio.max_gross=2 is leverage"),
        ({"portfolio": {"slipage_bps": 1}}, "portfolio: unknown field 'slipage_bps'"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "start 2024-02-01 is after end 2024-01-01"),
        ({"vendor": "yahooo"}, "vendor: unknown vendor"),
        ({"vendor": "csv"}, "vendor: a portfolio reads several symbols"),
        ({"mode": "equities"}, "mode must be 'portfolio'"),
        ({"symbol": "SPY"}, "unknown config field 'symbol'"),
        ({"content_hashes": {"TLT": "ab"}}, "content_hashes: 'TLT' is not one of the symbols"),
    ],
)
def test_bad_fields_are_one_line_naming_the_field(change, message):
    data = {"symbols": ["SPY", "AGG"], **change}
    with pytest.raises(ConfigError) as info:
        PortfolioRunConfig.from_dict(data)
    text = str(info.value)
    assert message in text and "\n" not in text, text


def test_bad_json_is_a_config_error():
    with pytest.raises(ConfigError, match="not valid JSON"):
        PortfolioRunConfig.from_json("{nope")


# ---------------------------------------------------------------------------- running


@pytest.mark.parametrize(("rule", "rebalance"), [("equal", "monthly"), ("inverse_vol", "weekly"),
                                                 ("top_n_momentum", "every:10"), ("rotation", "on_change")])  # fmt: skip
def test_phi_run_reproduces_run_portfolio_exactly(rule, rebalance):
    cfg = _config(rule, rebalance)
    res = phi.run(cfg, save=False)
    bars = _bars()
    closes = pd.DataFrame({s: df["close"] for s, df in bars.items()})
    ref = run_portfolio(bars, _reference_weights(rule, closes), cfg.portfolio)
    pd.testing.assert_series_equal(res.equity, ref.equity)
    pd.testing.assert_frame_equal(res.holdings, ref.holdings)
    pd.testing.assert_frame_equal(res.fills, ref.fills)
    pd.testing.assert_frame_equal(res.trades, ref.trades)
    assert {k: v for k, v in res.metrics.items() if v == v} == {k: v for k, v in ref.metrics.items() if v == v}
    assert len(res.fills) > 0 and res.config is not None and set(res.config.content_hashes or {}) == set(SYMBOLS)


def test_contribution_adds_up_to_the_pnl_and_matches_a_single_holding():
    res = phi.run(_config("inverse_vol", "weekly"), save=False)
    con = res.contribution()
    final, initial = float(res.equity.iloc[-1]), res.config.portfolio.initial_capital
    assert con["pnl"].sum() == pytest.approx(final - initial, abs=1e-6)
    assert con["contribution"].sum() == pytest.approx(res.metrics["total_return"], abs=1e-12)
    assert con["costs"].sum() == pytest.approx(res.fills["costs"].sum()) and con["fills"].sum() == len(res.fills)
    # one symbol bought once and held: its P&L is units x (last close - fill price) - costs, by hand
    one = phi.run(PortfolioRunConfig(("GLD",), start=START, end=END, portfolio={"rebalance": "on_change", "commission_pct": 0.001}), save=False)
    (fill,) = one.fills.itertuples()
    last = generate_demo("GLD", START, END)["close"].iloc[-1]
    by_hand = fill.units * (last - fill.price) - fill.costs
    assert contribution(one, one.closes).loc["GLD", "pnl"] == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(float(one.equity.iloc[-1]) - 100_000.0, rel=1e-12)


def test_too_few_bars_is_one_line():
    cfg = PortfolioRunConfig(SYMBOLS, start="2024-01-01", end="2024-01-25", weights={"rule": "rotation"})
    with pytest.raises(DataError, match=r"needs more than 21 bars .* the data has 1\d\. Use a longer date range"):
        phi.run(cfg, save=False)


def test_a_saved_portfolio_run_reopens_and_reruns_to_the_same_equity():
    res = phi.run(_config("top_n_momentum", "every:10", description="two best"), save=True)
    assert res.run_id is not None and res.save_error is None
    (row,) = rh.list_runs()
    assert row["run_id"] == res.run_id and row["symbol"] == "SPY+VEU+AGG+GLD" and row["indicators"] == ["top_n_momentum(lookback=15, n=2)"]
    saved = rh.load_run(res.run_id)
    assert isinstance(saved.config, PortfolioRunConfig) and saved.config == res.config
    np.testing.assert_array_equal(saved.equity["equity"].to_numpy(), res.equity.to_numpy())
    files = load_portfolio_files(saved)
    np.testing.assert_array_equal(files["holdings"].to_numpy(), res.holdings.to_numpy())
    assert list(files["holdings"].columns) == list(SYMBOLS) and len(files["fills"]) == len(res.fills)
    assert files["contribution"]["pnl"].sum() == pytest.approx(float(res.equity.iloc[-1]) - 100_000.0, abs=1e-6)
    missing = json.loads(rh.saved_file(saved, "missing_data.json"))
    assert set(missing) == set(SYMBOLS) and all(m["missing_bars"] == 0 for m in missing.values())
    again = rerun(res.run_id, save=False)
    pd.testing.assert_series_equal(again.equity, res.equity)
    assert again.trades.to_csv(index=False).encode() == rh.saved_trades_csv(saved)


def test_a_changed_dataset_is_caught_on_rerun():
    cfg = _config("equal").replace(content_hashes={"SPY": "0" * 64})
    with pytest.raises(DataError, match="the bars of demo SPY 1D .* changed since this config was run"):
        phi.run(cfg, save=False)


def test_momentum_rotation_preset_makes_a_portfolio_config_and_is_saved():
    ds = DatasetSpec("DEMO", start=START, end=END)
    run = run_preset("MomentumRotation", ds, save=True)
    cfg = run.result.config
    assert isinstance(cfg, PortfolioRunConfig) and cfg.symbols == SYMBOLS
    assert cfg.weights == WeightRule("rotation", {"lookback": 20, "every": 5, "top_n": 1})
    assert cfg.portfolio.rebalance == "on_change" and not cfg.portfolio.fractional
    saved = rh.load_run(run.run_id)
    assert saved.config == cfg and rh.saved_file(saved, "scorecard.json") is not None
    assert rh.saved_file(saved, "holdings.csv") is not None
    again = rerun(run.run_id, save=False)
    pd.testing.assert_series_equal(again.equity, run.result.equity)


def test_the_run_history_page_lists_opens_and_reruns_a_portfolio_run():
    from tests.app.conftest import assert_clean, start, tables

    res = phi.run(_config("equal"), save=True)
    at = start()
    at.segmented_control(key="nav").set_value("Run history").run()
    assert_clean(at)
    (runs,) = tables(at, "run_id", "sharpe")
    assert runs["run_id"].tolist() == [res.run_id] and runs["symbol"].tolist() == ["SPY+VEU+AGG+GLD"]
    at.button(key="hist:open").click().run()
    assert_clean(at)
    assert any("is a portfolio of SPY, VEU, AGG, GLD" in i.value for i in at.info)
    at.button(key="hist:rerun").click().run()
    assert_clean(at)
    assert len(rh.list_runs()) == 2
