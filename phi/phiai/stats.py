"""Statistics that say when a tuned result is luck.

* :func:`psr` — probabilistic Sharpe ratio (Bailey & López de Prado 2012): the probability
  that the true Sharpe ratio exceeds a benchmark, given the sample's length, skewness and
  kurtosis.
* :func:`expected_max_sharpe` and :func:`deflated_sharpe` — the deflated Sharpe ratio (Bailey &
  López de Prado 2014): the PSR against the Sharpe ratio the best of ``n_trials`` unskilled
  trials would show by chance; ``dsr_pvalue = 1 - dsr``.
* :func:`pbo_cscv` — probability of backtest overfitting by combinatorially symmetric
  cross-validation (Bailey, Borwein, López de Prado & Zhu 2015).
* :func:`oos_is_efficiency` and :func:`stability` — how much of the in-sample score survives
  out of sample, and in the best parameters' neighbourhood.

Sharpe ratios here are *per period* (not annualised): divide an annualised ratio by the square
root of the periods per year first. Kurtosis is the raw (Pearson) kurtosis, 3 for a normal law.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from phi.errors import ConfigError, shown

__all__ = [
    "EULER_GAMMA",
    "MAX_PBO_SPLITS",
    "BlockSums",
    "block_sums",
    "deflated_sharpe",
    "dsr_pvalue",
    "expected_max_sharpe",
    "oos_is_efficiency",
    "pbo_cscv",
    "pbo_cscv_rows",
    "pbo_cscv_sums",
    "pbo_splits",
    "psr",
    "return_moments",
    "sharpe_per_period",
    "sharpes_per_period",
    "stability",
]

#: The Euler-Mascheroni constant of the expected-maximum formula.
EULER_GAMMA = 0.5772156649015329
#: Most CSCV blocks: ``binom(20, 10)`` = 184,756 combinations (each one a pass over the
#: trials); 16 is the papers' usual choice. More would take hours and gigabytes.
MAX_PBO_SPLITS = 20


def _real(value: object, name: str) -> float:
    """``value`` as a float (nan and inf pass), or :class:`ConfigError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a real number, got {shown(value)}")
    return float(value)


def _whole(value: object, name: str) -> int:
    """``value`` as an int, or :class:`ConfigError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer, got {shown(value)}")
    return int(value)


def _splits(n_splits: object) -> int:
    """CSCV's block count: an even integer from 2 to :data:`MAX_PBO_SPLITS`."""
    s = _whole(n_splits, "n_splits")
    if s < 2 or s % 2 or s > MAX_PBO_SPLITS:
        raise ConfigError(f"n_splits must be an even integer from 2 to {MAX_PBO_SPLITS}, got {s}")
    return s


def _matrix(values: object, what: str) -> np.ndarray:
    """A 2-D float64 array of ``values``, or :class:`ConfigError` saying what ``what`` needs."""
    try:
        m = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a 2-D array of numbers, got {shown(values)}") from None
    if m.ndim != 2:
        raise ConfigError(f"{what} must be a 2-D array of numbers, got shape {m.shape}")
    return m


#: A standard deviation at most this share of the mean's size is rounding noise of a constant
#: series (its Sharpe ratio undefined, not ~1e15).
FLAT_SD = 1e-12


