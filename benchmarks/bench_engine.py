"""Engine benchmarks: Phi-nance vs vectorbt (Rust engine) vs backtesting.py, side by side.

Run ``.venv/bin/python benchmarks/bench_engine.py`` (``--quick`` for a smoke run). Prints
markdown tables for the "## Engine" section of ``benchmarks/RESULTS.md``.

(a) 1,000,000 GBM bars (1-minute, 24/7), SMA(20/50) long/short, 2 % stop, 4 % target:
    signals + simulation. backtesting.py runs once on all bars (about half a minute);
    ``--bt-slice N`` runs it on the first N bars instead and extrapolates linearly.
(b) the same on 10,000 bars, end to end.
(c) the 345-combination SMA grid (fast 5..50, slow 10..200, step 5, fast < slow) on GOOG and
    on 10,000 bars: backtests per second; Phi's final equities vs backtesting.py's.
(d) a fresh process: ``import phi`` + the first 10,000-bar backtest, warm numba cache.

Timings are the median of ``REPEAT`` runs after one warm-up run (JIT compile, caches).
Phi's timings build the full result (trades, equity, positions, all metrics) except in the
grid, which uses the lean ``run_backtest_many``; vectorbt's stop at ``final_value()``
(the cheapest complete answer it gives) and backtesting.py's at ``Backtest.run()``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import talib  # noqa: E402
from numba import njit  # noqa: E402

from phi.backtest import _nb as phi_nb  # noqa: E402
from phi.backtest.engine import EngineConfig, run_backtest, run_backtest_many  # noqa: E402
from phi.indicators import raw  # noqa: E402

REPEAT = 5
GRID = [(f, s) for f in range(5, 51, 5) for s in range(10, 201, 5) if f < s]
assert len(GRID) == 345


def timed(fn: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls after one warm-up call, and the last result."""
    out = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def gbm(n: int, seed: int = 42, freq: str = "min") -> pd.DataFrame:
    """Geometric Brownian motion bars (open = previous close with a small gap)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.0002, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.0005, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.0005, n)))
    idx = pd.date_range("2020-01-01", periods=n, freq=freq, tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1.0}, index=idx
    )


# ---- Phi -----------------------------------------------------------------------------


def phi_signal(df: pd.DataFrame, fast: int, slow: int) -> np.ndarray:
    """sign(SMA_fast - SMA_slow) with phi's SMA; warm-up and exact ties are NaN (no cross)."""
    r = raw.dual_sma(df, fast, slow)
    s = np.sign(r["sma_fast"].to_numpy() - r["sma_slow"].to_numpy())
    s[s == 0] = np.nan
    return s


LS_CFG = dict(allow_short=True, stop_loss_pct=0.02, take_profit_pct=0.04, size_pct=1.0)


def phi_end_to_end(df: pd.DataFrame, calendar: str) -> Any:
    return run_backtest(df, phi_signal(df, 20, 50), EngineConfig(**LS_CFG, calendar=calendar))


@njit(cache=True)
def _one_pass_nb(o, h, lo, c, s, out):
    """Baseline: read every input array once and write one output (a memory pass)."""
    for t in range(c.shape[0]):
        out[t] = o[t] + h[t] + lo[t] + c[t] * s[t]
    return out


def phi_kernel_only(df: pd.DataFrame, sig: np.ndarray, calendar: str) -> Callable[[], Any]:
    cfg = EngineConfig(**LS_CFG, calendar=calendar)
    from phi.backtest.engine import _Bars, _params

    bars = _Bars(df)
    fp, ip = _params(cfg)
    n = len(df)
    eq, pos, cash = np.empty(n), np.empty(n), np.empty(n)
    tr, st = np.empty((n, phi_nb.N_TR)), np.empty(phi_nb.N_ST)
    s = np.ascontiguousarray(sig)

    def run() -> int:
        return int(
            phi_nb.simulate_col_nb(
                bars.open,
                bars.high,
                bars.low,
                bars.close,
                s,
                bars.day_end,
                fp,
                ip,
                True,
                eq,
                pos,
                cash,
                tr,
                st,
            )  # fmt: skip
        )

    return run


