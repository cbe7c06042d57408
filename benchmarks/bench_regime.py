"""The MFT regime engine: end-to-end time per bar count, per-stage split, on one core.

Run ``.venv/bin/python benchmarks/bench_regime.py`` (``--repeat R``, ``--no-write``,
``--baseline DIR``). Prints tables and, unless ``--no-write``, replaces the "## Regime engine"
section of ``benchmarks/RESULTS.md``. ``--baseline DIR`` names a tree holding an older ``phi``
(e.g. ``git archive <commit> phi benchmarks | tar -x -C DIR``): 100,000 and 1,000,000 bars are then
timed for it and for this tree in alternating fresh processes (wall and CPU time, peak Python
memory by tracemalloc, peak resident memory), so the ratio is measured under the same load;
the load average is recorded with every measurement (the machine is shared). Numba and BLAS are pinned to one thread before anything is
imported. Times are the best of ``R`` runs after a warm-up call (numba compiled or loaded
from its cache). The reference implementation is not runnable here; its figures (0.2 s for
1,250 bars, 0.7 s for 5,000) are the ones measured in ``MFT.md``.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._frames import make_frame  # noqa: E402
from phi._io import atomic_write_text  # noqa: E402
from phi.regime.config import MFTConfig, feature_names, level_names  # noqa: E402
from phi.regime.engine import RegimeEngine, direction_input  # noqa: E402
from phi.regime.experts import expert_signals, expert_weights  # noqa: E402
from phi.regime.features import compute_features, normalise_features, raw_features  # noqa: E402
from phi.regime.levels import level_features, volume_gate  # noqa: E402
from phi.regime.mixer import mix  # noqa: E402
from phi.regime.probability_field import probability_field  # noqa: E402
from phi.regime.projections import project  # noqa: E402
from phi.regime.taxonomy import level_matrix, node_logits  # noqa: E402

RESULTS = Path(__file__).with_name("RESULTS.md")
SIZES = (1_250, 5_000, 10_000, 100_000, 1_000_000)
REFERENCE_S = {1_250: 0.2, 5_000: 0.7}


def best(fn: Callable[[], object], repeat: int) -> float:
    return best_wall_cpu(fn, repeat)[0]


def best_wall_cpu(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (this process) of ``repeat`` calls after a warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def stages(df: pd.DataFrame, repeat: int) -> dict[str, float]:
    """Best time of each stage of ``RegimeEngine.run`` on ``df`` (inputs precomputed)."""
    cfg = MFTConfig()
    names = feature_names(cfg.features)
    raw, feats = compute_features(df, cfg.features)
    z = feats.to_numpy()
    lv = level_features(df, cfg.levels).to_numpy()
    beta = level_matrix(cfg.levels.energy, level_names(cfg.levels))
    _, logits = node_logits(z, cfg.taxonomy, names, lv, beta)
    direction = direction_input(raw, feats, cfg)
    fld = probability_field(logits, direction, cfg)
    experts = list(cfg.experts.validity)
    sig = expert_signals(df, experts).to_numpy()
    w = expert_weights(fld, cfg.experts, cfg.confidence.affinity_blend)
    vz, gz = feats["volume_zscore"].to_numpy(), feats["gap_score"].to_numpy()
    return {
        "raw features (26)": best(lambda: raw_features(df, cfg.features), repeat),
        "robust z-scores (26 x median+MAD)": best(lambda: normalise_features(raw, cfg.features), repeat),
        "level features (15) and volume gate": best(
            lambda: (level_features(df, cfg.levels), volume_gate(df, cfg.levels)), repeat
        ),
        "gates, energies, sticky logits": best(lambda: node_logits(z, cfg.taxonomy, names, lv, beta), repeat),
        "probability field (softmax, species, bins)": best(lambda: probability_field(logits, direction, cfg), repeat),
        "expert signals (11, phi registry)": best(lambda: expert_signals(df, experts), repeat),
        "expert weights (validity + affinity)": best(lambda: expert_weights(fld, cfg.experts, 0.5), repeat),
        "mixer (composite, confidences)": best(lambda: mix(sig, w, fld, vz, gz, cfg.experts, cfg.confidence), repeat),
        "projections (8 regimes x 11 experts)": best(lambda: project(sig, fld.regimes, cfg.projection), repeat),
    }


_PROC = """
import os, sys, time, tracemalloc
for v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
from benchmarks._frames import make_frame
from phi.regime.engine import RegimeEngine
n, repeat = int(sys.argv[1]), int(sys.argv[2])
df = make_frame(n)
eng = RegimeEngine()
eng.run(df.iloc[:5000])
wall, cpu = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    res = eng.run(df)
    wall.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    del res
