"""Raw indicators: Phi-nance vs TA-Lib vs plain pandas on 1,000,000 bars, in one process.

Run ``.venv/bin/python benchmarks/bench_indicators.py`` (``--bars N``, ``--repeat R``,
``--no-write``). Prints a table and, unless ``--no-write``, replaces the "## Indicators"
section of ``benchmarks/RESULTS.md``. Times are the best of ``R`` runs after a warm-up call
(numba compiled, caches hot). Ratios are peer time / Phi-nance time: > 1 means Phi-nance is
faster; the target is >= 0.67 against TA-Lib (within 1.5x).

"Phi kernel" calls the numba kernels on arrays, like calling ``talib`` on arrays; "Phi API"
is ``phi.indicators.registry.compute_raw`` on the frame (parameter and NaN checks, columns
to arrays, a DataFrame out).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import talib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._frames import make_frame  # noqa: E402
from phi._io import atomic_write_text  # noqa: E402
from phi.indicators import _nb  # noqa: E402
from phi.indicators.registry import (  # noqa: E402
    _check_frame,
    compute_all_signals,
    compute_raw,
    list_indicators,
)

RESULTS = Path(__file__).with_name("RESULTS.md")


def best_of(fns: list[Callable[[], object] | None], repeat: int) -> list[float | None]:
    """Best time of each function over ``repeat`` rounds, the functions interleaved (in a
    shuffled order) in each round so that a change of machine load hits all of them alike."""
    for fn in fns:
        if fn is not None:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    shuffle = random.Random(0).shuffle
    for _ in range(repeat):
        # a new order each round: the call after a big free (pandas) pays the page faults
        shuffle(order)
        for i in order:
            fn = fns[i]
            if fn is not None:
                t0 = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - t0)
    return [min(acc) if acc else None for acc in times]


def best(fn: Callable[[], object], repeat: int) -> float:
    t = best_of([fn], repeat)[0]
    assert t is not None
    return t


# ---------------------------------------------------------------------------- plain pandas


def pd_rsi(c: pd.Series, p: int) -> pd.Series:
    d = c.diff()
    up = d.clip(lower=0).ewm(alpha=1 / p, adjust=False, min_periods=p).mean()
    dn = (-d).clip(lower=0).ewm(alpha=1 / p, adjust=False, min_periods=p).mean()
    return 100 * up / (up + dn)


def pd_macd(c: pd.Series) -> pd.DataFrame:
    m = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
    s = m.ewm(span=9, adjust=False).mean()
    return pd.DataFrame({"macd": m, "signal": s, "hist": m - s})


def pd_bbands(c: pd.Series) -> pd.DataFrame:
    mid, sd = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
    return pd.DataFrame({"upper": mid + 2 * sd, "middle": mid, "lower": mid - 2 * sd})


def pd_stoch(df: pd.DataFrame) -> pd.DataFrame:
    hh, ll = df["high"].rolling(14).max(), df["low"].rolling(14).min()
    k = (100 * (df["close"] - ll) / (hh - ll)).rolling(3).mean()
    return pd.DataFrame({"slowk": k, "slowd": k.rolling(3).mean()})


def pd_tr(df: pd.DataFrame) -> pd.Series:
    pc = df["close"].shift()
    return pd.concat(
        [df["high"] - df["low"], (df["high"] - pc).abs(), (df["low"] - pc).abs()], axis=1
    ).max(axis=1)


def pd_atr(df: pd.DataFrame, p: int = 14) -> pd.Series:
    return pd_tr(df).ewm(alpha=1 / p, adjust=False, min_periods=p).mean()


def pd_atr_ratio(df: pd.DataFrame) -> pd.DataFrame:
    a = pd_atr(df)
    avg = a.rolling(50).mean()
    return pd.DataFrame({"atr": a, "atr_sma": avg, "ratio": a / avg})


def pd_range_pos(df: pd.DataFrame) -> pd.DataFrame:
    hh, ll = df["high"].rolling(20).max(), df["low"].rolling(20).min()
    return pd.DataFrame({"highest": hh, "lowest": ll, "position": (df["close"] - ll) / (hh - ll)})


def pd_adx(df: pd.DataFrame, p: int = 14) -> pd.DataFrame:
    up, dn = df["high"].diff(), -df["low"].diff()
    pdm = up.where((up > dn) & (up > 0), 0.0)
    mdm = dn.where((dn > up) & (dn > 0), 0.0)
    tr = pd_tr(df).ewm(alpha=1 / p, adjust=False).mean()
    pdi = 100 * pdm.ewm(alpha=1 / p, adjust=False).mean() / tr
    mdi = 100 * mdm.ewm(alpha=1 / p, adjust=False).mean() / tr
    adx = (100 * (pdi - mdi).abs() / (pdi + mdi)).ewm(alpha=1 / p, adjust=False).mean()
    return pd.DataFrame({"adx": adx, "plus_di": pdi, "minus_di": mdi})


def pd_cmf(df: pd.DataFrame, p: int = 20) -> pd.Series:
    h, lo, c, v = df["high"], df["low"], df["close"], df["volume"]
    mfv = (((c - lo) - (h - c)) / (h - lo)).fillna(0.0) * v
    return mfv.rolling(p).sum() / v.rolling(p).sum()


def pd_vwap(df: pd.DataFrame, p: int = 20) -> pd.Series:
    tp = (df["high"] + df["low"] + df["close"]) / 3
    return (tp * df["volume"]).rolling(p).sum() / df["volume"].rolling(p).sum()


def pd_wyckoff(df: pd.DataFrame, p: int = 30) -> pd.DataFrame:
    c, v = df["close"], df["volume"]
    sv = v.rolling(p).sum()
    vwma = (c * v).rolling(p).sum() / sv
    bal = (np.sign(c.diff()) * v).rolling(p).sum() / sv
    return pd.DataFrame({"vwma": vwma, "price_dev": (c - vwma) / vwma, "volume_balance": bal})


# ---------------------------------------------------------------------------- cases


def cases(df: pd.DataFrame) -> list[tuple[str, str, dict, Callable, Callable | None, Callable]]:
    """(label, registry name, params or None (no API row), phi kernel, talib call, pandas call)."""
    o, h, lo, c, v = (
        np.ascontiguousarray(df[k].to_numpy()) for k in ("open", "high", "low", "close", "volume")
    )
    s = df["close"]
    ma = talib.MA_Type.SMA

    def atr_ratio_nb():
        a = _nb.atr_nb(h, lo, c, 14)
        avg = _nb.rolling_mean_nb(a, 50, 14)
        return a, avg, _nb.ratio_nb(a, avg, 63)

    def atr_ratio_ta():
        a = talib.ATR(h, lo, c, 14)
        avg = talib.SMA(a, 50)
        return a, avg, a / avg

    def range_pos_nb():
        hh, ll = _nb.rolling_max_nb(h, 20), _nb.rolling_min_nb(lo, 20)
        return hh, ll, _nb.range_position_nb(c, hh, ll, 19)

    def range_pos_ta():
        hh, ll = talib.MAX(h, 20), talib.MIN(lo, 20)
        return hh, ll, (c - ll) / (hh - ll)

    return [
        ("RSI(14)", "rsi", {"period": 14}, lambda: _nb.rsi_nb(c, 14, False), lambda: talib.RSI(c, 14), lambda: pd_rsi(s, 14)),
        ("MACD(12,26,9)", "macd", {}, lambda: _nb.macd_nb(c, 12, 26, 9), lambda: talib.MACD(c, 12, 26, 9), lambda: pd_macd(s)),
        ("BBANDS(20,2)", "bollinger", {}, lambda: _nb.bbands_nb(c, 20, 2.0), lambda: talib.BBANDS(c, 20, 2.0, 2.0, ma), lambda: pd_bbands(s)),
        ("STOCH(14,3,3)", "stochastic", {}, lambda: _nb.stoch_nb(h, lo, c, 14, 3, 3, 0.0), lambda: talib.STOCH(h, lo, c, 14, 3, ma, 3, ma), lambda: pd_stoch(df)),
        ("SMA(10)+SMA(50)", "dual_sma", {}, lambda: (_nb.sma_nb(c, 10, 0), _nb.sma_nb(c, 50, 0)), lambda: (talib.SMA(c, 10), talib.SMA(c, 50)), lambda: (s.rolling(10).mean(), s.rolling(50).mean())),
        ("EMA(9)+EMA(21)", "ema_crossover", {}, lambda: (_nb.ema_nb(c, 9, 0.2, 8), _nb.ema_nb(c, 21, 2 / 22, 20)), lambda: (talib.EMA(c, 9), talib.EMA(c, 21)), lambda: (s.ewm(span=9, adjust=False).mean(), s.ewm(span=21, adjust=False).mean())),
        ("MOM(10)", "momentum", {}, lambda: _nb.mom_nb(c, 10), lambda: talib.MOM(c, 10), lambda: s.diff(10)),
        ("ROC(10)", "roc", {}, lambda: _nb.roc_nb(c, 10), lambda: talib.ROC(c, 10), lambda: s.pct_change(10) * 100),
        ("ATR(14)", "atr_ratio", None, lambda: _nb.atr_nb(h, lo, c, 14), lambda: talib.ATR(h, lo, c, 14), lambda: pd_atr(df)),
        ("ATR(14), its SMA(50), ratio", "atr_ratio", {}, atr_ratio_nb, atr_ratio_ta, lambda: pd_atr_ratio(df)),
        ("ADX+PLUS_DI+MINUS_DI(14)", "adx", {}, lambda: _nb.adx_nb(h, lo, c, 14), lambda: (talib.ADX(h, lo, c, 14), talib.PLUS_DI(h, lo, c, 14), talib.MINUS_DI(h, lo, c, 14)), lambda: pd_adx(df)),
        ("MAX+MIN(20)", "range_pos", None, lambda: (_nb.rolling_max_nb(h, 20), _nb.rolling_min_nb(lo, 20)), lambda: (talib.MAX(h, 20), talib.MIN(lo, 20)), lambda: (df["high"].rolling(20).max(), df["low"].rolling(20).min())),
        ("MAX, MIN(20), position", "range_pos", {}, range_pos_nb, range_pos_ta, lambda: pd_range_pos(df)),
        ("CMF(20)", "cmf", {}, lambda: _nb.cmf_nb(h, lo, c, v, 20), None, lambda: pd_cmf(df)),
        ("VWAP(20)", "vwap_dev", {}, lambda: _nb.vwap_nb((h + lo + c) / 3.0, v, 20), None, lambda: pd_vwap(df)),
        ("Wyckoff inputs(30)", "wyckoff", {}, None, None, lambda: pd_wyckoff(df)),
    ]  # fmt: skip


def ms(t: float | None) -> str:
    return "–" if t is None else f"{t * 1e3:.1f}"


def ratio(peer: float | None, ours: float | None) -> str:
    return "–" if peer is None or ours is None else f"{peer / ours:.2f}"


def run(n: int, repeat: int) -> str:
    df = make_frame(n)
    names = list_indicators()[:14]
    t0 = time.perf_counter()
    compute_all_signals(df.iloc[:500], names)  # load the numba cache (or compile)
    first = time.perf_counter() - t0
    rows = []
    for label, name, params, kernel, ta, pdf in cases(df):
        api = (
            None
            if params is None
            else (lambda name=name, params=params: compute_raw(name, df, params))
        )
        t_k, t_api, t_ta, t_pd = best_of([kernel, api, ta, pdf], repeat)
        assert t_pd is not None
        rows.append((label, name, t_k, t_api, t_ta, t_pd))
    t_check = best(lambda: _check_frame(df, ["close"]), repeat)
    t_all = best(lambda: compute_all_signals(df, names), max(1, repeat // 2))
    t_sig = {
        nm: best(lambda nm=nm: compute_all_signals(df, [nm]), max(1, repeat // 2)) for nm in names
    }

    lines = [
        f"`benchmarks/bench_indicators.py`, {n:,} one-minute bars, best of {repeat}, "
        f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, TA-Lib {talib.__version__}, {os.cpu_count()} CPUs, one process. "
        "Ratio = peer time / Phi-nance time (> 1: Phi-nance faster); target vs TA-Lib >= 0.67 (within 1.5x).",
        "",
        "| raw indicator | registry name | Phi kernel [ms] | Phi API `compute_raw` [ms] | TA-Lib [ms] | pandas [ms] "
        "| TA-Lib / Phi kernel | TA-Lib / Phi API | pandas / Phi API |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, name, t_k, t_api, t_ta, t_pd in rows:
        lines.append(
            f"| {label} | {name} | {ms(t_k)} | {ms(t_api)} | {ms(t_ta)} | {ms(t_pd)} "
            f"| {ratio(t_ta, t_k)} | {ratio(t_ta, t_api)} | {ratio(t_pd, t_api)} |"
        )
    lines += [
        "",
        f"The API column includes input validation that TA-Lib does not do: every input column is "
        f"checked for NaN/inf in one summation pass, {t_check * 1e3:.2f} ms per column here, which is "
        "most of the gap between the kernel and the API on the cheapest indicators (MOM, SMA).",
        "",
        f"All 14 signals (`compute_all_signals`, default parameters) on {n:,} bars: **{t_all:.2f} s** "
        f"(first call in a fresh process, numba cache load included, on 500 bars: {first:.2f} s).",
        "",
        "| signal | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        "| time [ms] | " + " | ".join(f"{t_sig[nm] * 1e3:.0f}" for nm in names) + " |",
    ]
    return "\n".join(lines) + "\n"


def write_section(body: str) -> None:
    text = (
        RESULTS.read_text(encoding="utf-8")
        if RESULTS.exists()
        else "# Benchmark results\n\n## Indicators\n"
    )
    pattern = re.compile(r"(^## Indicators\n)(.*?)(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: m.group(1) + "\n" + body + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n## Indicators\n\n" + body
    atomic_write_text(RESULTS, text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args()
    body = run(args.bars, args.repeat)
    print(body)
    if not args.no_write:
        write_section(body)
        print(f"-> section '## Indicators' of {RESULTS}")


if __name__ == "__main__":
    main()
