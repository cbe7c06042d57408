"""The engine's rolling robust z-score of many columns at once, on float32 sorted windows.

``z_t = (x_t - median) / scale`` with the median and MAD of the last ``window`` values
(:func:`phi.regime._rolling_nb.robust_z_cols_nb` is the exact float64, every-bar kernel, kept
as the reference), with two changes that make it cheap:

* the median and MAD are those of the values rounded to float32 (a finite value beyond
  float32's range counts as infinite), taken in float64 from them; the distance ``x_t -
  median`` uses the unrounded value;
* they are **refreshed every** ``refresh`` **bars** (:data:`REFRESH`), at the bars t with
  ``t % refresh == refresh - 1`` counted from the first row, from the window ending at that bar
  (bars <= t); the bars in between use the last refreshed median and MAD with their own value
  and their own EWMA variance (the fallback scale where the MAD is tiny). A column whose window
  reaches ``minp`` values after having fewer refreshes at once, so the z-scores start on the
  same bar as with a refresh on every bar, and they are NaN exactly where the every-bar kernel
  has NaN (a NaN value, or fewer than ``minp`` values in the window). Each column is refreshed
  on its own schedule: its z-scores depend on its own values only.

How: 32 columns are processed side by side, one column per SIMD lane. Every bar writes its
values into a ring (the window in time order); at a refresh the ring is copied and sorted
column-wise by a sorting network (Batcher's odd-even merge sort: 506 min/max row operations
for a 60-bar window, each one SIMD instruction per 8 or 16 columns, no branches), the median
is read off the middle rows and the MAD found by the count of :func:`_mad32_nb` (in SIMD
across the columns when they hold the same number of values, else by a binary search per
column). With ``refresh=1`` the median and MAD are taken on every bar: the z-scores of the
previous per-bar float32 kernel, bit for bit (checked on the engine's features and on data with
gaps, ties and infinities when it was replaced); against the exact float64 kernel a z-score then
moves by about ``6e-8 |median| / scale``. 512-bit vectors: :func:`_prefer_512_bit`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from phi.regime._rolling_nb import _buffer_size, _remove_insert_nb, _replace_nb

__all__ = ["LANES", "REFRESH", "robust_z_cols_f32_nb", "rolling_median_mad_f32_nb", "sorting_network"]

#: columns processed side by side (one SIMD lane each)
LANES = 32
#: bars between two refreshes of the windows' median and MAD
REFRESH = 6


@njit(cache=True, inline="always")
def _to32_nb(x: float) -> Any:
    """x rounded to a float32 scalar."""
    return np.float32(x)


@njit(cache=True, inline="always")
def _left_farther_nb(b: np.ndarray, bk: np.ndarray, lo: int, med: float) -> np.bool_:
    """Is the stretch b[lo:lo+k+1]'s left deviation the larger (``bk = b[k:]``)?"""
    return (med - np.float64(b[lo])) > (np.float64(bk[lo]) - med)


@njit(cache=True, inline="always")
def _mad32_nb(b: np.ndarray, cnt: int, med: float, guess: int) -> tuple[float, int]:
    """(MAD of the sorted float32 b[1:cnt+1] about the finite ``med``, stretch count ``c``):
    the MAD of :func:`phi.regime._rolling_nb._mad_nb` on the same values (the same float64
    differences), found with fewer reads.

    ``c`` = the number of stretches b[lo:lo+k+1] (lo >= 1) whose left deviation exceeds the
    right one. That test is monotone in lo (true, then false: the left deviation falls and the
    right one grows), so where it holds at ``guess - 1`` and fails at ``guess + 2`` (``guess``
    = the previous bar's count, which moves by a step or two), ``c`` is read from the two tests
    between; otherwise from one counting pass."""
    h = cnt // 2
    k = h if cnt % 2 == 1 else h - 1
    m = cnt - k
    top = (m + 15) // 16 * 16
    bk = b[k:]
    ok = False
    if (guess >= 1) & (guess + 2 <= top):
        ok = bool(_left_farther_nb(b, bk, guess - 1, med)) and not _left_farther_nb(b, bk, guess + 2, med)
    if ok:
        c = guess - 1 + int(_left_farther_nb(b, bk, guess, med)) + int(_left_farther_nb(b, bk, guess + 1, med))
    else:
        c = 0
        for lo in range(1, top + 1):
            c += _left_farther_nb(b, bk, lo, med)  # type: ignore[assignment]
    d_left = med - np.float64(b[c])
    d_right = np.float64(b[c + 1 + k]) - med
    if d_left <= d_right:
        kth = d_left
        s0 = c
    else:
        kth = d_right
        s0 = c + 1
    if cnt % 2 == 1:
        return kth, c
    n1 = med - np.float64(b[s0 - 1])
    n2 = np.float64(b[s0 + k + 1]) - med
    return 0.5 * (kth + (n1 if n1 < n2 else n2)), c


