"""Hostile inputs to the Python API that once escaped as raw exceptions or wrong figures.

Each case: a :class:`phi.errors.PhiError` subclass with one line naming the problem, or, for
valid-but-odd input, figures checked against what they must be (worked by hand or by an
identity), never against the code's own earlier output.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import run_backtest, run_backtest_many
from phi.backtest.weights import (
    equal_weight,
    inverse_vol_weights,
    momentum_rotation_weights,
    top_n_momentum,
)
from phi.blending.blender import blend
from phi.errors import ConfigError, DataError, EngineError, IndicatorError, PhiError, RunError
from phi.indicators.registry import compute_all_signals, compute_signal
from phi.options.black_scholes import bs_greeks, bs_price, implied_vol, implied_vol_detail


def _bars(n: int = 260, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.012, n)))
    o = c * (1 + rng.normal(0.0, 0.002, n))
    h = np.maximum(o, c) * 1.004
    low = np.minimum(o, c) * 0.996
    v = rng.integers(1_000, 9_000, n).astype(float)
    idx = pd.date_range("2021-01-04", periods=n, freq="B", tz="UTC")
    return pd.DataFrame({"open": o, "high": h, "low": low, "close": c, "volume": v}, index=idx)


def _one_line(exc: BaseException, *words: str) -> None:
    msg = str(exc)
    assert "\n" not in msg and len(msg) < 400, msg
    for w in words:
        assert w in msg, msg


# ---------------------------------------------------------------------------- engine


@pytest.mark.parametrize("out", [[0.0], "x", (1, 40)])
def test_run_backtest_many_equity_out_must_be_an_array(out: object) -> None:
    bars = _bars(40)
    with pytest.raises(EngineError) as info:
        run_backtest_many(bars, np.zeros(40), equity_out=out)  # type: ignore[arg-type]
    _one_line(info.value, "equity_out", "NumPy array")


def test_run_backtest_many_equity_out_read_only_is_refused() -> None:
    bars = _bars(40)
    out = np.zeros((1, 40))
    out.flags.writeable = False
    with pytest.raises(EngineError) as info:
        run_backtest_many(bars, np.zeros(40), equity_out=out)
    _one_line(info.value, "read-only")


# ---------------------------------------------------------------------------- indicators


def test_compute_all_signals_none_selection() -> None:
    with pytest.raises(IndicatorError) as info:
        compute_all_signals(_bars(), None)  # type: ignore[arg-type]
    _one_line(info.value, "selection", "NoneType")


@pytest.mark.parametrize("name", ["dual_sma", "ema_crossover", "rsi", "vwap_dev"])
@pytest.mark.parametrize("price", [0.0, -3.0])
def test_indicators_refuse_non_positive_prices(name: str, price: float) -> None:
    bars = _bars()
    bars.iloc[100, bars.columns.get_loc("close")] = price
    with pytest.raises(DataError) as info:
        compute_signal(name, bars)
    _one_line(info.value, "'close'", "non-positive", str(bars.index[100]))


def test_indicators_refuse_unsorted_and_duplicate_stamps() -> None:
    bars = _bars()
    with pytest.raises(DataError) as info:
        compute_signal("rsi", bars.iloc[::-1])
    _one_line(info.value, "not sorted")
    with pytest.raises(DataError) as info:
        compute_signal("rsi", bars.iloc[[0, *range(len(bars))]])
    _one_line(info.value, "duplicate", str(bars.index[0]))
    naive = compute_signal("rsi", bars.reset_index(drop=True))  # bar numbers: in order, allowed
    assert np.allclose(naive.to_numpy(), compute_signal("rsi", bars).to_numpy(), equal_nan=True)


def test_indicators_on_zero_volume_are_still_defined() -> None:
    """Zero volume is valid data (a halted day): volume indicators read it as no flow."""
    bars = _bars().assign(volume=0.0)
    for name in ("vwap_dev", "cmf", "wyckoff"):
        s = compute_signal(name, bars).dropna()
        assert len(s) and (s.abs() <= 1.0).all()


# ---------------------------------------------------------------------------- blending


def test_blend_weights_whose_sum_overflows_give_the_plain_blend() -> None:
    s = pd.DataFrame({"a": [1.0, -0.5, 0.2], "b": [0.0, 0.5, 0.6]})
    huge = blend(s, "weighted_sum", {"a": 1e308, "b": 1e308})
    # equal weights: (a + b) / 2, worked by hand
    assert huge.tolist() == pytest.approx([0.5, 0.0, 0.4])
    votes = blend(s, "voting", {"a": 1e308, "b": 1e308}, dead_zone=0.1)
    assert votes.tolist() == pytest.approx([0.5, 0.0, 1.0])


def test_blend_regime_weights_must_be_a_mapping() -> None:
    s = pd.DataFrame({"a": [1.0, 0.5], "b": [0.0, 0.5]})
    probs = pd.DataFrame({"x": [0.5, 0.5], "y": [0.5, 0.5]})
    with pytest.raises(ConfigError) as info:
        blend(s, "regime_weighted", regime_probs=probs, regime_weights="x")  # type: ignore[arg-type]
    _one_line(info.value, "regime_weights", "mapping")


@pytest.mark.parametrize("raw", ["ab", [object(), 1.0], {"a": "x", "b": 1.0}])
def test_phiai_scorer_returning_non_numbers(raw: object) -> None:
    s = pd.DataFrame({"a": np.linspace(-1, 1, 30), "b": np.linspace(1, -1, 30)})
    with pytest.raises(ConfigError) as info:
        blend(s, "phiai", score_fn=lambda _: raw, train_bars=10, step=5)
    _one_line(info.value, "phiai scorer", "2 numbers")


def test_phiai_ohlcv_on_other_bars_is_refused() -> None:
    bars = _bars(80)
    sig = compute_all_signals(bars, ["rsi", "momentum"])
    with pytest.raises(ConfigError) as info:
        blend(sig, "phiai", ohlcv=bars.iloc[::2], train_bars=20, step=10)
    _one_line(info.value, "ohlcv", "signal stamp")


# ---------------------------------------------------------------------------- options pricing


@pytest.mark.parametrize("size", [1, 100])  # the numba kernel and the NumPy path
def test_black_scholes_far_expiry_is_the_discounted_limit(size: int) -> None:
    """T = 1e6 years, r = 2 %: e^(-rT) underflows to 0, so a call is worth S e^(-qT) = S and a
    put 0 (once the kernel divided by e^(-rT): ZeroDivisionError)."""
    s = np.full(size, 100.0) if size > 1 else 100.0
    call = bs_price(s, 100.0, 1e6, 0.02, 0.0, 0.2, "call")
    put = bs_price(s, 100.0, 1e6, 0.02, 0.0, 0.2, "put")
    assert np.all(call == 100.0) and np.all(put == 0.0)
    g = bs_greeks(s, 100.0, 1e6, 0.02, 0.0, 0.2, "call")
    assert all(np.all(np.isfinite(x)) for x in g)
    assert np.all(g.delta == 1.0)


def test_implied_vol_where_the_discount_underflows_has_no_vol() -> None:
    vol, reason = implied_vol_detail(50.0, 100.0, 100.0, 1e6, 0.02, 0.0, "call")
    assert np.isnan(vol) and int(reason) != 0
    with pytest.raises(ConfigError) as info:
        implied_vol(50.0, 100.0, 100.0, 1e6, 0.02, 0.0, "call")
    _one_line(info.value, "no implied vol")


@pytest.mark.parametrize("size", [1, 100])
def test_black_scholes_gamma_of_a_tiny_spot_does_not_divide_by_zero(size: int) -> None:
    """S = K = 1e-300, T = 1e-300: S * sigma * sqrt(T) underflows to 0 although sigma * sqrt(T)
    does not; gamma overflows to +inf (its true value exceeds the double range), never raises."""
    s = np.full(size, 1e-300) if size > 1 else 1e-300
    g = bs_greeks(s, 1e-300, 1e-300, 0.0, 0.0, 0.2, "call")
    assert np.all(np.isposinf(g.gamma)) and np.all(g.delta == 0.5)


def test_black_scholes_greeks_of_a_tiny_vol_raise_no_warning() -> None:
    """sigma = 1e-300 (pytest turns warnings into errors): the limit of zero vol, silently."""
    g = bs_greeks(np.full(100, 100.0), 100.0, 1.0, 0.02, 0.0, 1e-300, "call")
    assert np.all(g.delta == 1.0) and np.all(g.gamma == 0.0)
    assert g.rho[0] == pytest.approx(100.0 * np.exp(-0.02))


def test_black_scholes_none_is_not_a_number() -> None:
    with pytest.raises(ConfigError) as info:
        bs_price(None, 100.0, 0.5, 0.02, 0.0, 0.2, "call")
    _one_line(info.value, "S must be a number")


def test_options_regime_labels_must_be_strings() -> None:
    from phi.options.config import OptionsConfig
    from phi.options.simulator import run_options_backtest

    bars = _bars(120)
    sig = np.sign(np.sin(np.arange(120) / 6.0))
    with pytest.raises(ConfigError) as info:
        run_options_backtest(bars, sig, OptionsConfig(structure="auto"), regime=pd.Series(1, index=bars.index))
    _one_line(info.value, "regime labels", "1")


# ---------------------------------------------------------------------------- portfolio weights


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf])
@pytest.mark.parametrize(
    "builder", [equal_weight, momentum_rotation_weights, top_n_momentum, inverse_vol_weights]
)
def test_weight_builders_refuse_non_positive_closes(builder: object, bad: float) -> None:
    closes = pd.DataFrame({"A": np.linspace(10, 20, 60), "B": np.linspace(20, 10, 60)})
    closes.iloc[30, 1] = bad
    with pytest.raises(ConfigError) as info:
        builder(closes)  # type: ignore[operator]
    _one_line(info.value, "closes['B']", "> 0")
    closes.iloc[30, 1] = np.nan  # a missing bar is fine
    w = builder(closes)  # type: ignore[operator]
    assert (w.abs().sum(axis=1).dropna() <= 1.0 + 1e-12).all()


# ---------------------------------------------------------------------------- run history, presets


@pytest.mark.parametrize("ids", [None, "20250101-120000-000-3f9a2c", 5])
def test_compare_runs_takes_a_list(ids: object) -> None:
    from phi.backtest.run_history import compare_runs

    with pytest.raises(RunError) as info:
        compare_runs(ids)  # type: ignore[arg-type]
    _one_line(info.value, "list of run ids")


def test_a_huge_run_id_is_not_echoed_whole() -> None:
    from phi.backtest.run_history import load_run

    with pytest.raises(RunError) as info:
        load_run("x" * 100_000)
    _one_line(info.value, "is not a run id")


@pytest.mark.parametrize("names", ["rsi", 3])
def test_strategies_compare_takes_a_list_of_names(names: object) -> None:
    from phi.backtest.run_config import DatasetSpec
    from phi.strategies.runner import compare

    with pytest.raises(ConfigError) as info:
        compare(names, DatasetSpec("DEMO"), save=False)  # type: ignore[arg-type]
    _one_line(info.value, "list of preset names")


def test_every_failure_here_is_a_phi_error() -> None:
    """The catalogue's contract in one place: these calls raise PhiError, nothing rawer."""
    bars = _bars(60)
    calls = [
        lambda: run_backtest(bars, np.zeros(59)),
        lambda: compute_signal("rsi", bars.assign(close=-bars["close"])),
        lambda: blend(pd.DataFrame({"a": [0.1] * 5}), "phiai", score_fn=lambda _: "zz", train_bars=2, step=1),
        lambda: bs_price(100.0, 100.0, 1e6, 0.02, 0.0, 0.2, "cal"),
    ]
    for call in calls:
        with pytest.raises(PhiError):
            call()


