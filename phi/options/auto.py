"""``structure="auto"``: the structure chosen per bar from the regime and the volatility state.

The seed's OptionsEngine, rebuilt causally. At each bar's close three states are read:

* **dominant regime** - the MFT engine's dominant bin (:meth:`phi.regime.engine.RegimeResult.
  dominant_regime`, computed from bars up to that close), or labels the caller passes;
* **IV regime** - ``ratio = ATM implied vol / realised vol over a long window`` (``5 x
  vol_window`` bars, annualised like the vol model): ``LOW_IV`` below 0.9 (options cheap next
  to the stock's own history), ``HIGH_IV`` above 1.3, else ``NORMAL``;
* **GEX regime** - from a chain's gamma exposure (:mod:`phi.options.gex`): ``FLIP`` when a
  zero crossing lies within 10 % of spot, ``PINNING`` when ``gamma_net >= 0.3``, ``AMPLIFY``
  when ``<= -0.3``, else ``NEUTRAL``; ``NEUTRAL`` on every bar without a chain's GEX.

The first row of :data:`AUTO_TABLE` that matches (``ANY`` is a wildcard, ``side`` the signal's
direction at the entry) names the structure; no row matching falls back to ``long_call`` /
``long_put`` by the signal's side. A bar whose regime is unknown (the engine's warm-up) opens
nothing. The signal still decides *when* to trade, as with a fixed structure.

Fixed from the seed: the iron condor is wired like the fixed one (long far put, short near put,
short near call, long far call); strikes by delta use the model's delta (never a chain's
missing greeks); no chain of today is used for past bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from phi.errors import ConfigError

__all__ = ["AUTO_TABLE", "IV_HIGH", "IV_LOW", "AutoChoice", "AutoRule", "choose_structures", "gex_regime", "iv_regime"]

IV_LOW: Final = 0.9
IV_HIGH: Final = 1.3
GEX_PIN: Final = 0.3
ANY: Final = "ANY"


@dataclass(frozen=True)
class AutoRule:
    """One row: regime, IV regime, GEX regime, signal side (``up``/``down``/ANY) -> structure."""

    regime: str
    iv: str
    gex: str
    side: str
    structure: str

    def matches(self, regime: np.ndarray, iv: np.ndarray, gex: np.ndarray, side: str) -> np.ndarray:
        m = np.ones(len(regime), dtype=bool)
        for want, got in ((self.regime, regime), (self.iv, iv), (self.gex, gex)):
            if want != ANY:
                m &= got == want
        return m if self.side in (ANY, side) else np.zeros(len(regime), dtype=bool)


AUTO_TABLE: Final[tuple[AutoRule, ...]] = (
    AutoRule(ANY, ANY, "FLIP", ANY, "straddle"),
    AutoRule("EXHAUST_REV", ANY, ANY, ANY, "straddle"),
    AutoRule("RANGE", "HIGH_IV", "PINNING", ANY, "iron_condor"),
    AutoRule("RANGE", "HIGH_IV", "NEUTRAL", ANY, "iron_condor"),
    AutoRule("TREND_UP", "LOW_IV", ANY, "up", "long_call"),
    AutoRule("TREND_UP", "NORMAL", ANY, "up", "bull_call_spread"),
    AutoRule("TREND_UP", "HIGH_IV", ANY, "up", "bull_put_spread"),
    AutoRule("TREND_DN", "LOW_IV", ANY, "down", "long_put"),
    AutoRule("TREND_DN", "NORMAL", ANY, "down", "bear_put_spread"),
    AutoRule("TREND_DN", "HIGH_IV", ANY, "down", "bear_call_spread"),
    AutoRule("BREAKOUT_UP", "LOW_IV", ANY, "up", "long_call"),
    AutoRule("BREAKOUT_UP", ANY, ANY, "up", "bull_call_spread"),
    AutoRule("BREAKOUT_DN", "LOW_IV", ANY, "down", "long_put"),
    AutoRule("BREAKOUT_DN", ANY, ANY, "down", "bear_put_spread"),
)
#: when no row matches
FALLBACK: Final = {"up": "long_call", "down": "long_put"}


@dataclass(frozen=True)
class AutoChoice:
    """Per bar: the structure for an up-cross and a down-cross (None: no entry), the states
    read, and the table row that decided (-1: the fallback)."""

    up: np.ndarray
    down: np.ndarray
    rule_up: np.ndarray
    rule_down: np.ndarray
    regime: np.ndarray
    iv_regime: np.ndarray
    iv_ratio: np.ndarray
    gex_regime: np.ndarray

    def reason(self, t: int, side: str) -> str:
        """Why bar ``t``'s close chose what it chose for ``side``."""
        rule = int((self.rule_up if side == "up" else self.rule_down)[t])
        which = f"rule {rule + 1}" if rule >= 0 else "fallback"
        return (
            f"{self.regime[t]}, {self.iv_regime[t]} (iv/rv {self.iv_ratio[t]:.2f}), GEX "
            f"{self.gex_regime[t]}, signal {side} -> {which}"
        )


