"""Regime engine on labelled market processes it was never built on: engine vs one-feature baselines.

The same evaluation as ``python -m phi.regime.evaluate`` (:func:`phi.regime.evaluate.score`:
trend-vs-range AUC against ER30, P(HIGHVOL) / P(LOWVOL) AUC against the trailing 20-bar realised
vol percentile, balanced accuracy of the dominant regime against the ER30 + vol-percentile rule,
median dominant run, P(DIR)-vs-vol-state Spearman, next-bar IC against 20-bar momentum), run on
seven process families that neither the calibration (:mod:`phi.regime.families`), nor the
tests, nor the earlier spot-check (``markov_sv``) use. Two extra columns per direction label: the
vol percentile's AUC for trend vs range (a vol-only baseline), and per vol label ER30's AUC.

Everything differs from the calibration families in structure, not only in parameters: regime
switches are hidden Markov chains (geometric durations), not uniform-length segments; the bars'
high and low are the extremes of a 12-step intrabar Brownian bridge, not wicks drawn in
proportion to the true sigma; volume is noise.

==================  ==========================================================================
process             what it is
==================  ==========================================================================
``ms3_persist``     3-state Markov switching, drift and vol per state, very different
                    persistence: bull (+0.12 sigma drift, 0.7x vol, mean 200 bars), range (OU pull
                    0.1, 1x vol, mean 200 bars), crash (-0.6 sigma drift, 2.5x vol, mean 5 bars);
                    vol label low / normal / high by state; daily
``garch_switch``    driftless GARCH(1, 1) whose parameters switch by a hidden 2-state chain: calm
                    (uncond. vol 0.7 %, alpha 0.03, beta 0.95, mean 150 bars) / turbulent (1.8 %,
                    alpha 0.12, beta 0.85, mean 80 bars); the conditional variance carries across
                    switches; Student-t(5) shocks; label = the hidden state; daily
``jump_switch``     constant 1 % diffusion plus Laplace jumps (mean |jump| 4 sigma) whose
                    intensity switches (1 % / 12 % of bars, mean 120 bars); direction from an
                    independent Markov chain (trend +-0.15 sigma / OU pull 0.05, mean 150 bars);
                    vol label low / high = the jump intensity state; daily
``momo_mr_eqvol``   trending regime = AR(1) returns (phi +0.25) with drift +-0.06 sigma vs
                    mean-reverting regime = OU log price (pull 0.15); innovations scaled so the
                    return standard deviation is **equal** in both (a vol feature cannot tell
                    them apart); Markov, mean 150 bars; daily
``intraday_5m``     5-minute session bars (78 a day, weekdays) with a strong daily U-shape in vol
                    (2.5x at the open, 0.6x at midday, 1.5x at the close), an overnight gap at
                    every open, vol state per session (0.6x / 1x / 2x, Markov, mean 5 sessions)
                    and direction per session (trend +-0.1 sigma / OU pull 0.05, mean 2
                    sessions); labels = the states, not the seasonality
``heston_sv``       (added after the phylum's sticky rate was chosen) Heston stochastic
                    variance (CIR, mean reversion 0.02 a bar, long-run vol 1 %, vol of variance
                    0.0018, leverage rho -0.6 with the returns' shocks); vol label = the
                    tercile of the true sigma; direction from an independent Markov chain
                    (trend +-0.1 long-run sigma / OU pull 0.05, mean 100 bars); daily
``asym_weekly``     (added after the phylum's sticky rate was chosen) weekly bars, 3 states with
                    asymmetric durations: bull (+0.15 sigma, 0.8x vol, mean 80 weeks; up / low),
                    bear (-0.25 sigma, 1.8x, mean 15 weeks; down / high), sideways (OU pull
                    0.08, 1x, mean 25 weeks; range / normal); Student-t(4) shocks
==================  ==========================================================================

Out of sample (**OOS**): the shipped configuration, never fitted to any of these. In sample
(**IS**): the kingdom and phylum level weights refitted the way the shipped ones were
(:func:`phi.regime.calibration.fit_levels`, the eight families + the demo) *plus* one series of
the process itself (seed 1000, 6,000 bars), scored on the same test seeds as OOS -- what the
engine would reach had the process been one of its calibration families (the README's "in
family" figures). The baselines have nothing fitted (rank AUCs of a raw feature, fixed rule
thresholds), so their IS and OOS figures are the same numbers.

``.venv/bin/python benchmarks/regime_unseen.py [--n 5000] [--seeds 0 1 2 3 4] [--no-is]``
prints one table per process (mean over seeds, [min, max] beside it) and a summary table.
About 45 s with the defaults (most of it the in-sample refits).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from phi.regime.config import MFTConfig  # noqa: E402
from phi.regime.engine import RegimeEngine  # noqa: E402
from phi.regime.evaluate import SKIP, baselines, score  # noqa: E402
from phi.regime.families import Labelled  # noqa: E402
from phi.regime.metrics import roc_auc, spearman  # noqa: E402

SIGMA = 0.01
SUBSTEPS = 12
IS_SEED, IS_BARS = 1000, 6000
HV_LAG = 5


# ---------------------------------------------------------------------------- building blocks


def _markov(
    rng: np.random.Generator,
    n: int,
    states: Sequence[str],
    mean_len: dict[str, float],
    nxt: dict[str, dict[str, float]],
    start: str,
) -> np.ndarray:
    """A hidden Markov chain: stay with 1 - 1/mean_len[state], else jump by ``nxt[state]``."""
    out = np.empty(n, dtype=object)
    s = start
    for t in range(n):
        out[t] = s
        if rng.random() < 1.0 / mean_len[s]:
            to = list(nxt[s])
            s = str(rng.choice(to, p=np.array([nxt[s][x] for x in to])))
    return out


def _bars_from_returns(
    rng: np.random.Generator,
    r: np.ndarray,
    sigma: np.ndarray,
    index: pd.DatetimeIndex,
    gap: np.ndarray | None = None,
    volume_shape: np.ndarray | None = None,
) -> pd.DataFrame:
    """OHLCV whose close-to-close log returns are ``r``: every bar is a Brownian bridge of
    ``SUBSTEPS`` steps (diffusion ``sigma``) from its open to its close; high / low are the path's
    extremes. ``gap`` (optional) is the part of ``r`` that happens before the open (overnight)."""
    n = r.shape[0]
    g = np.zeros(n) if gap is None else gap
    body = r - g
    w = (
        np.cumsum(rng.normal(0.0, 1.0, (n, SUBSTEPS)), axis=1)
        * (sigma / np.sqrt(SUBSTEPS))[:, None]
    )
    frac = np.arange(1, SUBSTEPS + 1) / SUBSTEPS
    path = w - frac[None, :] * w[:, -1:] + frac[None, :] * body[:, None]  # ends at body
    logc = np.log(100.0) + np.cumsum(r)
    logo = logc - body
    hi = logo + np.maximum(path.max(axis=1), 0.0)
    lo = logo + np.minimum(path.min(axis=1), 0.0)
    vol = np.exp(rng.normal(13.0, 0.35, n))
    if volume_shape is not None:
        vol = vol * volume_shape
    return pd.DataFrame(
        {
            "open": np.exp(logo),
            "high": np.exp(hi),
            "low": np.exp(lo),
            "close": np.exp(logc),
            "volume": np.round(vol),
        },
        index=index,
    )


def _daily(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2001-01-01", periods=n, freq="B", tz="UTC", name="timestamp")


def _direction_returns(
    rng: np.random.Generator,
    state: np.ndarray,
    drift: dict[str, float],
    pull: dict[str, float],
    sigma: np.ndarray,
    eps: np.ndarray,
) -> np.ndarray:
    """Returns of a log price that drifts (``drift[state]`` x sigma) or, in a state with a pull,
    reverts to the level at which that state began (OU)."""
    n = state.shape[0]
    r = np.empty(n)
    x = 0.0
    anchor = 0.0
    for t in range(n):
        s = state[t]
        if t == 0 or s != state[t - 1]:
            anchor = x
        k = pull.get(s, 0.0)
        step = drift.get(s, 0.0) * sigma[t] - k * (x - anchor) + eps[t]
        r[t] = step
        x += step
    return r


# ---------------------------------------------------------------------------- processes


def ms3_persist(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng([seed, 801])
    st = _markov(
        rng,
        n,
        ("bull", "range", "crash"),
        {"bull": 200.0, "range": 200.0, "crash": 5.0},
        {
            "bull": {"range": 0.5, "crash": 0.5},
            "range": {"bull": 0.5, "crash": 0.5},
            "crash": {"bull": 0.5, "range": 0.5},
        },
        "range",
    )
    mult = np.select([st == "bull", st == "range", st == "crash"], [0.7, 1.0, 2.5])
    sigma = SIGMA * mult
    r = _direction_returns(
        rng,
        st,
        {"bull": 0.12, "crash": -0.6},
        {"range": 0.1},
        sigma,
        rng.normal(0.0, 1.0, n) * sigma,
    )
    d = np.select([st == "bull", st == "range"], ["up", "range"], "down").astype(object)
    v = np.select([st == "bull", st == "range"], ["low", "normal"], "high").astype(object)
    return Labelled(_bars_from_returns(rng, r, sigma, _daily(n)), d, v, "ms3_persist")


def garch_switch(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng([seed, 802])
    st = _markov(
        rng,
        n,
        ("calm", "turb"),
        {"calm": 150.0, "turb": 80.0},
        {"calm": {"turb": 1.0}, "turb": {"calm": 1.0}},
        "calm",
    )
    par = {"calm": (0.007, 0.03, 0.95), "turb": (0.018, 0.12, 0.85)}
    z = rng.standard_t(5, n) / np.sqrt(5.0 / 3.0)
    r = np.empty(n)
    sig = np.empty(n)
    var = par["calm"][0] ** 2
    for t in range(n):
        u, a, b = par[st[t]]
        if t > 0:
            var = u * u * (1.0 - a - b) + a * r[t - 1] ** 2 + b * var
        sig[t] = np.sqrt(var)
        r[t] = sig[t] * z[t]
    d = np.full(n, "range", dtype=object)
    v = np.where(st == "calm", "low", "high").astype(object)
    return Labelled(_bars_from_returns(rng, r, sig, _daily(n)), d, v, "garch_switch")


def jump_switch(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng([seed, 803])
    js = _markov(
        rng,
        n,
        ("rare", "often"),
        {"rare": 120.0, "often": 120.0},
        {"rare": {"often": 1.0}, "often": {"rare": 1.0}},
        "rare",
    )
    ds = _markov(
        rng,
        n,
        ("up", "down", "range"),
        {"up": 150.0, "down": 150.0, "range": 150.0},
        {
            "up": {"down": 0.3, "range": 0.7},
            "down": {"up": 0.3, "range": 0.7},
            "range": {"up": 0.5, "down": 0.5},
        },
        "range",
    )
    sigma = np.full(n, SIGMA)
    eps = rng.normal(0.0, 1.0, n) * sigma
    lam = np.where(js == "often", 0.12, 0.01)
    hit = rng.random(n) < lam
    eps[hit] += rng.laplace(0.0, 4.0 * SIGMA, int(hit.sum()))
    r = _direction_returns(rng, ds, {"up": 0.15, "down": -0.15}, {"range": 0.05}, sigma, eps)
    v = np.where(js == "often", "high", "low").astype(object)
    return Labelled(
        _bars_from_returns(rng, r, sigma, _daily(n)), ds.astype(object), v, "jump_switch"
    )


def momo_mr_eqvol(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng([seed, 804])
    st = _markov(
        rng,
        n,
        ("up", "down", "range"),
        {"up": 150.0, "down": 150.0, "range": 150.0},
        {
            "up": {"down": 0.3, "range": 0.7},
            "down": {"up": 0.3, "range": 0.7},
            "range": {"up": 0.5, "down": 0.5},
        },
        "range",
    )
    phi, mu, k = 0.25, 0.06, 0.15
    e = rng.normal(0.0, 1.0, n)
    r = np.empty(n)
    x = anchor = 0.0
    prev = 0.0
    for t in range(n):
        s = st[t]
        if t == 0 or s != st[t - 1]:
            anchor = x
        if s == "range":  # OU: var(r) = sigma_e^2 * 2 / (2 - k)
            step = -k * (x - anchor) + e[t] * SIGMA * np.sqrt((2.0 - k) / 2.0)
        else:  # AR(1) around the drift: var(r) = sigma_e^2 / (1 - phi^2)
            m = mu * SIGMA * (1.0 if s == "up" else -1.0)
            step = m + phi * (prev - m) + e[t] * SIGMA * np.sqrt(1.0 - phi * phi)
        r[t] = step
        prev = step
        x += step
    sigma = np.full(n, SIGMA)
    v = np.full(n, "normal", dtype=object)
    return Labelled(
        _bars_from_returns(rng, r, sigma, _daily(n)), st.astype(object), v, "momo_mr_eqvol"
    )


def intraday_5m(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng([seed, 805])
    per = 78
    days = n // per + 2
    sess = pd.bdate_range("2019-01-07", periods=days, tz="UTC")
    mins = pd.to_timedelta(14 * 60 + 30 + 5 * np.arange(per), unit="min")
    index = pd.DatetimeIndex((sess.values[:, None] + mins.values[None, :]).ravel()[:n]).tz_localize(
        "UTC"
    )
    index = index.rename("timestamp")
    i = np.arange(n) % per
    u = i / (per - 1)
    season = 0.6 + 1.9 * np.exp(-u / 0.08) + 0.9 * np.exp(-(1.0 - u) / 0.08)
    vs = _markov(
        rng,
        days,
        ("low", "normal", "high"),
        {"low": 5.0, "normal": 5.0, "high": 5.0},
        {
            "low": {"normal": 0.7, "high": 0.3},
            "normal": {"low": 0.5, "high": 0.5},
            "high": {"normal": 0.7, "low": 0.3},
        },
        "normal",
    )
    ds = _markov(
        rng,
        days,
        ("up", "down", "range"),
        {"up": 2.0, "down": 2.0, "range": 2.0},
        {
            "up": {"down": 0.3, "range": 0.7},
            "down": {"up": 0.3, "range": 0.7},
            "range": {"up": 0.5, "down": 0.5},
        },
        "range",
    )
    day = np.arange(n) // per
    vlab, dlab = vs[day], ds[day]
    base = 0.0015 * np.select([vlab == "low", vlab == "normal"], [0.6, 1.0], 2.0)
    sigma = base * season
    eps = rng.normal(0.0, 1.0, n) * sigma
    gap = np.where(i == 0, rng.normal(0.0, 1.0, n) * 5.0 * base, 0.0)
    gap[0] = 0.0
    # the drift is in units of the state's vol without the seasonality (a steady trend through the day)
    r = _direction_returns(rng, dlab, {"up": 0.1, "down": -0.1}, {"range": 0.05}, base, eps + gap)
    bars = _bars_from_returns(rng, r, sigma, index, gap=gap, volume_shape=season**1.5)
    return Labelled(bars, dlab.astype(object), vlab.astype(object), "intraday_5m")


# Two processes written after the phylum's sticky rate was chosen (2026-12-01), to check that
# choice on data that could not have influenced it.


def _heston(
    z1: np.ndarray, z2: np.ndarray, kappa: float, theta: float, xi: float, rho: float
) -> np.ndarray:
    """Per-bar variance of a full-truncation Euler CIR process (Heston), started at theta:
    ``v+ = v + kappa (theta - v) + xi sqrt(v) (rho z1 + sqrt(1 - rho^2) z2)``, v floored at 0;
    bar t's return uses the variance at its start and z1."""
    n = z1.shape[0]
    out = np.empty(n)
    v = theta
    c = float(np.sqrt(1.0 - rho * rho))
    for t in range(n):
        out[t] = v
        vp = max(v, 0.0)
        v = v + kappa * (theta - vp) + xi * float(np.sqrt(vp)) * (rho * z1[t] + c * z2[t])
    return out


