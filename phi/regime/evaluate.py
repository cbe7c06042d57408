"""Evaluation harness: how well the regime engine and two one-feature baselines find regimes.

For every labelled family of :mod:`phi.regime.families` (and any real OHLCV frame, labelled ex
post by :func:`~phi.regime.families.ex_post_labels`) it reports, on the bars after the
warm-up (``skip`` bars):

* ``auc_trend`` -- trend (up/down) vs range AUC of ``P(TREND) / (P(TREND) + P(RANGE))``;
  baseline ``er30_auc_trend``: the 30-bar efficiency ratio ``|sum r| / sum |r|``;
* ``auc_highvol`` / ``auc_lowvol`` -- AUC of ``P(HIGHVOL)`` for the "high" label and of
  ``P(LOWVOL)`` for "low"; baselines ``rv_auc_highvol`` / ``rv_auc_lowvol``: the percentile of
  the trailing 20-bar realised vol among the last 250 bars' values (1 - it for LOWVOL);
* ``bal_acc`` -- balanced accuracy of the dominant regime against the true bin (HIGHVOL /
  LOWVOL when the vol label is high / low, else TREND_UP / TREND_DN / RANGE); baseline
  ``base_bal_acc``: HIGHVOL if the vol percentile >= 2/3, LOWVOL if <= 1/3, else TREND_UP /
  TREND_DN (sign of the 30-bar return) if ER30 >= 0.3, else RANGE;
* ``median_run`` / ``base_median_run`` -- median length of a dominant-regime run, in bars;
* ``spearman_dir_vol`` -- Spearman correlation of P(DIR) with the true vol state (0, 1, 2) on
  bars labelled range: the direction kingdom should not move with volatility alone;
* ``ic`` / ``mom_ic`` -- next-bar information coefficient (Spearman with r_(t+1)) of the
  composite signal and of a momentum baseline (the 20-bar log return);
* ``dominant_<REGIME>`` -- share of scored bars on which each of the 8 bins is dominant;
* ``hit_rate`` -- share of labelled bars whose dominant regime is the true bin, and
  ``auc_hit_<measure>`` -- how well a per-bar measure ranks those right bars above the wrong
  ones (0.5: it says nothing about when the dominant regime is right), for the measures of
  :data:`HIT_MEASURES`: the engine's ``confidence`` (c_field x c_consensus), ``c_field``
  (1 - normalised entropy of the 8 bins), ``p_top`` (the top probability) and ``margin`` (top
  minus second probability).

AUCs are NaN where a family has only one class (e.g. no trends in ``garch``).
``python -m phi.regime.evaluate [--n N] [--seed S] [--csv FILE ...] [--lofo] [--confidence]`` prints
the tables.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from phi.regime import _nb
from phi.regime.config import MFTConfig
from phi.regime.engine import RegimeEngine, top_two_margin
from phi.regime.families import FAMILIES, Labelled, ex_post_labels, make_family
from phi.regime.features import regime_bars
from phi.regime.metrics import balanced_accuracy, median_run, roc_auc, spearman
from phi.regime.taxonomy import REGIMES

__all__ = [
    "HIT_MEASURES",
    "SKIP",
    "baselines",
    "evaluate_families",
    "hit_aucs",
    "hit_markdown",
    "hit_measures",
    "score",
    "to_markdown",
    "truth_bins",
]

#: bars left out at the start of every series (the engine's long windows warming up)
SKIP = 300
ER_WINDOW, RV_WINDOW, RV_RANK_WINDOW = 30, 20, 250
#: per-bar measures whose ranking of "the dominant regime is right" is scored (``auc_hit_<name>``)
HIT_MEASURES = ("confidence", "c_field", "p_top", "margin")


def truth_bins(direction: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """The true 8-bin regime per bar (None where unlabelled)."""
    out = np.full(len(direction), None, dtype=object)
    name = {"up": "TREND_UP", "down": "TREND_DN", "range": "RANGE"}
    for d, r in name.items():
        out[direction == d] = r
    out[vol == "high"] = "HIGHVOL"
    out[vol == "low"] = "LOWVOL"
    out[(vol != "high") & (vol != "low") & (direction == None)] = None  # noqa: E711
    return out


def baselines(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """ER30, the trailing 20-bar realised-vol percentile (250 bars), the 30-bar return and the
    baseline's dominant regime (see the module doc), all causal; ``ohlcv`` as
    :func:`phi.regime.features.regime_bars` takes it (only the closes are read)."""
    ohlcv = regime_bars(ohlcv, ("close",))
    c = ohlcv["close"].to_numpy(dtype=np.float64)
    r = np.diff(np.log(c), prepend=np.nan)
    er = _nb.efficiency_ratio_nb(r, ER_WINDOW, ER_WINDOW // 2, 1e-12)
    rv = _nb.rolling_mean_std_nb(r, RV_WINDOW, RV_WINDOW // 2, 1)[1]
    pct = _nb.rolling_percentile_nb(rv, RV_RANK_WINDOW, 20)
    ret30 = np.full_like(c, np.nan)
    ret30[ER_WINDOW:] = np.log(c[ER_WINDOW:] / c[:-ER_WINDOW])
    dom = np.where(ret30 >= 0, "TREND_UP", "TREND_DN").astype(object)
    dom[er < 0.3] = "RANGE"
    dom[pct >= 2 / 3] = "HIGHVOL"
    dom[pct <= 1 / 3] = "LOWVOL"
    dom[np.isnan(er) | np.isnan(pct)] = None
    mom = np.full_like(c, np.nan)
    mom[20:] = np.log(c[20:] / c[:-20])
    return pd.DataFrame(
        {"er30": er, "rv_pct": pct, "dominant": dom, "momentum": mom}, index=ohlcv.index
    )


def hit_measures(probs: np.ndarray, mix: pd.DataFrame) -> dict[str, np.ndarray]:
    """The measures of :data:`HIT_MEASURES` per bar from the regime probabilities (bars, 8) and
    the engine's ``mix`` frame (same bars); ``margin`` is the engine's
    (:func:`phi.regime.engine.top_two_margin`, ``RegimeResult.margin``)."""
    p = np.asarray(probs, dtype=np.float64)
    return {
        "confidence": mix["confidence"].to_numpy(dtype=np.float64),
        "c_field": mix["c_field"].to_numpy(dtype=np.float64),
        "p_top": np.max(p, axis=1),
        "margin": top_two_margin(p),
    }


def hit_aucs(measures: dict[str, np.ndarray], dominant: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """``hit_rate`` and ``auc_hit_<name>`` (see the module doc) on the bars whose truth is known
    (``truth`` None elsewhere)."""
    known = np.asarray(truth, dtype=object) != None  # noqa: E711
    hit = (np.asarray(dominant, dtype=object) == np.asarray(truth, dtype=object))[known]
    out = {"hit_rate": float(np.mean(hit)) if hit.size else float("nan")}
    for name, values in measures.items():
        out[f"auc_hit_{name}"] = roc_auc(np.asarray(values, dtype=np.float64)[known], hit)
    return out


def _ic(signal: np.ndarray, next_ret: np.ndarray) -> float:
    return spearman(signal, next_ret)


def score(
    labelled: Labelled, config: MFTConfig | None = None, skip: int = SKIP
) -> dict[str, float]:
    """All figures of the module doc for one labelled series (its bars as the engine takes them)."""
    df = regime_bars(labelled.ohlcv)
    res = RegimeEngine(config).run(df)
    k = max(skip, res.warmup)
    probs = res.regime_probs.to_numpy()[k:]
    base = baselines(df).iloc[k:]
    d = labelled.direction[k:]
    v = labelled.vol[k:]
    trend = probs[:, 0] + probs[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = trend / (trend + probs[:, 2])
    dirm = np.isin(d, ["up", "down", "range"])
    is_trend = np.isin(d, ["up", "down"])
    volm = np.isin(v, ["low", "normal", "high"])
    truth = truth_bins(d, v)
    tm = truth != None  # noqa: E711
    dom = res.dominant_regime().to_numpy()[k:]
    bdom = base["dominant"].to_numpy()
    c = df["close"].to_numpy(dtype=np.float64)
    nxt = np.full(len(c), np.nan)
    nxt[:-1] = np.log(c[1:] / c[:-1])
    nxt = nxt[k:]
    er = base["er30"].to_numpy()
    pct = base["rv_pct"].to_numpy()
    rng_bars = d == "range"
    vcode = np.select([v == "low", v == "normal", v == "high"], [0.0, 1.0, 2.0], np.nan)
    p_dir = res.node_probs["DIR"].to_numpy()[k:]
    out: dict[str, float] = {
        "bars": float(len(d)),
        "auc_trend": roc_auc(ratio[dirm], is_trend[dirm]),
        "er30_auc_trend": roc_auc(er[dirm], is_trend[dirm]),
        "auc_highvol": roc_auc(probs[volm, 7], v[volm] == "high"),
        "rv_auc_highvol": roc_auc(pct[volm], v[volm] == "high"),
        "auc_lowvol": roc_auc(probs[volm, 6], v[volm] == "low"),
        "rv_auc_lowvol": roc_auc(-pct[volm], v[volm] == "low"),
        "bal_acc": balanced_accuracy(dom[tm], truth[tm]),
        "base_bal_acc": balanced_accuracy(bdom[tm], truth[tm]),
        "median_run": median_run(dom),
        "base_median_run": median_run(bdom),
        "spearman_dir_vol": spearman(p_dir[rng_bars], vcode[rng_bars]),
        "ic": _ic(res.mix["composite"].to_numpy()[k:], nxt),
        "mom_ic": _ic(base["momentum"].to_numpy(), nxt),
    }
    for r in REGIMES:
        out[f"dominant_{r}"] = float(np.mean(dom == r))
    out.update(hit_aucs(hit_measures(probs, res.mix.iloc[k:]), dom, truth))
    return out


def evaluate_families(
    config: MFTConfig | None = None,
    n: int = 6000,
    seeds: Sequence[int] = (0,),
    families: Iterable[str] = tuple(FAMILIES),
    extra: dict[str, Labelled] | None = None,
    skip: int = SKIP,
) -> pd.DataFrame:
    """One row per family (figures averaged over ``seeds``) plus one per ``extra`` series."""
    rows: dict[str, dict[str, float]] = {}
    for fam in families:
        per_seed = [score(make_family(fam, n, s), config, skip) for s in seeds]
        rows[fam] = pd.DataFrame(per_seed).mean(axis=0, skipna=True).to_dict()
    for name, lab in (extra or {}).items():
        rows[name] = score(lab, config, skip)
    return pd.DataFrame(rows).T


_MAIN_COLS = (
    ("auc_trend", "er30_auc_trend"),
    ("auc_highvol", "rv_auc_highvol"),
    ("auc_lowvol", "rv_auc_lowvol"),
    ("bal_acc", "base_bal_acc"),
    ("median_run", "base_median_run"),
    ("ic", "mom_ic"),
)


def to_markdown(table: pd.DataFrame, label: str = "family") -> str:
    """The engine-vs-baseline figures of :func:`evaluate_families` as a Markdown table."""
    head = [label, "trend AUC (ER30)", "HIGHVOL AUC (rv pct)", "LOWVOL AUC (rv pct)",
            "bal. acc. (rule)", "median run (rule)", "IC (momentum)"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]

    def fmt(x: Any, run: bool) -> str:
        if x is None or not np.isfinite(x):
            return "–"
        return f"{x:.0f}" if run else f"{x:.3f}"

    for name, row in table.iterrows():
        cells = [
            f"{fmt(row[a], a == 'median_run')} ({fmt(row[b], a == 'median_run')})" for a, b in _MAIN_COLS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def hit_markdown(table: pd.DataFrame, label: str = "family") -> str:
    """The dominant regime's hit rate and each measure's AUC of "right" (:func:`hit_aucs`) per row
    of :func:`evaluate_families` as a Markdown table."""
    cols = ["hit_rate", *(f"auc_hit_{m}" for m in HIT_MEASURES)]
    head = [label, "hit rate", *(f"AUC {m}" for m in HIT_MEASURES)]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for name, row in table.iterrows():
        cells = ["–" if not np.isfinite(row[c]) else f"{row[c]:.3f}" for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _read_csv(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, index_col=0, parse_dates=True)
    df.columns = [str(c).lower() for c in df.columns]
    return df


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m phi.regime.evaluate``: print the per-family table (and the LOFO one)."""
    ap = argparse.ArgumentParser(prog="python -m phi.regime.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=6000, help="bars per family series")
    ap.add_argument("--seed", type=int, nargs="+", default=[0], help="seeds (figures averaged)")
    ap.add_argument("--csv", nargs="*", default=[], help="real OHLCV CSV files, labelled ex post")
    ap.add_argument("--lofo", action="store_true", help="also run leave-one-family-out calibration")
    ap.add_argument(
        "--confidence", action="store_true", help="also print how well each confidence measure ranks right calls"
    )
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    extra = {p: ex_post_labels(_read_csv(p), name=p) for p in args.csv}
    table = evaluate_families(n=args.n, seeds=args.seed, extra=extra)
    print("engine (baseline) per family, shipped config (in-family):")
    print(to_markdown(table))
    if args.confidence:
        print("\ndominant regime right vs confidence measures (AUC 0.5: no information), shipped config:")
        print(hit_markdown(table))
    if args.lofo:
        from phi.regime.lofo import leave_one_family_out

        lofo = leave_one_family_out(n=args.n, seeds=args.seed, extra=extra)
        print("\nleave-one-family-out (calibrated without the family it is scored on):")
        print(to_markdown(lofo.table))
        print("worst left-out family per figure:", lofo.worst_family)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
