"""Batch tasks as chunks of configs sharing their bars: each run identical to a single
``phi.run`` (metrics, trades, every saved file), one bad config fails alone, the chunk's runs
saved with one round of syncs yet each complete or absent when the writer is killed."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import phi.backtest.run_history as rh
from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig
from phi.backtest.run_storage import TEMP_PREFIX, clean_root
from phi.batch import run_batch, run_chunk
from phi.batch.task import chunk_configs, chunk_sizes, data_key
from phi.paths import runs_root
from phi.pipeline import run
from tests.scale._helpers import SHORT, config

ROOT = Path(__file__).resolve().parents[2]
#: results.json fields that differ between two saves of one run (when, and under which id).
_PER_SAVE = ("created_at", "run_id")


def _folder(run_id: str) -> dict[str, object]:
    """A saved run's files: bytes, results.json parsed without its per-save fields."""
    out: dict[str, object] = {}
    for path in sorted(rh.run_dir(run_id).iterdir()):
        if path.name == "results.json":
            data = json.loads(path.read_bytes())
            out[path.name] = {k: v for k, v in data.items() if k not in _PER_SAVE}
        else:
            out[path.name] = path.read_bytes()
    return out


def test_chunking_keeps_a_datasets_configs_together_largest_chunks_first() -> None:
    syms = ("DEMO", "DEMO2", "DEMO3")
    todo = [(i, config(5 + i % 20, syms[i % 3])) for i in range(84)]
    chunks = chunk_configs(todo, 2)
    flat = [i for c in chunks for i, _ in c]
    assert sorted(flat) == list(range(84))  # each config once
    assert flat == sorted(flat, key=lambda i: (i % 3, i))  # by dataset (first seen first), input order within
    assert all(len({data_key(cfg) for _, cfg in c}) <= 2 for c in chunks)  # bars loaded at most twice per chunk
    sizes = [len(c) for c in chunks]
    assert sizes == chunk_sizes(84, 2) and sizes == sorted(sizes, reverse=True)
    assert len(chunks) < 84 / 6 and sizes[0] == 84 // 4 and max(sizes[-3:]) <= 84 / 16  # few tasks, a short tail
    assert [len(c) for c in chunk_configs(todo[:3], 4)] == [1, 1, 1]
    assert max(len(c) for c in chunk_configs([(i, config(14)) for i in range(1000)], 1)) == 50


