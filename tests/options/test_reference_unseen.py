"""Black-Scholes-Merton on inputs ``test_black_scholes.py`` does not use: one minute to expiry,
vols of 1e-4 and 3.0, spot/strike 0.2 and 5, negative and zero rates, a dividend yield above
the rate.

References: QuantLib's ``BlackCalculator`` (any T, not only whole days) and the closed form
evaluated in 50-digit arithmetic (mpmath). Where the two disagree beyond 1e-10 it is
QuantLib's conditioning (it builds ``ln(F/K)`` from a rounded forward; with
``sigma sqrt(T) = 1e-7`` that costs ~1e-8 relative in d1), so phi is held to the 50-digit
value tightly and to QuantLib loosely.

Implied-vol defects this audit found (pinned below): the solver gave up (``not converged``) on
an at-the-money minute-to-expiry option whose price pins the vol to 1e-10; returned a vol three
times too large for a near-the-money option with no time value left in double precision; and
called phi's own price of such an option "below the no-arbitrage lower bound".
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from phi.errors import PhiError
from phi.options.black_scholes import (
    IV_REASONS,
    bs_greeks,
    bs_price,
    implied_vol,
    implied_vol_detail,
)
from phi.options.vol import realised_vol

ql = pytest.importorskip("QuantLib")

MINUTE = 1.0 / 525_600.0
_T = [MINUTE, 1.0 / 8_760.0, 1.0 / 365.0, 30.0 / 365.0, 1.0, 5.0]
_VOL = [1e-4, 0.01, 0.2, 1.0, 3.0]
_R = [-0.05, 0.0, 0.03, 0.15]
_Q = [0.0, 0.08]
_MONEY = [0.2, 0.95, 1.0, 1.05, 5.0]  # S / K
_GREEKS = ("delta", "gamma", "vega", "theta", "rho")


def _grid() -> tuple[np.ndarray, ...]:
    rows = list(itertools.product(_MONEY, _T, _R, _Q, _VOL, (1.0, -1.0)))
    m, t, r, q, vol, w = (np.array(c) for c in zip(*rows, strict=True))
    s = np.full(m.shape, 100.0)
    return s, s / m, t, r, q, vol, w


def _ql(s: float, k: float, t: float, r: float, q: float, vol: float, w: float) -> dict:
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if w > 0 else ql.Option.Put, k)
    fwd = s * math.exp((r - q) * t)
    bc = ql.BlackCalculator(payoff, fwd, vol * math.sqrt(t), math.exp(-r * t))
    return {
        "price": bc.value(),
        "delta": bc.delta(s),
        "gamma": bc.gamma(s),
        "vega": bc.vega(t),
        "theta": bc.theta(s, t),
        "rho": bc.rho(t),
    }


def _exact(s: float, k: float, t: float, r: float, q: float, vol: float, w: float) -> dict:
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        s_, k_, t_, r_, q_, v_ = (mp.mpf(x) for x in (s, k, t, r, q, vol))
        sqt = mp.sqrt(t_)
        d1 = (mp.log(s_ / k_) + (r_ - q_ + v_**2 / 2) * t_) / (v_ * sqt)
        d2 = d1 - v_ * sqt
        dq, dr = mp.exp(-q_ * t_), mp.exp(-r_ * t_)
        n1, n2, pdf = mp.ncdf(w * d1), mp.ncdf(w * d2), mp.npdf(d1)
        out = {
            "price": w * (s_ * dq * n1 - k_ * dr * n2),
            "delta": w * dq * n1,
            "gamma": dq * pdf / (s_ * v_ * sqt),
            "vega": s_ * dq * pdf * sqt,
            "theta": -s_ * dq * pdf * v_ / (2 * sqt) + w * (q_ * s_ * dq * n1 - r_ * k_ * dr * n2),
            "rho": w * k_ * t_ * dr * n2,
        }
        return {key: float(val) for key, val in out.items()}


@pytest.fixture(scope="module")
def grid():
    args = _grid()
    ours = {"price": bs_price(*args), **bs_greeks(*args)._asdict()}
    return args, ours


def _atol(name: str, s: np.ndarray, k: np.ndarray) -> np.ndarray | float:
    """Absolute floors: a price carries the rounding of its two terms, S N(d1) - K N(d2)."""
    floors = {"delta": 1e-15, "gamma": 1e-15, "vega": 1e-13, "theta": 1e-12, "rho": 1e-13}
    return 2e-15 * (s + k) if name == "price" else floors[name]


def _assert_close(ours, ref, rows, rtol: float, atol_scale: float) -> None:
    s, k = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    for name in ("price", *_GREEKS):
        want = np.array([d[name] for d in ref])
        bad = np.abs(ours[name] - want) > rtol * np.abs(want) + atol_scale * _atol(name, s, k)
        assert not bad.any(), (name, [rows[i] for i in np.flatnonzero(bad)[:3]])


@pytest.fixture(scope="module")
def exact(grid):
    rows = list(zip(*grid[0], strict=True))
    return rows, [_exact(*row) for row in rows]


@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_extreme_grid_equals_50_digit_closed_form(grid, exact, path, monkeypatch):
    """2,400 options x (price + 5 greeks) to 1e-12 relative (the absolute floors of
    :func:`_atol` only matter for values below ~1e-3), on both code paths (NumPy + scipy for
    large arrays, the numba kernel for small ones)."""
    import phi.options.black_scholes as bs

    monkeypatch.setattr(bs, "_NUMPY_MIN", 0 if path == "numpy" else 10**18)
    args, _ = grid
    ours = {"price": bs_price(*args), **bs_greeks(*args)._asdict()}
    rows, ref = exact
    _assert_close(ours, ref, rows, rtol=1e-12, atol_scale=1.0)


def test_extreme_grid_equals_quantlib(grid):
    """QuantLib's BlackCalculator: to 1e-7 relative; the gap is QuantLib's conditioning at
    sigma sqrt(T) ~ 1e-7 and its theta formula's cancellation (see the module notes)."""
    args, ours = grid
    rows = list(zip(*args, strict=True))
    _assert_close(ours, [_ql(*row) for row in rows], rows, rtol=1e-7, atol_scale=1000.0)


