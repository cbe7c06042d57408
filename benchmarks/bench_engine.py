"""Engine benchmarks: Phi-nance vs vectorbt (Rust engine) vs backtesting.py, side by side.

Run ``.venv/bin/python benchmarks/bench_engine.py`` (``--quick`` for a smoke run). Prints
markdown tables for the "## Engine" section of ``benchmarks/RESULTS.md``.

(a) 1,000,000 GBM bars (1-minute, 24/7), SMA(20/50) long/short, 2 % stop, 4 % target:
    signals + simulation. backtesting.py runs once on all bars (8-30 s with load);
    ``--bt-slice N`` runs it on the first N bars instead and extrapolates linearly.
(b) the same on 10,000 bars, end to end.
(c) the 345-combination SMA grid (fast 5..50, slow 10..200, step 5, fast < slow) on GOOG and
    on 10,000 bars: backtests per second; Phi's final equities vs backtesting.py's.
(d) a fresh process: ``import phi`` + the first 10,000-bar backtest, warm numba cache.

Timings are the best of ``--repeat`` interleaved rounds after one warm-up call each (JIT
compiled, caches hot); the cold start is the best (and the median) of fresh processes. Phi's timings build
the full result (trades, equity, positions, all metrics) except in the grid, which uses the
lean ``run_backtest_many``; vectorbt's stop at ``final_value()`` (the cheapest complete answer
it gives) and get a tz-naive index (a tz-aware one costs vectorbt seconds under pandas 3);
backtesting.py's stop at ``Backtest.run()``. ``--write`` replaces the "## Engine" section of
``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
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

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import talib  # noqa: E402
from numba import njit  # noqa: E402

from phi.backtest import _nb as phi_nb  # noqa: E402
from phi.backtest.engine import EngineConfig, run_backtest, run_backtest_many  # noqa: E402
from phi.indicators import raw  # noqa: E402

REPEAT = 5
RESULTS = Path(__file__).with_name("RESULTS.md")
GRID = [(f, s) for f in range(5, 51, 5) for s in range(10, 201, 5) if f < s]
assert len(GRID) == 345


def best_of(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best wall time of each function over ``repeat`` rounds, after one warm-up call each.

    Within a round the functions run one after the other (interleaved), so a change of
    machine load hits every library alike.
    """
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


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

    bars = _Bars(df, cfg)
    fp, ip = _params(cfg, bars.periods)
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


