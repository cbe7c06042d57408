"""Every public function that takes bars accepts the same frames and refuses the same ones with
the same line (phi.data.schema.conform_ohlcv): before, run_backtest took ``Close`` or numbers as
text while compute_signal, batch_signals, the phiai blend, the tuner and the regime engine
refused them (and compute_signal silently read one of two close columns). The ML classifier,
the RL agent and Plutus had checks of their own: train_classifier and walk_forward_signal failed
on ``Close`` with a KeyError, the agent refused it as "missing", a second close column or text
that is not a number reached NumPy, and Plutus formatted numbers held as text, hashed NaN into
its prompt and read one of two close columns. The regime engine's expert signals, level
features, volume gate, evaluation baselines and ex-post labels and the options' GEX join read
``df["close"]`` directly (a KeyError on ``Close``, text concatenated into nonsense)."""

from __future__ import annotations

import functools
import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from phi.backtest._inputs import check_bars
from phi.backtest.engine import run_backtest, run_backtest_many
from phi.backtest.portfolio import run_portfolio
from phi.blending.blender import blend
from phi.data.schema import OHLCV_COLUMNS, conform_ohlcv
from phi.errors import DataError, EngineError, OHLCVError
from phi.indicators.batch import batch_inputs, batch_signals
from phi.indicators.registry import compute_all_signals, compute_raw, compute_signal
from phi.ml.features import build_features
from phi.ml.indicator import walk_forward_signal
from phi.ml.model import DataMismatchError, MLModel, data_fingerprint
from phi.ml.train import train_classifier
from phi.options.chains import OptionChain, load_chain
from phi.options.gex import gex_regime_inputs
from phi.options.simulator import run_options_backtest
from phi.phiai.tuner import PhiAITuner
from phi.plutus.advice import Advice
from phi.plutus.advisor import PlutusAdvisor
from phi.plutus.prompt import build_messages, ohlcv_brief, plutus_bars
from phi.plutus.signals import plutus_decisions
from phi.regime.engine import RegimeEngine
from phi.regime.evaluate import baselines, score
from phi.regime.experts import expert_signal_array, expert_signals
from phi.regime.families import Labelled, ex_post_labels
from phi.regime.levels import level_features, log_returns, volume_gate
from phi.rl.agent import RLAgent, evaluate_agent, train_agent
from phi.rl.env import TradingEnv
from phi.rl.observe import agent_bars, observation_matrix

N = 300


def _bars(n: int = N, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = c * np.exp(rng.normal(0, 0.003, n))
    h = np.maximum(o, c) * (1 + rng.uniform(0, 0.01, n))
    lo = np.minimum(o, c) * (1 - rng.uniform(0, 0.01, n))
    v = rng.uniform(1e5, 2e5, n).round()
    idx = pd.date_range("2015-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": v}, index=idx)


BASE = _bars()
#: Whole-number bars (OHLC-consistent) for the int variant
WHOLE = BASE.round().astype("int64").assign(
    high=lambda d: d[["open", "high", "close"]].max(axis=1),
    low=lambda d: d[["open", "low", "close"]].min(axis=1),
)


def _sig(df: pd.DataFrame) -> np.ndarray:
    return np.sign(np.sin(np.arange(len(df)) / 7.0))


def _signals(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"a": _sig(df), "b": -_sig(df)}, index=df.index)


def _classifier(df: pd.DataFrame) -> MLModel:
    """A logistic regression on 300 bars (the Wyckoff features, one fold: well under a second)."""
    return train_classifier(df, model="lr", folds=1, holdout=0.3, feature_set="wyckoff")


@functools.cache
def _model() -> MLModel:
    return _classifier(BASE)


@functools.cache
def _agent() -> RLAgent:
    return train_agent(BASE, timesteps=256, random_seeds=1)


def _trained(m: MLModel) -> np.ndarray:
    return np.r_[m.cv_scores[["accuracy", "log_loss", "auc"]].to_numpy().ravel(), m.holdout_scores["accuracy"],
                 m.holdout_scores["auc"], int(m.fingerprint[:12], 16)]  # fmt: skip


def _scores(scores: dict[str, Any]) -> np.ndarray:
    return np.array([v for v in scores.values() if not isinstance(v, list)], dtype=float)


