"""Arguments of the wrong type or of an absurd size to the public API of options, portfolio,
strategies, regime, scanner, batch and ML: each is refused with one line (a PhiError naming
the argument), never a raw TypeError/AttributeError/ValueError, a run that never ends, or a
wrong type taken silently."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from phi.backtest.run_config import DatasetSpec
from phi.errors import PhiError

_SERIES = pd.Series(np.arange(50.0), index=pd.date_range("2021-01-01", periods=50, tz="UTC"))
_FRAME = pd.DataFrame({"a": np.arange(30.0)})
_ARRAY = np.arange(40.0).reshape(20, 2)
_DS = DatasetSpec(symbol="SPY", start="2021-01-01", end="2021-06-30")


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    from phi.data.demo import generate_demo

    return generate_demo("SPY", "2020-01-01", "2021-06-30")


def _refused(call: Callable[[], Any], *named: str) -> str:
    """The one-line PhiError ``call`` raises; every string of ``named`` is in its message."""
    with pytest.raises(PhiError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 400, msg
    for word in named:
        assert word in msg, msg
    return msg


# ---------------------------------------------------------------------------- options


def _options_config(**kw: Any) -> Any:
    from phi.options import OptionsConfig

    return OptionsConfig(**kw)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"structure": ["long_call"]}, "OptionsConfig.structure must be a string"),
        ({"structure": {}}, "OptionsConfig.structure must be a string"),
        ({"strike_rule": np.arange(3)}, "OptionsConfig.strike_rule must be a string"),
        ({"chain_fill": np.arange(3)}, "OptionsConfig.chain_fill must be a string"),
        ({"contracts": 10**20}, "OptionsConfig.contracts must be >= 1 and <= 1,000,000"),
        ({"dte": _SERIES}, "OptionsConfig.dte must be a number, got a Series of shape (50,)"),
        ({"moneyness": _ARRAY}, "OptionsConfig.moneyness must be a pair"),
    ],
)
def test_options_config_refuses_wrong_types(kwargs: dict[str, Any], named: str) -> None:
    _refused(lambda: _options_config(**kwargs), named)


@pytest.mark.parametrize("arg", ["S", "K", "T", "r", "q", "sigma"])
def test_black_scholes_refuses_a_flag_for_a_number(arg: str) -> None:
    from phi.options import bs_greeks, bs_price

    kw: dict[str, Any] = {"S": 100.0, "K": 100.0, "T": 0.5, "r": 0.01, "q": 0.0, "sigma": 0.2, "kind": "call"}
    kw[arg] = True
    _refused(lambda: bs_price(**kw), arg, "must be a number")
    kw[arg] = np.array([True, False])
    _refused(lambda: bs_greeks(**kw), arg, "must be a number")


def test_black_scholes_still_takes_numbers_and_arrays() -> None:
    from phi.options import bs_price, implied_vol

    prices = bs_price(100.0, np.array([90.0, 100.0, 110.0]), 0.5, 0.01, 0.0, 0.2, "call")
    assert prices.shape == (3,) and np.all(np.diff(prices) < 0)  # a higher strike, a cheaper call
    vol = implied_vol(float(prices[1]), 100, 100, 0.5, 0.01, 0, "call")
    assert vol == pytest.approx(0.2, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"iv_multipliers": list(np.linspace(0.5, 2.0, 10_000))}, "iv_multipliers must be a list of numbers (at most 400)"),
        ({"haircuts": "0.01"}, "haircuts must be a list"),
        ({"haircuts": [True]}, "haircuts must be a list"),
        ({"iv_multipliers": list(np.linspace(0.5, 2.0, 100)), "haircuts": list(np.linspace(0, 0.1, 10))}, "at most 400"),
    ],
)
def test_options_sensitivity_grid_is_bounded_and_typed(bars: pd.DataFrame, kwargs: dict[str, Any], named: str) -> None:
    from phi.options import options_sensitivity

    signal = pd.Series(0.0, index=bars.index)
    _refused(lambda: options_sensitivity(bars, signal, **kwargs), named)


@pytest.mark.parametrize("regime", ["TREND_UP", 3, ["RANGE"], _FRAME])
def test_options_regime_must_be_a_series_whatever_the_structure(bars: pd.DataFrame, regime: Any) -> None:
    from phi.options import run_options_backtest

    signal = pd.Series(0.0, index=bars.index)
    _refused(lambda: run_options_backtest(bars, signal, regime=regime), "regime must be a pandas Series")


# ---------------------------------------------------------------------------- strategies


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda S: S.list(include_server=np.arange(3)), "include_server must be True or False"),
        (lambda S: S.list(include_server="yes"), "include_server must be True or False"),
        (lambda S: S.register({"name": "x"}), "register expects a Preset, got dict"),
        (lambda S: S.get(_FRAME), "strategy name must be a string, got a DataFrame"),
        (lambda S: S.run_preset("RSI", {"symbol": "SPY"}, save=False), "dataset must be a DatasetSpec, got dict"),
        (lambda S: S.run_preset("RSI", _DS, benchmark=np.arange(3), save=False), "benchmark must be a symbol"),
        (lambda S: S.run_preset("RSI", _DS, save=_FRAME), "save must be True or False"),
        (lambda S: S.compare(["RSI"], None, save=False), "dataset must be a DatasetSpec"),
        (lambda S: S.compare(["RSI"], _DS, metric=["sharpe"], save=False), "cannot sort by ['sharpe']"),
        (lambda S: S.compare(["RSI"], _DS, save=False, progress="bar"), "progress must be a callable"),
        (lambda S: S.compare(_FRAME, _DS, save=False), "names must be a list"),
        (lambda S: S.compare(["RSI"], _DS, costs=None, save=False), "unknown cost preset None"),
    ],
)
def test_strategies_refuse_wrong_types(call: Callable[[Any], Any], named: str) -> None:
    import phi.strategies as strategies

    _refused(lambda: call(strategies), named)


# ---------------------------------------------------------------------------- regime


@pytest.mark.parametrize("ohlcv", [None, 3, _SERIES, _ARRAY])
def test_regime_engine_run_takes_a_frame(ohlcv: Any) -> None:
    from phi.regime import RegimeEngine

    _refused(lambda: RegimeEngine().run(ohlcv), "regime engine", "DataFrame")


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda R: R.engine_warmup("fast"), "engine_warmup expects an MFTConfig"),
        (lambda R: R.engine_warmup(np.arange(3)), "engine_warmup expects an MFTConfig"),
        (lambda R: R.load_config(None), "regime config path must be a str or Path"),
        (lambda R: R.save_config({}, "/tmp/x.json"), "save_config expects an MFTConfig"),
        (lambda R: R.save_config(R.MFTConfig(), 3), "regime config path must be a str or Path"),
        (lambda R: R.default_regime_weights(3), "indicator_names must be a list"),
        (lambda R: R.default_regime_weights(_FRAME), "indicator_names must be a list"),
        (lambda R: R.default_regime_weights([1, 2]), "indicator_names must be strings"),
        (lambda R: R.default_regime_weights(["rsi"] * 1_000_000), "indicator_names: more than 10,000"),
    ],
)
def test_regime_api_refuses_wrong_types(call: Callable[[Any], Any], named: str) -> None:
    import phi.regime as regime

    _refused(lambda: call(regime), named)


def test_regime_weights_rows_must_be_mappings() -> None:
    from phi.regime import regime_weighted_blend

    idx = pd.date_range("2021-01-01", periods=5, tz="UTC")
    signals = pd.DataFrame({"rsi": 0.0}, index=idx)
    probs = pd.DataFrame({"TREND_UP": 1.0}, index=idx)
    _refused(lambda: regime_weighted_blend(signals, probs, {"TREND_UP": 2}), "regime weights['TREND_UP'] must be a mapping")


@pytest.mark.parametrize("field", ["drift", "autocorr_lag", "impulse_sigma"])
def test_regime_config_shows_an_array_in_one_line(field: str) -> None:
    from phi.regime.config import FeatureConfig

    _refused(lambda: FeatureConfig(**{field: _SERIES}), f"features.{field} must be", "Series of shape (50,)")


# ---------------------------------------------------------------------------- scanner


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"symbols": None}, "symbols must be a list of tickers"),
        ({"symbols": 7}, "symbols must be a list of tickers"),
        ({"symbols": {"SPY": 1}}, "symbols must be a list of tickers"),
        ({"symbols": _FRAME}, "symbols must be a list of tickers"),
        ({"start": 7}, "start 7 is not a date"),
        ({"end": _SERIES}, "end a Series of shape (50,) is not a date"),
        ({"rank_by": np.arange(3)}, "rank_by must be one of"),
        ({"l2": "quotes"}, "l2 must be a callable"),
        ({"l2_status": np.arange(3)}, "l2_status must be a string"),
        ({"progress": 3}, "progress must be a callable"),
        ({"vendor": 7}, "vendor must be a string, got 7"),
        ({"timeframe": np.arange(3)}, "timeframe must be a string, got a numpy array"),
    ],
)
def test_scan_refuses_wrong_types(kwargs: dict[str, Any], named: str) -> None:
    from phi.scanner import scan

    kw: dict[str, Any] = {"symbols": ["SPY"], "start": "2021-01-01", "end": "2021-12-31", **kwargs}
    _refused(lambda: scan(**kw), named)


def test_scan_takes_a_timestamp_and_a_date() -> None:
    from phi.scanner import read_universe, scan

    res = scan(["SPY"], start=pd.Timestamp("2020-01-01"), end=datetime.date(2021, 6, 30))
    assert [r["symbol"] for r in res.rows] == ["SPY"] and not res.failures
    _refused(lambda: read_universe(None), "universe file path must be a str or Path")


# ---------------------------------------------------------------------------- portfolio


@pytest.fixture(scope="module")
def portfolio() -> Any:
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.portfolio_pipeline import run_portfolio_config

    cfg = PortfolioRunConfig(symbols=("SPY", "QQQ"), start="2021-01-01", end="2021-06-30")
    return run_portfolio_config(cfg, save=False)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"save": np.arange(3)}, "save must be True or False"),
        ({"save": "no"}, "save must be True or False"),
        ({"allow_data_change": "yes"}, "allow_data_change must be True or False"),
        ({"progress": 5}, "progress must be a callable"),
    ],
)
def test_run_portfolio_config_refuses_wrong_types(portfolio: Any, kwargs: dict[str, Any], named: str) -> None:
    from phi.portfolio_pipeline import run_portfolio_config

    _refused(lambda: run_portfolio_config(portfolio.config, **kwargs), named)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((None, "closes"), "result must be a PortfolioResult"),
        (("result", [1.0, 2.0]), "closes must be a DataFrame"),
        (("result", _SERIES), "closes must be a DataFrame"),
        (("result", "closes", "1e5"), "initial_capital must be a finite number > 0"),
        (("result", "closes", -1.0), "initial_capital must be a finite number > 0"),
        (("result", "closes", [1.0]), "initial_capital must be a finite number > 0"),
    ],
)
def test_contribution_refuses_wrong_types(portfolio: Any, args: tuple[Any, ...], named: str) -> None:
    from phi.portfolio_pipeline import contribution

    real = {"result": portfolio, "closes": portfolio.closes}
    call_args = [real.get(a, a) if isinstance(a, str) and a in real else a for a in args]
    _refused(lambda: contribution(*call_args), named)


def test_contribution_still_sums_to_the_total_return(portfolio: Any) -> None:
    from phi.portfolio_pipeline import contribution

    table = contribution(portfolio, portfolio.closes)
    total = portfolio.equity.iloc[-1] / portfolio.config.portfolio.initial_capital - 1.0
    assert table["contribution"].sum() == pytest.approx(total, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("run", [None, 3, ["x"], _FRAME])
def test_load_portfolio_files_takes_a_run(run: Any) -> None:
    from phi.portfolio_pipeline import load_portfolio_files

    _refused(lambda: load_portfolio_files(run), "run must be a run id or a SavedRun")


# ---------------------------------------------------------------------------- batch


@pytest.fixture(scope="module")
def rsi_config() -> Any:
    from phi.batch import preset_config

    return preset_config("RSI", _DS)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda B, c: B.expand_grid(None, {"period": [10]}), "config must be a RunConfig"),
        (lambda B, c: B.expand_grid(c, 3), "a grid must be a mapping"),
        (lambda B, c: B.expand_grid(c, _FRAME), "a grid must be a mapping"),
        (lambda B, c: B.expand_grid(c, {1: [2]}), "parameter names must be strings"),
        (lambda B, c: B.expand_grid(c, {"Not A Name": [2]}), "is not a parameter name"),
        (lambda B, c: B.expand_grid(c, {"period": 14}), "period: the values must be a list"),
        (lambda B, c: B.expand_grid(c, {"period": []}), "period: no values"),
        (lambda B, c: B.expand_grid(c, {"period": list(range(2, 10**6))}), "more than 100,000 combinations"),
        (lambda B, c: B.preset_config(None, _DS), "--preset must be a strategy or indicator name"),
        (lambda B, c: B.preset_config("RSI", {"symbol": "SPY"}), "dataset must be a DatasetSpec"),
        (lambda B, c: B.sweep_configs(None, "RSI", {}), "symbols must be a list of tickers"),
        (lambda B, c: B.sweep_configs({"SPY": 1}, "RSI", {}), "symbols must be a list of tickers"),
        (lambda B, c: B.sweep_configs(["SPY"], 7, {}), "--preset must be a strategy or indicator name"),
        (lambda B, c: B.sweep_configs([f"S{i}" for i in range(1000)], "RSI", {"period": list(range(2, 200))}), "split the sweep"),
        (lambda B, c: B.load_configs(None), "a config source must be a file path"),
        (lambda B, c: B.load_symbols(3), "a symbols file must be a file path"),
        (lambda B, c: B.run_chunk(3), "configs_json must be a list"),
        (lambda B, c: B.run_chunk([], skip_done=np.arange(3)), "skip_done must be True or False"),
        (lambda B, c: B.run_batch(3, scheduler="inline"), "configs must be a list"),
        (lambda B, c: B.run_batch([], scheduler=3), "scheduler must be None, 'inline'"),
        (lambda B, c: B.run_batch([], scheduler="inline", force=_FRAME), "force must be True or False"),
        (lambda B, c: B.run_batch([], scheduler="inline", progress=1), "progress must be a callable"),
        (lambda B, c: B.run_batch([], scheduler="inline", on_connect="x"), "on_connect must be a callable"),
        (lambda B, c: B.run_batch([], n_workers=_SERIES), "n_workers must be an integer >= 1, got a Series"),
        (lambda B, c: B.sweep_summary(None), "sweep_summary expects a BatchResult"),
    ],
)
def test_batch_api_refuses_wrong_types(rsi_config: Any, call: Callable[[Any, Any], Any], named: str, tmp_path: Path) -> None:
    import phi.batch as batch

    _refused(lambda: call(batch, rsi_config), named)


def test_expand_grid_still_takes_arrays_of_values(rsi_config: Any) -> None:
    from phi.batch import expand_grid

    out = expand_grid(rsi_config, {"period": np.array([10, 20])})
    assert [c.indicators[0].params["period"] for c in out] == [10, 20]


# ---------------------------------------------------------------------------- ML / RL (validation only: nothing trains)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"model": ["rf"]}, "model must be a model name"),
        ({"label": np.arange(3)}, "label must be a label name"),
        ({"seed": 2**40}, "seed must be an integer in 0..4,294,967,295"),
        ({"horizon": _SERIES}, "horizon must be an integer number of bars in 1..500, got a Series"),
        ({"indicators": 5}, "indicators must be a list"),
        ({"indicators": [1, 2]}, "indicators must be names"),
        ({"progress": "bar"}, "progress must be a callable"),
        ({"save_as": _FRAME}, "model name a DataFrame of shape (30, 1) is not allowed"),
        ({"feature_set": ["all"]}, "feature_set must be one of"),
    ],
)
def test_train_classifier_refuses_wrong_types(bars: pd.DataFrame, kwargs: dict[str, Any], named: str) -> None:
    pytest.importorskip("sklearn")
    from phi.ml import train_classifier

    _refused(lambda: train_classifier(bars, **kwargs), named)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda ML, b: ML.build_features(b, extra=5), "extra must be a list"),
        (lambda ML, b: ML.walk_forward_signal(b, model=["rf"]), "model must be a model name"),
        (lambda ML, b: ML.walk_forward_signal(b, seed=2**40), "seed must be an integer in 0..4,294,967,295"),
        (lambda ML, b: ML.walk_forward_signal(b, horizon="5"), "horizon must be an integer number of bars"),
        (lambda ML, b: ML.walk_forward_signal(b, horizon=2.5), "horizon must be an integer number of bars"),
        (lambda ML, b: ML.LabelSpec(kind=_FRAME), "label must be a label name"),
    ],
)
def test_ml_helpers_refuse_wrong_types(bars: pd.DataFrame, call: Callable[[Any, Any], Any], named: str) -> None:
    pytest.importorskip("sklearn")
    import phi.ml as ml

    _refused(lambda: call(ml, bars), named)


def test_rl_observation_settings_are_shown_in_one_line(bars: pd.DataFrame) -> None:
    from phi.rl.observe import check_int

    _refused(lambda: check_int("lookback", _SERIES, 1, 100), "lookback must be an integer", "Series of shape (50,)")


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"start": "abc"}, "start must be an integer"),
        ({"start": float("nan")}, "start must be an integer"),
        ({"end": [1]}, "end must be an integer"),
        ({"allow_short": "yes"}, "allow_short must be True or False"),
        ({"allow_short": np.arange(3)}, "allow_short must be True or False"),
        ({"observations": [[0.0]]}, "observations must be a 2-D array with one row per bar"),
        ({"observations": np.zeros((3, 2))}, "observations must be a 2-D array with one row per bar"),
    ],
)
def test_trading_env_refuses_wrong_types(bars: pd.DataFrame, kwargs: dict[str, Any], named: str) -> None:
    pytest.importorskip("gymnasium")
    from phi.rl import TradingEnv

    _refused(lambda: TradingEnv(bars, **kwargs), named)


def test_train_agent_refuses_a_non_flag_allow_short(bars: pd.DataFrame) -> None:
    pytest.importorskip("stable_baselines3")
    from phi.rl import train_agent

    _refused(lambda: train_agent(bars, timesteps=256, allow_short="no"), "allow_short must be True or False")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("abc", "index", 0), "actions must be a 1-D integer array"),
        ((np.zeros(3, dtype=int), "index", 0), "actions must be a 1-D integer array with one action per bar"),
        (("zeros", "index", 0.5), "start must be an integer"),
        (("sevens", "index", 0), "actions must be 0 (hold), 1 (long), 2 (flat) or 3 (short)"),
        (("zeros", [1, 2], 0), "index must be a pandas Index"),
    ],
)
def test_actions_to_signal_refuses_wrong_types(args: tuple[Any, ...], named: str) -> None:
    pytest.importorskip("gymnasium")
    from phi.rl import actions_to_signal

    index = pd.date_range("2021-01-01", periods=20, tz="UTC")
    real = {"index": index, "zeros": np.zeros(20, dtype=np.int64), "sevens": np.full(20, 7)}
    call_args = [real.get(a, a) if isinstance(a, str) and a in real else a for a in args]
    _refused(lambda: actions_to_signal(*call_args), named)


def test_actions_to_signal_still_maps_actions_to_targets() -> None:
    pytest.importorskip("gymnasium")
    from phi.rl import actions_to_signal

    index = pd.date_range("2021-01-01", periods=6, tz="UTC")
    sig = actions_to_signal(np.array([1, 1, 0, 3, 0, 2]), index, 2)
    assert sig.tolist() == [0.0, 0.0, 0.0, -1.0, -1.0, 0.0]  # flat before start, hold carries


@pytest.mark.parametrize("kw", [{"lookback": "10"}, {"norm_window": np.arange(3)}])
def test_trading_env_window_settings_are_checked(bars: pd.DataFrame, kw: dict[str, Any]) -> None:
    pytest.importorskip("gymnasium")
    from phi.rl import TradingEnv

    _refused(lambda: TradingEnv(bars, **kw), next(iter(kw)), "must be an integer")


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: __import__("phi.rl", fromlist=["save_agent"]).save_agent("agent", "x"), "save_agent expects an RLAgent"),
        (lambda: __import__("phi.ml", fromlist=["save_model"]).save_model({}, "x"), "save_model expects an MLModel"),
        (lambda: __import__("phi.rl", fromlist=["evaluate_agent"]).evaluate_agent(None, _FRAME, 10), "evaluate_agent expects an RLAgent"),
    ],
)
def test_saving_needs_a_trained_model(call: Callable[[], Any], named: str) -> None:
    pytest.importorskip("stable_baselines3")
    _refused(call, named)
