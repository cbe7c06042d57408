"""Per-regime AR(1) one-step projections of every expert signal (MFT.md §1.10).

For signal x and regime r: ``x_r = clip(mu_r + phi_r (x_t - mu_r) + beta_r (x_t - x_(t-1)), -1, 1)``;
the outputs are the mixture mean ``E = sum_r P_r x_r`` and variance
``Var = sum_r P_r sigma_r^2 + sum_r P_r (x_r - E)^2``. Every expert signal is in [-1, +1] with
+1 = buy, so one (mu, phi, beta, sigma) table per regime is meaningful in signal units (the
reference applied it to indicators of different scales and signs). Projections are
descriptive; nothing trades on them.
"""

from __future__ import annotations

import numpy as np

from phi.regime import _nb
from phi.regime.config import ProjectionConfig
from phi.regime.taxonomy import REGIMES

__all__ = ["project"]


def project(
    signals: np.ndarray, regime_probs: np.ndarray, cfg: ProjectionConfig
) -> tuple[np.ndarray, np.ndarray]:
    """``(expected, variance)``, each (bars, experts), from signals and the 8 regime bins."""
    par = np.array([[cfg.regimes[r][k] for k in ("mu", "phi", "beta", "sigma")] for r in REGIMES])
    x = np.asarray(signals, dtype=np.float64)
    return _nb.project_nb(x, np.asarray(regime_probs, dtype=np.float64), par)
