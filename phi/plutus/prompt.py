"""The prompt Plutus sees: an OHLCV brief, the regime engine's brief and the trade journal.

Every number comes from the bars and the engine's outputs up to the decision bar, formatted
with fixed decimals, so one bar's prompt is the same text on every run (the reply cache keys
on it). Nothing reads the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from phi.data.schema import conform_bars
from phi.errors import ConfigError, DataError

if TYPE_CHECKING:
    from phi.plutus.journal import TradeJournal

__all__ = ["SYSTEM_PROMPT", "build_messages", "ohlcv_brief", "plutus_bars", "regime_brief", "regime_snapshot"]

SYSTEM_PROMPT: Final = (
    "You are Plutus, a cautious trading advisor. Read the market brief and answer with one JSON "
    'object only: {"signal": "BUY" | "SELL" | "HOLD", "confidence": number in [0, 1], '
    '"reasoning": string, "risk_note": string}. No other text. Prefer HOLD when the evidence is '
    "mixed. Use a confidence above 0.7 only when the regime signals agree with the price action. "
    "Learn from the trade journal's outcomes."
)

def _stamp(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else f"{ts:%Y-%m-%d %H:%M}"


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.2%}"


def plutus_bars(ohlcv: Any) -> pd.DataFrame:
    """``ohlcv`` as Plutus takes bars: :func:`phi.data.schema.conform_bars` with the five
    columns (the brief shows them all) on a DatetimeIndex, at least 2 bars."""
    frame = conform_bars(ohlcv, dated=True)
    if len(frame) < 2:
        raise DataError(f"Plutus needs at least 2 bars, got {len(frame)}")
    return frame


def ohlcv_brief(ohlcv: pd.DataFrame) -> str:
    """Last bar, 1/5/20-bar returns, 20-bar volatility, volume against its 20-bar mean
    (``ohlcv`` as :func:`plutus_bars` takes it)."""
    return _brief(plutus_bars(ohlcv))


def _brief(ohlcv: pd.DataFrame) -> str:
    """:func:`ohlcv_brief` of bars :func:`plutus_bars` has checked."""
    close = ohlcv["close"].to_numpy(dtype=np.float64)
    vol = ohlcv["volume"].to_numpy(dtype=np.float64)
    last = ohlcv.iloc[-1]

    def ret(k: int) -> float:
        return float(close[-1] / close[-1 - k] - 1.0) if len(close) > k else float("nan")

    rets = close[1:] / close[:-1] - 1.0
    vol20 = float(np.std(rets[-20:], ddof=1)) if len(rets) >= 2 else float("nan")
    vmean = float(np.mean(vol[-21:-1])) if len(vol) > 1 else float("nan")
    vratio = f"{vol[-1] / vmean:.2f}x" if vmean > 0 and math.isfinite(vmean) else "n/a"
    return "\n".join(
        [
            f"Bars available: {len(ohlcv)}, last bar {_stamp(ohlcv.index[-1])}",
            f"Last bar: open {last['open']:.2f}, high {last['high']:.2f}, low {last['low']:.2f}, "
            f"close {last['close']:.2f}, volume {last['volume']:,.0f}",
            f"Returns: 1 bar {_pct(ret(1))}, 5 bars {_pct(ret(5))}, 20 bars {_pct(ret(20))}",
            f"Volatility (std of the last 20 one-bar returns): {vol20:.2%}" if math.isfinite(vol20) else "Volatility: n/a",
            f"Volume against its 20-bar mean: {vratio}",
        ]
    )


def regime_snapshot(result: Any, at: int = -1) -> dict[str, Any]:
    """The engine's values on bar ``at`` (position) of a :class:`~phi.regime.RegimeResult`:
    timestamp, regime probabilities, dominant regime and the mix columns."""
    probs = result.regime_probs.iloc[at]
    mix = result.mix.iloc[at]
    p = {k: float(v) for k, v in probs.items()}
    finite = {k: v for k, v in p.items() if math.isfinite(v)}
    return {
        "timestamp": result.regime_probs.index[at],
        "regime_probs": p,
        "dominant_regime": max(finite, key=finite.__getitem__) if finite else None,
        **{k: float(v) for k, v in mix.items()},
    }


def regime_brief(regime: Any, top: int = 3) -> str:
    """Composite, score, the three confidences and the top regimes with their probabilities.

    ``regime`` is a :class:`~phi.regime.RegimeResult` (its last bar), a dict like
    :func:`regime_snapshot` / ``RegimeResult.latest()``, or None.
    """
    if regime is None:
        return "Regime engine: not used."
    if isinstance(regime, Mapping):
        snap: Mapping[str, Any] = regime
    elif hasattr(regime, "regime_probs") and hasattr(regime, "mix"):
        snap = regime_snapshot(regime)
    else:
        raise ConfigError(
            f"regime must be a RegimeResult, a dict like RegimeResult.latest() or None, got {type(regime).__name__}"
        )

    def real(v: Any) -> float:  # a value of a caller's dict: a number, else NaN
        try:
            return float(v)
        except (TypeError, ValueError, OverflowError):
            return float("nan")

    given = snap.get("regime_probs")
    probs = {str(k): real(v) for k, v in given.items()} if isinstance(given, Mapping) else {}
    probs = {k: v for k, v in probs.items() if math.isfinite(v)}
    comp = real(snap.get("composite", float("nan")))
    if not probs or not math.isfinite(comp):
        return "Regime engine: not available on this bar (warm-up)."
    ranked = sorted(probs.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    def num(key: str, signed: bool = False) -> str:
        x = real(snap.get(key, float("nan")))
        return "n/a" if not math.isfinite(x) else (f"{x:+.3f}" if signed else f"{x:.3f}")

    try:
        when = f" at {_stamp(pd.Timestamp(snap['timestamp']))}" if snap.get("timestamp") is not None else ""
    except (TypeError, ValueError):
        when = ""
    return "\n".join(
        [
            f"Regime engine (MFT){when}: dominant {snap.get('dominant_regime')}; top regimes "
            + ", ".join(f"{k} {v:.2f}" for k, v in ranked),
            f"Composite {num('composite', True)} (+1 = buy), score {num('score', True)}; confidences: "
            f"field {num('c_field')}, consensus {num('c_consensus')}, liquidity {num('c_liquidity')}",
        ]
    )


def build_messages(ohlcv: pd.DataFrame, regime: Any = None, journal: TradeJournal | None = None, symbol: str | None = None) -> list[dict[str, str]]:
    """System and user messages for one decision on the last bar of ``ohlcv`` (as
    :func:`plutus_bars` takes it)."""
    return _messages(plutus_bars(ohlcv), regime, journal, symbol)


def _messages(bars: pd.DataFrame, regime: Any, journal: TradeJournal | None, symbol: str | None) -> list[dict[str, str]]:
    """:func:`build_messages` of bars :func:`plutus_bars` has checked (a decision loop checks
    its frame once, not once per bar)."""
    head = f"Symbol: {symbol}\n" if symbol else ""
    user = "\n\n".join(
        [
            head + _brief(bars),
            regime_brief(regime),
            journal.brief() if journal is not None else "Trade journal: not kept.",
            "Decide for the next bar: BUY, SELL or HOLD, as the JSON object described.",
        ]
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
