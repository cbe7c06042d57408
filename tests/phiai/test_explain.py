"""The luck verdict's wording against the figures it states (hand-made statistics)."""

from __future__ import annotations

import math

import pytest

from phi.phiai.explain import pbo_sentence, verdict


@pytest.mark.parametrize("pbo", [0.05, 0.29, 0.64, 0.84, math.nan])
def test_no_skill_is_claimed_above_the_dsr_alpha_whatever_pbo(pbo: float) -> None:
    # DSR p 0.965 (a noise run of luck_rates.py): luck, with or without a high PBO
    text = verdict({"dsr_pvalue": 0.965, "n_trials_total": 712, "pbo": pbo})
    assert text.startswith("Not distinguishable from luck")
    assert "0.965 >= 0.05" in text


def test_a_high_pbo_qualifies_a_dsr_pass() -> None:
    # planted band reversion, seed 3, 200 trials: DSR p 0.004 but PBO 84 % (hold-out 2.62)
    text = verdict({"dsr_pvalue": 0.004, "n_trials_total": 712, "pbo": 0.84})
    assert text.startswith("Distinguishable from luck")
    assert "0.004 < 0.05" in text
    assert "but PBO 84% is high" in text and "overfit" in text


@pytest.mark.parametrize("pbo", [0.0, 0.29, 0.5, math.nan])
def test_no_qualifier_at_or_below_half(pbo: float) -> None:
    text = verdict({"dsr_pvalue": 0.001, "n_trials_total": 500, "pbo": pbo})
    assert text.startswith("Distinguishable from luck") and "PBO" not in text


def test_pbo_levels_do_not_call_the_trials_noise() -> None:
    # PBO > 0.5 says the in-sample winner ranked in the bottom half out of sample more often
    # than not (Bailey et al. 2015); it says nothing about whether the trials have an edge
    assert "high: the in-sample winner was mostly overfit" in pbo_sentence(0.84)
    assert "noise" not in pbo_sentence(0.84)
    assert "(moderate)" in pbo_sentence(0.5) and "(low)" in pbo_sentence(0.2)
