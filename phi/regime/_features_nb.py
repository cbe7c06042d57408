"""The element-wise parts of the raw MFT features in two numba passes (:mod:`phi.regime.features`),
and the float32 store of blocks of z-scores (:func:`gate_store_nb`).

Each pass runs the same IEEE operations, in the same order, as the NumPy composition it replaces
(no fastmath, so no reassociation or FMA contraction): the raw features are bit-identical. The
passes write straight into the rows of the (features, bars) output, so no full-length float64
temporaries are made for the intermediate products. ``log`` stays NumPy's (applied in place to
the price ratios written by :func:`prices_nb`), so the log returns are NumPy's to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["finish_nb", "gate_store_nb", "prices_nb"]


@njit(cache=True, inline="always")
def _sign(x: float) -> float:
    """np.sign of a float64 scalar (NaN -> NaN, +-0 -> 0)."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    if x == 0.0:
        return 0.0
    return np.nan


@njit(cache=True, inline="always")
def _fmax(a: float, b: float) -> float:
    """np.fmax of two float64 scalars (a NaN loses)."""
    if np.isnan(b):
        return a
    if np.isnan(a):
        return b
    return a if a >= b else b


@njit(cache=True)
def prices_nb(
    o: np.ndarray,
    h: np.ndarray,
    low: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    eps: float,
    ratio_r: np.ndarray,
    ratio_gap: np.ndarray,
    tr: np.ndarray,
    absorption: np.ndarray,
    ofi: np.ndarray,
) -> None:
    """In place: ``v`` floored at 1; ``c_t / c_(t-1)`` and ``o_t / c_(t-1)`` (NaN on bar 0, their
    logs are the log return and gap), the scale-free true range, ``v / (tr + eps)`` and
    ``sign(c - o) * v``."""
    n = len(c)
    for i in range(n):
        x = v[i]
        if x < 1.0:  # np.maximum(v, 1.0): NaN stays NaN
            x = 1.0
        v[i] = x
        hl = h[i] - low[i]
        if i == 0:
            ratio_r[i] = np.nan
            ratio_gap[i] = np.nan
            t = _fmax(hl, np.nan) / o[i]
        else:
            cp = c[i - 1]
            ratio_r[i] = c[i] / cp
            ratio_gap[i] = o[i] / cp
            t = _fmax(hl, _fmax(abs(h[i] - cp), abs(low[i] - cp)))
            t = t / (o[i] if np.isnan(cp) else cp)
        tr[i] = t
        absorption[i] = x / (t + eps)
        ofi[i] = _sign(c[i] - o[i]) * x


@njit(cache=True)
def finish_nb(
    r: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    ofi: np.ndarray,
    sd_imp: np.ndarray,
    impulse_sigma: float,
    med_c: np.ndarray,
    eps: float,
    a_dv: float,
    flip: np.ndarray,
    impulse: np.ndarray,
    cross: np.ndarray,
    lam: np.ndarray,
    d_lambda: np.ndarray,
    mass: np.ndarray,
    d_mass: np.ndarray,
    diss: np.ndarray,
) -> None:
    """The inputs of the flip / impulse / median-cross / dissipation rolling means (1.0 / 0.0
    where valid, NaN elsewhere), ``lam = |r| / u`` with ``u = c v / exp(g)`` the bar's dollar
    volume relative to ``g``, the EWM (rate ``a_dv``, started at the first valid ``log(c v)``,
    NaN skipped) of ``log(c v)`` over the *previous* bars (the first valid bar: u = 1), its
    difference, ``mass = 1 / (lam + eps)`` and its difference, written in place. ``lam`` is a
    return per unit of relative dollar volume: no price or volume unit left in it."""
    n = len(r)
    above_prev = 0.0
    ok_prev = False
    lam_prev = np.nan
    mass_prev = np.nan
    g = np.nan
    for i in range(n):
        ri = r[i]
        si = _sign(ri)
        if i == 0:
            flip[i] = np.nan
            impulse[i] = np.nan
        else:
            rp = r[i - 1]
            sp = _sign(rp)
            both = not np.isnan(ri) and not np.isnan(rp)
            flip[i] = (1.0 if si != sp else 0.0) if both else np.nan
            sdp = sd_imp[i - 1]
            if both and not np.isnan(sdp):
                impulse[i] = 1.0 if (abs(rp) > impulse_sigma * sdp) and (si != sp) else 0.0
            else:
                impulse[i] = np.nan
        m = med_c[i]
        ok = not np.isnan(m)
        above = 1.0 if c[i] > m else 0.0
        cross[i] = (1.0 if above != above_prev else 0.0) if (ok and ok_prev) else np.nan
        above_prev = above
        ok_prev = ok
        ld = np.log(c[i] * v[i])
        la = abs(ri) / np.exp(ld - (ld if g != g else g))
        if ld == ld:
            g = ld if g != g else (1.0 - a_dv) * g + a_dv * ld
        lam[i] = la
        d_lambda[i] = la - lam_prev
        ms = 1.0 / (la + eps)
        mass[i] = ms
        d_mass[i] = ms - mass_prev
        lam_prev = la
        mass_prev = ms
        diss[i] = _sign(ofi[i]) * si


@njit(cache=True)
def gate_store_nb(
    z: np.ndarray,
    gate: np.ndarray,
    gated: np.ndarray,
    dst: np.ndarray,
    cols: np.ndarray,
    start: int,
    pick: np.ndarray,
    picked: np.ndarray,
) -> None:
    """One pass over a block of z-scores z (bars, features), in place: the columns ``gated``
    multiplied by the bars' volume gate; every column rounded to nearest float32 (as
    ``astype``; beyond float32's range: +-inf) into ``dst[start + t, cols[j]]``; the columns
    ``pick`` copied (gated) into the rows of ``picked`` at ``start + t``."""
    m, k = z.shape
    for t in range(m):
        g = gate[t]
        for i in range(gated.shape[0]):
            z[t, gated[i]] *= g
        for j in range(k):
            dst[start + t, cols[j]] = np.float32(z[t, j])
        for i in range(pick.shape[0]):
            picked[i, start + t] = z[t, pick[i]]
