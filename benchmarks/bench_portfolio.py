"""Portfolio benchmarks: Phi-nance's ``run_portfolio`` vs vectorbt's ``Portfolio.from_orders``
(``cash_sharing=True``, one group), side by side in one process.

Run ``.venv/bin/python benchmarks/bench_portfolio.py`` (``--write`` replaces the "## Portfolio"
section of ``RESULTS.md``).

(a) 4 assets, 10 years of daily bars (2,520), MomentumRotation: every 5 bars hold the best
    20-bar momentum fully (``momentum_rotation_weights``, ``rebalance="on_change"``).
(b) 100 assets, 10 years of daily bars, equal weight rebalanced monthly (decided at each
    month's last close, filled at the next month's first open).

Conventions matched: the same target weights; orders fill at the next bar's open (vectorbt:
the size row of bar t+1 holds the weights decided at t's close, ``price=open``); target
units = weight x portfolio value at the fill bar's opens (vectorbt ``size_type=
"targetpercent"``, ``val_price`` = the order price, sells before buys with ``call_seq="auto"``);
fractional units; **no costs** (with costs the two differ by design: Phi's target is what
``w x E`` buys *including* the fill's costs, vectorbt's target value excludes its fees and
clips the order to the cash). Phi's timing builds its full result (equity, cash, holdings,
fills, flat-to-flat trades, every metric, the ledger); vectorbt's stops at
``final_value()`` and gets a tz-naive index (its fast path). Weight matrices are built
beforehand for both. Timings are the best of ``--repeat`` interleaved rounds after a warm-up
call each.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from phi.backtest.portfolio import PortfolioConfig, _decisions, _parse_rebalance, run_portfolio
from phi.backtest.weights import equal_weight, momentum_rotation_weights

RESULTS = Path(__file__).with_name("RESULTS.md")
N_BARS = 2_520  # 10 years of daily bars
CAPITAL = 100_000.0


def make_bars(n_assets: int, n_bars: int, seed: int) -> dict[str, pd.DataFrame]:
    """Random-walk daily OHLC per asset (UTC stamps on business days)."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2015-01-02", periods=n_bars, tz="UTC")
    out = {}
    for j in range(n_assets):
        drift, vol = rng.uniform(-0.0002, 0.0008), rng.uniform(0.005, 0.025)
        close = 50.0 * np.exp(np.cumsum(rng.normal(drift, vol, n_bars)))
        open_ = np.r_[50.0, close[:-1]] * np.exp(rng.normal(0, vol / 4, n_bars))
        out[f"S{j:03d}"] = pd.DataFrame(
            {
                "open": open_,
                "high": np.maximum(open_, close) * 1.005,
                "low": np.minimum(open_, close) * 0.995,
                "close": close,
                "volume": 1e6,
            },
            index=idx,
        )
    return out


def vbt_sizes(weights: pd.DataFrame, rebalance: str) -> pd.DataFrame:
    """The weights phi decides at t's close, on row t+1 (NaN elsewhere): vectorbt's orders."""
    w = weights.to_numpy()
    kind, x = _parse_rebalance(rebalance)
    decide = _decisions(w, weights.index, kind, x)
    size = np.full_like(w, np.nan)
    rows = np.flatnonzero(decide[:-1])
    size[rows + 1] = w[rows]
    return pd.DataFrame(size, index=weights.index.tz_localize(None), columns=weights.columns)


def run_vbt(opens: pd.DataFrame, closes: pd.DataFrame, size: pd.DataFrame, engine: str) -> Any:
    import vectorbt as vbt

    return vbt.Portfolio.from_orders(
        close=closes,
        size=size,
        size_type="targetpercent",
        price=opens,
        init_cash=CAPITAL,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        freq="1D",
        engine=engine,
    )