def bench_single(n: int, bt_slice: int, label: str, repeat: int) -> dict[str, Any]:
    df = gbm(n)
    vdf = naive(df)
    calendar = "24/7"
    cfg = EngineConfig(**LS_CFG, calendar=calendar)
    sig = phi_signal(df, 20, 50)
    arrays = [np.ascontiguousarray(df[c].to_numpy()) for c in ("open", "high", "low", "close")]
    out = np.empty(n)
    t = best_of(
        {
            "phi": lambda: phi_end_to_end(df, calendar),
            "phi_signal": lambda: phi_signal(df, 20, 50),
            "phi_run_backtest": lambda: run_backtest(df, sig, cfg),
            "phi_kernel": phi_kernel_only(df, sig, calendar),
            "one_pass": lambda: _one_pass_nb(*arrays, sig, out),
            "vbt_rust": lambda: vbt_end_to_end(vdf, "rust"),
            "vbt_numba": lambda: vbt_end_to_end(vdf, "numba"),
        },
        repeat,
    )
    res = phi_end_to_end(df, calendar)
    m = min(n, bt_slice)
    strat = bt_strategy_ls()
    if m >= 200_000:  # one run of half a minute is enough
        t0 = time.perf_counter()
        bt_stats = bt_run(df.iloc[:m], strat, 100_000.0)
        t_bt = time.perf_counter() - t0
    else:
        t_bt = best_of({"bt": lambda: bt_run(df.iloc[:m], strat, 100_000.0)}, repeat)["bt"]
        bt_stats = bt_run(df.iloc[:m], strat, 100_000.0)
    t_bt *= n / m
    return {
        "case": label,
        "bars": n,
        "phi_s": t["phi"],
        "signal_s": t["phi_signal"],
        "run_backtest_s": t["phi_run_backtest"],
        "kernel_s": t["phi_kernel"],
        "one_pass_s": t["one_pass"],
        "vbt_rust_s": t["vbt_rust"],
        "vbt_numba_s": t["vbt_numba"],
        "bt_s": t_bt,
        "bt_bars_run": m,
        "x_vbt_rust": t["vbt_rust"] / t["phi"],
        "x_vbt_numba": t["vbt_numba"] / t["phi"],
        "x_bt": t_bt / t["phi"],
        "phi_trades": len(res.trades),
        "bt_trades": int(bt_stats["# Trades"]) * n // m,
    }


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
    vdf = naive(df)
    t = best_of({"phi": lambda: phi_grid(df), "vbt": lambda: vbt_grid(vdf)}, repeat)
    phi_final, vbt_final = phi_grid(df), vbt_grid(vdf)
    strat = type("SmaCrossGrid", (bt_grid_strategy(),), {})
    strat.table = sma_table(np.ascontiguousarray(df["close"].to_numpy()))
    picked = list(range(0, len(GRID), bt_every))
    t0 = time.perf_counter()
    bt_final = np.array(
        [bt_run(df, strat, 10_000.0, fast=GRID[j][0], slow=GRID[j][1])["Equity Final [$]"]
         for j in picked]
    )  # fmt: skip
    t_bt = (time.perf_counter() - t0) / len(picked) * len(GRID)
    return {
        "case": label,
        "bars": len(df),
        "phi_per_s": len(GRID) / t["phi"],
        "vbt_rust_per_s": len(GRID) / t["vbt"],
        "bt_per_s": len(GRID) / t_bt,
        "x_vbt_rust": t["vbt"] / t["phi"],
        "x_bt": t_bt / t["phi"],
        "runs_vs_bt": len(picked),
        "max_abs_diff_vs_bt": float(np.max(np.abs(phi_final[picked] - bt_final))),
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


FLOOR = """
import time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from phi.backtest import _nb  # numba + phi's kernel module, nothing else of phi
a = np.ones(10)
_nb.first_bad_bar_nb(a, a, a, a)  # one small cached numba kernel: numba's start-up cost
print(time.perf_counter() - t0, 0)
"""


def _cold_runs(code: str, repeat: int, env: dict[str, str]) -> tuple[float, float, float]:
    """(best, median) in-process time and best whole-process wall time of fresh processes."""
    inner, wall = [], []
    for _ in range(repeat + 1):  # the first run also warms the numba and bytecode caches
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=env)  # fmt: skip
        wall.append(time.perf_counter() - t0)
        inner.append(float(out.stdout.split()[0]))
    return min(inner[1:]), statistics.median(inner[1:]), min(wall[1:])