# ---- vectorbt ------------------------------------------------------------------------


def naive(df: pd.DataFrame) -> pd.DataFrame:
    """vectorbt's fast path: a tz-naive index (a tz-aware one costs it seconds per call)."""
    if isinstance(df.index, pd.DatetimeIndex) and df.index.tz is not None:
        df = df.tz_localize(None)
    return df


def vbt_end_to_end(df: pd.DataFrame, engine: str = "rust") -> float:
    import vectorbt as vbt

    close = df["close"]
    fast = vbt.MA.run(close, 20)
    slow = vbt.MA.run(close, 50)
    long_entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
    short_entries = fast.ma_crossed_below(slow).shift(1, fill_value=False)
    pf = vbt.Portfolio.from_signals(
        close,
        entries=long_entries,
        short_entries=short_entries,
        price=df["open"],
        open=df["open"],
        high=df["high"],
        low=df["low"],
        sl_stop=0.02,
        tp_stop=0.04,
        init_cash=100_000.0,
        freq="1min",
        engine=engine,
    )
    return float(pf.final_value())


# ---- backtesting.py ------------------------------------------------------------------


def bt_strategy_ls() -> type:
    from backtesting import Strategy
    from backtesting.lib import crossover

    def sma(x: np.ndarray, n: int) -> np.ndarray:
        return talib.SMA(np.asarray(x, dtype=np.float64), n)

    class SmaLongShort(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, 20)
            self.slow = self.I(sma, self.data.Close, 50)

        def next(self) -> None:
            price = self.data.Close[-1]
            if crossover(self.fast, self.slow):
                self.position.close()
                self.buy(sl=price * 0.98, tp=price * 1.04)
            elif crossover(self.slow, self.fast):
                self.position.close()
                self.sell(sl=price * 1.02, tp=price * 0.96)

    return SmaLongShort


