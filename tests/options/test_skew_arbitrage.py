"""The put skew never values a vertical spread outside its static no-arbitrage bounds.

``iv(K) = iv (1 + s max(0, ln(S/K)))`` gives an in-the-money call a richer vol than a higher
strike's call; with ``s`` steep for the vega (long-dated, high vol) a call vertical was worth
more than its discounted width and a put vertical less than 0. The model now cuts ``s`` to the
steepest that keeps every vertical in ``[0, exp(-rT) (K2 - K1)]``; realistic skews are not cut.
References are the Black-Scholes formula written out here with scipy.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import erfcx
from scipy.stats import norm

from phi.errors import ConfigError
from phi.options.config import OptionsConfig
from phi.options.simulator import run_options_backtest
from phi.options.vol import skew_limit, skewed_iv


def _bs(s, k, t, r, q, vol, w):
    """Black-Scholes-Merton with scipy (w = +1 call, -1 put): the tests' reference."""
    v = vol * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q) * t) / v + 0.5 * v
    d2 = d1 - v
    return w * (s * np.exp(-q * t) * norm.cdf(w * d1) - k * np.exp(-r * t) * norm.cdf(w * d2))


def _mills(x):
    """N(-x) / phi(x) without underflow (inf far below the money, where it is)."""
    with np.errstate(over="ignore"):
        return np.sqrt(np.pi / 2) * erfcx(x / np.sqrt(2))


def _worst_slope_ratio(s, iv, t, r, q):
    """max over the put wing of ``s iv sqrt(t) / M(d2)``: > 1 where dC/dK < -exp(-rT)."""
    k = np.concatenate([np.linspace(0.0, 2.0, 40001), np.linspace(2.0, 200.0, 40001)])
    u = iv * math.sqrt(t)
    y = u * (1 + s * k)
    d2 = (k + (r - q) * t) / y - y / 2
    return float(np.max(s * u / _mills(d2)))


def test_worked_case_old_bull_call_spread_exceeded_its_width_new_one_is_within():
    # S 100, a 80/81 call spread, 2 years, r 2 %, iv 100 %, skew 5
    s0, k1, k2, t, r, iv = 100.0, 80.0, 81.0, 2.0, 0.02, 1.0
    width = math.exp(-r * t) * (k2 - k1)  # 0.96079: the most the spread can be worth today
    old_v1, old_v2 = iv * (1 + 5 * math.log(s0 / k1)), iv * (1 + 5 * math.log(s0 / k2))
    old = _bs(s0, k1, t, r, 0, old_v1, 1) - _bs(s0, k2, t, r, 0, old_v2, 1)
    assert old == pytest.approx(1.11556, abs=1e-5) and old > width  # the old model's arbitrage
    # the put vertical of the same strikes was worth less than 0
    assert _bs(s0, k2, t, r, 0, old_v2, -1) - _bs(s0, k1, t, r, 0, old_v1, -1) < 0

    s = skew_limit(5.0, iv, t, r)
    assert 0 < s < 5
    # s is the steepest skew whose slope bound e^{rT} vega |iv'(K)| <= N(-d2) holds on the wing:
    # binding at s (to the grid's resolution), broken just above it
    assert _worst_slope_ratio(s, iv, t, r, 0) == pytest.approx(1.0, abs=1e-6)
    assert _worst_slope_ratio(s * 1.001, iv, t, r, 0) > 1.0
    v1, v2 = skewed_iv(iv, s0, [k1, k2], 5.0, tau=t, rate=r)
    assert v1 == pytest.approx(iv * (1 + s * math.log(s0 / k1)), rel=1e-15)
    assert v2 == pytest.approx(iv * (1 + s * math.log(s0 / k2)), rel=1e-15)
    new = _bs(s0, k1, t, r, 0, v1, 1) - _bs(s0, k2, t, r, 0, v2, 1)
    assert 0 <= new <= width
    assert 0 <= _bs(s0, k2, t, r, 0, v2, -1) - _bs(s0, k1, t, r, 0, v1, -1) <= width
    # without tau the raw formula is unchanged (the limit needs a time to expiry)
    assert skewed_iv(iv, s0, k1, 5.0) == pytest.approx(old_v1, rel=1e-15)