def best_of(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    for fn in fns.values():
        fn()
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def case(
    name: str, bars: dict[str, pd.DataFrame], weights: pd.DataFrame, rebalance: str, repeat: int
) -> dict[str, Any]:
    cfg = PortfolioConfig(initial_capital=CAPITAL, rebalance=rebalance)
    opens = pd.DataFrame({s: b["open"] for s, b in bars.items()}).tz_localize(None)
    closes = pd.DataFrame({s: b["close"] for s, b in bars.items()}).tz_localize(None)
    size = vbt_sizes(weights, rebalance)
    res = run_portfolio(bars, weights, cfg)
    fns: dict[str, Callable[[], Any]] = {"phi": lambda: run_portfolio(bars, weights, cfg)}
    engines = []
    for engine in ("rust", "numba"):
        try:
            run_vbt(opens, closes, size, engine)
        except Exception as exc:  # an engine vectorbt was installed without
            print(f"vectorbt engine {engine!r} unavailable: {exc}", file=sys.stderr)
            continue
        engines.append(engine)
        fns[f"vbt_{engine}"] = lambda e=engine: float(run_vbt(opens, closes, size, e).final_value())
    times = best_of(fns, repeat)
    row: dict[str, Any] = {
        "case": name,
        "assets": len(bars),
        "bars": N_BARS,
        "fills": len(res.fills),
        "phi_s": times["phi"],
    }
    phi_eq = res.equity.to_numpy()
    for engine in engines:
        pf = run_vbt(opens, closes, size, engine)
        vbt_eq = pf.value().to_numpy()
        row[f"vbt_{engine}_s"] = times[f"vbt_{engine}"]
        row[f"x_vbt_{engine}"] = times[f"vbt_{engine}"] / times["phi"]
        row[f"final_rel_diff_{engine}"] = abs(phi_eq[-1] / vbt_eq[-1] - 1.0)
        row[f"curve_max_rel_diff_{engine}"] = float(np.max(np.abs(phi_eq / vbt_eq - 1.0)))
        row[f"vbt_orders_{engine}"] = int(pf.orders.count())
    row["phi_final_equity"] = float(phi_eq[-1])
    return row


def table(rows: list[dict[str, Any]]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |")
    return "\n".join(out)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument(
        "--write", action="store_true", help="replace the Portfolio section of RESULTS.md"
    )
    args = ap.parse_args(argv)
    import vectorbt as vbt

    load0 = os.getloadavg()[0]
    bars4 = make_bars(4, N_BARS, seed=1)
    closes4 = pd.DataFrame({s: b["close"] for s, b in bars4.items()})
    rot = momentum_rotation_weights(closes4, lookback=20, every=5, top_n=1)
    bars100 = make_bars(100, N_BARS, seed=2)
    closes100 = pd.DataFrame({s: b["close"] for s, b in bars100.items()})
    ew = equal_weight(closes100)
    rows = [
        case("(a) 4-asset momentum rotation", bars4, rot, "on_change", args.repeat),
        case("(b) 100-asset equal weight, monthly", bars100, ew, "monthly", args.repeat),
    ]
    load1 = os.getloadavg()[0]
    lines = [
        f"Run {time.strftime('%Y-%m-%d')}: `benchmarks/bench_portfolio.py` on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, numba {numba.__version__}, vectorbt {vbt.__version__}. Best of "
        f"{args.repeat} interleaved rounds. Load average at the start {load0:.2f}, at the end {load1:.2f}.",
        "",
        *(
            [
                "The machine was shared with other jobs during this run, so absolute times vary "
                "by 2-3x between runs; the ratios are timed interleaved in one process.",
                "",
            ]
            if max(load0, load1) > 2
            else []
        ),
        "### Against the targets",
        "",
    ]
    for r in rows:
        for engine in ("rust", "numba"):
            if f"x_vbt_{engine}" in r:
                x = r[f"x_vbt_{engine}"]
                d = r[f"final_rel_diff_{engine}"]
                lines.append(
                    f"- {r['case']} vs vectorbt ({engine}): **{'met' if x >= 2 else 'not met'}** — "
                    f"{x:.2f}x (target 2x); final equity relative difference {d:.1e} "
                    f"({'equal' if d < 1e-9 else 'NOT equal'} to 1e-9)."
                )
    lines += ["", table(rows), ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        doc = RESULTS.read_text()
        section = "## Portfolio\n\n" + __doc__.split("\n\n", 1)[1].split("Timings are")[0].strip()
        section += (
            " Timings are the best of interleaved rounds after a warm-up call each.\n\n" + text
        )
        # up to the next section, or the "### Audit on unseen data" subsection (by hand; kept)
        pat = re.compile(r"## Portfolio\n.*?(?=\n## |\n### Audit on unseen data|\Z)", re.S)
        doc = (
            pat.sub(section.rstrip() + "\n", doc)
            if pat.search(doc)
            else doc.rstrip() + "\n\n" + section
        )
        tmp = RESULTS.with_suffix(".md.tmp")
        tmp.write_text(doc)
        tmp.replace(RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
