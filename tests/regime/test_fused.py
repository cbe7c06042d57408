"""The fused probability side (field, expert weights, mixer in one vectorised pass) against the
per-bar reference path: probability_field -> expert_weights -> mix.

Tolerances: the node and regime probabilities are the same float64 arithmetic up to the
polynomial exp/log kernels (relative error ~1e-15), so they agree to 1e-12. The reference path
computes the weights from species and node probabilities stored as float32 (relative rounding
6e-8 each; a weight sums up to ~10 of them times affinities <= 1), the fused one from float64:
weights and mixer outputs agree to 2e-6, far below anything the engine's quality measures see.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from phi.regime._fused_nb import BLOCK, _exp_nb, _log_nb
from phi.regime.config import MFTConfig
from phi.regime.experts import expert_weights
from phi.regime.fused import field_weights_mix
from phi.regime.mixer import mix
from phi.regime.probability_field import probability_field
from phi.regime.taxonomy import NODES


@njit(cache=True, error_model="numpy")
def _exp_log(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = np.empty_like(x)
    lg = np.empty_like(y)
    bits = np.empty(x.size, dtype=np.int64)
    _exp_nb(x, e, bits, x.size)
    _log_nb(y, lg, np.empty(y.size), np.empty(y.size), y.size)
    return e, lg


def test_polynomial_exp_and_log_match_numpy() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([-rng.exponential(30.0, 5000), rng.uniform(-800, 709, 2000),
                        [0.0, -0.0, -708.0, -708.5, -1e300, -np.inf, np.nan, 709.0, 1e-300]])
    y = np.concatenate([rng.uniform(1e-300, 1.0, 2000), rng.uniform(1.0, 8.0, 2000), 10.0 ** rng.uniform(-307, 300, 2000),
                        [1.0, np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 2.0), 2.0, 0.5, np.nan]])
    e, lg = _exp_log(x, y)
    ref = np.where(x < -708.0, 0.0, np.exp(np.minimum(x, 709.0)))
    np.testing.assert_allclose(e, ref, rtol=5e-15, atol=0.0)
    assert np.isnan(e[np.isnan(x)]).all()
    np.testing.assert_allclose(lg, np.log(y), rtol=5e-15, atol=5e-16)
    assert np.isnan(lg[np.isnan(y)]).all()


def _inputs(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, (n, len(NODES)))
    logits[n // 3 : n // 3 + 40] *= 400.0  # products underflow: the log-sum-exp route
    logits[:5] = np.nan  # warm-up rows
    direction = rng.normal(0.0, 1.5, n)
    direction[rng.random(n) < 0.05] = np.nan
    signals = np.clip(rng.normal(0.0, 0.6, (n, 11)), -1.0, 1.0)
    signals[rng.random((n, 11)) < 0.1] = np.nan
    signals[n // 2 : n // 2 + 10] = 0.0  # every x = 0: no interaction term
    return {"logits": logits, "direction": direction, "signals": signals,
            "volume_z": rng.normal(0.0, 2.0, n), "gap_z": rng.normal(0.0, 2.0, n)}


@pytest.mark.parametrize("cfg", [MFTConfig(), MFTConfig.reference()], ids=["calibrated", "reference"])
@pytest.mark.parametrize("n", [BLOCK * 3 + 17, 7])
def test_fused_equals_the_per_bar_reference(cfg: MFTConfig, n: int) -> None:
    a = _inputs(n, n)
    fld = probability_field(a["logits"], a["direction"], cfg, keep_log_probs=False)
    w = expert_weights(fld, cfg.experts, cfg.confidence.affinity_blend)
    m = mix(a["signals"], w, fld, a["volume_z"], a["gap_z"], cfg.experts, cfg.confidence)
    node_p, regimes, weights, mixed = field_weights_mix(
        a["logits"], a["direction"], a["signals"], a["volume_z"], a["gap_z"], cfg
    )
    assert node_p.dtype == np.float32 and weights.dtype == np.float32
    assert all(x.flags.f_contiguous for x in (node_p, regimes, weights, mixed))
    np.testing.assert_array_equal(np.isnan(regimes), np.isnan(fld.regimes))
    np.testing.assert_allclose(regimes, fld.regimes, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(node_p, fld.node_probs, rtol=2e-7, atol=1e-30)  # both float32 of the same value
    np.testing.assert_allclose(weights, w, rtol=0.0, atol=2e-6)
    np.testing.assert_allclose(mixed, m, rtol=0.0, atol=2e-6)
    ok = ~np.isnan(regimes).any(axis=1)
    np.testing.assert_allclose(regimes[ok].sum(axis=1), 1.0, atol=1e-12)


def test_fused_values_do_not_depend_on_the_bars_after() -> None:
    """Blocks are fixed positions; a bar's values are the same whatever follows it."""
    cfg = MFTConfig()
    a = _inputs(BLOCK * 2 + 5, 1)
    full = field_weights_mix(a["logits"], a["direction"], a["signals"], a["volume_z"], a["gap_z"], cfg)
    for cut in (BLOCK - 1, BLOCK + 3, BLOCK * 2 + 1):
        part = field_weights_mix(*(a[k][:cut] for k in ("logits", "direction", "signals", "volume_z", "gap_z")), cfg)
        for x, y in zip(full, part, strict=True):
            np.testing.assert_array_equal(x[:cut], y)
