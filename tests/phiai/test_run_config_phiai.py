"""The ``phiai`` section of RunConfig and per-indicator ``auto_tune``: JSON, validation, phi.run."""

from __future__ import annotations

import json

import pytest

import phi
from phi.backtest.run_config import RunConfig
from phi.errors import ConfigError
from phi.phiai.config import PhiAIConfig

DATASET = {"symbol": "DEMO", "start": "2021-01-01", "end": "2023-12-31"}


def _cfg(**changes: object) -> RunConfig:
    data: dict[str, object] = {
        "dataset": DATASET,
        "indicators": [{"name": "rsi", "auto_tune": True}, "macd"],
        "phiai": {"n_trials": 6, "folds": 3, "metric": "sortino", "max_drawdown": -0.5},
        "seed": 7,
    }
    data.update(changes)
    return RunConfig.from_dict(data)


def test_json_round_trip_keeps_the_section_and_auto_tune() -> None:
    cfg = _cfg()
    back = RunConfig.from_json(cfg.to_json())
    assert back == cfg and back.config_hash() == cfg.config_hash()
    d = json.loads(cfg.to_json())
    assert d["phiai"]["metric"] == "sortino" and d["phiai"]["n_trials"] == 6
    assert d["phiai"]["sampler"] == "tpe" and d["phiai"]["holdout"] == 0.2  # defaults filled in
    assert d["indicators"][0]["auto_tune"] is True
    assert "auto_tune" not in d["indicators"][1]  # written only when set


def test_a_config_without_phiai_writes_neither_key_and_keeps_its_hash() -> None:
    plain = RunConfig.from_dict({"dataset": DATASET, "indicators": ["rsi"]})
    d = plain.to_dict()
    assert "phiai" not in d and set(d["indicators"][0]) == {"name", "params", "weight", "enabled"}
    assert plain.config_hash() == RunConfig.from_dict(d).config_hash()
    # auto_tune alone implies the section's defaults, recorded in the JSON
    implied = RunConfig.from_dict(
        {"dataset": DATASET, "indicators": [{"name": "rsi", "auto_tune": True}]}
    )
    assert implied.phiai == PhiAIConfig()
    assert implied.config_hash() != plain.config_hash()


def test_full_auto_needs_no_indicators_and_round_trips_candidates() -> None:
    cfg = _cfg(
        indicators=[],
        phiai={"full_auto": True, "candidates": ["roc", "rsi", "roc"], "max_indicators": 1},
    )
    assert cfg.phiai is not None and cfg.phiai.candidates == ("roc", "rsi")
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert json.loads(cfg.to_json())["phiai"]["candidates"] == ["roc", "rsi"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phiai": {"n_trials": 0}}, "phiai.n_trials must be an integer in [1, 100000], got 0"),
        ({"phiai": {"trials": 5}}, "phiai: unknown field 'trials'. Did you mean 'n_trials'?"),
        ({"phiai": {"metric": "sharp"}}, "phiai.metric: "),
        ({"phiai": {"sampler": "cmaes"}}, "phiai.sampler: "),
        ({"phiai": {"scheme": "expanding"}}, "phiai.scheme: "),
        ({"phiai": {"holdout": 0.95}}, "phiai.holdout must be in [0, 0.9], got 0.95"),
        ({"phiai": {"max_drawdown": 0.3}}, "phiai.max_drawdown must be in [-1, 0], got 0.3"),
        ({"phiai": {"folds": 1}}, "phiai.folds must be an integer in [2, 50], got 1"),
        ({"phiai": {"full_auto": "yes"}}, "phiai.full_auto must be true or false, got 'yes'"),
        ({"phiai": {"candidates": ["rsi"]}}, "phiai.candidates is only used with phiai.full_auto"),
        (
            {"phiai": {"full_auto": True, "candidates": ["rsii"]}},
            "phiai.candidates[0]: unknown indicator 'rsii'",
        ),
        (
            {"phiai": {"full_auto": True}},
            "indicators[0].auto_tune: phiai.full_auto chooses the indicators itself",
        ),
        ({"phiai": [1]}, "phiai must be an object (a mapping), got [1]"),
        (
            {"indicators": [{"name": "rsi", "auto_tune": "yes"}]},
            "indicators[0].auto_tune must be true or false",
        ),
        ({"indicators": ["rsi"]}, "phiai: no enabled indicator has auto_tune: true"),
        (
            {"indicators": [{"name": "rsi", "auto_tune": True, "enabled": False}, "macd"]},
            "phiai: no enabled indicator",
        ),
        ({"mode": "options"}, "phiai tunes equities runs only, not mode 'options'"),
    ],
)
def test_bad_sections_are_one_line_naming_the_field(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        _cfg(**changes)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_full_auto_refuses_a_blend_it_cannot_weight() -> None:
    with pytest.raises(ConfigError, match=r"set blend.mode to weighted_sum, not 'voting'"):
        _cfg(indicators=["rsi"], phiai={"full_auto": True}, blend={"mode": "voting"})


def test_phi_run_tunes_reproducibly_and_saves_the_report(tmp_path: object) -> None:
    from phi.backtest.run_history import run_dir

    cfg = _cfg()
    res = phi.run(cfg, save=True)
    assert res.run_id is not None and res.tuning is not None
    ran = res.config
    assert ran is not None and ran.phiai == cfg.phiai
    tuned = res.tuning["tuning"]["rsi"]["best_params"]
    assert (
        ran.indicators[0].params == tuned and ran.indicators[1].params == cfg.indicators[1].params
    )
    assert [i.weight for i in ran.indicators] == [1.0, 1.0]  # weights stay the config's
    assert ran.engine.warmup_bars > 0  # the metrics are the hold-out's
    saved = json.loads((run_dir(res.run_id) / "tuning.json").read_text())
    assert saved == json.loads(json.dumps(res.tuning))
    again = phi.run(cfg, save=False)  # same seed, same bars: same trials, parameters, metrics
    assert again.config == ran and again.metrics == res.metrics
    assert again.tuning == res.tuning
    rerun = phi.run(ran, save=False)  # the config as run re-runs to the same figures
    assert rerun.metrics == res.metrics


def test_full_auto_run_scores_exactly_the_reported_hold_out() -> None:
    cfg = _cfg(
        indicators=[],
        phiai={
            "full_auto": True,
            "candidates": ["macd", "dual_sma", "ema_crossover"],
            "max_indicators": 2,
            "n_trials": 5,
            "folds": 3,
        },
    )
    res = phi.run(cfg, save=False)
    assert res.config is not None and res.tuning is not None
    chosen = [r["name"] for r in res.tuning["selection"] if r["chosen"]]
    assert [i.name for i in res.config.enabled_indicators] == [
        n for n in chosen if res.config.weights.get(n)
    ]
    assert res.metrics["n_trades"] > 0
    for key in ("sharpe", "total_return", "n_trades", "max_drawdown"):
        assert res.metrics[key] == pytest.approx(res.tuning["holdout"][key], rel=1e-12)
