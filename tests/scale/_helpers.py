"""Helpers shared by the scale-out tests."""

from __future__ import annotations

import pytest

from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig
from phi.cli import main

#: One year of daily demo bars: enough for every period used here, quick to run.
SHORT = {"start": "2023-01-01", "end": "2023-12-31"}


def config(period: int, symbol: str = "DEMO", indicator: str = "rsi", **dates: str) -> RunConfig:
    """A one-indicator config on a short demo dataset."""
    return RunConfig(DatasetSpec(symbol, **{**SHORT, **dates}), (IndicatorConfig(indicator, {"period": period}),))


def bad_config() -> RunConfig:
    """A valid config that cannot run: eight bars for a 14-bar warm-up."""
    return config(14, start="2023-12-20", end="2023-12-31")


def phi(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
