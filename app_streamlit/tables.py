"""Tables for people: the trades of a run and its metrics, formatted as traders read them.

Daily bars show as dates, intraday bars in the exchange's local time; returns as percent;
money and prices with thousands separators and 2 decimals; units whole (or 4 decimals when
fractional units are on). The engine's internal columns (``entry_bar``, ``exit_bar``, the
``open`` flag) are not shown — the trades CSV export keeps every column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app_streamlit.charts import is_daily, local_index

#: Engine columns kept out of the on-screen table (present in the CSV export).
HIDDEN_COLUMNS = ("entry_bar", "exit_bar", "open")
EXIT_REASONS = {"end_of_data": "still open (marked at the last close)"}


def trades_view(trades: pd.DataFrame, *, tz: str | None, fractional: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The display frame of ``trades`` and its ``column_config`` (numbers stay numbers, so the
    table sorts correctly)."""
    is_open = trades["open"].to_numpy(dtype=bool) if "open" in trades else np.zeros(len(trades), bool)
    entry = pd.DatetimeIndex(trades["entry_time"])
    exit_ = pd.DatetimeIndex(trades["exit_time"])
    daily = is_daily(entry.append(exit_[~is_open]))
    when_entry = local_index(entry, tz)
    when_exit = local_index(exit_, tz)
    if daily:
        entry_col: Any = pd.Series(when_entry.date, index=trades.index)
        exit_col: Any = pd.Series(when_exit.date, index=trades.index).where(~is_open, None)
        time_cfg: Any = st.column_config.DateColumn
        fmt = "YYYY-MM-DD"
        suffix = ""
    else:
        entry_col = pd.Series(when_entry, index=trades.index)
        exit_col = pd.Series(when_exit, index=trades.index).where(~is_open, pd.NaT)
        time_cfg = st.column_config.DatetimeColumn
        fmt = "YYYY-MM-DD HH:mm"
        suffix = f" ({tz})" if tz else " (UTC)"
    reason = trades["exit_reason"].astype(str).map(lambda r: EXIT_REASONS.get(r, r.replace("_", " ")))
    out = pd.DataFrame(
        {
            "#": np.arange(1, len(trades) + 1),
            "status": np.where(is_open, "open", "closed"),
            "side": trades["side"].astype(str).to_numpy(),
            "entry": entry_col.to_numpy(),
            "exit": exit_col.to_numpy(),
            "entry price": trades["entry_price"].to_numpy(dtype=float),
            "exit price": trades["exit_price"].to_numpy(dtype=float),
            "units": trades["size"].to_numpy(dtype=float),
            "P&L": trades["pnl"].to_numpy(dtype=float),
            "return": trades["return_pct"].to_numpy(dtype=float) * 100.0,
            "bars": trades["bars_held"].to_numpy(),
            "exit reason": reason.to_numpy(),
            "costs": trades["costs"].to_numpy(dtype=float),
        }
    )
    money = "accounting"
    config = {
        "#": st.column_config.NumberColumn("#", format="%d", width="small"),
        "entry": time_cfg("entry" + suffix, format=fmt),
        "exit": time_cfg("exit" + suffix, format=fmt, help="Empty for a trade still open at the last bar."),
        "entry price": st.column_config.NumberColumn("entry price", format=money),
        "exit price": st.column_config.NumberColumn(
            "exit price", format=money, help="For an open trade: the last close it is marked at."
        ),
        "units": st.column_config.NumberColumn("units", format="%.4f" if fractional else "%d"),
        "P&L": st.column_config.NumberColumn("P&L", format=money, help="After commissions and slippage."),
        "return": st.column_config.NumberColumn("return %", format="%.2f%%", help="P&L over the entry notional."),
        "bars": st.column_config.NumberColumn("bars", format="%d", help="Bars held."),
        "costs": st.column_config.NumberColumn("costs", format=money, help="Commissions + slippage of both fills."),
    }
    return out, config


def filter_trades(view: pd.DataFrame, side: str, status: str, outcome: str) -> pd.DataFrame:
    """Rows of ``view`` for a side (all/long/short), a status (all/closed/open) and an outcome
    (all/winners/losers)."""
    keep = np.ones(len(view), bool)
    if side in ("long", "short"):
        keep &= (view["side"] == side).to_numpy()
    if status in ("closed", "open"):
        keep &= (view["status"] == status).to_numpy()
    if outcome == "winners":
        keep &= (view["P&L"] > 0).to_numpy()
    elif outcome == "losers":
        keep &= (view["P&L"] <= 0).to_numpy()
    return view[keep]