@pytest.mark.parametrize("skew", [0.5, 1.0, 2.0, 5.0, 20.0, 100.0, 1e308])
@pytest.mark.parametrize("iv", [0.05, 0.2, 0.5, 1.0, 3.0])
@pytest.mark.parametrize("t", [1 / 365, 30 / 365, 1.0, 10.0])
@pytest.mark.parametrize(
    ("r", "q"), [(0.0, 0.0), (0.05, 0.0), (-0.5, 0.0), (1.0, 0.03), (0.02, 1.0)]
)
def test_no_call_or_put_vertical_leaves_its_bounds(skew, iv, t, r, q):
    s0 = 100.0
    strikes = s0 * np.exp(-np.linspace(-0.5, 6.0, 400))[::-1]  # 0.25 to 165, ascending
    vols = skewed_iv(iv, s0, strikes, skew, tau=t, rate=r, dividend_yield=q)
    call = _bs(s0, strikes, t, r, q, vols, 1)
    put = _bs(s0, strikes, t, r, q, vols, -1)
    disc = math.exp(-r * t)
    tol = 1e-9 * s0
    for step in (1, 7, 60):  # narrow and wide verticals
        k1, k2 = strikes[:-step], strikes[step:]
        bound = disc * (k2 - k1)
        cv = call[:-step] - call[step:]  # bull call spread C(K1) - C(K2)
        pv = put[step:] - put[:-step]  # bear put spread P(K2) - P(K1)
        assert (cv >= -tol).all() and (cv <= bound + tol).all(), (step, np.max(cv - bound))
        assert (pv >= -tol).all() and (pv <= bound + tol).all(), (step, np.min(pv))


def test_skew_zero_and_realistic_skews_are_unchanged_bit_for_bit():
    k = np.linspace(50.0, 150.0, 101)
    np.testing.assert_array_equal(skewed_iv(0.2, 100.0, k, 0.0, tau=30 / 365, rate=0.02), 0.2)
    assert skew_limit(0.0, 0.2, 30 / 365) == 0.0
    for skew in (0.5, 1.0, 2.0, 3.0):  # 30-day options at 20 % vol: no vertical was mispriced
        assert skew_limit(skew, 0.2, 30 / 365, 0.02) == skew
        np.testing.assert_array_equal(
            skewed_iv(0.2, 100.0, k, skew, tau=30 / 365, rate=0.02),
            0.2 * (1 + skew * np.log(100 / np.minimum(k, 100))),
        )


def _flat_bars(n: int) -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
    c = np.full(n, 100.0)
    return pd.DataFrame({"open": c, "high": c, "low": c, "close": c, "volume": 1e6}, index=idx)


@pytest.mark.parametrize(
    ("skew", "far_put", "far_iv"),
    # stored from the Black-Scholes formula (scipy): S 100, T 30/365, r 0.03, the near put
    # struck at 100 (2.1633098509046818 at vol 0.2), the far one at 95 with vol
    # 0.2 (1 + skew ln(100/95)): skew 2 is far inside the limit (9.5), so nothing moved
    [(0.0, 0.522878237732062, 0.2), (2.0, 0.6761844012403095, 0.2205173177550202)],
)
def test_simulator_prices_at_skew_zero_and_realistic_skew_match_black_scholes(
    skew, far_put, far_iv
):
    df = _flat_bars(40)
    sig = np.full(len(df), np.nan)
    sig[4], sig[5] = 0.0, -1.0  # a cross at bar 5's close: filled at bar 6's open (100)
    cfg = OptionsConfig(
        structure="bear_put_spread", dte=30, moneyness=(0.0, 0.05), skew=skew, iv_premium=1e-9,
        iv_floor=0.2, vol_window=2, risk_free_rate=0.03, contracts=1,
        profit_target_pct=None, stop_loss_pct=None,
    )  # fmt: skip
    legs = run_options_backtest(df, sig, cfg).legs
    assert list(legs.strike) == [100.0, 95.0]
    assert legs.entry_iv.iloc[0] == 0.2
    assert legs.entry_iv.iloc[1] == pytest.approx(far_iv, rel=1e-15)
    assert legs.entry_price.iloc[0] == pytest.approx(2.1633098509046818, rel=1e-12)
    assert legs.entry_price.iloc[1] == pytest.approx(far_put, rel=1e-12)


