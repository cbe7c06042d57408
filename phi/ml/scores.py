"""Out-of-sample scores of probability forecasts: accuracy, log loss, AUC, calibration."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["calibration_bins", "score"]


def score(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Accuracy (at 0.5), log loss (probabilities clipped to [1e-15, 1 - 1e-15]), ROC AUC
    (NaN when ``y`` has one class only), the share of ups and the number of samples."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    n = len(y)
    if n == 0:
        nan = math.nan
        return {"accuracy": nan, "log_loss": nan, "auc": nan, "up_share": nan, "n": 0}
    pc = np.clip(p, 1e-15, 1 - 1e-15)
    return {
        "accuracy": float(np.mean((p > 0.5) == (y > 0.5))),
        "log_loss": float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))),
        "auc": _auc(y, p),
        "up_share": float(y.mean()),
        "n": int(n),
    }


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for ties."""
    pos = y > 0.5
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sp = p[order]
    # average ranks of tied values
    _, first, counts = np.unique(sp, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Reliability table: for each probability decile bin with samples, the mean forecast,
    the observed share of ups and the count."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        m = which == b
        if m.any():
            out.append({"predicted": float(p[m].mean()), "observed": float(y[m].mean()), "count": int(m.sum())})
    return out
