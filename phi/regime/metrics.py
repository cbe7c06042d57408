"""Scoring helpers of the regime harness: rank AUC, balanced accuracy, Spearman, run lengths.

No scikit-learn: the AUC is the Mann-Whitney U statistic with average ranks for ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["balanced_accuracy", "median_run", "roc_auc", "spearman"]


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN if a class is empty.

    >>> roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
    0.75
    """
    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    keep = ~np.isnan(score)
    score, positive = score[keep], positive[keep]
    n1 = int(positive.sum())
    n0 = positive.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def balanced_accuracy(predicted: Sequence[Any] | np.ndarray, truth: Sequence[Any] | np.ndarray) -> float:
    """Mean over the true classes of the share of their bars predicted correctly."""
    pred = np.asarray(predicted, dtype=object)
    true = np.asarray(truth, dtype=object)
    recalls = [float(np.mean(pred[true == c] == c)) for c in pd.unique(true)]
    return float(np.mean(recalls)) if recalls else float("nan")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation over the pairs where both are finite (NaN if either is constant)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    rx = pd.Series(x[ok]).rank().to_numpy()
    ry = pd.Series(y[ok]).rank().to_numpy()
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return float("nan")
    return float(np.mean((rx - rx.mean()) * (ry - ry.mean())) / (sx * sy))


def median_run(labels: Sequence[Any] | np.ndarray) -> float:
    """Median length of the runs of equal consecutive labels (NaN if there are none)."""
    lab = np.asarray(labels, dtype=object)
    if lab.size == 0:
        return float("nan")
    change = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    edges = np.concatenate([[0], change, [lab.size]])
    return float(np.median(np.diff(edges)))
