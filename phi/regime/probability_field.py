"""Probability field: sibling softmaxes, the 28 species and the 8 regime bins (MFT.md §1.5).

* **Nodes.** Each sibling group is a softmax of its sticky logits (computed in log space;
  the MFT.md energies inside them are divided by the level's calibrated temperature, see
  :func:`phi.regime.taxonomy.node_logits`). Classes are
  conditional on their kingdom (``P(PT | DIR)``); the marginal class probability is
  ``P(k) P(c | k)``.
* **Species.** ``log P(s)`` is the sum of the log-probabilities along the species' path,
  renormalised over the 28 species. Order, family and genus are independent factors (a
  product of experts), not conditionals; renormalising over the 28 listed paths makes the
  result a proper distribution.
* **Regime bins** (our decision 4: mutually exclusive, no double counting).
  ``LOWVOL = P(LV)`` and ``HIGHVOL = P(HV)`` from the phylum softmax; the six state bins share
  ``P(NV)`` in proportion to the species' base regimes, with the species' phylum factor left
  out of these shares (so the split of the state mass does not move with volatility), with TREND and BREAKOUT split up/down
  by ``u = sigmoid(direction_scale * drift_tscore_30)`` (see :class:`ProbabilityConfig`):
  ``TREND_UP = P(NV) * P(TREND) * u``, ``TREND_DN = P(NV) * P(TREND) * (1 - u)``,
  ``RANGE = P(NV) * P(RANGE)``, ``BREAKOUT_UP/DN`` likewise, ``EXHAUST_REV = P(NV) *
  P(EXHAUST_REV)``, where ``P(base) = sum of the species of that base``. The 8 bins sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phi._math import sigmoid
from phi.regime import _nb
from phi.regime.config import MFTConfig
from phi.regime.taxonomy import (
    BASE_REGIMES,
    CLASS_PARENT,
    GROUPS,
    LEVELS,
    NODE_INDEX,
    NODES,
    SPECIES_BASE,
    SPECIES_PATHS,
    level_slice,
)

__all__ = ["Field", "level_probs", "log_softmax", "probability_field"]


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of a (bars, k) array (stable: max subtracted)."""
    m = np.max(x, axis=1, keepdims=True)
    s = x - m
    return s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))


def _entropy(p: np.ndarray) -> np.ndarray:
    """Normalised Shannon entropy H(p) / ln k of each row, in [0, 1]."""
    return _nb.entropy_rows_nb(np.ascontiguousarray(p, dtype=np.float64))


@dataclass(frozen=True)
class Field:
    """Probabilities of one run (arrays, bars first)."""

    #: log P of every node within its sibling group (classes: log P(c | k)), (bars, 28)
    node_log_probs: np.ndarray
    #: marginal P of every node (classes: P(k) P(c | k)); each level sums to 1, (bars, 28)
    node_probs: np.ndarray
    #: species probabilities, (bars, 28 species)
    species: np.ndarray
    #: the 8 regime bins (bars, 8), order of REGIMES
    regimes: np.ndarray
    #: normalised entropy of each sibling group, (bars, 8 groups), order of GROUPS (float32)
    group_entropy: np.ndarray


def probability_field(
    logits: np.ndarray, direction_z: np.ndarray, cfg: MFTConfig, keep_log_probs: bool = True
) -> Field:
    """Node, species and regime probabilities from sticky logits (bars, 28).

    ``direction_z`` is the direction feature (NaN counts as 0 -> u = 0.5);
    ``keep_log_probs=False`` leaves ``node_log_probs`` empty (0 rows), saving its memory.
    """
    group = np.empty(len(NODES), dtype=np.int64)
    for g, members in enumerate(GROUPS.values()):
        for m in members:
            group[NODE_INDEX[m]] = g
    inv_temp = np.ones(len(NODES))  # the logits are tempered by node_logits
    size = np.array([len(m) for m in GROUPS.values()], dtype=np.int64)
    parent = np.full(len(NODES), -1, dtype=np.int64)
    for c, k in CLASS_PARENT.items():
        parent[NODE_INDEX[c]] = NODE_INDEX[k]
    scale = cfg.probability.direction_scale
    u = sigmoid(scale * np.nan_to_num(np.asarray(direction_z, dtype=np.float64), nan=0.0))
    vol = np.array([NODE_INDEX[v] for v in ("LV", "NV", "HV")], dtype=np.int64)
    n, nn = len(logits), len(NODES)
    node_lp = np.empty((n if keep_log_probs else 0, nn), dtype=np.float32)
    node_p = np.empty((n, nn), dtype=np.float32)
    ent = np.empty((n, len(GROUPS)), dtype=np.float32)
    species = np.empty((n, len(SPECIES_PATHS)), dtype=np.float32)
    regimes = np.empty((n, 8))
    _nb.field_nb(
        np.ascontiguousarray(logits, dtype=np.float64),
        inv_temp,
        group,
        size,
        parent,
        SPECIES_PATHS,
        SPECIES_BASE,
        len(BASE_REGIMES),
        u,
        vol,
        node_lp,
        node_p,
        ent,
        species,
        regimes,
    )
    return Field(node_lp, node_p, species, regimes, ent)


def level_probs(field: Field, level: str) -> np.ndarray:
    """Marginal probabilities of ``level``'s nodes (bars, nodes of the level)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return field.node_probs[:, level_slice(level)]

