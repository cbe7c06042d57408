"""Real end-of-day chains: loading, contract choice, fills from quotes, missing quotes reported.

Every figure is worked by hand from tests/options/chain_tiny.csv: calls on a stock that sits at
100 and then rallies to 112; the 100 call expiring 2024-01-10 has no quote on 2024-01-06, and
the 110 call expiring 2024-01-17 none on 2024-01-12.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.errors import DataError, EngineError
from phi.options.chains import choose_expiry, choose_strike, load_chain
from phi.options.config import OptionsConfig
from phi.options.simulator import run_options_backtest

CHAIN = str(Path(__file__).with_name("chain_tiny.csv"))
#: bar i is 2024-01-(i+1); open == close
CLOSES = [100, 100, 100, 100, 101, 103, 106, 108, 109, 111, 112, 112]


def _bars() -> pd.DataFrame:
    c = np.asarray(CLOSES, dtype=float)
    idx = pd.date_range("2024-01-01", periods=len(c), freq="D", tz="UTC")
    return pd.DataFrame({"open": c, "high": c, "low": c, "close": c, "volume": 1e6}, index=idx)


def _signal(*crosses: int) -> np.ndarray:
    s = np.full(len(CLOSES), np.nan)
    for bar in crosses:
        s[bar - 1], s[bar] = 0.0, 1.0
    return s


def _cfg(**kw) -> OptionsConfig:
    base = dict(
        structure="long_call", dte=7, moneyness=(0.0, 0.05), contracts=1,
        commission_per_contract=1.0, profit_target_pct=None, stop_loss_pct=None, chain=CHAIN,
    )  # fmt: skip
    base.update(kw)
    return OptionsConfig(**base)


def test_load_chain_normalises_kinds_and_dates():
    chain = load_chain(CHAIN)
    q = chain.quotes
    assert set(q.kind) == {"call"} and len(q) == 14
    assert q.date.dt.tz is not None and (q.date == q.date.dt.normalize()).all()
    assert len(chain.fingerprint) == 64
    day = pd.Timestamp("2024-01-03", tz="UTC")
    # listed on 01-03: expiries 01-10 (6 days after 01-04) and 01-17 (13): nearest 7 -> 01-10
    assert choose_expiry(chain.listed_on(day), day + pd.Timedelta(days=1), 7) == pd.Timestamp("2024-01-10", tz="UTC")
    assert choose_expiry(chain.listed_on(day), day + pd.Timedelta(days=1), 11) == pd.Timestamp("2024-01-17", tz="UTC")
    assert choose_strike(np.array([95.0, 100.0, 105.0]), 102.5) == 100.0  # a tie: the lower


def test_held_to_expiry_from_quotes_with_a_missing_mark():
    res = run_options_backtest(_bars(), _signal(2), _cfg())
    (tr,) = res.trades.itertuples()
    # decided at bar 2's close (01-03), filled at 01-04's ask 2.2 on the 100 call of 01-10
    leg = res.legs.iloc[0]
    assert (leg.strike, leg.expiry) == (100.0, pd.Timestamp("2024-01-10", tz="UTC"))
    assert tr.entry_bar == 3 and leg.entry_price == 2.2 and tr.entry_value == pytest.approx(220.0)
    # settled at 01-10 (bar 9) at intrinsic from the close 111: 11 a share
    assert tr.exit_reason == "expiry" and tr.exit_bar == 9 and leg.exit_price == pytest.approx(11.0)
    assert tr.pnl == pytest.approx(1100 - 220 - 1)
    # equity: cash 100000 - 221 plus 100 x the mid; 01-06 has no quote: the 01-05 mark is kept
    eq = res.equity.to_numpy()
    want = [1e5, 1e5, 1e5, 99779 + 210, 99779 + 300, 99779 + 300, 99779 + 620, 99779 + 800,
            99779 + 1000, 99779 + 1100, 99779 + 1100, 99779 + 1100]  # fmt: skip
    np.testing.assert_allclose(eq, want, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.cash + res.position_value, res.equity, atol=1e-9)
    # the missing quote is reported, in the result and in the ledger
    mq = res.missing_quotes
    assert mq[["date", "strike", "kind", "use"]].values.tolist() == [
        [pd.Timestamp("2024-01-06", tz="UTC"), 100.0, "call", "mark"]
    ]
    assert res.assumptions["missing_quotes"].startswith("1 needed quote(s) missing")
    assert "chain_tiny.csv" in res.assumptions["prices"] and "no model" in res.assumptions["prices"]
    # P&L by greek + residual + costs add up to the equity change
    np.testing.assert_allclose(res.attribution.sum(axis=1).to_numpy()[1:], np.diff(eq), atol=1e-9)


def test_profit_target_exits_at_the_bid_of_the_next_quoted_day():
    # target 100 % of the 220 premium: first close with P&L >= 220 is 01-07 (620 - 220)
    res = run_options_backtest(_bars(), _signal(2), _cfg(profit_target_pct=1.0))
    tr = res.trades.iloc[0]
    assert tr.exit_reason == "take_profit" and tr.exit_bar == 7  # filled at 01-08's bid 7.8
    assert res.legs.exit_price.iloc[0] == 7.8
    assert tr.pnl == pytest.approx(780 - 220 - 2)
    assert res.equity.iloc[-1] == pytest.approx(1e5 + 558)


def test_exit_waits_for_a_quote_and_says_so():
    # target 30 % (66): reached at 01-05's close (300 - 220); 01-06 has no quote -> out on
    # 01-07 at its bid 6.0
    res = run_options_backtest(_bars(), _signal(2), _cfg(profit_target_pct=0.3))
    tr = res.trades.iloc[0]
    assert tr.exit_bar == 6 and res.legs.exit_price.iloc[0] == 6.0
    assert tr.pnl == pytest.approx(600 - 220 - 2)
    assert res.missing_quotes["use"].tolist() == ["mark", "exit"]


def test_mid_fills_with_a_stated_haircut():
    res = run_options_backtest(_bars(), _signal(2), _cfg(chain_fill="mid", bid_ask_haircut=0.01))
    assert res.legs.entry_price.iloc[0] == pytest.approx(2.1 * 1.01)
    assert res.trades.pnl.iloc[0] == pytest.approx(1100 - 210 * 1.01 - 1)


def test_a_missing_entry_quote_skips_the_entry_and_is_reported():
    # second cross decided 01-11: the 110 call (nearest 112) has no quote on 01-12
    res = run_options_backtest(_bars(), _signal(2, 10), _cfg())
    assert len(res.trades) == 1
    last = res.missing_quotes.iloc[-1]
    assert (last.date, last.strike, last.use) == (pd.Timestamp("2024-01-12", tz="UTC"), 110.0, "entry")
    assert res.assumptions["skipped_entries"] == 1


def test_strikes_by_delta_among_listed_strikes():
    # near |delta| 0.3 -> the 105 call (the chain's delta 0.3 on 01-03)
    res = run_options_backtest(_bars(), _signal(2), _cfg(strike_rule="delta", delta=(0.3, 0.15)))
    assert res.legs.strike.iloc[0] == 105.0 and res.legs.entry_price.iloc[0] == 0.55


def test_chain_needs_daily_bars(tmp_path):
    bars = _bars()
    bars.index = bars.index + pd.Timedelta(hours=15)
    with pytest.raises(EngineError, match="end-of-day quotes: run it on daily bars"):
        run_options_backtest(bars, _signal(2), _cfg())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,expiry,strike,kind,bid\n", r"no column 'ask'"),
        ("date,expiry,strike,kind,bid,ask\n2024-01-03,2024-01-10,100,straddle,1,2\n", r"row 2: kind 'straddle' is not call or put"),
        ("date,expiry,strike,kind,bid,ask\n2024-01-03,2024-01-10,100,call,2,1\n", r"row 2: bid is above ask"),
        ("date,expiry,strike,kind,bid,ask\n2024-01-03,2024-01-01,100,call,1,2\n", r"row 2: expiry is before"),
        ("date,expiry,strike,kind,bid,ask\nsoon,2024-01-10,100,call,1,2\n", r"row 2: date 'soon' is not a date"),
        ("date,expiry,strike,kind,bid,ask\n2024-01-03,2024-01-10,100,call,1,2\n2024-01-03,2024-01-10,100,c,1,2\n", r"row 3: a second quote"),
    ],
)
def test_bad_chains_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "chain.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        load_chain(path)
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="cannot read it"):
        load_chain(tmp_path / "nope.csv")


def test_cli_takes_a_chain_into_the_run_config(tmp_path, capsys):
    from phi.backtest.run_config import RunConfig
    from phi.cli import main

    out = tmp_path / "cfg.json"
    code = main(["backtest", "--mode", "options", "--chain", CHAIN, "--chain-fill", "mid",
                 "--haircut", "1%", "--write-config", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    cfg = RunConfig.from_json(out.read_text())
    assert (cfg.options.chain, cfg.options.chain_fill, cfg.options.bid_ask_haircut) == (CHAIN, "mid", 0.01)
    code = main(["backtest", "--mode", "options", "--chain-fill", "last", "--no-save"])
    assert code == 2 and "options.chain_fill: unknown chain fill 'last'" in capsys.readouterr().err


def test_bull_call_spread_from_quotes_held_to_expiry():
    # buy the 100 call at its ask 2.2, sell the 105 call at its bid 0.45 (01-04): debit 1.75 a
    # share; at 01-10 the close is 111: the spread settles at 11 - 6 = 5
    res = run_options_backtest(_bars(), _signal(2), _cfg(structure="bull_call_spread"))
    tr = res.trades.iloc[0]
    assert res.legs.strike.tolist() == [100.0, 105.0]
    assert res.legs.entry_price.tolist() == [2.2, 0.45] and res.legs.exit_price.tolist() == [11.0, 6.0]
    assert tr.entry_value == pytest.approx(175.0) and tr.pnl == pytest.approx(500 - 175 - 2)
    assert tr.max_loss == pytest.approx(175 + 4)  # the debit plus commissions both ways
    # the 105 call has no quote after 01-04: its marks are kept and reported, day by day
    mq = res.missing_quotes
    assert sorted(mq[mq.strike == 105.0].date.dt.day.tolist()) == [5, 6, 7, 8, 9]
    assert mq[mq.strike == 100.0].date.dt.day.tolist() == [6]
    np.testing.assert_allclose(res.cash + res.position_value, res.equity, atol=1e-9)
    np.testing.assert_allclose(res.attribution.sum(axis=1).to_numpy()[1:], np.diff(res.equity), atol=1e-9)


def test_binary_or_non_utf8_chain_files_are_named_as_such(tmp_path):
    binary = tmp_path / "chain.bin"
    binary.write_bytes(b"date,expiry\x00\x01\x02" * 50)
    with pytest.raises(DataError, match=r"chain\.bin.*NUL bytes: a binary file, not CSV text"):
        load_chain(binary)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,expiry,strike,kind,bid,ask\n2024-01-02,2024-02-16,100,call,1,2 \xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.csv.*not UTF-8 text \(byte \d+\)"):
        load_chain(latin)
