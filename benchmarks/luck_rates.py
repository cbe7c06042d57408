"""How often PhiAI's luck verdicts hold, over many seeds: noise families and planted edges.

    .venv/bin/python benchmarks/luck_rates.py                  # ~3-5 minutes on 2 cores
    .venv/bin/python benchmarks/luck_rates.py --seeds 5 --planted-seeds 2   # a quick look
    .venv/bin/python benchmarks/luck_rates.py --null           # the statistics' own null

Runs ``phiai_full_auto(bars, max_indicators=3, n_trials=200, metric="sharpe", seed=0)`` (the
issue's acceptance check) on Gaussian, Student-t(3) and GARCH(1,1) random walks (data seeds
``1000 + i``; a few runs also vary the tuner seed) at two lengths, and on two planted-edge
families of ``quality_tuner.py``. Prints markdown tables: per family and length, the share of
runs meeting each criterion of the check and all of them, with min / median / max of PBO and
the hold-out Sharpe. "Hold-out near 0" is ``|hold-out Sharpe| <= 1.96 sqrt(252 / hold-out
bars)``, the 95 % band of an annualised Sharpe ratio with no skill. With ``--out FILE`` each run
is appended to FILE (JSON lines) and not repeated when the script is run again with it.
``--null`` prints what the statistics themselves predict on noise: the DSR p-value of the best
of N independent unskilled trials, and PBO of N independent noise trials with the tuner's 8 CSCV
blocks.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PHI_HOME", tempfile.mkdtemp(prefix="phi-luck-"))

from benchmarks.quality_tuner import garch_walk, planted_range, student_t_walk  # noqa: E402
from phi.phiai import stats as st  # noqa: E402
from phi.phiai.spaces import search_space  # noqa: E402
from phi.phiai.tuner import phiai_full_auto  # noqa: E402
from tests.phiai.frames import planted_rsi, random_walk  # noqa: E402

NOISE: dict[str, Callable[[int, int], pd.DataFrame]] = {
    "Gaussian walk": lambda n, s: random_walk(n, seed=s),
    "Student-t(3) walk": student_t_walk,
    "GARCH(1,1) walk": garch_walk,
}
#: family -> (generator, the indicator that reads the pattern, its parameter, planted value)
PLANTED: dict[str, tuple[Callable[[int, int], pd.DataFrame], str, str, float]] = {
    "planted RSI(9) reversion, edge 0.4": (
        lambda n, s: planted_rsi(n, seed=s, period=9, edge=0.4), "rsi", "period", 9),
    "planted range(14) reversion, edge 0.35": (
        lambda n, s: planted_range(n, s), "range_pos", "period", 14),
}  # fmt: skip
PBO_MIN, DSR_ALPHA = 0.3, 0.05


def run_one(make: Callable[[int, int], pd.DataFrame], n: int, seed: int, tseed: int) -> dict:
    """One acceptance-check run: the figures the check reads."""
    t0 = time.perf_counter()
    r = phiai_full_auto(make(n, seed), max_indicators=3, n_trials=200, metric="sharpe", seed=tseed)
    s = r.stats
    holdout_bars = n - r.run_config.engine.warmup_bars  # the hold-out starts there
    return {
        "is": s["is_score"], "oos": s["oos_score"], "holdout": s["holdout_sharpe"],
        "dsr_p": s["dsr_pvalue"], "pbo": s["pbo"], "n_trials": s["n_trials_total"],
        "holdout_bars": holdout_bars,
        "luck": "Not distinguishable from luck" in r.explanation,
        "skill": "Distinguishable from luck" in r.explanation,
        "chosen": {i.name: [i.weight, r.tuning[i.name].best_params]
                   for i in r.run_config.enabled_indicators},
        "secs": round(time.perf_counter() - t0, 1),
    }  # fmt: skip


def _load(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {r["key"]: r for r in rows}


def _spread(values: list[float]) -> str:
    v = np.asarray([x for x in values if math.isfinite(x)])
    if not len(v):
        return "n/a"
    return f"{v.min():.2f} / {np.median(v):.2f} / {v.max():.2f}"


def _pct(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)} ({100 * sum(flags) / max(len(flags), 1):.0f} %)"


def noise_table(runs: list[dict]) -> None:
    print("| family | bars | tuner seed | runs | DSR p > 0.05 | hold-out near 0 | PBO > 0.3 "
          "| verdict luck | all four | IS Sharpe min/med/max | hold-out min/med/max "
          "| PBO min/med/max |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    groups: dict[tuple, list[dict]] = {}
    for r in sorted(runs, key=lambda r: (r["family"], r["n"], r["tseed"] != 0)):
        groups.setdefault((r["family"], r["n"], r["tseed"] != 0), []).append(r)
    groups[("all noise runs", 0, None)] = runs
    for (fam, n, varied), g in groups.items():
        dsr = [r["dsr_p"] > DSR_ALPHA for r in g]
        near = [abs(r["holdout"]) <= 1.96 * math.sqrt(252 / r["holdout_bars"]) for r in g]
        pbo = [r["pbo"] > PBO_MIN for r in g]
        luck = [r["luck"] and not r["skill"] for r in g]
        every = [all(x) for x in zip(dsr, near, pbo, luck, strict=True)]
        print(
            f"| {fam} | {n or 'both'} | {'0-3' if varied is None else '1-3' if varied else '0'} "
            f"| {len(g)} | {_pct(dsr)} | {_pct(near)} "
            f"| {_pct(pbo)} | {_pct(luck)} | {_pct(every)} | {_spread([r['is'] for r in g])} "
            f"| {_spread([r['holdout'] for r in g])} | {_spread([r['pbo'] for r in g])} |"
        )


def _in_region(r: dict, name: str, param: str, value: float) -> bool:
    if name not in r["chosen"]:
        return False
    p = next(q for q in search_space(name).params if q.name == param)
    return abs(r["chosen"][name][1][param] - value) <= 0.1 * (p.high - p.low) + 1e-9


def planted_table(runs: list[dict]) -> None:
    print("| family | bars | runs | selects it | top weight | in region (±10 % of range) "
          "| hold-out > 0 | DSR p < 0.05 | all | verdict skill | chosen values "
          "| hold-out min/med/max | DSR p max | PBO max |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["family"], r["n"]), []).append(r)
    for (fam, n), g in sorted(groups.items()):
        _, name, param, value = PLANTED[fam]
        sel = [name in r["chosen"] for r in g]
        top = [bool(r["chosen"]) and max(r["chosen"], key=lambda k: r["chosen"][k][0]) == name
               for r in g]  # fmt: skip
        reg = [_in_region(r, name, param, value) for r in g]
        pos = [r["holdout"] > 0 for r in g]
        dsr = [r["dsr_p"] < DSR_ALPHA for r in g]
        every = [all(x) for x in zip(sel, reg, pos, dsr, strict=True)]
        vals = sorted(r["chosen"][name][1][param] for r in g if name in r["chosen"])
        print(
            f"| {fam} | {n:,} | {len(g)} | {_pct(sel)} | {_pct(top)} | {_pct(reg)} | {_pct(pos)} "
            f"| {_pct(dsr)} | {_pct(every)} | {_pct([r['skill'] for r in g])} | {param} {vals} "
            f"| {_spread([r['holdout'] for r in g])} | {max(r['dsr_p'] for r in g):.3f} "
            f"| {max(r['pbo'] for r in g):.2f} |"
        )


def null_reference(reps: int, n_trials: int, n_bars: int, seed: int = 0) -> None:
    """The statistics' own behaviour on noise, with independent trials (no search effects)."""
    rng = np.random.default_rng(seed)
    pbos, ps = [], []
    for _ in range(reps):
        rows = rng.normal(0.0, 0.01, (n_trials, n_bars))
        pbos.append(st.pbo_cscv_rows(rows, st.pbo_splits(n_bars))[0])
        sr = st.sharpes_per_period(rows)
        best = rows[int(np.argmax(sr))]
        s, sk, ku, n = st.return_moments(best)
        ps.append(st.dsr_pvalue(st.deflated_sharpe(s, n, n_trials, 1.0 / (n - 1), sk, ku)))
    pb, p = np.asarray(pbos), np.asarray(ps)
    print(f"{reps} draws of {n_trials} independent noise trials x {n_bars} bars, "
          f"{st.pbo_splits(n_bars)} CSCV blocks:")  # fmt: skip
    print(f"- PBO min/q05/median/q95/max {np.min(pb):.2f} / {np.quantile(pb, 0.05):.2f} / "
          f"{np.median(pb):.2f} / {np.quantile(pb, 0.95):.2f} / {np.max(pb):.2f}; "
          f"mean {pb.mean():.3f}, sd {pb.std():.3f}; P(PBO <= 0.3) {np.mean(pb <= 0.3):.3f}")
    print(f"- DSR p-value of the best trial: P(p <= 0.05) {np.mean(p <= 0.05):.3f} (0.05 if exact), "
          f"median {np.median(p):.2f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30, help="data seeds per noise family/length")
    ap.add_argument("--tuner-seeds", type=int, default=5, help="data seeds re-run with tuner seeds 1-3")
    ap.add_argument("--planted-seeds", type=int, default=10, help="data seeds per planted family")
    ap.add_argument("--lengths", type=int, nargs="+", default=[2520, 5000])
    ap.add_argument("--out", type=Path, help="JSON lines of the runs (kept; reused when re-run)")
    ap.add_argument("--null", action="store_true", help="only the statistics' null reference")
    args = ap.parse_args()
    if args.null:
        for n in args.lengths:
            null_reference(200, 700, int(n * 0.7))
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="phi-luck-")) / "runs.jsonl"
    done = _load(out)
    jobs = [(fam, n, 1000 + i, 0) for n in args.lengths for fam in NOISE for i in range(args.seeds)]
    jobs += [(fam, n, 1000 + i, t) for n in args.lengths for fam in NOISE
             for i in range(args.tuner_seeds) for t in (1, 2, 3)]  # fmt: skip
    jobs += [(fam, n, 50 + i, 0) for n in args.lengths for fam in PLANTED
             for i in range(args.planted_seeds)]  # fmt: skip
    with out.open("a") as fh:
        for fam, n, seed, tseed in jobs:
            key = f"{fam}|{n}|{seed}|{tseed}"
            if key in done:
                continue
            make = NOISE[fam] if fam in NOISE else PLANTED[fam][0]
            row = {"key": key, "family": fam, "n": n, "seed": seed, "tseed": tseed,
                   **run_one(make, n, seed, tseed)}  # fmt: skip
            done[key] = row
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            print(f"{key}: IS {row['is']:.2f} hold-out {row['holdout']:.2f} DSR p "
                  f"{row['dsr_p']:.3f} PBO {row['pbo']:.2f} ({row['secs']} s)", file=sys.stderr)
    keys = {f"{f}|{n}|{s}|{t}" for f, n, s, t in jobs}
    runs = [r for k, r in done.items() if k in keys]
    noise_table([r for r in runs if r["family"] in NOISE])
    print()
    planted_table([r for r in runs if r["family"] in PLANTED])


if __name__ == "__main__":
    main()
