"""Black-Scholes-Merton prices, greeks and implied vol against QuantLib, Hull's textbook
examples worked by hand, and relations (parity, finite differences, round trips)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phi.errors import ConfigError
from phi.options.black_scholes import (
    IV_REASONS,
    bs_greeks,
    bs_price,
    bs_price_delta,
    implied_vol,
    implied_vol_detail,
    rho_per_point,
    theta_per_day,
    vega_per_point,
)

ql = pytest.importorskip("QuantLib")
from tests.options._ql import ql_european  # noqa: E402

_GRID = list(
    itertools.product(
        [50.0, 100.0, 180.0],  # spot
        [40.0, 100.0, 150.0, 250.0],  # strike
        [1, 30, 182, 730, 3650],  # days (T = days / 365, QuantLib's Actual/365 Fixed)
        [-0.01, 0.0, 0.05],  # rate
        [0.0, 0.03],  # dividend yield
        [0.05, 0.25, 1.2],  # vol
        ["call", "put"],
    )
)


@pytest.fixture(scope="module")
def grid():
    cols = list(zip(*_GRID, strict=True))
    s, k, days, r, q, vol = (np.array(c, dtype=float) for c in cols[:6])
    kind = np.array(cols[6])
    ref = [ql_european(*row) for row in _GRID]
    return (s, k, days / 365.0, r, q, vol, kind), ref


@pytest.fixture(params=["numpy", "numba"])
def backend(request, monkeypatch):
    """Both code paths: NumPy + scipy's ndtr (large arrays) and the numba kernel (small ones,
    or no scipy)."""
    import phi.options.black_scholes as bs

    if request.param == "numba":
        monkeypatch.setattr(bs, "_NUMPY_MIN", 10**18)
    elif bs._ndtr is None:
        pytest.skip("scipy is not installed")
    else:
        monkeypatch.setattr(bs, "_NUMPY_MIN", 0)
    return request.param


def _close(ours: np.ndarray, ref: np.ndarray, floor: float) -> None:
    """|ours - ref| <= 1e-10 * max(|ref|, floor): 1e-10 relative with an absolute floor."""
    tol = 1e-10 * np.maximum(np.abs(ref), floor)
    bad = np.abs(ours - ref) > tol
    assert not bad.any(), (np.flatnonzero(bad)[:5], ours[bad][:5], ref[bad][:5])


def test_prices_equal_quantlib(grid, backend):
    args, ref = grid
    _close(bs_price(*args), np.array([d["price"] for d in ref]), floor=1e-2)


@pytest.mark.parametrize("name", ["delta", "gamma", "vega", "theta", "rho"])
def test_greeks_equal_quantlib(grid, name, backend):
    args, ref = grid
    ours = getattr(bs_greeks(*args), name)
    floors = {"delta": 1e-3, "gamma": 1e-4, "vega": 1e-2, "theta": 1e-1, "rho": 1e-2}
    _close(ours, np.array([d[name] for d in ref]), floor=floors[name])


def test_price_delta_matches_separate_calls(grid):
    args, _ = grid
    p, d = bs_price_delta(*args)
    np.testing.assert_array_equal(p, bs_price(*args))
    np.testing.assert_array_equal(d, bs_greeks(*args).delta)


def test_hull_example_by_hand():
    """Hull, Example 15.6: S=42, K=40, r=10 %, sigma=20 %, T=0.5.
    d1 = (ln(42/40) + (0.1 + 0.02) * 0.5) / (0.2 * sqrt(0.5)) = 0.7693, d2 = 0.6278;
    call = 42 N(0.7693) - 40 e^{-0.05} N(0.6278) = 4.76, put = 0.81."""
    d1 = (math.log(42 / 40) + (0.1 + 0.02) * 0.5) / (0.2 * math.sqrt(0.5))
    assert d1 == pytest.approx(0.7693, abs=1e-4)
    assert bs_price(42, 40, 0.5, 0.1, 0.0, 0.2, "call") == pytest.approx(4.76, abs=0.005)
    assert bs_price(42, 40, 0.5, 0.1, 0.0, 0.2, "put") == pytest.approx(0.81, abs=0.005)
    assert isinstance(bs_price(42, 40, 0.5, 0.1, 0.0, 0.2, "call"), float)


def test_hull_greeks_example():
    """Hull, Examples 19.1-19.6 (S=49, K=50, r=5 %, sigma=20 %, T=0.3846): delta 0.522,
    gamma 0.066, vega 12.1 (per 1.0 of vol), theta -4.31 per year (-0.0118 per day),
    rho 8.91 (per 1.0 of rate)."""
    g = bs_greeks(49, 50, 0.3846, 0.05, 0.0, 0.2, "call")
    assert g.delta == pytest.approx(0.522, abs=5e-4)
    assert g.gamma == pytest.approx(0.066, abs=5e-4)
    assert g.vega == pytest.approx(12.1, abs=0.05)
    assert g.theta == pytest.approx(-4.31, abs=0.005)
    assert theta_per_day(g.theta) == pytest.approx(-0.0118, abs=5e-5)
    assert g.rho == pytest.approx(8.91, abs=0.005)
    assert vega_per_point(g.vega) == pytest.approx(0.121, abs=5e-4)
    assert rho_per_point(g.rho) == pytest.approx(0.0891, abs=5e-5)


def test_limits_t0_and_zero_vol(backend):
    # T = 0: intrinsic value, gamma/vega 0, delta a step
    assert bs_price(110, 100, 0.0, 0.05, 0.02, 0.3, "call") == pytest.approx(10.0, abs=1e-12)
    assert bs_price(90, 100, 0.0, 0.05, 0.02, 0.3, "put") == pytest.approx(10.0, abs=1e-12)
    assert bs_price(90, 100, 0.0, 0.05, 0.02, 0.3, "call") == 0.0
    g = bs_greeks(110, 100, 0.0, 0.05, 0.02, 0.3, "call")
    assert (g.delta, g.gamma, g.vega) == (1.0, 0.0, 0.0)
    # sigma = 0: the discounted forward intrinsic value
    s, k, t, r, q = 100.0, 95.0, 2.0, 0.05, 0.01
    fwd_value = s * math.exp(-q * t) - k * math.exp(-r * t)
    assert bs_price(s, k, t, r, q, 0.0, "call") == pytest.approx(fwd_value, rel=1e-14)
    assert bs_price(s, k, t, r, q, 0.0, "put") == 0.0
    # and the sigma -> 0 limit agrees with a tiny vol
    assert bs_price(s, k, t, r, q, 1e-9, "call") == pytest.approx(fwd_value, rel=1e-12)


def test_bad_inputs_are_one_line_errors(backend):
    with pytest.raises(ConfigError, match="S must be > 0"):
        bs_price(-1, 100, 1, 0, 0, 0.2, "call")
    with pytest.raises(ConfigError, match=r"sigma must be >= 0.*element 1"):
        bs_price(100, 100, 1, 0, 0, [0.2, -0.1], "call")
    with pytest.raises(ConfigError, match="kind must be 'call' or 'put'"):
        bs_price(100, 100, 1, 0, 0, 0.2, "straddle")
    with pytest.raises(ConfigError, match="do not broadcast"):
        bs_price([1, 2], [1, 2, 3], 1, 0, 0, 0.2, "call")
    with pytest.raises(ConfigError, match="T must be >= 0"):
        bs_greeks(100, 100, -1, 0, 0, 0.2, "put")
    # NaN propagates (a vol still warming up), it is not an error
    assert math.isnan(bs_price(100, 100, 1, 0, 0, float("nan"), "call"))


def test_broadcasting_and_mixed_kinds(backend):
    k = np.array([[90.0], [110.0]])
    out = bs_price(100.0, k, [0.5, 1.0], 0.02, 0.0, 0.2, np.array([1, -1]))
    assert out.shape == (2, 2)
    assert out[0, 1] == bs_price(100, 90, 1.0, 0.02, 0.0, 0.2, "put")
    assert bs_price(100, np.array([]), 1, 0, 0, 0.2, "call").shape == (0,)


_pos = st.floats(1.0, 500.0)
_args = st.tuples(
    _pos,  # S
    _pos,  # K
    st.floats(0.01, 5.0),  # T
    st.floats(-0.02, 0.15),  # r
    st.floats(0.0, 0.1),  # q
    st.floats(0.02, 1.5),  # sigma
)


@settings(deadline=None)  # the first call compiles the numba kernel
@given(_args)
def test_put_call_parity(a):
    s, k, t, r, q, vol = a
    c = bs_price(s, k, t, r, q, vol, "call")
    p = bs_price(s, k, t, r, q, vol, "put")
    rhs = s * math.exp(-q * t) - k * math.exp(-r * t)
    assert c - p == pytest.approx(rhs, abs=1e-11 * max(s, k))


@settings(deadline=None)  # the first call compiles the numba kernel
@given(_args, st.sampled_from(["call", "put"]))
def test_greeks_match_finite_differences(a, kind):
    s, k, t, r, q, vol = a
    g = bs_greeks(s, k, t, r, q, vol, kind)

    def price(**kw):
        base = {"S": s, "K": k, "T": t, "r": r, "q": q, "sigma": vol}
        base.update(kw)
        return bs_price(base["S"], base["K"], base["T"], base["r"], base["q"], base["sigma"], kind)

    v = vol * math.sqrt(t)
    hs, hv, ht, hr = 1e-3 * s * v, 1e-4 * vol, 1e-6 * t, 1e-6
    scale = max(s, k)
    fd_delta = (price(S=s + hs) - price(S=s - hs)) / (2 * hs)
    fd_gamma = (price(S=s + hs) - 2 * price() + price(S=s - hs)) / hs**2
    fd_vega = (price(sigma=vol + hv) - price(sigma=vol - hv)) / (2 * hv)
    fd_theta = -(price(T=t + ht) - price(T=t - ht)) / (2 * ht)
    fd_rho = (price(r=r + hr) - price(r=r - hr)) / (2 * hr)
    noise = 1e-15 * max(price(), scale)  # rounding error of one price
    assert g.delta == pytest.approx(fd_delta, abs=1e-6 + 4 * noise / hs)
    assert g.gamma == pytest.approx(fd_gamma, abs=1e-3 * g.gamma + 8 * noise / hs**2)
    assert g.vega == pytest.approx(fd_vega, abs=1e-5 * scale + 4 * noise / hv)
    assert g.theta == pytest.approx(fd_theta, abs=1e-4 * scale + 4 * noise / ht)
    assert g.rho == pytest.approx(fd_rho, abs=1e-5 * scale * max(t, 1.0) + 4 * noise / hr)


@settings(deadline=None)  # the first call compiles the numba kernel
@given(_args, st.sampled_from(["call", "put"]))
def test_implied_vol_round_trip(a, kind):
    s, k, t, r, q, vol = a
    p = bs_price(s, k, t, r, q, vol, kind)
    iv, reason = implied_vol_detail(p, s, k, t, r, q, kind)
    if int(reason) == 0:
        # the vol reproduces the price, and it is the vol we started from: never a wrong vol
        assert bs_price(s, k, t, r, q, float(iv), kind) == pytest.approx(p, rel=1e-9, abs=1e-12 * s)
        assert float(iv) == pytest.approx(vol, abs=2e-6)
    else:  # only when the price does not pin the vol down (its time value lost in rounding)
        assert int(reason) == 6, IV_REASONS[int(reason)]
        vega = bs_greeks(s, k, t, r, q, vol, kind).vega
        assert vega * 1e-6 < 1e-13 * max(s, k)


def test_implied_vol_vectorised_round_trip():
    rng = np.random.default_rng(7)
    n = 20_000
    s = rng.uniform(50, 150, n)
    k = s * np.exp(rng.uniform(-0.4, 0.4, n))
    t = rng.uniform(0.02, 3, n)
    vol = rng.uniform(0.05, 1.0, n)
    kind = np.where(rng.random(n) < 0.5, 1, -1)
    p = bs_price(s, k, t, 0.03, 0.01, vol, kind)
    iv, reason = implied_vol_detail(p, s, k, t, 0.03, 0.01, kind)
    ok = reason == 0
    assert ok.mean() > 0.99
    assert set(np.unique(reason[~ok])) <= {6}  # not identifiable, nothing else
    np.testing.assert_allclose(
        bs_price(s[ok], k[ok], t[ok], 0.03, 0.01, iv[ok], kind[ok]), p[ok], rtol=1e-9, atol=1e-10
    )
    assert np.abs(iv[ok] - vol[ok]).max() <= 2e-6


def test_implied_vol_out_of_bounds():
    s, k, t, r, q = 100.0, 90.0, 0.5, 0.05, 0.02
    lower = s * math.exp(-q * t) - k * math.exp(-r * t)
    prices = [lower - 0.01, s * math.exp(-q * t), s * 2, float("nan")]
    iv, reason = implied_vol_detail(prices, s, k, t, r, q, "call")
    assert np.isnan(iv).all()
    assert list(reason) == [2, 3, 3, 1]
    assert "below the no-arbitrage lower bound" in IV_REASONS[2]
    with pytest.raises(ConfigError, match="below the no-arbitrage lower bound"):
        implied_vol(lower - 0.01, s, k, t, r, q, "call")
    with pytest.raises(ConfigError, match="upper bound"):
        implied_vol(k, s, k, t, r, q, "put")  # a put is worth less than K e^{-rT}
    with pytest.raises(ConfigError, match="no time left"):
        implied_vol(12.0, 100, 90, 0.0, r, q, "call")
    # a price at the forward intrinsic value: every small enough vol gives it
    with pytest.raises(ConfigError, match="does not pin the vol down"):
        implied_vol(lower, s, k, t, r, q, "call")
    # deep in the money with a real vol: the time value is lost in rounding -> no vol, not a wrong one
    deep = bs_price(100, 10, 0.1, 0.0, 0.0, 0.3, "call")
    assert implied_vol_detail(deep, 100, 10, 0.1, 0.0, 0.0, "call")[1] == 6
    # array input: NaN, never an error
    assert np.isnan(implied_vol([lower - 1.0], s, k, t, r, q, "call")).all()


def test_a_time_value_near_underflow_is_not_identifiable_not_a_solver_failure():
    # hypothesis found it: a put struck at 1 on a 174 stock, 7 days, vol 100 %: price 6.6e-300
    p = bs_price(174.0, 1.0, 0.01953125, 0.0, 0.0, 1.0, "put")
    assert 0.0 < float(p) < 1e-290
    iv, reason = implied_vol_detail(p, 174.0, 1.0, 0.01953125, 0.0, 0.0, "put")
    assert np.isnan(iv) and int(reason) == 6


@pytest.mark.parametrize("name", ["S", "K", "T", "r", "q", "sigma"])
def test_a_complex_input_is_refused_not_priced_on_its_real_part(name):
    # S=100+1j priced as S=100 (the imaginary part dropped with only a NumPy warning)
    args = {"S": 100.0, "K": 100.0, "T": 0.5, "r": 0.01, "q": 0.0, "sigma": 0.2}
    args[name] = complex(args[name], 1.0)
    want = rf"^{name} must be a number or an array of numbers, got "
    with pytest.raises(ConfigError, match=want):
        bs_price(**args, kind="call")
    with pytest.raises(ConfigError, match=rf"^{name} must be a number"):
        bs_greeks(**args, kind="call")


@pytest.mark.parametrize(
    ("kind", "shown_as"), [(None, "None"), (True, "True"), (["call", None], "None")]
)
def test_a_kind_that_is_not_a_string_is_named_as_given(kind, shown_as):
    # None was reported as "got 'none'" and True as "got 'true'": strings the user never wrote
    want = rf"^option kind must be 'call' or 'put', got {shown_as}$"
    with pytest.raises(ConfigError, match=want):
        bs_price(100.0, 100.0, 0.5, 0.01, 0.0, 0.2, kind)
