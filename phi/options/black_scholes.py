"""Black-Scholes-Merton prices, greeks and implied vol for European options, vectorised.

Conventions (the same as QuantLib's ``AnalyticEuropeanEngine``, which the tests hold these
functions to within 1e-10):

* ``S`` spot, ``K`` strike, ``T`` time to expiry in years, ``r`` continuously compounded
  risk-free rate, ``q`` continuous dividend yield, ``sigma`` annual volatility (0.2 = 20 %);
* ``kind`` is ``"call"`` / ``"put"`` (or ``"c"`` / ``"p"``, any case), or an array of them,
  or of +1 (call) / -1 (put);
* greeks in QuantLib's units: ``delta`` per 1.0 of spot, ``gamma`` per 1.0 of spot squared,
  ``vega`` per 1.0 of vol (0.01 = one vol point), ``theta`` per year (calendar time; the
  change of value as ``T`` shrinks), ``rho`` per 1.0 of rate. :func:`vega_per_point` and
  :func:`theta_per_day` give the per-vol-point and per-calendar-day figures traders quote;
* limits: at ``T == 0`` the price is the intrinsic value; at ``sigma == 0`` (``T > 0``) it
  is the forward intrinsic value ``exp(-rT) max(w (F - K), 0)``; gamma and vega are then 0
  and delta is the step function (half the step exactly at the forward).

Every input broadcasts against the others (NumPy rules); scalars in give a float out. A NaN
input gives NaN; a non-positive spot or strike, a negative time or vol, an infinite value is
a :class:`~phi.errors.ConfigError` naming the first bad element.

Example (Hull, *Options, Futures and Other Derivatives*, Example 15.6)::

    >>> round(bs_price(42, 40, 0.5, 0.1, 0.0, 0.2, "call"), 2)
    4.76
    >>> round(bs_price(42, 40, 0.5, 0.1, 0.0, 0.2, "put"), 2)
    0.81
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from phi.errors import ConfigError, shown
from phi.options import _nb

__all__ = [
    "IV_REASONS",
    "Greeks",
    "bs_greeks",
    "bs_price",
    "bs_price_delta",
    "implied_vol",
    "implied_vol_detail",
    "kind_sign",
    "rho_per_point",
    "theta_per_day",
    "vega_per_point",
]

#: Implied-vol status codes -> what they mean (``implied_vol_detail``'s ``reason``).
IV_REASONS: dict[int, str] = {
    _nb.IV_OK: "ok",
    _nb.IV_NAN_INPUT: "a NaN or infinite input",
    _nb.IV_BELOW_INTRINSIC: (
        "price below the no-arbitrage lower bound exp(-rT) max(w (F - K), 0) "
        "(the forward intrinsic value)"
    ),
    _nb.IV_ABOVE_MAXIMUM: (
        "price at or above the no-arbitrage upper bound (S exp(-qT) for a call, "
        "K exp(-rT) for a put)"
    ),
    _nb.IV_NO_TIME_VALUE: "no time left (T = 0): every vol gives the intrinsic value",
    _nb.IV_NOT_CONVERGED: "the solver could not reproduce the price to 1e-10 (relative)",
    _nb.IV_NOT_IDENTIFIABLE: (
        "the price does not pin the vol down to 1e-6: its time value is lost in rounding "
        "(deep in or out of the money, or at the no-arbitrage lower bound)"
    ),
}

_KINDS = {"call": 1.0, "c": 1.0, "put": -1.0, "p": -1.0}


class Greeks(NamedTuple):
    """Black-Scholes-Merton greeks in QuantLib's units (see the module notes)."""

    delta: Any
    gamma: Any
    vega: Any
    theta: Any
    rho: Any


def kind_sign(kind: Any) -> np.ndarray:
    """+1.0 for a call, -1.0 for a put: ``kind`` a string, or an array of strings or of +/-1."""
    if isinstance(kind, str):
        sign = _KINDS.get(kind.strip().lower())
        if sign is None:
            raise ConfigError(f"option kind must be 'call' or 'put', got {kind!r}")
        return np.array([sign])
    arr = np.asarray(kind)
    if arr.dtype.kind in "iuf":
        out = arr.astype(np.float64)
        if not np.all((out == 1.0) | (out == -1.0)):
            raise ConfigError("numeric option kinds must be +1 (call) or -1 (put)")
        return out
    items = list(arr.ravel())
    flat = [x.strip().lower() if isinstance(x, str) else None for x in items]
    bad = [item for item, x in zip(items, flat, strict=True) if x not in _KINDS]
    if bad:  # None or True is shown as given, not as the string 'none' or 'true'
        raise ConfigError(f"option kind must be 'call' or 'put', got {shown(bad[0])}")
    return np.array([_KINDS[x] for x in flat if x is not None], dtype=np.float64).reshape(arr.shape)


