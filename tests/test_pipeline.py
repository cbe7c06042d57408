"""phi.run: data -> indicators -> blend -> engine -> save, and bit-for-bit re-runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import phi
from phi.backtest.engine import EngineConfig, run_backtest
from phi.backtest.run_config import BlendConfig, DatasetSpec, IndicatorConfig, RunConfig
from phi.backtest.run_history import load_run
from phi.blending.blender import blend, phiai_fit
from phi.data.store import get_dataset
from phi.errors import ConfigError, DataError, IndicatorError
from phi.indicators.registry import compute_all_signals, get_indicator
from phi.paths import runs_root
from phi.pipeline import DataChangedWarning, RunResult, engine_scorer, rerun, run

DS = DatasetSpec("DEMO", start="2021-01-01", end="2022-12-31")


def config(**changes: object) -> RunConfig:
    base = RunConfig(
        DS,
        [IndicatorConfig("rsi", {"period": 10}, weight=2.0), "macd", IndicatorConfig("cmf", enabled=False)],
        engine=EngineConfig(stop_loss_pct=0.05, take_profit_pct=0.1, allow_short=True, commission_pct=0.001),
    )
    return base.replace(**changes) if changes else base


def reseal(run_id: str, name: str) -> None:
    """Record the checksum of a file a test edited on purpose."""
    import hashlib

    results = runs_root() / run_id / "results.json"
    data = json.loads(results.read_text())
    raw = (runs_root() / run_id / name).read_bytes()
    data["checksums"][name] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    results.write_text(json.dumps(data))


def test_phi_run_is_the_pipeline() -> None:
    assert phi.run is run


def test_run_wires_every_stage_and_matches_the_parts() -> None:
    cfg = config()
    stages: list[tuple[str, float]] = []
    res = run(cfg, save=False, progress=lambda s, f: stages.append((s, f)))
    assert isinstance(res, RunResult) and res.run_id is None
    assert not runs_root().exists()
    assert [s for s, _ in stages] == ["data", "indicators", "blend", "engine", "done"]
    assert [f for _, f in stages] == sorted(f for _, f in stages) and stages[-1] == ("done", 1.0)

    # the same thing by hand, stage by stage
    ds = get_dataset("DEMO", "2021-01-01", "2022-12-31")
    signals = compute_all_signals(ds.frame, {"rsi": {"period": 10}, "macd": None})
    pd.testing.assert_frame_equal(res.signals, signals)
    blended = blend(signals, "weighted_sum", {"rsi": 2.0, "macd": 1.0})
    warm = int(np.flatnonzero(blended.notna().to_numpy())[0])
    macd_warm = get_indicator("macd").warmup(get_indicator("macd").defaults)  # the slowest of the two
    assert warm == macd_warm == res.assumptions["warmup_bars"] == res.assumptions["indicator_warmup_bars"]
    by_hand = run_backtest(ds.frame, blended, EngineConfig(
        stop_loss_pct=0.05, take_profit_pct=0.1, allow_short=True, commission_pct=0.001, warmup_bars=warm))
    assert res.metrics == by_hand.metrics or all(
        res.metrics[k] == v or (np.isnan(v) and np.isnan(res.metrics[k])) for k, v in by_hand.metrics.items()
    )
    pd.testing.assert_frame_equal(res.trades, by_hand.trades)
    assert (res.trades["entry_bar"] > warm).all()

    # the config as run records the data and the version; the ledger says synthetic
    assert res.config.dataset.content_hash == ds.content_hash
    assert res.config.replace(dataset=cfg.dataset) == cfg
    assert "SYNTHETIC" in res.assumptions["data"]
    assert res.assumptions["adjustment"] == "synthetic"
    assert "weighted_sum (rsi=2, macd=1)" in res.assumptions["blend"]


def test_saved_run_reruns_to_identical_trades_and_metrics() -> None:
    first = run(config())
    assert first.run_id and (runs_root() / first.run_id / "results.json").is_file()
    assert first.save_error is None
    again = rerun(first.run_id)
    assert again.run_id != first.run_id
    assert json.dumps(again.metrics, sort_keys=True) == json.dumps(first.metrics, sort_keys=True)
    pd.testing.assert_frame_equal(again.trades, first.trades)
    pd.testing.assert_series_equal(again.equity, first.equity)
    assert again.config == first.config


def test_rerun_refuses_changed_data_unless_allowed() -> None:
    first = run(config())
    path = runs_root() / first.run_id / "config.json"
    data = json.loads(path.read_text())
    data["dataset"]["content_hash"] = "0" * 64
    path.write_text(json.dumps(data))
    reseal(first.run_id, "config.json")  # a deliberate edit, not damage: record its checksum
    with pytest.raises(DataError, match=r"changed since this config was run .* allow_data_change=True"):
        rerun(first.run_id)
    with pytest.warns(DataChangedWarning, match="running on the new bars"):
        res = rerun(first.run_id, save=False, allow_data_change=True)
    assert res.config.dataset.content_hash == first.config.dataset.content_hash


def test_voting_and_disabled_indicators() -> None:
    res = run(config(blend=BlendConfig("voting", {"dead_zone": 0.2})), save=False)
    assert list(res.signals.columns) == ["rsi", "macd"]  # cmf is disabled
    expected = blend(res.signals, "voting", {"rsi": 2.0, "macd": 1.0}, dead_zone=0.2)
    pd.testing.assert_series_equal(res.signal, expected.rename("blend"), check_names=False)


def test_regime_weighted_uses_the_regime_engine() -> None:
    from phi.regime.blend import regime_weighted_blend
    from phi.regime.engine import RegimeEngine

    res = run(config(blend=BlendConfig("regime_weighted")), save=False)
    frame = get_dataset(DS.symbol, DS.start, DS.end, DS.timeframe, DS.vendor).frame
    probs = RegimeEngine().run(frame).regime_probs
    weights = {"rsi": 2.0, "macd": 1.0}
    from phi.regime.blend import default_regime_weights

    expected = regime_weighted_blend(res.signals, probs, default_regime_weights(["rsi", "macd"]) * pd.Series(weights))
    pd.testing.assert_series_equal(res.signal, expected, check_names=False)
    assert res.signal.notna().sum() > 300
    assert "regime engine: calibrated defaults; default regime matrix" in res.assumptions["blend"]


def test_short_range_is_a_clear_error() -> None:
    cfg = config(dataset=DatasetSpec("DEMO", start="2022-01-01", end="2022-02-15"))
    with pytest.raises(IndicatorError, match="needs more than .* bars"):
        run(cfg, save=False)
    phiai = RunConfig(DatasetSpec("DEMO", start="2022-01-01", end="2022-12-31"), ["rsi"], blend=BlendConfig("phiai", {"train_bars": 400}))
    with pytest.raises(DataError, match=r"no value on any of the \d+ bars .* phiai training 400 bars"):
        run(phiai, save=False)


def phiai_config(**params: object) -> RunConfig:
    return RunConfig(
        DatasetSpec("DEMO", start="2020-01-01", end="2022-12-31"),
        ["rsi", "macd", "dual_sma"],
        blend=BlendConfig("phiai", {"train_bars": 200, "step": 40, **params}),
        engine=EngineConfig(allow_short=True),
    )


def test_phiai_through_the_pipeline_is_walk_forward() -> None:
    res = run(phiai_config(), save=False)
    fit = res.phiai
    assert fit is not None and list(fit.train_end) == list(range(200, len(res.equity), 40))
    assert res.signal.iloc[:200].isna().all() and res.signal.iloc[200:].notna().all()
    assert res.assumptions["warmup_bars"] == 200
    assert (res.trades["entry_bar"] > 200).all()
    for end, first_applied in zip(fit.train_end, fit.weights.index, strict=True):
        assert res.equity.index[end] == first_applied
    assert "ending before the bars they apply to" in res.assumptions["blend"]


def test_engine_scorer_never_sees_the_bars_it_trades() -> None:
    """Truncation: the weights in force from bar b on are the same when every bar >= b is gone,
    and wild prices after b change nothing before b."""
    ds = get_dataset("DEMO", "2020-01-01", "2022-12-31")
    frame = ds.frame
    signals = compute_all_signals(frame, ["rsi", "macd", "dual_sma"])
    cfg = EngineConfig(allow_short=True)
    full = phiai_fit(signals, score_fn=engine_scorer(frame, cfg, "sharpe", 108), train_bars=200, step=40)
    for k in (241, 400, 600):
        part = phiai_fit(signals.iloc[:k], score_fn=engine_scorer(frame.iloc[:k], cfg, "sharpe", 108), train_bars=200, step=40)
        pd.testing.assert_frame_equal(part.weights, full.weights.loc[full.weights.index < frame.index[k]])
    wild = frame.copy()
    wild.iloc[400:] *= 1.5
    wild_fit = phiai_fit(signals, score_fn=engine_scorer(wild, cfg, "sharpe", 108), train_bars=200, step=40)
    upto = full.weights.index <= frame.index[400]
    pd.testing.assert_frame_equal(wild_fit.weights[upto], full.weights[upto])
    assert not wild_fit.weights[~upto].equals(full.weights[~upto])


def test_run_refuses_a_non_config() -> None:
    with pytest.raises(ConfigError, match="needs a RunConfig, got dict"):
        run({"dataset": {}}, save=False)  # type: ignore[arg-type]


def test_regime_weighted_runs_the_engine_with_the_configs_regime_settings() -> None:
    from phi.regime.blend import default_regime_weights, regime_weighted_blend
    from phi.regime.config import MFTConfig
    from phi.regime.engine import RegimeEngine

    settings = {"probability": {"direction_scale": 0.5}, "taxonomy": {"gate_default": 2.0}}
    res = run(config(blend=BlendConfig("regime_weighted", regime=settings)), save=True)
    frame = get_dataset(DS.symbol, DS.start, DS.end, DS.timeframe, DS.vendor).frame
    probs = RegimeEngine(MFTConfig.from_dict(settings)).run(frame).regime_probs
    assert not probs.equals(RegimeEngine().run(frame).regime_probs)
    w = default_regime_weights(["rsi", "macd"]) * pd.Series({"rsi": 2.0, "macd": 1.0})
    pd.testing.assert_series_equal(res.signal, regime_weighted_blend(res.signals, probs, w), check_names=False)
    assert "regime engine: calibrated defaults except taxonomy.gate_default=2.0, probability.direction_scale=0.5" in res.assumptions["blend"]
    # saved with the run, so a re-run reproduces it
    assert load_run(res.run_id).config.blend.regime == settings
    again = rerun(res.run_id, save=False)
    pd.testing.assert_series_equal(again.equity, res.equity)
