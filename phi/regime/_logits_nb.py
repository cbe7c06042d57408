"""The numba parts of :func:`phi.regime.taxonomy.node_logits`: the gates' NaN and mass fix-up,
the energies (gates x weights + level features x weights) and the sticky-logit recursion (with
the node biases added), one block of bars at a time.

Only IEEE additions, multiplications and ``exp`` run here (no fastmath, a fixed order), so each
bar's values depend neither on the block it falls in nor on the block's length; the gates'
``tanh`` stays NumPy's (element by element).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["any_inf_nb", "energies_nb", "fix_gates_nb", "sticky_logits_chunk_nb"]


@njit(cache=True)
def any_inf_nb(x: np.ndarray) -> bool:
    """``np.isinf(x).any()`` of a 2-D array, without the boolean temporary."""
    n, k = x.shape
    for j in range(k):
        found = False
        for t in range(n):  # no early exit in the column: a vectorised OR
            found |= abs(x[t, j]) == np.inf
        if found:
            return True
    return False


@njit(cache=True)
def fix_gates_nb(g: np.ndarray, z_mass: np.ndarray, t_mass: np.ndarray, mass: int) -> None:
    """In place on the gates g (bars, features) = tanh(gamma z): NaN -> 0; if ``mass >= 0`` its
    column becomes ``1 - t_mass`` (``t_mass = tanh(gamma |z|)`` of the mass feature ``z_mass``), 1
    where z_mass is NaN."""
    n, k = g.shape
    for t in range(n):
        for j in range(k):
            if np.isnan(g[t, j]):
                g[t, j] = 0.0
        if mass >= 0:
            x = 1.0 - t_mass[t]
            if np.isnan(x):
                x = 0.0
            if np.isnan(z_mass[t]):
                x = 1.0
            g[t, mass] = x


@njit(cache=True)
def sticky_logits_chunk_nb(
    e: np.ndarray,
    bias: np.ndarray,
    eta: np.ndarray,
    cls: np.ndarray,
    parent: np.ndarray,
    prev: np.ndarray,
    first: bool,
    energy: np.ndarray,
    logits: np.ndarray,
) -> None:
    """Sticky logits of a chunk of bars from its energies e + bias (e: bars x nodes, class
    energies not yet scaled; modified in place): ``l_t = (1 - eta) l_(t-1) + eta E_t`` (``l_0 =
    E_0`` if ``first``), the class nodes ``cls`` first scaled by ``sigmoid(l_t[parent])`` (their
    kingdom's logit). ``prev`` holds l of the bar before the chunk and is updated; ``energy``
    (float32, 0 rows: not stored) and ``logits`` receive the chunk's rows."""
    n, k = e.shape
    keep = energy.shape[0] > 0
    cur = np.empty(k)
    for t in range(n):
        start = first and t == 0
        for j in range(k):
            e[t, j] = e[t, j] + bias[j]
            cur[j] = e[t, j] if start else (1.0 - eta[j]) * prev[j] + eta[j] * e[t, j]
        s = 0.0
        for c in range(cls.shape[0]):
            j = cls[c]
            if c == 0 or parent[c] != parent[c - 1]:  # siblings share their kingdom's sigmoid
                x = cur[parent[c]]
                q = np.exp(-abs(x))
                s = 1.0 / (1.0 + q) if x >= 0.0 else q / (1.0 + q)
            e[t, j] = e[t, j] * s
            cur[j] = e[t, j] if start else (1.0 - eta[j]) * prev[j] + eta[j] * e[t, j]
        for j in range(k):
            logits[t, j] = cur[j]
            prev[j] = cur[j]
        if keep:
            for j in range(k):
                energy[t, j] = e[t, j]


@njit(cache=True)
def energies_nb(
    g: np.ndarray, alpha: np.ndarray, lv: np.ndarray, beta: np.ndarray, e: np.ndarray
) -> None:
    """``e = g @ alpha + lv @ beta`` for a block of bars (gates g and energies e row-major,
    level features lv with NaN read as 0), summed term by term in one fixed order (features,
    then level features; zero weights skipped) with no FMA contraction, so a bar's energies
    are the same wherever it falls in a block and however long the block is (BLAS's are not:
    its sums depend on how many rows a call holds). Stretches of 256 bars are transposed into
    scratch rows so every sum runs across bars in SIMD."""
    n, k = g.shape
    m = alpha.shape[1]
    kl = lv.shape[1]
    s_len = 256
    x = np.zeros((k + kl, s_len))
    acc = np.empty((m, s_len))
    w = np.zeros((k + kl, m))
    w[:k] = alpha
    w[k:] = beta
    for t0 in range(0, n, s_len):
        s = min(s_len, n - t0)
        for i in range(k):  # column by column: faster than bar by bar (measured)
            xi = x[i]
            for t in range(s):
                xi[t] = g[t0 + t, i]
        for i in range(kl):
            xi = x[k + i]
            for t in range(s):
                v = lv[t0 + t, i]
                xi[t] = v if v == v else 0.0
        for j in range(m):
            row = acc[j]
            for t in range(s_len):
                row[t] = 0.0
            for i in range(k + kl):
                a = w[i, j]
                if a != 0.0:
                    xi = x[i]
                    for t in range(s_len):
                        row[t] += xi[t] * a
        for t in range(s):
            for j in range(m):
                e[t0 + t, j] = acc[j, t]