# ---------------------------------------------------------------------------- inconsistent bars


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [("high", 0.5, "high < low"), ("close", 1e6, "close above high"), ("open", 1e-3, "open below low")],
)
def test_engines_refuse_bars_outside_their_own_range(column: str, value: float, why: str) -> None:
    """The engine's stops read high and low: a bar whose open or close lies outside them (or
    whose high is below its low) is refused like phi.data.validate_ohlcv refuses it."""
    from phi.backtest.portfolio import run_portfolio
    from phi.options.simulator import run_options_backtest

    bars = _bars(60)
    bad = bars.copy()
    bad.iloc[30, bad.columns.get_loc(column)] = bad["low"].iloc[30] * value
    sig = np.sign(np.sin(np.arange(60) / 5.0))
    with pytest.raises(EngineError) as info:
        run_backtest(bad, sig)
    _one_line(info.value, str(bars.index[30]), "[low, high]")
    with pytest.raises(EngineError) as info:
        run_portfolio({"A": bad, "B": bars}, pd.DataFrame({"A": 0.5, "B": 0.5}, index=bars.index))
    _one_line(info.value, "bars['A']", str(bars.index[30]))
    with pytest.raises(EngineError):
        run_options_backtest(bad, sig)


def test_bars_within_rounding_of_their_range_are_accepted() -> None:
    """A close one part in 10^12 above the high (float rounding of adjusted data) is fine."""
    bars = _bars(60)
    bars.iloc[30, bars.columns.get_loc("close")] = bars["high"].iloc[30] * (1 + 1e-12)
    res = run_backtest(bars, np.sign(np.sin(np.arange(60) / 5.0)))
    assert np.isfinite(res.metrics["final_equity"])


