"""The results page's no-trades reason for a signal past the entry threshold from the start:
the engine's ledger note (a crossing never came), not "crossed but no order was filled"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from app_streamlit.results import ResultData, no_trades_reason
from phi.backtest.run_config import RunConfig
from phi.pipeline import run


def test_a_signal_past_the_threshold_from_the_start_gets_the_ledger_note(tmp_path: Path) -> None:
    # close rising 0.2 % a bar: dual_sma's signal is 0.5 on every bar from its first value
    # (bar 108), above the 0.1 threshold, so it never crosses it
    idx = pd.bdate_range("2021-01-04", periods=300)
    c = 100.0 * 1.002 ** np.arange(300)
    pd.DataFrame({"date": idx.strftime("%Y-%m-%d"), "open": c, "high": c * 1.001, "low": c * 0.999,
                  "close": c, "volume": 1000}).to_csv(tmp_path / "up.csv", index=False)  # fmt: skip
    config = RunConfig.from_dict({
        "dataset": {"symbol": "UP", "vendor": "csv", "path": str(tmp_path / "up.csv"),
                    "start": "2021-01-01", "end": "2022-12-31"},
        "indicators": [{"name": "dual_sma"}],
        "engine": {"entry_threshold": 0.1},
    })  # fmt: skip
    data = ResultData.from_run(run(config, save=False), None)
    first_tradable = idx[109]  # the bar after the first value
    assert no_trades_reason(data) == (
        f"No trades: the signal was already above the entry threshold 0.1 at the first tradable bar "
        f"{first_tradable:%Y-%m-%d} (signal 0.5 there, 0.5 on the bar before); entries happen on "
        "crossings (prev <= 0.1 < cur), so no long position was opened there; no position was "
        "opened in the whole run."
    )