def bench_cold(repeat: int) -> list[dict[str, Any]]:
    """Cold start with Python's bytecode cache (a normal install) and without it.

    Without a bytecode cache (``PYTHONDONTWRITEBYTECODE=1``, as in the sandbox these
    figures come from) every module of pandas, numba and scipy is compiled from source in
    each new process, which alone costs about a second and a half.
    """
    df = gbm(10_000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bars.npz")
        np.savez(path, **{k: df[k].to_numpy() for k in ("open", "high", "low", "close")})
        normal = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        normal["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")  # leaves the venv untouched
        no_pyc = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        for label, env in (
            ("bytecode cache (normal install)", normal),
            ("no bytecode cache", no_pyc),
        ):
            best, median, wall = _cold_runs(textwrap.dedent(COLD.format(path=path)), repeat, env)
            floor_best, floor_median, _ = _cold_runs(textwrap.dedent(FLOOR), repeat, env)
            rows.append(
                {
                    "python": label,
                    "import_phi_plus_first_backtest_s": best,
                    "median_s": median,
                    "whole_process_wall_s": wall,
                    "floor_s": floor_best,
                    "floor_median_s": floor_median,
                    "target_s": 1.5,
                }
            )
    return rows


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


def _check(
    label: str, value: float, target: float, unit: str, higher_is_better: bool = True
) -> str:
    met = value >= target if higher_is_better else value <= target
    if met:
        return f"- {label}: **met** — {value:.3g}{unit} (target {target:g}{unit})."
    short = target / value if higher_is_better else value / target
    return f"- {label}: **missed** — {value:.3g}{unit} vs {target:g}{unit} ({short:.2f}x short)."


def verdict(single: list[dict[str, Any]], grid: list[dict[str, Any]], cold: list[dict]) -> str:
    """One line per target of issue 03, computed from the measured rows."""
    a, b = single
    lines = [
        _check("(a) vs vectorbt (Rust)", a["x_vbt_rust"], 2.0, "x"),
        _check("(a) vs backtesting.py", a["x_bt"], 250.0, "x"),
        f"- (a) simulation alone: the kernel takes {a['kernel_s'] * 1e3:.1f} ms for "
        f"{a['bars']:,} bars, {a['kernel_s'] / a['one_pass_s']:.1f}x one bare read pass over "
        f"the five input arrays ({a['one_pass_s'] * 1e3:.1f} ms).",
        _check("(b) vs vectorbt (Rust)", b["x_vbt_rust"], 2.5, "x"),
    ]
    for g in grid:
        lines.append(
            _check(f"{g['case']} vs vectorbt (Rust), backtests/s", g["x_vbt_rust"], 2.0, "x")
        )
        lines.append(
            _check(f"{g['case']} final equity vs backtesting.py", g["max_abs_diff_vs_bt"], 1e-6,
                   " max abs diff", higher_is_better=False)
        )  # fmt: skip
    normal, bare = cold
    lines.append(
        _check("(d) import phi + first 10,000-bar backtest (bytecode cache)",
               normal["import_phi_plus_first_backtest_s"], 1.5, " s", higher_is_better=False)
    )  # fmt: skip
    own = normal["import_phi_plus_first_backtest_s"] - normal["floor_s"]
    lines.append(
        f"- (d) Phi's own share of the cold start is about {max(own, 0.0) * 1e3:.0f} ms; the rest "
        f"is the floor ({normal['floor_s']:.2f} s: importing pandas and numba, numba's first "
        "call). Without a bytecode cache (`PYTHONDONTWRITEBYTECODE=1`, the setting of the "
        "sandbox these figures come from) every module of pandas, numba and scipy is compiled "
        f"from source in each new process: {bare['import_phi_plus_first_backtest_s']:.2f} s "
        f"(floor {bare['floor_s']:.2f} s), over the target for reasons outside Phi."
    )
    return "\n".join(lines)


def write_section(body: str) -> None:
    """Replace only the '## Engine' section of RESULTS.md (atomically)."""
    from phi._io import atomic_write_text

    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"(^## Engine\n)(.*?)(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: m.group(1) + "\n" + body.rstrip() + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n## Engine\n\n" + body.rstrip() + "\n"
    atomic_write_text(RESULTS, text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke run)")
    ap.add_argument("--repeat", type=int, default=REPEAT, help="rounds per timing (best of)")
    ap.add_argument("--bt-slice", type=int, default=0, help="extrapolate backtesting.py in (a)")
    ap.add_argument("--write", action="store_true", help="replace '## Engine' in RESULTS.md")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    load0 = f"{os.getloadavg()[0]:.2f}"
    big = 100_000 if args.quick else 1_000_000
    import backtesting
    import vectorbt

    parts = [
        f"Run {time.strftime('%Y-%m-%d')}: `benchmarks/bench_engine.py` on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, numba {numba.__version__}, vectorbt {vectorbt.__version__} "
        f"(+ vectorbt-rust), backtesting.py {backtesting.__version__}. Best of {repeat} "
        "interleaved rounds; backtesting.py once.",
    ]
    bt_slice = args.bt_slice or (20_000 if args.quick else big)
    single = [bench_single(big, bt_slice, "(a) signals + sim", repeat)]
    print(table(single), flush=True)
    single.append(bench_single(10_000, 10_000, "(b) end to end", repeat))
    parts.append("### (a), (b): SMA(20/50) long/short, 2 % stop, 4 % target\n\n" + table(single))
    print(table(single[1:]), flush=True)
    from backtesting.test import GOOG

    goog = GOOG.rename(columns=str.lower)
    grid = [bench_grid(goog, "(c) GOOG", repeat, 1)]
    grid.append(bench_grid(gbm(10_000, freq="D"), "(c) 10k bars", repeat, 7 if args.quick else 1))
    parts.append("### (c): 345-combination SMA grid, backtests per second\n\n" + table(grid))
    print(table(grid), flush=True)
    cold = bench_cold(1 if args.quick else 9)
    parts.append("### (d): fresh process, warm numba cache (seconds)\n\n" + table(cold))
    print(table(cold), flush=True)
    parts.insert(1, "### Against the targets\n\n" + verdict(single, grid, cold))
    parts[0] += f" Load average at the start {load0}, at the end {os.getloadavg()[0]:.2f}."
    body = "\n\n".join(parts)
    print(parts[1])
    if args.write:
        write_section(body)


if __name__ == "__main__":
    main()
