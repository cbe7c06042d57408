import warnings

import numpy as np

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
