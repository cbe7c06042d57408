"""Prediction scorecard: how often a signal called the next move's direction, and how much it
was worth when it did (the seed dashboard's "Accuracy" tab, on our signal).

Convention
----------
* The prediction at bar t is UP when ``signal[t] > threshold``, DOWN when
  ``signal[t] < -threshold``, otherwise (and for NaN) NEUTRAL; NEUTRAL bars are not scored.
* It is scored against the **close-to-close move from t to t+1**: ``move = close[t+1] - close[t]``.
  The last bar has no next close and is never scored.
* A call is right when the move has the predicted sign; a flat move (0) counts as wrong,
  as in the seed's ``PredictionMixin``.
* ``edge`` = mean ``|move|`` on right calls minus mean ``|move|`` on wrong calls, in price units
  (the seed's dollars per unit); ``edge_return`` is the same on ``|move| / close[t]``. Both are
  NaN unless there is at least one right and one wrong call.

>>> import pandas as pd
>>> close = pd.Series([10.0, 11.0, 10.5, 10.5, 12.0])
>>> signal = pd.Series([1.0, 1.0, -1.0, 0.0, 1.0])
>>> card = prediction_scorecard(signal, close)
>>> card["n_predictions"], card["hits"], card["accuracy"]
(3.0, 1.0, 0.3333333333333333)
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from phi.errors import EngineError, shown

__all__ = ["SCORECARD_CONVENTION", "SCORECARD_NAMES", "prediction_scorecard"]

#: Keys of :func:`prediction_scorecard`'s dict, in display order (every value a float).
SCORECARD_NAMES: Final = (
    "accuracy",
    "up_accuracy",
    "down_accuracy",
    "hits",
    "misses",
    "n_predictions",
    "up_predictions",
    "down_predictions",
    "edge",
    "edge_return",
    "mean_move_right",
    "mean_move_wrong",
    "threshold",
)

#: One line for the assumption ledger / a table caption.
SCORECARD_CONVENTION: Final = (
    "prediction at bar t (UP if signal > threshold, DOWN if < -threshold, else neutral and not "
    "scored) vs the close-to-close move from t to t+1; a flat move counts as wrong; edge = mean "
    "|move| when right - mean |move| when wrong (price units)"
)


def _as_series(x: object, name: str) -> pd.Series:
    if isinstance(x, pd.Series):
        return x
    if isinstance(x, np.ndarray) and x.ndim == 1:
        return pd.Series(x)
    raise EngineError(f"{name} must be a pandas Series or a 1-D array, got {type(x).__name__}")


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if x.size else float("nan")


def prediction_scorecard(
    signal: pd.Series | np.ndarray, close: pd.Series | np.ndarray, threshold: float = 0.0
) -> dict[str, float]:
    """Score the direction calls of a signal against the next close-to-close move.

    Parameters
    ----------
    signal : Series or 1-D array
        The signal on the bars (NaN = no view). A Series must carry the same index as
        ``close``.
    close : Series or 1-D array
        Close prices of the same bars.
    threshold : float, default 0
        ``|signal| <= threshold`` is a neutral (unscored) bar; must be in [0, 1).

    Returns
    -------
    dict of str -> float
        Keys :data:`SCORECARD_NAMES`. Accuracies are fractions (NaN with no call of that
        kind); counts are floats. See the module notes for the convention.
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float, np.integer, np.floating))
        or not 0.0 <= threshold < 1.0
    ):
        raise EngineError(f"threshold must be a number in [0, 1), got {shown(threshold)}")
    sig = _as_series(signal, "signal")
    px = _as_series(close, "close")
    if len(sig) != len(px):
        raise EngineError(f"signal has {len(sig)} bars but close has {len(px)}; align them first")
    if (
        isinstance(signal, pd.Series)
        and isinstance(close, pd.Series)
        and not sig.index.equals(px.index)
    ):
        raise EngineError(
            "signal and close have different indexes; align them first "
            "(signal.reindex(close.index))"
        )
    try:
        s = sig.to_numpy(dtype=np.float64)
        c = px.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"signal and close must be numeric ({exc})") from None
    thr = float(threshold)
    if c.size < 2:
        s, move, base = s[:0], c[:0], c[:0]
    else:
        s, move, base = s[:-1], c[1:] - c[:-1], c[:-1]
    up = s > thr
    down = s < -thr
    scored = (up | down) & np.isfinite(move)
    up &= scored
    down &= scored
    right = (up & (move > 0.0)) | (down & (move < 0.0))
    wrong = scored & ~right
    size = np.abs(move)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = size / base
    n = int(scored.sum())
    n_up, n_down = int(up.sum()), int(down.sum())
    hits = int(right.sum())
    right_move, wrong_move = _mean(size[right]), _mean(size[wrong])
    return {
        "accuracy": hits / n if n else float("nan"),
        "up_accuracy": int((right & up).sum()) / n_up if n_up else float("nan"),
        "down_accuracy": int((right & down).sum()) / n_down if n_down else float("nan"),
        "hits": float(hits),
        "misses": float(n - hits),
        "n_predictions": float(n),
        "up_predictions": float(n_up),
        "down_predictions": float(n_down),
        "edge": right_move - wrong_move,
        "edge_return": _mean(rel[right]) - _mean(rel[wrong]),
        "mean_move_right": right_move,
        "mean_move_wrong": wrong_move,
        "threshold": thr,
    }
