"""Numba kernels of :mod:`phi.phiai.tpe`: log masses of the standard normal and the log density
of truncated Gaussian mixtures (the TPE's Parzen estimators) at many points."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: A kernel with at least a tenth of its mass inside the bounds (``log_z > _LOG_Z_MIN``) is
#: skipped at points more than ``_CUT`` widths away: its share there, under
#: ``Phi(-10) * 10 = 8e-23`` of its weight, is below 1e-15 of the prior kernel's (weight
#: ``1 / (n + 1)``, mass at least ``0.9 * step / range`` at any point of the range) for up to
#: 10^4 trials on 10^3 steps, so the log density is unchanged to double precision. A kernel
#: mostly outside the bounds (a conditional bound moved past its observation) is skipped more
#: than ``_CUT`` widths from its nearest point inside them: ``Phi`` is log-concave, so the mass
#: there is under ``Phi(-10) / Phi(0)`` of what it keeps inside (:func:`lattice_log_pdf_nb`).
_CUT = 10.0
_LOG_Z_MIN = math.log(0.1)


@njit(cache=True)
def log_ndtr_nb(z: float) -> float:
    """``log(Phi(z))``: ``erfc`` down to ``z = -30``, the asymptotic series below it (relative
    error under 1e-13 there)."""
    if z > 0.0:
        return math.log1p(-0.5 * math.erfc(z * _SQRT1_2))
    if z > -30.0:
        return math.log(0.5 * math.erfc(-z * _SQRT1_2))
    r = 1.0 / (z * z)
    series = 1.0 - r * (1.0 - 3.0 * r * (1.0 - 5.0 * r * (1.0 - 7.0 * r * (1.0 - 9.0 * r))))
    return -0.5 * z * z - _LOG_SQRT_2PI - math.log(-z) + math.log(series)


@njit(cache=True)
def log_mass_nb(a: float, b: float) -> float:
    """``log(Phi(b) - Phi(a))`` for ``a <= b``: computed on the left of 0 (the right tail is
    mirrored), by a plain difference unless the mass is tiny, else in log space."""
    if a > 0.0:
        a, b = -b, -a
    if a < -8.3 and b >= 0.0:  # Phi(a) < 6e-17 next to Phi(b) >= 0.5: nothing in double precision
        return 0.0 if b > 8.3 else math.log1p(-0.5 * math.erfc(b * _SQRT1_2))
    m = 0.5 * (math.erfc(-b * _SQRT1_2) - math.erfc(-a * _SQRT1_2))
    if m > 1e-250:
        return math.log(m)
    lb = log_ndtr_nb(b)
    d = log_ndtr_nb(a) - lb
    if d > -0.6931471805599453:
        return lb + math.log(-math.expm1(d))
    return lb + math.log1p(-math.exp(d))


@njit(cache=True)
def log_mass_many_nb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`log_mass_nb` elementwise over equally shaped 1-D arrays."""
    out = np.empty(a.size)
    for i in range(a.size):
        out[i] = log_mass_nb(a[i], b[i])
    return out


@njit(cache=True)
def mixture_log_pdf_nb(
    x: np.ndarray,
    row: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_w: np.ndarray,
    log_z: np.ndarray,
    step: float,
    is_log: bool,
) -> np.ndarray:
    """Log density of each ``x[i]`` under mixture row ``row[i]``: kernels ``mus[r], sigmas[r]``
    (model space) with log weights ``log_w[r]`` and log masses ``log_z[r]`` inside the row's
    bounds; a discrete parameter (``step > 0``) takes the mass of ``[x - step/2, x + step/2]``."""
    out = np.empty(x.size)
    terms = np.empty(mus.shape[1])
    for i in range(x.size):
        r = row[i]
        if step > 0.0:
            left = x[i] - 0.5 * step
            right = x[i] + 0.5 * step
        else:
            left = right = x[i]
        if is_log:
            left = math.log(left)
            right = math.log(right)
        out[i] = _log_pdf_one_nb(
            left, right, mus[r], sigmas[r], log_w[r], log_z[r], step > 0.0, terms
        )
    return out


# Acklam's rational approximation of the normal quantile (lower half), refined by Newton steps.
_A = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269,
      -30.66479806614716, 2.506628277459239)  # fmt: skip
_B = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
      -13.28068155288572)  # fmt: skip
_C = (-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
      4.374664141464968, 2.938163982698783)  # fmt: skip
_D = (0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416)


@njit(cache=True)
def _acklam_nb(p: float, lp: float) -> float:
    """Acklam's approximation (relative error 1.2e-9) of the normal quantile of ``p <= 0.5``
    (``lp = log(p)``)."""
    if p < 0.02425:
        q = math.sqrt(-2.0 * lp)
        return (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    q = p - 0.5
    r = q * q
    return (
        (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5])
        * q
        / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
    )


@njit(cache=True)
def _ndtri_low_nb(p: float) -> float:
    """The normal quantile of ``1e-300 < p <= 0.5``: Acklam plus two Newton steps."""
    z = _acklam_nb(p, math.log(p))
    for _ in range(2):
        z -= (0.5 * math.erfc(-z * _SQRT1_2) - p) / math.exp(-0.5 * z * z - _LOG_SQRT_2PI)
    return z


