"""The probability side of :meth:`RegimeEngine.run` in one pass (:func:`field_weights_mix`).

The same quantities as :func:`~phi.regime.probability_field.probability_field` (node and
regime probabilities), :func:`~phi.regime.experts.expert_weights` and
:func:`~phi.regime.mixer.mix`, computed together by :func:`phi.regime._fused_nb.fused_nb`
without the species and log-probability arrays ``run`` does not keep, and vectorised across
bars. Those three functions stay the reference (and the API for the internals computed on
access); the tests hold this path to them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from phi.regime._fused_nb import fused_nb
from phi.regime.config import MFTConfig
from phi.regime.experts import affinity_table, validity_matrix
from phi.regime.mixer import MIX_COLUMNS, interaction_matrix
from phi.regime.taxonomy import (
    CLASS_PARENT,
    GROUPS,
    NODE_INDEX,
    NODES,
    REGIMES,
    SPECIES_BASE,
    SPECIES_PATHS,
)

__all__ = ["FusedPass", "field_weights_mix"]


def _groups() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group starts, member nodes, parent of every node) of the sibling groups."""
    starts: list[int] = [0]
    members: list[int] = []
    for group in GROUPS.values():
        members.extend(NODE_INDEX[m] for m in group)
        starts.append(len(members))
    parent = np.full(len(NODES), -1, dtype=np.int64)
    for c, k in CLASS_PARENT.items():
        parent[NODE_INDEX[c]] = NODE_INDEX[k]
    return np.array(starts, dtype=np.int64), np.array(members, dtype=np.int64), parent


class FusedPass:
    """The fused pass over all bars, fed block of bars by block (:meth:`add`), so the caller
    never holds the logits of every bar at once; :attr:`outputs` once every bar is added.

    ``n`` bars; ``direction``, ``signals``, ``volume_z``, ``gap_z`` as in
    :func:`field_weights_mix`, for all ``n`` bars (``volume_z`` / ``gap_z`` may be filled block
    by block before each :meth:`add`). A bar's values do not depend on the blocks it is fed in
    (each is computed from its own inputs, in the same SIMD lanes for any block start that is a
    multiple of :data:`~phi.regime._fused_nb.BLOCK`).
    """

    def __init__(
        self,
        n: int,
        direction: np.ndarray,
        signals: np.ndarray,
        volume_z: np.ndarray,
        gap_z: np.ndarray,
        cfg: MFTConfig,
    ) -> None:
        gstart, gnodes, parent = _groups()
        lnodes, lstart, table = affinity_table(cfg.experts)
        # an affinity level that is one sibling group (same nodes, same order) reuses its entropy
        members = [tuple(gnodes[gstart[g] : gstart[g + 1]]) for g in range(len(gstart) - 1)]
        lgroup = np.array(
            [members.index(lv) if lv in members else -1
             for lv in (tuple(lnodes[lstart[i] : lstart[i + 1]]) for i in range(len(lstart) - 1))],
            dtype=np.int64,
        )
        ne = len(cfg.experts.validity)
        conf = cfg.confidence
        self.node_p = np.empty((len(NODES), n), dtype=np.float32).T
        self.regimes = np.empty((len(REGIMES), n)).T
        self.weights = np.empty((ne, n), dtype=np.float32).T
        self.mixed = np.empty((len(MIX_COLUMNS), n)).T
        self._inputs: tuple[Any, ...] = (
            np.ascontiguousarray(direction, dtype=np.float64),
            np.asfortranarray(signals, dtype=np.float64),
            np.ascontiguousarray(volume_z, dtype=np.float64),
            np.ascontiguousarray(gap_z, dtype=np.float64),
        )
        self._tables: tuple[Any, ...] = (
            np.array([cfg.probability.direction_scale, conf.liquidity_volume_scale, conf.liquidity_gap_scale]),
            gstart,
            gnodes,
            parent,
            SPECIES_PATHS,
            SPECIES_BASE,
            np.array([NODE_INDEX[v] for v in ("LV", "NV", "HV")], dtype=np.int64),
            lstart,
            lnodes,
            lgroup,
            table,
            np.ascontiguousarray(validity_matrix(cfg.experts)),
            interaction_matrix(cfg.experts),
            conf.epsilon,
            conf.interaction_alpha,
            conf.affinity_blend,
            conf.field_entropy != "regimes",
        )

    def add(self, logits: np.ndarray, t_base: int) -> None:
        """Compute bars ``t_base .. t_base + len(logits) - 1`` from their sticky logits."""
        args: tuple[Any, ...] = (
            np.ascontiguousarray(logits, dtype=np.float64),
            t_base,
            *self._inputs,
            *self._tables,
            *self.outputs,
        )
        fused_nb(*args)

    @property
    def outputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(node_probs, regime_probs, weights, mix)``, as :func:`field_weights_mix` returns."""
        return self.node_p, self.regimes, self.weights, self.mixed


def field_weights_mix(
    logits: np.ndarray,
    direction: np.ndarray,
    signals: np.ndarray,
    volume_z: np.ndarray,
    gap_z: np.ndarray,
    cfg: MFTConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(node_probs, regime_probs, weights, mix)`` of every bar, each (bars, columns) and
    column-major (pandas wraps them without a copy): marginal node probabilities (float32, 28
    nodes), the 8 regime bins, the expert weights (float32) and the mixer's 6 columns.

    ``logits`` are the sticky node logits (bars, 28), ``direction`` the direction feature (NaN
    counts as 0), ``signals`` the expert signals (bars, experts; NaN counts as 0),
    ``volume_z`` / ``gap_z`` the gated volume and gap z-scores.
    """
    fp = FusedPass(len(logits), direction, signals, volume_z, gap_z, cfg)
    fp.add(logits, 0)
    return fp.outputs
