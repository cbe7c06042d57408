"""Scale-out benchmarks: batches on Dask and the run index.

Run ``.venv/bin/python benchmarks/bench_batch.py`` (``--quick`` for a smoke run, ``--no-listing``
for (a) and (b) only). Prints the markdown for the "## Batches and the run index" section of
``benchmarks/RESULTS.md``.

(a) 200 configs (DEMO, 10 years of daily bars 2015-01-01..2024-12-31, RSI periods x symbols),
    each ``phi.run`` + save + index: in this process with plain ``phi.run`` (no batch layer),
    then ``run_batch`` on a LocalCluster of 1 and of 2 worker processes (workers started and
    warmed up, each symbol's bars cached, before the clock starts; every batch in its own
    PHI_HOME, ``force=True``). The last line printed is a one-line SUMMARY.
(b) per-config overhead of the batch layer on 1 worker: wall per config minus the config's own time
    in its task (its run and its share of the chunk's save); also against plain in-process
    ``phi.run`` + save. CPU seconds of every worker (getrusage) and of this process are recorded
    beside the walls (the machine may be shared: the load average is printed), and the ratio of
    the 1-worker CPU time to the busiest of the 2 workers' (the speed-up an idle machine allows),
    also with this process (client, scheduler, nannies) counted on the same 2 cores.
(c) ``phi runs list`` over 10,000 indexed runs: the index path (sync with the folders + one
    query + reading back the 20 rows shown; and with a filter and a sort) against the folder
    scan that listed runs before (``list_runs``: every results.json read and checked). The
    10,000 runs are copies of one saved run with varied metrics in results.json.

Timings are single runs on the machine as it is (the load average is printed beside them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _configs(n: int, start: str, end: str) -> list:
    from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig

    symbols = ["DEMO", "DEMO2", "DEMO3", "DEMO4", "DEMO5"]
    out = []
    for i in range(n):
        sym, period = symbols[i % len(symbols)], 2 + (i // len(symbols)) % 49
        kind = "rsi" if i < 5 * 49 else "roc"
        out.append(RunConfig(DatasetSpec(sym, start=start, end=end), (IndicatorConfig(kind, {"period": period}),)))
    return out


def _home(root: Path, name: str) -> Path:
    home = root / name
    home.mkdir()
    os.environ["PHI_HOME"] = str(home)
    return home


def bench_batches(root: Path, n: int, start: str, end: str, repeat: int = 1) -> dict:
    """Plain phi.run once, then the 1- and 2-worker batches alternately ``repeat`` times (both
    clusters up all along, so that the machine's other load hits both alike); the median of
    each is reported, every repetition kept."""
    import contextlib
    import statistics

    from distributed import Client

    from phi.batch import run_batch
    from phi.batch.cluster import local_cluster
    from phi.pipeline import run

    cfgs = _configs(n, start, end)
    _home(root, "warm")
    for c in _configs(3, "2023-01-01", end):  # numba compiled, demo data cached in this process
        run(c, save=False)
    out: dict = {"n": n, "repeat": repeat}
    _home(root, "inline")
    t0 = time.perf_counter()
    for c in cfgs:
        run(c, save=True)
    out["inline"] = time.perf_counter() - t0
    with contextlib.ExitStack() as stack:
        clients = {}
        for workers in (1, 2):
            cluster = stack.enter_context(local_cluster(workers))
            clients[workers] = client = stack.enter_context(Client(cluster))
            _home(root, f"w{workers}")
            warm = run_batch(cfgs[:5], scheduler=client, force=True)  # imports, numba, each symbol's bars cached
            assert not warm.failed, warm.failed
        reps: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(repeat):
            for workers in (1, 2):
                client = clients[workers]
                os.environ["PHI_HOME"] = str(root / f"w{workers}")
                cpu0, main0, load0 = client.run(_cpu_seconds), time.process_time(), os.getloadavg()[0]
                t0 = time.perf_counter()
                res = run_batch(cfgs, scheduler=client, force=True)
                wall = time.perf_counter() - t0
                cpu1, main1 = client.run(_cpu_seconds), time.process_time()
                assert len(res.ok) == n and not res.failed, res.failed[:1]
                reps[workers].append({
                    "wall": wall, "load": (load0, os.getloadavg()[0]),
                    "task_mean": sum(o.seconds for o in res.ok) / n,
                    "cpu": sorted(cpu1[w] - cpu0[w] for w in cpu1),  # each worker's CPU seconds
                    "main_cpu": main1 - main0,  # this process: client and scheduler
                    "tasks": len({o.worker for o in res.ok}),
                })  # fmt: skip
    for workers, runs in reps.items():
        mid = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]  # the median run
        out[f"w{workers}"] = mid["wall"]
        out[f"w{workers}_walls"] = [r["wall"] for r in runs]
        out[f"w{workers}_load"] = mid["load"]
        out[f"w{workers}_task_mean"] = mid["task_mean"]
        out[f"w{workers}_cpu"] = mid["cpu"]
        out[f"w{workers}_main_cpu"] = mid["main_cpu"]
        out[f"w{workers}_tasks"] = mid["tasks"]
        out[f"w{workers}_cpu_med"] = statistics.median(sum(r["cpu"]) for r in runs)
        out[f"w{workers}_busiest_med"] = statistics.median(max(r["cpu"]) for r in runs)
    # what 2 cores allow with this process counted: the 1-worker batch over the larger of the
    # busiest worker and (both workers + this process) / 2, per repetition, median
    out["bound"] = statistics.median(
        sum(a["cpu"]) / max(max(b["cpu"]), (sum(b["cpu"]) + b["main_cpu"]) / 2) for a, b in zip(reps[1], reps[2], strict=True)
    )
    out["ratios"] = [a["wall"] / b["wall"] for a, b in zip(reps[1], reps[2], strict=True)]
    return out


def _cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used so far (run in each worker)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def bench_listing(root: Path, n_runs: int) -> dict:
    from phi.backtest import run_history as rh
    from phi.backtest import run_index as ri
    from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig
    from phi.pipeline import run

    home = _home(root, "listing")
    res = run(RunConfig(DatasetSpec("DEMO", start="2023-01-01", end="2023-12-31"), (IndicatorConfig("rsi"),)))
    src = home / "runs" / str(res.run_id)
    data = json.loads((src / "results.json").read_text())
    rng = random.Random(0)
    t0 = time.perf_counter()
    for i in range(n_runs - 1):
        rid = f"20250101-{i // 1000:06d}-{i % 1000:03d}-{res.run_id[-6:]}"
        dst = home / "runs" / rid
        dst.mkdir()
        for name in ("config.json", "trades.csv", "equity.parquet"):
            os.link(src / name, dst / name)  # hard links: same bytes, same checksums
        data["run_id"] = rid
        data["metrics"]["sharpe"] = rng.gauss(0.5, 0.8)
        data["metrics"]["total_return"] = rng.gauss(0.1, 0.3)
        data["summary"]["symbol"] = rng.choice(["AAPL", "MSFT", "SPY", "DEMO"])
        (dst / "results.json").write_text(json.dumps(data))
    make = time.perf_counter() - t0
    ri._ENGINES.clear()
    (home / "runs.db").unlink()
    t0 = time.perf_counter()
    report = ri.reindex()
    reindex = time.perf_counter() - t0
    t0 = time.perf_counter()
    q = ri.query_runs(limit=20)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    q2 = ri.query_runs("sharpe > 1 and symbol = 'AAPL'", "sharpe", limit=20)
    filtered = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = rh.list_runs()
    scan = time.perf_counter() - t0
    import subprocess

    env = {**os.environ, "PHI_HOME": str(home), "COLUMNS": "120"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "import sys; from phi.cli import main; sys.exit(main())", "runs", "list",
                           "--where", "sharpe > 1 and symbol = 'AAPL'", "--sort", "sharpe"], env=env, capture_output=True, text=True)  # fmt: skip
    cli = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import phi.cli"], env=env, check=True)
    cli_import = time.perf_counter() - t0
    assert q.total == n_runs == len(rows) == report.indexed
    return {"n": n_runs, "make": make, "reindex": reindex, "index_list": first, "index_filtered": filtered,
            "matches": q2.total, "scan": scan, "cli": cli, "cli_import": cli_import}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 configs on 2 years, 1,000 indexed runs")
    ap.add_argument("--repeat", type=int, default=3, help="1- and 2-worker batches run alternately this many times (median)")
    ap.add_argument("--no-listing", action="store_true", help="only (a) and (b): skip the 10,000-run listing")
    args = ap.parse_args()
    n, start = (20, "2023-01-01") if args.quick else (200, "2015-01-01")
    n_runs = 1_000 if args.quick else 10_000
    with tempfile.TemporaryDirectory(prefix="phi-bench-batch-") as tmp:
        root = Path(tmp)
        load0 = os.getloadavg()[0]
        b = bench_batches(root, n, start, "2024-12-31", max(1, args.repeat))
        load1 = os.getloadavg()[0]
        listing = None if args.no_listing else bench_listing(root, n_runs)
        load2 = os.getloadavg()[0]
        shutil.rmtree(root, ignore_errors=True)
    cpu = platform.processor() or platform.machine()
    print(f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}; load average "
          f"{load0:.1f} before, {load1:.1f} after the batches, {load2:.1f} after the listing.\n")
    print(f"(a) {b['n']} configs, {start}..2024-12-31 daily, phi.run + save + index each (run_batch: chunks of configs "
          "sharing their bars, saved together):\n")
    print("| where | wall | per config | worker CPU per config | load avg (start, end) | speed-up vs 1 worker |")
    print("|---|---|---|---|---|---|")
    print(f"| this process, plain phi.run + save (no batch layer) | {b['inline']:.2f} s | {1e3 * b['inline'] / n:.1f} ms | | | |")
    for w in (1, 2):
        wcpu = sum(b[f"w{w}_cpu"])
        la = b[f"w{w}_load"]
        print(f"| run_batch, LocalCluster {w} worker(s), median | {b[f'w{w}']:.2f} s | {1e3 * b[f'w{w}'] / n:.1f} ms | "
              f"{1e3 * wcpu / n:.1f} ms | {la[0]:.1f}, {la[1]:.1f} | {b['w1'] / b[f'w{w}']:.2f}x |")  # fmt: skip
    inside = 1e3 * (b["w1"] / n - b["w1_task_mean"])
    overhead = 1e3 * (b["w1"] - b["inline"]) / n
    print(f"\n(b) batch-layer overhead per config on 1 worker: {inside:.1f} ms (wall per config minus the config's own "
          f"time in its task, {1e3 * b['w1_task_mean']:.1f} ms; goal < 20 ms). Against plain phi.run + save in this "
          f"process: {overhead:+.1f} ms per config.")
    cpu1, cpu2 = b["w1_cpu"], b["w2_cpu"]
    busy = ", ".join(f"{c / b['w2']:.0%}" for c in cpu2)
    cpu_ratio = b["w1_cpu_med"] / b["w2_busiest_med"]
    print(f"CPU time (median run): 1 worker {sum(cpu1):.2f} s ({sum(cpu1) / b['w1']:.0%} of its wall busy); 2 workers "
          f"{' + '.join(f'{c:.2f}' for c in cpu2)} s (busy {busy} of the wall; {b['w2_tasks']} took tasks); this "
          f"process {b['w1_main_cpu']:.2f} s / {b['w2_main_cpu']:.2f} s. CPU-time ratio (1-worker CPU / busiest of "
          f"2 workers, medians; the speed-up an otherwise idle 2-core machine allows) {cpu_ratio:.2f}x; counting this "
          f"process too (1-worker CPU / max(busiest worker, (both workers + this process) / 2)) {b['bound']:.2f}x.")
    walls = "; ".join(f"{w1:.2f} s vs {w2:.2f} s ({r:.2f}x)" for w1, w2, r in zip(b["w1_walls"], b["w2_walls"], b["ratios"], strict=True))
    print(f"Each repetition, 1 worker vs 2 (run alternately): {walls}.")
    print(f"2-worker speed-up {b['w1'] / b['w2']:.2f}x, medians of {b['repeat']} (goal >= 1.7x).\n")
    if listing is None:
        print(f"SUMMARY: 2 workers vs 1: {b['w1'] / b['w2']:.2f}x wall (median of {b['repeat']}; goal >= 1.7x), {cpu_ratio:.2f}x "
              f"by CPU time ({b['bound']:.2f}x with this process counted); this process (client + scheduler) "
              f"{b['w1_main_cpu']:.2f} s / {b['w2_main_cpu']:.2f} s CPU per "
              f"batch; load average {load0:.1f} / {load1:.1f} (start / after batches).")  # fmt: skip
        return
    m = listing
    print(f"(c) {m['n']:,} runs ({m['make']:.1f} s to make them; phi runs reindex {m['reindex']:.2f} s):\n")
    print("| listing | wall |\n|---|---|")
    print(f"| index: sync + newest 20 (what `phi runs list` does) | {m['index_list']:.3f} s |")
    print(f"| index: --where \"sharpe > 1 and symbol = 'AAPL'\" --sort sharpe ({m['matches']:,} match) | {m['index_filtered']:.3f} s |")
    print(f"| folder scan of every run (`list_runs`, the listing before the index) | {m['scan']:.3f} s |")
    print(f"| `phi runs list --where ... --sort sharpe`, whole process | {m['cli']:.2f} s (of which `import phi.cli` {m['cli_import']:.2f} s) |")
    ok = m["index_filtered"] < 0.5 and m["index_list"] < 0.5
    print(f"\nGoal < 0.5 s over 10,000 runs: {'met' if ok else 'NOT met'} "
          f"({m['scan'] / max(m['index_filtered'], 1e-9):.0f}x faster than the folder scan with a filter).")
    print(f"\nSUMMARY: 2 workers vs 1: {b['w1'] / b['w2']:.2f}x wall (median of {b['repeat']}; goal >= 1.7x), {cpu_ratio:.2f}x by CPU time "
          f"({b['bound']:.2f}x with this process counted); this process {b['w1_main_cpu']:.2f} s / {b['w2_main_cpu']:.2f} s "
          f"CPU per batch; overhead {inside:.1f} ms per config (goal < 20 ms); runs list over {m['n']:,} runs {m['index_filtered']:.3f} s "
          f"(goal < 0.5 s); load average {load0:.1f} / {load1:.1f} / {load2:.1f} (start / after batches / end).")


if __name__ == "__main__":
    main()