def _kernel(fn: Any) -> Any:
    """A numba dispatcher, typed loosely (its stubs do not know our signatures)."""
    return fn


def _as_float(name: str, value: Any) -> np.ndarray:
    try:
        if value is None:  # np.asarray(None, float) is NaN: a missing input, not a number
            raise TypeError
        arr = np.asarray(value)
        if arr.dtype.kind in "bc":  # True would price as 1.0, 100+1j as 100: not a real number
            raise TypeError
        arr = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be a number or an array of numbers, got {shown(value)}"
        ) from None
    return arr


def _check(name: str, arr: np.ndarray, rule: str) -> None:
    """Raise on the first element breaking ``rule`` (NaN passes: it propagates as NaN)."""
    if arr.size:  # fast path: two reductions; NaN or a bad value falls through to the scan
        lo, hi = arr.min(), arr.max()
        if hi < np.inf and (
            (rule == "pos" and lo > 0.0)
            or (rule == "nonneg" and lo >= 0.0)
            or (rule not in ("pos", "nonneg") and lo > -np.inf)
        ):
            return
    with np.errstate(invalid="ignore"):
        if rule == "pos":
            bad = (arr <= 0.0) | np.isinf(arr)
            text = "must be > 0 and finite"
        elif rule == "nonneg":
            bad = (arr < 0.0) | np.isinf(arr)
            text = "must be >= 0 and finite"
        else:
            bad = np.isinf(arr)
            text = "must be finite"
    if bad.any():
        idx = np.flatnonzero(bad.ravel())[0]
        where = "" if arr.ndim == 0 else f" (element {idx})"
        raise ConfigError(f"{name} {text}, got {float(arr.ravel()[idx])!r}{where}")  # never np.float64(...)


def _prepare(
    named: list[tuple[str, Any, str]], kind: Any
) -> tuple[list[np.ndarray], tuple[int, ...], bool]:
    """Validate, broadcast and flatten the inputs for a kernel: each becomes a 1-element array
    (a scalar) or a contiguous array of the broadcast size."""
    arrays = []
    for name, value, rule in named:
        arr = _as_float(name, value)
        _check(name, arr, rule)
        arrays.append(arr)
    w = kind_sign(kind)
    if isinstance(kind, str):
        w = w.reshape(())
    arrays.append(w)
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"{n}{a.shape}" for (n, _, _), a in zip(named, arrays, strict=False))
        raise ConfigError(f"inputs do not broadcast together: {shapes}, kind{w.shape}") from None
    size = int(np.prod(shape))
    flat = []
    for a in arrays:
        if a.size == 1:
            flat.append(a.reshape(1).astype(np.float64, copy=False))
        else:
            flat.append(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(size))
    scalar = len(shape) == 0
    return flat, shape, scalar


def _wrap(arr: np.ndarray, shape: tuple[int, ...], scalar: bool) -> Any:
    return float(arr[0]) if scalar else arr[: int(np.prod(shape))].reshape(shape)


try:  # scipy's ndtr with NumPy's SIMD exp/log is the fastest path; without scipy, numba
    from scipy.special import ndtr as _ndtr
except ImportError:  # pragma: no cover - scipy is optional
    _ndtr = None

