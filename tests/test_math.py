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