def _batcher_pairs(n: int) -> list[tuple[int, int]]:
    """Comparators (i, j), i < j, of Batcher's odd-even merge sort of ``n`` (a power of two)
    values, in an order that sorts (Knuth, TAOCP 3, 5.3.4)."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


@lru_cache(maxsize=16)
def sorting_network(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows i, rows j) of a sorting network for rows 1..size of a buffer (506 comparators for
    60): Batcher's network for the next power of two, without the comparators that touch the
    padding rows (those hold +inf, which no comparator moves)."""
    n = 1
    while n < size:
        n *= 2
    pairs = np.array([(a + 1, b + 1) for a, b in _batcher_pairs(n) if b < size], dtype=np.uint64)
    pairs = pairs.reshape(-1, 2)
    return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


@intrinsic
def _prefer_512_bit(typingctx: Any) -> Any:
    """Ask LLVM to vectorise the calling function with 512-bit registers where the machine has
    them (it compiles for 256 bits by default on AVX-512 machines). Only a preference: on a
    machine without AVX-512 the same code gets 256-bit vectors, and numba's cache is keyed by
    the machine's CPU and features, so code built here is never loaded on a machine without
    AVX-512. If llvmlite refuses the attributes, nothing is added."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        attrs = builder.function.attributes
        try:
            set.add(attrs, '"prefer-vector-width"="512"')
            set.add(attrs, '"min-legal-vector-width"="512"')
            attrs.add("noinline")  # keep the attributes: inlined, the caller's would apply
        except (AttributeError, TypeError, ValueError):  # pragma: no cover - llvmlite internals
            pass
        return context.get_dummy_value()

    return types.void(), codegen


@njit(cache=True, error_model="numpy")
def _sort_lanes_nb(s: np.ndarray, ci: np.ndarray, cj: np.ndarray) -> None:
    """Sort every column of ``s`` (rows, LANES) float32 by the network ``(ci, cj)``: each
    comparator is a min/max of two rows, one SIMD instruction per 8 or 16 columns."""
    _prefer_512_bit()  # type: ignore[call-arg]
    for p in range(ci.shape[0]):
        i = ci[p]
        j = cj[p]
        for c in range(LANES):
            a = s[i, c]
            b = s[j, c]
            s[i, c] = a if a < b else b
            s[j, c] = b if a < b else a


@njit(cache=True, inline="always")
def _mad_search_nb(s: np.ndarray, c: int, cnt: int, med: float, k: int) -> int:
    """The stretch count of :func:`_mad32_nb` for column ``c`` of the sorted rows
    s[1:cnt+1, c] (binary search: the test is true, then false along the rows)."""
    lo = 1
    ln = cnt - k
    while ln > 0:
        half = ln // 2
        q = lo + half
        if (med - np.float64(s[q, c])) > (np.float64(s[q + k, c]) - med):
            lo = q + 1
            ln = ln - half - 1
        else:
            ln = half
    return lo - 1


@njit(cache=True, inline="always")
def _mad_from_count_nb(s: np.ndarray, c: int, cnt: int, med: float, k: int, q: int) -> float:
    """The MAD of column ``c`` of the sorted s[1:cnt+1] from its stretch count ``q`` (the end
    of :func:`_mad32_nb`: the same float64 differences)."""
    d_left = med - np.float64(s[q, c])
    d_right = np.float64(s[q + 1 + k, c]) - med
    kth = d_left if d_left <= d_right else d_right
    s0 = q if d_left <= d_right else q + 1
    if cnt % 2 == 1:
        return kth
    n1 = med - np.float64(s[s0 - 1, c])
    n2 = np.float64(s[s0 + k + 1, c]) - med
    return 0.5 * (kth + (n1 if n1 < n2 else n2))


@njit(cache=True, error_model="numpy")
def _robust_z_lanes_nb(
    x: np.ndarray,
    c0: int,
    window: int,
    minp: int,
    mad_small: float,
    alpha: float,
    floor: float,
    refresh: int,
    ci: np.ndarray,
    cj: np.ndarray,
    out: np.ndarray,
) -> None:
    """Columns c0..c0+LANES-1 of x (those that exist) into the same columns of out."""
    n, ncol = x.shape
    nl = min(LANES, ncol - c0)
    w = window
    s = np.full((w + 2 + 16, LANES), np.inf, dtype=np.float32)  # row 0 -inf, rows > w +inf
    s[0] = -np.inf
    ring = np.full((w, LANES), np.inf, dtype=np.float32)  # the window in time order (NaN: +inf)
    ring_ok = np.zeros((w, LANES), dtype=np.int64)  # 1 where the ring holds a value
    ring_flat = ring.reshape(-1)
    window_rows = s.reshape(-1)[LANES : LANES * (w + 1)]  # rows 1..w of s
    cnt = np.zeros(LANES, dtype=np.int64)
    valid = np.zeros(LANES, dtype=np.bool_)  # the lane's last refresh had >= minp values
    due = np.zeros(LANES, dtype=np.bool_)
    med = np.zeros(LANES)
    smad = np.zeros(LANES)
    use_ew = np.zeros(LANES, dtype=np.bool_)
    fl = np.zeros(LANES)
    new_med = np.zeros(LANES)
    new_mad = np.zeros(LANES)
    acc = np.zeros(LANES)
    m_ew = np.zeros(LANES)
    v_ew = np.zeros(LANES)
    started = np.zeros(LANES, dtype=np.bool_)
    block = 256
    rows = np.full((block, LANES), np.nan)  # lanes past the last column stay NaN
    for t0 in range(0, n, block):
        t1 = min(n, t0 + block)
        for c in range(nl):  # each column's stretch copied contiguously (x may be F-ordered)
            for t in range(t0, t1):
                rows[t - t0, c] = x[t, c0 + c]
        for t in range(t0, t1):
            row = rows[t - t0]
            slot = t % w
            on_schedule = t % refresh == refresh - 1
            any_due = False
            for c in range(LANES):
                v = row[c]
                ok = v == v
                ring[slot, c] = np.float32(v) if ok else np.float32(np.inf)
                cnt[c] += np.int64(ok) - ring_ok[slot, c]
                ring_ok[slot, c] = np.int64(ok)
                d = v - m_ew[c]  # EWMA variance, adjust=False, from the first value; NaN keeps it
                st = started[c]
                m1 = m_ew[c] + alpha * d if st else v
                v1 = (1.0 - alpha) * (v_ew[c] + alpha * d * d) if st else 0.0
                m_ew[c] = m1 if ok else m_ew[c]
                v_ew[c] = v1 if ok else v_ew[c]
                started[c] = st | ok
                enough = cnt[c] >= minp
                due[c] = enough & (on_schedule | (not valid[c]))
                valid[c] = valid[c] & enough
                any_due |= due[c]
            if any_due:
                for i in range(w * LANES):  # flat: the 2-D copy is ~4x slower
                    window_rows[i] = ring_flat[i]
                _sort_lanes_nb(s, ci, cj)
                cn = cnt[0]
                same = True
                for c in range(1, nl):
                    same &= cnt[c] == cn
                h = cn // 2
                odd = cn % 2 == 1
                if same and cn >= minp:  # one count for all lanes: the MAD search in SIMD
                    k = h if odd else h - 1
                    for c in range(LANES):
                        md = np.float64(s[h + 1, c]) if odd else 0.5 * (np.float64(s[h, c]) + np.float64(s[h + 1, c]))
                        new_med[c] = md
                        acc[c] = 0.0
                    for lo in range(1, cn - k + 1):
                        for c in range(LANES):
                            md = new_med[c]
                            acc[c] += 1.0 if (md - np.float64(s[lo, c])) > (np.float64(s[lo + k, c]) - md) else 0.0
                    for c in range(nl):
                        if new_med[c] - new_med[c] == 0.0:
                            new_mad[c] = _mad_from_count_nb(s, c, cn, new_med[c], k, int(acc[c]))
                else:
                    for c in range(nl):
                        cn = cnt[c]
                        if not due[c]:
                            continue
                        h = cn // 2
                        odd = cn % 2 == 1
                        k = h if odd else h - 1
                        md = np.float64(s[h + 1, c]) if odd else 0.5 * (np.float64(s[h, c]) + np.float64(s[h + 1, c]))
                        new_med[c] = md
                        if md - md == 0.0:
                            q = _mad_search_nb(s, c, cn, md, k)
                            new_mad[c] = _mad_from_count_nb(s, c, cn, md, k, q)
                for c in range(nl):
                    if due[c]:
                        md = new_med[c]
                        mad = new_mad[c] if md - md == 0.0 else np.nan  # infinite median: NaN
                        unit = abs(md) if md != 0.0 else 1.0
                        med[c] = md
                        use_ew[c] = mad < mad_small * unit
                        smad[c] = 1.4826 * mad
                        fl[c] = floor * unit
                        valid[c] = True
            o = out[t]
            for c in range(nl):
                sc = np.sqrt(v_ew[c]) if use_ew[c] else smad[c]
                sc = sc if sc >= fl[c] else fl[c]
                o[c0 + c] = (row[c] - med[c]) / sc if valid[c] else np.nan


def robust_z_cols_f32_nb(
    x: np.ndarray,
    window: int,
    minp: int,
    mad_small: float,
    alpha: float,
    floor: float,
    refresh: int = REFRESH,
) -> np.ndarray:
    """Rolling robust z-score of every column of x (bars, columns) with the median and MAD of
    the window's float32-rounded values refreshed every ``refresh`` bars (see the module doc;
    ``refresh=1``: every bar, the values of the per-bar kernels on the rounded values). A
    C-ordered (bars, columns) float64 array."""
    if refresh < 1 or window < 1:
        raise ValueError(f"window and refresh must be >= 1, got {window} and {refresh}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be a (bars, columns) array, got {x.ndim} dimension(s)")
    out = np.empty(x.shape)
    ci, cj = sorting_network(window)
    with np.errstate(over="ignore"):
        for c0 in range(0, x.shape[1], LANES):
            _robust_z_lanes_nb(x, c0, window, max(minp, 1), mad_small, alpha, floor, refresh, ci, cj, out)
    return out


@njit(cache=True)
def _rolling_median_mad_f32_core_nb(
    x: np.ndarray, window: int, minp: int, w16: int, length: int
) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    bufs = np.full((2, length), np.inf, dtype=np.float32)
    bufs[:, 0] = -np.inf
    ring = np.full(window, np.nan, dtype=np.float32)  # NaN: no value leaves yet
    cur = 0
    cnt = 0
    guess = 0
    for t in range(n):
        v = _to32_nb(x[t])
        slot = t % window
        old = ring[slot]
        ring[slot] = v
        if (v - v == 0.0) & (old - old == 0.0):
            _replace_nb(bufs[cur], bufs[1 - cur], w16, old, v)
            cur = 1 - cur
        else:
            cnt = _remove_insert_nb(bufs[cur], cnt, old, v)
        if cnt >= minp and cnt > 0:
            b = bufs[cur]
            h = cnt // 2
            m = np.float64(b[h + 1]) if cnt % 2 == 1 else 0.5 * (np.float64(b[h]) + np.float64(b[h + 1]))
            med[t] = m
            if m - m == 0.0:
                mad[t], guess = _mad32_nb(b, cnt, m, guess)
    return med, mad


def rolling_median_mad_f32_nb(x: np.ndarray, window: int, minp: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling median and MAD of the valid values in the window, of the values rounded to
    float32 (as :func:`robust_z_cols_f32_nb`; the exact float64 kernel:
    :func:`phi.regime._rolling_nb.rolling_median_mad_fast_nb`). NaN below ``minp`` values."""
    w16, length = _buffer_size(window)
    with np.errstate(over="ignore"):
        return _rolling_median_mad_f32_core_nb(np.ascontiguousarray(x, dtype=np.float64), window, minp, w16, length)
