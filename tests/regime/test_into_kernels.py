"""The kernels that write into the caller's arrays (the engine's buffers) give the values of
the allocating kernels they replace, and the any-inf check matches NumPy's."""

from __future__ import annotations

import numpy as np
import pytest

from phi.regime import _nb
from phi.regime._logits_nb import any_inf_nb


def _returns(n: int = 600, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = rng.standard_t(3, n) * 0.01
    r[0] = np.nan
    r[100:110] = np.nan  # a gap
    r[300:340] = 0.0  # a flat stretch
    return r


def test_vol_levels_into_wins_only_matches_vol_levels() -> None:
    """Only the standardised returns asked for (empty fast / slow): the third output of
    ``vol_levels_nb``, bit for bit; all three asked for: all three."""
    r = _returns()
    fast, slow, wins = _nb.vol_levels_nb(r, 2 / 11, 2 / 41, 2 / 501, 4.0)
    got = np.full(len(r), 7.0)
    _nb.vol_levels_into_nb(r, 2 / 11, 2 / 41, 2 / 501, 4.0, np.empty(0), np.empty(0), got)
    np.testing.assert_array_equal(got, wins)
    f2, s2, w2 = np.ones(len(r)), np.ones(len(r)), np.ones(len(r))
    _nb.vol_levels_into_nb(r, 2 / 11, 2 / 41, 2 / 501, 4.0, f2, s2, w2)
    np.testing.assert_array_equal(f2, fast)
    np.testing.assert_array_equal(s2, slow)
    np.testing.assert_array_equal(w2, wins)
    assert np.isnan(wins[0]) and np.isfinite(wins[1:100]).all()


@pytest.mark.parametrize("window", [5, 30])
def test_rolling_mean_std_into_overwrites_stale_values(window: int) -> None:
    """Written into arrays holding stale values: every bar is overwritten (NaN in the warm-up),
    the same as the hand-rolled mean / sample std of each window."""
    r = _returns()
    mean, std = np.full(len(r), 5.0), np.full(len(r), 5.0)
    minp = window // 2
    _nb.rolling_mean_std_into_nb(r, window, minp, 1, mean, std)
    for t in (0, 3, 105, 120, 320, 599):
        w = r[max(0, t - window + 1) : t + 1]
        w = w[~np.isnan(w)]
        if len(w) < minp or len(w) == 0:
            assert np.isnan(mean[t]) and np.isnan(std[t])
            continue
        assert mean[t] == pytest.approx(w.mean(), abs=1e-15)
        assert std[t] == pytest.approx(w.std(ddof=1), rel=1e-9, abs=1e-15)


def test_any_inf_matches_numpy() -> None:
    x = np.zeros((50, 4))
    x[3, 1] = np.nan
    assert not any_inf_nb(x) and not np.isinf(x).any()
    for v in (np.inf, -np.inf):
        y = x.copy()
        y[49, 3] = v
        assert any_inf_nb(y)
        assert any_inf_nb(np.asfortranarray(y))
