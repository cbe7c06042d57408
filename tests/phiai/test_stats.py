"""PSR, DSR, PBO (CSCV), efficiency and stability against values worked by hand from the papers."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from phi.errors import ConfigError
from phi.phiai.stats import (
    EULER_GAMMA,
    deflated_sharpe,
    dsr_pvalue,
    expected_max_sharpe,
    oos_is_efficiency,
    pbo_cscv,
    pbo_cscv_rows,
    psr,
    return_moments,
    stability,
)

PHI = NormalDist().cdf
INV = NormalDist().inv_cdf


def test_psr_by_hand():
    # SR = 0.1 per period, n = 101, normal returns (skew 0, kurtosis 3):
    # z = 0.1 * sqrt(100) / sqrt(1 - 0 + (3 - 1) / 4 * 0.01) = 1 / sqrt(1.005)
    z = 1.0 / math.sqrt(1.005)
    assert psr(0.1, 101) == pytest.approx(0.5 * (1 + math.erf(z / math.sqrt(2))), abs=1e-12)
    # negative skew and fat tails widen the Sharpe's error: skew -1, kurtosis 6, SR 0.2, n 51
    # z = (0.2 - 0.05) * sqrt(50) / sqrt(1 + 0.2 + 5/4 * 0.04) = 0.15 * 7.0710678 / sqrt(1.25)
    z2 = 0.15 * math.sqrt(50) / math.sqrt(1.25)
    assert psr(0.2, 51, skew=-1.0, kurtosis=6.0, benchmark=0.05) == pytest.approx(
        PHI(z2), abs=1e-12
    )
    assert psr(0.2, 51, skew=-1.0, kurtosis=6.0) < psr(0.2, 51)
    assert math.isnan(psr(float("nan"), 100)) and math.isnan(psr(0.1, 1))


def test_expected_max_sharpe_by_hand_and_against_order_statistics():
    # N = 100, V = 1: (1 - γ) Φ⁻¹(0.99) + γ Φ⁻¹(1 - 1/(100 e))
    hand = (1 - 0.5772156649) * INV(0.99) + 0.5772156649 * INV(1 - 1 / (100 * math.e))
    assert expected_max_sharpe(100, 1.0) == pytest.approx(hand, abs=1e-9)
    # E[max of 100 iid N(0,1)] = 2.50759 (tables of normal order statistics); the formula is an
    # approximation within ~1 %
    assert expected_max_sharpe(100, 1.0) == pytest.approx(2.50759, rel=0.015)
    assert expected_max_sharpe(100, 4.0) == pytest.approx(2 * expected_max_sharpe(100, 1.0))
    assert expected_max_sharpe(1, 1.0) == 0.0
    assert expected_max_sharpe(1000, 1.0) > expected_max_sharpe(10, 1.0)
    assert pytest.approx(0.5772156649) == EULER_GAMMA


def test_dsr_published_example():
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", numerical example: N = 100
    # trials, variance of the trials' annualised Sharpe ratios 0.5, best annualised SR 2.5 over
    # T = 1250 daily returns (250 a year), skewness -3, kurtosis 10. Annualised
    # SR0 = sqrt(0.5) * ((1-γ)Φ⁻¹(0.99) + γΦ⁻¹(1 - 1/(100e))) ≈ 1.789, i.e. 0.1132 per day;
    # SR = 2.5 / sqrt(250) = 0.1581 per day; published DSR = 0.9004.
    sr0_annual = expected_max_sharpe(100, 0.5)
    assert sr0_annual == pytest.approx(1.789, abs=2e-3)
    assert sr0_annual / math.sqrt(250) == pytest.approx(0.1132, abs=1e-4)
    dsr = deflated_sharpe(2.5 / math.sqrt(250), 1250, 100, 0.5 / 250, skew=-3.0, kurtosis=10.0)
    assert dsr == pytest.approx(0.9004, abs=1e-3)
    assert dsr_pvalue(dsr) == pytest.approx(1 - dsr)
    # the same Sharpe as the best of 1000 trials is less convincing
    assert deflated_sharpe(2.5 / math.sqrt(250), 1250, 1000, 0.5 / 250, -3.0, 10.0) < dsr


def test_return_moments_by_hand():
    r = np.array([0.01, -0.02, 0.03, 0.0])
    # mean 0.005; deviations .005 -.025 .025 -.005; population var = (2.5e-5*2 + 6.25e-4*2)/4
    pop_var = (2 * 0.005**2 + 2 * 0.025**2) / 4
    sr, skew, kurt, n = return_moments(r)
    assert n == 4
    assert sr == pytest.approx(0.005 / math.sqrt(pop_var * 4 / 3))
    assert skew == pytest.approx(0.0, abs=1e-12)  # the deviations are symmetric
    assert kurt == pytest.approx((2 * 0.005**4 + 2 * 0.025**4) / 4 / pop_var**2)


def _mean(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=0)


def test_pbo_cscv_by_hand_all_overfit():
    # T = 4 rows, N = 3 trials, S = 4 blocks of one row; performance = mean of the rows.
    m = np.array([[1, 0, 2], [3, 1, 0], [0, 2.2, 1], [4, 3, 0.5]], dtype=float)
    # IS {0,1}: [2, .5, 1] -> t0; OOS {2,3}: [2, 2.6, .75] -> t0 ranks 2 of 3 -> ω=.5, λ=0
    # IS {0,2}: [.5, 1.1, 1.5] -> t2; OOS {1,3}: [3.5, 2, .25] -> rank 1 -> λ=ln(1/3)
    # IS {0,3}: [2.5, 1.5, 1.25] -> t0; OOS {1,2}: [1.5, 1.6, .5] -> rank 2 -> λ=0
    # IS {1,2}: [1.5, 1.6, .5] -> t1; OOS {0,3}: [2.5, 1.5, 1.25] -> rank 2 -> λ=0
    # IS {1,3}: [3.5, 2, .25] -> t0; OOS {0,2}: [.5, 1.1, 1.5] -> rank 1 -> λ=ln(1/3)
    # IS {2,3}: [2, 2.6, .75] -> t1; OOS {0,1}: [2, .5, 1] -> rank 1 -> λ=ln(1/3)
    pbo, lam = pbo_cscv(m, n_splits=4, performance=_mean)
    third = math.log(1 / 3)
    np.testing.assert_allclose(lam, [0, third, 0, 0, third, third], atol=1e-12)
    assert pbo == 1.0  # λ <= 0 in all 6 combinations


def test_pbo_cscv_by_hand_no_overfit():
    # trial 0 is best in every block pair, in and out of sample: λ = ln(.75/.25) = ln 3 each time
    m = np.array([[1, 0, 2], [3, 1, 0], [2.5, 2.2, 1], [4, 3, 0.5]], dtype=float)
    pbo, lam = pbo_cscv(m, n_splits=4, performance=_mean)
    np.testing.assert_allclose(lam, [math.log(3)] * 6, atol=1e-12)
    assert pbo == 0.0


def test_pbo_cscv_sharpe_default_drops_remainder_rows():
    rng = np.random.default_rng(3)
    m = rng.normal(0, 0.01, (203, 6))
    pbo, lam = pbo_cscv(m, n_splits=4)
    assert len(lam) == 6 and 0.0 <= pbo <= 1.0
    assert pbo_cscv(m[:200], n_splits=4)[0] == pbo  # the last 3 rows are dropped
    assert math.isnan(pbo_cscv(m[:, :1], n_splits=4)[0])
    with pytest.raises(ConfigError, match="n_splits must be an even integer from 2 to 20, got 3"):
        pbo_cscv(m, n_splits=3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        # 40 blocks are binom(40, 20) = 1.4e11 combinations: it used to fill the memory
        (lambda m: pbo_cscv(m, n_splits=40), "n_splits must be an even integer from 2 to 20, got 40"),
        (lambda m: pbo_cscv(m, n_splits=None), "n_splits must be an integer, got None"),
        (lambda m: pbo_cscv(m, n_splits=4.0), "n_splits must be an integer, got 4.0"),
        (lambda m: pbo_cscv(m, n_splits=True), "n_splits must be an integer, got True"),
        (lambda m: pbo_cscv(m[:, 0]), r"returns \(periods x trials\) must be a 2-D array .* shape \(200,\)"),
        (lambda m: pbo_cscv("returns"), "must be a 2-D array of numbers, got 'returns'"),
        (lambda m: pbo_cscv_rows(m.T, n_splits=41), "n_splits must be an even integer"),
        (lambda m: pbo_cscv_rows(None), "rows .* must be a 2-D array of numbers"),
        (lambda m: psr(None, 100), "sharpe must be a real number, got None"),
        (lambda m: psr(0.1, "100"), "n must be an integer, got '100'"),
        (lambda m: psr(0.1, m[:, 0]), r"n must be an integer, got a numpy array of shape \(200,\)"),
        (lambda m: psr(0.1, 100, skew="0"), "skew must be a real number"),
        (lambda m: expected_max_sharpe([5], 0.1), r"n_trials must be an integer, got \[5\]"),
        (lambda m: deflated_sharpe(0.1, 100, 10, None), "sharpe_variance must be a real number"),
    ],
)
def test_wrong_argument_types_and_sizes_are_one_line_errors(call, match):
    m = np.random.default_rng(4).normal(0, 0.01, (200, 6))
    with pytest.raises(ConfigError, match=match):
        call(m)


def test_numpy_scalars_and_nan_still_pass():
    assert psr(np.float64(0.1), np.int64(100)) == psr(0.1, 100)
    assert math.isnan(psr(math.nan, 100)) and math.isnan(expected_max_sharpe(5, math.nan))


def test_oos_is_efficiency():
    assert oos_is_efficiency(0.5, 2.0) == 0.25
    assert oos_is_efficiency(-0.5, 2.0) == -0.25
    assert math.isnan(oos_is_efficiency(0.5, -1.0))


def test_stability_by_hand():
    # params on a 1-D axis with span 100; radius 0.1 -> neighbours within 10 of the best (x=50)
    params = [[50], [45], [58], [61], [10]]
    scores = [2.0, 1.0, 1.5, 5.0, -3.0]
    value, count = stability(params, scores, best=0, spans=[100])
    assert count == 2  # x=45 and x=58; x=61 is 11 away
    assert value == pytest.approx((1.0 + 1.5) / 2 / 2.0)
    assert stability(params, scores, best=4, spans=[100]) == (
        pytest.approx(math.nan, nan_ok=True),
        0,
    )


def test_pbo_relations():
    rng = np.random.default_rng(7)
    m = rng.normal(0, 0.01, (160, 8))
    pbo, lam = pbo_cscv(m, n_splits=8)
    # relabelling the trials changes nothing
    perm = rng.permutation(8)
    assert pbo_cscv(m[:, perm], n_splits=8)[0] == pbo
    # a trial that is best in every block wins in and out of sample: PBO 0, λ = ln(N)
    skilled = m.copy()
    skilled[:, 3] += 0.05
    pbo2, lam2 = pbo_cscv(skilled, n_splits=8)
    assert pbo2 == 0.0
    np.testing.assert_allclose(lam2, math.log(8 / 9 / (1 - 8 / 9)))
    assert len(lam) == math.comb(8, 4)


def test_psr_and_dsr_relations():
    # more observations of the same Sharpe: more confidence; more trials: less
    assert psr(0.05, 1000) > psr(0.05, 250) > 0.5
    assert deflated_sharpe(0.1, 1000, 10, 0.001) > deflated_sharpe(0.1, 1000, 1000, 0.001)
    assert deflated_sharpe(0.1, 1000, 1, 0.001) == psr(0.1, 1000)  # one trial: no deflation