def iv_regime(ratio: np.ndarray) -> np.ndarray:
    """``LOW_IV`` / ``NORMAL`` / ``HIGH_IV`` from IV / realised vol (``UNKNOWN`` where NaN)."""
    r = np.asarray(ratio, dtype=np.float64)
    out = np.where(r < IV_LOW, "LOW_IV", np.where(r > IV_HIGH, "HIGH_IV", "NORMAL")).astype(object)
    out[~np.isfinite(r)] = "UNKNOWN"
    return out


def gex_regime(gamma_net: np.ndarray, flip_zone: np.ndarray) -> np.ndarray:
    """``FLIP`` / ``PINNING`` / ``AMPLIFY`` / ``NEUTRAL`` from the GEX features (NaN: NEUTRAL)."""
    g = np.asarray(gamma_net, dtype=np.float64)
    f = np.asarray(flip_zone, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = np.where(g >= GEX_PIN, "PINNING", np.where(g <= -GEX_PIN, "AMPLIFY", "NEUTRAL")).astype(object)
    out[f == 1.0] = "FLIP"
    return out


def choose_structures(
    regime: pd.Series | np.ndarray,
    iv_ratio: np.ndarray,
    gex: np.ndarray | None = None,
) -> AutoChoice:
    """The first-match table applied to every bar (vectorised over bars).

    Parameters
    ----------
    regime : Series or array of str
        Dominant regime per bar (None/NaN: unknown, no entry).
    iv_ratio : array
        ATM implied vol / long-window realised vol per bar.
    gex : array of str, optional
        GEX regime per bar (default NEUTRAL everywhere).
    """
    reg = np.asarray(pd.Series(regime).astype(object).where(pd.Series(regime).notna(), None), dtype=object)
    n = len(reg)
    ratio = np.asarray(iv_ratio, dtype=np.float64)
    if len(ratio) != n:
        raise ConfigError(f"auto structure: {n} regime labels but {len(ratio)} IV ratios")
    ivr = iv_regime(ratio)
    gx = np.full(n, "NEUTRAL", dtype=object) if gex is None else np.asarray(gex, dtype=object)
    known = np.array([r is not None for r in reg]) & (ivr != "UNKNOWN")
    picks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for side in ("up", "down"):
        choice = np.full(n, None, dtype=object)
        rule = np.full(n, -1, dtype=np.int64)
        free = known.copy()
        for i, row in enumerate(AUTO_TABLE):
            hit = free & row.matches(reg, ivr, gx, side)
            choice[hit], rule[hit] = row.structure, i
            free &= ~hit
        choice[free] = FALLBACK[side]
        picks[side] = (choice, rule)
    return AutoChoice(picks["up"][0], picks["down"][0], picks["up"][1], picks["down"][1], reg, ivr, ratio, gx)


def chain_states(
    chain: object, days: pd.DatetimeIndex, close: np.ndarray, dte: int, r: float, q: float, when: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """On a real chain, per bar: the ATM implied vol (the expiry listed that day nearest ``dte``,
    the strike nearest the close; the mean of the call's and put's ``iv``, else of the mids'
    implied vols) and the GEX regime (``NEUTRAL`` without open interest). Only the bars where
    ``when`` is true are read (the others stay NaN / ``NEUTRAL``); each uses that day's quotes only."""
    from phi.options.black_scholes import implied_vol_detail
    from phi.options.chains import OptionChain, choose_expiry
    from phi.options.gex import gamma_exposure

    assert isinstance(chain, OptionChain)
    n = len(days)
    atm = np.full(n, np.nan)
    gex = np.full(n, "NEUTRAL", dtype=object)
    has_oi = "open_interest" in chain.quotes.columns
    for t in np.flatnonzero(when):
        day, s = days[t], float(close[t])
        listed = chain.listed_on(day)
        if listed.empty or not np.isfinite(s):
            continue
        exp = choose_expiry(listed, day, dte)
        if exp is None:
            continue
        rows = listed[listed["expiry"] == exp]
        k = rows["strike"].to_numpy(dtype=np.float64)
        at = rows[np.isclose(k, k[np.argmin(np.abs(k - s))])]
        tau = (exp - day).days / 365.0
        vols = at["iv"].to_numpy(dtype=np.float64) if "iv" in at else np.full(len(at), np.nan)
        if not np.isfinite(vols).any():
            mid = ((at["bid"] + at["ask"]) / 2).to_numpy(dtype=np.float64)
            with np.errstate(all="ignore"):
                vols, _ = implied_vol_detail(mid, s, at["strike"].to_numpy(), tau, r, q, at["kind"].to_numpy())
        if np.isfinite(vols).any():
            atm[t] = float(np.nanmean(vols))
        if has_oi:
            g = gamma_exposure(chain, day, spot=s, r=r, q=q)
            gex[t] = gex_regime(np.array([g.features["gamma_net"]]), np.array([g.features["gex_flip_zone"]]))[0]
    return atm, gex