# ---------------------------------------------------------------------------- beside a run


def test_parse_sort_of_a_non_string() -> None:
    from phi.backtest.run_filter import parse_sort

    with pytest.raises(ConfigError) as info:
        parse_sort(5)  # type: ignore[arg-type]
    _one_line(info.value, "--sort", "int")


def test_benchmark_metrics_refuse_infinite_prices_and_bad_capital() -> None:
    from phi.backtest.benchmark import benchmark_metrics

    bars = _bars(60)
    equity = pd.Series(np.linspace(1e5, 1.1e5, 60), index=bars.index)
    close = bars["close"].copy()
    close.iloc[10] = np.inf
    with pytest.raises(EngineError) as info:
        benchmark_metrics(equity, close)
    _one_line(info.value, "benchmark_close", "infinite")
    for capital in (-1.0, 0.0, np.nan, True, "1e5"):
        with pytest.raises(EngineError) as info:
            benchmark_metrics(equity, bars["close"], initial_capital=capital)  # type: ignore[arg-type]
        _one_line(info.value, "initial_capital")
    m = benchmark_metrics(equity, bars["close"], initial_capital=5e4)  # the figures, by hand
    c = bars["close"].to_numpy()
    assert m["benchmark_equity"].iloc[-1] == pytest.approx(5e4 * c[-1] / c[0])
    assert m["excess_return"] == pytest.approx(0.1 - (c[-1] / c[0] - 1.0))


