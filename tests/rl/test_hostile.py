"""Hostile inputs to the RL agent and its environment: each is a one-line PhiError raised before
any training (not a torch, NumPy or pandas error after it)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import phi.rl
from phi.errors import ConfigError, DataError
from tests.ml.frames import planted


@pytest.fixture(scope="module")
def bars():
    return planted(400, seed=4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "seed must be an integer 0..4,294,967,295, got -1"),
        ({"seed": "1"}, "seed must be an integer 0..4,294,967,295, got '1'"),
        ({"episode_bars": 0}, "episode_bars must be an integer >= 2, got 0"),
        ({"episode_bars": -5}, "episode_bars must be an integer >= 2, got -5"),
        ({"risk_penalty": math.nan}, "risk_penalty must be a finite number >= 0, got nan"),
        ({"risk_penalty": -1.0}, "risk_penalty must be a finite number >= 0, got -1.0"),
        ({"random_seeds": 0}, "random_seeds must be an integer 1..1,000, got 0"),
    ],
)
def test_bad_training_arguments_are_refused_before_training(bars, kwargs, message, monkeypatch):
    from phi.rl import agent

    monkeypatch.setattr(agent, "fit_ppo", lambda *a, **k: pytest.fail("trained on bad arguments"))
    with pytest.raises(ConfigError) as err:
        phi.rl.train_agent(bars, timesteps=256, **kwargs)
    assert str(err.value) == message


def test_bad_bars_are_refused_before_training(bars, monkeypatch):
    from phi.rl import agent

    monkeypatch.setattr(agent, "fit_ppo", lambda *a, **k: pytest.fail("trained on bad bars"))
    with pytest.raises(DataError, match=r"^ohlcv index is not sorted by time; sort it first"):
        phi.rl.train_agent(bars.iloc[::-1], timesteps=256)
    with pytest.raises(DataError, match=r"^ohlcv is missing column\(s\) volume \(needs open, high, low, close, volume; "):
        phi.rl.train_agent(bars.drop(columns="volume"), timesteps=256)
    gap = bars.copy()
    gap.iloc[200, 0] = np.nan  # a missing open: the engine could not judge the agent there
    with pytest.raises(DataError) as err:
        phi.rl.train_agent(gap, timesteps=256)
    assert str(err.value) == (  # the line every entry point gives (phi.data.schema.check_bar_values)
        f"ohlcv column 'open' has 1 NaN value(s), first at {bars.index[200]} (row 200); "
        "drop or repair those rows first (df.dropna() or phi.validate_ohlcv)"
    )


def test_environment_arguments_are_checked(bars):
    with pytest.raises(ConfigError, match=r"^episode_bars must be an integer >= 2, got 1$"):
        phi.rl.TradingEnv(bars, episode_bars=1)
    with pytest.raises(ConfigError, match=r"^size_pct must be a finite number \(0, 1\], got 1.5$"):
        phi.rl.TradingEnv(bars, size_pct=1.5)
    with pytest.raises(ConfigError, match=r"^slippage_bps must be a finite number >= 0, got -2$"):
        phi.rl.TradingEnv(bars, slippage_bps=-2)


def test_observations_of_fewer_bars_than_the_lookback_are_all_nan(bars):
    obs = phi.rl.observation_matrix(bars.iloc[:5])
    assert obs.shape == (5, 13) and np.isnan(obs).all()
    with pytest.raises(ConfigError, match=r"^lookback must be an integer 1..500, got 0$"):
        phi.rl.observation_matrix(bars, lookback=0)


@pytest.fixture
def stored(bars, _isolated_phi_home):
    phi.rl.train_agent(bars, timesteps=256, random_seeds=1, save_as="good")
    return _isolated_phi_home / "models" / "good"


def _rewrite(folder, meta=None, blob=None):
    import hashlib
    import json

    m = json.loads((folder / "metadata.json").read_text())
    if blob is not None:
        (folder / "agent.zip").write_bytes(blob)
        m["files"]["agent.zip"] = hashlib.sha256(blob).hexdigest()  # consistent: not "corrupt"
    if meta is not None:
        m = meta(m)
    (folder / "metadata.json").write_text(json.dumps(m))


def test_a_zip_that_is_not_an_agent_is_a_model_error(stored):
    import io
    import zipfile

    from phi.ml.model import ModelError

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a policy")
    _rewrite(stored, blob=buf.getvalue())
    with pytest.raises(ModelError, match=r"^model 'good' cannot be loaded \(AssertionError: .*\); retrain it$"):
        phi.rl.load_agent("good")


def test_metadata_that_does_not_fit_the_policy_is_a_model_error(stored):
    from phi.ml.model import ModelError

    _rewrite(stored, meta=lambda m: {**m, "lookback": 3})
    with pytest.raises(ModelError) as err:
        phi.rl.load_agent("good")
    assert str(err.value) == (
        "model 'good': the policy reads observations of shape (13,) and takes 3 actions, not the (6,) "
        "and 3 its metadata implies; retrain it"
    )
    _rewrite(stored, meta=lambda m: {**m, "lookback": 10, "costs": {"commission_pct": float("nan")}})
    with pytest.raises(ModelError, match=r"costs\['commission_pct'\] must be a finite number >= 0, got nan\); retrain it$"):
        phi.rl.load_agent("good")


def test_negative_costs_are_refused_before_training(bars, monkeypatch):
    from phi.rl import agent

    monkeypatch.setattr(agent, "fit_ppo", lambda *a, **k: pytest.fail("trained with negative costs"))
    with pytest.raises(ConfigError, match=r"^costs\['slippage_bps'\] must be a finite number >= 0, got -5$"):
        phi.rl.train_agent(bars, timesteps=256, costs={"slippage_bps": -5})


def test_evaluate_agent_checks_its_split(bars):
    agent = phi.rl.train_agent(bars, timesteps=256, random_seeds=1)
    warm = phi.rl.observe.observation_warmup()
    for split in (0, -5, len(bars), 2.5, "x"):
        with pytest.raises(ConfigError, match=rf"^split must be an integer {warm + 2}..{len(bars) - 2}, got "):
            phi.rl.evaluate_agent(agent, bars, split, 1)
    scores = phi.rl.evaluate_agent(agent, bars, warm + 2, 1)
    assert np.isfinite(scores["test_return"])
