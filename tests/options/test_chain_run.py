"""A recorded end-of-day chain priced through phi.run, from the quotes, end to end.

The files under tests/options/data/ are SYNTHETIC but shaped like a vendor's end-of-day
export (see data/README.md): two monthly expiries, a fixed strike grid, tick-rounded bid/ask,
vendor iv/delta/gamma, open interest, and one outage day (2024-02-07) whose quotes are all blank.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.options.config import OptionsConfig
from phi.pipeline import run

DATA = Path(__file__).parent / "data"
CHAIN = str(DATA / "xyz_chain_eod.csv")
BARS = str(DATA / "xyz_bars.csv")
OUTAGE = pd.Timestamp("2024-02-07", tz="UTC")


@pytest.fixture(scope="module")
def result():
    ds = DatasetSpec("XYZ", vendor="csv", path=BARS, start="2024-01-02", end="2024-03-13")
    opts = OptionsConfig(structure="long_put", dte=30, chain=CHAIN, profit_target_pct=None,
                         stop_loss_pct=None, contracts=2, commission_per_contract=0.65)  # fmt: skip
    return run(RunConfig(ds, [{"name": "rsi", "params": {"period": 5}}], mode="options", options=opts), save=False)


def _quotes() -> pd.DataFrame:
    q = pd.read_csv(CHAIN)
    for c in ("date", "expiry"):
        q[c] = pd.to_datetime(q[c], utc=True)
    return q.set_index(["date", "expiry", "strike", "kind"]).sort_index()


def test_legs_fill_at_the_recorded_quotes(result):
    o = result.options
    assert o is not None and len(o.trades) >= 2
    assert "option quotes from the end-of-day chain" in o.assumptions["prices"]
    q = _quotes()
    bars = pd.read_csv(BARS, parse_dates=["date"]).set_index("date")
    for _, leg in o.legs.iterrows():
        entry_day, exit_day = leg["entry_time"], leg["exit_time"]
        key = (leg["expiry"], leg["strike"], leg["kind"])
        assert leg["entry_price"] == q.loc[(entry_day, *key), "ask"]  # bought at the ask
        trade = o.trades.iloc[int(leg["trade"])]
        if trade["exit_reason"] == "signal":
            assert leg["exit_price"] == q.loc[(exit_day, *key), "bid"]  # sold at the bid
        # strike: the listed strike nearest the decision day's close (the bar before the fill)
        decision = bars.index[bars.index.get_loc(entry_day.tz_localize(None)) - 1]
        listed = q.xs((decision.tz_localize("UTC"), leg["expiry"], "put"), level=("date", "expiry", "kind")).index
        close = bars.loc[decision, "close"]
        assert leg["strike"] == listed[np.argmin(np.abs(listed.to_numpy() - close))]
    # every trade's P&L is the quotes' cash flow: 2 contracts x 100 x (bid out - ask in) - commissions
    closed = o.trades[o.trades.exit_reason == "signal"]
    legs = o.legs.set_index("trade")
    for i, t in closed.iterrows():
        leg = legs.loc[i]
        assert t["pnl"] == pytest.approx(2 * 100 * (leg["exit_price"] - leg["entry_price"]) - 4 * 0.65, abs=1e-9)


def test_the_outage_day_is_reported_not_invented(result):
    o = result.options
    held = o.trades[(o.trades.entry_time < OUTAGE) & (o.trades.exit_time > OUTAGE)]
    assert len(held) == 1  # a put held across the vendor outage
    miss = o.missing_quotes
    assert len(miss) == 1 and miss.iloc[0]["date"] == OUTAGE and miss.iloc[0]["use"] == "mark"
    assert miss.iloc[0]["strike"] == o.legs.set_index("trade").loc[held.index[0], "strike"]
    assert o.assumptions["missing_quotes"].startswith("1 needed quote(s) missing (never invented)")
    # the mark is kept at the last mid: the position's value does not move on the outage day
    pv = o.position_value
    day_before = pv.index[pv.index.get_loc(OUTAGE) - 1]
    assert pv.loc[OUTAGE] == pv.loc[day_before]
    assert (result.equity == result.cash + pv).all()
