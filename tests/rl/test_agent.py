"""PPO: beats a random policy on the untouched split of a planted pattern, reproducible,
stored and reloaded, its trades through the engine."""

from __future__ import annotations

import numpy as np
import pytest

import phi.rl
from phi.errors import ConfigError
from phi.ml.model import ModelError
from phi.ml.store import list_models
from tests.ml.frames import planted


@pytest.fixture(scope="module")
def bars():
    return planted(1500, seed=1)


@pytest.fixture(scope="module")
def agents(bars):
    return [phi.rl.train_agent(bars, timesteps=2048, seed=s, random_seeds=5) for s in range(3)]


def test_beats_a_random_policy_on_the_test_split(agents):
    for a in agents:
        s = a.scores
        assert len(s["random_test_returns"]) == 5
        assert s["test_return"] > s["random_test_return"], s
    assert np.mean([a.scores["test_return"] for a in agents]) > 0.05


def test_trades_go_through_the_engine(agents, bars):
    a = agents[0]
    split = a.data["split"]
    res = a.backtest(bars, split)
    assert res.metrics["total_return"] == pytest.approx(a.scores["test_return"])
    assert len(res.trades) > 0 and (res.trades["entry_time"] > bars.index[split]).all()
    sig = a.signal(bars, split)
    assert set(np.unique(sig)) <= {-1.0, 0.0, 1.0} and (sig.iloc[:split] == 0).all()
    assert res.assumptions["fill_timing"]


def test_same_seed_same_agent(bars, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # SB3's default logger wrote here
    a = phi.rl.train_agent(bars.iloc[:800], timesteps=1024, seed=4, random_seeds=1)
    b = phi.rl.train_agent(bars.iloc[:800], timesteps=1024, seed=4, random_seeds=1)
    np.testing.assert_array_equal(a.actions(bars), b.actions(bars))
    assert a.scores == b.scores
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith("SB3-")]
    assert left == []  # no SB3-<time> folder left in the temporary directory


def test_store_round_trip_and_corrupt_file(agents, bars, _isolated_phi_home):
    from phi.rl.store import save_agent

    save_agent(agents[0], "ppo0")
    back = phi.rl.load_agent("ppo0")
    np.testing.assert_array_equal(back.actions(bars), agents[0].actions(bars))
    assert back.scores == agents[0].scores
    assert [(m["name"], m["kind"]) for m in list_models()] == [("ppo0", "rl_agent")]
    card = (_isolated_phi_home / "models" / "ppo0" / "card.md").read_text()
    assert "random policy" in card and "test split (untouched)" in card
    blob = _isolated_phi_home / "models" / "ppo0" / "agent.zip"
    blob.write_bytes(blob.read_bytes()[:100])
    with pytest.raises(ModelError, match="corrupt"):
        phi.rl.load_agent("ppo0")


def test_bad_arguments(bars):
    with pytest.raises(ConfigError, match="timesteps"):
        phi.rl.train_agent(bars, timesteps=10)
    with pytest.raises(ConfigError, match="too few"):
        phi.rl.train_agent(bars.iloc[:150], timesteps=512)
    with pytest.raises(ConfigError, match="cost preset"):
        phi.rl.train_agent(bars, timesteps=512, costs="cheap")
