"""Scale-free *level* features over long windows, and the volume gate.

The 26 MFT features are z-scored over 60 bars, which turns each into a change detector: a
trend that has lasted 100 bars looks like a range to them. The kingdom (direction) and phylum
(volatility) levels therefore also read the features below, which are not z-scored and have
the same meaning on any instrument, price scale and timeframe. All are causal (bar t reads
bars <= t). The volatility features read log returns divided by a causal time-of-day
volatility factor (so intraday seasonality is not mistaken for a volatility regime; daily bars
are unchanged); the direction features read *standardised* returns ``r_t / s_slow,(t-1)``
clipped to ``+-jump_clip``, so a change of volatility alone does not change them (a window
spanning a volatility rise would otherwise be dominated by its last bars) and a single jump or
fat-tailed shock does not make a trend:

==================  ==========================================================================
``lvl_er_W``        Kaufman efficiency ``|sum r| / sum |r|`` over W bars (``levels.er``)
``lvl_abs_t_W``     ``|mean r| sqrt(W) / std r`` over W = ``levels.trend_window`` (|drift t|)
``lvl_vr_5_W``      variance ratio ``mean(R5^2) / (5 mean(r^2))`` over W bars, R5 = 5-bar return
``lvl_vr_10_L``     the same for 10-bar returns over L = ``levels.vr_long`` bars
``lvl_ac1_W``       lag-1 autocorrelation ``mean(r_t r_(t-1)) / mean(r^2)`` over W bars
``lvl_er_shift``    ``er`` of the shortest window minus that of the ``trend_window``: a new move
``lvl_rev``         ``max(0, -sign(t_W) t_S)``: a short drift (S = ``short_window``) against the
                    long one (exhaustion)
``lvl_vol_fast``    ``log s_fast - m``: log EWM volatility (span ``vol_fast``) minus ``m``, the
                    bias-corrected EWM (span ``vol_ref``) of ``log s_slow`` from the
                    ``vol_slow``-th return on (0 before): the long-run *geometric-mean*
                    volatility; squared returns capped at ``jump_clip`` slow sigmas, so one jump
                    is not a volatility regime
``lvl_vol_slow``    the same with span ``vol_slow``
``lvl_vol_trend``   ``lvl_vol_fast - lvl_vol_slow`` (volatility expanding or contracting)
==================  ==========================================================================

The reference is a bias-corrected EWM of *log* volatility started once the slow EWM has
``vol_slow`` returns. The former reference, an EWM of squared returns started at the first
squared return, gave that return ``(1 - 2/(vol_ref+1))^t`` of its weight after t bars (30 %
after 300 for span 500): on GOOG daily bars, whose first return is +7.6 %, it made the early bars
read as low volatility, and the engine's P(LOWVOL) AUC was 0.658 against the 20-bar realised-vol percentile's
0.689 (now 0.748; P(HIGHVOL) 0.732 -> 0.791). Most of that is the start: on the slow level alone a
bias-corrected EWM of squared returns does as well on GOOG; the log mean is within 0.02 of it on the synthetic
families (README, quality table).

Direction features are ratios of returns to returns, so they do not move when volatility
alone changes; volatility features are ratios of volatilities, so they do not depend on drift.

**Volume gate.** :func:`volume_gate` is 1 where volume carries information about price
activity and 0 where it does not: the rolling correlation (``levels.volume_window`` bars) of
log volume with |r| is mapped linearly from ``volume_corr_floor`` (gate 0) to
``volume_corr_full`` (gate 1). Constant, absent (NaN or <= 0) or random volume gives 0. The
engine multiplies the z-scores of every volume-based feature by the gate and reports it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from phi.data.schema import conform_ohlcv
from phi.regime import _nb
from phi.regime.config import LevelConfig, level_names

__all__ = ["VOLUME_FEATURES", "level_features", "log_returns", "volume_gate"]

#: the MFT features computed from volume (their z-scores are multiplied by the volume gate)
VOLUME_FEATURES: tuple[str, ...] = (
    "illiquidity", "volume_zscore", "d_lambda", "mass", "d_mass_dt", "ofi_proxy",
    "absorption_score", "dissipation_proxy",
)  # fmt: skip


def _slots(index: pd.Index) -> tuple[np.ndarray, int]:
    """Time-of-day slot (a code per distinct wall-clock minute of the day) of every bar, and the
    number of slots (one for daily bars or a non-datetime index)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) == 0:
        return np.zeros(len(index), dtype=np.int64), 1
    wall = index.tz_localize(None) if index.tz is not None else index  # local wall-clock time
    minutes = wall.to_numpy().astype("datetime64[m]").astype(np.int64) % 1440  # floor: minute of the day
    present = np.zeros(1440, dtype=np.int64)
    present[minutes] = 1
    code = np.cumsum(present) - 1  # minutes of the day that occur -> 0, 1, ...
    return code[minutes], max(int(present.sum()), 1)


