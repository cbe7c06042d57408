import warnings

import numpy as np
import pytest

from phi._math import sigmoid


def test_sigmoid_matches_closed_form_and_never_overflows():
    x = np.array([-1e6, -800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0, 1e6, np.inf, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = sigmoid(x)
    assert np.all((y >= 0.0) & (y <= 1.0))
    mid = np.abs(x) <= 30
    np.testing.assert_allclose(y[mid], 1.0 / (1.0 + np.exp(-x[mid])), rtol=1e-15)
    assert y[0] == 0.0 and y[-3] == 1.0 and y[4] == 0.5


def test_is_seconds_takes_real_numbers_from_zero_up_only():
    from phi._math import is_seconds

    assert all(is_seconds(v) for v in (0, 0.0, 60, 1.5, float("inf"), np.float64(3.0)))
    assert not any(is_seconds(v) for v in (-1, -0.5, float("nan"), True, "60", None, [1], 10**400))


def test_rolling_std_is_each_windows_own_std_even_after_a_jump():
    """Against NumPy's std of each window slice (the definition): exact to rounding in the
    quiet windows after a 300 % move, where pandas' running sums are 0.3 % off."""
    import pandas as pd

    from phi._math import rolling_std

    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 1e-6, 400)
    x[100] = 3.0  # the jump
    x[250] = np.nan  # a window holding it has no value
    w = 20
    got = rolling_std(x, w)
    want = np.full(len(x), np.nan)
    for t in range(w - 1, len(x)):
        window = x[t - w + 1 : t + 1]
        if np.isfinite(window).all():
            want[t] = np.std(window, ddof=1)
    assert np.isnan(got[: w - 1]).all() and np.isnan(got[250 : 250 + w]).all()
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    quiet = slice(140, 240)
    pandas = pd.Series(x).rolling(w, min_periods=w).std().to_numpy()
    assert np.max(np.abs(pandas[quiet] / want[quiet] - 1)) > 1e-6  # why not pandas
    two = rolling_std(np.column_stack([x, 2 * x]), w)  # 2-D: per column
    np.testing.assert_allclose(two[:, 1], 2 * want, rtol=1e-12, equal_nan=True)


def test_rolling_std_refuses_a_window_below_two():
    from phi._math import rolling_std

    with pytest.raises(ValueError, match="window must be >= 2"):
        rolling_std(np.ones(5), 1)


def test_row_dot_is_a_per_row_sum_that_ignores_the_rows_after():
    """x @ w by hand (a fixed-order sum per row), and a row's value is the same bit for bit
    whatever number of rows follow it (BLAS's product may round the last rows otherwise)."""
    from phi._math import row_dot

    x = np.array([[0.5, -1.0, 0.25], [np.nan, 1.0, 0.0], [0.1, 0.2, 0.3]])
    w = np.array([2.0, 1.0, -4.0])
    got = row_dot(x, w)
    assert got[0] == 2.0 * 0.5 + 1.0 * -1.0 + -4.0 * 0.25
    assert np.isnan(got[1])
    assert got[2] == (0.1 * 2.0 + 0.2 * 1.0) + 0.3 * -4.0
    wm = np.array([[1.0, 0.0], [0.5, 2.0], [0.0, -1.0]])
    assert np.array_equal(
        row_dot(x[[0, 2]], wm), np.array([[0.5 - 0.5, -2.0 - 0.25], [0.1 + 0.1, 0.4 - 0.3]])
    )
    rng = np.random.default_rng(3)
    big = rng.uniform(-1, 1, (1003, 5))
    wv = rng.uniform(-3, 3, 5)
    full = row_dot(big, wv)
    for k in range(1, 40):
        assert np.array_equal(row_dot(big[:k], wv), full[:k])
    assert np.allclose(full, big @ wv, rtol=1e-14, atol=1e-15)


def test_libm_functions_equal_pythons_math_bit_for_bit():
    """phi._libm (the demo bars' exp/log/sin/cos/pow) against Python's math, value by value:
    the same C library functions, so the same bits on every CPU (NumPy's loops may take
    AVX-512 paths that round some values another way)."""
    import math

    from phi import _libm

    rng = np.random.default_rng(11)
    x = rng.uniform(-30.0, 30.0, 4099)
    p = rng.uniform(1e-300, 5.0, 4099)
    t = rng.uniform(0.0, 2.0 * math.pi, 4099)
    assert _libm.exp(x).tolist() == [math.exp(v) for v in x.tolist()]
    assert _libm.log(p).tolist() == [math.log(v) for v in p.tolist()]
    assert _libm.sin(t).tolist() == [math.sin(v) for v in t.tolist()]
    assert _libm.cos(t).tolist() == [math.cos(v) for v in t.tolist()]
    k = np.arange(60, dtype=np.float64)
    assert _libm.pow_(0.85, k).tolist() == [math.pow(0.85, v) for v in k.tolist()]
    assert _libm.exp(np.array([[0.0, 1.0]])).shape == (1, 2)
