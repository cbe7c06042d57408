"""RegimeEngine: proper distributions, bounds, warm-up, no look-ahead, taxonomy, mixer, projections."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from phi.data.demo import generate_demo
from phi.errors import ConfigError, DataError
from phi.regime.config import MFTConfig
from phi.regime.engine import RegimeEngine, RegimeResult, engine_warmup
from phi.regime.mixer import MIX_COLUMNS, mix
from phi.regime.probability_field import Field
from phi.regime.projections import project
from phi.regime.taxonomy import (
    GROUPS,
    LEVEL_NODES,
    LEVELS,
    NODES,
    REGIMES,
    SPECIES,
    match_pattern,
)
from tests.conftest import make_ohlcv
from tests.indicators import frames

ENGINE = RegimeEngine()


@pytest.fixture(scope="module")
def result() -> RegimeResult:
    return ENGINE.run(make_ohlcv(600, 11))


def after(df: pd.DataFrame, k: int) -> np.ndarray:
    return df.to_numpy()[k:]


# ---------------------------------------------------------------------------- taxonomy


def test_species_table_counts() -> None:
    assert len(NODES) == 28 and len(SPECIES) == 28 and len(GROUPS) == 8
    base = pd.Series([s.regime for s in SPECIES]).value_counts().to_dict()
    assert base == {"TREND": 8, "RANGE": 9, "BREAKOUT": 6, "EXHAUST_REV": 5}
    tags = pd.Series([s.vol_tag for s in SPECIES]).value_counts().to_dict()
    assert tags == {"LOWVOL": 8, "HIGHVOL": 8, "": 12}
    kingdoms = pd.Series([s.path[0] for s in SPECIES]).value_counts().to_dict()
    assert kingdoms == {"DIR": 11, "NDR": 10, "TRN": 7}
    # the vol tag is the phylum
    assert all((s.vol_tag == "LOWVOL") == (s.path[1] == "LV") for s in SPECIES)
    assert all((s.vol_tag == "HIGHVOL") == (s.path[1] == "HV") for s in SPECIES)


def test_validity_patterns() -> None:
    ids = lambda mask: [s.id for s, m in zip(SPECIES, mask, strict=True) if m]  # noqa: E731
    assert ids(match_pattern("S13")) == ["S13"]
    assert len(ids(match_pattern("NDR"))) == 10
    assert ids(match_pattern("DIR.*.TE")) == ["S03", "S08", "S11"]
    assert ids(match_pattern("TRN.HV")) == ["S27", "S28"]
    assert len(ids(match_pattern("HIGHVOL"))) == 8
    with pytest.raises(ValueError, match="'XX' is not a class"):
        match_pattern("DIR.*.XX")


# ---------------------------------------------------------------------------- distributions and bounds


def test_outputs_have_the_documented_shape(result: RegimeResult) -> None:
    n = 600
    assert list(result.regime_probs.columns) == list(REGIMES)
    assert list(result.mix.columns) == list(MIX_COLUMNS)
    assert list(result.node_probs.columns) == list(NODES) and list(result.logits.columns) == list(NODES)
    assert result.species_probs.shape == (n, 28) and result.features.shape == (n, 26)
    assert list(result.signals.columns) == list(result.weights.columns) == list(MFTConfig().experts.validity)
    assert set(result.projections) == {"expected", "variance"}
    assert result.warmup == engine_warmup() == ENGINE.warmup


def test_probabilities_sum_to_one_and_no_nan_after_warmup(result: RegimeResult) -> None:
    k = result.warmup
    for frame in (result.regime_probs, result.species_probs, result.node_probs, result.mix, result.weights, result.features):
        assert np.isfinite(after(frame, k)).all()
    for frame in (result.regime_probs, result.species_probs, result.node_probs, result.mix, result.weights):
        assert frame.iloc[:k].isna().all().all()
    np.testing.assert_allclose(after(result.regime_probs, k).sum(axis=1), 1.0, atol=1e-9)
    # species, node probabilities and log-probabilities are stored as float32 (7 digits)
    np.testing.assert_allclose(after(result.species_probs, k).sum(axis=1), 1.0, atol=1e-6)
    lp = result.node_log_probs.iloc[k:].astype(np.float64)
    for members in GROUPS.values():  # every sibling group (classes conditional on the kingdom)
        np.testing.assert_allclose(np.exp(lp[list(members)]).sum(axis=1), 1.0, atol=1e-6)
    for lvl in LEVELS:  # marginals: each level, classes included, sums to 1
        np.testing.assert_allclose(result.node_probs.iloc[k:][list(LEVEL_NODES[lvl])].sum(axis=1), 1.0, atol=1e-6)
    p = after(result.regime_probs, k)
    assert (p >= 0).all() and (p <= 1).all()


def test_eight_bins_are_a_partition(result: RegimeResult) -> None:
    """LOWVOL = P(LV), HIGHVOL = P(HV), the six state bins share P(NV): no double counting."""
    k = result.warmup
    rp, npb = result.regime_probs.iloc[k:], result.node_probs.iloc[k:]
    npb = npb.astype(np.float64)  # node probabilities are stored as float32: 7 digits
    np.testing.assert_allclose(rp["LOWVOL"], npb["LV"], atol=1e-7)
    np.testing.assert_allclose(rp["HIGHVOL"], npb["HV"], atol=1e-7)
    states = rp[["TREND_UP", "TREND_DN", "RANGE", "BREAKOUT_UP", "BREAKOUT_DN", "EXHAUST_REV"]].sum(axis=1)
    np.testing.assert_allclose(states, npb["NV"], atol=1e-7)
    # the state shares come from the species' paths without their phylum factor
    lp = result.node_log_probs.iloc[k:].astype(np.float64)
    paths = np.column_stack(
        [sum(lp[n].to_numpy() for i, n in enumerate(s.path) if i != 1) for s in SPECIES]
    )
    w = np.exp(paths - paths.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    trend = w[:, [i for i, s in enumerate(SPECIES) if s.regime == "TREND"]].sum(axis=1)
    np.testing.assert_allclose(rp["TREND_UP"] + rp["TREND_DN"], npb["NV"] * trend, atol=1e-6)


def test_public_outputs_float64_internals_float32(result: RegimeResult) -> None:
    """What the blender, the Regime view and ``phi regime`` read stays float64; the wide
    internals are float32 (half the memory on long histories)."""
    for frame in (result.regime_probs, result.mix):
        assert (frame.dtypes == np.float64).all()
    assert result.volume_gate.dtype == np.float64
    for frame in (result.raw_features, result.features, result.levels, result.energy, result.logits, result.node_log_probs,
                  result.node_probs, result.species_probs, result.signals, result.weights, result.expected,
                  result.variance):
        assert (frame.dtypes == np.float32).all()


def test_bounds(result: RegimeResult) -> None:
    k = result.warmup
    m = result.mix.iloc[k:]
    assert (m["composite"].abs() <= 1).all() and (m["score"].abs() <= 1).all()
    for c in ("c_field", "c_consensus", "c_liquidity", "confidence"):
        assert ((m[c] >= 0) & (m[c] <= 1)).all(), c
    w = after(result.weights, k)
    assert (w >= 0).all() and (w <= 2).all()
    assert (after(result.expected, k) >= -1).all() and (after(result.expected, k) <= 1).all()
    assert (after(result.variance, k) >= 0).all()


# ---------------------------------------------------------------------------- causality


@pytest.mark.parametrize("cut", [140, 233, 377, 599])
def test_truncation_gives_identical_outputs(cut: int) -> None:
    """Running on the first k bars gives the values the whole frame gives at those bars."""
    df = make_ohlcv(600, 12)
    full, part = ENGINE.run(df), ENGINE.run(df.iloc[:cut])
    for name in ("features", "logits", "node_probs", "species_probs", "regime_probs", "signals", "weights", "mix", "expected", "variance"):
        np.testing.assert_array_equal(getattr(part, name).to_numpy(), getattr(full, name).to_numpy()[:cut], err_msg=name)


def test_future_bars_change_nothing_before() -> None:
    df = make_ohlcv(400, 13)
    other = df.copy()
    other.iloc[300:, :4] *= np.linspace(0.5, 3.0, 100)[:, None]
    other.iloc[300:, 4] *= 9.0
    a, b = ENGINE.run(df), ENGINE.run(other)
    for name in ("features", "regime_probs", "mix"):
        np.testing.assert_array_equal(getattr(a, name).to_numpy()[:300], getattr(b, name).to_numpy()[:300])


# ---------------------------------------------------------------------------- robustness


@pytest.mark.parametrize("maker", [frames.zero_volume, frames.partly_flat, frames.huge_bar, frames.gaps, frames.scaled])
def test_adversarial_frames_are_finite_after_warmup(maker) -> None:
    res = ENGINE.run(maker())
    k = res.warmup
    for frame in (res.regime_probs, res.mix, res.weights, res.expected):
        assert np.isfinite(after(frame, k)).all()
    np.testing.assert_allclose(after(res.regime_probs, k).sum(axis=1), 1.0, atol=1e-9)


def test_flat_prices_give_a_neutral_composite() -> None:
    res = ENGINE.run(frames.flat(300))
    assert (res.mix["composite"].iloc[res.warmup :] == 0.0).all()


def test_intraday_bars() -> None:
    df = generate_demo("DEMO", "2024-01-01", "2024-03-31", "1H")
    res = ENGINE.run(df)
    np.testing.assert_allclose(after(res.regime_probs, res.warmup).sum(axis=1), 1.0, atol=1e-9)


def test_errors() -> None:
    with pytest.raises(DataError, match=r"needs more than 118 bars \(its warm-up\); the frame has 50"):
        ENGINE.run(make_ohlcv(50))
    with pytest.raises(DataError, match="missing column"):
        ENGINE.run(make_ohlcv(200).drop(columns="open"))
    with pytest.raises(ConfigError, match="expects an MFTConfig, got dict"):
        RegimeEngine({})  # type: ignore[arg-type]


def test_dominant_regime_and_latest(result: RegimeResult) -> None:
    dom = result.dominant_regime()
    assert dom.iloc[: result.warmup].isna().all()
    k = result.warmup
    # hysteresis (a plain loop as the oracle): switch only when another bin leads by > margin
    p = result.regime_probs.iloc[k:].to_numpy()
    cur, expect = int(np.argmax(p[0])), []
    for row in p:
        best = int(np.argmax(row))
        if row[best] > row[cur] + result.dominant_margin:
            cur = best
        expect.append(REGIMES[cur])
    assert result.dominant_margin == 0.1 and list(dom.iloc[k:]) == expect
    plain = dataclasses.replace(result, dominant_margin=0.0).dominant_regime()
    assert (plain.iloc[k:] == result.regime_probs.iloc[k:].idxmax(axis=1)).all()
    assert (plain.iloc[k:] != dom.iloc[k:]).any()
    info = result.latest()
    assert info["dominant_regime"] == dom.iloc[-1] and set(info["regime_probs"]) == set(REGIMES)
    assert info["composite"] == result.composite.iloc[-1]


def test_calibration_makes_probabilities_move_where_the_reference_is_flat() -> None:
    df = generate_demo("DEMO3", "2010-01-01", "2019-12-31")
    cal = RegimeEngine().run(df)
    ref = RegimeEngine(MFTConfig.reference()).run(df)
    k = cal.warmup
    assert ref.mix["c_field"].iloc[k:].max() < 0.2 and ref.mix["confidence"].iloc[k:].mean() < 0.01
    assert cal.mix["confidence"].iloc[k:].mean() > 0.05
    assert cal.regime_probs.iloc[k:].max().max() > 0.8


# ---------------------------------------------------------------------------- mixer and projections


def _field(regimes: np.ndarray) -> Field:
    n = regimes.shape[0]
    return Field(np.zeros((n, 28)), np.full((n, 28), 1 / 3), np.full((n, 28), 1 / 28), regimes, np.zeros((n, 8)))


def test_mixer_by_hand() -> None:
    cfg = MFTConfig()
    names = list(cfg.experts.validity)
    n = len(names)
    regimes = np.array([[1.0] + [0.0] * 7])
    z = np.zeros((1, n))
    w = np.zeros((1, n))
    i = names.index("macd")
    z[0, i], w[0, i] = 0.5, 1.0
    out = mix(z, w, _field(regimes), np.zeros(1), np.zeros(1), cfg.experts, cfg.confidence)
    # one expert: S_raw = x = 0.5 / (1 + 1e-8) and S_int = (x |x|) / (|x| |x|) * |x| = x
    s_raw = 0.5 / (1 + 1e-8)
    assert out[0, 0] == pytest.approx(0.7 * s_raw + 0.3 * s_raw, rel=1e-12)
    assert out[0, 1] == pytest.approx(1.0)  # c_field: one certain regime
    assert out[0, 2] == pytest.approx(1.0, rel=1e-6)  # consensus: no dispersion
    assert out[0, 3] == pytest.approx(1.0)  # liquidity: ordinary volume, no gap
    # macd and rsi (coupling m): A = (x_m |x_m| + m x_m |x_r| + m x_r |x_m| + x_r |x_r|) / (...)
    j = names.index("rsi")
    z[0, j], w[0, j] = -0.25, 1.0
    out = mix(z, w, _field(regimes), np.zeros(1), np.zeros(1), cfg.experts, cfg.confidence)
    x_m, x_r = 0.5 / (2 + 1e-8), -0.25 / (2 + 1e-8)
    m = cfg.experts.interaction["macd:rsi"]
    num = x_m * abs(x_m) + m * x_m * abs(x_r) + m * x_r * abs(x_m) + x_r * abs(x_r)
    den = x_m**2 + 2 * m * abs(x_m * x_r) + x_r**2
    s_int = num / den * (abs(x_m) + abs(x_r))
    assert out[0, 0] == pytest.approx(0.7 * (x_m + x_r) + 0.3 * s_int, rel=1e-9)
    assert out[0, 2] == pytest.approx(abs(x_m + x_r) / (abs(x_m + x_r) + 0.375 + 1e-8), rel=1e-6)


def test_mixer_is_odd_and_bounded() -> None:
    cfg = MFTConfig()
    rng = np.random.default_rng(0)
    n, k = 500, len(cfg.experts.validity)
    z = rng.uniform(-1, 1, (n, k))
    w = rng.uniform(0, 2, (n, k))
    regimes = rng.dirichlet(np.ones(8), n)
    a = mix(z, w, _field(regimes), rng.normal(size=n), rng.normal(size=n), cfg.experts, cfg.confidence)
    b = mix(-z, w, _field(regimes), np.zeros(n), np.zeros(n), cfg.experts, cfg.confidence)
    np.testing.assert_allclose(a[:, 0], -b[:, 0], atol=1e-15)
    assert (np.abs(a[:, 0]) <= 1).all() and (a[:, 1:5] >= 0).all() and (a[:, 1:5] <= 1).all()
    # all experts at +1 with any weights -> composite 1 (up to eps)
    c = mix(np.ones((n, k)), w, _field(regimes), np.zeros(n), np.zeros(n), cfg.experts, cfg.confidence)
    np.testing.assert_allclose(c[:, 0], 1.0, atol=1e-7)


def test_projections_by_hand() -> None:
    cfg = MFTConfig().projection
    x = np.array([[0.2], [0.4]])
    probs = np.zeros((2, 8))
    probs[:, REGIMES.index("TREND_UP")] = 1.0
    e, v = project(x, probs, cfg)
    # TREND_UP: 0.3 + 0.9 (x - 0.3) + 0.1 dx; bar 1: 0.3 + 0.9 * 0.1 + 0.1 * 0.2 = 0.41
    assert e[0, 0] == pytest.approx(0.3 + 0.9 * (0.2 - 0.3)) and e[1, 0] == pytest.approx(0.41)
    np.testing.assert_allclose(v[:, 0], 0.15**2)
    probs = np.full((2, 8), 1 / 8)
    e, v = project(x, probs, cfg)
    par = [cfg.regimes[r] for r in REGIMES]
    xr = np.clip([p["mu"] + p["phi"] * (0.4 - p["mu"]) + p["beta"] * 0.2 for p in par], -1, 1)
    assert e[1, 0] == pytest.approx(xr.mean())
    assert v[1, 0] == pytest.approx(np.mean([p["sigma"] ** 2 for p in par]) + np.mean((xr - xr.mean()) ** 2))


def test_reference_config_runs_with_mft_field_entropy() -> None:
    cfg = MFTConfig.reference()
    assert cfg.confidence.field_entropy == "levels"
    res = RegimeEngine(dataclasses.replace(cfg)).run(make_ohlcv(300, 2))
    k = res.warmup
    np.testing.assert_allclose(after(res.regime_probs, k).sum(axis=1), 1.0, atol=1e-9)
    ent = 1 - res.mix["c_field"].iloc[k:]
    assert ((ent >= 0) & (ent <= 1)).all()


def test_node_logits_match_a_numpy_and_pandas_reference() -> None:
    """The fused energy / sticky-logit kernel against the stages written out with NumPy
    (tanh gates, products, bias) and pandas' EWM (``adjust=False``) for the sticky logits."""
    from phi.regime.config import feature_names, level_names
    from phi.regime.taxonomy import (
        CLASS_PARENT,
        NODE_INDEX,
        NODE_LEVEL,
        energy_matrix,
        level_matrix,
        node_logits,
    )

    cfg = MFTConfig()
    names = feature_names(cfg.features)
    rng = np.random.default_rng(5)
    z = rng.standard_normal((300, len(names))) * 2.0
    z[rng.random(z.shape) < 0.05] = np.nan
    lv = rng.standard_normal((300, len(level_names(cfg.levels))))
    lv[:40, :3] = np.nan
    beta = level_matrix(cfg.levels.energy, level_names(cfg.levels))
    energy, logits = node_logits(z, cfg.taxonomy, names, lv, beta)

    tc = cfg.taxonomy
    z0 = np.nan_to_num(z)
    gamma = np.array([tc.gate_steepness.get(f, tc.gate_default) for f in names])
    g = np.tanh(z0 * gamma)
    m = names.index("mass")
    g[:, m] = 1.0 - np.tanh(gamma[m] * np.abs(z0[:, m]))
    temp = np.array([tc.temperature[NODE_LEVEL[n]] for n in NODES])
    e = g @ (energy_matrix(tc, names) / temp) + np.nan_to_num(lv) @ beta + np.array([tc.bias.get(n, 0.0) for n in NODES])
    eta = np.array([tc.smoothing[NODE_LEVEL[n]] for n in NODES])

    def sticky(col: np.ndarray, a: float) -> np.ndarray:
        return pd.Series(col).ewm(alpha=a, adjust=False).mean().to_numpy()

    ref_l = np.column_stack([sticky(e[:, j], eta[j]) for j in range(len(NODES))])
    for c, k in CLASS_PARENT.items():
        j = NODE_INDEX[c]
        e[:, j] *= 1.0 / (1.0 + np.exp(-ref_l[:, NODE_INDEX[k]]))
        ref_l[:, j] = sticky(e[:, j], eta[j])
    np.testing.assert_allclose(logits, ref_l, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(energy, e, rtol=1e-6, atol=1e-6)  # energies are stored as float32


def logit_arrays(tc, names):  # type: ignore[no-untyped-def]
    """(alpha / T, gate steepness, sticky rates, class nodes, their parents, biases) of a
    taxonomy config, as the logit kernels take them."""
    from phi.regime.taxonomy import CLASS_PARENT, NODE_INDEX, NODE_LEVEL, energy_matrix

    alpha = energy_matrix(tc, names) / np.array([tc.temperature[NODE_LEVEL[k]] for k in NODES])
    gamma = np.array([tc.gate_steepness.get(f, tc.gate_default) for f in names])
    eta = np.array([tc.smoothing[NODE_LEVEL[k]] for k in NODES])
    cls = np.array([NODE_INDEX[c] for c in CLASS_PARENT], dtype=np.int64)
    parent = np.array([NODE_INDEX[k] for k in CLASS_PARENT.values()], dtype=np.int64)
    bias = np.array([tc.bias.get(k, 0.0) for k in NODES])
    return alpha, gamma, eta, cls, parent, bias


def test_node_logits_equal_the_sparse_per_bar_kernel() -> None:
    """The blocked kernel (vectorised gates, matrix products, sticky pass) against the previous
    sparse per-bar kernel on the same inputs, across block edges and with an infinite level."""
    from phi.regime import _nb, taxonomy
    from phi.regime.config import feature_names, level_names
    from phi.regime.taxonomy import (
        _sparse_rows,
        level_matrix,
        node_logits,
    )

    cfg = MFTConfig()
    tc = cfg.taxonomy
    names = feature_names(cfg.features)
    rng = np.random.default_rng(11)
    n = 2 * taxonomy._BLOCK + 77
    z = rng.standard_normal((n, len(names))) * 2.0
    z[rng.random(z.shape) < 0.05] = np.nan
    lv = rng.standard_normal((n, len(level_names(cfg.levels))))
    lv[:40, :3] = np.nan
    beta = level_matrix(cfg.levels.energy, level_names(cfg.levels))
    alpha, gamma, eta, cls, parent, bias = logit_arrays(tc, names)
    for levels in (lv, np.where(np.arange(n)[:, None] == 500, np.inf, lv)):
        ref_e, ref_l = _nb.energy_logits_nb(z, gamma, names.index("mass"), *_sparse_rows(alpha), levels,
                                            *_sparse_rows(beta), bias, eta, cls, parent)
        energy, logits = node_logits(z, tc, names, levels, beta)
        np.testing.assert_allclose(logits, ref_l, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(energy, ref_e, rtol=1e-6, atol=1e-7)
        lean_e, lean_l = node_logits(z, tc, names, levels, beta, keep_energy=False)
        assert lean_e.shape == (0, len(NODES))
        np.testing.assert_array_equal(lean_l, logits)


def test_internals_recomputed_on_access_from_a_copy_of_the_bars() -> None:
    """raw features, energies, logits, node log-probs and species are rebuilt on first access
    from the bars ``run`` saw: changing the caller's frame afterwards changes nothing."""
    from phi.regime.features import raw_features

    df = make_ohlcv(400, 17)
    res = ENGINE.run(df)
    expect = raw_features(df).to_numpy().astype(np.float32)
    df.iloc[:, :4] *= 2.0  # the caller reuses its frame
    np.testing.assert_array_equal(res.raw_features.to_numpy(), expect)
    assert res.energy is res.energy  # computed once, kept
    again = ENGINE.run(make_ohlcv(400, 17))
    for name in ("energy", "logits", "node_log_probs", "species_probs"):
        np.testing.assert_array_equal(getattr(res, name).to_numpy(), getattr(again, name).to_numpy(), err_msg=name)
    # node probabilities kept by run agree with the recomputed log-probabilities (kingdom)
    kingdom = list(LEVEL_NODES["kingdom"])
    k = res.warmup
    np.testing.assert_allclose(np.exp(res.node_log_probs[kingdom].to_numpy(np.float64)[k:]),
                               res.node_probs[kingdom].to_numpy(np.float64)[k:], rtol=1e-6, atol=1e-7)


def test_field_without_log_probs_gives_the_same_probabilities() -> None:
    from phi.regime.probability_field import probability_field

    rng = np.random.default_rng(3)
    logits = rng.standard_normal((200, len(NODES))) * 3.0
    d = rng.standard_normal(200)
    full = probability_field(logits, d, MFTConfig())
    lean = probability_field(logits, d, MFTConfig(), keep_log_probs=False)
    assert lean.node_log_probs.shape == (0, len(NODES)) and full.node_log_probs.shape == (200, len(NODES))
    for name in ("node_probs", "species", "regimes", "group_entropy"):
        np.testing.assert_array_equal(getattr(lean, name), getattr(full, name), err_msg=name)


def test_projections_computed_on_first_access_equal_the_eager_pipeline() -> None:
    """``expected`` / ``variance`` are built on first access (from float64 expert signals
    recomputed on the bars ``run`` saw and the regime bins): the same values as projecting
    the run's own signals, and a later change to the caller's frame changes nothing."""
    from phi.regime.experts import expert_signals

    df = make_ohlcv(400, 23)
    res = ENGINE.run(df)
    experts = list(ENGINE.config.experts.validity)
    s = expert_signals(df, experts).to_numpy(dtype=np.float64)
    e, v = project(s, res.regime_probs.to_numpy(), ENGINE.config.projection)
    e[: res.warmup] = np.nan
    v[: res.warmup] = np.nan
    df.iloc[:, :4] *= 3.0
    np.testing.assert_array_equal(res.expected.to_numpy(), e)
    np.testing.assert_array_equal(res.variance.to_numpy(), v)
    assert res.expected is res.expected and list(res.variance.columns) == experts
