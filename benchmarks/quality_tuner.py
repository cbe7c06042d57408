"""PhiAI's verdicts on bars it was not built on: noise families, planted edges, real test bars.

    .venv/bin/python benchmarks/quality_tuner.py            # ~1 minute on 2 cores
    .venv/bin/python benchmarks/quality_tuner.py --quick    # the synthetic cases only

Prints one row per case: what ``phiai_full_auto`` chose, its in-sample (development bars),
walk-forward out-of-sample and hold-out Sharpe ratios side by side, the deflated Sharpe p-value,
PBO and the explanation's verdict. The real bars are backtesting.py's bundled test data
(GOOG daily, EURUSD hourly; a bench dependency only). Belongs to ``RESULTS.md``, Tuner, "Quality
on data the tuner was not built on". Nothing here is tuned to these cases: the tuner runs with
its defaults (drawdown cap 30 %, 10 development trades).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PHI_HOME", tempfile.mkdtemp(prefix="phi-quality-"))

from phi.backtest.engine import EngineConfig  # noqa: E402
from phi.phiai.tuner import phiai_full_auto  # noqa: E402
from tests.phiai.frames import _frame, planted_rsi, random_walk  # noqa: E402


def student_t_walk(n: int, seed: int) -> pd.DataFrame:
    """Driftless walk with Student-t(3) steps (fat tails), 1 % scale."""
    rng = np.random.default_rng(seed)
    steps = rng.standard_t(3, n) / np.sqrt(3.0) * 0.01
    return _frame(100.0 * np.exp(np.cumsum(steps)), rng)


def garch_walk(n: int, seed: int) -> pd.DataFrame:
    """Driftless GARCH(1,1) returns (volatility clustering)."""
    rng = np.random.default_rng(seed)
    r = np.zeros(n)
    h = 1e-4
    for t in range(1, n):  # test-data generator: each variance depends on the last return
        h = 2e-6 + 0.1 * r[t - 1] ** 2 + 0.88 * h
        r[t] = np.sqrt(h) * rng.normal()
    return _frame(100.0 * np.exp(np.cumsum(r)), rng)


def vol_switch_walk(n: int, seed: int) -> pd.DataFrame:
    """Driftless walk whose volatility switches between 0.6 % and 2 % every 150 bars."""
    rng = np.random.default_rng(seed)
    scale = np.where((np.arange(n) // 150) % 2 == 0, 0.006, 0.02)
    return _frame(100.0 * np.exp(np.cumsum(rng.normal(0.0, 1.0, n) * scale)), rng)


def _planted(
    n: int, seed: int, warm: int, drift: Callable[[np.ndarray, int], float]
) -> pd.DataFrame:
    """Closes whose next return (1 % sigma) drifts by ``drift(close, t)`` sigma, a rule of the
    closes before bar ``t`` (0 for the first ``warm`` bars)."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(0.0, 1.0, n)
    close = np.full(n, 100.0)
    for t in range(1, n):  # test-data generator: each return depends on the closes before it
        d = drift(close, t) if t > warm else 0.0
        close[t] = close[t - 1] * np.exp(0.01 * (eps[t] + d))
    return _frame(close, rng)


def planted_trend(n: int, seed: int, fast: int, slow: int, edge: float) -> pd.DataFrame:
    """The next return drifts by ``edge`` sigma with the sign of SMA(fast) - SMA(slow) of the
    closes so far: a trend pattern a moving-average crossover captures."""

    def drift(c: np.ndarray, t: int) -> float:
        return edge if c[t - fast : t].mean() > c[t - slow : t].mean() else -edge

    return _planted(n, seed, slow, drift)


def planted_band(
    n: int, seed: int, period: int = 20, k: float = 1.0, edge: float = 0.5
) -> pd.DataFrame:
    """The next return drifts up by ``edge`` sigma after a close below the mean - k sd of the
    last ``period`` closes, down after one above the mean + k sd: band mean reversion."""

    def drift(c: np.ndarray, t: int) -> float:
        w = c[t - period : t]
        m, sd = w.mean(), w.std()
        return edge if c[t - 1] < m - k * sd else (-edge if c[t - 1] > m + k * sd else 0.0)

    return _planted(n, seed, period, drift)