def test_put_call_parity_on_the_extreme_grid(grid):
    s, k, t, r, q, vol, w = grid[0]
    call = bs_price(s, k, t, r, q, vol, "call")
    put = bs_price(s, k, t, r, q, vol, "put")
    fwd_value = s * np.exp(-q * t) - k * np.exp(-r * t)
    np.testing.assert_allclose(call - put, fwd_value, rtol=0, atol=1e-13 * (s + k).max())
    g_call, g_put = bs_greeks(s, k, t, r, q, vol, "call"), bs_greeks(s, k, t, r, q, vol, "put")
    np.testing.assert_allclose(g_call.delta - g_put.delta, np.exp(-q * t), rtol=0, atol=1e-15)
    np.testing.assert_allclose(g_call.gamma, g_put.gamma, rtol=1e-14, atol=0)
    np.testing.assert_allclose(g_call.vega, g_put.vega, rtol=1e-14, atol=0)


def test_implied_vol_on_the_extreme_grid_is_right_or_refused(grid):
    """Every vol the solver returns is the one the price came from (2e-6); every refusal is
    'not identifiable' (was also 'not converged' for 32 out-of-the-money prices < 1e-36)."""
    (s, k, t, r, q, vol, w), ours = grid
    p = ours["price"]
    iv, reason = implied_vol_detail(p, s, k, t, r, q, w)
    ok = reason == 0
    assert ok.sum() > 450
    assert np.abs(iv[ok] - vol[ok]).max() <= 2e-6
    assert set(np.unique(reason[~ok])) <= {6}


def test_at_the_money_minute_option_with_tiny_vol_is_solved():
    """Was 'not converged': sigma sqrt(T) = 1.4e-7, N(d1) - N(d2) loses 8 digits to
    cancellation, so the 1e-10 reproduction test failed although the price pins the vol."""
    for r, q in [(0.0, 0.0), (0.03, 0.08), (-0.05, 0.0)]:
        p = bs_price(100.0, 100.0, MINUTE, r, q, 1e-4, "call")
        assert implied_vol(p, 100.0, 100.0, MINUTE, r, q, "call") == pytest.approx(1e-4, rel=1e-6)


@pytest.mark.parametrize(
    ("s", "k", "t", "r", "q", "vol", "kind"),
    [
        (
            1.7851723644786852,
            1.7821120206163106,
            0.018422004150576578,
            0.02,
            0.05,
            0.0003705792301381919,
            "call",
        ),
        (
            168.4373624045016,
            129.46911859527415,
            9.060969839406994,
            0.02,
            0.05,
            0.0004119102172598066,
            "put",
        ),
        (100.0, 100.0, 1.0 / 365.0, 0.03, 0.0, 1e-4, "call"),
    ],
)
def test_no_time_value_left_gives_no_vol_not_a_wrong_one(s, k, t, r, q, vol, kind):
    """Was a vol 3x too large (0.00124 for 0.00037): the in-the-money price's time value is
    below the rounding of its intrinsic part, so the solver fitted noise."""
    p = bs_price(s, k, t, r, q, vol, kind)
    iv, reason = implied_vol_detail(p, s, k, t, r, q, kind)
    assert int(reason) == 6 and np.isnan(iv), IV_REASONS[int(reason)]


