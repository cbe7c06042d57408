"""Black-Scholes-Merton kernels: numba loops over NumPy arrays (no pandas, no validation).

Every input array has either one element (a scalar broadcast over the loop) or ``n``;
``w`` is +1 for a call and -1 for a put. Results go into caller-allocated arrays.
:mod:`phi.options.black_scholes` is the only caller and documents the conventions.

With ``F = S exp((r-q)T)``, ``D = exp(-rT)``, ``v = sigma sqrt(T)``,
``d1 = ln(F/K)/v + v/2`` and ``d2 = d1 - v``::

    price = w D (F N(w d1) - K N(w d2))

When ``v == 0`` (``T == 0`` or ``sigma == 0``) ``d1 = d2 = +/-inf`` by the sign of
``ln(F/K)`` (0 at the forward), which gives the forward intrinsic value ``D max(w(F-K), 0)``
(the intrinsic value at ``T == 0``) and the limiting greeks (gamma and vega 0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)

#: bits of ``want`` in :func:`bs_nb`
WANT_PRICE = 1
WANT_DELTA = 2
WANT_GAMMA = 4
WANT_VEGA = 8
WANT_THETA = 16
WANT_RHO = 32

#: implied-vol status codes (``reason`` array of :func:`implied_vol_nb`)
IV_OK = 0
IV_NAN_INPUT = 1
IV_BELOW_INTRINSIC = 2
IV_ABOVE_MAXIMUM = 3
IV_NO_TIME_VALUE = 4
IV_NOT_CONVERGED = 5
IV_NOT_IDENTIFIABLE = 6
#: a time value below this (a put struck at 1 on a 174 stock: 6.6e-300) is past what the
#: solver's normalised price can resolve in double precision: reported as not identifiable
_TINY_TIME_VALUE = 1e-250

#: an implied vol is reported only when the price pins it down to this (absolute vol units)
IV_RESOLUTION = 1e-6
_EPS = 2.220446049250313e-16


@njit(cache=True, inline="always")
def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True, inline="always")
def _pdf(x: float) -> float:
    return _INV_SQRT2PI * math.exp(-0.5 * x * x)


@njit(cache=True, inline="always")
def _at(a: np.ndarray, i: int) -> float:
    return a[0] if a.shape[0] == 1 else a[i]


@njit(cache=True)
def bs_nb(
    s: np.ndarray,
    k: np.ndarray,
    t: np.ndarray,
    r: np.ndarray,
    q: np.ndarray,
    sigma: np.ndarray,
    w: np.ndarray,
    want: int,
    price: np.ndarray,
    delta: np.ndarray,
    gamma: np.ndarray,
    vega: np.ndarray,
    theta: np.ndarray,
    rho: np.ndarray,
) -> None:
    """Price and greeks (QuantLib units: vega per 1.0 vol, theta per year, rho per 1.0 rate)."""
    n = max(
        price.shape[0], delta.shape[0], gamma.shape[0], vega.shape[0], theta.shape[0], rho.shape[0]
    )
    for i in range(n):
        si, ki, ti, ri, qi = _at(s, i), _at(k, i), _at(t, i), _at(r, i), _at(q, i)
        vol, wi = _at(sigma, i), _at(w, i)
        sqt = math.sqrt(ti)
        v = vol * sqt
        disc = math.exp(-ri * ti)
        dq = math.exp(-qi * ti)
        lnfk = math.log(si / ki) + (ri - qi) * ti  # ln(F / K) without dividing by disc (0 for huge T)
        if v > 0.0:
            d1 = lnfk / v + 0.5 * v
            d2 = d1 - v
        elif not (v == 0.0 and lnfk == lnfk):  # a NaN input
            d1 = d2 = math.nan
        elif lnfk > 0.0:
            d1 = d2 = math.inf
        elif lnfk < 0.0:
            d1 = d2 = -math.inf
        else:
            d1 = d2 = 0.0
        n1 = _cdf(wi * d1)
        n2 = _cdf(wi * d2)
        if want & WANT_PRICE:
            price[i] = wi * (si * dq * n1 - ki * disc * n2) + 0.0  # + 0.0: a worthless put is 0, not -0
        if want & WANT_DELTA:
            delta[i] = wi * dq * n1
        if want & (WANT_GAMMA | WANT_VEGA | WANT_THETA):
            pdf1 = _pdf(d1) if v != 0.0 else 0.0
            if want & WANT_GAMMA:
                gamma[i] = dq * pdf1 / si / v if v != 0.0 else 0.0  # si * v may underflow to 0
            if want & WANT_VEGA:
                vega[i] = si * dq * pdf1 * sqt
            if want & WANT_THETA:
                # sqt > 0: at T = 0 with a NaN vol, v is NaN (not 0) and numba would raise
                decay = -si * dq * pdf1 * vol / (2.0 * sqt) if v != 0.0 and sqt > 0.0 else 0.0
                theta[i] = decay + wi * (qi * si * dq * n1 - ri * ki * disc * n2)
        if want & WANT_RHO:
            rho[i] = wi * ki * ti * disc * n2


@njit(cache=True, inline="always")
def _norm_price(x: float, v: float, wi: float) -> float:
    """Normalised Black price ``b = w (e^{x/2} N(w d1) - e^{-x/2} N(w d2))``, ``x = ln(F/K)``."""
    d1 = x / v + 0.5 * v
    d2 = d1 - v
    return wi * (math.exp(0.5 * x) * _cdf(wi * d1) - math.exp(-0.5 * x) * _cdf(wi * d2))


@njit(cache=True)
def implied_vol_nb(
    p: np.ndarray,
    s: np.ndarray,
    k: np.ndarray,
    t: np.ndarray,
    r: np.ndarray,
    q: np.ndarray,
    w: np.ndarray,
    out: np.ndarray,
    reason: np.ndarray,
) -> None:
    """Implied vol by safeguarded Newton on the log of the out-of-the-money price.

    The price is first turned into its out-of-the-money twin by put-call parity (subtracting
    the forward intrinsic value ``D w (F - K)`` when in the money), normalised by
    ``D sqrt(F K)``; then ``ln b(v) = ln target`` is solved for ``v = sigma sqrt(T)``
    inside a bracket ``[lo, hi]`` that every step shrinks (a Newton step leaving the bracket
    is replaced by bisection). Prices outside ``[D max(w(F-K), 0), upper)`` get NaN and a
    status code (``IV_*``) instead of a vol.
    """
    n = out.shape[0]
    for i in range(n):
        pi, si, ki, ti = _at(p, i), _at(s, i), _at(k, i), _at(t, i)
        ri, qi, wi = _at(r, i), _at(q, i), _at(w, i)
        out[i] = np.nan
        if not (
            math.isfinite(pi)
            and math.isfinite(si)
            and math.isfinite(ki)
            and math.isfinite(ti)
            and math.isfinite(ri)
            and math.isfinite(qi)
        ):
            reason[i] = IV_NAN_INPUT
            continue
        disc = math.exp(-ri * ti)
        dq = math.exp(-qi * ti)
        if not (0.0 < disc < math.inf and 0.0 < dq < math.inf):  # e^(-rT) out of double range
            reason[i] = IV_NOT_IDENTIFIABLE
            continue
        fwd = si * dq / disc
        intrinsic = max(wi * disc * (fwd - ki), 0.0)
        upper = si * dq if wi > 0 else ki * disc
        scale = max(pi, intrinsic, 1e-300)
        # a price within the rounding error of S e^{-qT} N - K e^{-rT} N (how any price is
        # computed) below the bound is *at* the bound (no time value), not below it
        at_bound = max(1e-13 * scale, 8.0 * _EPS * (si * dq + ki * disc))
        if pi < intrinsic - at_bound:
            reason[i] = IV_BELOW_INTRINSIC
            continue
        if pi >= upper:
            reason[i] = IV_ABOVE_MAXIMUM
            continue
        if ti <= 0.0:
            reason[i] = IV_NO_TIME_VALUE
            continue
        tv = pi - intrinsic  # the out-of-the-money twin's price
        x = math.log(fwd / ki)
        wo = wi
        if wi * x > 0.0:
            wo = -wi
        if tv <= _TINY_TIME_VALUE:  # none, or so small that its normalised price underflows
            reason[i] = IV_NOT_IDENTIFIABLE
            continue
        c = tv / (disc * math.sqrt(fwd) * math.sqrt(ki))  # fwd * ki may underflow
        lc = math.log(c)
        lo = 0.0
        hi = 1.0
        while _norm_price(x, hi, wo) < c and hi < 1e3:
            lo = hi
            hi *= 2.0
        v = max(math.sqrt(2.0 * abs(x)), 0.5 * (lo + hi)) if lo == 0.0 else 0.5 * (lo + hi)
        if v >= hi or v <= lo:
            v = 0.5 * (lo + hi)
        for _ in range(200):
            b = _norm_price(x, v, wo)
            if b <= 0.0:
                lo = v
                v = 0.5 * (lo + hi)
                continue
            f = math.log(b) - lc
            if f == 0.0:
                break
            if f > 0.0:
                hi = v
            else:
                lo = v
            d1 = x / v + 0.5 * v
            vega = math.exp(0.5 * x) * _pdf(d1)
            step = f * b / vega if vega > 0.0 else math.inf
            nv = v - step
            if not (lo < nv < hi):
                nv = 0.5 * (lo + hi)
            if abs(nv - v) <= 1e-14 * v or hi - lo <= 1e-15 * hi:
                v = nv
                break
            v = nv
        # reproduced to 1e-10 relative, or within the rounding error of b's two terms (near the
        # money with a tiny sigma sqrt(T), b = N(d1) - N(d2) loses digits to cancellation)
        d1 = x / v + 0.5 * v
        b = _norm_price(x, v, wo)
        b_terms = math.exp(0.5 * x) * _cdf(wo * d1) + math.exp(-0.5 * x) * _cdf(wo * (d1 - v))
        b_noise = 8.0 * _EPS * b_terms
        # how far the vol could move within the price's rounding error: refuse a vol the price
        # does not pin down (deep in the money, no time value left in double precision)
        root = disc * math.sqrt(fwd) * math.sqrt(ki)
        vega_sigma = root * math.exp(0.5 * x) * _pdf(d1) * math.sqrt(ti)
        terms = si * dq * _cdf(wo * d1) + ki * disc * _cdf(wo * (d1 - v))
        # plus the rounding at the scale of the bounds, S e^{-qT} and K e^{-rT}: an in-the-money
        # time value carries it from its intrinsic part; a deep out-of-the-money price below it
        # is within rounding of its lower bound 0 (as ``at_bound`` says for one just below)
        noise = 8.0 * _EPS * (pi + terms) + 2.0 * _EPS * (si * dq + ki * disc)
        pinned = noise < IV_RESOLUTION * vega_sigma
        if abs(math.log(max(b, 1e-300)) - lc) > 1e-10 and not abs(b - c) <= b_noise:
            # a time value lost in the rounding of an in-the-money price pins no vol down: nor
            # does a price that keeps a few digits but moves less than its rounding over a
            # 1e-6 change of vol (hours to expiry several deviations in the money; a deep
            # out-of-the-money price under ~1e-14 of a 100 stock)
            lost = not pinned or (intrinsic > 0.0 and tv <= 8.0 * _EPS * (pi + si * dq + ki * disc))
            reason[i] = IV_NOT_IDENTIFIABLE if lost else IV_NOT_CONVERGED
            continue
        if not pinned:
            reason[i] = IV_NOT_IDENTIFIABLE
            continue
        out[i] = v / math.sqrt(ti)
        reason[i] = IV_OK


@njit(cache=True)
def bs_one_nb(
    s: float, k: float, t: float, r: float, q: float, vol: float, wi: float
) -> tuple[float, float, float, float, float]:
    """(price, delta, gamma, vega, theta) of one option, the formulas of :func:`bs_nb`."""
    sqt = math.sqrt(t)
    v = vol * sqt
    disc = math.exp(-r * t)
    dq = math.exp(-q * t)
    lnfk = math.log(s / k) + (r - q) * t
    if v > 0.0:
        d1 = lnfk / v + 0.5 * v
        d2 = d1 - v
    elif lnfk > 0.0:
        d1 = d2 = math.inf
    elif lnfk < 0.0:
        d1 = d2 = -math.inf
    else:
        d1 = d2 = 0.0
    n1 = _cdf(wi * d1)
    n2 = _cdf(wi * d2)
    price = wi * (s * dq * n1 - k * disc * n2)
    delta = wi * dq * n1
    if v > 0.0:
        pdf1 = _pdf(d1)
        gamma = dq * pdf1 / s / v
        vega = s * dq * pdf1 * sqt
        decay = -s * dq * pdf1 * vol / (2.0 * sqt)
    else:
        gamma = vega = decay = 0.0
    theta = decay + wi * (q * s * dq * n1 - r * k * disc * n2)
    return price, delta, gamma, vega, theta


@njit(cache=True)
def ndtri_nb(p: float) -> float:
    """Inverse of the standard normal CDF (Acklam's rational approximation, then one Halley
    step on ``erfc``: about 1e-15 relative), for ``0 < p < 1``."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    a0, a1, a2 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
    a3, a4, a5 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
    b0, b1, b2 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
    b3, b4 = 6.680131188771972e01, -1.328068155288572e01
    c0, c1, c2 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
    c3, c4, c5 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
    e0, e1, e2, e3 = (
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e00,
        3.754408661907416e00,
    )
    if p < 0.02425:
        u = math.sqrt(-2.0 * math.log(p))
        x = (((((c0 * u + c1) * u + c2) * u + c3) * u + c4) * u + c5) / (
            (((e0 * u + e1) * u + e2) * u + e3) * u + 1.0
        )
    elif p > 1.0 - 0.02425:
        u = math.sqrt(-2.0 * math.log(1.0 - p))
        x = -(((((c0 * u + c1) * u + c2) * u + c3) * u + c4) * u + c5) / (
            (((e0 * u + e1) * u + e2) * u + e3) * u + 1.0
        )
    else:
        u = p - 0.5
        rr = u * u
        x = (
            (((((a0 * rr + a1) * rr + a2) * rr + a3) * rr + a4) * rr + a5)
            * u
            / (((((b0 * rr + b1) * rr + b2) * rr + b3) * rr + b4) * rr + 1.0)
        )
    err = _cdf(x) - p
    step = err * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return x - step / (1.0 + 0.5 * x * step)


