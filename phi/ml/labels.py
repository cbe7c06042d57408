"""Forward labels for the classifiers, with the bar each label's window ends on.

A label at bar t looks forward; ``end[t]`` is the last bar it reads. Cross-validation purges
every training sample whose window ``[t, end[t]]`` reaches a test bar (:mod:`phi.ml.cv`).

* ``direction``: ``y_t = 1[close_(t+h) > close_t]``; ``end = t + h``.
* ``triple_barrier``: from ``close_t``, the first of bars t+1..t+h whose high reaches
  ``close_t * (1 + profit)`` gives 1 and whose low reaches ``close_t * (1 - stop)`` gives 0
  (both on one bar: the stop, conservatively); ``end`` is that bar. With no touch the time
  barrier decides: ``1[close_(t+h) > close_t]``, ``end = t + h``.

The last ``h`` bars have no label (NaN).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from phi.data.schema import conform_bars
from phi.errors import ConfigError, shown, unknown_choice

__all__ = ["LABELS", "LabelSpec", "make_labels"]

LABELS: tuple[str, ...] = ("direction", "triple_barrier")


@dataclass(frozen=True)
class LabelSpec:
    """What a classifier predicts: ``kind`` over ``horizon`` bars; barriers as fractions."""

    kind: str = "direction"
    horizon: int = 1
    profit: float = 0.02
    stop: float = 0.02

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str):
            raise ConfigError(f"label must be a label name ({', '.join(LABELS)}), got {shown(self.kind)}")
        if self.kind not in LABELS:
            raise ConfigError(unknown_choice("label", self.kind, LABELS))
        h = self.horizon
        if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 1 <= h <= 500:
            raise ConfigError(f"horizon must be an integer number of bars in 1..500, got {shown(h)}")
        object.__setattr__(self, "horizon", int(h))
        for name in ("profit", "stop"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < 1) or not math.isfinite(v):
                raise ConfigError(f"triple-barrier {name} must be a fraction in (0, 1), got {shown(v)}")
            object.__setattr__(self, name, float(v))

    def describe(self) -> str:
        """One line a trader can read."""
        if self.kind == "direction":
            return f"direction: close {self.horizon} bar(s) ahead above today's close"
        return (
            f"triple barrier: +{100 * self.profit:g} % profit / -{100 * self.stop:g} % stop "
            f"(intrabar, stop first) within {self.horizon} bar(s), else the close's direction"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (:meth:`from_dict` inverts it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelSpec:
        return cls(**d)


def make_labels(ohlcv: pd.DataFrame, spec: LabelSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(y, end)``: labels (1.0 up, 0.0 down, NaN undefined) and the bar each one ends on;
    ``ohlcv`` as :func:`phi.data.schema.conform_bars` takes it (the columns the label reads)."""
    ohlcv = conform_bars(ohlcv, ("close",) if spec.kind == "direction" else ("high", "low", "close"))
    close = ohlcv["close"].to_numpy(dtype=np.float64)
    n, h = len(close), spec.horizon
    y = np.full(n, np.nan)
    end = np.arange(n) + h
    m = n - h
    if m <= 0:
        return y, end
    y[:m] = (close[h:] > close[:m]).astype(np.float64)
    if spec.kind == "triple_barrier":
        high = ohlcv["high"].to_numpy(dtype=np.float64)
        low = ohlcv["low"].to_numpy(dtype=np.float64)
        # window row t holds bars t+1 .. t+h
        hw = np.lib.stride_tricks.sliding_window_view(high[1:], h)[:m]
        lw = np.lib.stride_tricks.sliding_window_view(low[1:], h)[:m]
        base = close[:m, None]
        up = hw >= base * (1.0 + spec.profit)
        dn = lw <= base * (1.0 - spec.stop)
        hit = up | dn
        any_hit = hit.any(axis=1)
        first = np.argmax(hit, axis=1)
        rows = np.arange(m)
        stop_first = dn[rows, first]
        y[:m] = np.where(any_hit, np.where(stop_first, 0.0, 1.0), y[:m])
        end[:m] = np.where(any_hit, rows + 1 + first, end[:m])
    return y, end
