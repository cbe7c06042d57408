"""PhiBot: the MFT regime engine's composite behind its confidence gate, as a preset.

The rule is the ``phibot`` indicator (:mod:`phi.indicators.phibot`): a buy call when the
composite is >= ``threshold`` and the confidence sqrt(c_field * c_consensus) >= ``confidence``,
a sell call at <= -``threshold`` with the same confidence, no call otherwise (gated out).
After a run, the ledger says how many bars each gate kept out (``phibot_gate``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phi.backtest.run_config import IndicatorConfig
from phi.strategies.catalogue import Preset, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PHIBOT", "gate_ledger"]


def gate_ledger(result: Any, frame: pd.DataFrame) -> None:
    """Add ``phibot_gate`` (bars evaluated, called and gated out by each gate) to the ledger."""
    from phi.indicators.phibot import gate_counts
    from phi.indicators.registry import compute_raw

    params = result.config.selection["phibot"]
    counts = gate_counts(compute_raw("phibot", frame, params), params["threshold"], params["confidence"])
    result.assumptions["phibot_gate"] = (
        f"{counts['evaluated']} bars evaluated: {counts['called']} passed both gates (a buy or sell call), "
        f"{counts['gated_out']} gated out ({counts['gated_by_composite']} with |composite| < {params['threshold']:g}, "
        f"{counts['gated_by_confidence']} more with confidence sqrt(c_field * c_consensus) < {params['confidence']:g})"
    )
    result.assumptions["phibot_gated_out_bars"] = counts["gated_out"]


PHIBOT = register(
    Preset(
        name="PhiBot",
        family="regime",
        description="The regime engine's composite, traded when strong and confident",
        rule=(
            "buy when composite >= 0.15 and confidence >= 0.30, sell when composite <= -0.15 with the same "
            "confidence; other bars are gated out"
        ),
        sides="long only",
        defaults="threshold 0.15, confidence floor 0.30 (sqrt(c_field * c_consensus)), 95 % of equity",
        source=(
            "reference BlendedMFTStrategy (REFERENCE §3.3); confidence as the geometric mean of c_field and "
            "c_consensus, since their product never reaches 0.30 on our engine"
        ),
        indicators=(IndicatorConfig("phibot", {"threshold": 0.15, "confidence": 0.30}),),
        aliases=("phi_bot", "blended_mft", "mft"),
        after_run=gate_ledger,
    )
)
