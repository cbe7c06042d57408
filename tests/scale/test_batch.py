"""Batches on a Dask LocalCluster of 2 workers: none lost, none duplicated, failures reported,
a killed worker leaves no torn run, results independent of where they ran; grids; the CLI."""

from __future__ import annotations

import os
import signal
from collections import Counter
from typing import Any

import pytest

import phi.backtest.run_history as rh
import phi.backtest.run_index as ri
from phi.backtest.run_storage import TEMP_PREFIX
from phi.batch import expand_grid, parse_grid, run_batch
from phi.errors import ConfigError
from phi.paths import runs_root
from tests.scale._helpers import bad_config, config, one_line, phi


def _index_hashes() -> Counter[str]:
    from sqlalchemy import select

    with ri._engine().connect() as conn:
        return Counter(conn.execute(select(ri.RUNS.c.config_hash)).scalars())


def test_grid_specs() -> None:
    assert parse_grid("period=7..28:7") == {"period": [7, 14, 21, 28]}
    assert parse_grid("fast=5,10; slow=20..40:10") == {"fast": [5, 10], "slow": [20, 30, 40]}
    assert parse_grid("x=0.5..1:0.25") == {"x": [0.5, 0.75, 1.0]}
    for bad, msg in (("period", "name=values"), ("period=28..7", "is empty"), ("period=1..9:0", "step must be > 0"),
                     ("period=1..2 period=3", "given twice"), ("a=1..100000 b=1..100", "at most 100,000")):  # fmt: skip
        with pytest.raises(ConfigError, match=msg):
            parse_grid(bad)
    cfgs = expand_grid(config(14), parse_grid("period=7..28:7"))
    assert [c.indicators[0].params["period"] for c in cfgs] == [7, 14, 21, 28]
    with pytest.raises(ConfigError, match="no parameter 'fast'"):
        expand_grid(config(14), parse_grid("fast=1,2"))
    out = expand_grid(config(14), parse_grid("period=1,14"))  # 1 is below rsi's low bound: kept as its error
    assert isinstance(out[0], ConfigError) and "period=1" in str(out[0]) and not isinstance(out[1], ConfigError)


def test_40_configs_on_2_workers_land_40_runs_and_the_bad_one_is_reported(
    cluster2: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHI_DB_URL", pg_url)  # the index on PostgreSQL, the runs under PHI_HOME
    good = [config(p, s) for s in ("DEMO", "DEMO2") for p in range(5, 45, 2)]
    assert len(good) == 40 and len({c.config_hash() for c in good}) == 40
    seen: list[int] = []
    connected: list[tuple[str, str | None, int]] = []
    res = run_batch([*good[:20], bad_config(), *good[20:]], scheduler=cluster2, progress=lambda d, t, o: seen.append(d),
                    on_connect=lambda a, link: connected.append((a, link, len(seen))))  # fmt: skip
    assert res.n_workers == 2 and len(res.outcomes) == 41 and seen == list(range(1, 42))
    # told once, before any config finished
    assert connected == [(res.scheduler, res.dashboard, 0)] and res.scheduler.startswith("tcp://127.0.0.1:")
    assert [o.index for o in res.outcomes] == list(range(41))
    assert len(res.ok) == 40 and all(o.run_id and not o.save_error for o in res.ok)
    (bad,) = res.failed
    assert bad.index == 20 and "needs more than 14 bars" in bad.error and "\n" not in bad.error
    assert len({o.worker for o in res.ok}) == 2  # both workers took part
    ids = sorted(p.name for p in runs_root().iterdir())
    assert ids == sorted(o.run_id for o in res.ok)  # exactly 40 folders, no temp leftovers
    hashes = _index_hashes()
    assert sorted(hashes) == sorted(c.config_hash() for c in good) and set(hashes.values()) == {1}
    again = run_batch([*good, bad_config()], scheduler=cluster2)  # re-submission: nothing run twice
    assert len(again.skipped) == 40 and len(again.failed) == 1 and not again.ok
    assert {o.run_id for o in again.skipped} == {o.run_id for o in res.ok}
    assert len(list(runs_root().iterdir())) == 40


def test_same_metrics_and_trades_in_one_process_on_1_worker_and_on_2(cluster2: Any) -> None:
    from distributed import Client, LocalCluster

    cfgs = [config(p, s) for s in ("DEMO", "DEMO3") for p in (6, 23)]
    inline = run_batch(cfgs, scheduler="inline", force=True)
    two = run_batch(cfgs, scheduler=cluster2, force=True)
    # one worker, here in-process (no second set of worker processes to start on a busy CI)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0",
                      silence_logs=50) as cluster, Client(cluster) as client:  # fmt: skip
        one = run_batch(cfgs, scheduler=client, force=True)
    assert one.n_workers == 1 and two.n_workers == 2
    for a, b, c in zip(inline.outcomes, one.outcomes, two.outcomes, strict=True):
        assert a.status == b.status == c.status == "ok"
        assert a.metrics == b.metrics == c.metrics  # bit for bit
        assert a.trades_sha256 == b.trades_sha256 == c.trades_sha256
    assert len(list(runs_root().iterdir())) == 12  # force: every run saved again


