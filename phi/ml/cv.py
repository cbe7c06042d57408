"""Purged, embargoed walk-forward cross-validation with a final untouched hold-out.

Samples are bars ``t`` with a label whose window ends at ``end[t]`` (:mod:`phi.ml.labels`).
The last ``holdout`` share of the samples is the hold-out; the samples before it are split
into ``folds + 1`` consecutive blocks and fold k (1..folds) tests block k after training on
blocks ``0..k-1`` (expanding window, never a later bar).

* **Purge**: a training sample is dropped when its label window reaches the first test bar
  (``end[t] >= test_start``) — its label would read test bars.
* **Embargo**: it is also dropped when its label ends fewer than ``embargo`` bars before the
  test block (``end[t] >= test_start - embargo``), a gap against the serial correlation of
  trailing-window features.

The same rules cut the final training set from the hold-out, and CV test samples whose labels
would read hold-out bars are dropped, so no label used in training or CV reads a hold-out bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phi.errors import ConfigError, shown

__all__ = ["Split", "default_embargo", "walk_forward_splits"]


@dataclass(frozen=True)
class Split:
    """Indices (into the sample arrays) of each CV fold, the final training set and the hold-out."""

    folds: list[tuple[np.ndarray, np.ndarray]]
    final_train: np.ndarray
    holdout: np.ndarray
    holdout_start: int  # first hold-out bar


def default_embargo(horizon: int, n_bars: int) -> int:
    """``max(horizon, 1 % of the bars)``."""
    return max(int(horizon), int(np.ceil(0.01 * n_bars)))


def _train_before(bar: np.ndarray, end: np.ndarray, start: int, embargo: int) -> np.ndarray:
    return np.flatnonzero((bar < start) & (end < start - embargo))


def walk_forward_splits(
    bar: np.ndarray, end: np.ndarray, folds: int, embargo: int, holdout: float, min_train: int = 50
) -> Split:
    """Splits of samples at bars ``bar`` (increasing) whose labels end at ``end``.

    Raises :class:`ConfigError` for out-of-range arguments or too few samples.
    """
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not 1 <= folds <= 50:
        raise ConfigError(f"folds must be an integer in 1..50, got {shown(folds)}")
    if isinstance(embargo, bool) or not isinstance(embargo, (int, np.integer)) or embargo < 0:
        raise ConfigError(f"embargo must be a whole number of bars >= 0, got {shown(embargo)}")
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0.05 <= holdout <= 0.5:
        raise ConfigError(f"holdout must be a share of the samples in 0.05..0.5, got {shown(holdout)}")
    n = len(bar)
    n_dev = int(round(n * (1.0 - holdout)))
    block = n_dev // (folds + 1)
    if block < min_train or n - n_dev < min_train:
        need = (folds + 1) * min_train / (1.0 - holdout)
        raise ConfigError(
            f"{n} labelled bars are too few for {folds} folds and a {holdout:.0%} hold-out "
            f"(need about {need:.0f} after the features' warm-up); use more data or fewer folds"
        )
    holdout_start = int(bar[n_dev])
    out = []
    for k in range(1, folds + 1):
        lo = k * block
        hi = n_dev if k == folds else (k + 1) * block
        test = np.arange(lo, hi)
        test = test[end[test] < holdout_start]  # no CV label reads a hold-out bar
        train = _train_before(bar, end, int(bar[lo]), embargo)
        if len(train) < min_train:
            raise ConfigError(
                f"fold {k}: {len(train)} training samples after purging and an embargo of "
                f"{embargo} bars; use more data, fewer folds or a shorter embargo"
            )
        out.append((train, test))
    final = _train_before(bar, end, holdout_start, embargo)
    return Split(out, final, np.arange(n_dev, n), holdout_start)
