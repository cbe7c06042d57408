"""``RegimeEngine.run``'s front fed block by block, and the features left for first access.

``run`` z-scores only the features the taxonomy reads (:func:`phi.regime.engine.z_columns`),
turns each block of bars into sticky logits and feeds them straight to the fused probability
pass (:class:`phi.regime.fused.FusedPass`), so the logits of all bars never exist at once. These
tests hold that path to the whole-array composition (features -> normalise -> gate ->
node_logits -> field_weights_mix) on frames longer than one logit block: the features bit for
bit; the probabilities to 1e-12, because the energies' matrix product then runs over the read
features only (23 of 26 terms, the others' weights being zero), which BLAS may sum in another
order (measured: logits move by at most ~1 ulp). A bar's values never depend on the bars after
it (cut inside a block: identical).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from phi.regime.config import MFTConfig, feature_names, level_names
from phi.regime.engine import RegimeEngine, z_columns
from phi.regime.experts import expert_signal_array
from phi.regime.features import normalise_array, raw_feature_array
from phi.regime.fused import FusedPass, field_weights_mix
from phi.regime.levels import VOLUME_FEATURES, level_features, volume_gate
from phi.regime.taxonomy import _BLOCK, energy_matrix, level_matrix, node_logits
from tests.conftest import make_ohlcv
from tests.indicators import frames


def _whole(df, cfg: MFTConfig):  # type: ignore[no-untyped-def]
    """The pipeline on whole arrays, every feature z-scored (the composition run replaces)."""
    names = feature_names(cfg.features)
    raw = raw_feature_array(df, cfg.features)
    z = normalise_array(raw, cfg.features)
    direction = (raw if cfg.probability.direction_raw else z)[:, names.index(cfg.probability.direction_feature)].copy()
    gate = volume_gate(df, cfg.levels)
    for f in VOLUME_FEATURES:
        z[:, names.index(f)] *= gate
    lv = level_features(df, cfg.levels).to_numpy()
    beta = level_matrix(cfg.levels.energy, level_names(cfg.levels))
    _, logits = node_logits(z, cfg.taxonomy, names, lv, beta)
    s = expert_signal_array(df, list(cfg.experts.validity))
    vz, gz = z[:, names.index("volume_zscore")], z[:, names.index("gap_score")]
    return z, field_weights_mix(logits, direction, s, vz, gz, cfg)


CONFIGS = {"calibrated": MFTConfig(), "reference": MFTConfig.reference()}


@pytest.mark.parametrize("cfg_name", list(CONFIGS))
def test_run_equals_the_whole_array_pipeline_across_blocks(cfg_name: str) -> None:
    cfg = CONFIGS[cfg_name]
    df = make_ohlcv(2 * _BLOCK + 300, 31)
    res = RegimeEngine(cfg).run(df)
    z, (node_p, regimes, weights, mixed) = _whole(df, cfg)
    k = res.warmup
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(res.features.to_numpy(), z.astype(np.float32))
        # the levels and the gate read the raw features' log returns: the same as their own
        np.testing.assert_array_equal(res.levels.to_numpy(), level_features(df, cfg.levels).to_numpy().astype(np.float32))
    np.testing.assert_array_equal(res.volume_gate.to_numpy(), volume_gate(df, cfg.levels))
    for got, want in ((res.node_probs, node_p), (res.regime_probs, regimes), (res.weights, weights), (res.mix, mixed)):
        tol = 1e-12 if want.dtype == np.float64 else 1e-7  # node_probs and weights are float32
        np.testing.assert_allclose(got.to_numpy()[k:], want[k:], rtol=tol, atol=tol)
    # and bars cut inside the second block give the same values on every bar they keep
    cut = _BLOCK + 1234
    part = RegimeEngine(cfg).run(df.iloc[:cut])
    for name in ("features", "node_probs", "regime_probs", "weights", "mix", "levels"):
        np.testing.assert_array_equal(getattr(part, name).to_numpy(), getattr(res, name).to_numpy()[:cut], err_msg=name)


def test_unread_features_are_z_scored_on_first_access_like_the_others() -> None:
    """The features the taxonomy does not read are left out of run's z-scores (their energy
    weights are all zero) and filled in on first access with the same values; a volume
    feature among them gets the volume gate too."""
    cfg = MFTConfig()
    names = feature_names(cfg.features)
    read, unread = z_columns(cfg)
    alpha = energy_matrix(cfg.taxonomy, names)
    assert sorted(read + unread) == sorted(names) and unread  # the default config leaves some out
    for f in unread:
        assert not alpha[names.index(f)].any() and f not in ("volume_zscore", "gap_score")
    # a config whose taxonomy no longer reads a volume feature: that one is left out too
    mass = names.index("mass")
    energy = {lvl: {node: {f: w for f, w in ws.items() if f != "mass"} for node, ws in nodes.items()}
              for lvl, nodes in cfg.taxonomy.energy.items()}
    corr = {lvl: {node: {f: w for f, w in ws.items() if f != "mass"} for node, ws in nodes.items()}
            for lvl, nodes in cfg.taxonomy.energy_correction.items()}
    msl = [{node: {f: w for f, w in ws.items() if f != "mass"} for node, ws in t.items()}
           for t in (cfg.taxonomy.msl_kingdom, cfg.taxonomy.msl_class)]
    tax = dataclasses.replace(cfg.taxonomy, energy=energy, energy_correction=corr, msl_kingdom=msl[0], msl_class=msl[1])
    no_mass = dataclasses.replace(cfg, taxonomy=tax)
    assert "mass" in z_columns(no_mass)[1]
    df = frames.zero_volume(900)
    df["volume"] = make_ohlcv(900, 4)["volume"].to_numpy()  # volume that moves with nothing: gate ~0
    df2 = make_ohlcv(900, 4)
    for c, d in ((cfg, df2), (no_mass, df2), (no_mass, df)):
        res = RegimeEngine(c).run(d)
        z, _ = _whole(d, c)
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(res.features.to_numpy(), z.astype(np.float32))
        assert res.features is res.features  # built once
    assert np.isfinite(res.features.to_numpy()[res.warmup :, mass]).all()


def test_fused_pass_fed_in_blocks_equals_one_pass() -> None:
    from phi.regime._fused_nb import BLOCK

    rng = np.random.default_rng(8)
    n = 5 * BLOCK + 37
    logits = rng.normal(0.0, 2.0, (n, 28))
    d, vz, gz = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    s = np.clip(rng.normal(0.0, 0.6, (n, 11)), -1.0, 1.0)
    cfg = MFTConfig()
    whole = field_weights_mix(logits, d, s, vz, gz, cfg)
    fp = FusedPass(n, d, s, vz, gz, cfg)
    for a, b in ((0, BLOCK), (BLOCK, 3 * BLOCK), (3 * BLOCK, n)):
        fp.add(logits[a:b], a)
    for got, want in zip(fp.outputs, whole, strict=True):
        np.testing.assert_array_equal(got, want)
