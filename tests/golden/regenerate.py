"""Regenerate ``canonical_run.json`` — only on purpose, after a deliberate change of results.

    PHI_HOME=$(mktemp -d) .venv/bin/python -m tests.golden.regenerate

The pinned numbers are the output of ``phi.run`` on the canonical config. They are not
checked against themselves only: ``test_golden_run.py`` also replays the same blended signal
through the engine's independent pure-Python reference (``phi/backtest/_reference.py``) and
requires the same trades and equity, and the engine's own tests cross-check it against
backtesting.py and its metrics against empyrical. Review the diff of the JSON before
committing: every changed number needs a reason in the commit message.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from phi.backtest.run_config import RunConfig

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "canonical_run.json"

#: The canonical run: DEMO data, three indicators with a non-default parameter and weight,
#: long/short with every exit rule firing (signal, stop, trailing stop, target, time), costs on
#: both fills, whole units.
CANONICAL = {
    "dataset": {"symbol": "DEMO", "vendor": "demo", "timeframe": "1D", "start": "2020-01-01", "end": "2023-12-31"},
    "indicators": [
        {"name": "rsi", "params": {"period": 10}, "weight": 2.0},
        {"name": "macd"},
        {"name": "bollinger"},
    ],
    "blend": {"mode": "weighted_sum"},
    "engine": {
        "initial_capital": 100_000.0,
        "entry_threshold": 0.2,
        "exit_threshold": 0.0,
        "allow_short": True,
        "stop_loss_pct": 0.04,
        "take_profit_pct": 0.03,
        "trailing_stop_pct": 0.05,
        "time_exit_bars": 12,
        "commission_pct": 0.0005,
        "commission_fixed": 1.0,
        "slippage_bps": 2.0,
        "sizing": "percent_equity",
        "size_pct": 0.95,
        "fractional": False,
    },
    "seed": 0,
    "description": "golden canonical run",
}


def canonical_config() -> RunConfig:
    """The canonical RunConfig."""
    return RunConfig.from_dict(json.loads(json.dumps(CANONICAL)))


def trade_rows(trades) -> list[list]:  # noqa: ANN001
    """The pinned view of a trade list: bars, side, reason exactly; prices, size, PnL as floats."""
    cols = ["entry_bar", "exit_bar", "side", "exit_reason", "entry_price", "exit_price", "size", "pnl", "costs"]
    return [[int(r[0]), int(r[1]), str(r[2]), str(r[3]), *map(float, r[4:])] for r in trades[cols].itertuples(index=False)]


def main() -> None:
    from phi import __version__
    from phi.pipeline import run

    os.environ.setdefault("PHI_HOME", tempfile.mkdtemp(prefix="phi-golden-"))
    res = run(canonical_config(), save=False)
    golden = {
        "_note": (
            "Computed once by tests/golden/regenerate.py and frozen. test_golden_run.py checks every "
            "number here and replays the blended signal through the engine's pure-Python reference "
            "oracle (phi/backtest/_reference.py); the engine itself is cross-checked against "
            "backtesting.py and empyrical in tests/backtest."
        ),
        "phi_version": __version__,
        "config": canonical_config().to_dict(),
        "data_content_hash": res.config.dataset.content_hash,
        "bars": len(res.equity),
        "warmup_bars": res.assumptions["warmup_bars"],
        "ambiguous_bars": res.assumptions["ambiguous_bars"],
        "metrics": res.metrics,
        "trades": trade_rows(res.trades),
        "final_position": float(res.positions.iloc[-1]),
    }
    GOLDEN.write_text(json.dumps(golden, indent=2, allow_nan=True) + "\n")
    print(f"wrote {GOLDEN}: {len(golden['trades'])} trades, final equity {res.metrics['final_equity']:.2f}")


if __name__ == "__main__":
    main()
