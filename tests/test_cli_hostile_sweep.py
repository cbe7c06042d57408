"""Hostile CLI inputs found by the fifth sweep (2026-12-02), beyond tests/test_bad_inputs.py and
tests/test_cli_hostile*.py.

Every refusal: exit code 2, exactly one ``error:`` line on stderr naming the problem (the flag
as the user typed it), no traceback, nothing written under ``PHI_HOME`` or the working directory.
"""

from __future__ import annotations

import pytest

from phi.cli import main
from tests.test_cli_hostile_more import _refused  # one copy of the shared checks

# ---------------------------------------------- options price/greeks/iv: a sign the pricer refuses


@pytest.mark.parametrize(
    ("args", "line"),
    [
        # was "T must be >= 0 and finite, got np.float64(-0.0027397260273972603)": the pricer's
        # argument (T = days / 365) and numpy's repr, not the flag typed
        (["price", "-S", "100", "-K", "100", "--days", "-1", "--vol", "0.2"], "error: --days must be >= 0, got -1"),
        (["greeks", "-S", "100", "-K", "100", "--years", "-0.5", "--vol", "0.2"], "error: --years must be >= 0, got -0.5"),
        # was "sigma must be >= 0 and finite, got np.float64(-0.2)"
        (["price", "-S", "100", "-K", "100", "--days", "30", "--vol", "-0.2"], "error: --vol must be >= 0, got -0.2"),
        # was "S must be > 0 and finite, got np.float64(0.0)" / "K must be ..."
        (["greeks", "-S", "0", "-K", "100", "--days", "30", "--vol", "0.2"], "error: --spot must be > 0, got 0"),
        (["iv", "--price", "5", "-S", "100", "-K", "-100", "--days", "30"], "error: --strike must be > 0, got -100"),
    ],
)
def test_options_signs_name_the_flag_not_the_pricers_argument(args, line, capsys, cwd) -> None:
    assert _refused(capsys, ["options", *args]) == line


def test_options_edge_values_that_are_allowed_still_price(capsys, cwd) -> None:
    # zero vol and zero time are allowed: the discounted intrinsic value, hand-worked
    # (S=110, K=100, r=q=0, T=0 -> a call is worth 10; a put 0)
    assert main(["options", "price", "-S", "110", "-K", "100", "--days", "0", "--vol", "0"]) == 0
    assert capsys.readouterr().out.strip() == "10.000000"
    assert main(["options", "price", "-S", "110", "-K", "100", "--years", "0", "--vol", "0.2", "--kind", "put"]) == 0
    assert capsys.readouterr().out.strip() == "0.000000"


def test_the_pricer_names_a_bad_value_as_a_plain_number() -> None:
    from phi.errors import PhiError
    from phi.options.black_scholes import bs_price

    with pytest.raises(PhiError) as info:
        bs_price(-1.0, 100.0, 0.1, 0.0, 0.0, 0.2, "call")
    assert str(info.value) == "S must be > 0 and finite, got -1.0"  # was "got np.float64(-1.0)"


def test_a_worthless_put_is_priced_zero_not_minus_zero() -> None:
    from phi.options.black_scholes import bs_price

    # S=110 > K=100 at expiry (or with no vol): the put's intrinsic value max(K - S, 0) is 0;
    # the CLI printed it as "-0.000000"
    for years, vol in ((0.0, 0.2), (1.0, 0.0)):
        value = bs_price(110.0, 100.0, years, 0.0, 0.0, vol, "put")
        assert value == 0.0 and str(value) == "0.0", value