def planted_range(n: int, seed: int, period: int = 14, edge: float = 0.35) -> pd.DataFrame:
    """The next return drifts up by ``edge`` sigma while the last close sits in the lower half
    of the last ``period`` closes' range (a raw stochastic %K under 50), down in the upper
    half: range mean reversion."""

    def drift(c: np.ndarray, t: int) -> float:
        w = c[t - period : t]
        return edge if (w[-1] - w.min()) / (w.max() - w.min() + 1e-12) < 0.5 else -edge

    return _planted(n, seed, period, drift)


def planted_momentum(n: int, seed: int, period: int = 10, edge: float = 0.25) -> pd.DataFrame:
    """The next return drifts by ``edge`` sigma with the sign of the last ``period`` bars'
    return: time-series momentum."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(0.0, 1.0, n)
    logc = np.zeros(n)
    for t in range(1, n):
        drift = 0.0
        if t > period:
            drift = edge if logc[t - 1] > logc[t - 1 - period] else -edge
        logc[t] = logc[t - 1] + 0.01 * (eps[t] + drift)
    return _frame(100.0 * np.exp(logc), rng)


def real_bars() -> list[tuple[str, Callable[[], pd.DataFrame], dict]]:
    from backtesting.test import EURUSD, GOOG  # bench dependency (not imported by phi)

    def tidy(df: pd.DataFrame) -> pd.DataFrame:
        out = df.rename(columns=str.lower)
        return out.tz_localize("UTC") if out.index.tz is None else out

    return [
        ("GOOG daily 2004-2013", lambda: tidy(GOOG), {"n_trials": 200}),
        (
            "EURUSD hourly",
            lambda: tidy(EURUSD),
            {"n_trials": 200, "engine": EngineConfig(calendar="fx")},
        ),
    ]


def cases(quick: bool) -> list[tuple[str, Callable[[], pd.DataFrame], dict]]:
    out: list[tuple[str, Callable[[], pd.DataFrame], dict]] = []
    out += [
        (f"Gaussian walk s{s}", lambda s=s: random_walk(1500, seed=100 + s), {}) for s in range(3)
    ]
    out += [(f"Student-t(3) walk s{s}", lambda s=s: student_t_walk(1500, s), {}) for s in range(3)]
    out += [(f"GARCH(1,1) walk s{s}", lambda s=s: garch_walk(1500, s), {}) for s in range(3)]
    out += [(f"vol switching s{s}", lambda s=s: vol_switch_walk(1500, s), {}) for s in range(2)]
    out += [
        (f"planted RSI(9) s{s}", lambda s=s: planted_rsi(1500, seed=50 + s, period=9, edge=0.4), {})
        for s in range(2)
    ]
    out += [(f"planted band s{s}", lambda s=s: planted_band(1500, s), {}) for s in range(2)]
    out += [
        (f"planted SMA(5/20) e0.2 s{s}", lambda s=s: planted_trend(1500, s, 5, 20, 0.2), {})
        for s in range(2)
    ]
    out += [
        (f"planted SMA(10/40) e0.4 s{s}", lambda s=s: planted_trend(1500, s, 10, 40, 0.4), {})
        for s in range(3)
    ]
    out += [
        (f"planted range(14) s{s}", lambda s=s: planted_range(1500, 1 + s), {}) for s in range(2)
    ]
    out += [
        (f"planted momentum(10) s{s}", lambda s=s: planted_momentum(1500, 1 + s), {})
        for s in range(2)
    ]
    return out if quick else out + real_bars()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="synthetic cases only")
    ap.add_argument("--trials", type=int, default=60, help="trials per tuned indicator (synthetic)")
    args = ap.parse_args()
    print("| bars | chosen | IS | OOS | hold-out | DSR p | PBO | verdict | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, make, kw in cases(args.quick):
        kw = {"n_trials": args.trials, **kw}
        t0 = time.perf_counter()
        r = phiai_full_auto(make(), max_indicators=3, seed=0, **kw)
        s = r.stats
        chosen = ", ".join(
            f"{n} {tuple(t.best_params.values()) if t.best_params else ''}".strip()
            for n, t in r.tuning.items()
        )
        verdict = "luck" if "Not distinguishable" in r.explanation else "skill"
        print(
            f"| {label} | {chosen} | {s['is_score']:.2f} | {s['oos_score']:.2f} | "
            f"{s['holdout_sharpe']:.2f} | {s['dsr_pvalue']:.3f} | {s['pbo']:.2f} | {verdict} | "
            f"{time.perf_counter() - t0:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
