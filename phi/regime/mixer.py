"""The mixer: composite signal in [-1, +1] and confidences in [0, 1] (MFT.md §1.9).

With expert signals z_j (NaN -> 0), weights w_j >= 0 and x_j = w_j z_j / (sum w + eps):

* linear term ``S_raw = sum_j x_j`` (a weighted mean, in [-1, 1]);
* interaction term ``S_int = A * sum_k |x_k|`` with the coupling-weighted agreement
  ``A = sum_ij M_ij x_i |x_j| / sum_ij |M_ij| |x_i| |x_j|`` in [-1, 1] (0 when every x is 0).
  The reference used ``sign(q) sqrt(|q|)`` of the quadratic form ``q = x' M x``, which is blind
  to direction (q >= 0 whenever the diagonal dominates), so it added a bullish bias, pushed
  |S| above 1, and shrank as more experts agreed (``1 / sqrt(N)`` for N equal votes). Ours is
  odd in x (``S_int(-x) = -S_int(x)``), equals x for one expert and +-1 when every expert
  says +-1, cancels between opposing experts, lets a positive coupling (rsi-vwap_dev) reinforce
  agreeing signals and a negative one damp them, and ``|S_int| <= sum |x_k| <= 1``;
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

from phi._math import sigmoid
from phi.regime._rolling_nb import mix_core_nb
from phi.regime.config import ConfidenceConfig, ExpertConfig
from phi.regime.probability_field import Field, _entropy
from phi.regime.taxonomy import GROUPS

__all__ = ["interaction_matrix", "liquidity", "mix"]

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


def liquidity(volume_z: np.ndarray, gap_z: np.ndarray, cfg: ConfidenceConfig) -> np.ndarray:
    """``c_liquidity = min(1, 2 sigmoid(a z_volume)) * 2 sigmoid(-b |z_gap|)`` (NaN counts as 0)."""
    vz = np.nan_to_num(volume_z, nan=0.0)
    gz = np.nan_to_num(gap_z, nan=0.0)
    return np.minimum(1.0, 2.0 * sigmoid(cfg.liquidity_volume_scale * vz)) * (
        2.0 * sigmoid(-cfg.liquidity_gap_scale * np.abs(gz))
    )


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
    out = np.empty((signals.shape[0], len(MIX_COLUMNS)))
    mix_core_nb(signals, weights, interaction_matrix(experts), eps, cfg.interaction_alpha, out)
    if cfg.field_entropy == "regimes":
        out[:, 1] = 1.0 - _entropy(field.regimes)
    else:
        out[:, 1] = 1.0 - np.max(field.group_entropy[:, : _N_FIELD_GROUPS], axis=1)
    out[:, 3] = liquidity(volume_z, gap_z, cfg)
    out[:, 4] = out[:, 1] * out[:, 2]
    out[:, 5] = out[:, 0] * out[:, 4] * out[:, 3]
    return out
