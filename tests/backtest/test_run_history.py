"""Run history: save/load round trip, list (robust to corrupt runs), compare, delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phi.backtest import run_history as rh
from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.errors import RunError
from phi.paths import runs_root
from phi.pipeline import run

ROOT = Path(__file__).resolve().parents[2]


def small_config(**engine: object) -> RunConfig:
    return RunConfig(
        DatasetSpec("DEMO", start="2021-01-01", end="2022-12-31"),
        ["rsi", "macd"],
        engine={"stop_loss_pct": 0.04, "allow_short": True, **engine},
        description="history test",
        tags=("t",),
    )


def test_saved_run_has_every_file_and_reads_back_identically() -> None:
    res = run(small_config())
    assert res.run_id is not None
    path = runs_root() / res.run_id
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "equity.parquet", "results.json", "trades.csv"]
    results = json.loads((path / "results.json").read_text())
    assert results["schema_version"] == rh.RESULTS_SCHEMA_VERSION
    assert results["config_hash"] == res.config.config_hash()
    assert results["data_fingerprint"] == res.data["content_hash"] == res.config.dataset.content_hash
    assert results["phi_version"]
    assert results["summary"]["synthetic"] is True
    assert results["summary"]["indicators"] == ["rsi", "macd"]
    assert results["assumptions"]["fill"] == "next_open"
    assert not list(path.glob(".*.tmp"))  # atomic writes leave no temp files

    saved = rh.load_run(res.run_id)
    assert saved.config == res.config
    assert saved.metrics.keys() == res.metrics.keys()
    for k, v in res.metrics.items():
        assert saved.metrics[k] == v or (np.isnan(v) and np.isnan(saved.metrics[k])), k
    pd.testing.assert_series_equal(saved.equity["equity"], res.equity, check_freq=False)
    pd.testing.assert_series_equal(saved.equity["position"], res.positions, check_names=False, check_freq=False)
    assert len(saved.trades) == len(res.trades) > 0
    pd.testing.assert_frame_equal(saved.trades, res.trades, check_dtype=False)


def test_run_ids_sort_by_time() -> None:
    t0 = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    ids = [rh.new_run_id("abcdef0123", t0 + timedelta(milliseconds=ms)) for ms in (0, 1, 999, 1000, 86_400_000)]
    assert ids[0] == "20250102-030405-678-abcdef"
    assert ids == sorted(ids)


def test_list_is_newest_first_with_summary_metrics() -> None:
    a = run(small_config())
    b = run(small_config(stop_loss_pct=0.08))
    rows = rh.list_runs()
    assert [r["run_id"] for r in rows] == [b.run_id, a.run_id]
    assert rows[0]["sharpe"] == b.metrics["sharpe"]
    assert rows[0]["symbol"] == "DEMO" and rows[0]["blend_mode"] == "weighted_sum"
    assert set(rh.SUMMARY_METRICS) <= rows[0].keys()


def test_a_corrupt_run_is_skipped_with_a_warning() -> None:
    good = run(small_config())
    bad = run(small_config(stop_loss_pct=0.08))
    (runs_root() / bad.run_id / "results.json").write_text("{ truncated")
    (runs_root() / "20200101-000000-000-aaaaaa").mkdir()  # incomplete
    with pytest.warns(rh.RunWarning) as caught:
        rows = rh.list_runs()
    assert [r["run_id"] for r in rows] == [good.run_id]
    text = " | ".join(str(w.message) for w in caught)
    assert "unreadable" in text and "incomplete" in text
    with pytest.raises(RunError, match="unreadable"):
        rh.load_run(bad.run_id)


def test_newer_schema_is_refused_clearly() -> None:
    res = run(small_config())
    p = runs_root() / res.run_id / "results.json"
    data = json.loads(p.read_text())
    data["schema_version"] = rh.RESULTS_SCHEMA_VERSION + 1
    p.write_text(json.dumps(data))
    with pytest.raises(RunError, match=rf"results schema {rh.RESULTS_SCHEMA_VERSION + 1}; this phi reads up to {rh.RESULTS_SCHEMA_VERSION} \(upgrade phi\)"):
        rh.load_run(res.run_id)
    with pytest.warns(rh.RunWarning):
        assert rh.list_runs() == []


def test_compare_metrics_config_diff_and_equity() -> None:
    a = run(small_config())
    b = run(small_config(stop_loss_pct=0.08))
    cmp = rh.compare_runs([a.run_id, b.run_id])
    assert list(cmp.metrics.columns) == [a.run_id, b.run_id]
    assert cmp.metrics.loc["sharpe", a.run_id] == a.metrics["sharpe"]
    assert cmp.metrics.loc["final_equity", b.run_id] == b.metrics["final_equity"]
    assert ("engine.stop_loss_pct", 0.04, 0.08) in cmp.config_diff
    assert list(cmp.equity.columns) == [a.run_id, b.run_id]
    np.testing.assert_array_equal(cmp.equity[a.run_id].to_numpy(), a.equity.to_numpy())


def test_compare_errors() -> None:
    a = run(small_config())
    with pytest.raises(RunError, match="at least two"):
        rh.compare_runs([a.run_id])
    with pytest.raises(RunError, match="listed twice"):
        rh.compare_runs([a.run_id, a.run_id])
    with pytest.raises(RunError, match=r"no run '2020'"):
        rh.compare_runs([a.run_id, "2020"])


def test_delete_and_unknown_ids() -> None:
    a = run(small_config())
    typo = a.run_id[:-1] + ("x" if a.run_id[-1] != "x" else "y")
    with pytest.raises(RunError, match=rf"no run '{typo}'.*Did you mean '{a.run_id}'\?"):
        rh.delete_run(typo)
    with pytest.raises(RunError, match=r"is not a run id"):
        rh.delete_run("../etc")
    rh.delete_run(a.run_id)
    assert not (runs_root() / a.run_id).exists()
    assert rh.list_runs() == []
    with pytest.raises(RunError, match=r"no saved runs"):
        rh.load_run(a.run_id)


def test_listing_does_not_import_numba_or_the_engine(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from phi.backtest.run_history import list_runs\n"
        "list_runs()\n"
        "bad = [m for m in ('numba', 'phi.backtest.engine', 'phi.backtest.run_config') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PHI_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_a_v1_run_from_the_golden_assets_still_reads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """STYLE note 10: runs saved by schema 1 stay readable (assets frozen in tests/golden/saved_runs_v1)."""
    import shutil

    src = ROOT / "tests" / "golden" / "saved_runs_v1"
    shutil.copytree(src, tmp_path / "runs")
    monkeypatch.setenv("PHI_HOME", str(tmp_path))
    rows = rh.list_runs()
    assert len(rows) == 1
    saved = rh.load_run(rows[0]["run_id"])
    assert saved.results["schema_version"] == 1
    assert saved.config.schema_version == 1
    assert len(saved.trades) == saved.metrics["n_trades"] + saved.metrics["n_open_trades"]
    assert saved.equity["equity"].iloc[-1] == pytest.approx(saved.metrics["final_equity"])
