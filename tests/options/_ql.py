"""QuantLib's AnalyticEuropeanEngine as the reference for prices and greeks (test-only)."""

from __future__ import annotations

import QuantLib as ql

_TODAY = ql.Date(15, 1, 2024)


def ql_european(s: float, k: float, days: int, r: float, q: float, vol: float, kind: str) -> dict:
    """NPV and greeks of one European option; T = days / 365 (Actual/365 Fixed)."""
    ql.Settings.instance().evaluationDate = _TODAY
    dc = ql.Actual365Fixed()
    spot = ql.QuoteHandle(ql.SimpleQuote(s))
    rates = ql.YieldTermStructureHandle(ql.FlatForward(_TODAY, r, dc, ql.Continuous))
    divs = ql.YieldTermStructureHandle(ql.FlatForward(_TODAY, q, dc, ql.Continuous))
    vols = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(_TODAY, ql.NullCalendar(), vol, dc))
    process = ql.BlackScholesMertonProcess(spot, divs, rates, vols)
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if kind == "call" else ql.Option.Put, k)
    option = ql.VanillaOption(payoff, ql.EuropeanExercise(_TODAY + days))
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return {
        "price": option.NPV(),
        "delta": option.delta(),
        "gamma": option.gamma(),
        "vega": option.vega(),
        "theta": option.theta(),
        "rho": option.rho(),
    }