@pytest.mark.parametrize(
    ("structure", "rule", "iv_premium"),
    [
        ("bull_call_spread", {"strike_rule": "delta", "delta": (0.9, 0.85)}, 5.0),  # ITM calls
        ("bear_put_spread", {"moneyness": (0.0, 0.05)}, 3.0),
        ("bull_put_spread", {"moneyness": (0.0, 0.05)}, 3.0),
        ("iron_condor", {"moneyness": (0.02, 0.04)}, 3.0),
    ],
)
def test_a_backtest_with_a_huge_skew_keeps_every_spread_within_its_payoff(
    structure, rule, iv_premium
):
    # skew 100 (the most the config takes) on 1-year options at 70 % to 125 % vol: the old model
    # valued the bull put spread's put vertical at -13x its width (the bull put spread was
    # "bought" for a credit) and the iron condor ran to an equity of -8 million
    from tests.conftest import make_ohlcv

    df = make_ohlcv(600, seed=3)
    wave = np.sin(np.arange(len(df)) / 15.0)
    sig = wave if structure == "iron_condor" else np.sign(wave)  # |signal| must cross for a condor
    cfg = OptionsConfig(
        structure=structure, skew=100.0, dte=365, iv_premium=iv_premium, risk_pct=0.5,
        commission_per_contract=0.0, **rule,
    )  # fmt: skip
    res = run_options_backtest(df, sig, cfg)
    assert len(res.trades) >= 3
    mult = cfg.multiplier
    for i, tr in res.trades.iterrows():
        legs = res.legs[res.legs.trade == i]
        t = (tr.expiry - tr.entry_time).days / 365
        worst_width = 0.0
        for kind in ("call", "put"):  # each same-kind pair is one vertical
            pair = legs[legs.kind == kind].sort_values("strike")
            if len(pair) != 2:
                continue
            k1, k2 = pair.strike.to_numpy()
            lo, hi = pair.entry_price.to_numpy()
            vert = lo - hi if kind == "call" else hi - lo
            assert -1e-9 <= vert <= math.exp(-cfg.risk_free_rate * t) * (k2 - k1) + 1e-9
            worst_width = max(worst_width, k2 - k1)
        units = tr.units
        premium_paid = tr.entry_value  # < 0: a credit received
        # the P&L never beats the widest payout minus the premium, nor loses more than the
        # premium (a debit) or the width less the credit
        assert tr.pnl <= units * mult * worst_width - premium_paid + 1e-6
        assert tr.pnl >= -max(premium_paid, 0.0) - units * mult * worst_width - 1e-6
        if tr.entry_value > 0:  # a debit spread: it can lose at most what it cost
            assert tr.pnl >= -tr.entry_value - 1e-6
        else:  # a credit spread: it can gain at most the credit
            assert tr.pnl <= -tr.entry_value + 1e-6
    assert (res.equity > 0).all()


@pytest.mark.parametrize("skew", [100.5, 1000, 1e308, -0.1])
def test_a_skew_past_the_bound_is_refused_in_one_line(skew):
    with pytest.raises(ConfigError, match=r"^OptionsConfig\.skew must be in \[0, 100\], got "):
        OptionsConfig(skew=skew)
    assert OptionsConfig(skew=100).skew == 100.0