@njit(cache=True)
def _ndtri_exp_low_nb(lp: float) -> float:
    """``z`` with ``log(Phi(z)) = lp`` for ``lp <= log(0.5)``."""
    if lp < -700.0:
        z = -math.sqrt(-2.0 * lp)  # left of the root; Newton climbs to it
        n_iter = 8
    else:
        z = _acklam_nb(math.exp(lp), lp)
        n_iter = 3
    for _ in range(n_iter):  # Newton on log Phi(z) = lp
        lz = log_ndtr_nb(z)
        z -= (lz - lp) / math.exp(-0.5 * z * z - _LOG_SQRT_2PI - lz)
    return z


@njit(cache=True)
def ndtri_exp_nb(lp: float) -> float:
    """The standard normal quantile of ``exp(lp)`` (``lp <= 0``)."""
    if lp <= -0.6931471805599453:
        return _ndtri_exp_low_nb(lp)
    return -_ndtri_exp_low_nb(math.log(-math.expm1(lp)))


@njit(cache=True)
def truncnorm_ppf_nb(u: float, a: float, b: float) -> float:
    """The ``u`` quantile of the standard normal truncated to ``[a, b]``: in probabilities
    while they keep their digits, else in log space."""
    flip = a > 0.0
    if flip:
        a, b = -b, -a
        u = 1.0 - u
    pa = 0.5 * math.erfc(-a * _SQRT1_2)  # a <= 0: Phi(a) to full relative precision
    qb = 0.5 * math.erfc(b * _SQRT1_2)  # 1 - Phi(b)
    mass = 1.0 - pa - qb if b > 0.0 else 0.5 * math.erfc(-b * _SQRT1_2) - pa
    if pa > 1e-290 and mass > 1e-290:
        p = pa + u * mass
        # the upper half from its complement, which keeps its digits
        z = _ndtri_low_nb(p) if p <= 0.5 else -_ndtri_low_nb(qb + (1.0 - u) * mass)
    else:
        la = log_ndtr_nb(a)
        lu = math.log(u) if u > 0.0 else -np.inf
        t = lu + log_mass_nb(a, b)
        top = max(la, t)
        lp = top + math.log1p(math.exp(min(la, t) - top)) if top > -np.inf else -np.inf
        z = ndtri_exp_nb(min(lp, 0.0)) if lp > -np.inf else a
    z = min(max(z, a), b)
    return -z if flip else z


@njit(cache=True)
def _truncnorm_masses_nb(a: float, b: float) -> tuple[float, float, float]:
    """What :func:`truncnorm_ppf_nb` computes first for ``[a, b]`` (mirrored when ``a > 0``):
    ``Phi(a)``, ``1 - Phi(b)`` and the mass between."""
    if a > 0.0:
        a, b = -b, -a
    pa = 0.5 * math.erfc(-a * _SQRT1_2)
    qb = 0.5 * math.erfc(b * _SQRT1_2)
    mass = 1.0 - pa - qb if b > 0.0 else 0.5 * math.erfc(-b * _SQRT1_2) - pa
    return pa, qb, mass


@njit(cache=True)
def _draw_fast_nb(u: float, a: float, b: float, pa: float, qb: float, mass: float) -> float:
    """:func:`truncnorm_ppf_nb` from its masses (:func:`_truncnorm_masses_nb`) by Acklam's
    approximation alone (relative error 1.2e-9, no Newton steps); nan where the exact function
    works in log space."""
    if not (pa > 1e-290 and mass > 1e-290):
        return np.nan
    flip = a > 0.0
    if flip:
        a, b = -b, -a
        u = 1.0 - u
    p = pa + u * mass
    if p <= 0.5:
        z = _acklam_nb(p, math.log(p))
    else:
        pc = qb + (1.0 - u) * mass
        z = -_acklam_nb(pc, math.log(pc))
    z = min(max(z, a), b)
    return -z if flip else z