def sharpe_per_period(returns: np.ndarray) -> float:
    """Mean over sample standard deviation (ddof=1) of per-period returns; nan if undefined
    (fewer than two finite returns, or constant ones: a deviation within :data:`FLAT_SD` of the
    mean's size is rounding)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if len(r) < 2:
        return math.nan
    sd = float(r.std(ddof=1))
    mu = float(r.mean())
    return mu / sd if sd > FLAT_SD * abs(mu) else math.nan


def sharpes_per_period(returns: np.ndarray) -> np.ndarray:
    """:func:`sharpe_per_period` of every row of a ``(m, T)`` matrix, with the same float
    operations (NumPy's pairwise row sums, as ``ndarray.mean`` and ``ndarray.std`` compute them,
    in one compiled pass per row: :func:`~phi.phiai._stats_nb.row_sharpes_nb`); rows with a
    non-finite value (a row whose sum is finite has none) go through :func:`sharpe_per_period`
    itself."""
    from phi.phiai._stats_nb import row_sharpes_nb

    r = np.ascontiguousarray(returns, dtype=np.float64)
    out = np.full(r.shape[0], math.nan)
    if r.shape[0] == 0:
        return out
    finite = row_sharpes_nb(r, out) if r.shape[1] >= 2 else np.zeros(r.shape[0], dtype=bool)
    for j in np.flatnonzero(~finite):
        out[j] = sharpe_per_period(r[j])
    return out


def _rank_of(values: np.ndarray, i: int) -> float:
    """``scipy.stats.rankdata(values)[i]`` (average ranks of ties, 1 = smallest; nan if any value
    is nan) without ranking the other values."""
    v = values[i]
    if np.isnan(values).any():
        return math.nan
    less = int((values < v).sum())
    ties = int((values == v).sum())
    return less + (ties + 1) / 2.0


def return_moments(returns: np.ndarray) -> tuple[float, float, float, int]:
    """``(sharpe, skew, kurtosis, n)`` of per-period returns (population skew and raw kurtosis,
    as in the PSR paper); nan moments when fewer than 3 finite values or zero variance."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    n = len(r)
    sd = float(r.std()) if n else 0.0
    if n < 3 or sd == 0.0:
        return math.nan, math.nan, math.nan, n
    z = (r - r.mean()) / sd
    z2 = z * z  # products, not z**3 and z**4 (NumPy's pow: ~40x slower, within an ulp)
    return sharpe_per_period(r), float((z2 * z).mean()), float((z2 * z2).mean()), n


