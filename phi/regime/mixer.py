"""The mixer: composite signal in [-1, +1] and confidences in [0, 1] (MFT.md §1.9).

With expert signals z_j (NaN -> 0), weights w_j >= 0 and x_j = w_j z_j / (sum w + eps):

* linear term ``S_raw = sum_j x_j`` (a weighted mean, in [-1, 1]);
* interaction term ``S_int = sign(q) sqrt(|q|)`` with ``q = sum_ij M_ij x_i |x_j|``. The
  reference used the quadratic form ``x' M x``, which is blind to direction (always >= 0 for
  a positive diagonal), so its square root added a bullish bias and pushed |S| above 1. Our
  form is odd in x (``S_int(-x) = -S_int(x)``), reduces to ``sign(x) |x|`` for one expert,
  cancels between opposing experts, and ``|q| <= 1`` because ``|M_ij| <= 1`` and
  ``sum |x_j| <= 1``;
* composite ``S = alpha S_raw + (1 - alpha) S_int`` in [-1, +1] (our decision 7).

Confidences:

* ``c_field = 1 - H(regime bins) / ln 8``: how concentrated the 8-bin regime distribution
  is. The reference used ``1 - max`` of the kingdom, phylum and class-group entropies, so any
  one near-uniform group zeroed it; after calibration the levels the demo data carry no
  information on (class, order, family, genus) are near-uniform *on purpose*, and the
  regime bins are what the rest of the system consumes. MFT.md's definition stays available
  as ``confidence.field_entropy = "levels"`` (used by :meth:`MFTConfig.reference`);
* ``c_consensus = |u| / (|u| + s + eps)``, u and s the weighted mean and std of the z_j;
* ``c_liquidity = min(1, 2 sigmoid(a z_volume)) * 2 sigmoid(-b |z_gap|)``: 1 on an ordinary
  bar, lower on thin volume or a large gap (the reference's product of two sigmoids could
  never exceed 0.5);
* ``confidence = c_field * c_consensus`` (the reference bot's gate) and
  ``score = S * c_field * c_consensus * c_liquidity``.
"""

from __future__ import annotations

import numpy as np

from phi.regime import _nb
from phi.regime.config import ConfidenceConfig, ExpertConfig
from phi.regime.probability_field import Field, _entropy
from phi.regime.taxonomy import GROUPS

__all__ = ["interaction_matrix", "mix"]

# kingdom, phylum and the three class groups come first in GROUPS
_N_FIELD_GROUPS = 5
assert tuple(GROUPS)[:_N_FIELD_GROUPS] == ("kingdom", "phylum", "class|DIR", "class|NDR", "class|TRN")

MIX_COLUMNS = ("composite", "c_field", "c_consensus", "c_liquidity", "confidence", "score")


def interaction_matrix(cfg: ExpertConfig) -> np.ndarray:
    """Symmetric (experts x experts) coupling matrix with unit diagonal."""
    names = list(cfg.validity)
    m = np.eye(len(names))
    for key, value in cfg.interaction.items():
        a, b = key.split(":")
        i, j = names.index(a), names.index(b)
        m[i, j] = m[j, i] = value
    return m


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def mix(
    signals: np.ndarray,
    weights: np.ndarray,
    field: Field,
    volume_z: np.ndarray,
    gap_z: np.ndarray,
    experts: ExpertConfig,
    cfg: ConfidenceConfig,
) -> np.ndarray:
    """(bars, 6) array of composite, c_field, c_consensus, c_liquidity, confidence, score."""
    eps = cfg.epsilon
    z = np.nan_to_num(signals, nan=0.0)
    wsum = weights.sum(axis=1)
    x = weights * z / (wsum + eps)[:, None]
    s_raw = x.sum(axis=1)
    m = interaction_matrix(experts)
    q = _nb.interaction_nb(np.ascontiguousarray(x), m)
    s_int = np.sign(q) * np.sqrt(np.abs(q))
    alpha = cfg.interaction_alpha
    composite = np.clip(alpha * s_raw + (1.0 - alpha) * s_int, -1.0, 1.0)

    if cfg.field_entropy == "regimes":
        c_field = 1.0 - _entropy(field.regimes)
    else:
        c_field = 1.0 - np.max(field.group_entropy[:, : _N_FIELD_GROUPS], axis=1)

    mean = s_raw
    var = (weights * (z - mean[:, None]) ** 2).sum(axis=1) / (wsum + eps)
    std = np.sqrt(np.maximum(var, 0.0))
    c_consensus = np.abs(mean) / (np.abs(mean) + std + eps)

    vz = np.nan_to_num(volume_z, nan=0.0)
    gz = np.nan_to_num(gap_z, nan=0.0)
    c_liquidity = np.minimum(1.0, 2.0 * _sigmoid(cfg.liquidity_volume_scale * vz)) * (
        2.0 * _sigmoid(-cfg.liquidity_gap_scale * np.abs(gz))
    )
    confidence = c_field * c_consensus
    score = composite * confidence * c_liquidity
    return np.column_stack([composite, c_field, c_consensus, c_liquidity, confidence, score])
