"""Options benchmarks: Black-Scholes-Merton pricing, greeks, implied vol and the options backtest.

Run ``.venv/bin/python benchmarks/bench_options.py`` (``--n 200000`` for a quicker run,
``--write`` to replace the "## Options" section of ``benchmarks/RESULTS.md``).

(a) 1,000,000 prices + deltas (random spot, strike, expiry, vol; one rate and dividend yield):
    ``bs_price_delta`` against the floor, a plain NumPy + ``scipy.special.ndtr`` implementation
    of the same formulas with no validation and no limit handling;
(b) all five greeks (``bs_greeks``) on the same 1,000,000 options;
(c) QuantLib's ``AnalyticEuropeanEngine`` looped (NPV + delta) over ``--ql`` options,
    extrapolated linearly to 1,000,000;
(d) implied vol of the 1,000,000 prices of (a) (``implied_vol_detail``), and how many round-trip;
(e) a 10-year daily options backtest (2,520 bars, bull call spread, a 20-bar momentum signal)
    end to end, numba cache warm;
(f) py_vollib_vectorized (the ``bench`` extra, pinned ``py_vollib==1.0.1``,
    ``py_lets_be_rational==1.0.1``) on the same options: prices + deltas, the five greeks and
    implied vols, its prices checked against ours to 1e-8 (skipped with a note if not installed).

Each time is the best of ``--repeat`` interleaved rounds after a warm-up call (py_vollib_vectorized:
``--pvv-repeat``; its first call compiles for tens of seconds and is not counted).
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

import numpy as np
from scipy.special import ndtr

from phi.options.black_scholes import bs_greeks, bs_price_delta, implied_vol_detail

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def plain_price_delta(s, k, t, r, q, v):  # noqa: ANN001, ANN201
    """The floor: textbook NumPy + ndtr call price and delta, nothing else."""
    sq = v * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * t) / sq
    d2 = d1 - sq
    dq = np.exp(-q * t)
    n1 = ndtr(d1)
    return s * dq * n1 - k * np.exp(-r * t) * ndtr(d2), dq * n1


def best(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    for f in fns.values():
        f()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return {name: min(v) for name, v in times.items()}


def quantlib_per_option(n: int, s, k, t, v, r, q) -> float:  # noqa: ANN001
    import QuantLib as ql

    today = ql.Date(15, 1, 2024)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    spot = ql.SimpleQuote(100.0)
    vol = ql.SimpleQuote(0.2)
    rates = ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc, ql.Continuous))
    divs = ql.YieldTermStructureHandle(ql.FlatForward(today, q, dc, ql.Continuous))
    vols = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(today, ql.NullCalendar(), ql.QuoteHandle(vol), dc)
    )
    process = ql.BlackScholesMertonProcess(ql.QuoteHandle(spot), divs, rates, vols)
    engine = ql.AnalyticEuropeanEngine(process)
    t0 = time.perf_counter()
    for i in range(n):
        spot.setValue(float(s[i]))
        vol.setValue(float(v[i]))
        days = max(1, int(round(t[i] * 365)))
        opt = ql.VanillaOption(
            ql.PlainVanillaPayoff(ql.Option.Call, float(k[i])), ql.EuropeanExercise(today + days)
        )
        opt.setPricingEngine(engine)
        opt.NPV()
        opt.delta()
    return (time.perf_counter() - t0) / n


def backtest_seconds(repeat: int) -> tuple[float, int]:
    import pandas as pd

    from phi.backtest.engine_config import EngineConfig
    from phi.options.config import OptionsConfig
    from phi.options.simulator import run_options_backtest

    rng = np.random.default_rng(1)
    n = 2520
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, n)))
    idx = pd.bdate_range("2015-01-02", periods=n, tz="UTC")
    df = pd.DataFrame(
        {"open": close, "high": close * 1.005, "low": close * 0.995, "close": close, "volume": 1e6},
        index=idx,
    )
    sig = (df["close"].pct_change(20) * 10).clip(-1, 1)
    cfg = OptionsConfig(structure="bull_call_spread", dte=45)
    res = run_options_backtest(df, sig, cfg, EngineConfig(entry_threshold=0.3))
    t = best(
        {"bt": lambda: run_options_backtest(df, sig, cfg, EngineConfig(entry_threshold=0.3))},
        repeat,
    )
    return t["bt"], len(res.trades)


def pvv_rows(s, k, t, v, r, q, ours_p, repeat: int) -> list[tuple[str, float, str]]:  # noqa: ANN001
    """(f) py_vollib_vectorized beside ours on the same options (``[]`` if not installed)."""
    import warnings

    try:
        from py_vollib_vectorized import vectorized_black_scholes_merton
        from py_vollib_vectorized.greeks import delta, gamma, rho, theta, vega
        from py_vollib_vectorized.implied_volatility import vectorized_implied_volatility
    except ImportError:
        return []
    flag = np.full(len(s), "c")
    rr, qq = np.full(len(s), r), np.full(len(s), q)  # its rho refuses scalar rates
    kw = {"model": "black_scholes_merton", "return_as": "numpy"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def price_delta() -> object:
            return (vectorized_black_scholes_merton(flag, s, k, t, rr, v, qq, return_as="numpy"),
                    delta(flag, s, k, t, rr, v, qq, **kw))  # fmt: skip

        def greeks() -> object:
            return [g(flag, s, k, t, rr, v, qq, **kw) for g in (delta, gamma, vega, theta, rho)]

        def ivs() -> object:
            return vectorized_implied_volatility(ours_p, s, k, t, rr, flag, qq, model="black_scholes_merton",
                                                 return_as="numpy")  # fmt: skip

        p, d = price_delta()  # type: ignore[misc]
        err = float(np.max(np.abs(p - ours_p) / np.maximum(np.abs(ours_p), 1.0)))
        assert err < 1e-8, f"py_vollib_vectorized prices differ from ours by {err:.1e}"
        ours_d = bs_price_delta(s, k, t, r, q, v, "call")[1]
        # ours again in the same interleaved rounds, so a busy machine slows both alike
        t_pvv = best({"pd": price_delta, "ours": lambda: bs_price_delta(s, k, t, r, q, v, "call"),
                      "g": greeks, "og": lambda: bs_greeks(s, k, t, r, q, v, "call")}, repeat)  # fmt: skip
        t_iv = best({"iv": ivs, "oiv": lambda: implied_vol_detail(ours_p, s, k, t, r, q, "call")}, max(1, repeat // 2))
    scale = 1_000_000 / len(s)
    return [
        ("(f) py_vollib_vectorized prices + deltas", t_pvv["pd"] * scale,
         f"prices agree with ours to {err:.0e} (relative, floor 1); ours is "
         f"{t_pvv['pd'] / t_pvv['ours']:.1f}x faster (goal >= 5x); its deltas differ from ours (and QuantLib) "
         f"by up to {float(np.max(np.abs(d - ours_d))):.0e}"),
        ("(f) py_vollib_vectorized five greeks", t_pvv["g"] * scale,
         f"ours is {t_pvv['g'] / t_pvv['og']:.1f}x faster; its units: vega per 1 %, theta per day, rho bumps r and q together"),
        ("(f) py_vollib_vectorized implied vol", t_iv["iv"] * scale, f"ours is {t_iv['iv'] / t_iv['oiv']:.1f}x faster"),
    ]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--ql", type=int, default=20_000)
    ap.add_argument("--pvv-repeat", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    n = args.n
    rng = np.random.default_rng(0)
    s = rng.uniform(50, 150, n)
    k = rng.uniform(50, 150, n)
    t = rng.uniform(0.05, 2.0, n)
    v = rng.uniform(0.1, 0.6, n)
    r, q = 0.03, 0.01
    ours_p, ours_d = bs_price_delta(s, k, t, r, q, v, "call")
    ref_p, ref_d = plain_price_delta(s, k, t, r, q, v)
    assert np.allclose(ours_p, ref_p, rtol=1e-12, atol=1e-12) and np.allclose(
        ours_d, ref_d, rtol=1e-12
    )
    times = best(
        {
            "plain": lambda: plain_price_delta(s, k, t, r, q, v),
            "ours": lambda: bs_price_delta(s, k, t, r, q, v, "call"),
            "greeks": lambda: bs_greeks(s, k, t, r, q, v, "call"),
        },
        args.repeat,
    )
    iv_t = best(
        {"iv": lambda: implied_vol_detail(ours_p, s, k, t, r, q, "call")}, max(2, args.repeat // 3)
    )["iv"]
    iv, reason = implied_vol_detail(ours_p, s, k, t, r, q, "call")
    solved = float(np.mean(reason == 0))
    unsolved = {
        int(c): int(m)
        for c, m in zip(*np.unique(reason[reason != 0], return_counts=True), strict=True)
    }
    max_err = float(np.nanmax(np.abs(iv[reason == 0] - v[reason == 0])))
    ql_each = quantlib_per_option(args.ql, s, k, t, v, r, q)
    bt, bt_trades = backtest_seconds(args.repeat)
    pvv = pvv_rows(s, k, t, v, r, q, ours_p, args.pvv_repeat)
    scale = 1_000_000 / n
    rows = [
        ("(a) prices + deltas, plain NumPy + ndtr (floor)", times["plain"] * scale, ""),
        (
            "(a) prices + deltas, `bs_price_delta`",
            times["ours"] * scale,
            f"{times['ours'] / times['plain']:.2f}x the floor (goal <= 1.2x)",
        ),
        ("(b) all five greeks, `bs_greeks`", times["greeks"] * scale, "goal <= 0.3 s"),
        (
            "(c) QuantLib AnalyticEuropeanEngine looped, NPV + delta",
            ql_each * 1_000_000,
            f"extrapolated from {args.ql:,}; ours is {ql_each * 1_000_000 / (times['ours'] * scale):.0f}x faster (goal >= 100x)",
        ),
        (
            "(d) implied vol, `implied_vol_detail`",
            iv_t * scale,
            f"{solved:.2%} solved, largest error against the true vol {max_err:.1e}; "
            f"NaN with a reason: {unsolved} (6 = the price does not pin the vol down to 1e-6)",
        ),
        (
            "(e) 10-year daily options backtest, end to end",
            bt,
            f"2,520 bars, {bt_trades} trades (goal < 1 s)",
        ),
        *pvv,
    ]
    lines = [
        "## Options",
        "",
        f"`benchmarks/bench_options.py`, {platform.machine()} {platform.processor() or ''}, "
        f"Python {sys.version.split()[0]}, best of {args.repeat} interleaved rounds, 1,000,000 "
        f"options (measured on {n:,}, scaled linearly). Shared 2-core machine (load average "
        f"{load:.1f} at the start): times grow with the load; the ratios move by +/-0.2 between runs "
        "(py_vollib_vectorized's against ours re-measured in the same interleaved rounds).",
        "",
        "| measure | seconds for 1M (or per run) | note |",
        "|---|---:|---|",
        *(f"| {a} | {b:.3f} | {c} |" for a, b, c in rows),
        "",
        *(
            ["py_vollib_vectorized 0.1.1 (with py_vollib 1.0.1, py_lets_be_rational 1.0.1), its "
             "numba compilation excluded. Its greeks are checked against ours, which match QuantLib "
             "to 1e-10 (tests/options)."]
            if pvv
            else ["py_vollib_vectorized is not installed: `pip install -e .[bench]` (it needs the "
                  "pins in the bench extra) to measure it."]
        ),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        old = RESULTS.read_text(encoding="utf-8")
        # up to the next section, or the "### Accounting audit" subsection (written by hand; kept)
        pattern = re.compile(r"## Options\n.*?(?=\n## |\n### Accounting audit|\Z)", re.S)
        new = (
            pattern.sub(lambda _: text.rstrip("\n") + "\n", old)
            if pattern.search(old)
            else old.rstrip("\n") + "\n\n" + text
        )
        tmp = RESULTS.with_suffix(".md.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