CHAIN = "date,expiry,strike,kind,bid,ask\n2024-01-02,2024-02-16,100,call,1.0,1.1\n"


def test_load_chain_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    from phi.options.chains import load_chain

    fifo = tmp_path / "chain.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError) as info:
        load_chain(fifo)
    _one_line(info.value, "named pipe", "not a regular file")
    with pytest.raises(DataError) as info:
        load_chain("chain\x00.csv")
    _one_line(info.value, "cannot read it")


@pytest.mark.parametrize("cell", ["ask", "strike", "open_interest"])
def test_load_chain_refuses_infinite_numbers(tmp_path: Path, cell: str) -> None:
    from phi.options.chains import load_chain

    frame = pd.read_csv(io.StringIO(CHAIN)).assign(open_interest=10)
    frame[cell] = np.inf
    path = tmp_path / "chain.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        load_chain(path)
    _one_line(info.value, "row 2", "finite")
    frame[cell] = {"ask": 1.1, "strike": 100.0, "open_interest": 10}[cell]
    frame.to_csv(path, index=False)
    assert len(load_chain(path).quotes) == 1


GEX_CHAIN = Path(__file__).parent / "options" / "data" / "xyz_chain_eod.csv"


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"date": "nope"}, "not a date"),
        ({"date": 5}, "date must be a date"),
        ({"spot": "x"}, "spot must be a positive number"),
        ({"r": float("nan")}, "r must be"),
        ({"q": 100.0}, "q must be"),
        ({"min_open_interest": -1.0}, "min_open_interest"),
        ({"max_dte": 1.5}, "max_dte"),
        ({"max_dte": True}, "max_dte"),
        ({"multiplier": 0.0}, "multiplier"),
    ],
)
def test_gamma_exposure_settings(kwargs: dict[str, object], named: str) -> None:
    from phi.options.gex import gamma_exposure

    with pytest.raises(PhiError) as info:
        gamma_exposure(str(GEX_CHAIN), **kwargs)  # type: ignore[arg-type]
    _one_line(info.value, named)