def _episode(df: pd.DataFrame) -> np.ndarray:
    """Rewards and equity of 60 alternating long/flat steps of the environment."""
    env = TradingEnv(df)
    env.reset()
    out = [env.step(1 + k % 2)[1:5:3] for k in range(60)]
    return np.array([(r, info["equity"]) for r, info in out])


class _Echo(PlutusAdvisor):
    """No server: a BUY whose reasoning is the digest of the prompt (so prompts are compared)."""

    def __init__(self) -> None:
        pass

    def ask(self, messages: list[dict[str, str]]) -> Advice:
        digest = hashlib.sha256(messages[-1]["content"].encode()).hexdigest()
        return Advice("BUY", 0.7, digest, "", "")


#: the regime's labels as numbers (None: NaN), to compare label arrays
_CODES = {"up": 1, "down": -1, "range": 0, "low": -1, "normal": 0, "high": 1,
          "TREND_UP": 1, "TREND_DN": 2, "RANGE": 3, "HIGHVOL": 4, "LOWVOL": 5}  # fmt: skip
#: experts read by the regime engine: close only (rsi, macd), high/low/close/volume (cmf), local
_EXPERTS = ["rsi", "macd", "cmf", "vol_profile_dev"]


def _codes(labels: Any) -> np.ndarray:
    return pd.Series(labels, dtype=object).map(_CODES).to_numpy(dtype=float)


def _ex_post(df: pd.DataFrame) -> np.ndarray:
    lab = ex_post_labels(df, horizon=10)
    return np.r_[_codes(lab.direction), _codes(lab.vol), lab.ohlcv["close"].to_numpy()]


def _baselines(df: pd.DataFrame) -> np.ndarray:
    b = baselines(df)
    return np.c_[b[["er30", "rv_pct", "momentum"]].to_numpy(), _codes(b["dominant"])]


@functools.cache
def _truth() -> tuple[np.ndarray, np.ndarray]:
    lab = ex_post_labels(BASE, horizon=10)
    return lab.direction, lab.vol


def _score(df: pd.DataFrame) -> np.ndarray:
    """The harness's figures of the bars labelled as BASE is (the Labelled built by hand)."""
    return np.array(list(score(Labelled(df, *_truth(), "real"), skip=0).values()))


