"""The golden run (STYLE note 6): one canonical RunConfig on DEMO data, every metric pinned.

The numbers in ``canonical_run.json`` were produced once by ``regenerate.py`` and frozen. They
are not only compared with themselves: the blended signal of the run is replayed through the
engine's independent pure-Python reference (``phi/backtest/_reference.py``), which must give
the same trades and equity; the engine is cross-checked against backtesting.py and the
metrics against empyrical in ``tests/backtest``. If a change moves these numbers on purpose,
regenerate (see ``regenerate.py``) and say why in the commit message.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from phi.backtest._reference import reference_backtest
from phi.backtest.metrics import METRIC_NAMES
from phi.pipeline import RunResult, run
from tests.golden.regenerate import canonical_config, trade_rows

GOLDEN = json.loads((Path(__file__).parent / "canonical_run.json").read_text())
RTOL = 1e-10  # room for summation-order differences across platforms only


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI_HOME", str(tmp_path_factory.mktemp("golden_home")))
        return run(canonical_config(), save=False)


def test_canonical_config_is_unchanged() -> None:
    assert canonical_config().to_dict() == GOLDEN["config"]


def test_same_demo_bars(result: RunResult) -> None:
    assert result.config is not None
    assert result.config.dataset.content_hash == GOLDEN["data_content_hash"], (
        "the demo vendor now generates different bars; the golden run needs regenerating"
    )
    assert len(result.equity) == GOLDEN["bars"]
    assert result.assumptions["warmup_bars"] == GOLDEN["warmup_bars"]
    assert result.assumptions["ambiguous_bars"] == GOLDEN["ambiguous_bars"]


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_every_metric_is_pinned(result: RunResult, name: str) -> None:
    expected = GOLDEN["metrics"][name]
    got = result.metrics[name]
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=RTOL, abs=1e-12), name
    assert set(GOLDEN["metrics"]) == set(METRIC_NAMES)


def test_trades_are_pinned(result: RunResult) -> None:
    got = trade_rows(result.trades)
    expected = GOLDEN["trades"]
    assert len(got) == len(expected)
    assert [r[:4] for r in got] == [r[:4] for r in expected]  # bars, side, exit reason exactly
    np.testing.assert_allclose([r[4:] for r in got], [r[4:] for r in expected], rtol=RTOL)
    assert float(result.positions.iloc[-1]) == GOLDEN["final_position"]
    # the canonical run exercises every exit rule
    assert {r[3] for r in expected} >= {"signal", "stop_loss", "take_profit", "trailing_stop", "time_exit"}
    assert {r[2] for r in expected} == {"long", "short"}


def test_reference_oracle_agrees(result: RunResult) -> None:
    """Cross-check: the plain-Python engine reference reproduces the run from its blended signal."""
    import dataclasses

    from phi.data.store import get_dataset

    cfg = result.config
    assert cfg is not None and result.signal is not None
    ds = get_dataset(cfg.dataset.symbol, cfg.dataset.start, cfg.dataset.end, cfg.dataset.timeframe, cfg.dataset.vendor)
    f = ds.frame
    engine = dataclasses.replace(cfg.engine, warmup_bars=result.assumptions["warmup_bars"])
    ref = reference_backtest(
        f["open"].to_numpy(), f["high"].to_numpy(), f["low"].to_numpy(), f["close"].to_numpy(),
        result.signal.to_numpy(), engine,
    )  # fmt: skip
    np.testing.assert_allclose(ref.equity, result.equity.to_numpy(), rtol=1e-9)
    assert len(ref.trades) == len(result.trades)
    for t_ref, (_, t) in zip(ref.trades, result.trades.iterrows(), strict=True):
        assert (t_ref["entry_bar"], t_ref["exit_bar"], t_ref["exit_reason"]) == (t["entry_bar"], t["exit_bar"], t["exit_reason"])
        assert t_ref["size"] == t["size"]
        assert t_ref["pnl"] == pytest.approx(t["pnl"], rel=1e-9, abs=1e-6)
    assert ref.ambiguous_bars == result.assumptions["ambiguous_bars"]