@pytest.mark.parametrize(("n", "workers"), [(1, 1), (7, 3), (200, 2), (200, 1), (999, 4), (5000, 2)])
def test_chunk_sizes_cover_the_batch_each_a_share_of_what_is_left(n: int, workers: int) -> None:
    sizes = chunk_sizes(n, workers)
    assert sum(sizes) == n and all(1 <= s <= 50 for s in sizes) and sizes == sorted(sizes, reverse=True)
    left = n
    for s in sizes[:-1]:  # each (but the remainder) 1 / (2 * workers) of what is left, within its bounds
        assert s == min(50, max(-(-n // (16 * workers)), -(-left // (2 * workers))))
        left -= s


def test_a_chunk_saves_exactly_what_single_runs_save_and_a_bad_config_fails_alone() -> None:
    demo = DatasetSpec("DEMO", **SHORT)
    cfgs = [
        config(6),
        RunConfig(demo, [IndicatorConfig("rsi", weight=2.0), IndicatorConfig("macd")], engine={"stop_loss_pct": 0.03, "allow_short": True}),
        RunConfig(demo, ["rsi", "macd"], blend={"mode": "phiai", "params": {"train_bars": 400}}),  # no bar left: fails
        config(23, indicator="roc"),
        RunConfig(demo, ["bollinger"], blend={"mode": "voting"}, engine={"sizing": "fixed_units", "size_units": 10, "slippage_bps": 5.0}),
    ]
    outcomes = run_chunk([c.to_json() for c in cfgs], skip_done=False)
    assert [o.status for o in outcomes] == ["ok", "ok", "failed", "ok", "ok"]
    bad = outcomes[2]
    assert "no value on any of the" in (bad.error or "") and "\n" not in (bad.error or "") and bad.run_id is None
    assert len({o.worker for o in outcomes}) == 1 and all(o.seconds > 0 for o in outcomes)
    for cfg, out in zip(cfgs, outcomes, strict=True):
        if out.status != "ok":
            continue
        single = run(cfg, save=True)  # the single-config path, saved beside the chunk's run
        assert out.run_id and single.run_id and out.run_id != single.run_id and not out.save_error
        assert out.metrics == {m: float(single.metrics[m]) for m in out.metrics} and len(out.metrics) == 8
        a, b = rh.load_run(out.run_id), rh.load_run(single.run_id)
        assert a.metrics == b.metrics and a.trades.equals(b.trades) and a.equity.equals(b.equity)
        assert _folder(out.run_id) == _folder(single.run_id)  # every file byte for byte
    ids = {r["run_id"] for r in rh.list_runs()}
    assert len(ids) == 8 and not [p for p in runs_root().iterdir() if p.name.startswith(".")]
    again = run_chunk([c.to_json() for c in cfgs])  # re-submitted: the saved ones skipped
    assert [o.status for o in again] == ["skipped", "skipped", "failed", "skipped", "skipped"]


_KILLER = """
import os, pickle, signal, sys
import phi.backtest.run_storage as rs
from phi.backtest.run_history import save_runs

items = pickle.load(open(sys.argv[1], "rb"))
after, stage = int(sys.argv[2]), sys.argv[3]
calls = [0]
real = {"rename": os.rename, "sync": rs._sync_folders}

def counting(name):
    def wrapped(*args):
        if calls[0] == after:
            os.kill(os.getpid(), signal.SIGKILL)
        calls[0] += 1
        return real[name](*args)
    return wrapped

if stage == "rename":
    os.rename = counting("rename")
else:
    rs._sync_folders = counting("sync")
save_runs(items)
"""


@pytest.mark.parametrize(("after", "stage", "complete"), [(2, "rename", 2), (0, "sync", 0)])
def test_kill_9_while_a_chunk_is_saved_leaves_complete_runs_or_none(
    tmp_path: Path, after: int, stage: str, complete: int
) -> None:
    cfgs = [config(p) for p in (5, 9, 13, 17, 21)]
    results = [run(c, save=False) for c in cfgs]
    items = [(r.config, r, r.data, None) for r in results]
    payload = tmp_path / "items.pkl"
    payload.write_bytes(pickle.dumps(items))
    proc = subprocess.run([sys.executable, "-c", _KILLER, str(payload), str(after), stage], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == -9, proc.stderr  # killed mid-save, as planned
    root = runs_root()
    runs = [p for p in root.iterdir() if not p.name.startswith(".")]
    assert len(runs) == complete
    temps = [p for p in root.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert len(temps) == len(cfgs) - complete  # the unpublished ones, never under a run id
    for p in runs:  # each visible run complete and intact
        saved = rh.load_run(p.name)
        assert saved.metrics == next(r.metrics for r in results if r.config.config_hash() == saved.config.config_hash())
    assert len(clean_root(root).removed) == len(temps)  # the dead writer's leftovers go at once
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in runs)
    done = run_batch(cfgs, scheduler="inline")  # re-submission: the rest run, nothing twice
    assert len(done.skipped) == complete and len(done.ok) == len(cfgs) - complete
    assert sorted(r["config_hash"] for r in rh.list_runs()) == sorted(c.config_hash() for c in cfgs)


def test_without_syncfs_every_file_and_folder_is_fsynced(monkeypatch: pytest.MonkeyPatch) -> None:
    import phi.backtest.run_storage as rs

    synced: list[str] = []
    real_file, real_dir = rs.fsync_file, rs._fsync_dir
    monkeypatch.setattr(rs, "_syncfs", lambda path: False)  # not Linux, or it failed
    monkeypatch.setattr(rs, "fsync_file", lambda p: (synced.append(p.name), real_file(p))[1])
    monkeypatch.setattr(rs, "_fsync_dir", lambda p: (synced.append(p.name), real_dir(p))[1])
    results = [run(config(p), save=False) for p in (5, 9)]
    ids = rh.save_runs([(r.config, r, r.data, None) for r in results])
    assert all(isinstance(i, str) for i in ids)
    files = ("config.json", "trades.csv", "equity.parquet", "results.json")
    assert sorted(synced).count("results.json") == 2 and all(synced.count(f) == 2 for f in files)
    assert synced.count(runs_root().name) == 1  # the root once, after the renames
    assert [rh.load_run(str(i)).metrics for i in ids] == [r.metrics for r in results]


def test_a_run_saved_but_not_indexed_is_not_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import phi.backtest.run_index as ri

    cfgs = [config(p) for p in (7, 8)]
    with monkeypatch.context() as m:  # the task dies (here: the index fails) after publishing
        m.setattr(ri, "index_runs", lambda rows: (_ for _ in ()).throw(RuntimeError("index down")))
        with pytest.warns(rh.RunIndexWarning, match="saved but not indexed"):
            first = run_chunk([c.to_json() for c in cfgs], skip_done=False)
    assert [o.status for o in first] == ["ok", "ok"] and all(o.run_id for o in first)
    from sqlalchemy import select

    with ri._engine().connect() as conn:
        assert not conn.execute(select(ri.RUNS.c.run_id)).all()  # not in the index
    again = run_chunk([c.to_json() for c in cfgs])  # a re-run of the task: found in the folders
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert len(rh.list_runs()) == 2


def test_trades_csv_is_byte_for_byte_what_pandas_writes() -> None:
    import pandas as pd

    from phi.backtest.run_history import _trades_csv

    stamps = pd.to_datetime(["2015-01-21 00:00:00", "2015-01-26 15:30:00", "2016-02-29 23:59:59"], utc=True)
    base = pd.DataFrame({"entry_time": stamps, "exit_time": stamps + pd.Timedelta(days=3), "side": ["long", "short", "long"],
                         "pnl": [710.7978565111123, -1e-17, 3.0], "open": [False, False, True]})  # fmt: skip
    cases = {
        "whole seconds, UTC": base,
        "an open trade without exit (NaT)": base.assign(exit_time=[stamps[1], pd.NaT, pd.NaT]),
        "fractions of a second": base.assign(entry_time=stamps + pd.Timedelta(milliseconds=500)),
        "another time zone": base.assign(entry_time=stamps.tz_convert("America/New_York")),
        "naive stamps": base.assign(entry_time=stamps.tz_localize(None)),
        "no trades": base.iloc[:0],
        "a real trade list": run(config(9), save=False).trades,
    }
    for what, frame in cases.items():
        assert _trades_csv(frame) == frame.to_csv(index=False).encode("utf-8"), what


def test_without_a_scheduler_the_batch_starts_and_stops_its_own_local_cluster() -> None:
    import os

    res = run_batch([config(8), config(8, "DEMO2")], n_workers=1)
    assert res.n_workers == 1 and res.scheduler.startswith("tcp://127.0.0.1:")
    assert 0 < res.startup_seconds < res.seconds  # started (and phi loaded) for this batch
    assert [o.status for o in res.outcomes] == ["ok", "ok"]
    assert {o.worker for o in res.outcomes} != {f"{os.uname().nodename}:{os.getpid()}"}  # not here