@njit(cache=True)
def build_nb(
    x: np.ndarray, order: np.ndarray, w: np.ndarray, lo: float, hi: float, prior_weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One Parzen estimator: ``x`` observations (model space) sorted by ``order``, weights
    ``w``, truncation ``[lo, hi]``. Returns ``mus, sigmas, log_w, log_z`` (observations then
    the prior kernel)."""
    n = x.size
    span = hi - lo
    mus = np.empty(n + 1)
    sigmas = np.empty(n + 1)
    log_w = np.empty(n + 1)
    log_z = np.empty(n + 1)
    total = prior_weight
    for i in range(n):
        mus[i] = x[i]
        total += w[i]
    min_sigma = span / min(100.0, n + 2.0)
    for k in range(n):
        prev = lo if k == 0 else x[order[k - 1]]
        nxt = hi if k == n - 1 else x[order[k + 1]]
        cur = x[order[k]]
        if n >= 2 and k == 0:
            s = nxt - cur
        elif n >= 2 and k == n - 1:
            s = cur - prev
        else:
            s = max(cur - prev, nxt - cur)
        sigmas[order[k]] = min(max(s, min_sigma), span)
    mus[n] = 0.5 * (lo + hi)
    sigmas[n] = span
    for i in range(n + 1):
        wi = w[i] if i < n else prior_weight
        log_w[i] = math.log(wi / total) if wi > 0.0 else -np.inf
        log_z[i] = log_mass_nb((lo - mus[i]) / sigmas[i], (hi - mus[i]) / sigmas[i])
    return mus, sigmas, log_w, log_z


@njit(cache=True)
def _log_pdf_one_nb(
    left: float,
    right: float,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_w: np.ndarray,
    log_z: np.ndarray,
    discrete: bool,
    terms: np.ndarray,
) -> float:
    n_k = mus.size
    top = -np.inf
    for j in range(n_k):
        mu = mus[j]
        sig = sigmas[j]
        za = (left - mu) / sig
        zb = (right - mu) / sig
        if (za > _CUT or zb < -_CUT) and log_z[j] > _LOG_Z_MIN:
            terms[j] = -np.inf  # negligible: see _CUT
            continue
        # a mass for a discrete parameter, else a density (the width's log enters)
        t = log_mass_nb(za, zb) if discrete else -0.5 * za * za - math.log(sig) - _LOG_SQRT_2PI
        t += log_w[j] - log_z[j]
        terms[j] = t
        if t > top:
            top = t
    if not np.isfinite(top):
        top = 0.0
    acc = 0.0
    for j in range(n_k):
        acc += math.exp(terms[j] - top)
    return math.log(acc) + top


#: Lattice tails kept per kernel width at most (farther offsets are computed when needed).
_TAB_MAX = 512


@njit(cache=True)
def tails_store_nb(n_gaps: int, n_extra: int) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # fmt: skip
    """An empty cache of normal tails ``Phi(-|q| * step / 2 / sigma)`` at the half-step lattice
    offsets ``q`` of a discrete parameter, one slot per kernel width: a slot per width of
    ``g`` steps (``1 <= g <= n_gaps``, found by ``g``) and ``n_extra`` slots for other widths
    (the clipped ones). Entries are filled on first use."""
    lmax = min(_TAB_MAX, 2 * n_gaps + 8)
    cap = n_gaps + 1 + n_extra
    return (
        np.empty((cap, lmax)),  # tails, NaN until computed
        np.empty(cap),  # the slot's width
        np.empty(cap, dtype=np.int64),  # the largest |q| a prunable kernel is evaluated at
        np.zeros(cap, dtype=np.int64),  # entries kept
        np.full(n_gaps + 1, -1, dtype=np.int64),  # slot of the width g * step
        np.zeros(1, dtype=np.int64),  # slots used
    )


@njit(cache=True)
def _new_slot_nb(store, sig: float, half: float) -> int:  # noqa: ANN001
    tab, tsig, tqc, tlen, _, count = store
    s = count[0]
    if s >= tsig.size:
        return -1
    count[0] = s + 1
    qc = int(_CUT * sig / half)  # the largest q with (q * half) / sig <= _CUT
    while ((qc + 1) * half) / sig <= _CUT:
        qc += 1
    while qc >= 0 and (qc * half) / sig > _CUT:
        qc -= 1
    n = min(tab.shape[1], qc + 3)
    tab[s, :n] = np.nan
    tsig[s], tqc[s], tlen[s] = sig, qc, n
    return s


@njit(cache=True)
def _slot_nb(store, sig: float, step: float, extra: np.ndarray) -> int:  # noqa: ANN001
    """The slot of width ``sig``: a whole number of steps, or one of ``extra``'s; -1 if none."""
    _, tsig, _, _, gap_slot, _ = store
    g = np.rint(sig / step)
    if 1.0 <= g < gap_slot.size and g * step == sig:
        s = gap_slot[int(g)]
        if s < 0:
            s = _new_slot_nb(store, sig, 0.5 * step)
            gap_slot[int(g)] = s
        return s
    for e in extra:
        if e >= 0 and tsig[e] == sig:
            return e
    return -1


@njit(cache=True, inline="always")
def _tail_nb(row, n_row, a, half, sig):  # noqa: ANN001, ANN202
    """``Phi(-(a * half) / sig)`` (``a >= 0``), kept in ``row`` (a slot's first ``n_row``
    entries, NaN until computed)."""
    if a < n_row:
        v = row[a]
        if v != v:
            v = 0.5 * math.erfc(((a * half) / sig) * _SQRT1_2)
            row[a] = v
        return v
    return 0.5 * math.erfc(((a * half) / sig) * _SQRT1_2)


@njit(cache=True)
def grid_log_pdf_nb(
    ks: np.ndarray,
    low: float,
    high: float,
    step: float,
    is_log: bool,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_w: np.ndarray,
    log_z: np.ndarray,
) -> np.ndarray:
    """Log probabilities of the grid values ``low + k * step`` for the increasing integers
    ``ks`` under one discrete mixture: the numbers of :func:`mixture_log_pdf_nb`, summed in
    probabilities where they are representable (log space otherwise)."""
    gaps = 1
    for j in range(mus.size):
        gaps = max(gaps, int(sigmas[j] / step) + 1)
    store = tails_store_nb(min(gaps, 4096), 0)
    return lattice_log_pdf_nb(
        ks, low, high, step, is_log, mus, sigmas, log_w, log_z, store, np.full(1, -1, np.int64)
    )


@njit(cache=True)
def lattice_log_pdf_nb(  # noqa: ANN201
    ks, low, high, step, is_log, mus, sigmas, log_w, log_z, store, extra  # noqa: ANN001
):  # fmt: skip
    """:func:`grid_log_pdf_nb` with a tails cache (:func:`tails_store_nb`, widths beyond its
    gap slots and ``extra`` slots computed directly). A kernel centred on the half-step lattice
    (``2 * (mu - low) / step`` a whole number) takes each cell edge's tail ``Phi(-|z|)``, ``z``
    the edge's offset in half steps times ``step / 2 / sigma``, from its width's slot: the same
    floating-point numbers as computed edge by edge (the offsets are exact), shared by every
    kernel of that width."""
    tab, tsig, tqc, tlen, gap_slot, _ = store
    m = ks.size
    half = 0.5 * step
    k_hi = int(np.rint((high - low) / step))
    lo_m, hi_m = low - half, high + half
    if is_log:
        lo_m, hi_m = math.log(lo_m), math.log(hi_m)
    left = np.empty(m)
    right = np.empty(m)
    for i in range(m):
        a = low + (ks[i] - 0.5) * step
        b = low + (ks[i] + 0.5) * step
        left[i] = math.log(a) if is_log else a
        right[i] = math.log(b) if is_log else b
    lin = np.zeros(m)  # sum of weight * mass / Z, kernels with a representable 1/Z
    top = np.full(m, -np.inf)  # log-space sum of the rest (far tails, tiny Z)
    acc = np.zeros(m)
    for j in range(mus.size):
        mu = mus[j]
        sig = sigmas[j]
        base = log_w[j] - log_z[j]
        scale = math.exp(base) if base < 600.0 else 0.0
        prunable = log_z[j] > _LOG_Z_MIN
        s = -1
        pos = 2.0 * (mu - low) / step
        if not is_log and np.rint(pos) == pos and abs(pos) < 1e15:
            g = np.rint(sig / step)  # the width's slot, written out (no call per kernel)
            if 1.0 <= g < gap_slot.size and g * step == sig:
                s = gap_slot[int(g)]
                if s < 0:
                    s = _new_slot_nb(store, sig, half)
                    gap_slot[int(g)] = s
            else:
                for e in extra:
                    if e >= 0 and tsig[e] == sig:
                        s = e
                        break
        qc = tqc[s] if s >= 0 else 0
        mpos = int(pos) if s >= 0 else 0
        # a kernel mostly outside the bounds: its nearest point inside them (see _CUT)
        mu_in = min(max(mu, lo_m), hi_m)
        cpos = min(max(mpos, -1), 2 * k_hi + 1)
        n_row = tlen[s] if s >= 0 else 0
        for i in range(m):
            if s >= 0:
                qa = 2 * ks[i] - 1 - mpos
                qb = qa + 2
                if prunable and (qa > qc or -qb > qc):
                    continue
                if not prunable and (qa + mpos - cpos > qc or -(qb + mpos - cpos) > qc):
                    continue
                ia = abs(qa)  # the tails, written out (a call per pair costs more)
                ib = abs(qb)
                if ia < n_row:
                    ta = tab[s, ia]
                    if ta != ta:
                        ta = 0.5 * math.erfc(((ia * half) / sig) * _SQRT1_2)
                        tab[s, ia] = ta
                else:
                    ta = 0.5 * math.erfc(((ia * half) / sig) * _SQRT1_2)
                if ib < n_row:
                    tb = tab[s, ib]
                    if tb != tb:
                        tb = 0.5 * math.erfc(((ib * half) / sig) * _SQRT1_2)
                        tab[s, ib] = tb
                else:
                    tb = 0.5 * math.erfc(((ib * half) / sig) * _SQRT1_2)
                mass = tb - ta if qb <= 0 else (ta - tb if qa >= 0 else 1.0 - ta - tb)
                if mass > 1e-250 and scale > 0.0:
                    lin[i] += scale * mass
                    continue
                za = (qa * half) / sig
                zb = (qb * half) / sig
            else:
                za = (left[i] - mu) / sig
                zb = (right[i] - mu) / sig
                if prunable and (za > _CUT or zb < -_CUT):
                    continue
                if not prunable and (
                    (left[i] - mu_in) / sig > _CUT or (right[i] - mu_in) / sig < -_CUT
                ):
                    continue
                ta = 0.5 * math.erfc(abs(za) * _SQRT1_2)  # Phi(-|z|)
                tb = 0.5 * math.erfc(abs(zb) * _SQRT1_2)
                mass = tb - ta if zb <= 0.0 else (ta - tb if za >= 0.0 else 1.0 - ta - tb)
                if mass > 1e-250 and scale > 0.0:
                    lin[i] += scale * mass
                    continue
            t = base + log_mass_nb(za, zb)
            if t > top[i]:
                acc[i] = acc[i] * math.exp(top[i] - t) + 1.0 if top[i] > -np.inf else 1.0
                top[i] = t
            elif t > -np.inf:
                acc[i] += math.exp(t - top[i])
    out = np.empty(m)
    for i in range(m):
        if top[i] == -np.inf:
            out[i] = math.log(lin[i]) if lin[i] > 0.0 else -np.inf
        elif lin[i] > 0.0:
            hi = max(math.log(lin[i]), top[i])
            out[i] = hi + math.log(lin[i] * math.exp(-hi) + acc[i] * math.exp(top[i] - hi))
        else:
            out[i] = top[i] + math.log(acc[i])
    return out


@njit(cache=True)
def _liar_gap_nb(v: float, sorted_g: np.ndarray, liars: np.ndarray, n_liars: int) -> float:
    """A running trial's unclipped kernel width: the larger gap to its nearest neighbours among
    the above group's observations and the first ``n_liars`` running trials (nan without a
    neighbour: the whole span). It depends on no bounds, so it is found once per trial."""
    below = -np.inf
    above = np.inf
    i = np.searchsorted(sorted_g, v)
    if i > 0:
        below = sorted_g[i - 1]
    if i < sorted_g.size:
        above = sorted_g[i]
    for k in range(n_liars):
        u = liars[k]
        if below < u <= v:
            below = u
        if v <= u < above:
            above = u
    if below == -np.inf and above == np.inf:
        return np.nan
    gap = 0.0
    if below > -np.inf:
        gap = v - below
    if above < np.inf:
        gap = max(gap, above - v)
    return gap


@njit(cache=True)
def _kernel_share_nb(
    left: float, right: float, mu: float, sig: float, log_z: float, discrete: bool
) -> float:
    """One truncated kernel's probability of ``[left, right]`` (density at ``left`` if not
    ``discrete``), divided by its mass ``exp(log_z)`` inside the bounds; 0 where negligible
    (see ``_CUT``)."""
    za = (left - mu) / sig
    zb = (right - mu) / sig
    if (za > _CUT or zb < -_CUT) and log_z > _LOG_Z_MIN:
        return 0.0
    if not discrete:
        return math.exp(-0.5 * za * za - math.log(sig) - _LOG_SQRT_2PI - log_z)
    if za > 0.0:
        za, zb = -zb, -za
    mass = 0.5 * (math.erfc(-zb * _SQRT1_2) - math.erfc(-za * _SQRT1_2))
    if mass > 1e-250 and log_z > -500.0:
        return mass * math.exp(-log_z)
    return math.exp(log_mass_nb(za, zb) - log_z)


@njit(cache=True)
def _run_nb(  # noqa: ANN201, PLR0913
    g0, g1, run, by_bounds, low, high, step, is_log, prior_weight, x_l, order_l, w_l, x_g, order_g, w_g, u_kernel, u_quantile, store, cand, base, log_g0, row_lo, row_hi, extras, group, cum, terms, k_a, k_b, k_pa, k_qb, k_m,  # noqa: ANN001
):  # fmt: skip
    """Phase 1 of :func:`propose_nb` for one run of equal bounds (rows ``by_bounds[g0:g1]``,
    run number ``run``): the below and above mixtures in those bounds, each row's candidates
    and their ``log l`` and ``log g`` without running trials, written to the rows' places in
    ``cand``, ``base``, ``log_g0``, ``row_lo``, ``row_hi``, ``extras`` and ``group``; ``store``
    the tails cache, the rest scratch."""
    n_cand = u_kernel.shape[1]
    half = 0.5 * step
    discrete = step > 0.0
    lattice = discrete and not is_log
    r0 = by_bounds[g0]
    lo, hi = low[r0] - half, high[r0] + half
    if is_log:
        lo, hi = math.log(lo), math.log(hi)
    mus_l, sig_l, lw_l, lz_l = build_nb(x_l, order_l, w_l, lo, hi, prior_weight)
    mus_g, sig_g, lw_g, lz_g = build_nb(x_g, order_g, w_g, lo, hi, prior_weight)
    ext = extras[r0]
    if lattice:  # the widths clipped to the minimum (below and above groups) and the span
        span = hi - lo
        ext[0] = _new_slot_nb(store, span / min(100.0, x_l.size + 2.0), half)
        ext[1] = _new_slot_nb(store, span / min(100.0, x_g.size + 2.0), half)
        ext[2] = _new_slot_nb(store, span, half)
    acc = 0.0
    for j in range(mus_l.size):
        acc += math.exp(lw_l[j])
        cum[j] = acc
    k0, k1 = 1 << 62, -1
    if lattice:  # each below kernel's truncation, as truncnorm_ppf_nb starts from it
        for j in range(mus_l.size):
            k_a[j] = (lo - mus_l[j]) / sig_l[j]
            k_b[j] = (hi - mus_l[j]) / sig_l[j]
            k_pa[j], k_qb[j], k_m[j] = _truncnorm_masses_nb(k_a[j], k_b[j])
    for q in range(g0, g1):
        r = by_bounds[q]
        row_lo[r], row_hi[r] = lo, hi
        extras[r] = ext
        group[r] = run
        for c in range(n_cand):
            target = u_kernel[r, c] * cum[mus_l.size - 1]
            j = 0
            while j < mus_l.size - 1 and cum[j] <= target:
                j += 1
            mu, sig = mus_l[j], sig_l[j]
            z = np.nan
            if lattice:
                z = _draw_fast_nb(u_quantile[r, c], k_a[j], k_b[j], k_pa[j], k_qb[j], k_m[j])
                kf = (mu + sig * z - low[r0]) / step  # the cell is all a draw decides
                tol = 1e-3 + 1e-8 * (1.0 + abs(z)) * sig / step  # 10x Acklam's error
                if abs(kf - math.floor(kf) - 0.5) < tol:
                    z = np.nan  # near a cell's edge: the exact quantile decides
            if z != z:
                z = truncnorm_ppf_nb(u_quantile[r, c], (lo - mu) / sig, (hi - mu) / sig)
            v = mu + sig * z
            if is_log:
                v = math.exp(v)
            if discrete:
                v = low[r0] + np.rint((v - low[r0]) / step) * step
                v = min(max(v, low[r0]), high[r0])
                k = int(np.rint((v - low[r0]) / step))
                k0, k1 = min(k0, k), max(k1, k)
            cand[r, c] = v
    if discrete:  # each distinct grid value of the run once
        pos = np.full(k1 - k0 + 1, -1)
        for q in range(g0, g1):
            for c in range(n_cand):
                pos[int(np.rint((cand[by_bounds[q], c] - low[r0]) / step)) - k0] = 0
        ks = np.empty(pos.size, dtype=np.int64)
        n_ks = 0
        for i in range(pos.size):
            if pos[i] == 0:
                pos[i] = n_ks
                ks[n_ks] = k0 + i
                n_ks += 1
        ks = ks[:n_ks]
        ll = lattice_log_pdf_nb(
            ks, low[r0], high[r0], step, is_log, mus_l, sig_l, lw_l, lz_l, store, ext
        )
        lg = lattice_log_pdf_nb(
            ks, low[r0], high[r0], step, is_log, mus_g, sig_g, lw_g, lz_g, store, ext
        )
        for q in range(g0, g1):
            r = by_bounds[q]
            for c in range(n_cand):
                i = pos[int(np.rint((cand[r, c] - low[r0]) / step)) - k0]
                base[r, c], log_g0[r, c] = ll[i], lg[i]
    else:
        for q in range(g0, g1):
            r = by_bounds[q]
            for c in range(n_cand):
                v = math.log(cand[r, c]) if is_log else cand[r, c]
                base[r, c] = _log_pdf_one_nb(v, v, mus_l, sig_l, lw_l, lz_l, False, terms)
                log_g0[r, c] = _log_pdf_one_nb(v, v, mus_g, sig_g, lw_g, lz_g, False, terms)


@njit(cache=True)
def _part_nb(  # noqa: ANN201, PLR0913
    ga, gb, starts, by_bounds, low, high, step, is_log, prior_weight, x_l, order_l, w_l,
    x_g, order_g, w_g, u_kernel, u_quantile, store, cand, base, log_g0, row_lo, row_hi,
    extras, group,  # noqa: ANN001
):  # fmt: skip
    """:func:`_run_nb` for runs ``ga .. gb - 1`` (rows ``by_bounds[starts[g]:starts[g + 1]]``),
    with scratch of its own."""
    cum = np.empty(x_l.size + 1)
    terms = np.empty(max(x_l.size, x_g.size) + 1)
    k_a = np.empty(x_l.size + 1)  # per below kernel: its truncation (z) and masses
    k_b = np.empty(x_l.size + 1)
    k_pa = np.empty(x_l.size + 1)
    k_qb = np.empty(x_l.size + 1)
    k_m = np.empty(x_l.size + 1)
    for g in range(ga, gb):
        _run_nb(
            starts[g], starts[g + 1], g, by_bounds, low, high, step, is_log, prior_weight, x_l,
            order_l, w_l, x_g, order_g, w_g, u_kernel, u_quantile, store, cand, base, log_g0,
            row_lo, row_hi, extras, group, cum, terms, k_a, k_b, k_pa, k_qb, k_m,
        )  # fmt: skip


@njit(cache=True, parallel=True)
def _two_parts_nb(  # noqa: ANN201, PLR0913
    split, starts, by_bounds, low, high, step, is_log, prior_weight, x_l, order_l, w_l, x_g,
    order_g, w_g, u_kernel, u_quantile, store_a, store_b, cand, base, log_g0, row_lo, row_hi,
    extras, group,  # noqa: ANN001
):  # fmt: skip
    """:func:`_part_nb` of runs ``0 .. split - 1`` (tails cache ``store_a``) and of the rest
    (``store_b``) on two threads. Every row is written by one part; a cache only keeps values
    computed the same way, so the numbers are those of one part doing all runs."""
    n_runs = starts.size - 1
    for h in prange(2):
        if h == 0:
            _part_nb(
                0, split, starts, by_bounds, low, high, step, is_log, prior_weight, x_l, order_l,
                w_l, x_g, order_g, w_g, u_kernel, u_quantile, store_a, cand, base, log_g0,
                row_lo, row_hi, extras, group,
            )  # fmt: skip
        else:
            _part_nb(
                split, n_runs, starts, by_bounds, low, high, step, is_log, prior_weight, x_l,
                order_l, w_l, x_g, order_g, w_g, u_kernel, u_quantile, store_b, cand, base,
                log_g0, row_lo, row_hi, extras, group,
            )  # fmt: skip


@njit(cache=True)
def _run_starts_nb(by_bounds, low, high):  # noqa: ANN001, ANN201
    """Where each run of equal bounds starts in ``by_bounds`` order, and the row count last."""
    rows = by_bounds.size
    out = np.empty(rows + 1, dtype=np.int64)
    n = 0
    g0 = 0
    while g0 < rows:
        out[n] = g0
        n += 1
        r0 = by_bounds[g0]
        g1 = g0 + 1
        while g1 < rows and low[by_bounds[g1]] == low[r0] and high[by_bounds[g1]] == high[r0]:
            g1 += 1
        g0 = g1
    out[n] = rows
    return out[: n + 1]


#: Rows of a :func:`propose_nb` call from which its runs of equal bounds are scored in two parts
#: on numba's threads (phase 1: ~10 microseconds a row, against a few to start the threads).
TWO_PARTS_MIN_ROWS = 8


@njit(cache=True, nogil=True)
def propose_nb(
    x_l: np.ndarray,
    order_l: np.ndarray,
    w_l: np.ndarray,
    x_g: np.ndarray,
    order_g: np.ndarray,
    w_g: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    step: float,
    is_log: bool,
    prior_weight: float,
    u_kernel: np.ndarray,
    u_quantile: np.ndarray,
    pending: np.ndarray,
) -> np.ndarray:
    """One value per row (trial, in order): of ``u_kernel.shape[1]`` draws from the below
    mixture (``x_l``, model space), the one with the largest ``log l(x) - log g(x)`` (first on
    ties), where ``g`` also counts the ``pending`` values (model space: trials of an earlier
    batch still running) and the values chosen for the earlier rows (constant liar: running
    trials join the above group with weight 1, the pending ones first).

    ``low``/``high``: each row's bounds (external scale, unwidened). The candidates and their
    ``log l`` and ``log g`` without the running trials are computed first, once per distinct
    bounds and grid value; then the rows are chosen in order, each adding its running trials.
    ``u_kernel``/``u_quantile``: uniforms choosing each draw's kernel and its quantile. A
    discrete parameter's normal tails come from one cache (:func:`tails_store_nb`) shared by
    every row, kernel and running trial of the call: the observations, the bounds and the
    candidates lie on the parameter's step lattice, so most kernels share a few widths.
    """
    rows, n_cand = u_kernel.shape
    out = np.empty(rows)
    half = 0.5 * step
    discrete = step > 0.0
    cand = np.empty((rows, n_cand))
    base = np.empty((rows, n_cand))  # log l
    log_g0 = np.empty((rows, n_cand))
    row_lo = np.empty(rows)
    row_hi = np.empty(rows)
    total_g = prior_weight
    for j in range(w_g.size):
        total_g += w_g[j]
    by_bounds = np.argsort(low * 1e6 + high) if rows > 1 else np.zeros(1, dtype=np.int64)
    lattice = discrete and not is_log
    n_gaps = 0
    if lattice:  # widths of whole steps up to the spread of the observations and bounds
        a, b = low.min(), high.max()
        if x_l.size:
            a, b = min(a, x_l.min()), max(b, x_l.max())
        if x_g.size:
            a, b = min(a, x_g.min()), max(b, x_g.max())
        n_gaps = int(min(np.rint((b - a) / step) + 2, 1 << 16))
    store = tails_store_nb(n_gaps, 3 * rows)
    extras = np.full((rows, 3), -1, dtype=np.int64)  # per row: its clipped widths' slots
    # phase 1: per run of equal bounds, draw the candidates and score them without running
    # trials; with enough rows and runs, the runs in two parts on two threads, the second part
    # with a tails cache of its own
    group = np.empty(rows, dtype=np.int64)  # each row's run of equal bounds
    starts = _run_starts_nb(by_bounds, low, high)
    n_groups = starts.size - 1
    split = n_groups
    if rows >= TWO_PARTS_MIN_ROWS and n_groups >= 2:  # the run boundary nearest half the rows
        split = 1
        for cut in range(2, n_groups):
            if abs(2 * starts[cut] - rows) < abs(2 * starts[split] - rows):
                split = cut
    if split == n_groups:
        _part_nb(
            0, n_groups, starts, by_bounds, low, high, step, is_log, prior_weight, x_l, order_l,
            w_l, x_g, order_g, w_g, u_kernel, u_quantile, store, cand, base, log_g0, row_lo,
            row_hi, extras, group,
        )  # fmt: skip
    else:
        _two_parts_nb(
            split, starts, by_bounds, low, high, step, is_log, prior_weight, x_l, order_l, w_l,
            x_g, order_g, w_g, u_kernel, u_quantile, store, tails_store_nb(n_gaps, 3 * rows),
            cand, base, log_g0, row_lo, row_hi, extras, group,
        )  # fmt: skip
        if lattice:  # the second part's clipped widths' slots, again in the cache phase 2 uses
            for later in range(split, n_groups):
                r0 = by_bounds[starts[later]]
                span = row_hi[r0] - row_lo[r0]
                ext = extras[r0]
                ext[0] = _new_slot_nb(store, span / min(100.0, x_l.size + 2.0), half)
                ext[1] = _new_slot_nb(store, span / min(100.0, x_g.size + 2.0), half)
                ext[2] = _new_slot_nb(store, span, half)
                for q in range(starts[later] + 1, starts[later + 1]):
                    extras[by_bounds[q]] = ext
    # phase 2: the rows in order, each trial's g counting the earlier ones (running trials)
    sorted_g = np.sort(x_g)
    n_p = pending.size
    n_all = n_p + rows
    liars = np.empty(n_all)  # model space: the pending values, then the rows chosen so far
    liars[:n_p] = pending
    gaps = np.empty(n_all)  # each running trial's unclipped width (_liar_gap_nb)
    for i in range(n_p):
        gaps[i] = _liar_gap_nb(liars[i], sorted_g, liars, i)
    # each running trial's kernel in each run of equal bounds (it depends on the bounds and the
    # trial alone), computed for the first row of the run that counts it, kept for the others
    run_sig = np.empty((n_groups, n_all))
    run_lz = np.empty((n_groups, n_all))
    run_slot = np.full((n_groups, n_all), -1, dtype=np.int64)
    run_pos = np.zeros((n_groups, n_all), dtype=np.int64)  # half steps from the row's low
    run_cut = np.zeros((n_groups, n_all), dtype=np.int64)  # pruning offset (lattice_log_pdf_nb)
    run_inv_z = np.zeros((n_groups, n_all))
    run_done = np.zeros(n_groups, dtype=np.int64)
    # on the lattice, each grid cell's sum of the running trials' shares per run of equal bounds:
    # the next row of the run adds only its new running trials to it (the same sum, in order)
    k_max = 1
    if lattice:
        for r in range(rows):
            k_max = max(k_max, int(np.rint((high[r] - low[r]) / step)) + 1)
    cell_cache = lattice and n_groups * k_max <= 1 << 22
    n_cache = n_groups if cell_cache else 0
    cell_run = np.zeros((n_cache, k_max if cell_cache else 0))
    cell_done = np.zeros((n_cache, k_max if cell_cache else 0), dtype=np.int64)
    tab, tsig, tqc, tlen, gap_slot, _ = store
    for r in range(rows):
        lo, hi = row_lo[r], row_hi[r]
        span = hi - lo
        min_sigma = span / min(100.0, x_g.size + 2.0)
        k_hi = int(np.rint((high[r] - low[r]) / step)) if lattice else 0
        n_run = n_p + r
        gr = group[r]
        r_sig, r_lz, r_slot = run_sig[gr], run_lz[gr], run_slot[gr]
        r_pos, r_cut, r_inv_z = run_pos[gr], run_cut[gr], run_inv_z[gr]
        for i in range(run_done[gr], n_run):
            gap = span if gaps[i] != gaps[i] else gaps[i]
            width = min(max(gap, min_sigma), span)
            lz = log_mass_nb((lo - liars[i]) / width, (hi - liars[i]) / width)
            r_sig[i], r_lz[i] = width, lz
            r_inv_z[i] = math.exp(-lz) if lz > -500.0 else 0.0
            r_slot[i] = -1
            half_steps = 2.0 * (liars[i] - low[r]) / step if lattice else 0.5
            if np.rint(half_steps) == half_steps and abs(half_steps) < 1e15:
                s = -1
                g = np.rint(width / step)
                if 1.0 <= g < gap_slot.size and g * step == width:
                    s = gap_slot[int(g)]
                    if s < 0:
                        s = _new_slot_nb(store, width, half)
                        gap_slot[int(g)] = s
                else:
                    for e in extras[r]:
                        if e >= 0 and tsig[e] == width:
                            s = e
                            break
                r_slot[i] = s
                r_pos[i] = int(half_steps)
                inside = min(max(r_pos[i], -1), 2 * k_hi + 1)
                r_cut[i] = 0 if lz > _LOG_Z_MIN else r_pos[i] - inside
        run_done[gr] = n_run
        best = 0
        best_score = -np.inf
        for c in range(n_cand):
            v = cand[r, c]
            seen = -1  # an equal candidate of this row already scored
            for e in range(c):
                if cand[r, e] == v:
                    seen = e
                    break
            if seen >= 0:
                continue  # same score; the first of equals wins ties
            if discrete:
                left, right = v - half, v + half
            else:
                left = right = v
            if is_log:
                left, right = math.log(left), math.log(right)
            k = int(np.rint((v - low[r]) / step)) if lattice else 0
            run = 0.0
            i_from = 0
            if cell_cache:
                run, i_from = cell_run[gr, k], cell_done[gr, k]
            for i in range(i_from, n_run):
                s = r_slot[i]
                if s < 0:
                    run += _kernel_share_nb(left, right, liars[i], r_sig[i], r_lz[i], discrete)
                    continue
                qa = 2 * k - 1 - r_pos[i]  # the cell's edges in half steps from the liar
                qb = qa + 2
                qc = tqc[s]
                if qa + r_cut[i] > qc or -(qb + r_cut[i]) > qc:
                    continue  # negligible: see _CUT and lattice_log_pdf_nb
                ia = abs(qa)
                ib = abs(qb)
                width = tsig[s]
                if ia < tlen[s]:
                    ta = tab[s, ia]
                    if ta != ta:
                        ta = 0.5 * math.erfc(((ia * half) / width) * _SQRT1_2)
                        tab[s, ia] = ta
                else:
                    ta = 0.5 * math.erfc(((ia * half) / width) * _SQRT1_2)
                if ib < tlen[s]:
                    tb = tab[s, ib]
                    if tb != tb:
                        tb = 0.5 * math.erfc(((ib * half) / width) * _SQRT1_2)
                        tab[s, ib] = tb
                else:
                    tb = 0.5 * math.erfc(((ib * half) / width) * _SQRT1_2)
                mass = tb - ta if qb <= 0 else (ta - tb if qa >= 0 else 1.0 - ta - tb)
                if mass > 1e-250 and r_inv_z[i] > 0.0:
                    run += mass * r_inv_z[i]
                else:
                    za, zb = (qa * half) / width, (qb * half) / width
                    run += math.exp(log_mass_nb(za, zb) - r_lz[i])
            if cell_cache:
                cell_run[gr, k], cell_done[gr, k] = run, n_run
            g = math.exp(log_g0[r, c]) * total_g + run
            score = base[r, c] - (math.log(g) - math.log(total_g + n_run))
            if c == 0 or score > best_score:
                best, best_score = c, score
        out[r] = cand[r, best]
        liars[n_run] = math.log(out[r]) if is_log else out[r]
        gaps[n_run] = _liar_gap_nb(liars[n_run], sorted_g, liars, n_run)
    return out