# ---- the put skew's no-arbitrage limit (phi.options.vol documents the model) ---------------
#: Laplace's continued fraction for the Mills ratio is used from this d2 on (the erfc form below)
_MILLS_CF_FROM = 8.0
_MILLS_CF_TERMS = 60
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


@njit(cache=True)
def _mills_nb(x: float) -> tuple[float, float]:
    """``(M, Q)``: the Mills ratio ``M(x) = N(-x) / phi(x)`` and ``Q(x) = 1 / M(x) - x``, both
    without overflow or cancellation (``Q`` from the continued fraction's tail for large x)."""
    if x < _MILLS_CF_FROM:
        m = _SQRT_HALF_PI * math.erfc(x / _SQRT2) * math.exp(0.5 * x * x)
        return m, 1.0 / m - x
    # M = 1 / (x + 1 / (x + 2 / (x + 3 / ...))): tail = x + 2 / (x + 3 / ...), Q = 1 / tail
    tail = x
    for n in range(_MILLS_CF_TERMS, 1, -1):
        tail = x + n / tail
    qq = 1.0 / tail
    return 1.0 / (x + qq), qq


@njit(cache=True)
def _skew_free_nb(skew: float, u: float, m: float) -> bool:
    """True when ``iv(K) = iv (1 + skew max(0, ln(S/K)))`` breaks no vertical-spread bound at
    any strike, for ``u = iv sqrt(T)`` and ``m = (r - q) T`` (see :func:`skew_limit_nb`)."""
    a = skew * u
    c = m - 1.0 / skew  # d2 on the put wing is 1/a + c/y - y/2 with y = u (1 + skew k) >= u
    if c < 0.0 and 2.0 * -c > u * u:  # d2 peaks inside the wing at y = sqrt(-2c)
        rad = math.sqrt(-2.0 * c)
        _, qq = _mills_nb(1.0 / a - rad)
        return qq <= rad  # a <= M(d2max), i.e. 1 / M(d2max) - d2max <= 1/a - d2max
    mm, _ = _mills_nb(m / u - 0.5 * u)  # d2 peaks at the money (k = 0)
    return mm >= a


