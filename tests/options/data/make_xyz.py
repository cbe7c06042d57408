"""Generate ``xyz_bars.csv`` and ``xyz_chain_eod.csv``: a SYNTHETIC end-of-day option chain
shaped like a vendor's (see README.md here). Deterministic (seeded); rerun to rebuild:

    .venv/bin/python tests/options/data/make_xyz.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from phi.options.black_scholes import bs_greeks, bs_price

HERE = Path(__file__).parent
R, Q = 0.05, 0.005
STRIKES = np.arange(160.0, 201.0, 5.0)
#: NYSE sessions 2024-01-02 .. 2024-03-13 (MLK day 01-15 and Presidents' day 02-19 closed)
HOLIDAYS = pd.DatetimeIndex(["2024-01-15", "2024-02-19"])
#: a vendor outage: every quote of this day is blank (listed, no bid/ask)
OUTAGE = pd.Timestamp("2024-02-07")


def third_fridays(start: str, n: int) -> list[pd.Timestamp]:
    out = []
    for m in pd.date_range(start, periods=n, freq="MS"):
        fridays = pd.date_range(m, m + pd.offsets.MonthEnd(0), freq="W-FRI")
        out.append(fridays[2])
    return out


def tick(x: np.ndarray) -> np.ndarray:
    """Round to the listed tick: 0.01 below 3.00, 0.05 above."""
    return np.where(x < 3.0, np.round(x, 2), np.round(x / 0.05) * 0.05)


def main() -> None:
    rng = np.random.default_rng(20240102)
    days = pd.bdate_range("2024-01-02", "2024-03-13")
    days = days[~days.isin(HOLIDAYS)]
    n = len(days)
    # underlying: GBM with an ATM vol that mean-reverts and rises when the stock falls
    atm = np.empty(n)
    close = np.empty(n)
    atm[0], close[0] = 0.24, 181.3
    shocks = rng.standard_normal(n)
    for i in range(1, n):
        ret = (R - Q) / 252 - 0.5 * atm[i - 1] ** 2 / 252 + atm[i - 1] / np.sqrt(252) * shocks[i]
        close[i] = close[i - 1] * np.exp(ret)
        atm[i] = np.clip(atm[i - 1] + 0.15 * (0.24 - atm[i - 1]) - 0.9 * ret + 0.006 * rng.standard_normal(), 0.14, 0.6)
    gaps = 1.0 + 0.004 * rng.standard_normal(n)
    opens = np.r_[close[0], close[:-1] * gaps[1:]]
    hi = np.maximum(opens, close) * (1.0 + np.abs(0.006 * rng.standard_normal(n)))
    lo = np.minimum(opens, close) * (1.0 - np.abs(0.006 * rng.standard_normal(n)))
    vol = np.round(5e6 * np.exp(0.3 * rng.standard_normal(n)))
    pd.DataFrame(
        {"date": days.strftime("%Y-%m-%d"), "open": np.round(opens, 2), "high": np.round(hi, 2),
         "low": np.round(lo, 2), "close": np.round(close, 2), "volume": vol.astype(np.int64)}
    ).to_csv(HERE / "xyz_bars.csv", index=False)

    expiries = third_fridays("2024-01-01", 5)
    rows = []
    oi_base = {}
    for i, day in enumerate(days):
        s = round(float(close[i]), 2)
        listed = [e for e in expiries if e >= day][:2]  # the two nearest monthlies
        for e in listed:
            dte = (e - day).days
            t = max(dte, 0.5) / 365.0
            fwd = s * np.exp((R - Q) * t)
            x = np.log(STRIKES / fwd)
            term = 1.0 + 0.04 * (np.sqrt(30.0 / max(dte, 1)) - 1.0)
            iv = atm[i] * term * (1.0 - 0.9 * x + 2.5 * x * x)
            for kind in ("call", "put"):
                mid = bs_price(s, STRIKES, t, R, Q, iv, kind)
                g = bs_greeks(s, STRIKES, t, R, Q, iv, kind)
                spread = np.maximum(0.02 + 0.03 * mid, 0.05 if kind == "call" else 0.06)
                bid = np.maximum(tick(mid - spread / 2), 0.0)
                ask = np.maximum(tick(mid + spread / 2), bid + 0.01)
                for j, k in enumerate(STRIKES):
                    key = (e, k, kind)
                    if key not in oi_base:  # open interest: a hump near round strikes, OTM heavier
                        otm = (k > s) if kind == "call" else (k < s)
                        oi_base[key] = (800 + (1500 if k % 10 == 0 else 0)) * (1.6 if otm else 0.7) * np.exp(
                            -0.5 * ((k - s) / 18.0) ** 2
                        ) * rng.uniform(0.6, 1.4)
                    oi_base[key] *= 1.0 + 0.03 * rng.uniform(-0.5, 1.0)
                    blank = day == OUTAGE
                    rows.append(
                        {
                            "date": day.strftime("%Y-%m-%d"),
                            "expiry": e.strftime("%Y-%m-%d"),
                            "strike": f"{k:g}",
                            "kind": kind,
                            "bid": "" if blank else f"{bid[j]:.2f}",
                            "ask": "" if blank else f"{ask[j]:.2f}",
                            "iv": "" if blank else f"{iv[j]:.4f}",
                            "delta": "" if blank else f"{g.delta[j]:.4f}",
                            "gamma": "" if blank else f"{g.gamma[j]:.5f}",
                            "open_interest": int(round(oi_base[key])),
                            "underlying": f"{s:.2f}",
                        }
                    )
    pd.DataFrame(rows).to_csv(HERE / "xyz_chain_eod.csv", index=False)


if __name__ == "__main__":
    main()