def bt_run(df: pd.DataFrame, strategy: type, cash: float, **params: Any) -> pd.Series:
    from backtesting import Backtest

    data = df.rename(columns=str.capitalize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Backtest(data, strategy, cash=cash).run(**params)


# ---- (a) and (b) ---------------------------------------------------------------------


def bench_single(n: int, bt_slice: int, label: str, repeat: int) -> list[dict[str, Any]]:
    df = gbm(n)
    calendar = "24/7"
    t_phi, res = timed(lambda: phi_end_to_end(df, calendar), repeat)
    t_sig, sig = timed(lambda: phi_signal(df, 20, 50), repeat)
    cfg = EngineConfig(**LS_CFG, calendar=calendar)
    t_run, _ = timed(lambda: run_backtest(df, sig, cfg), repeat)
    t_kernel, _ = timed(phi_kernel_only(df, sig, calendar), repeat)
    arrays = [np.ascontiguousarray(df[c].to_numpy()) for c in ("open", "high", "low", "close")]
    out = np.empty(n)
    t_pass, _ = timed(lambda: _one_pass_nb(*arrays, sig, out), repeat)
    vdf = naive(df)
    t_vbt, vbt_final = timed(lambda: vbt_end_to_end(vdf, "rust"), repeat)
    t_vbt_nb, _ = timed(lambda: vbt_end_to_end(vdf, "numba"), repeat)
    strat = bt_strategy_ls()
    m = min(n, bt_slice)
    bt_repeat = 1 if m >= 200_000 else repeat  # one run of half a minute is enough
    if bt_repeat == 1:
        t0 = time.perf_counter()
        bt_stats = bt_run(df.iloc[:m], strat, 100_000.0)
        t_bt = time.perf_counter() - t0
    else:
        t_bt, bt_stats = timed(lambda: bt_run(df.iloc[:m], strat, 100_000.0), bt_repeat)
    t_bt *= n / m
    rows = [
        {
            "case": label,
            "bars": n,
            "phi_s": t_phi,
            "phi_signal_s": t_sig,
            "phi_run_backtest_s": t_run,
            "phi_kernel_s": t_kernel,
            "one_pass_s": t_pass,
            "vbt_rust_s": t_vbt,
            "vbt_numba_s": t_vbt_nb,
            "bt_s": t_bt,
            "bt_extrapolated_from": m if m < n else None,
            "x_vbt_rust": t_vbt / t_phi,
            "x_vbt_numba": t_vbt_nb / t_phi,
            "x_bt": t_bt / t_phi,
            "phi_trades": len(res.trades),
            "phi_final": res.metrics["final_equity"],
            "vbt_final": vbt_final,
            "bt_trades": int(bt_stats["# Trades"]),
        }
    ]
    return rows


# ---- (c) SMA grid --------------------------------------------------------------------

GRID_CFG = dict(initial_capital=10_000.0, size_pct=1.0, fractional=False)


def sma_table(close: np.ndarray) -> dict[int, np.ndarray]:
    return {w: talib.SMA(close, w) for w in range(5, 201, 5)}


def grid_signals(close: np.ndarray) -> np.ndarray:
    """(345, n) C-contiguous: sign(SMA_f - SMA_s), NaN in warm-up and on exact ties."""
    smas = sma_table(close)
    sig = np.empty((len(GRID), close.shape[0]))
    for j, (f, s) in enumerate(GRID):
        np.sign(smas[f] - smas[s], out=sig[j])
    sig[sig == 0] = np.nan
    return sig


def phi_grid(df: pd.DataFrame) -> np.ndarray:
    sig = grid_signals(np.ascontiguousarray(df["close"].to_numpy()))
    out = run_backtest_many(df, sig.T, EngineConfig(**GRID_CFG))
    return out["final_equity"].to_numpy()


def vbt_grid(df: pd.DataFrame) -> np.ndarray:
    import vectorbt as vbt

    close = df["close"]
    ma = vbt.MA.run(close, window=list(range(5, 201, 5)))
    vals = ma.ma.to_numpy()
    col = {w: i for i, w in enumerate(range(5, 201, 5))}
    fast = vals[:, [col[f] for f, _ in GRID]]
    slow = vals[:, [col[s] for _, s in GRID]]
    with np.errstate(invalid="ignore"):
        above, below = fast > slow, fast < slow
    entries = np.zeros_like(above)
    exits = np.zeros_like(above)
    entries[2:] = below[:-2] & above[1:-1]  # crossed at t-1, filled at t's open
    exits[2:] = above[:-2] & below[1:-1]
    pf = vbt.Portfolio.from_signals(
        close,
        entries=entries,
        exits=exits,
        price=df["open"],
        size=np.inf,
        size_granularity=1.0,
        init_cash=10_000.0,
        freq="1D",
        engine="rust",
    )
    return pf.final_value().to_numpy()


def bt_grid_strategy() -> type:
    from backtesting import Strategy
    from backtesting.lib import crossover

    def pick(_close: Any, table: dict[int, np.ndarray], w: int) -> np.ndarray:
        return table[w]  # the same SMA values Phi uses, so only the engines are compared

    class SmaCross(Strategy):
        fast = 10
        slow = 20
        table: dict[int, np.ndarray] = {}

        def init(self) -> None:
            self.ma1 = self.I(pick, self.data.Close, self.table, self.fast)
            self.ma2 = self.I(pick, self.data.Close, self.table, self.slow)

        def next(self) -> None:
            if crossover(self.ma1, self.ma2):
                self.buy()
            elif crossover(self.ma2, self.ma1):
                self.position.close()

    return SmaCross


def bench_grid(df: pd.DataFrame, label: str, repeat: int, bt_every: int) -> dict[str, Any]:
    t_phi, phi_final = timed(lambda: phi_grid(df), repeat)
    vdf = naive(df)
    t_vbt, vbt_final = timed(lambda: vbt_grid(vdf), repeat)
    strat = type("SmaCrossGrid", (bt_grid_strategy(),), {})
    strat.table = sma_table(np.ascontiguousarray(df["close"].to_numpy()))
    picked = list(range(0, len(GRID), bt_every))
    t0 = time.perf_counter()
    bt_final = np.array(
        [bt_run(df, strat, 10_000.0, fast=GRID[j][0], slow=GRID[j][1])["Equity Final [$]"]
         for j in picked]
    )  # fmt: skip
    t_bt = time.perf_counter() - t0
    diff = np.abs(phi_final[picked] - bt_final)
    return {
        "case": label,
        "bars": len(df),
        "phi_bt_per_s": len(GRID) / t_phi,
        "vbt_bt_per_s": len(GRID) / t_vbt,
        "bt_bt_per_s": len(picked) / t_bt,
        "x_vbt": t_vbt / t_phi,
        "x_bt": (t_bt / len(picked)) / (t_phi / len(GRID)),
        "compared_with_bt": len(picked),
        "max_abs_diff_vs_bt": float(diff.max()),
        "max_abs_diff_vs_vbt": float(np.max(np.abs(phi_final - vbt_final))),
    }


# ---- (d) cold start ------------------------------------------------------------------

COLD = """
import time
t0 = time.perf_counter()
import phi
from phi.backtest.engine import EngineConfig, run_backtest
from phi.indicators import raw
import numpy as np, pandas as pd
z = np.load({path!r})
idx = pd.date_range("2020-01-01", periods=len(z["close"]), freq="min", tz="UTC")
df = pd.DataFrame({{k: z[k] for k in ("open", "high", "low", "close")}}, index=idx)
r = raw.dual_sma(df, 20, 50)
s = np.sign(r["sma_fast"].to_numpy() - r["sma_slow"].to_numpy())
s[s == 0] = np.nan
res = run_backtest(df, s, EngineConfig(allow_short=True, stop_loss_pct=0.02,
                                       take_profit_pct=0.04, calendar="24/7"))
print(time.perf_counter() - t0, len(res.trades))
"""


def bench_cold(repeat: int) -> dict[str, Any]:
    df = gbm(10_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bars.npz")
        np.savez(path, **{k: df[k].to_numpy() for k in ("open", "high", "low", "close")})
        code = textwrap.dedent(COLD.format(path=path))
        inner, wall = [], []
        for _ in range(repeat + 1):  # the first run also warms the numba cache
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True)  # fmt: skip
            wall.append(time.perf_counter() - t0)
            inner.append(float(out.stdout.split()[0]))
    return {
        "import_plus_first_backtest_s": statistics.median(inner[1:]),
        "process_wall_s": statistics.median(wall[1:]),
        "target_s": 1.5,
    }


def table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        cells = []
        for k in keys:
            v = r[k]
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke run)")
    ap.add_argument("--bt-slice", type=int, default=0, help="extrapolate backtesting.py in (a)")
    args = ap.parse_args()
    repeat = 1 if args.quick else REPEAT
    big = 100_000 if args.quick else 1_000_000
    print("## Engine (benchmarks/bench_engine.py)\n")
    print(f"numpy {np.__version__}, pandas {pd.__version__}, {os.cpu_count()} cores\n")
    bt_slice = args.bt_slice or (20_000 if args.quick else big)
    rows = bench_single(big, bt_slice, "(a) signals+sim", repeat)
    rows += bench_single(10_000, 10_000, "(b) end to end", repeat)
    print(table(rows), "\n")
    from backtesting.test import GOOG

    goog = GOOG.rename(columns=str.lower)
    grid = [bench_grid(goog, "(c) GOOG", repeat, 1)]
    grid.append(bench_grid(gbm(10_000, freq="D"), "(c) 10k bars", repeat, 7 if args.quick else 1))
    print(table(grid), "\n")
    print(table([bench_cold(1 if args.quick else 3)]))


if __name__ == "__main__":
    main()
