"""Cash-secured sizing counts the entry's own costs, and a skipped entry says why.

The rule (``phi.options.simulator``, *Sizing*): one unit's risk is ``max(L, 0) + H + 2 C`` (``L``
the maximum loss at expiry from the entry's mid prices, ``H`` the haircut the entry fills pay,
``C`` the commissions per fill), ``n <= floor(cash / risk)``; so right after the fills, marked at
those mids, the equity ``cash - n (H + C)`` is at least ``n (max(L, 0) + C)``. Every expected
number below is worked by hand: Black-Scholes-Merton written out in
``test_accounting_audit.bsm``, or a chain's quotes. The old sizing measured the maximum loss from
the fill prices, ``max(L + H, 0) + 2 C``: where ``L < 0`` (a credit above the widest payout, at a
negative rate or at a chain's quotes) the haircut was partly netted against that credit, and an
entry's own fills took the equity below 0 at its entry close. An early exit never fills below the
worst payoff at expiry (``mid - L`` a unit), so the same reserve covers its haircut (end of file).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine_config import EngineConfig
from phi.options.simulator import run_options_backtest
from tests.options.test_accounting_audit import CAP, M, _bars, _cfg, _cross, bsm

COMM = 0.65  # per contract per fill (test_accounting_audit._cfg)
FLAT = [100.0] * 12  # flat closes (and opens): the entry close marks at the fill's mids


def _entry(res) -> tuple[pd.Series, float]:
    tr = res.trades.iloc[0]
    return tr, float(res.equity.iloc[int(tr.entry_bar)])


def test_the_notes_iron_condor_one_year_5pct_haircut():
    # the notes' example: a one-year iron condor (short the 100 put and call, long the 95 put and
    # 105 call), haircut 5 %, as many units as the cash secures. The haircut is most of a unit's
    # risk (a credit of nearly the 5 width leaves a small L), so the entry close keeps ~32 % of
    # the capital; that equity still secures the condor's maximum loss from there
    hc, t = 0.05, 1.0
    p100, p95 = bsm(100, 100, t, "put"), bsm(100, 95, t, "put")
    c100, c105 = bsm(100, 100, t, "call"), bsm(100, 105, t, "call")
    credit = M * (p100 - p95 + c100 - c105)  # at the mids
    loss = 5 * M - credit  # L: one side at most pays the 5 width
    h = hc * M * (p100 + p95 + c100 + c105)
    c = 4 * COMM
    units = math.floor(CAP / (max(loss, 0.0) + h + 2 * c))
    cfg = _cfg(structure="iron_condor", dte=365, moneyness=(0.0, 0.05), bid_ask_haircut=hc,
               contracts=None, risk_pct=1.0)  # fmt: skip
    res = run_options_backtest(_bars(FLAT), _cross(12, 4), cfg, EngineConfig())
    tr, eq = _entry(res)
    assert (tr.entry_bar, tr.units) == (5, units) and units == 492
    assert eq == pytest.approx(CAP - units * (h + c), rel=1e-12)  # 32,256.95
    assert eq == pytest.approx(32_256.95, abs=0.01) and eq >= units * (loss + c)
    assert tr.max_loss == pytest.approx(units * (loss + h + 2 * c), rel=1e-12)
    assert res.assumptions["skipped_note"] == "none"


@pytest.mark.parametrize("contracts", [None, 5000])
def test_a_credit_above_the_width_does_not_net_the_haircut(contracts):
    # r = -10 %, vol 2 %: a year out both puts are in the money forward, so the 100/98 bull put
    # spread's mid credit 2 x e^0.1 = 2.21 exceeds its width 2 (L = -21.03 a unit). Its haircut
    # H = 5 % of 10.52 + 8.31 = 94.12 a unit. Old risk L + H + 2C = 75.69 -> 1,321 units, whose
    # fills cost 1,321 x 95.42 = 126,049 > the cash: ruined at its own entry close. Now risk
    # H + 2C = 96.72 -> 1,033 units; the equity at the entry close 100,000 - 1,033 x 95.42
    r, vol, hc = -0.10, 0.02, 0.05
    p100 = bsm(100, 100, 1.0, "put", vol=vol, r=r, q=0.0)
    p98 = bsm(100, 98, 1.0, "put", vol=vol, r=r, q=0.0)
    loss = 2 * M - M * (p100 - p98)
    h = hc * M * (p100 + p98)
    c = 2 * COMM
    assert loss < 0 and loss + h + 2 * c < h + c  # the case the old rule got wrong
    units = math.floor(CAP / (h + 2 * c))
    assert units == 1033 and math.floor(CAP / (loss + h + 2 * c)) == 1321
    cfg = _cfg(structure="bull_put_spread", dte=365, moneyness=(0.0, 0.02), risk_free_rate=r,
               dividend_yield=0.0, iv_floor=vol, bid_ask_haircut=hc, contracts=contracts, risk_pct=1.0)  # fmt: skip
    res = run_options_backtest(_bars(FLAT), _cross(12, 4), cfg, EngineConfig())
    tr, eq = _entry(res)
    assert (tr.entry_bar, tr.units) == (5, units)
    assert eq == pytest.approx(CAP - units * (h + c), rel=1e-12)
    assert eq == pytest.approx(1_431.88, abs=0.01) and eq >= units * c > 0
    assert tr.max_loss == pytest.approx(units * (h + 2 * c), rel=1e-12)
    assert res.assumptions["ruin_bar"] is None
    if contracts is not None:
        assert res.assumptions["skipped_note"] == (
            f"1 entry took fewer than the 5000 contracts asked: the cash secured only 1033 "
            f"(first at {res.equity.index[5]}: cash 100,000.00)"
        )


def _arb_chain(tmp_path) -> tuple[pd.DataFrame, str]:
    """Flat bars at 100 and a chain whose 100 / 105 call quotes (6.0 / 7.0 and 0.5 / 1.5 every
    day) put the bear call spread's mid credit 5.5 above its width 5."""
    days = pd.date_range("2024-01-02", "2024-01-12", freq="D", tz="UTC")
    rows = [f"{d:%Y-%m-%d},2024-01-10,{k},call,{bid},{ask}"
            for d in days[:9] for k, bid, ask in ((100, 6.0, 7.0), (105, 0.5, 1.5))]  # fmt: skip
    path = tmp_path / "chain.csv"
    path.write_text("date,expiry,strike,kind,bid,ask\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return _bars([100.0] * len(days), days), str(path)


def test_chain_quotes_whose_mid_credit_exceeds_the_width(tmp_path):
    # sold the 100 call at its bid 6.0, bought the 105 at its ask 1.5: credit 450 a unit; at the
    # mids 550 > the width's 500, so L = -50; the entry's spread H = 100 x (0.5 + 0.5) = 100.
    # Old risk L + H + 2C = 52.6 -> 1,901 units, fills costing 1,901 x 101.3 = 192,571: ruined at
    # the entry close. Now risk H + 2C = 102.6 -> 974 units; equity 100,000 - 974 x 101.3 = 1,333.80
    df, chain = _arb_chain(tmp_path)
    cfg = _cfg(structure="bear_call_spread", dte=7, moneyness=(0.0, 0.05), chain=chain, contracts=1000)
    res = run_options_backtest(df, _cross(len(df), 1, -1.0), cfg, EngineConfig())
    h, c = 100.0, 2 * COMM
    units = math.floor(CAP / (h + 2 * c))
    assert units == 974
    tr, eq = _entry(res)
    assert (tr.entry_bar, tr.units) == (2, units)
    assert eq == pytest.approx(CAP - units * (h + c), rel=1e-12) and eq == pytest.approx(1_333.80, abs=1e-6)
    assert tr.max_loss == pytest.approx(units * (h + 2 * c), rel=1e-12)
    assert res.assumptions["ruin_bar"] is None and (res.equity > 0).all()
    assert res.assumptions["skipped_note"] == (
        f"1 entry took fewer than the 1000 contracts asked: the cash secured only 974 (first at {df.index[2]}: "
        "cash 100,000.00)"
    )


# ---- why an entry was skipped: one line in the ledger (no warning) ------------------------------
# A 30-day ATM long call at 100 (vol 20 %, r 3 %, q 1 %, no haircut): one unit's risk is its
# debit 100 x c plus a commission each way.


def _call_run(capital: float, **kw):
    cfg = _cfg(structure="long_call", dte=30, moneyness=(0.0, 0.05), **kw)
    return run_options_backtest(_bars(FLAT), _cross(12, 4), cfg, EngineConfig(initial_capital=capital))


RISK = M * bsm(100, 100, 30 / 365, "call") + 2 * COMM  # 241.69


def test_risk_pct_below_one_unit_says_raise_risk_pct_or_set_contracts():
    res = _call_run(CAP, contracts=None, risk_pct=0.001)  # 100 of the cash < one unit's 241.69
    stamp = res.equity.index[5]
    assert len(res.trades) == 0 and res.assumptions["skipped_entries"] == 1
    assert res.assumptions["skipped_note"] == (
        f"1 of 1 entry skipped because one long_call unit's risk (maximum loss at expiry + haircut + "
        f"commissions both ways: {RISK:,.2f}) is more than risk_pct=0.001 of the cash (first at {stamp}: "
        "100.00 of 100,000.00); raise risk_pct or set contracts"
    )


def test_fixed_contracts_the_cash_cannot_secure_does_not_say_set_contracts():
    res = _call_run(200.0, contracts=3)
    note = res.assumptions["skipped_note"]
    assert note == (
        f"1 of 1 entry skipped because the cash could not secure even 1 of the 3 contracts asked (first at "
        f"{res.equity.index[5]}: cash 200.00 < {RISK:,.2f} a unit, its maximum loss at expiry + haircut + "
        "commissions both ways, or its debit); add capital or choose a cheaper structure"
    )
    assert "set contracts" not in note and "\n" not in note


def test_cash_below_one_unit_without_contracts():
    res = _call_run(200.0, contracts=None, risk_pct=1.0)
    note = res.assumptions["skipped_note"]
    assert note.startswith("1 of 1 entry skipped because the cash could not secure one long_call unit (first at ")
    assert f"cash 200.00 < {RISK:,.2f} a unit" in note and "set contracts" not in note


def test_skips_and_trades_counted_together_on_a_chain(tmp_path):
    # the chain tests' second cross: the 110 call has no quote on the fill day (test_chains)
    from tests.options.test_chains import _bars as chain_bars
    from tests.options.test_chains import _cfg as chain_cfg
    from tests.options.test_chains import _signal

    res = run_options_backtest(chain_bars(), _signal(2, 10), chain_cfg())
    assert len(res.trades) == 1 and res.assumptions["skipped_entries"] == 1
    assert res.assumptions["skipped_note"] == (
        "1 of 2 entries skipped because a quote was missing on the fill day (first at 2024-01-12 00:00:00+00:00; "
        "see missing_quotes)"
    )


def test_the_cli_prints_the_note_and_nothing_is_warned(capsys):
    from phi.cli import main

    code = main(["backtest", "--start", "2021-01-01", "--end", "2021-12-31", "--mode", "options",
                 "--structure", "long_call", "--contracts", "5", "--capital", "100", "--no-save"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    (line,) = [x for x in out.out.splitlines() if x.startswith("skipped: ")]
    assert "entries skipped because the cash could not secure even 1 of the 5 contracts asked" in line
    assert "set contracts" not in line


def test_no_ruin_note_waits_for_a_quote(tmp_path):
    # the chain's ruin is decided only at a close with every open leg quoted, so the close-out is
    # always at that close (the note's old "waited for a quote" branches were unreachable): over
    # every set of days the 105 call goes unquoted, with and without a stale day-4 quote of the
    # 100 call and a cross back at day 5, a ruined run's last trade exits at the ruin close
    from itertools import combinations

    from tests.options.test_ruin import _chain, _chain_run, _chain_sig

    ruined = gapped = 0
    for k in range(3):
        for drop in combinations(range(3, 9), k):
            for day4 in ((29.9, 30.1), (35.9, 36.1)):
                for exit_at in (None, 5):
                    df, path = _chain(tmp_path, day4_100=day4, drop_105=drop)
                    res = _chain_run(df, path, _chain_sig(len(df), exit_at))
                    note = res.assumptions["ruin"]
                    if res.assumptions["ruin_bar"] is None:
                        assert note.startswith("none")
                        continue
                    ruined += 1
                    gapped += bool(drop)
                    bar = int(df.index.get_loc(pd.Timestamp(res.assumptions["ruin_bar"])))
                    tr = res.trades.iloc[-1]
                    assert tr.exit_bar == bar and tr.exit_reason in ("ruin", "signal")
                    assert "closed at that close (the chain's quotes" in note
                    assert "no quote" not in note and "waited" not in note
                    np.testing.assert_allclose(res.equity.iloc[bar:], res.equity.iloc[bar], rtol=0)
    assert ruined > 0 and gapped > 0


# ---- an early exit: no fill worse than the structure's worst payoff at expiry --------------------
# One unit's risk max(L, 0) + H + 2C reserves the loss from the entry's mids down to the worst
# payoff at expiry (mid - L). An exit before expiry closes no worse than that payoff: its haircut
# is cut (every leg's by one factor) to keep the proceeds >= the worst payoff. So the cash after
# any early exit is >= cash - n (L + H + 2C) >= 0 at risk_pct = 1 (held, the marks stay above that
# payoff while r >= 0). Before, the full exit haircut was paid: an iron condor's 30 % haircut on four
# legs worth ~27 a share costs ~8 a share, more than its width 5, and the exit ruined the run.


def test_an_iron_condor_closed_early_at_a_30pct_haircut_is_not_ruined():
    # flat at 100, a one-year condor (short 100 put and call, long 95 put and 105 call) sized at
    # risk_pct 1: n = floor(CAP / (L + H + 2C)) = floor(100,000 / 878.67) = 113. The signal falls back to 0 at bar 7's close:
    # closed at bar 8's open, 3 days on. At those mids the condor is worth -V (a debit to close)
    # and its legs G; closing them at 30 % costs V + 0.3 G = 1,243.78 > its worst payoff 500, so the
    # fills pay 500 a unit. Old: cash 100,000 - n (H - credit + C) - n (V + 0.3 G + C) = -83,337.69,
    # ruined at bar 8's close; now 100,000 - n (L + H + 2C) = 709.73 and no ruin
    hc, t0, t1 = 0.30, 1.0, 362 / 365
    legs = [(95, "put", 1), (100, "put", -1), (100, "call", -1), (105, "call", 1)]  # the legs table's order
    credit = -M * sum(qq * bsm(100, k, t0, kind) for k, kind, qq in legs)
    h = hc * M * sum(bsm(100, k, t0, kind) for k, kind, _ in legs)
    loss, c = 5 * M - credit, 4 * COMM
    units = math.floor(CAP / (loss + h + 2 * c))
    v = -M * sum(qq * bsm(100, k, t1, kind) for k, kind, qq in legs)  # paid to close at the mids
    g = M * sum(bsm(100, k, t1, kind) for k, kind, _ in legs)
    old_cash = CAP - units * (h - credit + c) - units * (v + hc * g + c)
    new_cash = CAP - units * (loss + h + 2 * c)
    assert units == 113 and v + hc * g > 5 * M and old_cash < 0 < new_cash
    sig = np.full(12, np.nan)
    sig[3:8] = [0.0, 1.0, 1.0, 1.0, 0.0]
    cfg = _cfg(structure="iron_condor", dte=365, moneyness=(0.0, 0.05), bid_ask_haircut=hc,
               contracts=None, risk_pct=1.0)  # fmt: skip
    res = run_options_backtest(_bars(FLAT), sig, cfg, EngineConfig())
    tr = res.trades.iloc[0]
    assert (tr.entry_bar, tr.exit_bar, tr.units, tr.exit_reason) == (5, 8, units, "signal")
    assert tr.exit_value == pytest.approx(-5 * M * units, rel=1e-12)
    assert res.assumptions["ruin_bar"] is None and len(res.trades) == 1
    np.testing.assert_allclose(res.equity.iloc[8:], new_cash, rtol=1e-12)
    assert new_cash == pytest.approx(709.73, abs=0.01) and old_cash == pytest.approx(-83_337.69, abs=0.01)
    # every leg's haircut cut by one factor: the fills still straddle the mids, against us
    lg = res.legs
    mids = np.array([bsm(100, k, t1, kind) for k, kind, _ in legs])
    f = (5 * M - v) / (hc * g) * hc  # the haircut actually paid, a fraction of each leg's price
    want = mids * (1 - f * np.array([qq for *_, qq in legs]))  # short legs bought back above the mid
    np.testing.assert_allclose(lg.exit_price.to_numpy(), want, rtol=1e-12)


def test_a_chain_spread_closed_early_at_wide_quotes_pays_at_most_its_width(tmp_path):
    # bear call spread 100/105 on a chain: quotes 2.0 / 4.0 and 0.5 / 1.5 at the entry (mid credit
    # 2, L = 300, H = 100 + 50 = 150), so n = floor(100,000 / 452.6) = 220 of the 1000 asked. The
    # signal exits at day 4's close; day 5 quotes the 100 call 1.5 / 7.5: closing at its ask and
    # the 105's bid costs 700 a unit, more than the width 500. Old: cash 100,000 + 220 x 48.7 -
    # 220 x 701.3 = -43,572, ruined; now the fills pay 500 a unit (each leg 3/7 of the way from its
    # mid to its quote): cash 100,000 - 220 x 452.6 = 428
    days = pd.date_range("2024-01-02", "2024-01-12", freq="D", tz="UTC")
    rows = []
    for i, d in enumerate(days[:9]):
        bid, ask = (2.0, 4.0) if i < 5 else (1.5, 7.5)
        rows += [f"{d:%Y-%m-%d},2024-01-10,100,call,{bid},{ask}", f"{d:%Y-%m-%d},2024-01-10,105,call,0.5,1.5"]
    path = tmp_path / "chain.csv"
    path.write_text("date,expiry,strike,kind,bid,ask\n" + "\n".join(rows) + "\n", encoding="utf-8")
    df = _bars([100.0] * len(days), days)
    sig = np.full(len(days), np.nan)
    sig[0:5] = [0.0, -1.0, -1.0, -1.0, 0.0]
    cfg = _cfg(structure="bear_call_spread", dte=7, moneyness=(0.0, 0.05), chain=str(path), contracts=1000)
    res = run_options_backtest(df, sig, cfg, EngineConfig())
    units = math.floor(CAP / (300 + 150 + 4 * COMM))
    assert units == 220
    tr = res.trades.iloc[0]
    assert (tr.entry_bar, tr.exit_bar, tr.units, tr.exit_reason) == (2, 5, units, "signal")
    assert tr.exit_value == pytest.approx(-500.0 * units, rel=1e-12)
    assert res.assumptions["ruin_bar"] is None
    np.testing.assert_allclose(res.equity.iloc[5:], 428.0, rtol=1e-9)
    np.testing.assert_allclose(res.legs.exit_price.to_numpy(), [4.5 + 3 * 3 / 7, 1.0 - 0.5 * 3 / 7], rtol=1e-12)