_ALL = (
    _nb.WANT_PRICE,
    _nb.WANT_DELTA,
    _nb.WANT_GAMMA,
    _nb.WANT_VEGA,
    _nb.WANT_THETA,
    _nb.WANT_RHO,
)
_INV_SQRT2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _numpy_path(flat: list[np.ndarray], shape: tuple[int, ...], want: int) -> list[np.ndarray]:
    """The kernel's formulas in NumPy + ``scipy.special.ndtr`` (same limits, same NaN rules)."""
    s, k, t, r, q, sigma, w = (a if a.size == 1 else a.reshape(shape) for a in flat)
    s, k, t, r, q, sigma = (a.reshape(()) if a.size == 1 else a for a in (s, k, t, r, q, sigma))
    scalar_w = w.size == 1
    wv = float(w.reshape(())) if scalar_w else w.reshape(shape)
    call = scalar_w and wv > 0
    put = scalar_w and wv < 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        sqt = np.sqrt(t)
        v = sigma * sqt
        disc = np.exp(-r * t)
        dq = np.exp(-q * t)
        d1 = np.log(s / k)
        d1 += (r - q) * t
        zero = v == 0.0
        any_zero = bool(np.any(zero))
        lnfk = d1.copy() if any_zero and np.ndim(d1) else d1
        d1 /= v
        d1 += 0.5 * v
        d2 = d1 - v
        if any_zero:
            lim = np.where(lnfk > 0.0, np.inf, np.where(lnfk < 0.0, -np.inf, 0.0))
            lim = np.where(np.isnan(lnfk), np.nan, lim)
            d1 = np.where(zero, lim, d1)
            d2 = np.where(zero, lim, d2)
        if call:
            n1, n2 = _ndtr(d1), _ndtr(d2)
        elif put:
            n1, n2 = _ndtr(-d1), _ndtr(-d2)
        else:
            n1, n2 = _ndtr(wv * d1), _ndtr(wv * d2)
        sdq = s * dq
        kdisc = k * disc
        outs: list[Any] = [None] * 6
        if want & _nb.WANT_PRICE:
            if call:
                outs[0] = sdq * n1
                outs[0] -= kdisc * n2
            elif put:
                outs[0] = kdisc * n2
                outs[0] -= sdq * n1
            else:
                outs[0] = wv * (sdq * n1 - kdisc * n2)
        if want & _nb.WANT_DELTA:
            outs[1] = dq * n1 if call else (-(dq * n1) if put else wv * dq * n1)
        if want & (_nb.WANT_GAMMA | _nb.WANT_VEGA | _nb.WANT_THETA):
            pdf1 = np.where(zero, 0.0, _INV_SQRT2PI * np.exp(-0.5 * d1 * d1))
            if want & _nb.WANT_GAMMA:
                outs[2] = np.where(zero, 0.0, dq * pdf1 / s / v)
            if want & _nb.WANT_VEGA:
                outs[3] = sdq * pdf1 * sqt
            if want & _nb.WANT_THETA:
                decay = np.where(zero, 0.0, -sdq * pdf1 * sigma / (2.0 * sqt))
                outs[4] = decay + wv * (q * sdq * n1 - r * kdisc * n2)
        if want & _nb.WANT_RHO:
            outs[5] = wv * k * t * disc * n2
    return [np.empty(0) if o is None else np.broadcast_to(o, shape).reshape(-1) for o in outs]


def _run(
    S: Any, K: Any, T: Any, r: Any, q: Any, sigma: Any, kind: Any, want: int
) -> tuple[list[np.ndarray], tuple[int, ...], bool]:
    flat, shape, scalar = _prepare(
        [
            ("S", S, "pos"),
            ("K", K, "pos"),
            ("T", T, "nonneg"),
            ("r", r, "finite"),
            ("q", q, "finite"),
            ("sigma", sigma, "nonneg"),
        ],
        kind,
    )
    size = int(np.prod(shape))
    if _ndtr is not None and size >= _NUMPY_MIN:
        return _numpy_path(flat, shape, want), shape, scalar
    n = max(1, size)
    empty = np.empty(0)
    outs = [np.empty(n) if want & bit else empty for bit in _ALL]
    if size > 0:
        _kernel(_nb.bs_nb)(*flat, want, *outs)
    return outs, shape, scalar


#: below this many elements the numba kernel is faster than NumPy's per-call overhead
_NUMPY_MIN = 64


def bs_price(S: Any, K: Any, T: Any, r: Any, q: Any, sigma: Any, kind: Any) -> Any:
    """Black-Scholes-Merton price of a European option.

    Parameters
    ----------
    S, K, T, r, q, sigma : float or array_like
        Spot, strike, years to expiry, risk-free rate, dividend yield, volatility
        (broadcast together).
    kind : str or array_like
        ``"call"`` / ``"put"`` (or arrays of them, or of +1 / -1).

    Returns
    -------
    float or ndarray
        The price (a float when every input is a scalar).
    """
    outs, shape, scalar = _run(S, K, T, r, q, sigma, kind, _nb.WANT_PRICE)
    return _wrap(outs[0], shape, scalar)


def bs_price_delta(
    S: Any, K: Any, T: Any, r: Any, q: Any, sigma: Any, kind: Any
) -> tuple[Any, Any]:
    """Price and delta in one pass (what a delta-hedging loop needs); see :func:`bs_price`."""
    outs, shape, scalar = _run(S, K, T, r, q, sigma, kind, _nb.WANT_PRICE | _nb.WANT_DELTA)
    return _wrap(outs[0], shape, scalar), _wrap(outs[1], shape, scalar)