@njit(cache=True)
def skew_limit_nb(skew: float, iv_atm: float, tau: float, r: float, q: float) -> float:
    """The put skew actually used: ``skew`` itself when it is free of vertical-spread
    arbitrage at this vol and time to expiry, else the steepest skew below it that is.

    With ``iv(K) = iv (1 + s ln(S/K))`` on ``K < S`` (flat above), a call's slope in strike is
    ``dC/dK = -D (N(d2) + s iv sqrt(T) phi(d2))`` there, so ``-D <= dC/dK <= 0`` (no call or put
    vertical worth more than its discounted width ``D (K2 - K1)`` or less than 0) holds at
    every strike iff ``s iv sqrt(T) <= M(d2)`` (the Mills ratio ``N(-d2) / phi(d2)``) at the wing's
    largest ``d2``, which has a closed form (:func:`_skew_free_nb`). The condition only gets
    harder as ``s`` grows, so the limit is found by bisection on ``s`` (64 steps after halving
    down to a bracket); the skew returned always passes the test.
    """
    if not (skew > 0.0 and iv_atm > 0.0 and tau > 0.0) or math.isinf(iv_atm):
        return skew
    u = iv_atm * math.sqrt(tau)
    m = (r - q) * tau
    if not (u > 0.0) or math.isinf(u) or _skew_free_nb(skew, u, m):
        return skew
    hi = skew
    lo = 0.5 * hi
    for _ in range(2200):  # halve to a free skew (a few steps unless the skew is absurd)
        if lo <= 0.0 or _skew_free_nb(lo, u, m):
            break
        hi = lo
        lo = 0.5 * lo
    if not (lo > 0.0) or not _skew_free_nb(lo, u, m):
        return 0.0
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        if _skew_free_nb(mid, u, m):
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def skew_limits_nb(
    skew: float, iv_atm: np.ndarray, tau: np.ndarray, r: float, q: float, out: np.ndarray
) -> None:
    """:func:`skew_limit_nb` over 1-d arrays ``iv_atm`` and ``tau`` (one length, or 1 broadcast)."""
    for i in range(out.shape[0]):
        out[i] = skew_limit_nb(skew, _at(iv_atm, i), _at(tau, i), r, q)
