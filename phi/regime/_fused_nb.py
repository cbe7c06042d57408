"""The probability side of the engine in one numba pass: probability field, expert weights and
the mixer, vectorised across the bars of a block.

:func:`fused_nb` walks the bars in blocks of :data:`BLOCK`; inside a block every quantity is a
row of bars (node x bar scratch), so each step is a loop over contiguous bars that LLVM turns
into SIMD code (``error_model="numpy"``: no zero-division checks, so divisions vectorise), and
the exponentials and logarithms are computed by branch-free polynomial kernels
(:func:`_exp_nb`, :func:`_log_nb`, relative error about 1e-15, SIMD too) instead of ~60 scalar
libm calls per bar. Every step runs over the whole block (the last one padded with zeros, never
stored), so a bar always goes through the same SIMD lanes and FMA contractions (``contract``)
whatever follows it: causal and reproducible, bar t reads bar t only.

Everything is float64; the regime and node probabilities equal the per-bar kernels (``field_nb``,
kept as the reference with ``expert_weights_nb`` and ``mix_core_nb``) to about 1e-15. The
weights are computed from float64 species and node probabilities (the per-bar path read them
back rounded to float32), so weights and mixer outputs differ from it by up to ~1e-7.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["BLOCK", "fused_nb"]

#: bars per block: the scratch (about 120 rows of BLOCK float64) stays in the L2 cache
BLOCK = 256

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453
_SQRT2 = 1.4142135623730951
_MANT = (1 << 52) - 1
_ONE = 1023 << 52


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
def _exp_nb(x: np.ndarray, out: np.ndarray, bits: np.ndarray, m: int) -> None:
    """``out[:m] = exp(x[:m])`` for x <= 709 (below -708: 0; NaN stays NaN); ``bits`` is int64
    scratch of length >= m. Cody-Waite reduction and a degree-13 Taylor polynomial (|r| <=
    ln2 / 2: truncation < 2e-16 relative); 2^k built in the exponent bits."""
    for i in range(m):
        v = x[i]
        c = max(v, -708.0)
        k = np.floor(c * _LOG2E + 0.5)
        r = c - k * _LN2_HI - k * _LN2_LO
        p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (
            1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (
                1.0 / 3628800 + r * (1.0 / 39916800 + r * (1.0 / 479001600 + r / 6227020800.0))))))))))))
        out[i] = p if v >= -708.0 else (0.0 if v < -708.0 else v)  # v NaN: NaN
        bits[i] = (np.int64(k) + 1023) << 52
    scale = bits.view(np.float64)
    for i in range(m):
        out[i] *= scale[i]


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
def _log_nb(x: np.ndarray, out: np.ndarray, fbuf: np.ndarray, ebuf: np.ndarray, m: int) -> None:
    """``out[:m] = log(x[:m])`` for positive normal x (NaN stays NaN); fbuf, ebuf float64
    scratch. x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m - 1) / (m + 1)) by
    its series to s^19 (|s| <= 0.172: truncation < 1e-16)."""
    ibuf = fbuf.view(np.int64)
    for i in range(m):
        fbuf[i] = x[i]
    for i in range(m):
        b = ibuf[i]
        ebuf[i] = np.float64((b >> 52) - 1023)
        ibuf[i] = (b & _MANT) | _ONE
    for i in range(m):
        f = fbuf[i]
        e = ebuf[i]
        big = f > _SQRT2
        f = f * 0.5 if big else f
        e = e + 1.0 if big else e
        s = (f - 1.0) / (f + 1.0)
        z = s * s
        q = 1.0 + z * (1.0 / 3 + z * (1.0 / 5 + z * (1.0 / 7 + z * (1.0 / 9 + z * (1.0 / 11 + z * (
            1.0 / 13 + z * (1.0 / 15 + z * (1.0 / 17 + z / 19.0))))))))
        v = x[i]
        out[i] = 2.0 * s * q + e * _LN2 if v == v else v


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def fused_nb(
    logits: np.ndarray,
    t_base: int,
    direction: np.ndarray,
    signals: np.ndarray,
    volume_z: np.ndarray,
    gap_z: np.ndarray,
    scales: np.ndarray,
    gstart: np.ndarray,
    gnodes: np.ndarray,
    parent: np.ndarray,
    paths: np.ndarray,
    base: np.ndarray,
    vol: np.ndarray,
    lstart: np.ndarray,
    lnodes: np.ndarray,
    lgroup: np.ndarray,
    affinity: np.ndarray,
    validity: np.ndarray,
    coupling: np.ndarray,
    eps: float,
    alpha: float,
    beta: float,
    level_entropy: bool,
    node_p: np.ndarray,
    regimes: np.ndarray,
    weights: np.ndarray,
    mixed: np.ndarray,
) -> None:
    """Probability field, expert weights and mixer for every bar, into the caller's arrays.

    logits (bars, nodes): the sticky logits of bars ``t_base .. t_base + len(logits) - 1``
    (every other array spans all bars: the pass may run block of bars by block, each call
    writing its rows); direction (bars,) the direction feature; signals (bars, experts);
    volume_z, gap_z (bars,) (NaN counts as 0 in all four); scales = direction_scale,
    liquidity_volume_scale, liquidity_gap_scale: the up share is ``u = sigmoid(scales[0] *
    direction)`` and ``c_liquidity = min(1, 2 sigmoid(scales[1] z_volume)) * 2 sigmoid(-scales[2]
    |z_gap|)``. Sibling group g holds nodes ``gnodes[gstart[g]:gstart[g +
    1]]``; parent (nodes,) the parent node of a class (-1: none); paths (species, levels) and
    base (species,) base-regime codes (0 TREND, 1 RANGE, 2 BREAKOUT, 3 EXHAUST_REV); vol = LV,
    NV, HV. Affinity level L holds nodes ``lnodes[lstart[L]:lstart[L + 1]]`` with the rows
    ``affinity[lstart[L]:lstart[L + 1]]``; ``lgroup[L]`` is the sibling group holding exactly
    those nodes in that order (its entropy is reused), -1 if none; validity (species, experts) 0/1; coupling (experts,
    experts) the mixer's interaction matrix. ``level_entropy``: c_field from the first five
    sibling groups' entropies (MFT.md) instead of the regime bins'. Writes node_p (bars,
    nodes; marginal, float32), regimes (bars, 8), weights (bars, experts; float32) and mixed
    (bars, 6: composite, c_field, c_consensus, c_liquidity, confidence, score) — the same
    definitions as ``field_nb``, ``expert_weights_nb`` and ``mix_core_nb`` with mixer.py.
    """
    n, k = logits.shape  # this call's bars
    ng = gstart.shape[0] - 1
    ns, nl = paths.shape
    ne = validity.shape[1]
    nlev = lstart.shape[0] - 1
    bs = BLOCK
    lp = np.empty((k, bs))  # shifted logits, then log-probabilities within the group
    p = np.empty((k, bs))  # probabilities within the group
    pm = np.empty((k, bs))  # marginal probabilities
    ent = np.empty((ng, bs))
    spec = np.empty((ns, bs))
    state = np.empty((ns, bs))
    bsum = np.empty((4, bs))
    reg = np.empty((8, bs))
    val = np.empty((ne, bs))
    aff = np.empty((ne, bs))
    w = np.empty((ne, bs))
    z = np.empty((ne, bs))
    x = np.empty((ne, bs))
    v1 = np.empty(bs)
    v2 = np.empty(bs)
    v3 = np.empty(bs)
    v4 = np.empty(bs)
    v5 = np.empty(bs)
    v6 = np.empty(bs)
    tot = np.empty(bs)
    btot = np.empty(bs)
    u = np.empty(bs)
    din = np.empty(bs)
    vin = np.empty(bs)
    gin = np.empty(bs)
    liq = np.empty(bs)
    bits = np.empty(bs, dtype=np.int64)
    fbuf = np.empty(bs)
    ebuf = np.empty(bs)
    log_size = np.empty(ng)
    for g in range(ng):
        log_size[g] = np.log(gstart[g + 1] - gstart[g])
    log8 = np.log(8.0)
    for t0 in range(0, n, bs):
        m = min(bs, n - t0)
        if m < bs:  # the last block: the bars past the end compute on zeros, never stored
            lp[:, m:] = 0.0
            din[m:] = 0.0
            vin[m:] = 0.0
            gin[m:] = 0.0
            z[:, m:] = 0.0
        # up share and c_liquidity: sigmoid(x) = 1 / (1 + e) (x >= 0) or e / (1 + e), e = exp(-|x|)
        for i in range(m):
            din[i] = direction[t_base + t0 + i]
            vin[i] = volume_z[t_base + t0 + i]
            gin[i] = gap_z[t_base + t0 + i]
        xs = v1
        for i in range(bs):
            d = din[i]
            xs[i] = scales[0] * d if d == d else 0.0
            v2[i] = -abs(xs[i])
        _exp_nb(v2, v3, bits, bs)
        for i in range(bs):
            e = v3[i]
            u[i] = 1.0 / (1.0 + e) if xs[i] >= 0.0 else e / (1.0 + e)
            d = vin[i]
            xs[i] = scales[1] * d if d == d else 0.0
            v2[i] = -abs(xs[i])
        _exp_nb(v2, v3, bits, bs)
        for i in range(bs):
            e = v3[i]
            liq[i] = min(1.0, 2.0 * (1.0 / (1.0 + e) if xs[i] >= 0.0 else e / (1.0 + e)))
            d = gin[i]
            v2[i] = -scales[2] * abs(d if d == d else 0.0)
        _exp_nb(v2, v3, bits, bs)
        for i in range(bs):
            e = v3[i]
            liq[i] *= 2.0 * (1.0 / (1.0 + e) if v2[i] >= 0.0 else e / (1.0 + e))
        for j in range(k):  # node-major scratch (reads strided, writes contiguous: faster)
            row = lp[j]
            for i in range(m):
                row[i] = logits[t0 + i, j]
        # sibling softmaxes: lp = v - max - log(sum exp), p = exp(v - max) / sum, entropies
        for g in range(ng):
            gmax, gsum, lg, h = v1, v2, v3, v4
            for i in range(bs):
                gmax[i] = -np.inf
                gsum[i] = 0.0
                h[i] = 0.0
            for q in range(gstart[g], gstart[g + 1]):
                row = lp[gnodes[q]]
                for i in range(bs):
                    gmax[i] = row[i] if row[i] > gmax[i] else gmax[i]
            for q in range(gstart[g], gstart[g + 1]):
                row = lp[gnodes[q]]
                prow = p[gnodes[q]]
                for i in range(bs):
                    row[i] -= gmax[i]
                _exp_nb(row, prow, bits, bs)
                for i in range(bs):
                    gsum[i] += prow[i]
            _log_nb(gsum, lg, fbuf, ebuf, bs)
            for i in range(bs):
                gsum[i] = 1.0 / gsum[i]
            for q in range(gstart[g], gstart[g + 1]):
                row = lp[gnodes[q]]
                prow = p[gnodes[q]]
                for i in range(bs):
                    a = row[i] - lg[i]
                    row[i] = a
                    b = prow[i] * gsum[i]
                    prow[i] = b
                    h[i] -= b * a if b > 0.0 else 0.0
            erow = ent[g]
            for i in range(bs):
                erow[i] = min(1.0, max(0.0, h[i] / log_size[g]))
        # marginal node probabilities
        for j in range(k):
            prow = p[j]
            mrow = pm[j]
            if parent[j] >= 0:
                par = p[parent[j]]
                for i in range(bs):
                    mrow[i] = prow[i] * par[i]
            else:
                for i in range(bs):
                    mrow[i] = prow[i]
            for i in range(m):
                node_p[t_base + t0 + i, j] = mrow[i]
        # species (products along the paths) and state shares (without the phylum factor)
        for i in range(bs):
            tot[i] = 0.0
            btot[i] = 0.0
        for s in range(ns):
            acc = state[s]
            sp = spec[s]
            for i in range(bs):
                acc[i] = 1.0
            for lvl in range(nl):
                if lvl != 1:
                    r = p[paths[s, lvl]]
                    for i in range(bs):
                        acc[i] *= r[i]
            r = p[paths[s, 1]]
            for i in range(bs):
                sp[i] = acc[i] * r[i]
                tot[i] += sp[i]
                btot[i] += acc[i]
        for i in range(m):
            if not (tot[i] > 1e-250 and btot[i] > 1e-250):  # underflow (or NaN): log-sum-exp
                mx = -np.inf
                mx2 = -np.inf
                for s in range(ns):
                    a = 0.0
                    for lvl in range(nl):
                        a += lp[paths[s, lvl], i]
                    spec[s, i] = a
                    mx = max(mx, a)
                    b = a - lp[paths[s, 1], i]
                    state[s, i] = b
                    mx2 = max(mx2, b)
                tot[i] = 0.0
                btot[i] = 0.0
                for s in range(ns):
                    spec[s, i] = np.exp(spec[s, i] - mx)
                    tot[i] += spec[s, i]
                    state[s, i] = np.exp(state[s, i] - mx2)
                    btot[i] += state[s, i]
        for c in range(4):
            for i in range(bs):
                bsum[c, i] = 0.0
        for i in range(bs):
            tot[i] = 1.0 / tot[i]
        for s in range(ns):
            sp = spec[s]
            acc = state[s]
            br = bsum[base[s]]
            for i in range(bs):
                sp[i] = sp[i] * tot[i]
                br[i] += acc[i]
        # the 8 regime bins
        pnv = p[vol[1]]
        for i in range(bs):
            up = u[i]
            nv = pnv[i] / btot[i]
            reg[0, i] = nv * bsum[0, i] * up
            reg[1, i] = nv * bsum[0, i] * (1.0 - up)
            reg[2, i] = nv * bsum[1, i]
            reg[3, i] = nv * bsum[2, i] * up
            reg[4, i] = nv * bsum[2, i] * (1.0 - up)
            reg[5, i] = nv * bsum[3, i]
            reg[6, i] = p[vol[0], i]
            reg[7, i] = p[vol[2], i]
        for c in range(8):
            for i in range(m):
                regimes[t_base + t0 + i, c] = reg[c, i]
        # c_field
        cfield = v5
        if level_entropy:
            for i in range(bs):
                cfield[i] = 0.0
            for g in range(min(5, ng)):
                for i in range(bs):
                    cfield[i] = max(cfield[i], ent[g, i])
            for i in range(bs):
                cfield[i] = 1.0 - cfield[i]
        else:
            h = v4
            for i in range(bs):
                h[i] = 0.0
            for c in range(8):
                rr = reg[c]
                for i in range(bs):
                    v6[i] = rr[i] if rr[i] > 1e-300 else 1.0  # tiny bins add < 1e-297
                _log_nb(v6, v3, fbuf, ebuf, bs)
                for i in range(bs):
                    h[i] -= rr[i] * v3[i] if rr[i] > 0.0 else 0.0
            for i in range(bs):
                cfield[i] = 1.0 - min(1.0, max(0.0, h[i] / log8))
        # expert weights: validity (species) and affinity (certainty-weighted marginals)
        for e in range(ne):
            for i in range(bs):
                val[e, i] = 0.0
                aff[e, i] = 0.0
        for s in range(ns):
            sp = spec[s]
            for e in range(ne):
                a = validity[s, e]
                if a != 0.0:
                    vr = val[e]
                    for i in range(bs):
                        vr[i] += sp[i] * a
        for lv in range(nlev):
            lo = lstart[lv]
            hi = lstart[lv + 1]
            cert = v4
            if lgroup[lv] >= 0:  # the level is one sibling group: its entropy, computed above
                erow = ent[lgroup[lv]]
                for i in range(bs):
                    cert[i] = 1.0 - erow[i]
            else:  # entropy of the marginals (log P(c) = log P(c | k) + log P(k))
                h = v4
                for i in range(bs):
                    h[i] = 0.0
                for q in range(lo, hi):
                    j = lnodes[q]
                    mrow = pm[j]
                    lrow = lp[j]
                    if parent[j] >= 0:
                        lpar = lp[parent[j]]
                        for i in range(bs):
                            h[i] -= mrow[i] * (lrow[i] + lpar[i]) if mrow[i] > 0.0 else 0.0
                    else:
                        for i in range(bs):
                            h[i] -= mrow[i] * lrow[i] if mrow[i] > 0.0 else 0.0
                lsz = np.log(hi - lo)
                for i in range(bs):
                    cert[i] = 1.0 - min(1.0, max(0.0, h[i] / lsz))
            for q in range(lo, hi):
                mrow = pm[lnodes[q]]
                cp = v6
                for i in range(bs):
                    cp[i] = cert[i] * mrow[i]
                for e in range(ne):
                    a = affinity[q, e]
                    if a != 0.0:
                        ar = aff[e]
                        for i in range(bs):
                            ar[i] += cp[i] * a
        for e in range(ne):
            wr = w[e]
            vr = val[e]
            ar = aff[e]
            for i in range(bs):
                wr[i] = min(2.0, max(0.0, (1.0 - beta) * min(1.0, max(0.0, vr[i])) + beta * ar[i]))
            for i in range(m):
                weights[t_base + t0 + i, e] = wr[i]
        # mixer: x = w z / (sum w + eps), linear + interaction terms, consensus
        wsum, sraw, size, num, den = v1, v2, v3, v4, v6
        for i in range(bs):
            wsum[i] = 0.0
            sraw[i] = 0.0
            size[i] = 0.0
            num[i] = 0.0
            den[i] = 0.0
        for e in range(ne):
            zr = z[e]
            wr = w[e]
            for i in range(m):
                sv = signals[t_base + t0 + i, e]
                zr[i] = sv if sv == sv else 0.0
            for i in range(bs):
                wsum[i] += wr[i]
        rw = ebuf
        for i in range(bs):
            rw[i] = 1.0 / (wsum[i] + eps)
        for e in range(ne):
            zr = z[e]
            wr = w[e]
            xr = x[e]
            for i in range(bs):
                xv = wr[i] * zr[i] * rw[i]
                xr[i] = xv
                sraw[i] += xv
                size[i] += abs(xv)
        for a in range(ne):
            xa = x[a]
            for b in range(ne):
                mv = coupling[a, b]
                if mv != 0.0:
                    am = abs(mv)
                    xb = x[b]
                    for i in range(bs):
                        ab = abs(xb[i])
                        num[i] += mv * xa[i] * ab
                        den[i] += am * abs(xa[i]) * ab
        var = fbuf
        for i in range(bs):
            var[i] = 0.0
        for e in range(ne):
            zr = z[e]
            wr = w[e]
            for i in range(bs):
                d = zr[i] - sraw[i]
                var[i] += wr[i] * d * d
        comp, cons, conf, score = num, den, var, rw
        for i in range(bs):
            s_int = num[i] / den[i] * size[i] if den[i] > 0.0 else 0.0
            c0 = min(1.0, max(-1.0, alpha * sraw[i] + (1.0 - alpha) * s_int))
            std = np.sqrt(max(var[i] * rw[i], 0.0))
            c2 = abs(sraw[i]) / (abs(sraw[i]) + std + eps)
            c4 = cfield[i] * c2
            comp[i] = c0
            cons[i] = c2
            conf[i] = c4
            score[i] = c0 * c4 * liq[i]
        for i in range(m):
            t = t_base + t0 + i
            mixed[t, 0] = comp[i]
            mixed[t, 1] = cfield[i]
            mixed[t, 2] = cons[i]
            mixed[t, 3] = liq[i]
            mixed[t, 4] = conf[i]
            mixed[t, 5] = score[i]