def _bars(ohlcv: pd.DataFrame, returns: np.ndarray | None, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """``ohlcv`` as :func:`phi.data.schema.conform_ohlcv` takes it (any case, numbers or numeric
    text; as is when it conforms): ``columns`` and, unless the caller gives its ``returns``, the
    closes. Values are the kernels' business: a missing close is a gap (NaN returns), a
    missing or non-positive volume absent volume."""
    return conform_ohlcv(ohlcv, columns if returns is not None else ("close", *columns))


def _log_returns(ohlcv: pd.DataFrame, returns: np.ndarray | None) -> np.ndarray:
    """``returns`` if given (the caller's ``ln(c_t / c_(t-1))``, NaN on bar 0), else computed
    (``ohlcv`` passed :func:`_bars`)."""
    if returns is not None:
        return returns
    c = ohlcv["close"].to_numpy(dtype=np.float64)
    r = np.full(c.shape, np.nan)
    r[1:] = np.log(c[1:] / c[:-1])
    return r


def log_returns(
    ohlcv: pd.DataFrame, lc: LevelConfig | None = None, returns: np.ndarray | None = None
) -> np.ndarray:
    """Log close-to-close returns divided by their causal time-of-day volatility factor
    (``returns``: the plain log returns, if the caller has them; not modified); ``ohlcv`` as
    :func:`phi.data.schema.conform_ohlcv` takes it (the closes, unless ``returns`` are given)."""
    lc = lc or LevelConfig()
    ohlcv = _bars(ohlcv, returns)
    r = _log_returns(ohlcv, returns)
    slot, n_slots = _slots(ohlcv.index)
    if n_slots == 1:
        return r if returns is None else r.copy()  # never the caller's array
    return _nb.deseason_nb(r, slot, n_slots, 2.0 / (lc.season_span + 1.0))


@njit(cache=True)
def _log_vol_levels_nb(
    r: np.ndarray, a_fast: float, a_slow: float, a_ref: float, clip: float, warm: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(log s_fast - m, log s_slow - m)``, m the bias-corrected EWM (rate ``a_ref``) of
    ``log s_slow`` from the ``warm``-th valid return on (0 before it).

    ``s^2`` are EWMs of ``min(r^2, (clip * s_slow_(t-1))^2)`` started at the first valid r^2
    (as :func:`phi.regime._nb.vol_levels_nb`); m is the long-run *geometric* mean of the slow
    volatility, started once the slow EWM has ``warm`` returns (the log of a handful of squared
    returns is far too noisy to start a long mean from). NaN r keeps the state (outputs NaN).
    """
    n = r.shape[0]
    fast = np.full(n, np.nan)
    slow = np.full(n, np.nan)
    vf = 0.0
    vs = 0.0
    num = 0.0
    den = 0.0
    seen = 0
    for t in range(n):
        x = r[t]
        if x != x:
            continue
        q = x * x
        if seen == 0:
            vf = q
            vs = q
        else:
            cap = clip * clip * vs
            if vs > 0.0 and q > cap:
                q = cap
            vf = (1.0 - a_fast) * vf + a_fast * q
            vs = (1.0 - a_slow) * vs + a_slow * q
        seen += 1
        fast[t] = 0.0
        slow[t] = 0.0
        if seen >= warm and vf > 0.0 and vs > 0.0:
            ls = 0.5 * np.log(vs)
            num = (1.0 - a_ref) * num + ls
            den = (1.0 - a_ref) * den + 1.0
            m = num / den
            fast[t] = 0.5 * np.log(vf) - m
            slow[t] = ls - m
    return fast, slow


@njit(cache=True, inline="always", error_model="numpy")
def _roll_nb(sums: np.ndarray, cnts: np.ndarray, i: int, v: float, old: float, minp: int) -> float:
    """One step of :func:`phi.regime._nb.rolling_mean_nb` for stream i (the same operations):
    ``old`` leaves the window (NaN: nothing), ``v`` enters; the mean, or NaN below minp."""
    if old == old:
        sums[i] -= old
        cnts[i] -= 1
        if cnts[i] == 0:
            sums[i] = 0.0
    if v == v:
        sums[i] += v
        cnts[i] += 1
    c = cnts[i]
    return sums[i] / c if c >= minp and c > 0 else np.nan


@njit(cache=True, inline="always", error_model="numpy")
def _tscore_nb(m: float, q: float, root_w: float) -> float:
    """The drift t-score ``mean sqrt(W) / std`` from the window's mean and mean square, clipped
    to +-10 (0 where the std is 0; NaN where the mean is)."""
    if m != m:
        return np.nan
    d = q - m * m
    sd = np.sqrt(d if d > 0.0 else 0.0)
    t = m * root_w / sd if sd > 0.0 else 0.0
    return min(max(t, -10.0), 10.0)


@njit(cache=True, inline="always", error_model="numpy")
def _ratio_nb(num: float, den: float, lo: float, hi: float) -> float:
    """``num / den`` clipped to [lo, hi]; NaN where it is not finite."""
    x = num / den
    return min(max(x, lo), hi) if x - x == 0.0 else np.nan


@njit(cache=True, error_model="numpy")  # x / 0 -> inf or NaN, as NumPy
def _direction_levels_nb(
    r: np.ndarray, cs: np.ndarray, w: int, long_: int, short: int, out: np.ndarray, rev: np.ndarray
) -> None:
    """Rows 0-3 of out: |t_w|, vr_5_w, vr_10_long, ac1_w, and rev (module doc) of the
    standardised returns r (cs = cumsum of r with NaN as 0), in one pass; the same values as
    rolling means, t-scores and ratios written out with NumPy (kept as the reference in
    tests/regime/test_levels_kernel.py)."""
    n = r.shape[0]
    sums = np.zeros(8)
    cnts = np.zeros(8, dtype=np.int64)
    mw, ml, ms = max(w // 2, 2), max(long_ // 2, 2), max(short // 2, 2)
    rw, rs = np.sqrt(w), np.sqrt(short)
    nan = np.nan
    for t in range(n):
        x = r[t]
        xw = r[t - w] if t >= w else nan
        xl = r[t - long_] if t >= long_ else nan
        xs = r[t - short] if t >= short else nan
        m = _roll_nb(sums, cnts, 0, x, xw, mw)
        q = _roll_nb(sums, cnts, 1, x * x, xw * xw, mw)
        k5 = cs[t] - cs[t - 5] if t >= 5 else nan
        o5 = cs[t - w] - cs[t - w - 5] if t - w >= 5 else nan
        n5 = _roll_nb(sums, cnts, 2, k5 * k5, o5 * o5, mw)
        ql = _roll_nb(sums, cnts, 3, x * x, xl * xl, ml)
        k10 = cs[t] - cs[t - 10] if t >= 10 else nan
        o10 = cs[t - long_] - cs[t - long_ - 10] if t - long_ >= 10 else nan
        n10 = _roll_nb(sums, cnts, 4, k10 * k10, o10 * o10, ml)
        lag = r[t - 1] if t >= 1 else nan
        olag = r[t - w - 1] if t - w >= 1 else nan
        a1 = _roll_nb(sums, cnts, 5, x * lag, xw * olag, mw)
        m_s = _roll_nb(sums, cnts, 6, x, xs, ms)
        q_s = _roll_nb(sums, cnts, 7, x * x, xs * xs, ms)
        t_long = _tscore_nb(m, q, rw)
        out[0, t] = abs(t_long)
        valid = 1.0 if x == x else nan
        out[1, t] = _ratio_nb(n5, 5 * q, 0.0, 5.0) * valid
        out[2, t] = _ratio_nb(n10, 10 * ql, 0.0, 5.0) * valid
        out[3, t] = _ratio_nb(a1, q, -1.0, 1.0)
        t_short = _tscore_nb(m_s, q_s, rs)
        sgn = 1.0 if t_long > 0.0 else (-1.0 if t_long < 0.0 else (0.0 if t_long == 0.0 else nan))
        p = -sgn * t_short
        rev[t] = p if p != p else (0.0 if p <= 0.0 else p)


def level_features(
    ohlcv: pd.DataFrame,
    lc: LevelConfig | None = None,
    returns: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> pd.DataFrame:
    """The level features of the module doc (NaN while a window has under half its bars).
    ``returns``: the log close-to-close returns (NaN on bar 0), if the caller has them (not
    modified); ``out``: a C-ordered float64 (features, bars) array to write them into (the
    frame wraps its transpose), not overlapping ``returns``; ``ohlcv`` as
    :func:`phi.data.schema.conform_ohlcv` takes it (the closes, unless ``returns`` are given)."""
    lc = lc or LevelConfig()
    ohlcv = _bars(ohlcv, returns)
    spans = (2.0 / (lc.vol_fast + 1.0), 2.0 / (lc.vol_slow + 1.0), 2.0 / (lc.vol_ref + 1.0))
    raw = _log_returns(ohlcv, returns)
    fast, slow = _log_vol_levels_nb(log_returns(ohlcv, lc, raw), *spans, lc.jump_clip, lc.vol_slow)
    r = np.empty(len(raw))  # the standardised returns only (not vol_levels_nb's levels)
    _nb.vol_levels_into_nb(raw, *spans, lc.jump_clip, np.empty(0), np.empty(0), r)
    names = level_names(lc)
    shape = (len(names), len(raw))
    if out is None:
        out = np.empty(shape)  # rows = features: out.T is (bars, features), F-order
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-ordered float64 array of shape {shape}")
    row = {k: i for i, k in enumerate(names)}
    for w in lc.er:
        out[row[f"lvl_er_{w}"]] = _nb.efficiency_ratio_nb(r, w, max(w // 2, 1), 1e-300)
    w = lc.trend_window
    first = row[f"lvl_abs_t_{w}"]  # |t|, vr_5, vr_10, ac1: consecutive rows (level_names)
    assert [row[k] for k in (f"lvl_vr_5_{w}", f"lvl_vr_10_{lc.vr_long}", f"lvl_ac1_{w}")] == [first + 1, first + 2, first + 3]
    cs = np.cumsum(np.nan_to_num(r, nan=0.0))
    _direction_levels_nb(r, cs, w, lc.vr_long, lc.short_window, out[first : first + 4], out[row["lvl_rev"]])
    del cs
    short = min(lc.er)
    er_w = out[row[f"lvl_er_{w}"]] if w in lc.er else _nb.efficiency_ratio_nb(r, w, max(w // 2, 1), 1e-300)
    np.subtract(out[row[f"lvl_er_{short}"]], er_w, out=out[row["lvl_er_shift"]])
    out[row["lvl_vol_fast"]] = fast
    out[row["lvl_vol_slow"]] = slow
    np.subtract(fast, slow, out=out[row["lvl_vol_trend"]])
    return pd.DataFrame(out.T, index=ohlcv.index, columns=list(names), copy=False)


def volume_gate(
    ohlcv: pd.DataFrame, lc: LevelConfig | None = None, returns: np.ndarray | None = None
) -> np.ndarray:
    """Per-bar weight in [0, 1] of the volume features (see the module doc). ``returns``: the
    log close-to-close returns (NaN on bar 0), if the caller has them; ``ohlcv`` as
    :func:`phi.data.schema.conform_ohlcv` takes it (volume, and the closes unless ``returns``
    are given)."""
    lc = lc or LevelConfig()
    ohlcv = _bars(ohlcv, returns, ("volume",))
    v = ohlcv["volume"].to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(v) & (v > 0)
    lv = np.where(ok, np.log(np.where(ok, v, 1.0)), np.nan)
    a = np.where(ok, np.abs(_log_returns(ohlcv, returns)), np.nan)
    lv = np.where(np.isnan(a), np.nan, lv)
    return _volume_gate_nb(lv, a, lc.volume_window, lc.volume_corr_floor, lc.volume_corr_full)


@njit(cache=True, error_model="numpy")
def _volume_gate_nb(lv: np.ndarray, a: np.ndarray, w: int, floor: float, full: float) -> np.ndarray:
    """The gate from log volume and |r| (NaN together): the rolling means of lv, a, lv a,
    lv^2, a^2 (as :func:`phi.regime._nb.rolling_mean_nb`, min W // 2), their correlation (0
    where either variance is ~0 or a mean is NaN; +-inf saturates, as ``np.nan_to_num``), mapped
    linearly from ``floor`` (0) to ``full`` (1) and clipped. One pass, the same operations as
    the NumPy composition."""
    n = lv.shape[0]
    out = np.empty(n)
    sums = np.zeros(5)
    cnts = np.zeros(5, dtype=np.int64)
    minp = max(w // 2, 2)
    big = np.finfo(np.float64).max
    nan = np.nan
    for t in range(n):
        x = lv[t]
        y = a[t]
        ox = lv[t - w] if t >= w else nan
        oy = a[t - w] if t >= w else nan
        mx = _roll_nb(sums, cnts, 0, x, ox, minp)
        my = _roll_nb(sums, cnts, 1, y, oy, minp)
        cov = _roll_nb(sums, cnts, 2, x * y, ox * oy, minp) - mx * my
        vx = _roll_nb(sums, cnts, 3, x * x, ox * ox, minp) - mx * mx
        vy = _roll_nb(sums, cnts, 4, y * y, oy * oy, minp) - my * my
        mm = mx * mx
        corr = cov / np.sqrt(vx * vy) if (vx > 1e-12 * (mm if mm > 1.0 or mm != mm else 1.0)) and vy > 0 else 0.0
        if corr != corr:
            corr = 0.0
        elif corr > big:
            corr = big
        elif corr < -big:
            corr = -big
        g = (corr - floor) / (full - floor)
        out[t] = min(max(g, 0.0), 1.0)
    return out
