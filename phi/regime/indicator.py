"""The ``phi_mft`` indicator (type MFT): the regime engine's composite signal in the registry.

Registered when :mod:`phi.indicators.registry` is imported (one import line at its bottom).
The raw value is :attr:`RegimeResult.composite` (in [-1, +1], +1 = buy); the signal maps it
like every other unbounded raw value of the registry: ``clip(composite / (2 RMS_60), -1, 1)``,
so it saturates at twice its typical size (the composite blends trend-following and
mean-reversion experts that often disagree, so it rarely nears +-1 itself). No ``tanh`` and no
silent fallback to other indicators (the reference returned ``tanh(composite / 2)`` and, on
any error, ``tanh((rsi + macd) / 4)``). Causal; NaN during the engine's warm-up plus the 59
bars of the RMS. The engine and its calibrated config load on first use, so importing the
registry stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from phi.indicators.params import ALL_INPUTS, IndicatorSpec
from phi.indicators.registry import register_indicator

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PHI_MFT", "phi_mft_raw", "phi_mft_signal"]


def _result(df: pd.DataFrame) -> Any:
    from phi.regime.engine import RegimeEngine

    return RegimeEngine().run(df)


def phi_mft_signal(df: pd.DataFrame) -> pd.Series:
    """The MFT composite over twice its rolling RMS, clipped to [-1, +1] (see the module doc)."""
    import pandas as pd

    from phi.indicators.signals import rms_scale

    res = _result(df)
    values = rms_scale(res.composite.to_numpy(dtype="float64"), start=res.warmup)
    return pd.Series(values, index=df.index, dtype="float64")


def phi_mft_raw(df: pd.DataFrame) -> pd.DataFrame:
    """Composite, confidences, score and the 8 regime probabilities, one column each."""
    import pandas as pd

    res = _result(df)
    return pd.concat([res.mix, res.regime_probs], axis=1)


def _warmup(params: Mapping[str, Any]) -> int:
    from phi.indicators.signals import NORM_WINDOW
    from phi.regime.engine import engine_warmup

    return engine_warmup() + NORM_WINDOW - 1


PHI_MFT = IndicatorSpec(
    name="phi_mft",
    type="MFT",
    description="MFT regime engine: composite of regime-weighted expert signals (phi.regime)",
    signal_mapping=(
        "clip(composite / (2 * RMS_60(composite)), -1, 1); composite = 0.7 * regime-weighted mean "
        "of the expert signals + 0.3 * signed interaction term"
    ),
    params=(),
    compute=phi_mft_signal,
    raw=phi_mft_raw,
    warmup=_warmup,
    inputs=ALL_INPUTS,
)

register_indicator(PHI_MFT)
