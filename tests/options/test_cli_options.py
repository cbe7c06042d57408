"""``phi options price|greeks|iv``."""

from __future__ import annotations

import pytest

from phi.cli import main
from phi.options.black_scholes import bs_price


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["options", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_price_hull_example(capsys):
    code, out, _ = _run(
        capsys, "price", "-S", "42", "-K", "40", "--years", "0.5", "-r", "0.1", "--vol", "0.2"
    )
    assert code == 0 and float(out) == pytest.approx(4.7594, abs=1e-4)
    code, out, _ = _run(
        capsys,
        "price",
        "-S",
        "42",
        "-K",
        "40",
        "--days",
        "182.5",
        "-r",
        "0.1",
        "--vol",
        "0.2",
        "--kind",
        "put",
    )
    assert code == 0 and float(out) == pytest.approx(0.8086, abs=1e-4)


def test_greeks_table(capsys):
    code, out, _ = _run(
        capsys, "greeks", "-S", "49", "-K", "50", "--years", "0.3846", "-r", "0.05", "--vol", "0.2"
    )
    assert code == 0
    assert "per calendar day" in out and "-0.011796" in out and "12.105243" in out


def test_iv_round_trip_and_bounds(capsys):
    p = bs_price(100, 95, 0.25, 0.02, 0.01, 0.3, "put")
    code, out, _ = _run(
        capsys,
        "iv",
        "--price",
        repr(p),
        "-S",
        "100",
        "-K",
        "95",
        "--years",
        "0.25",
        "-r",
        "0.02",
        "-q",
        "0.01",
        "--kind",
        "put",
    )
    assert code == 0 and float(out) == pytest.approx(0.3, abs=1e-8)
    code, _, err = _run(capsys, "iv", "--price", "45", "-S", "42", "-K", "40", "--years", "0.5")
    assert code == 2 and "upper bound" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("price", "-S", "42", "-K", "40", "--vol", "0.2"), "exactly one of --days or --years"),
        (
            ("price", "-S", "42", "-K", "40", "--years", "1", "--vol", "0.2", "--kind", "straddle"),
            "'call' or 'put'",
        ),
        (("price", "-S", "-1", "-K", "40", "--years", "1", "--vol", "0.2"), "--spot must be > 0"),
        (
            ("price", "-S", "x", "-K", "40", "--years", "1", "--vol", "0.2"),
            "Invalid value for '--spot'",
        ),
    ],
)
def test_bad_input_is_one_line(capsys, args, message):
    code, _, err = _run(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
