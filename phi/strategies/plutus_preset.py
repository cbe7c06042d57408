"""The "Plutus" preset of the strategy catalogue: the LLM advisor's calls as the run's signal.

One of the catalogue's ``FAMILIES``, marked ``needs_server``: running it asks an LLM server for
every reply not yet in the reply cache, so "every preset" loops (``phi strategies compare`` with
no names, the catalogue's tests) leave it out; ``phi strategies list``, the Backtests page and
``get("Plutus")`` show it.
"""

from __future__ import annotations

from phi.backtest.run_config import IndicatorConfig
from phi.plutus.indicator import PLUTUS as PLUTUS_INDICATOR
from phi.plutus.indicator import register as register_indicator
from phi.strategies.catalogue import Preset, register

__all__ = ["PLUTUS", "ensure_registered"]

PLUTUS = Preset(
    name="Plutus",
    family="llm",
    description="A local LLM (Ollama / OpenAI-compatible) reads an OHLCV brief, the MFT regime brief and its trade journal",
    rule=(
        "long on a BUY with confidence >= 0.60, out on such a SELL; HOLD, weaker calls and unusable replies keep the "
        "position; one question per bar, replies cached by prompt hash under PHI_HOME"
    ),
    sides="long only",
    defaults="ask every bar, min confidence 0.60, model 0xroyce/plutus ($PHI_PLUTUS_MODEL), server $OLLAMA_HOST",
    source="the seed's PlutusStrategy + PlutusAdvisor (REFERENCE §3.3), journal dated by bars, strict JSON replies",
    indicators=(IndicatorConfig("plutus", {p.name: p.default for p in PLUTUS_INDICATOR.params}),),
    aliases=("PlutusBot", "Plutus Bot"),
    needs_server="an LLM server (Ollama or OpenAI-compatible) for replies not yet in the reply cache",
)


def ensure_registered() -> Preset:
    """Register the ``plutus`` indicator and this preset (again, if a caller removed them)."""
    register_indicator()
    return register(PLUTUS)


ensure_registered()