def test_own_price_at_the_bound_is_not_called_an_arbitrage():
    """Was 'below the no-arbitrage lower bound' for phi's own price (1 hour, vol 1e-4,
    r = -5 %, q = 8 %): a price within the rounding of S e^{-qT} - K e^{-rT} is at the bound."""
    t = 1.0 / 8_760.0
    p = bs_price(100.0, 100.0, t, -0.05, 0.08, 1e-4, "put")
    iv, reason = implied_vol_detail(p, 100.0, 100.0, t, -0.05, 0.08, "put")
    assert int(reason) == 6
    with pytest.raises(PhiError, match="does not pin the vol down"):
        implied_vol(p, 100.0, 100.0, t, -0.05, 0.08, "put")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((100, 100, 1, 0.0, 0.0, -0.2, "call"), "sigma must be >= 0"),
        ((100, 100, -MINUTE, 0.0, 0.0, 0.2, "put"), "T must be >= 0"),
        ((100, 0.0, 1, 0.0, 0.0, 0.2, "call"), "K must be > 0"),
        ((-5.0, 100, 1, 0.0, 0.0, 0.2, "call"), "S must be > 0"),
        ((100, 100, 1, math.inf, 0.0, 0.2, "call"), "r must be finite"),
        ((100, 100, math.inf, 0.0, 0.0, 0.2, "call"), "T must be >= 0 and finite"),
        ((100, 100, 1, 0.0, 0.0, "abc", "call"), "sigma must be a number"),
    ],
)
def test_bad_inputs_are_one_phierror_line(args, match):
    for fn in (bs_price, bs_greeks):
        with pytest.raises(PhiError, match=match) as err:
            fn(*args)
        assert "\n" not in str(err.value)


def test_nan_inputs_follow_the_documented_convention():
    """The module's rule: a NaN input prices as NaN (a vol still warming up in a chain), it is
    not an error; a scalar implied vol of a NaN price is one PhiError line."""
    assert math.isnan(bs_price(100, 100, 1, 0.0, 0.0, math.nan, "call"))
    assert all(math.isnan(g) for g in bs_greeks(math.nan, 100, 1, 0.0, 0.0, 0.2, "put"))
    with pytest.raises(PhiError, match="NaN") as err:
        implied_vol(math.nan, 100, 100, 1, 0.0, 0.0, "call")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("quiet", [1e-4, 1e-6])
def test_realised_vol_of_a_quiet_series_after_jumps_is_exact(quiet: float) -> None:
    """The synthetic IV's realised vol against NumPy's two-pass std of each window. Was
    pandas' rolling std (running sums): after +/-300 % jumps left the window a quiet window's
    vol was 0.3 % off at a 1e-6 daily vol, and the error never healed."""
    rng = np.random.default_rng(1)
    r = rng.normal(0.0, quiet, 3000)
    r[::50] += rng.choice([-3.0, 3.0], 60)
    close = 1e5 * np.exp(np.cumsum(r) - np.cumsum(r).max())
    window = 20
    logret = np.log(close[1:] / close[:-1])
    windows = np.lib.stride_tricks.sliding_window_view(logret, window)
    want = np.r_[np.full(window, np.nan), windows.std(axis=1, ddof=1) * np.sqrt(365.0)]
    got = realised_vol(close, window, 365.0)
    assert np.isnan(got[:window]).all()
    np.testing.assert_allclose(got[window:], want[window:], rtol=1e-13, atol=0)
    # causal: changing the last bar changes nothing before it
    bumped = close.copy()
    bumped[-1] *= 5.0
    np.testing.assert_array_equal(realised_vol(bumped, window, 365.0)[:-1], got[:-1])


@pytest.mark.parametrize(
    ("s", "k", "t", "r", "q", "vol", "kind"),
    [  # found by a 200,000-point random sweep: hours / minutes to expiry, ~6 deviations ITM
        (
            100.0,
            99.78842339986426,
            0.00023587140460077296,
            0.11212642877588867,
            0.10151039166174054,
            0.02419781518541304,
            "call",
        ),
        (
            100.0,
            100.01531815400153,
            6.166990739672987e-06,
            0.0946594903806778,
            0.12126853588279601,
            0.010833257737216303,
            "put",
        ),
    ],
)
def test_in_the_money_price_that_pins_no_vol_is_not_called_a_solver_failure(
    s, k, t, r, q, vol, kind
):
    """Was 'not converged' (a solver failure) for phi's own price of 0.21 and 0.015, and 'not
    identifiable' for the 50-digit price of the same option: the time value keeps a few digits,
    but a 1e-6 change of vol moves the exact price (mpmath) by less than the rounding of the
    formula's two ~100-sized terms, so no double-precision solve can pin it."""
    w = 1.0 if kind == "call" else -1.0
    exact = _exact(s, k, t, r, q, vol, w)["price"]
    bumped = _exact(s, k, t, r, q, vol + 1e-6, w)["price"]
    terms = s * math.exp(-q * t) + k * math.exp(-r * t)
    assert abs(bumped - exact) < 8.0 * np.finfo(float).eps * terms  # the price cannot tell
    assert exact > 0.01  # a real price, far above any tick
    for p in (bs_price(s, k, t, r, q, vol, kind), exact):
        iv, reason = implied_vol_detail(p, s, k, t, r, q, kind)
        assert np.isnan(iv) and int(reason) == 6, IV_REASONS[int(reason)]