def test_a_killed_worker_leaves_no_torn_run_and_resubmission_completes(cluster2: Any) -> None:
    cfgs = [config(p, "DEMO2", start="2022-01-01") for p in range(4, 40)]  # chunks of 3 configs
    pids = sorted(cluster2.run(os.getpid).values())
    killed: list[int] = []

    def kill_one(done: int, total: int, outcome: Any) -> None:
        if done >= 3 and not killed:
            os.kill(pids[0], signal.SIGKILL)  # mid-batch: the other worker is running a task
            killed.append(pids[0])

    first = run_batch(cfgs, scheduler=cluster2, progress=kill_one)
    assert killed and len(first.outcomes) == len(cfgs)
    rows = rh.list_runs()  # removes the dead worker's temporary folder, if it died mid-save
    assert not [p for p in runs_root().iterdir() if p.name.startswith(TEMP_PREFIX)]
    for row in rows:  # every visible run is complete and intact
        rh.load_run(row["run_id"])
    second = run_batch(cfgs, scheduler=cluster2)  # completes whatever the kill cost
    assert not second.failed and len(second.ok) + len(second.skipped) == len(cfgs)
    hashes = Counter(r["config_hash"] for r in rh.list_runs())
    assert sorted(hashes) == sorted(c.config_hash() for c in cfgs) and set(hashes.values()) == {1}