def bs_greeks(S: Any, K: Any, T: Any, r: Any, q: Any, sigma: Any, kind: Any) -> Greeks:
    """Delta, gamma, vega, theta and rho in QuantLib's units.

    ``vega`` is per 1.0 of vol, ``theta`` per year, ``rho`` per 1.0 of rate (see
    :func:`vega_per_point`, :func:`theta_per_day`, :func:`rho_per_point` for display).
    Arguments as :func:`bs_price`.

    Example (Hull, Example 19.1: S=49, K=50, r=0.05, sigma=0.2, T=20 weeks)::

        >>> g = bs_greeks(49, 50, 0.3846, 0.05, 0.0, 0.2, "call")
        >>> round(g.delta, 3), round(g.gamma, 3), round(g.vega, 1), round(g.theta, 2)
        (0.522, 0.066, 12.1, -4.31)
    """
    want = _nb.WANT_DELTA | _nb.WANT_GAMMA | _nb.WANT_VEGA | _nb.WANT_THETA | _nb.WANT_RHO
    outs, shape, scalar = _run(S, K, T, r, q, sigma, kind, want)
    return Greeks(*(_wrap(o, shape, scalar) for o in outs[1:]))


def vega_per_point(vega: Any) -> Any:
    """Vega per vol point (one percentage point of vol, 0.20 -> 0.21): ``vega / 100``."""
    return vega / 100.0


def theta_per_day(theta: Any, days_per_year: float = 365.0) -> Any:
    """Theta per calendar day: ``theta / 365`` (the QuantLib ``thetaPerDay`` convention)."""
    return theta / days_per_year


def rho_per_point(rho: Any) -> Any:
    """Rho per rate point (one percentage point of rate): ``rho / 100``."""
    return rho / 100.0


def implied_vol_detail(
    price: Any, S: Any, K: Any, T: Any, r: Any, q: Any, kind: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Implied vols and a status code per element (never raises on a bad price).

    Returns
    -------
    vol : ndarray
        The implied vol, NaN where the price admits none.
    reason : ndarray of int
        0 where solved; otherwise a key of :data:`IV_REASONS` saying why the vol is NaN
        (below the intrinsic value, at or above the upper bound, no time left, NaN input).
    """
    flat, shape, _ = _prepare(
        [
            ("price", price, "any"),
            ("S", S, "pos"),
            ("K", K, "pos"),
            ("T", T, "nonneg"),
            ("r", r, "finite"),
            ("q", q, "finite"),
        ],
        kind,
    )
    n = int(np.prod(shape))
    vol = np.empty(max(n, 1))
    reason = np.zeros(max(n, 1), dtype=np.int64)
    if n > 0:
        _kernel(_nb.implied_vol_nb)(*flat, vol, reason)
    return vol[:n].reshape(shape), reason[:n].reshape(shape)


def implied_vol(price: Any, S: Any, K: Any, T: Any, r: Any, q: Any, kind: Any) -> Any:
    """The volatility at which :func:`bs_price` equals ``price``.

    A bracketed, safeguarded Newton solve (on the log of the out-of-the-money price, so deep
    out-of-the-money options converge too), accepted only when it reproduces the price to
    1e-10 relative (or to the rounding error of the formula's two terms, for a tiny
    ``sigma sqrt(T)`` near the money), and only where the price determines the vol to 1e-6
    (a price whose time value is lost in rounding, including the rounding of an in-the-money
    option's intrinsic part, and a deep out-of-the-money price so small that a 1e-6 change of
    vol moves it less than the rounding at the scale of S and K, ~4e-16 x (S + K), gets no vol
    rather than a wrong one). A price within rounding of
    the lower bound counts as at the bound (not identifiable), not below it. A price
    outside the no-arbitrage bounds has no implied vol: with scalar
    inputs that is a :class:`~phi.errors.ConfigError` saying which bound; with arrays the
    element is NaN (:func:`implied_vol_detail` gives the reason per element).

    Example::

        >>> p = bs_price(100, 110, 0.25, 0.03, 0.01, 0.35, "call")
        >>> round(implied_vol(p, 100, 110, 0.25, 0.03, 0.01, "call"), 12)
        0.35
    """
    vol, reason = implied_vol_detail(price, S, K, T, r, q, kind)
    if vol.ndim == 0:
        code = int(reason)
        if code != _nb.IV_OK:
            raise ConfigError(
                f"no implied vol for price {float(np.asarray(price))!r}: {IV_REASONS[code]}"
            )
        return float(vol)
    return vol