@functools.cache
def _chain() -> OptionChain:
    """A chain (two strikes either side, one 30-day expiry) on BASE's last 40 days, loaded."""
    rows = []
    for ts, close in BASE["close"].iloc[-40:].items():
        expiry = (ts + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
        for i, k in enumerate(np.round(close * np.array([0.95, 0.98, 1.02, 1.05]))):
            for kind in ("call", "put"):
                rows.append((ts.strftime("%Y-%m-%d"), expiry, k, kind, 1.0, 1.1, 0.2, 500 + 100 * i, close))
    cols = ["date", "expiry", "strike", "kind", "bid", "ask", "iv", "open_interest", "underlying"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.csv"
        pd.DataFrame(rows, columns=cols).to_csv(path, index=False)
        return load_chain(path)


def _gex(df: pd.DataFrame) -> np.ndarray:
    out = gex_regime_inputs(df, _chain())
    return out.drop(columns="gex_date").to_numpy(dtype=float)


#: entry point -> a function of the bars returning numbers (or text) to compare
ENTRY_POINTS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "run_backtest": lambda df: run_backtest(df, _sig(df)).equity.to_numpy(),
    "run_backtest_many": lambda df: run_backtest_many(df, np.stack([_sig(df), -_sig(df)], 1)).to_numpy(),
    "compute_signal": lambda df: compute_signal("rsi", df).to_numpy(),
    "compute_signal_volume": lambda df: compute_signal("cmf", df).to_numpy(),
    "compute_raw": lambda df: compute_raw("adx", df).to_numpy(),
    "compute_all_signals": lambda df: compute_all_signals(df, ["rsi", "stochastic"]).to_numpy(),
    "batch_signals": lambda df: batch_signals("rsi", df, [{"period": 5}, {"period": 14}]),
    "blend_phiai": lambda df: blend(_signals(df), "phiai", ohlcv=df, train_bars=100, step=50).to_numpy(),
    "PhiAITuner": lambda df: PhiAITuner(df, candidates=["rsi"], folds=2)
    .tune_indicator("rsi", n_trials=4, sampler="random")
    .trials[["period", "is_score", "oos_score", "trades"]]
    .to_numpy(),
    "RegimeEngine": lambda df: RegimeEngine().run(df).regime_probs.to_numpy(),
    "expert_signals": lambda df: expert_signals(df, _EXPERTS).to_numpy(),
    "expert_signal_array": lambda df: expert_signal_array(df, _EXPERTS),
    "level_features": lambda df: level_features(df).to_numpy(),
    "log_returns": lambda df: log_returns(df),
    "volume_gate": lambda df: volume_gate(df),
    "baselines": _baselines,
    "ex_post_labels": _ex_post,
    "evaluate.score": _score,
    "gex_regime_inputs": _gex,
    "run_options_backtest": lambda df: run_options_backtest(df, _sig(df)).equity.to_numpy(),
    "run_portfolio": lambda df: run_portfolio({"A": df}, pd.DataFrame({"A": 0.5}, index=df.index)).equity.to_numpy(),
    "build_features": lambda df: build_features(df, "wyckoff").to_numpy(),
    "train_classifier": lambda df: _trained(_classifier(df)),
    "walk_forward_signal": lambda df: walk_forward_signal(df, "lr", 1, 60, 20, "wyckoff").to_numpy(),
    "MLModel.predict_proba": lambda df: _model().predict_proba(df).to_numpy(),
    "observation_matrix": lambda df: observation_matrix(df),
    "TradingEnv": _episode,
    "train_agent": lambda df: _scores(train_agent(df, timesteps=256, random_seeds=1).scores),
    "evaluate_agent": lambda df: _scores(evaluate_agent(_agent(), df, 200, 1)),
    "RLAgent.backtest": lambda df: _agent().backtest(df).equity.to_numpy(),
    "ohlcv_brief": ohlcv_brief,
    "build_messages": lambda df: build_messages(df)[1]["content"],
    "PlutusAdvisor.advise": lambda df: _Echo().advise(df).reasoning,
    "plutus_decisions": lambda df: plutus_decisions(df, _Echo(), every=9)[0]["reasoning"].tolist(),
}

#: variant -> (the frame given, the lower-case float64 frame it stands for, worked by hand)
ACCEPTED: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {
    "Title-case": (BASE.rename(columns=str.title), BASE),
    "UPPER-case": (BASE.rename(columns=str.upper), BASE),
    "spaced names": (BASE.rename(columns=lambda c: f" {c.title()} "), BASE),
    "numbers as text": (BASE.map(lambda x: repr(float(x))).astype(object), BASE),  # repr round-trips
    "numbers as str dtype": (BASE.map(lambda x: repr(float(x))).astype("str"), BASE),
    "int64": (WHOLE, WHOLE.astype("float64")),
    "float32": (BASE.astype("float32"), BASE.astype("float32").astype("float64")),
    "nullable Float64": (BASE.astype("Float64"), BASE),
    "extra columns kept": (BASE.assign(symbol="X", Adj_Close=1.0), BASE),
}


def _refused() -> dict[str, tuple[pd.DataFrame, str]]:
    at9, at7 = BASE.index[9], BASE.index[7]
    text = BASE.astype({"close": object})
    text.iloc[7, 3] = "101,5"
    nan, inf = BASE.copy(), BASE.copy()
    nan.iloc[9, 3] = np.nan
    inf.iloc[9, 3] = np.inf
    return {
        "close and Close": (BASE.assign(Close=BASE["close"]), "ohlcv has two 'close' columns ('close' and 'Close'); keep one"),
        "close twice": (pd.concat([BASE, BASE[["close"]]], axis=1), "ohlcv has two 'close' columns ('close' and 'close'); keep one"),
        "non-numeric text": (
            text,
            f"ohlcv column 'close' holds a value that is not a number, '101,5', at {at7} (row 7); "
            "convert or drop it first (pd.to_numeric)",
        ),
        "no close": (BASE.drop(columns="close"), "ohlcv is missing column(s) close (needs "),
        "NaN close": (nan, f"ohlcv column 'close' has 1 NaN value(s), first at {at9} (row 9); drop or repair"),
        "inf close": (inf, f"ohlcv column 'close' has 1 NaN/infinite value(s), first at {at9} (row 9); drop"),
        "bool close": (BASE.assign(close=BASE["close"] > 100), "ohlcv column 'close' holds booleans (dtype bool), not numbers"),
        "datetime close": (BASE.assign(close=BASE.index), "ohlcv column 'close' holds datetime64"),
    }


REFUSED = _refused()
_EXPECTED: dict[str, Any] = {}


def _expected(entry: str) -> Any:
    if entry not in _EXPECTED:
        _EXPECTED[entry] = ENTRY_POINTS[entry](BASE)
    return _EXPECTED[entry]


@pytest.mark.parametrize("variant", list(ACCEPTED))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_takes_what_run_backtest_takes(entry: str, variant: str) -> None:
    given, means = ACCEPTED[variant]
    want = _expected(entry) if means is BASE else ENTRY_POINTS[entry](means)
    got = ENTRY_POINTS[entry](given)
    if isinstance(want, str | list):  # Plutus: the prompts' text
        assert got == want
    else:
        np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float))


