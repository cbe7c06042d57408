"""Hostile inputs, third round: inputs that still gave a wrong silent result or a raw exception.

Each case: a :class:`phi.errors.PhiError` subclass (exit code 2 and one line in the CLI) whose
message names the problem, and nothing on disk changed; or, for odd but valid input, figures
checked against values worked by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import phi
from phi.backtest.run_config import RunConfig
from phi.cli import main
from phi.errors import DataError


def _one_line(exc: BaseException, *words: str) -> str:
    msg = str(exc)
    assert "\n" not in msg and len(msg) < 400, msg
    for w in words:
        assert w in msg, msg
    return msg


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (folders as empty markers)."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))}


# ---------------------------------------------------------------------------- warm-up


def _config(**changes: object) -> RunConfig:
    base: dict[str, object] = {
        "dataset": {"symbol": "DEMO", "start": "2021-01-01", "end": "2021-12-31"},
        "indicators": ["rsi"],
    }
    return RunConfig.from_dict({**base, **changes})


def test_a_warm_up_longer_than_the_bars_is_refused_not_reported_as_zero_trades(_isolated_phi_home: Path) -> None:
    # DEMO 2021 has 261 weekday bars. A warm-up of 300 bars left nothing to measure, and the run
    # came back with 0 trades, total return 0 and NaN ratios as if the strategy had been measured.
    with pytest.raises(DataError) as info:
        phi.run(_config(engine={"warmup_bars": 300}))
    _one_line(info.value, "engine.warmup_bars is 300", "0 of the 261 bars", "a smaller engine.warmup_bars")
    # 260 leaves one bar: a decision at its close has no next open to fill at
    with pytest.raises(DataError) as info:
        phi.run(_config(engine={"warmup_bars": 260}), save=False)
    _one_line(info.value, "leaves 1 of the 261 bars")
    assert not (_isolated_phi_home / "runs").exists() or not any((_isolated_phi_home / "runs").iterdir())
    # 259 leaves two bars: one decision (bar 259's close) can fill at bar 260's open
    res = phi.run(_config(engine={"warmup_bars": 259}), save=False)
    assert len(res.equity) == 261


def test_a_rule_indicator_whose_warm_up_fills_the_range_is_refused(_isolated_phi_home: Path) -> None:
    # rsi_band(14) holds 0 before its first call, so no indicator check stopped it: on the 14
    # weekday bars of 2021-01-01..2021-01-20 (RSI's first value needs 15) nothing could trade.
    with pytest.raises(DataError) as info:
        phi.run(_config(dataset={"symbol": "DEMO", "start": "2021-01-01", "end": "2021-01-20"}, indicators=["rsi_band"]), save=False)
    _one_line(info.value, "warm-up", "of the 14 bars", "longer date range")


def test_cli_warm_up_beyond_the_bars_is_one_line_and_exit_2(tmp_path: Path, _isolated_phi_home: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"dataset": {"symbol": "DEMO", "start": "2021-01-01", "end": "2021-12-31"},
                               "indicators": ["rsi"], "engine": {"warmup_bars": 1000}}))  # fmt: skip
    assert main(["backtest", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "engine.warmup_bars is 1,000" in lines[0], err
    assert "Traceback" not in err
    runs = _isolated_phi_home / "runs"
    assert not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]


