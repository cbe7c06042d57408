"""MFTConfig: MFT.md's defaults (union of the energy blocks), exact file round trips, clear errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from phi.errors import ConfigError
from phi.regime import tables
from phi.regime.calibration import KINGDOM_SMOOTHING
from phi.regime.config import (
    FeatureConfig,
    MFTConfig,
    TaxonomyConfig,
    feature_names,
    load_config,
    save_config,
    to_toml,
)
from phi.regime.taxonomy import LEVEL_NODES, LEVELS, energy_matrix


def test_energy_table_is_the_union_of_both_blocks() -> None:
    e = MFTConfig().taxonomy.energy
    # the 1st blocks (discarded by the reference's duplicate YAML keys) and the 2nd, together
    assert e["kingdom"]["DIR"]["drift_tscore_30"] == 0.40 and e["kingdom"]["DIR"]["ofi_proxy"] == 0.25
    assert e["kingdom"]["NDR"]["er_30"] == -0.35 and e["kingdom"]["NDR"]["absorption_score"] == 0.20
    assert e["kingdom"]["TRN"]["entropy"] == 0.25 and e["kingdom"]["TRN"]["d_mass_dt"] == -0.15
    assert e["phylum"]["LV"] == {
        "rv_30": -0.50, "true_range": -0.30, "volume_zscore": -0.20, "rv_delta": -0.15,
        "mass": 0.20, "absorption_score": 0.25,
    }  # fmt: skip
    assert e["class"]["PT"]["drift_tscore_60"] == 0.50 and e["class"]["PT"]["d_mass_dt"] == -0.15
    assert e["class"]["BR"]["median_cross"] == 0.40 and e["class"]["BR"]["mass"] == 0.15
    assert e["class"]["SR"]["rv_delta"] == 0.45 and e["class"]["SR"]["d_lambda"] == 0.15
    assert e["class"]["RB"]["gap_score"] == 0.25 and e["class"]["RB"]["ofi_proxy"] == 0.15
    assert e["genus"]["RUN"]["drift_tscore_30"] == 0.50 and e["genus"]["RUN"]["d_mass_dt"] == -0.20
    assert e["genus"]["VWM"]["volume_zscore"] == 0.40 and e["genus"]["VWM"]["mass"] == 0.15
    assert e["genus"]["RRO"]["median_cross"] == 0.40 and e["genus"]["RRO"]["absorption_score"] == 0.20
    assert e["genus"]["FLG"]["er_60"] == 0.30 and e["genus"]["FLG"]["d_mass_dt"] == 0.15
    assert set(e) == set(LEVELS) and all(set(e[lvl]) == set(LEVEL_NODES[lvl]) for lvl in LEVELS)


def test_other_mft_defaults() -> None:
    cfg = MFTConfig.reference()
    t = cfg.taxonomy
    assert t.smoothing == {"kingdom": 0.10, "phylum": 0.12, "class": 0.15, "order": 0.18, "family": 0.20, "genus": 0.22}
    assert t.gate_steepness == {"d_mass_dt": 2.0, "d_lambda": 1.5, "mass": 1.0, "ofi_proxy": 1.2, "dissipation_proxy": 1.3}
    assert t.msl_kingdom_scale == 0.8 and t.temperature == dict.fromkeys(LEVELS, 1.0)
    f = cfg.features
    assert (f.drift, f.vol, f.er, f.robust_norm, f.volume_z, f.entropy, f.entropy_bins) == ((15, 30, 60), (30, 120), (30, 60, 120), 60, 200, 30, 10)
    c = cfg.confidence
    assert (c.epsilon, c.affinity_blend, c.interaction_alpha, c.liquidity_volume_scale) == (1e-8, 0.5, 0.7, 0.5)
    assert cfg.projection.regimes["BREAKOUT_DN"] == {"mu": -0.5, "phi": 0.95, "beta": 0.2, "sigma": 0.25}
    # energy alpha = table + 0.8 * MSL: DIR's er_60 comes only from the MSL matrix (0.8 * 0.8)
    names = feature_names(f)
    alpha = energy_matrix(t, names)
    assert alpha[names.index("er_60"), 0] == pytest.approx(0.64)
    assert alpha[names.index("drift_tscore_30"), 0] == pytest.approx(0.40)


def test_calibrated_default_differs_from_the_reference_only_in_calibration() -> None:
    cal, ref = MFTConfig(), MFTConfig.reference()
    assert cal.taxonomy.energy == ref.taxonomy.energy and cal.features == ref.features
    assert cal.levels.energy and not ref.levels.energy and not ref.taxonomy.energy_correction
    assert cal.taxonomy.temperature != ref.taxonomy.temperature
    assert cal.taxonomy.vol_free_direction and not ref.taxonomy.vol_free_direction
    # the kingdom's sticky rate is calibrated; the reference keeps MFT.md's rates
    assert cal.taxonomy.smoothing["kingdom"] == KINGDOM_SMOOTHING != ref.taxonomy.smoothing["kingdom"]
    assert ref.taxonomy.smoothing == tables.SMOOTHING
    assert dataclasses.replace(
        cal,
        levels=ref.levels,
        taxonomy=ref.taxonomy,
        probability=ref.probability,
        confidence=ref.confidence,
    ) == ref


@pytest.mark.parametrize("suffix", [".json", ".toml"])
@pytest.mark.parametrize("which", ["calibrated", "reference"])
def test_save_load_round_trip_is_exact(tmp_path: Path, suffix: str, which: str) -> None:
    cfg = MFTConfig() if which == "calibrated" else MFTConfig.reference()
    path = save_config(cfg, tmp_path / f"mft{suffix}")
    assert load_config(path) == cfg
    assert MFTConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_partial_file_keeps_defaults(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text("[features]\nrobust_norm = 90\n\n[taxonomy.temperature]\nkingdom = 0.5\nphylum = 1\nclass = 1\norder = 1\nfamily = 1\ngenus = 1\n")
    cfg = load_config(p)
    assert cfg.features.robust_norm == 90 and cfg.features.drift == (15, 30, 60)
    assert cfg.taxonomy.temperature["kingdom"] == 0.5 and cfg.taxonomy.energy == MFTConfig().taxonomy.energy


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    j = tmp_path / "d.json"
    j.write_text('{"features": {"robust_norm": 60, "robust_norm": 90}}')
    with pytest.raises(ConfigError, match="key 'robust_norm' is given twice"):
        load_config(j)
    t = tmp_path / "d.toml"
    t.write_text("[taxonomy.energy.kingdom.DIR]\ner_30 = 0.3\ner_30 = 0.5\n")
    with pytest.raises(ConfigError, match="invalid TOML .*duplicate keys"):
        load_config(t)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"featurs": {}}, r"config: unknown key 'featurs'\. Did you mean 'features'\?"),
        ({"features": {"robust_nrom": 5}}, r"config\.features: unknown key 'robust_nrom'\. Did you mean 'robust_norm'\?"),
        ({"features": {"robust_norm": "60"}}, r"config\.features\.robust_norm must be an integer, got str '60'"),
        ({"features": {"robust_norm": 6.5}}, r"must be an integer, got 6\.5"),
        ({"features": {"drift": [15, 1]}}, r"features\.drift must be distinct windows >= 2 bars"),
        ({"features": {"vol": [30]}}, r"features\.vol must be exactly two windows"),
        ({"features": {"entropy_min": 50}}, r"features\.entropy_min \(50\) must not exceed features\.entropy \(30\)"),
        ({"taxonomy": {"smoothing": {"kingdom": 0.1}}}, r"taxonomy\.smoothing has no value for level\(s\) phylum, class"),
        ({"taxonomy": {"smoothing": {**dict.fromkeys(LEVELS, 0.1), "kingdom": 1.5}}}, r"taxonomy\.smoothing\.kingdom must be in \(0, 1\]"),
        ({"taxonomy": {"temperature": {"kingdom": 0.0}}}, r"taxonomy\.temperature has no value for level|must be > 0"),
        ({"taxonomy": {"energy": {"kingdom": {"DIR": {}}}}}, r"taxonomy\.energy\.kingdom has no table for node\(s\) NDR, TRN"),
        ({"taxonomy": {"bias": {"DIRR": 1.0}}}, r"taxonomy\.bias: unknown key 'DIRR'\. Did you mean 'DIR'\?"),
        ({"taxonomy": {"gate_steepness": {"er_31": 1.0}}}, r"references feature 'er_31'.*Did you mean 'er_30'\?"),
        ({"features": {"er": [20, 60, 120]}}, r"references feature 'er_30', which the feature windows do not produce"),
        ({"probability": {"direction_raw": 1}}, r"probability\.direction_raw must be true or false"),
        ({"probability": {"direction_feature": "drift"}}, r"probability\.direction_feature: unknown feature 'drift'"),
        ({"confidence": {"affinity_blend": 2}}, r"confidence\.affinity_blend must be in \[0, 1\]"),
        ({"confidence": {"field_entropy": "level"}}, r"Did you mean 'levels'\?"),
        ({"experts": {"validity": {"rsi": ["DIR.*.XX"]}}}, r"experts\.validity\.rsi: .*'XX' is not a class"),
        ({"experts": {"interaction": {"macd:rsi": 1.5}}}, r"experts\.interaction\.macd:rsi must be in \[-1, 1\]"),
        ({"projection": {"regimes": {"TREND_UP": {"mu": 0.3}}}}, r"projection\.regimes\.TREND_UP is missing phi, beta, sigma"),
        ({"features": []}, r"config\.features must be a table/mapping, got list"),
    ],
)
def test_bad_values_are_clear_config_errors(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MFTConfig.from_dict(data)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"suffix '\.yaml'; use \.json or \.toml"):
        load_config(tmp_path / "x.yaml")
    with pytest.raises(ConfigError, match="cannot read regime config"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "b.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigError, match="invalid JSON"):
        load_config(bad)
    unknown = tmp_path / "u.toml"
    unknown.write_text("[scanner]\nmin_bars = 300\n")
    with pytest.raises(ConfigError, match=r"u\.toml: config: unknown key 'scanner'"):
        load_config(unknown)


def test_toml_writer_quotes_keys() -> None:
    text = to_toml({"a": {"macd:rsi": 0.3, "b": [1, 2]}, "c": True})
    assert '"macd:rsi" = 0.3' in text and "b = [1, 2]" in text and "c = true" in text


def test_direct_construction_validates() -> None:
    with pytest.raises(ConfigError):
        FeatureConfig(robust_norm=0)
    with pytest.raises(ConfigError):
        TaxonomyConfig(smoothing={"kingdom": 0.1})


def test_overrides_are_the_settings_that_differ_and_rebuild_the_config() -> None:
    from phi.regime.config import overrides

    assert overrides(MFTConfig()) == {}
    ref = MFTConfig.reference()
    diff = overrides(ref)
    # the reference differs from the calibrated default exactly in the calibration settings
    assert set(diff) == {"levels", "taxonomy", "probability", "confidence"}
    assert diff["taxonomy"]["temperature"] == {lvl: 1.0 for lvl in LEVELS}  # a table is given whole
    assert diff["levels"] == {"energy": {}}
    assert diff["probability"] == {"direction_scale": 1.0, "direction_raw": False, "dominant_margin": 0.0}
    assert MFTConfig.from_dict(diff) == ref
    assert overrides(ref, base=ref) == {}
    assert overrides(MFTConfig(), base=ref)["probability"] == {
        "direction_scale": MFTConfig().probability.direction_scale, "direction_raw": True, "dominant_margin": 0.1
    }