def psr(
    sharpe: float, n: int, skew: float = 0.0, kurtosis: float = 3.0, benchmark: float = 0.0
) -> float:
    """Probabilistic Sharpe ratio: P(true SR > ``benchmark``).

    ``PSR = Φ((SR - SR*) √(n-1) / √(1 - γ3 SR + (γ4 - 1)/4 SR²))`` with per-period ``SR``,
    ``n`` observations, skewness ``γ3`` and raw kurtosis ``γ4``. nan when undefined.
    """
    sharpe, benchmark = _real(sharpe, "sharpe"), _real(benchmark, "benchmark")
    skew, kurtosis, n = _real(skew, "skew"), _real(kurtosis, "kurtosis"), _whole(n, "n")
    if not (math.isfinite(sharpe) and math.isfinite(benchmark)) or n < 2:
        return math.nan
    var = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not (math.isfinite(var) and var > 0):
        return math.nan
    # scipy.special's ndtr / ndtri are what scipy.stats.norm's cdf / ppf evaluate (equal values),
    # without the distribution machinery's ~0.1 ms per call
    return float(ndtr((sharpe - benchmark) * math.sqrt(n - 1) / math.sqrt(var)))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` unskilled trials (true SR 0).

    ``E[max SR] ≈ √V ((1-γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))``, ``γ`` Euler's constant,
    ``V`` the variance of the trials' Sharpe ratios. 0 for a single trial.
    """
    n_trials = _whole(n_trials, "n_trials")
    sharpe_variance = _real(sharpe_variance, "sharpe_variance")
    if n_trials < 1 or not math.isfinite(sharpe_variance) or sharpe_variance < 0:
        return math.nan
    if n_trials == 1:
        return 0.0
    z1 = float(ndtri(1.0 - 1.0 / n_trials))
    z2 = float(ndtri(1.0 - 1.0 / (n_trials * math.e)))
    return float(math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))


def deflated_sharpe(
    sharpe: float,
    n: int,
    n_trials: int,
    sharpe_variance: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Deflated Sharpe ratio: :func:`psr` against :func:`expected_max_sharpe` of the trials."""
    return psr(sharpe, n, skew, kurtosis, benchmark=expected_max_sharpe(n_trials, sharpe_variance))


def dsr_pvalue(dsr: float) -> float:
    """``1 - DSR``: the chance of a Sharpe this high from the best of that many unskilled trials."""
    return 1.0 - dsr if math.isfinite(dsr) else math.nan


def _sharpe_cols(block: np.ndarray) -> np.ndarray:
    sd = block.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, block.mean(axis=0) / np.where(sd > 0, sd, 1.0), 0.0)


def _block_sums(blocks: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole sample's column means and each block's column sums of the deviations from them
    and of their squares (what :func:`_cscv_sums` takes)."""
    centre = np.vstack(blocks).mean(axis=0)
    sums = np.stack([(b - centre).sum(axis=0) for b in blocks])
    squares = np.stack([((b - centre) ** 2).sum(axis=0) for b in blocks])
    return centre, sums, squares


@functools.lru_cache(maxsize=16)
def _halves(n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    """Every choice of ``n_splits // 2`` blocks (in-sample) and its complement, as rows
    (read-only arrays, built once per ``n_splits``)."""
    ins = list(itertools.combinations(range(n_splits), n_splits // 2))
    outs = [[i for i in range(n_splits) if i not in set(c)] for c in ins]
    out = np.array(ins, dtype=np.int64), np.array(outs, dtype=np.int64)
    for a in out:
        a.setflags(write=False)
    return out


def _cscv_sums(
    centre: np.ndarray, sums: np.ndarray, squares: np.ndarray, size: int, n_splits: int, n: int
) -> tuple[float, np.ndarray]:
    """:func:`_cscv` with the Sharpe ratio from per-block sums, every combination in one compiled
    pass (:func:`~phi.phiai._stats_nb.cscv_ranks_nb`). A block set's sums add its blocks' sums
    one after the other (as NumPy's axis-0 sum of its rows does); with ``s``, ``q`` those of
    the deviations from the whole sample's mean ``centre`` and of their squares over ``rows``
    values, the Sharpe ratio is ``(centre + s / rows) / sqrt(max(q - s * s / rows, 0) /
    (rows - 1))``, and 0 for a spread at round-off level of the values (constant returns).
    The in-sample winner's out-of-sample rank ``r`` (:func:`_rank_of`) gives
    ``λ = ln(ω / (1 - ω))``, ``ω = r / (N + 1)``."""
    from phi.phiai._stats_nb import cscv_ranks_nb

    ins, outs = _halves(n_splits)
    rank = cscv_ranks_nb(
        np.ascontiguousarray(centre, dtype=np.float64),
        np.ascontiguousarray(sums, dtype=np.float64),
        np.ascontiguousarray(squares, dtype=np.float64),
        size, ins, outs,
    )  # fmt: skip
    w = rank / (n + 1)  # rank 1 = worst
    lam = np.array([math.log(x) for x in (w / (1.0 - w)).tolist()])
    return float((lam <= 0).mean()), lam


def _cscv(
    perf_of: Callable[[Sequence[int]], np.ndarray], n_splits: int, n: int
) -> tuple[float, np.ndarray]:
    """PBO and the logits over every half of ``n_splits`` blocks (see :func:`pbo_cscv`)."""
    logits = []
    for combo in itertools.combinations(range(n_splits), n_splits // 2):
        chosen = set(combo)
        best = int(np.argmax(perf_of(combo)))
        oos = perf_of([i for i in range(n_splits) if i not in chosen])
        w = _rank_of(oos, best) / (n + 1)  # rank 1 = worst
        logits.append(math.log(w / (1.0 - w)))
    lam = np.asarray(logits)
    return float((lam <= 0).mean()), lam


@dataclass(frozen=True)
class BlockSums:
    """PBO's per-block sums of a batch of trials' return rows (:func:`block_sums`): enough to
    score the batch's trials, alone or together with other batches', in :func:`pbo_cscv_sums`."""

    n_splits: int
    size: int  # rows per block
    centre: np.ndarray  # (m,) each row's mean over its first n_splits * size values
    sums: np.ndarray  # (n_splits, m) per block, the sum of the deviations from the centre
    squares: np.ndarray  # (n_splits, m) and of their squares


def pbo_splits(n_values: int) -> int:
    """CSCV blocks for return rows of ``n_values`` bars: 8 when each block keeps >= 20 bars,
    else 4."""
    return 8 if n_values >= 8 * 20 else 4


def block_sums(rows: np.ndarray, n_splits: int) -> BlockSums | None:
    """:class:`BlockSums` of one row of per-period returns per trial (``None`` when the rows are
    shorter than ``n_splits``): the per-row part of :func:`pbo_cscv_rows`, computed once per
    batch; each row's sums are the same whatever rows are computed with it."""
    from phi.phiai._stats_nb import block_sums_nb

    r = np.ascontiguousarray(rows, dtype=np.float64)
    t = r.shape[1]
    if n_splits < 2 or n_splits % 2 or t < n_splits:
        return None
    size = t // n_splits
    return BlockSums(n_splits, size, *block_sums_nb(r, n_splits, size))


def pbo_cscv_sums(parts: Sequence[tuple[BlockSums, int, int]]) -> tuple[float, np.ndarray]:
    """:func:`pbo_cscv_rows` of the rows ``a:b`` of each part's batch ``(sums, a, b)``, in
    this order (every part from rows of one length and ``n_splits``): equal results."""
    if not parts:
        return math.nan, np.empty(0)
    first = parts[0][0]
    n = sum(b - a for _, a, b in parts)
    if n < 2:
        return math.nan, np.empty(0)
    centre = np.concatenate([p.centre[a:b] for p, a, b in parts])
    sums = np.concatenate([p.sums[:, a:b] for p, a, b in parts], axis=1)
    squares = np.concatenate([p.squares[:, a:b] for p, a, b in parts], axis=1)
    return _cscv_sums(centre, sums, squares, first.size, first.n_splits, n)


def pbo_cscv_rows(rows: np.ndarray, n_splits: int = 16) -> tuple[float, np.ndarray]:
    """:func:`pbo_cscv` (Sharpe ratio performance) of ``rows.T``: one row of per-period returns per
    trial, without building the transposed matrix; the same float operations, equal results."""
    from phi.phiai._stats_nb import block_sums_nb

    r = np.ascontiguousarray(_matrix(rows, "rows (trials x periods)"))
    n_splits = _splits(n_splits)
    n, t = r.shape
    if n < 2 or t < n_splits:
        return math.nan, np.empty(0)
    size = t // n_splits
    centre, sums, squares = block_sums_nb(r, n_splits, size)
    return _cscv_sums(centre, sums, squares, size, n_splits, n)


def pbo_cscv(
    returns: np.ndarray,
    n_splits: int = 16,
    performance: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[float, np.ndarray]:
    """Probability of backtest overfitting by CSCV.

    The ``(T, N)`` matrix of per-period returns of N trials is cut into ``n_splits`` (S, even)
    row blocks of equal size (the last ``T mod S`` rows are dropped). For every choice C of S/2
    blocks as in-sample (the rest out of sample), the trial best in sample is ranked out of
    sample: ``ω = rank / (N + 1)``, ``λ = ln(ω / (1 - ω))``. PBO is the share of the
    ``binom(S, S/2)`` choices with ``λ <= 0`` (the in-sample winner at or below the OOS median).

    Parameters
    ----------
    returns : ndarray (T, N)
    n_splits : int
        S, even, >= 2.
    performance : callable, optional
        Column-wise score of a ``(rows, N)`` block; the per-period Sharpe ratio by default.

    Returns
    -------
    (pbo, logits) : float and ndarray of λ per combination. nan when N < 2 or T < S.
    """
    m = _matrix(returns, "returns (periods x trials)")
    n_splits = _splits(n_splits)
    t, n = m.shape
    if n < 2 or t < n_splits:
        return math.nan, np.empty(0)
    size = t // n_splits
    blocks = [m[i * size : (i + 1) * size] for i in range(n_splits)]
    if performance is None:  # Sharpe ratios from per-block sums: no row copies per combination
        return _cscv_sums(*_block_sums(blocks), size, n_splits, n)

    def perf_of(combo: Sequence[int]) -> np.ndarray:
        return performance(np.vstack([blocks[i] for i in combo]))

    return _cscv(perf_of, n_splits, n)


def oos_is_efficiency(oos: float, is_: float) -> float:
    """Out-of-sample over in-sample score; nan when the in-sample score is not > 0."""
    if not (math.isfinite(oos) and math.isfinite(is_)) or is_ <= 0:
        return math.nan
    return oos / is_


def stability(
    params: Sequence[Sequence[float]] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    best: int,
    spans: Sequence[float],
    radius: float = 0.1,
) -> tuple[float, int]:
    """Mean score of the best trial's neighbours over the best score, and the neighbour count.

    A neighbour is another trial whose every parameter lies within ``radius`` × that
    parameter's range (``spans``) of the best trial's. 1 means a plateau, values near or below
    0 a lone spike. nan (with 0 neighbours) when there is none or the best score is not > 0.
    """
    p = np.asarray(params, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if p.ndim != 2 or len(p) != len(s) or not 0 <= best < len(s):
        return math.nan, 0
    span = np.where(
        np.asarray(spans, dtype=np.float64) > 0, np.asarray(spans, dtype=np.float64), 1.0
    )
    dist = np.max(np.abs(p - p[best]) / span, axis=1) if p.shape[1] else np.zeros(len(p))
    near = (dist <= radius + 1e-12) & np.isfinite(s)
    near[best] = False
    count = int(near.sum())
    if count == 0 or not s[best] > 0:
        return math.nan, count
    return float(s[near].mean() / s[best]), count
