"""Arguments of the wrong type or an absurd size, given to the core public API (the audit of
2026-11-30: backtest, data, indicators, blending, run history, pipeline).

Each case used to escape as a raw TypeError / AttributeError / ValueError / OverflowError, to
be accepted as garbage (``start=7`` read as 1970-01-01, ``save=[]`` read as False), or to print
a whole DataFrame into its message. Every refusal now is a :class:`~phi.errors.PhiError`
subclass with one short line naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from phi.backtest import run_history as rh
from phi.backtest.benchmark import benchmark_metrics
from phi.backtest.engine import BacktestResult, EngineConfig, run_backtest
from phi.backtest.run_config import (
    BlendConfig,
    DatasetSpec,
    IndicatorConfig,
    RunConfig,
    config_diff,
)
from phi.backtest.run_index import database_url, query_runs
from phi.backtest.scorecard import prediction_scorecard
from phi.backtest.summary import buy_and_hold_window, metric_window, trade_count
from phi.blending.blender import (
    Blender,
    apply_phiai,
    blend,
    next_bar_scorer,
    phiai_fit,
    score_weights,
    weight_vector,
)
from phi.cli import main
from phi.data import cache
from phi.data.demo import generate_demo
from phi.data.fetchers import fetch_result, normalize_vendor
from phi.data.health import data_health
from phi.data.schema import ohlcv_hash, validate_ohlcv
from phi.data.store import get_dataset
from phi.data.timeframes import normalize_timeframe
from phi.data.uploads import store_upload
from phi.errors import (
    ConfigError,
    DataError,
    EngineError,
    IndicatorError,
    ParameterError,
    PhiError,
    RunError,
    SymbolError,
    UnknownIndicatorError,
    shown,
)
from phi.indicators.batch import MAX_PARAM_SETS, batch_signals
from phi.indicators.registry import compute_signal, get_indicator
from phi.pipeline import engine_scorer, rerun, run
from tests.conftest import make_ohlcv

BARS = make_ohlcv(120, seed=3)
SIGNALS = pd.DataFrame({"a": np.linspace(-1, 1, 120), "b": np.linspace(1, -1, 120)}, index=BARS.index)
FRAME = pd.DataFrame({"x": np.arange(50.0)})
SERIES = pd.Series(np.arange(50.0))
CLOSE = BARS["close"]
HUGE = 10**400
Call = Callable[[], Any]


def _refused(call: Call, kind: type[PhiError], *names: str) -> str:
    """``call()`` raises ``kind`` with one short line that contains every name."""
    with pytest.raises(PhiError) as info:
        call()
    assert isinstance(info.value, kind), (type(info.value), info.value)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 400, msg
    for name in names:
        assert name in msg, (name, msg)
    return msg


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    res = run_backtest(BARS, SIGNALS["a"])
    assert isinstance(res, BacktestResult)
    return res


def _config() -> RunConfig:
    return RunConfig(DatasetSpec("DEMO", start="2022-01-01", end="2022-06-30"), (IndicatorConfig("rsi"),))


# ---------------------------------------------------------------- messages stay one line


def test_shown_describes_arrays_and_huge_numbers_briefly() -> None:
    assert shown(FRAME) == "a DataFrame of shape (50, 1)"
    assert shown(SERIES) == "a Series of shape (50,)"
    assert shown(np.zeros(3)) == "a numpy array of shape (3,)"
    assert shown(HUGE) == "an integer of about 401 digits"
    assert shown("rsi") == "'rsi'" and len(shown("x" * 5000)) <= 62
    assert shown(np.float64(0.5)) == "0.5"  # a numpy scalar as its number (was "np.float64(0.5)")


@pytest.mark.parametrize(
    ("call", "kind", "names"),
    [
        (lambda: EngineConfig(initial_capital=FRAME), ConfigError, ("EngineConfig.initial_capital", "DataFrame of shape")),
        (lambda: EngineConfig(allow_short=SERIES), ConfigError, ("EngineConfig.allow_short", "Series of shape")),
        (lambda: data_health(BARS, timeframe=FRAME), ConfigError, ("timeframe", "DataFrame of shape")),
        (lambda: data_health(BARS, calendar=SERIES), ConfigError, ("calendar", "Series of shape")),
        (lambda: compute_signal(HUGE, BARS), UnknownIndicatorError, ("indicator name", "401 digits")),
        (lambda: rh.load_run(SERIES), RunError, ("not a run id", "Series of shape")),
        (lambda: rh.load_run("x" * 5000), RunError, ("is not a run id", "...")),
        (lambda: blend(SIGNALS, weights={"w" * 5000: 1.0}), ConfigError, ("blend weights name", "...")),
        (lambda: compute_signal("r" * 5000, BARS), UnknownIndicatorError, ("unknown indicator", "...")),
    ],
)
def test_messages_about_big_values_stay_one_short_line(call: Call, kind: type[PhiError], names: tuple[str, ...]) -> None:
    _refused(call, kind, *names)


# ---------------------------------------------------------------- configs


@pytest.mark.parametrize("field", ["fill", "sizing", "calendar"])
@pytest.mark.parametrize("value", [np.array(["close", "x"]), SERIES, FRAME], ids=["array", "series", "frame"])
def test_engine_config_choice_fields_of_the_wrong_type(field: str, value: object) -> None:
    _refused(lambda: EngineConfig(**{field: value}), ConfigError, f"EngineConfig.{field}")


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: BlendConfig(mode=np.array(["voting"])), ("blend.mode",)),
        (lambda: RunConfig(_config().dataset, _config().indicators, mode=SERIES), ("mode",)),  # type: ignore[arg-type]
        (lambda: DatasetSpec("DEMO", start=7), ("dataset.start", "7")),  # type: ignore[arg-type]
        (lambda: DatasetSpec("DEMO", end=10**12), ("dataset.end",)),  # type: ignore[arg-type]
        (lambda: DatasetSpec("DEMO", start=2.5), ("dataset.start",)),  # type: ignore[arg-type]
        (lambda: config_diff("abc", {"a": 1}), ("config 1", "'abc'")),  # type: ignore[arg-type]
        (lambda: config_diff(_config(), np.zeros(2)), ("config 2", "numpy array")),  # type: ignore[arg-type]
    ],
)
def test_run_config_arguments_of_the_wrong_type(call: Call, names: tuple[str, ...]) -> None:
    _refused(call, ConfigError, *names)


def test_a_date_given_as_a_date_still_works() -> None:
    import datetime as dt

    spec = DatasetSpec("DEMO", start=dt.date(2021, 1, 4), end=pd.Timestamp("2021-03-01"))  # type: ignore[arg-type]
    assert (spec.start, spec.end) == ("2021-01-04", "2021-03-01")


# ---------------------------------------------------------------- indicators


@pytest.mark.parametrize("name", [["rsi"], {"rsi": 1}, np.array(["rsi"]), SERIES, 7], ids=["list", "dict", "array", "series", "int"])
def test_indicator_names_that_are_not_strings(name: object) -> None:
    _refused(lambda: get_indicator(name), UnknownIndicatorError, "indicator name must be a string")  # type: ignore[arg-type]
    _refused(lambda: compute_signal(name, BARS), UnknownIndicatorError, "indicator name")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "kind", "names"),
    [
        (lambda: batch_signals("rsi", None, [{}]), DataError, ("ohlcv must be a pandas DataFrame", "NoneType")),
        (lambda: batch_signals("rsi", 7, [{}]), DataError, ("ohlcv must be a pandas DataFrame", "int")),
        (lambda: batch_signals("rsi", BARS, 5), IndicatorError, ("param_sets", "5")),
        (lambda: batch_signals("rsi", BARS, "period"), IndicatorError, ("param_sets", "'period'")),
        (lambda: batch_signals("rsi", BARS, {"period": 14}), IndicatorError, ("param_sets",)),
        (lambda: batch_signals("rsi", BARS, [{}] * (MAX_PARAM_SETS + 1)), IndicatorError, ("param_sets", f"{MAX_PARAM_SETS:,}")),
    ],
)
def test_batch_signals_arguments(call: Call, kind: type[PhiError], names: tuple[str, ...]) -> None:
    _refused(call, kind, *names)


def test_batch_signals_of_a_list_still_works() -> None:
    out = batch_signals("rsi", BARS, [{"period": 10}, {"period": 20}])
    np.testing.assert_array_equal(out[:, 0], compute_signal("rsi", BARS, {"period": 10}).to_numpy())


# ---------------------------------------------------------------- blending


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: blend(SIGNALS, mode=np.array(["voting"])), ("blend mode must be a string", "numpy array")),
        (lambda: blend(SIGNALS, mode=SERIES), ("blend mode", "Series of shape")),
        (lambda: blend(SIGNALS, dead_zone="wide"), ("dead_zone", "'wide'")),  # weighted_sum used to ignore it
        (lambda: blend(SIGNALS, train_bars="all"), ("phiai train_bars",)),
        (lambda: blend(SIGNALS, "phiai", ohlcv=BARS, train_bars=HUGE), ("phiai train_bars", "at most")),
        (lambda: blend(SIGNALS, "phiai", ohlcv=BARS, window=np.array(["rolling"])), ("phiai window",)),
        (lambda: Blender(weights="rsi=2"), ("Blender.weights", "'rsi=2'")),  # type: ignore[arg-type]
        (lambda: Blender(regime_weights=[1]), ("Blender.regime_weights",)),  # type: ignore[arg-type]
        (lambda: Blender(dead_zone=math.nan), ("dead_zone",)),
        (lambda: Blender(mode=FRAME), ("blend mode", "DataFrame of shape")),  # type: ignore[arg-type]
        (lambda: phiai_fit(SIGNALS, score_fn=5), ("score_fn", "5")),  # type: ignore[arg-type]
        (lambda: weight_vector(None, None), ("names",)),  # type: ignore[arg-type]
        (lambda: weight_vector("ab", None), ("names",)),
        (lambda: next_bar_scorer([1.0, 2.0]), ("close", "Series")),  # type: ignore[arg-type]
        (lambda: score_weights([]), ("scores",)),  # type: ignore[arg-type]
        (lambda: score_weights("abc"), ("scores",)),  # type: ignore[arg-type]
        (lambda: score_weights(SIGNALS), ("scores", "1-d")),  # type: ignore[arg-type]
    ],
)
def test_blend_arguments_of_the_wrong_type(call: Call, names: tuple[str, ...]) -> None:
    _refused(call, ConfigError, *names)


def test_apply_phiai_needs_a_fit_of_the_same_indicators() -> None:
    fit = phiai_fit(SIGNALS, ohlcv=BARS, train_bars=40, step=20)
    assert apply_phiai(SIGNALS, fit).notna().sum() == len(BARS) - 40
    _refused(lambda: apply_phiai(SIGNALS, {"weights": 1}), ConfigError, "fit must be a PhiAIFit", "{'weights': 1}")  # type: ignore[arg-type]
    # one column against a fit of two used to broadcast into a blend of garbage
    _refused(lambda: apply_phiai(SIGNALS[["a"]], fit), ConfigError, "the fit weighs a, b", "the signals are a")


def test_blend_of_many_columns_checks_duplicates_in_linear_time() -> None:
    wide = pd.DataFrame(np.zeros((3, 60_000)), columns=[f"c{i}" for i in range(60_000)])
    assert blend(wide).tolist() == [0.0, 0.0, 0.0]
    twice = pd.DataFrame(np.zeros((3, 8)), columns=[f"c{i % 7}" for i in range(8)])
    _refused(lambda: blend(twice), ConfigError, "duplicate indicator columns: c0")


# ---------------------------------------------------------------- data


@pytest.mark.parametrize(
    ("call", "kind", "names"),
    [
        (lambda: ohlcv_hash(None), DataError, ("ohlcv_hash", "NoneType")),  # type: ignore[arg-type]
        (lambda: ohlcv_hash(BARS["close"]), DataError, ("ohlcv_hash", "Series")),  # type: ignore[arg-type]
        (lambda: ohlcv_hash(FRAME), DataError, ("ohlcv_hash", "validate_ohlcv")),
        (lambda: data_health(BARS, requested_start=7), DataError, ("requested_start", "not a date")),
        (lambda: data_health(BARS, coverage_start=2.5), DataError, ("coverage_start", "not a date")),
        (lambda: normalize_timeframe(7), ConfigError, ("timeframe must be a string",)),  # type: ignore[arg-type]
        (lambda: normalize_vendor(np.array(["demo"])), ConfigError, ("vendor must be a string", "numpy array")),  # type: ignore[arg-type]
        (lambda: cache.is_cached(7, "DEMO", "1D", "2021-01-01", "2021-02-01"), ConfigError, ("vendor must be a string",)),  # type: ignore[arg-type]
        (lambda: cache.is_cached("v" * 300, "DEMO", "1D", "2021-01-01", "2021-02-01"), ConfigError, ("not a valid vendor name",)),
        (lambda: cache.is_cached("demo", "DEMO", "1D", 7, "2021-02-01"), ConfigError, ("not a date", "7")),
        (lambda: cache.clean_cache(min_age_s="1"), ConfigError, ("min_age_s", "'1'")),  # type: ignore[arg-type]
        (lambda: cache.clean_cache(min_age_s=math.nan), ConfigError, ("min_age_s", "nan")),
        (lambda: cache.clean_cache(min_age_s=HUGE), ConfigError, ("min_age_s",)),
        (lambda: cache.save_dataset(BARS, "demo", "DEMO", "1D", "2020-01-01", "2020-12-31", metadata=[("a", 1)]), ConfigError, ("metadata",)),  # type: ignore[arg-type]
        (lambda: get_dataset("DEMO", "2021-01-01", "2021-02-01", refresh=[1]), ConfigError, ("refresh", "[1]")),  # type: ignore[arg-type]
        (lambda: get_dataset("DEMO", "2021-01-01", "2021-02-01", vendor=HUGE), ConfigError, ("vendor must be a string",)),  # type: ignore[arg-type]
        (lambda: store_upload("a,b\n1,2\n", "x.csv"), DataError, ("data must be bytes",)),  # type: ignore[arg-type]
        (lambda: store_upload(b"a,b\n1,2\n", 5), DataError, ("name must be a string",)),  # type: ignore[arg-type]
        (lambda: get_dataset("DEMO", "2021-01-01", "2021-02-01", path=5), ConfigError, ("path must be a file path",)),  # type: ignore[arg-type]
        (lambda: generate_demo(["DEMO"], "2021-01-01", "2021-02-01"), SymbolError, ("symbol must be a string",)),  # type: ignore[arg-type]
        (lambda: validate_ohlcv(BARS, what=FRAME), ConfigError, ("what", "DataFrame of shape")),  # type: ignore[arg-type]
        (lambda: fetch_result("X", "2021-01-01", "2021-02-01", vendor="csv", path=5), ConfigError, ("path must be a file path", "5")),  # type: ignore[arg-type]
        (lambda: fetch_result("X", "2021-01-01", "2021-02-01", vendor="csv", path=["a.csv"]), ConfigError, ("path must be a file path",)),  # type: ignore[arg-type]
    ],
)
def test_data_arguments_of_the_wrong_type(call: Call, kind: type[PhiError], names: tuple[str, ...]) -> None:
    _refused(call, kind, *names)


def test_an_api_key_of_the_wrong_type_is_refused_before_any_request_and_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a request was made")

    monkeypatch.setattr(requests.Session, "request", no_network)
    msg = _refused(lambda: fetch_result("AAPL", "2021-01-01", "2021-02-01", vendor="alpha_vantage", api_key=12345), ConfigError, "api_key", "int")  # type: ignore[arg-type]
    assert "12345" not in msg


def test_the_cache_leaves_nothing_behind_for_a_refused_argument() -> None:
    from phi.paths import cache_root

    with pytest.raises(ConfigError):
        cache.save_dataset(BARS, "demo", "DEMO", "1D", "2020-01-01", "2020-12-31", metadata=5)  # type: ignore[arg-type]
    assert not cache_root().exists() or not any(p.is_file() for p in cache_root().rglob("*"))


@pytest.mark.parametrize("value", [None, [1], "abc", BARS["close"], FRAME], ids=["none", "list", "str", "series", "frame"])
def test_validate_ohlcv_refuses_what_is_not_a_frame_of_bars(value: object) -> None:
    """Regression guard: already a DataError before the audit."""
    _refused(lambda: validate_ohlcv(value), DataError)  # type: ignore[arg-type]


# ---------------------------------------------------------------- engine and results


@pytest.mark.parametrize(
    ("call", "kind", "names"),
    [
        (lambda: run_backtest(BARS, HUGE), EngineError, ("signal must be numeric",)),
        (lambda: run_backtest(BARS["close"], SIGNALS["a"]), EngineError, ("ohlcv", "Series")),  # regression guard
        (lambda: run_backtest(BARS, SIGNALS["a"], {"fill": ["close"]}), ConfigError, ("EngineConfig.fill",)),
        (lambda: benchmark_metrics(SERIES, SERIES, periods_per_year=True), EngineError, ("periods_per_year", "True")),
        (lambda: benchmark_metrics(SERIES, SERIES, periods_per_year=HUGE), EngineError, ("periods_per_year", "401 digits")),
        (lambda: benchmark_metrics(CLOSE, CLOSE, initial_capital=HUGE), EngineError, ("initial_capital", "401 digits")),
        (lambda: prediction_scorecard(SERIES, SERIES, threshold=HUGE), EngineError, ("threshold", "401 digits")),
        (lambda: prediction_scorecard(SERIES, SERIES, threshold=FRAME), EngineError, ("threshold", "DataFrame of shape")),
        (lambda: metric_window(None, 0), EngineError, ("metric_window", "None")),  # type: ignore[arg-type]
        (lambda: metric_window("2021-01-01", 0), EngineError, ("metric_window",)),
        (lambda: metric_window(["a", "b"], 0), EngineError, ("timestamps",)),
        (lambda: metric_window(BARS.index, "3"), EngineError, ("warmup", "'3'")),  # type: ignore[arg-type]
        (lambda: metric_window(BARS.index, math.nan), EngineError, ("warmup", "nan")),  # type: ignore[arg-type]
        (lambda: trade_count(None), EngineError, ("trade_count", "None")),  # type: ignore[arg-type]
        (lambda: buy_and_hold_window([1.0, 2.0]), EngineError, ("Series of closes",)),  # type: ignore[arg-type]
        (lambda: buy_and_hold_window(BARS["close"], math.inf), EngineError, ("warmup", "inf")),  # type: ignore[arg-type]
    ],
)
def test_engine_and_result_helpers(call: Call, kind: type[PhiError], names: tuple[str, ...]) -> None:
    _refused(call, kind, *names)


def test_summary_helpers_still_take_what_they_took() -> None:
    assert trade_count({"n_trades": math.inf, "n_open_trades": 1.0}).closed == 0
    window = metric_window(list(BARS.index), 5)
    assert window is not None and window.bars == len(BARS) - 5
    assert metric_window(BARS.index, -3) == metric_window(BARS.index, 0)


# ---------------------------------------------------------------- run history and pipeline


@pytest.mark.parametrize(
    ("arg", "bad", "names"),
    [
        ("config", None, ("config must be a RunConfig", "None")),
        ("config", {"dataset": {}}, ("config must be a RunConfig",)),
        ("result", FRAME, ("result must be a BacktestResult", "DataFrame of shape")),
        ("data_metadata", [("a", 1)], ("data_metadata must be a mapping",)),
        ("extra_files", "notes.txt", ("extra_files must be a mapping",)),
        ("extra_files", {"notes.txt": 5}, ("extra file 'notes.txt' must be bytes",)),
        ("extra_files", {7: b"x"}, ("extra file name 7",)),
    ],
)
def test_save_run_arguments(arg: str, bad: object, names: tuple[str, ...], result: BacktestResult) -> None:
    kwargs: dict[str, Any] = {"config": _config(), "result": result, arg: bad}
    _refused(lambda: rh.save_run(**kwargs), RunError, *names)
    assert rh.list_runs() == []


@pytest.mark.parametrize(
    ("call", "kind", "names"),
    [
        (lambda: rh.new_run_id(5), RunError, ("config_hash", "5")),  # type: ignore[arg-type]
        (lambda: rh.new_run_id("abc", now="2020-01-01"), RunError, ("now must be a datetime",)),  # type: ignore[arg-type]
        (lambda: rh.clean_runs(grace=math.nan), RunError, ("grace", "nan")),
        (lambda: rh.clean_runs(grace="60"), RunError, ("grace", "'60'")),  # type: ignore[arg-type]
        (lambda: rh.clean_runs(grace=-1), RunError, ("grace", ">= 0")),
        (lambda: rh.compare_runs([None, "x"]), RunError, ("run ids (strings)", "None")),
        (lambda: rh.compare_runs([["a"], ["a"]]), RunError, ("run ids (strings)",)),
        (lambda: rh.compare_runs("ab"), RunError, ("list of run ids",)),  # regression guard
        (lambda: query_runs(limit="5"), ConfigError, ("limit", "'5'")),  # type: ignore[arg-type]
        (lambda: query_runs(limit=True), ConfigError, ("limit", "True")),  # type: ignore[arg-type]
        (lambda: query_runs(limit=HUGE), ConfigError, ("limit", "401 digits")),
        (lambda: query_runs(limit=-1), ConfigError, ("limit",)),
        (lambda: rh.save_runs("runs"), RunError, ("save_runs takes a list",)),  # type: ignore[arg-type]
        (lambda: rh.save_runs(None), RunError, ("save_runs takes a list", "None")),  # type: ignore[arg-type]
        (lambda: rh.run_dir("20250101-000000-000-abcdef", must_exist=[1]), RunError, ("must_exist", "[1]")),  # type: ignore[arg-type]
        (lambda: database_url(5432), ConfigError, ("database URL must be a string", "int")),  # type: ignore[arg-type]
    ],
)
def test_run_history_arguments(call: Call, kind: type[PhiError], names: tuple[str, ...]) -> None:
    _refused(call, kind, *names)


def test_save_runs_reports_a_malformed_item_and_saves_the_others(result: BacktestResult) -> None:
    out = rh.save_runs([5, (_config(), result, None, None), (_config(), result)])  # type: ignore[list-item]
    assert isinstance(out[0], RunError) and "run 0" in str(out[0]) and "got 5" in str(out[0])
    assert isinstance(out[1], str) and rh.load_run(out[1]).config == _config()
    assert isinstance(out[2], RunError) and "run 2" in str(out[2])
    assert [r["run_id"] for r in rh.list_runs()] == [out[1]]


def test_compare_of_many_ids_fails_fast_on_the_first_missing_run() -> None:
    ids = [f"20250101-000000-000-{i:06x}" for i in range(50_000)]
    _refused(lambda: rh.compare_runs(ids), RunError, "no run")


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"save": "yes"}, ("save must be True or False", "'yes'")),
        ({"save": []}, ("save must be True or False", "[]")),
        ({"allow_data_change": np.array([True, False])}, ("allow_data_change", "numpy array")),
        ({"progress": 5}, ("progress must be a function", "5")),
        ({"progress": "print"}, ("progress must be a function",)),
    ],
)
def test_run_options_of_the_wrong_type(kwargs: dict[str, Any], names: tuple[str, ...]) -> None:
    _refused(lambda: run(_config(), **kwargs), ConfigError, *names)
    _refused(lambda: rerun("20250101-000000-000-abcdef", **kwargs), ConfigError, *names)
    assert rh.list_runs() == []


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ((BARS["close"], EngineConfig(), "sharpe"), ("ohlcv must be a DataFrame", "Series")),
        ((BARS, {"fill": "close"}, "sharpe"), ("config must be an EngineConfig",)),
        ((BARS, EngineConfig(), "sharp"), ("unknown metric 'sharp'", "Did you mean 'sharpe'")),
        ((BARS, EngineConfig(), ["sharpe"]), ("unknown metric",)),
        ((BARS, EngineConfig(), "sharpe", -1), ("warmup", "-1")),
        ((BARS, EngineConfig(), "sharpe", 2.5), ("warmup", "2.5")),
    ],
)
def test_engine_scorer_checks_its_arguments_when_made(args: tuple[Any, ...], names: tuple[str, ...]) -> None:
    """It used to take anything and fail on the first score, deep inside phiai's walk-forward."""
    _refused(lambda: engine_scorer(*args), ConfigError, *names)