def test_gex_inputs_of_the_wrong_kind() -> None:
    from phi.options.gex import gamma_exposure, gex_asof, gex_features, gex_profile

    with pytest.raises(ConfigError) as info:
        gamma_exposure(5)  # type: ignore[arg-type]
    _one_line(info.value, "OptionChain")
    with pytest.raises(ConfigError) as info:
        gex_features(str(GEX_CHAIN), spots="x")  # type: ignore[arg-type]
    _one_line(info.value, "spots")
    feats = gex_features(GEX_CHAIN)  # a Path works like a str
    assert len(feats) > 0 and np.isfinite(feats["spot"]).all()
    with pytest.raises(ConfigError) as info:
        gex_asof(pd.RangeIndex(5), feats)  # type: ignore[arg-type]
    _one_line(info.value, "DatetimeIndex")
    with pytest.raises(ConfigError) as info:
        gex_profile(gamma_exposure(str(GEX_CHAIN)), "x")  # type: ignore[arg-type]
    _one_line(info.value, "spots")


def test_run_with_a_dataset_that_is_not_one() -> None:
    import phi
    from phi.backtest.run_config import DatasetSpec, RunConfig

    cfg = RunConfig(DatasetSpec("DEMO", start="2023-01-01", end="2023-12-31"), ["rsi"])
    with pytest.raises(ConfigError) as info:
        phi.run(cfg, save=False, dataset=_bars())  # type: ignore[arg-type]
    _one_line(info.value, "dataset must be a Dataset", "DataFrame")


def test_portfolio_symbols_must_align_and_be_distinct() -> None:
    from phi.backtest.portfolio import run_portfolio

    a, b = _bars(40, 1), _bars(40, 2)
    w = pd.DataFrame({"A": 0.5}, index=a.index)
    with pytest.raises(EngineError) as info:
        run_portfolio({"A": a, "B": b.tz_localize(None)}, w)
    _one_line(info.value, "bars['A'] has tz-aware stamps", "bars['B'] tz-naive stamps")
    with pytest.raises(EngineError) as info:
        run_portfolio({"A": a, "B": b.reset_index(drop=True)}, w)
    _one_line(info.value, "bars['B'] a RangeIndex")
    with pytest.raises(EngineError) as info:
        run_portfolio({1: a, "1": b}, w.set_axis(["1"], axis=1))  # type: ignore[dict-item]
    _one_line(info.value, "two symbols named '1'")
    # New York stamps beside UTC ones are the same instants: they align
    res = run_portfolio({"A": a, "B": b.tz_convert("America/New_York")}, w)
    assert len(res.equity) == 40


@pytest.mark.parametrize("value", [70.0, -1.5, np.inf])
def test_blend_refuses_values_outside_the_signal_range(value: float) -> None:
    """Raw indicator values (an RSI of 70) were clipped to +1 without a word."""
    s = pd.DataFrame({"rsi": [0.2, value, 0.1], "macd": [0.0, 0.5, np.nan]})
    for mode in ("weighted_sum", "voting"):
        with pytest.raises(ConfigError) as info:
            blend(s, mode)
        _one_line(info.value, "[-1, 1]", "'rsi'", "not raw indicator values")
    ok = blend(s.assign(rsi=[0.2, 1.0, -1.0]), "weighted_sum")  # the bounds and NaN are fine
    assert ok.iloc[:2].tolist() == pytest.approx([0.1, 0.75]) and np.isnan(ok.iloc[2])


def test_two_columns_for_one_price_are_refused() -> None:
    from phi.backtest.portfolio import run_portfolio

    bars = _bars(40)
    both = bars.assign(Close=bars["close"])  # equal values: still ambiguous
    with pytest.raises(EngineError) as info:
        run_backtest(both, np.zeros(40))
    _one_line(info.value, "two 'close' columns", "'Close'")
    with pytest.raises(EngineError) as info:
        run_portfolio({"A": both}, pd.DataFrame({"A": 1.0}, index=bars.index))
    _one_line(info.value, "bars['A'] has two 'close' columns")
    upper = run_backtest(bars.rename(columns=str.upper), np.zeros(40))  # one of each, any case
    assert upper.metrics["n_trades"] == 0
