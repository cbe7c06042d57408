"""PhiAI tuner benchmarks: trials per second against the raw engine sweep of the same candidates.

Run ``.venv/bin/python benchmarks/bench_tuner.py --repeat 3`` (``--quick`` for a smoke run).
Prints the markdown for the "## Tuner" section of ``benchmarks/RESULTS.md``.

On 10 years of daily DEMO bars (2015-01-01..2024-12-31), 5 rolling folds + 20 % hold-out:

(a) ``PhiAITuner.tune_indicator(name, n_trials)`` with the random and TPE samplers: wall time and
    trials per second, each trial scored on the 6 walk-forward blocks (train and test
    segments of the rolling folds; laid end to end, they are the development region whose
    returns DSR and PBO read: 6 simulations per trial, 0.8x the bars of one run on all bars),
    indicator values computed once per distinct parameter set.
(b) the raw engine sweep of the *same* parameter sets: their signals (``batch_signals``) plus
    one ``run_backtest_many`` call over all bars; the tuner's rate as a share of it, and for TPE
    Optuna's own sampling time (the same study with a dummy objective) and the share without it.
(c) ``phiai_full_auto``: 15 candidates (the whole registry) selected, 3 tuned x 200 trials.
(d) the 345-combination SMA grid (fast 5..50, slow 10..200, step 5, fast < slow): the tuner's
    grid sampler on ``dual_sma`` (5 folds, hold-out, statistics) against vectorbt's own sweep of
    the same SMA crossovers on all bars (``MA.run`` + ``Portfolio.from_signals``, Rust engine,
    next-open fills). Not the same work: the tuner simulates every candidate on 6 segments.

``before``: the same call through the paths this round replaced, switched back on in the same
process: every random and grid study through Optuna's ask/tell (enqueued grid points, one
``tell`` per trial) and every fold segment as its own ``run_backtest_many`` call (the
development region with ``equity_out``), per-trial Sharpe ratios one at a time. The two runs'
trial tables (and ``phiai_full_auto``'s statistics) must be equal, or the script stops.

Timings are the best of ``--repeat`` rounds after a warm-up call (numba compiled); in (d) the
tuner's grid call and vectorbt's sweep are called in turn ``--repeat`` times and the medians of
their wall-clock and CPU times (``time.process_time``, all threads) are reported.
``--stages``: only the grid call, its CPU time split by stage (signals, simulations, bar
preparation, per-trial Sharpe ratios with drawdowns and PBO block sums (one kernel), PBO/DSR, walk-forward and trial tables, the rest), and
its minor page faults per call.
``--tpe``: only the TPE studies (macd, dual_sma; ``--case`` picks one of :data:`TPE_CASES`, or
``all`` of them) against their raw sweeps,
called in turn ``--repeat`` times: median and best wall and CPU time, the TPE's own proposal
time (``BatchedTPE.ask``, CPU time of the proposing thread; ``propose_of_raw``: that time over
the raw sweep's median wall time) and the batches, without the Optuna comparisons;
``share_same_work``: the tuner's rate against the engine alone running the study's simulations
(:func:`same_work`: fold blocks and development region, through the public API).
``--repeats``: :func:`bench_repeats`, random-sampler studies on 200,000 bars with the sets the
sampler draws again scored once, against every trial simulated.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from phi.backtest.engine import EngineConfig, run_backtest_many  # noqa: E402
from phi.backtest.run_config import DatasetSpec  # noqa: E402
from phi.indicators.batch import batch_signals  # noqa: E402
from phi.phiai.tuner import PhiAITuner, load_bars, phiai_full_auto  # noqa: E402


def best_of(repeat: int, fn):  # noqa: ANN001, ANN201
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _score_per_segment(self, name, param_sets):  # noqa: ANN001, ANN202
    """Evaluator.score as before the segment sweep: one engine call per segment."""
    from phi.phiai import stats as st
    from phi.phiai._stats_nb import row_drawdowns_nb
    from phi.phiai.evaluate import FLAT_IS_ZERO, TrialScores

    if not param_sets:
        return []
    sig = self.matrix(name, param_sets)

    def fill(table: pd.DataFrame) -> pd.DataFrame:
        if self.metric in FLAT_IS_ZERO:
            table[self.metric] = table[self.metric].fillna(0.0)
        return table

    tables = {s: fill(self.run_segment(sig, s))[self.metric].to_numpy() for s in self.segments}
    runs = [self.run_equity(sig, span) for span in self.blocks]  # the development region's
    trades = sum(table["n_trades"].to_numpy() for table, _ in runs)
    returns = np.concatenate([eq[:, 1:] / eq[:, :-1] - 1.0 for _, eq in runs], axis=1)
    dd = np.empty(len(returns))
    row_drawdowns_nb(returns, dd)
    return [
        TrialScores(
            is_folds=[float(tables[f.train][j]) for f in self.plan.folds],
            oos_folds=[float(tables[f.test][j]) for f in self.plan.folds],
            dev_trades=int(trades[j]),
            dev_max_drawdown=float(dd[j]),
            returns=returns[j],
            sharpe=st.sharpe_per_period(returns[j]),
        )
        for j in range(len(param_sets))
    ]


@contextlib.contextmanager
def old_paths():  # noqa: ANN201
    """The tuner as before this round: Optuna ask/tell for every study, one engine call per
    segment."""
    from phi.phiai.evaluate import Evaluator

    saved = (PhiAITuner._without_optuna, Evaluator.score)
    PhiAITuner._without_optuna = lambda self, points, sampler: False  # type: ignore[method-assign]
    Evaluator.score = _score_per_segment  # type: ignore[method-assign]
    try:
        yield
    finally:
        PhiAITuner._without_optuna, Evaluator.score = saved  # type: ignore[method-assign]


def before_after(repeat: int, fn, same: bool = True):  # noqa: ANN001, ANN201
    """(before_s, after_s, after's output); the two outputs' trial tables must be equal
    (``same=False`` for TPE: before, Optuna's TPESampler; now the batched phi.phiai.tpe)."""
    with old_paths():
        before_s, old = best_of(repeat, fn)
    after_s, new = best_of(repeat, fn)
    if same:
        pd.testing.assert_frame_equal(old.trials, new.trials)
        assert str(old.stats) == str(new.stats), "statistics differ"
    return before_s, after_s, new


def best_cpu(repeat: int, fn) -> float:  # noqa: ANN001
    """Best process CPU time of ``repeat`` calls (every thread counted)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def optuna_tpe(bars, name: str, n_trials: int, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    """Wall and CPU seconds of the same study through Optuna's TPESampler (ask/tell, batches
    of 16) on today's engine path: what an in-memory TPE study cost before phi.phiai.tpe."""
    saved = PhiAITuner._without_optuna
    PhiAITuner._without_optuna = lambda self, points, sampler: sampler != "tpe"  # type: ignore[method-assign]
    try:
        fn = lambda: PhiAITuner(bars, seed=0).tune_indicator(name, n_trials=n_trials)  # noqa: E731
        return best_of(repeat, fn)[0], best_cpu(repeat, fn)
    finally:
        PhiAITuner._without_optuna = saved  # type: ignore[method-assign]


def bench_tune(bars, name: str, n_trials: int, sampler: str, repeat: int) -> dict:
    PhiAITuner(bars).tune_indicator(name, n_trials=8, sampler="random")  # warm-up (JIT)

    def study():  # noqa: ANN202
        return PhiAITuner(bars, seed=0).tune_indicator(name, n_trials=n_trials, sampler=sampler)

    before, wall, res = before_after(repeat, study, same=sampler != "tpe")
    params = [{k: row[k] for k in (p for p in res.best_params)} for _, row in res.trials.iterrows()]

    def raw() -> None:
        run_backtest_many(bars, batch_signals(name, bars, params), EngineConfig())

    raw()
    raw_wall, _ = best_of(repeat, raw)
    sampling = optuna_only(name, n_trials, sampler) if sampler == "tpe" else 0.0
    tuner_cpu, raw_cpu = best_cpu(repeat, study), best_cpu(repeat, raw)
    opt_wall, opt_cpu = optuna_tpe(bars, name, n_trials, repeat) if sampler == "tpe" else (0.0, 0.0)
    nan = float("nan")
    return {
        "case": f"{name} {sampler}",
        "trials": len(params),
        "before_s": before,
        "tuner_s": wall,
        "tuner_trials_per_s": len(params) / wall,
        "raw_sweep_s": raw_wall,
        "raw_per_s": len(params) / raw_wall,
        "share_before": raw_wall / before,
        "tuner_share_of_raw": raw_wall / wall,
        "optuna_sampling_s": sampling,
        # nan when the (rough) sampling estimate exceeds the whole study's time
        "share_without_sampling": raw_wall / (wall - sampling) if wall > sampling else float("nan"),
        "tuner_cpu_s": tuner_cpu,
        "raw_cpu_s": raw_cpu,
        "cpu_share_of_raw": raw_cpu / tuner_cpu,
        # TPE: the same study through Optuna's TPESampler on today's engine path
        "optuna_tpe_s": opt_wall if sampler == "tpe" else nan,
        "optuna_tpe_cpu_share": raw_cpu / opt_cpu if sampler == "tpe" else nan,
    }


def optuna_only(name: str, n_trials: int, sampler: str) -> float:
    """Seconds Optuna itself spends asking, suggesting and telling ``n_trials`` in the tuner's
    batches of 16 (a dummy objective, no engine): the sampler's share of a study."""
    import optuna

    from phi.phiai.spaces import search_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = search_space(name)
    smp = optuna.samplers.TPESampler(seed=0, n_startup_trials=min(10, max(1, n_trials // 4)))
    study = optuna.create_study(sampler=smp, direction="maximize")
    t0 = time.perf_counter()
    done = 0
    while done < n_trials:
        asked = [study.ask() for _ in range(min(16, n_trials - done))]
        for i, t in enumerate(asked):
            space.suggest(t)
            study.tell(t, float(i))
        done += len(asked)
    return time.perf_counter() - t0


GRID = [{"fast": f, "slow": s} for f in range(5, 51, 5) for s in range(10, 201, 5) if f < s]


def vbt_sweep(bars) -> None:  # noqa: ANN001
    import vectorbt as vbt

    close = bars["close"].tz_localize(None)
    windows = list(range(5, 201, 5))
    ma = vbt.MA.run(close, window=windows).ma.to_numpy()
    col = {w: i for i, w in enumerate(windows)}
    fast = ma[:, [col[g["fast"]] for g in GRID]]
    slow = ma[:, [col[g["slow"]] for g in GRID]]
    with np.errstate(invalid="ignore"):
        up, down = fast > slow, fast < slow
    entries = np.zeros_like(up)
    exits = np.zeros_like(up)
    entries[2:] = down[:-2] & up[1:-1]  # the cross is known at t-1's close, filled at t's open
    exits[2:] = up[:-2] & down[1:-1]
    pf = vbt.Portfolio.from_signals(
        close,
        entries=entries,
        exits=exits,
        price=bars["open"].tz_localize(None).to_numpy()[:, None],
        init_cash=100_000.0,
        freq="1D",
        engine="rust",
    )
    pf.final_value()


def alternate(repeat: int, fns: dict) -> dict[str, tuple[float, float]]:  # noqa: ANN001
    """Median (wall, CPU) seconds of each function, the functions called in turn ``repeat``
    times (so a change in the machine's load hits each alike); CPU time is the process's
    (every thread's) ``time.process_time``."""
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpus[name].append(time.process_time() - c0)
            walls[name].append(time.perf_counter() - w0)
    return {k: (float(np.median(walls[k])), float(np.median(cpus[k]))) for k in fns}


def bench_grid(bars, repeat: int) -> dict:  # noqa: ANN001
    def grid() -> None:
        PhiAITuner(bars, candidates=["dual_sma"]).tune_indicator(
            "dual_sma", sampler="grid", grid=GRID
        )

    PhiAITuner(bars, candidates=["dual_sma"]).tune_indicator(
        "dual_sma", sampler="grid", grid=GRID[:8]
    )  # warm-up
    before_s, _, _ = before_after(
        repeat,
        lambda: PhiAITuner(bars, candidates=["dual_sma"]).tune_indicator(
            "dual_sma", sampler="grid", grid=GRID
        ),
    )
    vbt_sweep(bars)
    t = alternate(repeat, {"tuner": grid, "vbt": lambda: vbt_sweep(bars)})
    (tuner_wall, tuner_cpu), (vbt_wall, vbt_cpu) = t["tuner"], t["vbt"]
    signals_s, _ = best_of(repeat, lambda: batch_signals("dual_sma", bars, GRID))
    return {
        "case": "345 SMA grid",
        "signals_batch_s": signals_s,
        "before_s": before_s,
        "tuner_cpu_s": tuner_cpu,
        "tuner_wall_s": tuner_wall,
        "vbt_cpu_s": vbt_cpu,
        "vbt_wall_s": vbt_wall,
        "x_vbt_cpu": vbt_cpu / tuner_cpu,
        "x_vbt_wall": vbt_wall / tuner_wall,
    }


def grid_stages(bars, rounds: int = 8) -> dict:  # noqa: ANN001
    """Milliseconds of CPU time per stage of the grid call (mean over ``rounds`` calls after a
    warm-up), each stage timed where the tuner calls it; ``other`` is the rest of the call."""
    from phi.backtest.segments import SegmentSweep
    from phi.phiai import evaluate

    spent: dict[str, float] = dict.fromkeys(
        ("signals", "simulations", "bar preparation", "trial sharpes", "pbo_dsr",
         "walk_forward", "trial_table", "total"),
        0.0,
    )  # fmt: skip
    patches = [
        (evaluate, "batch_signals", "signals"),
        (SegmentSweep, "run", "simulations"),
        (SegmentSweep, "__init__", "bar preparation"),
        (evaluate, "dev_row_stats", "trial sharpes"),
        (PhiAITuner, "_luck_stats", "pbo_dsr"),
        (PhiAITuner, "_walk_forward", "walk_forward"),
        (PhiAITuner, "_trial_frame", "trial_table"),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]

    def timed(fn, label):  # noqa: ANN001, ANN202
        def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - t0

        return run

    def call() -> None:
        PhiAITuner(bars, candidates=["dual_sma"]).tune_indicator(
            "dual_sma", sampler="grid", grid=GRID
        )

    import resource

    call()
    faults = 0
    try:
        for obj, name, label in patches:
            setattr(obj, name, timed(getattr(obj, name), label))
        for _ in range(rounds):
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.process_time()
            call()
            spent["total"] += time.process_time() - t0
            faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    finally:
        for obj, name, fn in saved:
            setattr(obj, name, fn)
    out = {k: v / rounds * 1e3 for k, v in spent.items()}
    out["other"] = out["total"] - sum(v for k, v in out.items() if k != "total")
    out["page_faults"] = faults / rounds  # a count per call, not ms (fresh big arrays)
    return out


def same_work(bars, name: str, params: list[dict]):  # noqa: ANN001, ANN201
    """The engine alone doing what a study of ``params`` simulates, through the public API: the
    signals on the bars before the hold-out, then one ``run_backtest_many`` call per walk-forward
    block (its lead bar as warm-up, as the tuner starts a segment flat), with its equity where
    the block is one of those tiling the development region (their returns are what DSR and PBO
    read). No proposals, tables or statistics: the tuner's rate against it is its overhead over
    the same simulations."""
    tuner = PhiAITuner(bars)
    plan, cfg = tuner.plan, tuner.evaluator.cfg
    dev = bars.iloc[: plan.dev[1]]
    spans = sorted({s for f in plan.folds for s in (f.train, f.test)})
    tiling = set(tuner.evaluator.blocks)

    def run() -> None:
        sig = batch_signals(name, dev, params)
        for a, b in spans:
            equity = np.empty((sig.shape[1], b - a + 1)) if (a, b) in tiling else None
            run_backtest_many(bars.iloc[a - 1 : b], sig[a - 1 : b], cfg, equity_out=equity)

    return run


def bench_tpe(bars, name: str, n_trials: int, repeat: int) -> dict:  # noqa: ANN001
    """The in-memory TPE study of ``name`` and the raw sweep of its parameter sets, in turn."""
    from phi.phiai import tpe

    PhiAITuner(bars).tune_indicator(name, n_trials=40)  # warm-up (JIT, both batch sizes)

    def study():  # noqa: ANN202
        return PhiAITuner(bars, seed=0).tune_indicator(name, n_trials=n_trials)

    res = study()
    params = [{k: row[k] for k in res.best_params} for _, row in res.trials.iterrows()]

    def raw() -> None:
        run_backtest_many(bars, batch_signals(name, bars, params), EngineConfig())

    same = same_work(bars, name, params)
    raw()
    same()
    walls: dict[str, list[float]] = {"tuner": [], "raw": [], "same": []}
    cpus: dict[str, list[float]] = {"tuner": [], "raw": [], "same": []}
    for _ in range(repeat):
        for label, fn in (("tuner", study), ("raw", raw), ("same", same)):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpus[label].append(time.process_time() - c0)
            walls[label].append(time.perf_counter() - w0)
    asking = [0.0]
    ask = tpe.BatchedTPE.ask

    def timed_ask(self, n, *args):  # noqa: ANN001, ANN002, ANN202
        t0 = time.thread_time()  # this thread's: a helper thread may be scoring meanwhile
        try:
            return ask(self, n, *args)
        finally:
            asking[0] += time.thread_time() - t0

    tpe.BatchedTPE.ask = timed_ask  # type: ignore[method-assign]
    try:
        for _ in range(repeat):
            study()
    finally:
        tpe.BatchedTPE.ask = ask  # type: ignore[method-assign]
    med = {k: float(np.median(v)) for k, v in walls.items()}
    med_cpu = {k: float(np.median(v)) for k, v in cpus.items()}
    return {
        "case": f"{name} tpe",
        "trials": len(params),
        "batches": len(tpe.batch_sizes(n_trials))
        if hasattr(tpe, "batch_sizes")
        else -(-n_trials // 16),
        "tuner_ms": med["tuner"] * 1e3,
        "raw_ms": med["raw"] * 1e3,
        "share_wall": med["raw"] / med["tuner"],
        "best_share_wall": min(walls["raw"]) / min(walls["tuner"]),
        "tuner_cpu_ms": med_cpu["tuner"] * 1e3,
        "raw_cpu_ms": med_cpu["raw"] * 1e3,
        "share_cpu": med_cpu["raw"] / med_cpu["tuner"],
        "best_share_cpu": min(cpus["raw"]) / min(cpus["tuner"]),
        "propose_cpu_ms": asking[0] / repeat * 1e3,
        # the TPE's own proposals against the raw sweep: a study reaches half the raw rate only
        # if proposals, simulations and everything else fit in twice the raw sweep's time
        "propose_of_raw": asking[0] / repeat / med["raw"],
        # the engine alone doing the tuner's simulations (public API, no tuner)
        "same_work_ms": med["same"] * 1e3,
        "share_same_work": med["same"] / med["tuner"],
        "best_is": res.is_score,
    }


def bench_repeats(names: list[str], repeat: int, n_bars: int = 200_000) -> list[dict]:
    """``--repeats``: random-sampler studies (200 trials) on ``n_bars`` 5-minute random-walk
    bars, where a simulation costs more than the study's fixed work: sets the sampler draws
    again scored once (:meth:`Evaluator.score`) against every trial simulated
    (``Evaluator._simulate`` for every batch, the path before), called in turn; the trial tables
    must be equal. (TPE studies already skipped sets proposed again.)"""
    from phi.phiai.evaluate import Evaluator

    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n_bars)))
    opens = np.r_[close[0], close[:-1]]
    bars = pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, close) * 1.0005,
            "low": np.minimum(opens, close) * 0.9995,
            "close": close,
            "volume": 1e6,
        },
        index=pd.date_range("2020-01-01", periods=n_bars, freq="5min", tz="UTC"),
    )
    score = Evaluator.score

    def every_trial(self, name, param_sets):  # noqa: ANN001, ANN202
        return self._simulate(name, param_sets)

    rows = []
    for name in names:
        PhiAITuner(bars, seed=1).tune_indicator(name, n_trials=40, sampler="random")  # JIT
        walls: dict[str, list[float]] = {"before": [], "after": []}
        tables = {}
        for _ in range(repeat):
            for label, fn in (("before", every_trial), ("after", score)):
                Evaluator.score = fn  # type: ignore[method-assign]
                try:
                    t0 = time.perf_counter()
                    res = PhiAITuner(bars, seed=0).tune_indicator(
                        name, n_trials=200, sampler="random"
                    )
                    walls[label].append(time.perf_counter() - t0)
                finally:
                    Evaluator.score = score  # type: ignore[method-assign]
                tables[label] = res.trials
        pd.testing.assert_frame_equal(tables["before"], tables["after"])
        keys = {tuple(r) for r in res.trials[list(res.best_params)].itertuples(index=False)}
        before, after = (float(np.median(walls[k])) for k in ("before", "after"))
        rows.append(
            {
                "case": f"{name} random, {n_bars} bars",
                "trials": len(res.trials),
                "distinct": len(keys),
                "before_s": before,
                "after_s": after,
                "speedup": before / after,
            }
        )
    return rows