def test_run_of_something_that_is_not_a_config_is_refused() -> None:
    """Regression guard: already a ConfigError before the audit."""
    _refused(lambda: run({"dataset": {"symbol": "DEMO"}}), ConfigError, "RunConfig", "dict")  # type: ignore[arg-type]
    _refused(lambda: RunConfig.from_json(123), ConfigError, "JSON text")  # type: ignore[arg-type]
    _refused(lambda: compute_signal("rsi", BARS, {"period": "14"}), ParameterError, "period")


# ---------------------------------------------------------------- CLI: long values are not echoed whole


@pytest.mark.parametrize(
    "args",
    [
        ["backtest", "DEMO", "--no-save", "--sl", "x" * 5000],
        ["backtest", "DEMO", "--no-save", "--params", "y" * 5000],
        ["backtest", "DEMO", "--no-save", "--weights", "z" * 5000],
        ["runs", "compare", "a" * 5000, "b" * 5000],
        ["runs", "compare", "a" * 5000, "a" * 5000],
        ["runs", "list", "--sort", "c" * 5000],
        ["runs", "list", "--where", "sharpe > 1 and " + "d" * 5000],
    ],
    ids=["sl", "params", "weights", "compare", "compare-twice", "sort", "where"],
)
def test_cli_error_lines_do_not_echo_a_huge_value(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(args)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert len(lines[0]) < 600 and args[-1][:100] not in lines[0], lines[0]
