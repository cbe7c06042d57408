"""node_logits' numba gate fix-up, energies and bias-folding sticky pass against the NumPy block
composition they replaced (bit-identical). The energies are summed term by term in a fixed order
(features, then level features) in both: the engine used to take them from BLAS matrix products,
whose sums depend on how many rows a call holds, so a bar's logits could move by an ulp with the
number of bars after it in its block (the truncation test caught it on a cut inside a block of
more than 600 bars); this order is the same for every bar and every block length."""

from __future__ import annotations

import math

import numpy as np

from phi.regime import taxonomy
from phi.regime.config import MFTConfig, feature_names
from phi.regime.levels import level_names
from phi.regime.taxonomy import NODES, level_matrix, node_logits
from tests.regime.test_engine import logit_arrays


def _reference(z, alpha, gamma, mass, levels, beta, bias, eta, cls, parent):  # type: ignore[no-untyped-def]
    """The engine's NumPy block composition (gates, NaN -> 0, mass gate, two products, bias,
    then the sticky recursion written out in Python over the rows)."""
    n = len(z)
    logits, energy = np.empty((n, len(NODES))), np.empty((n, len(NODES)))
    prev = np.zeros(len(NODES))
    for a in range(0, n, taxonomy._BLOCK):
        b = min(n, a + taxonomy._BLOCK)
        g = np.tanh(z[a:b] * gamma)
        g[:, mass] = 1.0 - np.tanh(gamma[mass] * np.abs(z[a:b, mass]))
        g[np.isnan(g)] = 0.0
        g[:, mass] = np.where(np.isnan(z[a:b, mass]), 1.0, g[:, mass])
        lv = levels[a:b].copy()
        lv[np.isnan(lv)] = 0.0
        e = np.zeros((b - a, len(NODES)))
        for x, w in [*zip(g.T, alpha, strict=True), *zip(lv.T, beta, strict=True)]:
            e += x[:, None] * w  # IEEE products and sums, no FMA: the kernel's order
        e += bias
        for t in range(b - a):
            cur = e[t] if (a == 0 and t == 0) else (1.0 - eta) * prev + eta * e[t]
            for c, p in zip(cls, parent, strict=True):
                x = float(cur[p])
                q = math.exp(-abs(x))  # libm, as numba (NumPy's SIMD exp may differ in the last bit)
                e[t, c] *= 1.0 / (1.0 + q) if x >= 0.0 else q / (1.0 + q)
                cur[c] = e[t, c] if (a == 0 and t == 0) else (1.0 - eta[c]) * prev[c] + eta[c] * e[t, c]
            logits[a + t] = prev = cur
            energy[a + t] = e[t]
    return energy, logits


def test_node_logits_bit_identical_to_the_numpy_blocks() -> None:
    cfg = MFTConfig()
    tc, names = cfg.taxonomy, feature_names(cfg.features)
    rng = np.random.default_rng(21)
    n = taxonomy._BLOCK + 333  # two blocks, the second partial
    z = rng.standard_normal((n, len(names))) * 2.0
    z[rng.random(z.shape) < 0.03] = np.nan
    z[:50] = np.nan
    z[rng.random(z.shape) < 0.002] = np.inf
    lv = np.asfortranarray(rng.standard_normal((n, len(level_names(cfg.levels)))))
    lv[:90, :5] = np.nan
    beta = level_matrix(cfg.levels.energy, level_names(cfg.levels))
    alpha, gamma, eta, cls, parent, bias = logit_arrays(tc, names)
    ref_e, ref_l = _reference(z, alpha, gamma, names.index("mass"), lv, beta, bias, eta, cls, parent)
    energy, logits = node_logits(z, tc, names, lv, beta)
    np.testing.assert_array_equal(logits, ref_l)
    np.testing.assert_array_equal(energy, ref_e.astype(np.float32))