#: The regime's level kernels read a missing close as a gap (NaN returns, by design: their
#: reference tests have gaps); their names and types are checked like everyone's
_GAPS = ("level_features", "log_returns", "volume_gate")
_REFUSALS = [(e, v) for e in ENTRY_POINTS for v in REFUSED if not (e in _GAPS and v in ("NaN close", "inf close"))]


@pytest.mark.parametrize(("entry", "variant"), _REFUSALS)
def test_every_entry_point_refuses_the_same_frames_in_the_same_line(entry: str, variant: str) -> None:
    given, message = REFUSED[variant]
    if entry == "run_portfolio":
        message = message.replace("ohlcv", "bars['A']", 1)
    with pytest.raises(OHLCVError) as err:
        ENTRY_POINTS[entry](given)
    text = str(err.value)
    assert text.startswith(message) and "\n" not in text
    assert isinstance(err.value, DataError) and isinstance(err.value, EngineError)  # old excepts hold


def test_numbers_as_text_are_read_as_typed() -> None:
    df = pd.DataFrame(
        {"Open": ["101.5", " 99 "], "HIGH": ["102", "100.25"], "low": [100, 98], "Close": ["1e2", "99.5"]},
        index=pd.date_range("2024-01-01", periods=2, tz="UTC"),
    )
    out = conform_ohlcv(df)
    assert list(out.columns) == ["open", "high", "low", "close"]
    assert out.to_numpy().tolist() == [[101.5, 102.0, 100.0, 100.0], [99.0, 100.25, 98.0, 99.5]]
    assert (out.dtypes == np.float64).all()
    assert list(df.columns) == ["Open", "HIGH", "low", "Close"] and df["Open"].iloc[0] == "101.5"  # untouched


def test_a_bad_volume_is_refused_only_where_volume_is_read() -> None:
    df = BASE.astype({"volume": object})
    df.iloc[4, 4] = "1.2M"
    np.testing.assert_array_equal(compute_signal("rsi", df).to_numpy(), _expected("compute_signal"))
    np.testing.assert_array_equal(run_backtest(df, _sig(df)).equity.to_numpy(), _expected("run_backtest"))
    with pytest.raises(OHLCVError, match=r"^ohlcv column 'volume' holds a value that is not a number, '1.2M', at "):
        compute_signal("cmf", df)


def test_a_conforming_frame_is_not_copied() -> None:
    df = _bars(500)
    close = df["close"].to_numpy()
    assert conform_ohlcv(df, OHLCV_COLUMNS) is df
    assert np.shares_memory(check_bars(df)[3], close)  # the engine's arrays
    assert np.shares_memory(batch_inputs("rsi", df)["close"], close)  # batch signals' inputs
    tuner = PhiAITuner(df, candidates=["rsi", "cmf"], folds=2)
    assert tuner.ohlcv is df and tuner.evaluator.ohlcv is df
    tuner.evaluator.prepare("rsi")
    assert np.shares_memory(tuner.evaluator._inputs["rsi"]["close"], close)
    # a frame that only needs renaming keeps its columns' memory too
    titled = df.rename(columns=str.title)
    assert np.shares_memory(conform_ohlcv(titled)["close"].to_numpy(), close)


def test_a_converted_frame_keeps_its_index_and_attrs() -> None:
    df = BASE.astype("float32").rename(columns=str.upper)
    df.attrs["exchange_tz"] = "America/New_York"
    out = conform_ohlcv(df, OHLCV_COLUMNS)
    assert out.index.equals(df.index) and out.attrs == df.attrs
    assert df.dtypes.eq(np.float32).all()  # the caller's frame is left as it was


