"""Gamma exposure: hand-worked figures, QuantLib gammas, the zero-gamma level, filters, CLI.

Convention under test: GEX = sign x gamma x OI x 100 x S^2 x 0.01, calls +, puts -.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.cli import main
from phi.errors import DataError
from phi.options.gex import gamma_exposure, gex_features, gex_profile
from tests.options._ql import ql_european

XYZ = str(Path(__file__).parent / "data" / "xyz_chain_eod.csv")
DAY = "2020-03-02"  # a chain in the past: days to expiry count from its own date, not today


def _write(tmp_path, rows) -> str:
    path = tmp_path / "chain.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def _row(expiry, strike, kind, oi, **kw):
    return {"date": DAY, "expiry": expiry, "strike": strike, "kind": kind, "bid": kw.pop("bid", 1.0),
            "ask": kw.pop("ask", 1.1), "open_interest": oi, **kw}  # fmt: skip


def test_hand_worked_gex_with_the_chains_gammas(tmp_path):
    # call: 0.05 x 1000 x 100 x 100^2 x 0.01 = +500,000; put: -0.04 x 500 x 100 x 100 = -200,000
    path = _write(tmp_path, [
        _row("2020-03-20", 105, "call", 1000, gamma=0.05, underlying=100.0),
        _row("2020-03-20", 95, "put", 500, gamma=0.04, underlying=100.0),
    ])  # fmt: skip
    g = gamma_exposure(path, min_open_interest=0)
    assert g.spot == 100.0 and "underlying" in g.spot_source
    assert g.by_strike.loc[105.0, "call_gex"] == pytest.approx(500_000.0, rel=1e-12)
    assert g.by_strike.loc[95.0, "put_gex"] == pytest.approx(-200_000.0, rel=1e-12)
    assert g.total == pytest.approx(300_000.0, rel=1e-12)
    assert (g.call_wall, g.put_wall) == (105.0, 95.0)
    assert g.contracts["dte"].tolist() == [18, 18]
    assert g.surface.loc[105.0].sum() == pytest.approx(500_000.0)
    # smoothing sigma 0.5 % of spot = 0.5, strikes 10 apart: the kernel weight is e^-200 ~ 0
    assert g.by_strike["smoothed"].to_numpy() == pytest.approx(g.by_strike["gex"].to_numpy(), rel=1e-12)
    # the wall nearest the spot: 95 below (-5 %) and 105 above (+5 %) tie -> the one above
    assert g.features["gamma_wall_distance"] == pytest.approx(0.05)
    assert g.features["gamma_expiry_days"] == 18.0


def test_gamma_from_iv_equals_quantlib(tmp_path):
    s, r, q = 101.5, 0.03, 0.01
    rows, expect = [], 0.0
    for exp, days in (("2020-03-16", 14), ("2020-04-17", 46)):
        for k, kind, vol, oi in ((90, "put", 0.31, 700), (100, "call", 0.24, 1200), (110, "call", 0.21, 900), (100, "put", 0.25, 400)):
            rows.append(_row(exp, k, kind, oi, iv=vol, underlying=s))
            sign = 1.0 if kind == "call" else -1.0
            expect += sign * ql_european(s, k, days, r, q, vol, kind)["gamma"] * oi * 100 * s * s * 0.01
    g = gamma_exposure(_write(tmp_path, rows), r=r, q=q, min_open_interest=0)
    assert set(g.contracts["gamma_source"]) == {"black-scholes from iv"}
    assert g.total == pytest.approx(expect, rel=1e-10)


def test_gamma_from_the_mid_and_spot_from_parity(tmp_path):
    s, r, q, vol = 100.0, 0.02, 0.01, 0.3
    rows = []
    for k in (95.0, 100.0, 105.0):
        for kind in ("call", "put"):
            p = ql_european(s, k, 30, r, q, vol, kind)["price"]
            rows.append(_row("2020-04-01", k, kind, 1000, bid=p, ask=p))
    g = gamma_exposure(_write(tmp_path, rows), r=r, q=q)
    assert "parity" in g.spot_source and g.spot == pytest.approx(s, rel=1e-10)
    assert set(g.contracts["gamma_source"]) == {"black-scholes from the mid's implied vol"}
    assert g.contracts["iv"].to_numpy() == pytest.approx(vol, rel=1e-7)
    call100 = g.contracts[(g.contracts.strike == 100.0) & (g.contracts.kind == "call")]
    assert float(call100["gamma"].iloc[0]) == pytest.approx(ql_european(s, 100.0, 30, r, q, vol, "call")["gamma"], rel=1e-6)


def test_zero_gamma_level_is_a_root_of_the_quantlib_profile(tmp_path):
    # puts heavy below, calls above: total GEX changes sign between the two
    s, r, q = 100.0, 0.01, 0.0
    legs = [(90, "put", 0.28, 5000), (95, "put", 0.25, 3000), (105, "call", 0.2, 3000), (110, "call", 0.19, 4000)]
    path = _write(tmp_path, [_row("2020-04-01", k, kind, oi, iv=v, underlying=s) for k, kind, v, oi in legs])
    g = gamma_exposure(path, r=r, q=q)

    def ql_total(x: float) -> float:
        return sum((1 if kind == "call" else -1) * ql_european(x, k, 30, r, q, v, kind)["gamma"] * oi * 100 * x * x * 0.01
                   for k, kind, v, oi in legs)  # fmt: skip

    z = g.zero_gamma
    assert 90 < z < 110
    scale = max(abs(ql_total(z * 0.99)), abs(ql_total(z * 1.01)))
    assert abs(ql_total(z)) < 2e-3 * scale  # linear interpolation on a 0.1 % grid
    assert np.sign(ql_total(z * 0.99)) == -np.sign(ql_total(z * 1.01))
    assert gex_profile(g, np.array([s]), r, q)[0] == pytest.approx(ql_total(s), rel=1e-10)
    # the smoothed per-strike GEX changes sign between 95 and 105: within 10 % of spot
    assert g.features["gex_flip_zone"] == 1.0
    assert -1.0 <= g.features["gamma_net"] <= 1.0


def test_filters_are_counted_never_silent(tmp_path):
    path = _write(tmp_path, [
        _row("2020-03-20", 100, "call", 50, gamma=0.05, underlying=100.0),     # OI < 100
        _row("2020-06-19", 100, "call", 5000, gamma=0.01, underlying=100.0),   # 109 days > 60
        _row("2020-03-02", 100, "put", 5000, gamma=0.9, underlying=100.0),     # expiry day
        _row("2020-03-20", 100, "put", 5000, bid=None, ask=None, underlying=100.0),  # no quote
        _row("2020-03-20", 105, "call", 1000, gamma=0.02, underlying=100.0),
    ])  # fmt: skip
    g = gamma_exposure(path)
    assert len(g.contracts) == 1
    assert g.dropped == {"open interest < 100": 1, "expiry day (0 days left)": 1,
                         "more than 60 days to expiry": 1, "no gamma, iv or usable quote": 1}  # fmt: skip
    assert len(gamma_exposure(path, min_open_interest=0, max_dte=None).contracts) == 3


def test_bad_chains_are_one_line_errors(tmp_path):
    no_oi = _write(tmp_path, [{k: v for k, v in _row("2020-03-20", 100, "call", 1).items() if k != "open_interest"}])
    with pytest.raises(DataError, match="open_interest"):
        gamma_exposure(no_oi)
    with pytest.raises(DataError, match="no quotes on 2021-01-04"):
        gamma_exposure(XYZ, "2021-01-04")
    lonely = _write(tmp_path, [_row("2020-03-20", 100, "call", 500, gamma=0.01)])
    with pytest.raises(DataError, match="--spot"):
        gamma_exposure(lonely)


def test_gex_features_per_date_use_that_dates_quotes_only():
    f = gex_features(XYZ)
    chain_dates = pd.read_csv(XYZ)["date"].nunique()
    assert len(f) == chain_dates and f.index.is_monotonic_increasing
    outage = f.loc[pd.Timestamp("2024-02-07", tz="UTC")]  # every quote blank that day
    assert np.isnan(outage["gamma_net"]) and outage["gex_total"] == 0.0
    day = pd.Timestamp("2024-01-10", tz="UTC")
    one = gamma_exposure(XYZ, day)
    assert f.loc[day, "gex_total"] == pytest.approx(one.total) and f.loc[day, "zero_gamma"] == pytest.approx(one.zero_gamma)
    ok = f.dropna(subset=["gamma_net"])
    assert ok["gamma_net"].between(-1, 1).all() and ok["gamma_wall_distance"].abs().le(0.2).all()


def test_cli_gex_table(capsys):
    code = main(["options", "gex", XYZ, "--date", "2024-01-10", "--strikes", "5"])
    out = capsys.readouterr().out
    assert code == 0
    g = gamma_exposure(XYZ, "2024-01-10")
    assert f"{g.spot:,.2f}" in out and "zero-gamma level" in out and "call wall" in out
    assert "2024-01-19 (9d)" in out and "2024-02-16 (37d)" in out
    assert "strikes further from the spot not shown" in out


def test_cli_gex_bad_file_is_one_line(tmp_path, capsys):
    code = main(["options", "gex", str(tmp_path / "nope.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot read" in err and len(err.strip().splitlines()) == 1


def test_stated_dealer_position_agrees_with_the_sign(tmp_path):
    """Was "dealers short calls, long puts" beside call GEX +: a short call has *negative*
    gamma, so that position would make call GEX negative. The standard convention (dealers
    buy the calls customers sell and sell the puts they buy) is what the signs compute: a long
    option's gamma is positive (QuantLib), a short one's negative."""
    from phi.options.gex import GEX_CONVENTION

    assert "dealers long calls, short puts" in GEX_CONVENTION
    gamma = ql_european(100.0, 100.0, 18, 0.0, 0.0, 0.25, "call")["gamma"]
    assert gamma > 0  # a long option, call or put, is long gamma
    calls = _write(tmp_path, [_row("2020-03-20", 100, "call", 1000, iv=0.25, underlying=100.0)])
    g = gamma_exposure(calls, min_open_interest=0)
    # long calls: +gamma x OI x 100 x S^2 x 0.01 (dealers long gamma)
    assert g.total == pytest.approx(gamma * 1000 * 100 * 100.0**2 * 0.01, rel=1e-9)
    puts = _write(tmp_path, [_row("2020-03-20", 100, "put", 1000, iv=0.25, underlying=100.0)])
    assert gamma_exposure(puts, min_open_interest=0).total == pytest.approx(-g.total, rel=1e-9)
