"""RunConfig: exact JSON round trip, one-line errors naming the field path, stable hash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phi.backtest.engine import EngineConfig
from phi.backtest.run_config import (
    ABSENT,
    SCHEMA_VERSION,
    BlendConfig,
    DatasetSpec,
    IndicatorConfig,
    RunConfig,
    config_diff,
)
from phi.errors import ConfigError


def full_config() -> RunConfig:
    return RunConfig(
        dataset=DatasetSpec("DEMO", "demo", "1D", "2021-01-01", "2022-06-30", content_hash="ab" * 32),
        indicators=[
            IndicatorConfig("rsi", {"period": 10}, weight=2.0),
            IndicatorConfig("macd", {"fast": 8}),
            IndicatorConfig("bollinger", {"nbdev": 2.5}, enabled=False),
        ],
        blend=BlendConfig("voting", {"dead_zone": 0.1}),
        engine=EngineConfig(initial_capital=50_000.0, stop_loss_pct=0.03, take_profit_pct=0.06, allow_short=True),
        seed=7,
        description="a test run",
        tags=("demo", "voting"),
    )


def test_round_trip_is_exact_both_ways() -> None:
    cfg = full_config()
    text = cfg.to_json()
    back = RunConfig.from_json(text)
    assert back == cfg
    assert back.to_json() == text
    assert back.config_hash() == cfg.config_hash()


def test_defaults_are_filled_in_and_params_resolved() -> None:
    cfg = RunConfig(DatasetSpec("demo"), ["rsi", {"name": "macd", "params": {"fast": 8}}])
    assert cfg.dataset.symbol == "DEMO"
    assert cfg.dataset.start == "2020-01-01" and cfg.dataset.end == "2024-12-31"
    assert cfg.indicators[0].params == {"period": 14}
    assert cfg.indicators[1].params == {"fast": 8, "slow": 26, "signal": 9}
    assert cfg.schema_version == SCHEMA_VERSION
    assert cfg.engine == EngineConfig()
    assert cfg.selection == {"rsi": {"period": 14}, "macd": {"fast": 8, "slow": 26, "signal": 9}}
    assert cfg.weights == {"rsi": 1.0, "macd": 1.0}
    assert BlendConfig("phiai").params == {"train_bars": 252, "step": 21, "window": "expanding", "metric": "sharpe"}


def test_sections_accept_plain_dicts_and_dates() -> None:
    import datetime as dt

    cfg = RunConfig(
        {"symbol": "DEMO", "start": dt.date(2021, 3, 4), "end": "2021-12-31"},
        ["rsi"],
        blend={"mode": "weighted_sum"},
        engine={"initial_capital": 5000},
    )
    assert cfg.dataset.start == "2021-03-04"
    assert cfg.engine.initial_capital == 5000.0


def test_config_hash_ignores_labels_and_data_hash_but_not_content() -> None:
    cfg = full_config()
    same = cfg.replace(description="other", tags=("x",), phi_version="9.9.9").with_content_hash("cd" * 32)
    assert same.config_hash() == cfg.config_hash()
    assert cfg.replace(seed=8).config_hash() != cfg.config_hash()
    changed = cfg.replace(engine=EngineConfig(initial_capital=50_001.0))
    assert changed.config_hash() != cfg.config_hash()
    assert len(cfg.config_hash()) == 64


def base_dict() -> dict:
    return json.loads(full_config().to_json())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["engine"].update(initial_capital=-5), r"^engine\.initial_capital must be > 0, got -5"),
        (lambda d: d["engine"].update(initial_capital="5"), r"^engine\.initial_capital must be a finite number, got '5'"),
        (lambda d: d["engine"].update(stop_loss=0.1), r"^engine: unknown field 'stop_loss'\. Did you mean 'stop_loss_pct'\?"),
        (lambda d: d["dataset"].update(start="2023-01-01"), r"^dataset\.start 2023-01-01 is after dataset\.end 2022-06-30; swap them"),
        (lambda d: d["dataset"].update(end="31/31/2022"), r"^dataset\.end is not a date: '31/31/2022'"),
        (lambda d: d["dataset"].update(symbol=5), r"^dataset\.symbol must be a string, got 5"),
        (lambda d: d["dataset"].update(symbol="../etc"), r"^dataset\.symbol: symbol '\.\./etc'"),
        (lambda d: d["dataset"].update(vendor="yahooo"), r"^dataset\.vendor: unknown vendor 'yahooo'"),
        (lambda d: d["dataset"].update(timeframe="2H"), r"^dataset\.timeframe: unknown timeframe '2H'"),
        (lambda d: d["dataset"].update(path="x.csv"), r"^dataset\.path is only used by vendor 'csv'"),
        (lambda d: d["dataset"].update(content_hash="XYZ"), r"^dataset\.content_hash must be a lower-case hex digest"),
        (lambda d: d["dataset"].pop("symbol"), r"^dataset\.symbol is missing"),
        (lambda d: d["indicators"][1].update(name="rsx"), r"^indicators\[1\]\.name: unknown indicator 'rsx'\. Did you mean 'rsi'\?"),
        (lambda d: d["indicators"][0]["params"].update(period=1), r"^indicators\[0\]\.params: rsi: parameter 'period' = 1 is out of range"),
        (lambda d: d["indicators"][0]["params"].update(perod=3), r"^indicators\[0\]\.params: rsi: unknown parameter 'perod'"),
        (lambda d: d["indicators"][0].update(weight="2"), r"^indicators\[0\]\.weight must be a number, got '2'"),
        (lambda d: d["indicators"][0].update(enabled="yes"), r"^indicators\[0\]\.enabled must be true or false"),
        (lambda d: d["indicators"][0].update(colour="red"), r"^indicators\[0\]: unknown field 'colour'"),
        (lambda d: d["indicators"].append({"name": "rsi"}), r"^indicators\[3\]\.name: 'rsi' is already indicators\[0\]"),
        (lambda d: d.update(indicators=[]), r"^indicators: enable at least one indicator"),
        (lambda d: d.update(indicators="rsi"), r"^indicators must be a list"),
        (lambda d: [i.update(weight=0.0) for i in d["indicators"]], r"^indicators: every enabled indicator has weight 0"),
        (lambda d: d["blend"].update(mode="votng"), r"^blend\.mode: unknown blend mode 'votng'\. Did you mean 'voting'\?"),
        (lambda d: d["blend"].update(params={"dead_zone": 1.0}), r"^blend\.params\.dead_zone must be in \[0, 1\), got 1\.0"),
        (lambda d: d["blend"].update(params={"train_bars": 5}), r"^blend\.params: 'train_bars' is not a setting of mode 'voting'"),
        (lambda d: d["blend"].update(mode="phiai", params={}), r"^indicators\[0\]\.weight: blend mode 'phiai' sets weights"),
        (lambda d: d["blend"].update(regime_weights={"trend": {"rsi": 1}}), r"^blend\.regime_weights is only used by mode 'regime_weighted'"),
        (lambda d: d.update(seed=-1), r"^seed must be >= 0, got -1"),
        (lambda d: d.update(seed=1.5), r"^seed must be an integer, got 1\.5"),
        (lambda d: d.update(tags="demo"), r"^tags must be a list of strings"),
        (lambda d: d.update(seed=2**63), r"^seed must be <= 9223372036854775807, got 9223372036854775808$"),
        (lambda d: d.update(description="x" * 2001), r"^description is 2,001 characters long; at most 2,000 are allowed$"),
        (lambda d: d.update(tags=["t"] * 33), r"^tags: 33 tags given; at most 32 are allowed$"),
        (lambda d: d.update(tags=["t" * 65]), r"^tags\[0\] is 65 characters long; at most 64 are allowed$"),
        (lambda d: d["indicators"][0].update(weight=10**400), r"^indicators\[0\]\.weight must be finite, got an integer of about 401 digits$"),
        (lambda d: d["indicators"][0].update(weight="w" * 10_000), r"^indicators\[0\]\.weight must be a number, got 'w{20,60}\.\.\.w+'$"),
        (lambda d: d["dataset"].update(start="0000-01-01"), r"^dataset\.start '0000-01-01' is outside the dates Phi-nance accepts"),
        (lambda d: d["dataset"].update(end="2300-01-01"), r"^dataset\.end '2300-01-01' is outside the dates Phi-nance accepts"),
        (lambda d: d.update(schema_version=2), r"^schema_version 2 is newer than this phi understands \(1\); upgrade phi"),
        (lambda d: d.update(api_key="secret"), r"^unknown config field 'api_key'"),
        (lambda d: d.pop("dataset"), r"^dataset is missing from the config"),
    ],
)
def test_bad_configs_are_one_line_errors_naming_the_field(edit, message: str) -> None:
    d = base_dict()
    edit(d)
    with pytest.raises(ConfigError, match=message) as info:
        RunConfig.from_json(json.dumps(d))
    assert "\n" not in str(info.value)


def test_bad_json_and_wrong_top_level() -> None:
    with pytest.raises(ConfigError, match=r"config is not valid JSON: .* line 1 column"):
        RunConfig.from_json("{not json")
    with pytest.raises(ConfigError, match=r"nested too deeply"):
        RunConfig.from_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match=r"4300 digits"):
        RunConfig.from_json('{"seed": 1' + "0" * 5000 + "}")
    with pytest.raises(ConfigError, match=r"^seed must be <= \d+, got an integer of about 5,001 digits$"):
        RunConfig(DatasetSpec("DEMO"), ["rsi"], seed=10**5000)
    with pytest.raises(ConfigError, match=r"config must be an object"):
        RunConfig.from_json("[1, 2]")


def test_phiai_and_regime_settings_validate() -> None:
    ds = DatasetSpec("DEMO")
    cfg = RunConfig(ds, ["rsi", "macd"], blend=BlendConfig("phiai", {"metric": "sortino", "window": "rolling"}))
    assert cfg.blend.params["metric"] == "sortino"
    with pytest.raises(ConfigError, match=r"blend\.params\.metric: unknown metric 'sharp'\. Did you mean 'sharpe'\?"):
        BlendConfig("phiai", {"metric": "sharp"})
    with pytest.raises(ConfigError, match=r"blend\.params\.train_bars must be >= 2, got 1"):
        BlendConfig("phiai", {"train_bars": 1})
    rw = BlendConfig("regime_weighted", regime_weights={"TREND_UP": {"macd": 2.0}})
    assert RunConfig(ds, ["rsi", "macd"], blend=rw).blend.regime_weights == {"TREND_UP": {"macd": 2.0}}
    with pytest.raises(ConfigError, match=r"blend\.regime_weights\.TREND_UP: 'macdd' is not an enabled indicator\. Did you mean 'macd'\?"):
        RunConfig(ds, ["rsi", "macd"], blend=BlendConfig("regime_weighted", regime_weights={"TREND_UP": {"macdd": 1}}))
    # a regime the engine does not have: refused with the config, before any bar is read
    with pytest.raises(ConfigError, match=r"^blend\.regime_weights: 'TREND_UPP' is not a regime\. Did you mean 'TREND_UP'\? The regimes: TREND_UP, "):
        BlendConfig("regime_weighted", regime_weights={"TREND_UPP": {"macd": 1}})


def test_csv_needs_a_path() -> None:
    with pytest.raises(ConfigError, match=r"dataset\.path is required for vendor 'csv'"):
        DatasetSpec("MINE", vendor="csv")
    assert DatasetSpec("my file", vendor="csv", path="/tmp/x.csv").symbol == "my file"


def test_no_secret_reaches_the_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "SECRET-KEY-123")
    cfg = RunConfig(DatasetSpec("AAPL", vendor="alpha_vantage"), ["rsi"])
    assert "SECRET-KEY-123" not in cfg.to_json()


def test_config_diff_lists_paths_with_both_values() -> None:
    a = full_config()
    b = a.replace(
        engine=EngineConfig(initial_capital=50_000.0, stop_loss_pct=0.05, take_profit_pct=0.06, allow_short=True),
        indicators=[*a.indicators, IndicatorConfig("cmf")],
    )
    diff = config_diff(a, b)
    assert ("engine.stop_loss_pct", 0.03, 0.05) in diff
    assert ("indicators[3].name", ABSENT, "cmf") in diff
    assert all(len(row) == 3 for row in diff)
    assert config_diff(a, a) == []
    # a type change (1 vs 1.0 is not the same JSON) is a difference too
    assert config_diff({"x": 1}, {"x": 1.0}) == [("x", 1, 1.0)]


@settings(max_examples=30, deadline=None)
@given(
    capital=st.floats(1.0, 1e9, allow_nan=False),
    sl=st.none() | st.floats(0.001, 1.0),
    thr=st.floats(0.0, 1.0),
    period=st.integers(2, 50),
    weight=st.floats(0.01, 100.0),
    seed=st.integers(0, 2**31),
    desc=st.text(max_size=30),
)
def test_round_trip_property(capital, sl, thr, period, weight, seed, desc) -> None:
    cfg = RunConfig(
        DatasetSpec("DEMO"),
        [IndicatorConfig("rsi", {"period": period}, weight=weight), "macd"],
        engine=EngineConfig(initial_capital=capital, stop_loss_pct=sl, entry_threshold=thr, exit_threshold=0.0),
        seed=seed,
        description=desc,
    )
    back = RunConfig.from_json(cfg.to_json())
    assert back == cfg
    assert back.config_hash() == cfg.config_hash()


def test_regime_engine_settings_are_validated_and_stored_as_overrides() -> None:
    from phi.regime.config import MFTConfig

    ds = DatasetSpec("DEMO")
    default_scale = MFTConfig().probability.direction_scale
    given = {"probability": {"direction_scale": 2.5}, "confidence": {"trade_floor": MFTConfig().confidence.trade_floor}}
    cfg = RunConfig(ds, ["rsi", "macd"], blend=BlendConfig("regime_weighted", regime=given))
    # settings equal to the defaults are dropped: only what differs is stored
    assert cfg.blend.regime == {"probability": {"direction_scale": 2.5}}
    assert cfg.blend.regime_config().probability.direction_scale == 2.5 != default_scale
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert cfg.to_dict()["blend"]["regime"] == {"probability": {"direction_scale": 2.5}}
    plain = RunConfig(ds, ["rsi", "macd"], blend=BlendConfig("regime_weighted"))
    assert "regime" not in plain.to_dict()["blend"]  # configs without settings keep their hash
    assert plain.config_hash() != cfg.config_hash()
    assert RunConfig(ds, ["rsi", "macd"], blend=BlendConfig("regime_weighted", regime={})).config_hash() == plain.config_hash()
    assert plain.blend.regime_config() == MFTConfig()
    assert ("blend.regime.probability.direction_scale", 2.5, "<absent>") in config_diff(cfg, plain)


@pytest.mark.parametrize(
    ("mode", "regime", "message"),
    [
        ("regime_weighted", {"probability": {"direction_scal": 1}}, r"^blend\.regime\.probability: unknown key 'direction_scal'\. Did you mean 'direction_scale'\?"),
        ("regime_weighted", {"probability": {"direction_scale": "x"}}, r"^blend\.regime\.probability\.direction_scale must be a number, got str 'x'"),
        ("regime_weighted", {"features": {"vol": [30]}}, r"^blend\.regime\.features\.vol must be exactly two windows"),
        ("regime_weighted", "fast", r"^blend\.regime must be an object"),
        ("voting", {"probability": {"direction_scale": 2.0}}, r"^blend\.regime \(regime engine settings\) is only used by mode 'regime_weighted', not 'voting'"),
    ],
)
def test_bad_regime_engine_settings_are_one_line_errors(mode: str, regime: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        BlendConfig(mode, regime=regime)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- mode / options


def options_config() -> RunConfig:
    from phi.options.config import OptionsConfig

    return full_config().replace(
        mode="options",
        options=OptionsConfig(
            structure="iron_condor", dte=30, strike_rule="delta", delta=(0.3, 0.1), skew=0.5,
            bid_ask_haircut=0.02, profit_target_pct=None, roll_dte=7, contracts=3,
        ),
    )  # fmt: skip


def test_options_mode_round_trips_exactly() -> None:
    cfg = options_config()
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg and again.to_json() == cfg.to_json()
    assert again.options is not None and again.options.delta == (0.3, 0.1)
    assert again.options.profit_target_pct is None and again.options.contracts == 3
    assert again.config_hash() == cfg.config_hash()
    # the options section decides the result: it is part of the hash
    assert cfg.config_hash() != full_config().replace(mode="options").config_hash()
    assert cfg.config_hash() != full_config().config_hash()


def test_options_mode_accepts_a_plain_dict_and_fills_defaults() -> None:
    from phi.options.config import OptionsConfig

    d = json.loads(full_config().to_json())
    d.update(mode="options", options={"structure": "straddle", "moneyness": [0.0, 0.1]})
    cfg = RunConfig.from_dict(d)
    assert cfg.options == OptionsConfig(structure="straddle", moneyness=(0.0, 0.1))
    assert full_config().replace(mode="options").options == OptionsConfig()


def test_an_equities_config_writes_no_mode_so_old_hashes_hold() -> None:
    d = json.loads(full_config().to_json())
    assert "mode" not in d and "options" not in d
    assert RunConfig.from_dict({**d, "mode": "equities"}) == full_config()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mode": "option"}, r"^mode: unknown mode 'option'\. Did you mean 'options'\?"),
        ({"mode": 3}, r"^mode: unknown mode 3"),
        ({"options": {"dte": 30}}, r"^options is only used by mode 'options', not 'equities'"),
        ({"mode": "options", "options": [1]}, r"^options must be an object"),
        ({"mode": "options", "options": {"dtee": 30}}, r"^options: unknown field 'dtee'\. Did you mean 'dte'\?"),
        ({"mode": "options", "options": {"dte": 0}}, r"^options\.dte must be between 1 and 3650"),
        ({"mode": "options", "options": {"dte": "45"}}, r"^options\.dte must be a number"),
        ({"mode": "options", "options": {"structure": "condor"}}, r"^options\.structure: unknown structure 'condor'"),
        ({"mode": "options", "options": {"delta": [0.1, 0.3]}}, r"^options\.delta must be \(near, far\)"),
        ({"mode": "options", "options": {"bid_ask_haircut": 1.5}}, r"^options\.bid_ask_haircut must be in \[0, 1\)"),
    ],
)
def test_bad_mode_or_options_is_a_one_line_error(change: dict, message: str) -> None:
    d = json.loads(full_config().to_json())
    d.update(change)
    with pytest.raises(ConfigError, match=message) as info:
        RunConfig.from_json(json.dumps(d))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "line"),
    [
        # a numpy scalar is named as the number it holds (was "got np.float32(nan)")
        ("size_pct", "float32 nan", "EngineConfig.size_pct must be a finite number, got nan"),
        ("initial_capital", "float64 -1", "EngineConfig.initial_capital must be > 0, got -1.0"),
        ("warmup_bars", "float64 2.5", "EngineConfig.warmup_bars must be an integer, got 2.5"),
    ],
)
def test_a_numpy_scalar_in_a_message_is_shown_as_a_plain_number(field, value, line) -> None:
    import numpy as np

    kind, text = value.split()
    with pytest.raises(ConfigError) as info:
        EngineConfig(**{field: getattr(np, kind)(text)})
    assert str(info.value) == line
