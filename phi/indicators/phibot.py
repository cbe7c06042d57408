"""PhiBot: the regime engine's composite behind a confidence gate, as a held signal.

At each bar the MFT regime engine (:mod:`phi.regime`) gives a ``composite`` in [-1, +1] and
the confidences ``c_field`` and ``c_consensus``. PhiBot calls a buy when ``composite >=
threshold`` and ``confidence >= floor``, a sell when ``composite <= -threshold`` with the same
confidence; every other bar is *gated out* (no call). The signal holds the latest call (+1 /
-1, 0 before the first), like the other rule indicators (:mod:`phi.indicators.rules`).

Confidence here is the geometric mean ``sqrt(c_field * c_consensus)``: on the same [0, 1]
scale as each factor, and high only when both are. The reference used the plain product,
which on our engine never reaches its 0.30 floor (its largest value on ten years of demo data
is 0.28), so the reference bot never traded (REFERENCE §3.3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from phi.indicators import _rules_nb

__all__ = ["gate_counts", "phibot_raw", "phibot_signal"]


def _mix(df: pd.DataFrame) -> pd.DataFrame:
    """The engine's ``composite``, ``c_field`` and ``c_consensus``; all NaN on a frame of exactly
    the engine's warm-up (PhiBot's warm-up + 1 bars: its "no call yet" 0 on the last bar), where
    the engine itself has no value yet and refuses to run."""
    from phi.regime.engine import RegimeEngine, engine_warmup

    if len(df) <= engine_warmup():
        nan = np.full(len(df), np.nan)
        return pd.DataFrame({"composite": nan, "c_field": nan, "c_consensus": nan}, index=df.index)
    return RegimeEngine().run(df).mix


def _calls(mix: pd.DataFrame, threshold: float, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    comp = mix["composite"].to_numpy(dtype=np.float64)
    conf = np.sqrt(np.clip(mix["c_field"].to_numpy(dtype=np.float64) * mix["c_consensus"].to_numpy(dtype=np.float64), 0.0, None))
    with np.errstate(invalid="ignore"):
        strong = np.abs(comp) >= threshold
        sure = conf >= confidence
        calls = np.where(strong & sure, np.sign(comp), 0.0)
    calls[np.isnan(comp) | np.isnan(conf)] = np.nan
    return calls, conf


def phibot_raw(df: pd.DataFrame, threshold: float, confidence: float) -> pd.DataFrame:
    """Columns ``composite``, ``confidence`` (geometric mean of c_field and c_consensus) and
    ``call`` (+1 / -1 where both gates pass, 0 where gated out, NaN during the warm-up)."""
    mix = _mix(df)
    calls, conf = _calls(mix, threshold, confidence)
    return pd.DataFrame({"composite": mix["composite"].to_numpy(dtype=np.float64), "confidence": conf, "call": calls}, index=df.index)


def phibot_signal(df: pd.DataFrame, threshold: float, confidence: float) -> pd.Series:
    """+1 from a gated-in buy call until a gated-in sell call (then -1), 0 before the first."""
    calls, _ = _calls(_mix(df), threshold, confidence)
    from phi.regime.engine import engine_warmup

    return pd.Series(_rules_nb.latch_nb(np.ascontiguousarray(calls), engine_warmup()), index=df.index, dtype="float64")


def gate_counts(raw: pd.DataFrame, threshold: float, confidence: float) -> dict[str, int]:
    """How the gates treated the bars of :func:`phibot_raw`'s output.

    ``evaluated`` bars (composite known), ``called`` (both gates passed), ``gated_out``
    (= evaluated - called), of which ``gated_by_composite`` (``|composite| < threshold``) and
    ``gated_by_confidence`` (composite strong enough, confidence below the floor).
    """
    comp = raw["composite"].to_numpy(dtype=np.float64)
    conf = raw["confidence"].to_numpy(dtype=np.float64)
    ok = ~(np.isnan(comp) | np.isnan(conf))
    strong = np.abs(comp[ok]) >= threshold
    sure = conf[ok] >= confidence
    called = int((strong & sure).sum())
    return {
        "evaluated": int(ok.sum()),
        "called": called,
        "gated_out": int(ok.sum()) - called,
        "gated_by_composite": int((~strong).sum()),
        "gated_by_confidence": int((strong & ~sure).sum()),
    }