#: Conform-level refusals (names and types): a fingerprint compares values, it does not judge them
_UNHASHABLE = [v for v in REFUSED if v not in ("NaN close", "inf close")]


@pytest.mark.parametrize("variant", list(ACCEPTED))
def test_the_data_fingerprint_reads_the_frame_as_every_entry_point(variant: str) -> None:
    given, means = ACCEPTED[variant]
    assert data_fingerprint(given) == data_fingerprint(means)
    if means is BASE:  # the model trained on BASE recognises its bars whatever their spelling
        _model().check_data(given)


@pytest.mark.parametrize("variant", _UNHASHABLE)
def test_the_data_fingerprint_refuses_the_same_frames_in_the_same_line(variant: str) -> None:
    given, message = REFUSED[variant]
    for check in (data_fingerprint, _model().check_data):
        with pytest.raises(OHLCVError) as err:
            check(given)
        assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_nan_close_is_other_bars_to_the_fingerprint() -> None:
    nan = BASE.copy()
    nan.iloc[9, 3] = np.nan
    assert data_fingerprint(nan) != data_fingerprint(BASE)
    with pytest.raises(DataMismatchError):
        _model().check_data(nan)


def test_agent_and_plutus_bars_are_not_copied() -> None:
    df = _bars(500)
    assert agent_bars(df) is df and plutus_bars(df) is df
    titled = df.rename(columns=str.title)
    assert np.shares_memory(agent_bars(titled)["open"].to_numpy(), df["open"].to_numpy())


def test_a_frame_without_time_stamps_is_one_line_where_stamps_are_read() -> None:
    flat = BASE.reset_index(drop=True)
    message = "ohlcv needs a DatetimeIndex (the bars' time stamps), got RangeIndex; "
    for entry in ("train_classifier", "MLModel.predict_proba", "train_agent", "ohlcv_brief", "plutus_decisions"):
        with pytest.raises(OHLCVError) as err:
            ENTRY_POINTS[entry](flat)
        assert str(err.value).startswith(message), entry
    np.testing.assert_array_equal(observation_matrix(flat), observation_matrix(BASE))  # stamps not read


def test_the_regime_tolerates_a_missing_open_high_low_or_volume_where_it_did() -> None:
    """As RegimeEngine.run: NaN in open/high/low/volume is a missing print, not refused; what
    reads only closes gives BASE's numbers (worked out: those columns are not read)."""
    gap = BASE.rename(columns=str.title)
    gap.iloc[150, [0, 1, 2, 4]] = np.nan
    for entry in ("level_features", "log_returns", "baselines", "ex_post_labels"):
        np.testing.assert_array_equal(ENTRY_POINTS[entry](gap), _expected(entry), err_msg=entry)
    closes_only = ["rsi", "macd"]
    np.testing.assert_array_equal(expert_signals(gap, closes_only), expert_signals(BASE, closes_only))
    gate = volume_gate(gap)  # an absent volume: the gate is defined, not refused
    assert gate.shape == (N,) and np.isfinite(gate[60:]).all()
    assert np.isfinite(RegimeEngine().run(gap).regime_probs.iloc[-1]).all()


def test_a_missing_close_is_a_gap_to_the_level_kernels() -> None:
    gap = BASE.rename(columns=str.title)
    gap.iloc[9, 3] = np.nan
    want = _expected("log_returns").copy()
    want[[9, 10]] = np.nan  # ln(c9 / c8) and ln(c10 / c9): the two returns the gap touches
    np.testing.assert_array_equal(log_returns(gap), want)
    assert level_features(gap).shape == (N, len(level_features(BASE).columns))


def test_what_reads_only_closes_takes_a_frame_of_closes() -> None:
    closes = BASE[["close"]].rename(columns=str.upper)
    for entry in ("level_features", "log_returns", "baselines", "gex_regime_inputs"):
        np.testing.assert_array_equal(ENTRY_POINTS[entry](closes), _expected(entry), err_msg=entry)
    np.testing.assert_array_equal(expert_signal_array(closes, ["rsi"]), expert_signal_array(BASE, ["rsi"]))
    with pytest.raises(OHLCVError, match=r"^ohlcv is missing column\(s\) high, low, volume \(needs high, low, close, volume;"):
        expert_signals(closes, ["rsi", "cmf"])
