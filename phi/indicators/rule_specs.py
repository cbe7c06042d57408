"""Specs of the rule indicators (:mod:`phi.indicators.rules`), registered with the registry.

Imported at the bottom of :mod:`phi.indicators.registry` (one line). The compute functions are
:class:`~phi.indicators.params.Deferred`, so reading the specs imports neither pandas nor numba.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from phi.indicators.params import Deferred, IndicatorSpec, ParamSpec
from phi.indicators.registry import register_indicator

__all__ = ["PHIBOT", "PRESET_RULES", "RULE_INDICATORS"]


def _f(name: str) -> Deferred:
    return Deferred("phi.indicators.rules", name)


def _p(name: str, default: int, low: int, high: int, description: str) -> ParamSpec:
    return ParamSpec(name, int, default, low, high, 1, description)


def _lower_below_upper(p: Mapping[str, Any]) -> str | None:
    return None if p["lower"] < p["upper"] else "lower must be smaller than upper"


_HELD = "held: +1 from a buy call until a sell call, -1 after a sell call, 0 before the first call"

RULE_INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="buy_and_hold",
        type="B",
        description="Buy and hold: buy once at the start, never sell",
        signal_mapping="0 on the first bar, +1 afterwards (one buy at the second bar's close)",
        params=(),
        compute=_f("buy_and_hold_signal"),
        raw=_f("buy_and_hold_raw"),
        warmup=lambda p: 0,
        inputs=("close",),
    ),
    IndicatorSpec(
        name="rsi_band",
        type="A",
        description="RSI band rule: buy when Wilder RSI < lower, sell when RSI > upper",
        signal_mapping=f"call +1 if RSI < lower, -1 if RSI > upper (none if prices never moved); {_HELD}",
        params=(
            _p("period", 14, 2, 50, "bars of Wilder smoothing"),
            ParamSpec("lower", float, 30.0, 5.0, 45.0, 5.0, "oversold level: RSI below it calls a buy"),
            ParamSpec("upper", float, 70.0, 55.0, 95.0, 5.0, "overbought level: RSI above it calls a sell"),
        ),
        compute=_f("rsi_band_signal"),
        raw=_f("rsi_band_raw"),
        warmup=lambda p: p["period"] - 1,
        inputs=("close",),
        constraint=_lower_below_upper,
    ),
    IndicatorSpec(
        name="bollinger_band",
        type="A",
        description="Bollinger band rule: buy below the lower band, sell above the upper band",
        signal_mapping=f"call +1 if close < SMA - k*std, -1 if close > SMA + k*std; {_HELD}",
        params=(
            _p("period", 20, 5, 60, "bars of the SMA and std"),
            ParamSpec("nbdev", float, 2.0, 1.0, 3.5, 0.25, "band width in standard deviations"),
        ),
        compute=_f("bollinger_band_signal"),
        raw=_f("bollinger_band_raw"),
        warmup=lambda p: p["period"] - 2,
        inputs=("close",),
    ),
    IndicatorSpec(
        name="channel_breakout",
        type="B",
        description="Donchian channel breakout: close above the prior n-bar high buys, below the low sells",
        signal_mapping=f"call +1 if close > max(high of the n bars before), -1 if close < min(low of them); {_HELD}",
        params=(_p("period", 20, 2, 120, "bars of the channel (the current bar excluded)"),),
        compute=_f("channel_breakout_signal"),
        raw=_f("channel_breakout_raw"),
        warmup=lambda p: p["period"] - 1,
        inputs=("high", "low", "close"),
    ),
    IndicatorSpec(
        name="wyckoff_phase",
        type="C",
        description="Wyckoff phase: accumulation low in the range on up-volume buys, distribution sells",
        signal_mapping=(
            "pos = close's place in the last lookback+1 closes' range; call +1 if pos <= r and "
            f"mean up-close volume > mean down-close volume, -1 if pos >= 1 - r and the reverse; {_HELD}"
        ),
        params=(
            _p("lookback", 30, 5, 120, "bars of the range and the volume comparison"),
            ParamSpec("range_pct", float, 0.3, 0.05, 0.5, 0.05, "bottom / top share of the range that can call"),
        ),
        compute=_f("wyckoff_phase_signal"),
        raw=_f("wyckoff_phase_raw"),
        warmup=lambda p: p["lookback"] - 1,
        inputs=("close", "volume"),
    ),
    IndicatorSpec(
        name="liquidity_pools",
        type="C",
        description="Liquidity pools: swing highs/lows as resting stops; trade sweeps and the pull of the nearer pool",
        signal_mapping=(
            "call -1 on a sweep of a swing high, +1 on a sweep of a swing low, else +1 on a bullish bar "
            f"with the nearer pool overhead, -1 on a non-bullish bar with it below; {_HELD}"
        ),
        params=(
            _p("lookback", 40, 8, 200, "bars searched for swing highs and lows"),
            _p("strength", 3, 1, 3, "bars on each side a swing must strictly exceed"),
        ),
        compute=_f("liquidity_pools_signal"),
        raw=_f("liquidity_pools_raw"),
        warmup=lambda p: p["lookback"] - 1,
        inputs=("open", "high", "low", "close"),  # lookback >= 8 > 2 * strength: a swing fits
    ),
)


for _spec in RULE_INDICATORS:
    register_indicator(_spec)


def _phibot_warmup(params: Mapping[str, Any]) -> int:
    from phi.regime.engine import engine_warmup

    return engine_warmup() - 1


PHIBOT = IndicatorSpec(
    name="phibot",
    type="MFT",
    description="PhiBot: the regime engine's composite, traded only when it is strong and the engine confident",
    signal_mapping=(
        "call sign(composite) if |composite| >= threshold and sqrt(c_field * c_consensus) >= confidence, "
        f"else gated out (no call); {_HELD}"
    ),
    params=(
        ParamSpec("threshold", float, 0.15, 0.0, 1.0, 0.05, "smallest |composite| that calls"),
        ParamSpec("confidence", float, 0.30, 0.0, 1.0, 0.05, "confidence floor: sqrt(c_field * c_consensus)"),
    ),
    compute=Deferred("phi.indicators.phibot", "phibot_signal"),
    raw=Deferred("phi.indicators.phibot", "phibot_raw"),
    warmup=_phibot_warmup,
    inputs=("open", "high", "low", "close", "volume"),
)
register_indicator(PHIBOT)

#: The strategy presets' rule indicators: left out of PhiAI's default candidates (full auto
#: searches the signal indicators; a preset's rules are tuned when named explicitly).
PRESET_RULES: frozenset[str] = frozenset(s.name for s in (*RULE_INDICATORS, PHIBOT))