#: Indicators ``--tpe --case`` takes: an oscillator, the issue's example, two crossovers
#: (signals that cost almost nothing, so the TPE's own work weighs most), and a band.
TPE_CASES = ("macd", "rsi", "dual_sma", "ema_crossover", "bollinger", "all")


def table(rows: list[dict]) -> str:
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append(
            "| "
            + " | ".join(f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols)
            + " |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--stages", action="store_true", help="only the grid call's CPU time per stage (ms)"
    )
    ap.add_argument(
        "--grid", action="store_true", help="only (d), the 345-point grid against vectorbt"
    )
    ap.add_argument("--tpe", action="store_true", help="only the TPE studies vs their raw sweeps")
    ap.add_argument(
        "--case",
        choices=TPE_CASES,
        help="with --tpe: one indicator (default: macd and dual_sma; 'all': every one listed)",
    )
    ap.add_argument(
        "--repeats",
        action="store_true",
        help="only random studies on 200k bars: sets drawn again scored once vs each simulated",
    )
    args = ap.parse_args()
    load_start = os.getloadavg()
    os.environ.setdefault("PHI_HOME", tempfile.mkdtemp(prefix="phi-bench-tuner-"))
    bars = load_bars(DatasetSpec("DEMO", start="2015-01-01", end="2024-12-31"))
    if args.stages:
        stages = grid_stages(bars)
        print("CPU ms per stage of the 345-point grid call:\n")
        print(table([{k: round(v, 1) for k, v in stages.items()}]))
        print(f"\nLoad average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return
    if args.repeats:
        rows = bench_repeats(["rsi", "ema_crossover", "dual_sma", "macd"], args.repeat)
        print(table(rows))
        return
    if args.tpe:
        names = (
            list(TPE_CASES[:-1])
            if args.case == "all"
            else [args.case]
            if args.case
            else ["macd", "dual_sma"]
        )
        n = 24 if args.quick else 200
        print(table([bench_tpe(bars, name, n, args.repeat) for name in names]))
        print(f"\nLoad average at the start: {', '.join(f'{x:.1f}' for x in load_start)}, "
              f"at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
        return
    if args.grid:
        print(table([bench_grid(bars, args.repeat)]))
        print(f"\nLoad average at the start: {', '.join(f'{x:.1f}' for x in load_start)}, "
              f"at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
        return
    n = 24 if args.quick else 200
    rows = [
        bench_tune(bars, name, n, sampler, args.repeat)
        for name, sampler in (
            ("rsi", "random"),
            ("macd", "random"),
            ("macd", "tpe"),
            ("dual_sma", "tpe"),
        )
    ]
    grid_row = bench_grid(bars, args.repeat)
    phiai_full_auto(bars, n_trials=4)  # warm-up
    with old_paths():
        auto_before_s, old = best_of(
            args.repeat, lambda: phiai_full_auto(bars, max_indicators=3, n_trials=n, seed=0)
        )
    auto_s, auto = best_of(
        args.repeat, lambda: phiai_full_auto(bars, max_indicators=3, n_trials=n, seed=0)
    )
    # (not compared: full auto tunes with TPE, before through Optuna's TPESampler)
    print(
        f"`benchmarks/bench_tuner.py --repeat {args.repeat}`, {time.strftime('%Y-%m-%d')}: {len(bars)} daily DEMO bars (2015..2024), 5 rolling folds + 20 % hold-out, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.\n"
    )
    print(
        "### (a), (b): tuner trials per second vs the raw engine sweep of the same parameter sets\n"
    )
    print(table(rows))
    print(f"\n### (c): phiai_full_auto, 15 candidates, 3 tuned x {n} trials\n")
    print(
        f"| before_s | wall_s | n_trials_total | chosen | holdout_sharpe | dsr_pvalue | pbo |\n|---|---|---|---|---|---|---|\n"
        f"| {auto_before_s:.3g} | {auto_s:.3g} | {auto.stats['n_trials_total']} | {', '.join(auto.run_config.weights)} | "
        f"{auto.stats['holdout_sharpe']:.3g} | {auto.stats['dsr_pvalue']:.3g} | {auto.stats['pbo']:.3g} |"
    )
    print(
        "\n### (d): 345-combination SMA grid: tuner (grid sampler, folds, statistics) vs vectorbt's sweep\n"
    )
    print(table([grid_row]))
    print(
        f"\nLoad average (1, 5, 15 min) at the start: {', '.join(f'{x:.1f}' for x in load_start)}, "
        f"at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
