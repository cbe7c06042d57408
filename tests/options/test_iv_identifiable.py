"""Implied vol of deep out-of-the-money prices against 50-digit (mpmath) prices.

"Not identifiable" means a 1e-6 change of vol moves the exact price by less than the rounding
of the formula's terms at the scale of the bounds, ``8 eps (S e^{-qT} + K e^{-rT})`` (the
criterion of the in-the-money cases in ``test_reference_unseen.py``). A deep out-of-the-money
price under ~1e-14 of a 100 stock was called "not converged" (a solver failure) instead.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from phi.options.black_scholes import IV_REASONS, implied_vol_detail

mp = pytest.importorskip("mpmath")

EPS = float(np.finfo(float).eps)
S = 100.0
_MONEY = np.geomspace(0.25, 4.0, 25)  # K / S
_T = [1.0 / 525_600.0, 1.0 / 8_760.0, 1.0 / 365.0, 7.0 / 365.0, 30.0 / 365.0, 0.25, 1.0, 5.0]
_VOL = [0.01, 0.05, 0.2, 1.0, 2.0]
_R = [-0.05, 0.03]
_Q = [0.0, 0.08]


def _price(k: float, t: float, r: float, q: float, vol: float, w: float) -> object:
    with mp.workdps(50):
        s_, k_, t_, r_, q_, v_ = (mp.mpf(x) for x in (S, k, t, r, q, vol))
        d1 = (mp.log(s_ / k_) + (r_ - q_ + v_**2 / 2) * t_) / (v_ * mp.sqrt(t_))
        d2 = d1 - v_ * mp.sqrt(t_)
        return w * (s_ * mp.exp(-q_ * t_) * mp.ncdf(w * d1) - k_ * mp.exp(-r_ * t_) * mp.ncdf(w * d2))


def _cases(rows):
    """Per row: the float of the 50-digit price, and whether a 1e-6 vol change moves the exact
    price by at least the rounding of the bounds' terms (identifiable)."""
    price, ident = [], []
    for k, t, r, q, vol, w in rows:
        p0 = _price(k, t, r, q, vol, w)
        with mp.workdps(50):
            bump = abs(_price(k, t, r, q, vol + 1e-6, w) - p0)
        price.append(float(p0))
        ident.append(float(bump) >= 8.0 * EPS * (S * math.exp(-q * t) + k * math.exp(-r * t)))
    return np.array(price), np.array(ident)


def test_sweep_refuses_only_unidentifiable_prices_and_solves_the_rest():
    """8,000 options (25 strikes 0.25..4 x S, 1 minute..5 years, vol 1 %..200 %, calls and
    puts, r -5 % / 3 %, q 0 / 8 %): a refusal only where the price cannot pin the vol (always 'not
    identifiable', never 'not converged'); every other price solves to the vol it came from."""
    rows = [
        (S * m, t, r, q, vol, w)
        for m, t, r, q, vol, w in itertools.product(_MONEY, _T, _R, _Q, _VOL, (1.0, -1.0))
    ]
    price, ident = _cases(rows)
    k, t, r, q, vol, w = (np.array(c) for c in zip(*rows, strict=True))
    iv, reason = implied_vol_detail(price, S, k, t, r, q, w)
    refused = reason != 0
    assert set(np.unique(reason[refused]).tolist()) <= {6}, IV_REASONS[int(reason[refused].max())]
    assert not (refused & ident).any(), [rows[i] for i in np.flatnonzero(refused & ident)[:3]]
    np.testing.assert_allclose(iv[~refused], vol[~refused], rtol=0, atol=1e-6)
    # the sweep reaches the deep tails, and every price under 1e-14 of a 100 stock is refused
    tiny = (price > 0) & (price < 1e-14)
    assert tiny.sum() > 600 and (tiny & ~refused).sum() == 0
    assert (~refused).sum() > 2500 and refused.sum() > 4000


@pytest.mark.parametrize(
    ("k", "t", "r", "vol", "w"),
    [  # were 'not converged': out-of-the-money, 50-digit prices 1e-98 .. 1e-246
        (100.0 / 0.7, 1.0 / 8_760.0, -0.05, 1.0, 1.0),
        (100.0 / 0.7, 1.0 / 8_760.0, 0.03, 1.0, 1.0),
        (100.0 / 0.7, 30.0 / 365.0, 0.03, 0.05, 1.0),
        (100.0 / 0.8, 1.0 / 8_760.0, 0.03, 1.0, 1.0),
        (100.0 / 0.8, 1.0 / 365.0, 0.03, 0.2, 1.0),
        (100.0 / 1.25, 7.0 / 365.0, 0.03, 0.05, -1.0),
        (100.0 / 1.5, 30.0 / 365.0, 0.03, 0.05, -1.0),
    ],
)
def test_deep_out_of_the_money_tiny_price_is_not_identifiable(k, t, r, vol, w):
    price, ident = _cases([(k, t, r, 0.0, vol, w)])
    assert 0.0 < price[0] < 1e-90 and not ident[0]
    iv, reason = implied_vol_detail(price, S, k, t, r, 0.0, w)
    assert np.isnan(iv[0]) and int(reason[0]) == 6, IV_REASONS[int(reason[0])]