def heston_sv(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng([seed, 806])
    z1, z2 = rng.normal(0.0, 1.0, n), rng.normal(0.0, 1.0, n)
    var = _heston(z1, z2, 0.02, SIGMA**2, 0.0018, -0.6)
    sigma = np.sqrt(np.maximum(var, 1e-12))
    ds = _markov(
        rng,
        n,
        ("up", "down", "range"),
        {"up": 100.0, "down": 100.0, "range": 100.0},
        {
            "up": {"down": 0.3, "range": 0.7},
            "down": {"up": 0.3, "range": 0.7},
            "range": {"up": 0.5, "down": 0.5},
        },
        "range",
    )
    # the direction's drift is in units of the long-run vol (a trend does not scale with the
    # vol of the day); the leverage effect is in the shocks (z1 drives both)
    r = _direction_returns(
        rng, ds, {"up": 0.1, "down": -0.1}, {"range": 0.05}, np.full(n, SIGMA), sigma * z1
    )
    lo, hi = np.quantile(sigma, [1 / 3, 2 / 3])
    v = np.select([sigma <= lo, sigma >= hi], ["low", "high"], "normal").astype(object)
    return Labelled(_bars_from_returns(rng, r, sigma, _daily(n)), ds.astype(object), v, "heston_sv")


def asym_weekly(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng([seed, 807])
    st = _markov(
        rng,
        n,
        ("bull", "bear", "side"),
        {"bull": 80.0, "bear": 15.0, "side": 25.0},
        {
            "bull": {"bear": 0.4, "side": 0.6},
            "bear": {"side": 0.6, "bull": 0.4},
            "side": {"bull": 0.6, "bear": 0.4},
        },
        "side",
    )
    s0 = 0.022  # weekly
    mult = np.select([st == "bull", st == "bear"], [0.8, 1.8], 1.0)
    sigma = s0 * mult
    eps = rng.standard_t(4, n) / np.sqrt(2.0) * sigma
    r = _direction_returns(rng, st, {"bull": 0.15, "bear": -0.25}, {"side": 0.08}, sigma, eps)
    d = np.select([st == "bull", st == "bear"], ["up", "down"], "range").astype(object)
    v = np.select([st == "bull", st == "bear"], ["low", "high"], "normal").astype(object)
    index = pd.date_range("1920-01-02", periods=n, freq="W-FRI", tz="UTC", name="timestamp")
    return Labelled(_bars_from_returns(rng, r, sigma, index), d, v, "asym_weekly")


PROCESSES: dict[str, Callable[[int, int], Labelled]] = {
    "ms3_persist": ms3_persist,
    "garch_switch": garch_switch,
    "jump_switch": jump_switch,
    "momo_mr_eqvol": momo_mr_eqvol,
    "intraday_5m": intraday_5m,
    "heston_sv": heston_sv,
    "asym_weekly": asym_weekly,
}


# ---------------------------------------------------------------------------- scoring


def score_one(
    lab: Labelled, config: MFTConfig | None, null_vol: np.ndarray | None = None
) -> dict[str, float]:
    """:func:`phi.regime.evaluate.score` plus the cross baselines (vol pct on trend, ER30 on vol),
    the HIGHVOL AUC against the label ``HV_LAG`` bars earlier, ER30's Spearman with the vol state
    and, with ``null_vol`` (the vol labels of an independent series of the same process), the
    Spearman of P(DIR) with those: what an unrelated vol state of that persistence gives."""
    out = score(lab, config)
    res = RegimeEngine(config).run(lab.ohlcv)
    b = baselines(lab.ohlcv).iloc[SKIP:]
    d, v = lab.direction[SKIP:], lab.vol[SKIP:]
    dirm = np.isin(d, ["up", "down", "range"])
    volm = np.isin(v, ["low", "normal", "high"])
    is_trend = np.isin(d, ["up", "down"])
    pct, er = b["rv_pct"].to_numpy(), b["er30"].to_numpy()
    out["rv_auc_trend"] = max(
        roc_auc(pct[dirm], is_trend[dirm]), roc_auc(-pct[dirm], is_trend[dirm])
    )
    out["er30_auc_highvol"] = max(
        roc_auc(er[volm], v[volm] == "high"), roc_auc(-er[volm], v[volm] == "high")
    )
    out["share_high"] = float(np.mean(v[volm] == "high")) if volm.any() else float("nan")
    rng_bars = d == "range"
    out["er30_spearman_dir_vol"] = spearman(er[rng_bars], _vcode(v)[rng_bars])
    if null_vol is not None:
        p_dir = res.node_probs["DIR"].to_numpy()[SKIP:]
        out["null_spearman_dir_vol"] = spearman(p_dir[rng_bars], _vcode(null_vol[SKIP:])[rng_bars])
    hi = volm & (v == "high")
    p_hv = res.regime_probs["HIGHVOL"].to_numpy()[SKIP:]
    lag = HV_LAG  # the label HV_LAG bars earlier: how late the vol call is
    out["auc_highvol_lag"] = (
        roc_auc(p_hv[volm][lag:], hi[volm][:-lag]) if volm.sum() > lag else float("nan")
    )
    out["rv_auc_highvol_lag"] = (
        roc_auc(pct[volm][lag:], hi[volm][:-lag]) if volm.sum() > lag else float("nan")
    )
    return out


def _vcode(v: np.ndarray) -> np.ndarray:
    return np.select([v == "low", v == "normal", v == "high"], [0.0, 1.0, 2.0], np.nan)


def in_sample_config(name: str) -> MFTConfig:
    """The shipped calibration refitted with one series of ``name`` added (see the module doc)."""
    from phi.regime.calibration import (
        _FAMILY_KINGDOM,
        _FAMILY_PHYLUM,
        CAL_BARS,
        CAL_SEED,
        TRAIN_SYMBOLS,
        _series,
        calibration_base,
        fit_levels,
        training_series,
    )
    from phi.regime.families import FAMILIES

    cfg0 = calibration_base(None)
    data = training_series(cfg0, list(FAMILIES), TRAIN_SYMBOLS, CAL_BARS, CAL_SEED)
    lab = PROCESSES[name](IS_BARS, IS_SEED)
    k = np.array([_FAMILY_KINGDOM.get(x) for x in lab.direction], dtype=object)
    p = np.array([_FAMILY_PHYLUM.get(x) for x in lab.vol], dtype=object)
    train = [s for v in data.values() for s in v] + [_series(cfg0, lab.ohlcv, k, p, 1.0)]
    return fit_levels(cfg0, train)


COLS = [  # (label, engine column, baseline columns)
    ("trend AUC", "auc_trend", ["er30_auc_trend", "rv_auc_trend"]),
    ("HIGHVOL AUC", "auc_highvol", ["rv_auc_highvol", "er30_auc_highvol"]),
    ("LOWVOL AUC", "auc_lowvol", ["rv_auc_lowvol"]),
    ("bal. acc.", "bal_acc", ["base_bal_acc"]),
    ("median run", "median_run", ["base_median_run"]),
    (f"HIGHVOL AUC vs the label {HV_LAG} bars earlier", "auc_highvol_lag", ["rv_auc_highvol_lag"]),
    (
        "Spearman P(DIR), vol state on range bars (signed)",
        "spearman_dir_vol",
        ["er30_spearman_dir_vol", "null_spearman_dir_vol"],
    ),
    ("IC", "ic", ["mom_ic"]),
]
BASE_NAMES = {
    "er30_auc_trend": "ER30",
    "rv_auc_trend": "rv pct",
    "rv_auc_highvol": "rv pct",
    "er30_auc_highvol": "ER30",
    "rv_auc_lowvol": "rv pct",
    "base_bal_acc": "rule",
    "base_median_run": "rule",
    "mom_ic": "momentum",
    "rv_auc_highvol_lag": "rv pct",
    "er30_spearman_dir_vol": "ER30",
    "null_spearman_dir_vol": "engine vs an unrelated vol state (null)",
}


def _cell(s: pd.Series) -> str:
    s = s.dropna()
    if s.empty:
        return "–"
    return f"{s.mean():.3f} [{s.min():.3f}, {s.max():.3f}]"


def table(name: str, oos: pd.DataFrame, ins: pd.DataFrame | None) -> str:
    head = [
        "figure",
        "engine OOS (shipped)",
        "engine IS (refit incl. process)",
        "baselines (no fit: IS = OOS)",
    ]
    lines = [
        f"**{name}** ({len(oos)} seeds, {int(oos['bars'].iloc[0])} scored bars each; "
        "mean [min, max] over seeds)",
        "",
        "| " + " | ".join(head) + " |",
        "|---|---:|---:|---|",
    ]
    for label, eng, bases in COLS:
        if oos[eng].dropna().empty:
            continue
        o, i = oos[eng], None if ins is None else ins[eng]
        bcells = "; ".join(f"{BASE_NAMES[b]} {_cell(oos[b])}" for b in bases) or "–"
        lines.append(f"| {label} | {_cell(o)} | {'–' if i is None else _cell(i)} | {bcells} |")
    return "\n".join(lines)


SUMMARY = (  # (label, engine column, baseline column, baseline name)
    ("trend AUC", "auc_trend", "er30_auc_trend", "ER30"),
    ("HIGHVOL AUC", "auc_highvol", "rv_auc_highvol", "rv pct"),
    ("LOWVOL AUC", "auc_lowvol", "rv_auc_lowvol", "rv pct"),
    ("bal. acc.", "bal_acc", "base_bal_acc", "rule"),
)


def compact_rows(name: str, oos: pd.DataFrame, ins: pd.DataFrame | None) -> list[str]:
    """One Markdown row per main figure: engine OOS and IS, baseline, seeds the engine wins."""
    out = []
    for label, eng, base, bname in SUMMARY:
        if oos[eng].dropna().empty:
            continue
        wins = int(((oos[eng] - oos[base]) > 0).sum())
        i = "–" if ins is None else _cell(ins[eng])
        out.append(
            f"| {name} | {label} | {_cell(oos[eng])} | {i} | {bname} {_cell(oos[base])} "
            f"| {wins} / {int(oos[eng].notna().sum())} |"
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--n", type=int, default=5000, help="bars per series")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--only", nargs="*", default=list(PROCESSES), choices=list(PROCESSES))
    ap.add_argument("--no-is", action="store_true", help="skip the in-sample refits")
    ap.add_argument(
        "--save", type=Path, default=None, help="write every per-seed figure to this CSV"
    )
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    rows = []
    summary = []
    for name in args.only:
        t0 = time.process_time()
        labs = [PROCESSES[name](args.n, s) for s in args.seeds]
        nulls = [PROCESSES[name](args.n, 10_000 + s).vol for s in args.seeds]
        oos = pd.DataFrame(
            [score_one(lab, None, nv) for lab, nv in zip(labs, nulls, strict=True)],
            index=args.seeds,
        )
        ins = None
        if not args.no_is:
            cfg = in_sample_config(name)
            ins = pd.DataFrame(
                [score_one(lab, cfg, nv) for lab, nv in zip(labs, nulls, strict=True)],
                index=args.seeds,
            )
        print(table(name, oos, ins))
        print(
            f"({time.process_time() - t0:.1f} s CPU; share of 'high' vol bars {oos['share_high'].mean():.3f})\n"
        )
        for tag, frame in (("oos", oos), ("is", ins)):
            if frame is not None:
                rows.append(frame.assign(process=name, sample=tag, seed=frame.index))
        summary += compact_rows(name, oos, ins)
    print(
        "| process | figure | engine OOS (shipped) | engine IS (refit incl. process) | baseline | OOS seeds engine > baseline |"
    )
    print("|---|---|---:|---:|---:|---:|")
    print("\n".join(summary))
    if args.save is not None:
        pd.concat(rows).to_csv(args.save, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
