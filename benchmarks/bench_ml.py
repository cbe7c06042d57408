"""Machine learning and RL: training and walk-forward prediction time per classifier on 10
years of daily bars, PPO steps per second, and the leakage / skill checks' figures.

Run ``.venv/bin/python benchmarks/bench_ml.py`` (``--write`` replaces the "## ML and RL"
section of ``RESULTS.md``; ``--quick`` for a smoke run). OpenMP / BLAS / torch are pinned to one
thread (the models are single-threaded in phi too). Times are wall and CPU seconds of one run
after a warm-up (imports, numba compilation) on the shared machine; the load average is
recorded.

* train: :func:`phi.ml.train_classifier` on 2,520 daily bars (DEMO 2010-2019): features,
  5-fold purged walk-forward CV, the final fit and the hold-out score.
* walk-forward: the ``ml_classifier`` indicator on the same bars (refit every 63 bars on the
  labels known so far, first forecast after 252 labelled bars): what a backtest of the ML
  presets costs.
* predict: ``MLModel.predict_proba`` on the 2,520 bars (features included).
* skill: pooled CV and hold-out accuracy on a 6,000-bar random walk (no skill possible) and on
  3,000 bars of AR(1) returns (coefficient 0.4: 63 % of next-bar directions predictable).
* PPO: :func:`phi.rl.agent.fit_ppo` steps per second (SB3 PPO, MLP 32x32, CPU), and the
  test-split return of 3 seeds against seeded random policies on the planted pattern.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## ML and RL"


def _timed(fn):  # noqa: ANN001, ANN202
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:  # noqa: PLR0915
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("PHI_HOME", "/tmp/phi_bench_ml")

    import importlib.metadata as md

    import torch

    from phi.data.demo import generate_demo
    from phi.ml.indicator import walk_forward_signal
    from phi.ml.models import MODELS
    from phi.ml.train import train_classifier
    from phi.rl.agent import fit_ppo, train_agent
    from tests.ml.frames import planted, random_walk

    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    bars = generate_demo("DEMO", "2010-01-01", "2019-12-31", "1D")
    bars = bars.iloc[-2520:]
    train_classifier(bars.iloc[:1200], model="lr", folds=2)  # warm-up: imports, numba
    rows = []
    for kind in MODELS:
        m, tw, tc = _timed(lambda k=kind: train_classifier(bars, model=k, seed=0))
        _, pw, pc = _timed(lambda m=m: m.predict_proba(bars))
        wf, ww, wc = _timed(lambda k=kind: walk_forward_signal(bars, k, refit_every=63, min_train=252))
        rows.append((kind, tw, tc, ww, wc, pw, int(np.ceil((len(bars) - 370) / 63))))
        print(f"{kind}: train {tw:.2f} s, walk-forward {ww:.2f} s, predict {pw:.3f} s", flush=True)
    skill = []
    n_walk, n_plant = (3000, 1500) if args.quick else (6000, 3000)
    walk, plant = random_walk(n_walk, seed=11), planted(n_plant, seed=5)
    for kind in MODELS:
        a = train_classifier(walk, model=kind, holdout=0.25)
        b = train_classifier(plant, model=kind, folds=3)
        pooled = lambda m: float(np.average(m.cv_scores["accuracy"], weights=m.cv_scores["n_test"]))  # noqa: E731
        skill.append((kind, pooled(a), a.holdout_scores["accuracy"], pooled(b), b.holdout_scores["accuracy"]))
        print(f"{kind}: random walk CV {skill[-1][1]:.3f} hold-out {skill[-1][2]:.3f}; planted CV {skill[-1][3]:.3f} hold-out {skill[-1][4]:.3f}", flush=True)
    steps = 4096 if args.quick else 16384
    rl_bars = planted(1500, seed=1)
    fit_ppo(rl_bars.iloc[:400], 512, 0, False, {"commission_pct": 0.0005, "commission_fixed": 0.0, "slippage_bps": 2.0})
    _, pw_, pc_ = _timed(lambda: fit_ppo(rl_bars.iloc[:1050], steps, 0, False,
                                         {"commission_pct": 0.0005, "commission_fixed": 0.0, "slippage_bps": 2.0}))
    print(f"PPO {steps} steps: {pw_:.1f} s wall ({steps / pw_:.0f} steps/s), {pc_:.1f} s CPU", flush=True)
    agents = []
    for seed in range(3):
        ag = train_agent(rl_bars, timesteps=2048 if args.quick else 8192, seed=seed, random_seeds=5)
        agents.append((seed, ag.scores))
        print(f"PPO seed {seed}: test {ag.scores['test_return']:+.3f} vs random {ag.scores['random_test_return']:+.3f}", flush=True)
    load1 = os.getloadavg()[0]
    v = {p: md.version(p) for p in ("scikit-learn", "lightgbm", "torch", "stable-baselines3", "gymnasium")}
    lines = [
        SECTION, "",
        "Run ``.venv/bin/python benchmarks/bench_ml.py`` (``--write`` replaces this section). One thread",
        "(OpenMP, BLAS, torch); wall and CPU seconds of one run after a warm-up; the machine is shared,",
        "so wall times vary 2-3x with its load and CPU seconds are the steadier figure.", "",
        f"Run {time.strftime('%Y-%m-%d')}: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        + ", ".join(f"{k} {x}" for k, x in v.items()) + f". Load average {load0:.1f} at the start, {load1:.1f} at the end.", "",
        f"**Classifiers on 10 years of daily bars** ({len(bars):,} DEMO bars, 34 features: 26 MFT + 8 indicator signals):", "",
        "| model | train + 5-fold purged CV + hold-out, wall (CPU) | walk-forward signal, wall (CPU) | refits | predict_proba |",
        "|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    for kind, tw, tc, ww, wc, pw, nref in rows:
        lines.append(f"| {kind} | {tw:.2f} s ({tc:.2f} s) | {ww:.2f} s ({wc:.2f} s) | {nref} | {pw:.3f} s |")
    lines += [
        "", "The walk-forward signal is what a backtest of the ML presets costs (refit every 63 bars on the labels",
        "known so far). ``gb`` is scikit-learn's histogram gradient boosting.", "",
        f"**No skill where there is none, skill where it is planted** (accuracy; random walk {n_walk:,} bars, 25 % hold-out; "
        f"AR(1) 0.4 {n_plant:,} bars, 3 folds, 20 % hold-out; the best possible rule averages 0.631, and a hold-out of "
        "~560 bars varies by about +-0.02 around what a model can reach):", "",
        "| model | random walk: pooled CV | random walk: hold-out | planted: pooled CV | planted: hold-out |",
        "|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    for kind, a, b, c, d in skill:
        lines.append(f"| {kind} | {a:.3f} | {b:.3f} | {c:.3f} | {d:.3f} |")
    lines += [
        "", f"**PPO** (Stable-Baselines3 {v['stable-baselines3']}, CPU torch {v['torch']}, MLP 32x32, n_steps 512): "
        f"{steps:,} steps in {pw_:.1f} s wall ({pc_:.1f} s CPU) = **{steps / pw_:,.0f} steps/s** "
        f"({steps / pc_:,.0f} per CPU second).", "",
        f"PPO on the planted pattern (1,500 bars, trained on the first 70 %, {2048 if args.quick else 8192:,} steps), "
        "engine return on the untouched last 30 % with US-equity costs:", "",
        "| seed | agent | random policy (mean of 5 seeds) | buy and hold |", "|---:|---:|---:|---:|",
    ]  # fmt: skip
    for seed, s in agents:
        lines.append(f"| {seed} | {100 * s['test_return']:+.1f} % | {100 * s['random_test_return']:+.1f} % | "
                     f"{100 * s['buy_and_hold_test_return']:+.1f} % |")  # fmt: skip
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        from phi._io import atomic_write_text

        text = RESULTS.read_text(encoding="utf-8")
        # up to the next section, or a "### Leak audit" subsection (written by hand; kept)
        pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |^### Leak audit|\Z)", re.S | re.M)
        text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
        atomic_write_text(RESULTS, text)
        print(f"wrote the '{SECTION}' section of {RESULTS}")


if __name__ == "__main__":
    main()