tracemalloc.start()
res = eng.run(df)
kept, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
with open("/proc/self/status") as fh:  # VmHWM: this process's own peak (ru_maxrss carries the parent's)
    rss = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM"))
print(min(wall), min(cpu), peak, kept, rss)
"""


def measure_tree(tree: Path, n: int, repeat: int) -> dict[str, float]:
    """Best wall and CPU time of ``RegimeEngine().run`` on n bars in a fresh process running
    ``tree``'s phi, its tracemalloc peak and kept (result) bytes, peak RSS, and the load."""
    load0 = os.getloadavg()[0]
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", _PROC, str(n), str(repeat)],
        capture_output=True, text=True, check=True, env=env, cwd=tree,
    )
    wall, cpu, peak, kept, rss = (float(v) for v in out.stdout.split()[-5:])
    return {"wall": wall, "cpu": cpu, "peak": peak, "kept": kept, "rss": rss,
            "load": 0.5 * (load0 + os.getloadavg()[0])}


def compare(baseline: Path, repeat: int) -> list[str]:
    """Markdown rows: this tree against ``baseline`` at 100,000 and 1,000,000 bars."""
    rows = []
    for n in (100_000, 1_000_000):
        r = repeat if n < 1_000_000 else max(1, repeat // 3)
        new, old = measure_tree(ROOT, n, r), measure_tree(baseline, n, r)
        for label, m in (("before", old), ("now", new)):
            rows.append(
                f"| {n:,} | {label} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['peak'] / 2**30:.2f} | "
                f"{m['kept'] / 2**30:.2f} | {m['rss'] / 2**30:.2f} | {m['load']:.1f} |"
            )
        rows.append(f"| {n:,} | ratio before / now | {old['wall'] / new['wall']:.1f}x | "
                    f"{old['cpu'] / new['cpu']:.1f}x | {old['peak'] / new['peak']:.2f}x | | "
                    f"{old['rss'] / new['rss']:.2f}x | |")
        print(rows[-3], rows[-2], rows[-1], sep="\n")
    return rows


def pandas_median(raw: pd.DataFrame) -> None:
    raw.rolling(60, min_periods=20).median()


def fresh_process_s(n: int) -> tuple[float, float]:
    """(import numpy + pandas + numba, then import phi.regime + the first run on n bars) in a new process."""
    code = (
        "import time; t0 = time.perf_counter(); import numpy, pandas, numba; t1 = time.perf_counter();"
        "from benchmarks._frames import make_frame; from phi.regime.engine import RegimeEngine;"
        f"RegimeEngine().run(make_frame({n})); print(t1 - t0, time.perf_counter() - t1)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    libs, first = out.stdout.strip().splitlines()[-1].split()
    return float(libs), float(first)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--baseline", type=Path, default=None, help="tree with an older phi to compare")
    args = ap.parse_args(argv)
    loads = [os.getloadavg()[0]]
    engine = RegimeEngine()
    rows = []
    times: dict[int, float] = {}
    for n in SIZES:
        df = make_frame(n)
        w, t = best_wall_cpu(lambda df=df: engine.run(df), args.repeat if n < 1_000_000 else max(1, args.repeat // 3))
        times[n] = t
        ref = REFERENCE_S.get(n)
        rows.append(
            f"| {n:,} | {t:.3f} | {w:.3f} | {1e6 * t / n:.1f} | {ref if ref is not None else '–'} | "
            f"{f'{ref / t:.0f}x' if ref is not None else '–'} |"
        )
        print(f"{n:>8,} bars: CPU {t:.3f} s, wall {w:.3f} s")
    big = make_frame(100_000)
    split = stages(big, args.repeat)
    raw = raw_features(big)
    pandas_s = best(lambda: pandas_median(raw), max(1, args.repeat // 2))
    ours_z = split["robust z-scores (26 x median+MAD)"]
    libs_s, fresh = fresh_process_s(5_000)
    loads.append(os.getloadavg()[0])
    versus = compare(args.baseline, args.repeat) if args.baseline is not None else []
    loads.append(os.getloadavg()[0])
    for k, v in split.items():
        print(f"  {k:<45s} {1000 * v:7.1f} ms")
    print(f"pandas rolling(60).median() of the 26 raw features: {pandas_s:.3f} s; fresh process: libs {libs_s:.2f} s, phi + first run {fresh:.2f} s")

    lines = [
        "## Regime engine",
        "",
        f"`benchmarks/bench_regime.py`, {time.strftime('%Y-%m-%d')}: `RegimeEngine().run(ohlcv)` end to end (26 features and "
        "their rolling robust z-scores, 15 level features and the volume gate, taxonomy, probability field, 11 expert "
        "signals and weights, mixer, projections, "
        f"DataFrames out) on random-walk one-minute bars, **one core** (numba and BLAS pinned to 1 thread), best of {args.repeat} "
        f"after a warm-up call (CPU time of the process, which load from other work inflates less than wall time; "
        f"both shown). {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, numba {numba.__version__}. The reference's times are those "
        "measured in `MFT.md` (the reference is not runnable here).",
        "",
        "| bars | Phi CPU [s] | Phi wall [s] | per bar (CPU) [µs] | reference [s] | speed-up |",
        "|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Targets (issue 08): 100,000 bars in 0.3 s and 1,000,000 in 3 s on one core (the reference: about 14 s per "
        f"100,000 bars): {'met' if times[100_000] <= 0.3 and times[1_000_000] <= 3.0 else '**not met**'} in this "
        f"run ({times[100_000]:.2f} s and {times[1_000_000]:.2f} s of CPU). The 26 exact rolling median/MAD "
        "z-scores are the largest stage (about 110 ns per feature and bar: an O(w) sorted-window update and an "
        "amortised O(1) MAD split); alone they take about as long as the 0.3 s target for 100,000 bars.",
        "",
        "Stages on 100,000 bars (each timed alone on precomputed inputs):",
        "",
        "| stage | ms |",
        "|---|---:|",
        *(f"| {k} | {1000 * v:.1f} |" for k, v in split.items()),
        "",
        f"For scale: pandas' own `rolling(60).median()` (median only, no MAD) over the same 26 raw columns takes "
        f"{1000 * pandas_s:.0f} ms; our kernel computes median and MAD (and the EWMA fallback) in {1000 * ours_z:.0f} ms. "
        f"In a fresh process, after importing numpy, pandas and numba ({libs_s:.2f} s), importing the engine and "
        f"its first run on 5,000 bars (numba kernels loaded from the cache) takes {fresh:.2f} s.",
        "",
        "The speed and memory work kept the outputs: every output of `RegimeEngine().run` was compared with the "
        "engine before it (commit e9db9e7) on the demo data, minute bars and all eight labelled families: "
        "regime probabilities equal to 4e-16, dominant regimes identical, every other output equal to float32 "
        "rounding (6e-8 relative); the probabilities then changed by design when efficiency ratios over 10 and 30 "
        "bars joined the level features and the kingdom was recalibrated (commit 1e3a899). Stage times are wall "
        "times (inflated by load like the wall column above). Memory: `regime_probs`, `mix` and `volume_gate` are float64; the wide "
        "internals (features, level features, node probabilities, expert signals, weights, projections) are "
        "stored as float32, and those nothing downstream reads (raw features, energies, logits, node "
        "log-probabilities, species) are not kept at all: the first access re-runs the front of the pipeline on "
        "a copy of the bars. The result of a 1,000,000-bar run dropped from 264 float64 columns (2.0 GiB) to "
        "about 0.57 GiB (bars copy included).",
        "",
        f"Machine load (1-minute load average on {os.cpu_count()} CPUs shared with other work) during these "
        f"measurements: {', '.join(f'{x:.1f}' for x in loads)}; under load every wall time above is inflated.",
        "",
        *(
            [
                f"Before / now, measured in alternating fresh processes under the same load (`--baseline`: "
                f"{args.baseline.name}), best of {args.repeat} ({max(1, args.repeat // 3)} at 1,000,000 bars); "
                "peak memory = tracemalloc's peak during one run, result = the bytes the result keeps, RSS = "
                "peak resident memory of the process (frame, numba and libraries included):",
                "",
                "| bars | engine | wall [s] | CPU [s] | peak [GiB] | result [GiB] | RSS [GiB] | load |",
                "|---:|---|---:|---:|---:|---:|---:|---:|",
                *versus,
                "",
            ]
            if versus
            else []
        ),
    ]
    section = "\n".join(lines)
    print()
    print(section)
    if not args.no_write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
        pattern = re.compile(r"^## Regime engine\n.*?(?=^## |\Z)", re.S | re.M)
        text = pattern.sub(lambda m: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
        atomic_write_text(RESULTS, text)
        print(f"wrote the '## Regime engine' section of {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
