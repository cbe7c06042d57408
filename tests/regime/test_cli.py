"""`phi regime` and `phi backtest --blend regime_weighted` end to end (offline demo data)."""

from __future__ import annotations

import pytest

from phi.cli import main
from phi.regime.taxonomy import REGIMES


def phi(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_phi_regime_prints_probabilities_and_confidences(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = phi(capsys, "regime", "DEMO", "--vendor", "demo", "--start", "2022-01-01", "--end", "2023-12-31", "--last", "3")
    assert code == 0, err
    for name in (*REGIMES, "dominant regime", "composite", "field confidence", "consensus", "liquidity", "confidence"):
        assert name in out
    assert "SYNTHETIC DEMO DATA" in out and "true regime of the last bar" in out
    assert "2023-12-29" in out  # the last bars, daily stamps as dates
    assert "volume features" in out  # whether the volume gate let volume in, stated


def test_phi_regime_shows_the_top_two_margin(capsys: pytest.CaptureFixture[str]) -> None:
    from phi.data.store import get_dataset
    from phi.regime.engine import RegimeEngine

    code, out, err = phi(capsys, "regime", "DEMO", "--start", "2022-01-01", "--end", "2023-12-31", "--last", "3")
    assert code == 0, err
    res = RegimeEngine().run(get_dataset("DEMO", "2022-01-01", "2023-12-31", "1D", "demo").frame)
    p = res.regime_probs.iloc[-1].sort_values()
    margin = float(p.iloc[-1] - p.iloc[-2])  # top minus second, by hand
    row = next(line for line in out.splitlines() if "top-two margin" in line and "│" in line)
    assert f"{margin:.3f}" in row
    assert "ranks the dominant regime's right calls" in " ".join(out.split())
    # the last bars' table has a margin column, each row its bar's margin
    head = next(line for line in out.splitlines() if "dominant regime" in line and "margin" in line)
    assert head.split()[-1] == "margin"
    for ts in res.regime_probs.index[-3:]:
        line = next(line for line in out.splitlines() if line.strip().startswith(f"{ts:%Y-%m-%d}"))
        q = res.regime_probs.loc[ts].sort_values()
        assert line.split()[-1] == f"{q.iloc[-1] - q.iloc[-2]:.3f}"


def test_phi_regime_intraday_and_bad_input(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code, out, _ = phi(capsys, "regime", "DEMO", "--start", "2024-01-01", "--end", "2024-02-29", "-t", "1H", "--last", "0")
    assert code == 0 and "DEMO 1H (demo)" in out
    code, _, err = phi(capsys, "regime", "DEMO", "--start", "2024-01-01", "--end", "2024-02-01")
    assert code == 2 and "error: the regime engine needs more than 118 bars" in err
    bad = tmp_path / "x.toml"
    bad.write_text("[features]\nrobust_norm = 0\n")
    code, _, err = phi(capsys, "regime", "DEMO", "--config", str(bad))
    assert code == 2 and "features.robust_norm must be in 1..100,000, got 0" in err


def test_backtest_with_regime_weighted_blend(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = phi(capsys, "backtest", "DEMO", "--start", "2021-01-01", "--end", "2022-12-31", "--blend", "regime_weighted", "-i", "rsi,macd,atr_ratio")
    assert code == 0, err
    assert "regime_weighted" in out


def test_backtest_regime_config_file_is_used_and_saved(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from phi.backtest import run_history as rh

    path = tmp_path / "engine.toml"
    path.write_text("[probability]\ndirection_scale = 0.5\n\n[taxonomy]\ngate_default = 2.0\n", encoding="utf-8")
    args = ("backtest", "DEMO", "--start", "2021-01-01", "--end", "2022-12-31", "-i", "rsi,macd")
    code, _, err = phi(capsys, *args, "--blend", "regime_weighted", "--regime-config", str(path))
    assert code == 0, err
    saved = rh.load_run(rh.list_runs()[0]["run_id"]).config
    assert saved.blend.regime == {"probability": {"direction_scale": 0.5}, "taxonomy": {"gate_default": 2.0}}
    code, _, err = phi(capsys, *args, "--blend", "regime_weighted", "--no-save")
    assert code == 0, err
    # the settings need the regime_weighted blend, and a bad file names the problem
    code, _, err = phi(capsys, *args, "--regime-config", str(path))
    assert code == 2 and "blend.regime (regime engine settings) is only used by mode 'regime_weighted'" in err
    path.write_text("[probability]\ndirection_scal = 0.5\n", encoding="utf-8")
    code, _, err = phi(capsys, *args, "--blend", "regime_weighted", "--regime-config", str(path))
    assert code == 2 and "unknown key 'direction_scal'. Did you mean 'direction_scale'?" in err