def test_cli_batch_run_and_sweep(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, out, err = phi(capsys, "batch", "run", "--grid", "period=8..20:6", "--start", "2023-01-01", "--end", "2023-12-31", "--scheduler", "inline")
    assert code == 0, err
    assert "3 config(s)" in out and "3 run (3 saved), 0 failed, 0 skipped" in out and "Best 3 of 3 by sharpe" in out
    symbols = tmp_path / "universe.txt"
    symbols.write_text("DEMO  # the first\nDEMO2, DEMO3\n")
    code, out, err = phi(capsys, "batch", "sweep", "--symbols", str(symbols), "--preset", "rsi", "--grid", "period=8..20:6",
                         "--start", "2023-01-01", "--end", "2023-12-31", "--scheduler", "inline")  # fmt: skip
    assert code == 0, err
    assert "9 run(s)" in out and "6 run, 0 failed, 3 skipped" in out  # DEMO's three were run above
    assert "Best combination per symbol by sharpe (3 of 3 symbols)" in out and "sharpe across the universe" in out
    assert len(list(runs_root().iterdir())) == 9
    code, out, err = phi(capsys, "batch", "run", "--grid", "period=8..20:6", "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in one_line(err)
    code, out, err = phi(capsys, "batch", "run", "--grid", "period=2..9:0")
    assert code == 2 and "step must be > 0" in one_line(err)


def test_cli_batch_with_some_configs_failed_exits_1_after_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """Was exit 0 when some configs failed and others ran: scripts and CI saw no failure."""
    import json

    configs = tmp_path / "configs.json"
    three = (config(8), bad_config(), config(14))  # the second has 8 bars for a 14-bar warm-up
    configs.write_text(json.dumps([json.loads(c.to_json()) for c in three]))
    code, out, err = phi(capsys, "batch", "run", str(configs), "--scheduler", "inline")
    assert code == 1
    text = " ".join(out.split())  # the report, as before
    assert "3 config(s)" in text and "2 run (2 saved), 1 failed, 0 skipped" in text
    assert "failed #1 " in text
    assert one_line(err) == "error: 1 of 3 config(s) failed (listed above)"
    # hand count: DEMO's two grid points run; A/B, no symbol, is one failed config
    symbols = tmp_path / "universe.txt"
    symbols.write_text("DEMO, A/B\n")
    args = ("--preset", "rsi", "--grid", "period=8,14", "--start", "2023-01-01", "--end", "2023-12-31")
    code, out, err = phi(capsys, "batch", "sweep", "--symbols", str(symbols), *args, "--scheduler", "inline")
    assert code == 1
    assert "3 run(s)" in out and "2 run, 1 failed, 0 skipped" in " ".join(out.split())
    assert one_line(err) == "error: 1 of 3 config(s) failed (listed above)"
    configs.write_text(json.dumps([json.loads(bad_config().to_json())]))  # nothing ran: exit 2
    code, out, err = phi(capsys, "batch", "run", str(configs), "--scheduler", "inline")
    assert code == 2 and one_line(err).startswith("error: no config could be run: #0 ")


def test_cli_ranking_puts_the_best_first_and_a_missing_metric_last() -> None:
    from phi.cli.batch import _rank_key

    values = [0.538, float("nan"), 1.263, None, -0.2]
    order = sorted(range(5), key=lambda i: (_rank_key(values[i]), i))
    assert order == [2, 0, 4, 1, 3]
    drawdowns = [-0.3, -0.05, -0.12]  # max drawdown: nearer 0 is better
    assert sorted(range(3), key=lambda i: _rank_key(drawdowns[i])) == [1, 2, 0]


def test_cli_sweep_ranks_and_names_runs_it_could_not_save(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while the sweep saves its runs: every finished run is still ranked and
    shown, named as not saved (a PHI_HOME that cannot hold runs at all is refused up front)."""
    import errno

    from phi.backtest import run_history

    def full(*_: Any, **__: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_history, "save_runs", full)
    symbols = tmp_path / "universe.txt"
    symbols.write_text("DEMO, DEMO2\n")
    code, out, err = phi(capsys, "batch", "sweep", "--symbols", str(symbols), "--preset", "rsi", "--grid", "period=7,14",
                         "--start", "2023-01-01", "--end", "2023-12-31", "--scheduler", "inline")  # fmt: skip
    assert code == 0, err
    text = " ".join(out.split())
    assert "not saved 4 of 4 run(s), ranked below without a run id: could not save the run:" in text
    assert "Best combination per symbol by sharpe (2 of 2 symbols)" in text
    assert text.count("not saved") == 3  # the reason once, then the two symbols' best rows


def test_cli_lists_twenty_failures_then_counts_the_rest_by_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A grid far out of a parameter's range printed one line per config (99,951 for 1..100000):
    now the first 20, then each kind of error once with its count."""
    from types import SimpleNamespace

    from phi.cli.batch import _print_failed

    failed = [SimpleNamespace(index=i, label=f"period={i}", error=f"period = {i} is out of range; valid range 2..50")
              for i in range(51, 91)]  # fmt: skip
    failed += [SimpleNamespace(index=100 + i, label=f"s{i}", error=f"no bars for symbol S{i}") for i in range(5)]
    _print_failed(failed)
    lines = capsys.readouterr().out.splitlines()
    assert [ln.startswith("failed #") for ln in lines[:20]] == [True] * 20 and lines[0].startswith("failed #51 period=51")
    assert lines[20] == "failed 25 more config(s), by error:"  # 40 + 5 - 20
    assert lines[21] == "  20 like #71 period=71: period = 71 is out of range; valid range 2..50"
    assert lines[22] == "  5 like #100 s0: no bars for symbol S0"
    assert len(lines) == 23
    _print_failed(failed[:3])  # few: every one listed, nothing counted
    assert len(capsys.readouterr().out.splitlines()) == 3
