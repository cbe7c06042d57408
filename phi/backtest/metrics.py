"""Performance metrics: one small pure function per metric, NumPy in, float out.

Definitions follow empyrical (risk-free rate 0) and are tested against empyrical-reloaded:

* risk metrics (volatility, Sharpe, Sortino, CAGR) use **daily** returns: the equity at the
  last bar of each trading day (the day given by the market calendar, see
  :mod:`phi.backtest.periods`), the first one measured against the initial capital. So they
  are empyrical's functions applied to these returns; on ``equity.pct_change()`` (which drops
  the first day, a 0 return when nothing fills on the first bar) the Sharpe ratio differs by
  about a factor ``1 - 1/(2n)`` over ``n`` days;
* annualisation uses :data:`phi.backtest.periods.PERIODS_PER_YEAR` (252 exchange, 260 fx,
  365 24/7);
* ruin: a run whose equity ends <= 0 (the engine stops trading at the first close <= 0) has
  CAGR -100 %, Sharpe and Sortino capped at 0 (a ruined run's mean daily return can still be
  positive) and daily returns of 0 after the ruin day; total return and max drawdown keep the
  real (possibly below -100 %) value of the ruin bar;
* Sortino divides by the *downside deviation* ``sqrt(mean(min(r, 0)**2))`` over all days,
  not by the standard deviation of the negative days (the reference implementation's defect);
* max drawdown is measured on every bar's equity (for daily bars that is exactly empyrical's
  value; for intraday bars it also sees the intraday troughs), Calmar = CAGR / |max drawdown|;
* ``direction_accuracy`` compares the sign of the signal at t with the close-to-close return
  from t to t+1, over bars with a non-zero signal; it is not the win rate.

Edge cases come first in every function: too few observations give NaN, a zero denominator
gives +/-inf when the numerator is non-zero and NaN otherwise (as empyrical does).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "METRIC_NAMES",
    "annual_volatility",
    "avg_trade",
    "buy_and_hold_return",
    "cagr",
    "calmar_ratio",
    "compute_metrics",
    "daily_returns",
    "direction_accuracy",
    "expectancy",
    "exposure",
    "max_drawdown",
    "max_drawdown_duration",
    "profit_factor",
    "sharpe_ratio",
    "sortino_ratio",
    "total_return",
    "win_rate",
]

#: Keys of ``BacktestResult.metrics``, in display order.
METRIC_NAMES: tuple[str, ...] = (
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "max_drawdown_duration",
    "profit_factor",
    "win_rate",
    "avg_trade",
    "expectancy",
    "exposure",
    "n_trades",
    "n_open_trades",
    "buy_and_hold_return",
    "direction_accuracy",
    "final_equity",
)


def _ratio(num: float, den: float) -> float:
    """num / den with empyrical's conventions for a zero denominator."""
    if den > 0.0:
        return float(num / den)
    if num == 0.0 or np.isnan(num):
        return float("nan")
    return float("inf") if num > 0.0 else float("-inf")


def daily_returns(equity: np.ndarray, day_end: np.ndarray, initial: float) -> np.ndarray:
    """Simple returns between consecutive daily closes of an equity curve.

    Parameters
    ----------
    equity : array of float
        Equity at each bar's close (already cut to the metric window).
    day_end : array of bool
        True at the last bar of each calendar day (same length as ``equity``).
    initial : float
        Equity before the first bar; the first daily return is measured against it.
    """
    closes = np.asarray(equity, dtype=np.float64)[np.asarray(day_end, dtype=bool)]
    if closes.size == 0:
        return closes
    prev = np.empty_like(closes)
    prev[0] = initial
    prev[1:] = closes[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = closes / prev - 1.0
    r[prev <= 0.0] = 0.0  # after a ruin the account is flat at <= 0: no return
    return r


def total_return(final_equity: float, initial: float) -> float:
    """Final equity over initial capital, minus one."""
    return float(final_equity / initial - 1.0)


def cagr(returns: np.ndarray, periods: float) -> float:
    """Compound annual growth rate of periodic returns (empyrical ``annual_return``).

    -1 (-100 %) when the returns compound to nothing or less (a ruined run), never a complex
    number; +inf when the annualised growth exceeds the float range (a few bars of gains
    annualised with a high ``periods``, e.g. 525,600 one-minute bars a year), never an
    ``OverflowError`` (empyrical also gives inf, with a warning).
    """
    if len(returns) < 1:
        return float("nan")
    ending = np.prod(1.0 + np.asarray(returns, dtype=np.float64))
    if not ending > 0.0:
        return -1.0 if ending <= 0.0 else float("nan")
    with np.errstate(over="ignore"):
        return float(ending ** (periods / len(returns)) - 1.0)


#: A standard deviation of returns at or below ``FLAT_RETURNS_SD * (1 + |mean|)`` is rounding,
#: not dispersion: a return ``e_t / e_(t-1) - 1`` carries an absolute rounding error of about
#: one ulp of ``1 + r`` (2.2e-16 for small r), so equity compounding at a constant rate gives
#: returns that differ in their last bits only. Any real series' deviation is many orders above.
FLAT_RETURNS_SD = 8.0 * float(np.finfo(np.float64).eps)


def _std(r: np.ndarray) -> float:
    """Sample standard deviation (ddof=1); exactly 0 for identical values and for values that
    differ by rounding only (:data:`FLAT_RETURNS_SD`).

    NumPy's two-pass std of n copies of one float is often ~1e-17, not 0 (the float mean
    differs from the value in the last bit), and the returns of an equity compounding at 1 % a
    bar differ by ~1e-18; empyrical keeps that residue (a Sharpe ratio of ~1e15). Here zero
    dispersion is zero, so a constant series has volatility 0 and a Sharpe ratio of +/-inf
    (or NaN for all zeros) — the same verdict from both functions and from the engine's bar loop.
    """
    if r.max() == r.min():
        return 0.0
    sd = float(np.std(r, ddof=1))
    return 0.0 if sd <= FLAT_RETURNS_SD * (1.0 + abs(float(np.mean(r)))) else sd


def annual_volatility(returns: np.ndarray, periods: float) -> float:
    """Sample standard deviation (ddof=1) of returns times sqrt(periods); 0 if all equal."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 2:
        return float("nan")
    return float(_std(r) * np.sqrt(periods))


def sharpe_ratio(returns: np.ndarray, periods: float) -> float:
    """Annualised Sharpe ratio, risk-free 0: mean / std(ddof=1) * sqrt(periods)."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 2:
        return float("nan")
    std = _std(r)
    mean = float(np.mean(r))
    if std > 0.0:
        return float(mean / std * np.sqrt(periods))
    return _ratio(mean, 0.0)


def sortino_ratio(returns: np.ndarray, periods: float) -> float:
    """Annualised Sortino ratio, target 0: mean * periods / downside deviation.

    The downside deviation is ``sqrt(mean(min(r, 0)**2)) * sqrt(periods)`` over *all*
    returns (empyrical ``downside_risk``).
    """
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 2:
        return float("nan")
    downside = float(np.sqrt(np.mean(np.square(np.minimum(r, 0.0)))) * np.sqrt(periods))
    return _ratio(float(np.mean(r)) * periods, downside)


def _drawdown(eq: np.ndarray, initial: float) -> tuple[float, int]:
    """(max drawdown, longest underwater run in bars); the initial capital is the first peak."""
    peak = np.maximum.accumulate(eq)
    np.maximum(peak, initial, out=peak)
    mdd = float(min(0.0, np.min(eq / peak) - 1.0))
    under = eq < peak
    if not under.any():
        return mdd, 0
    edges = np.diff(under.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return mdd, int(np.max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)))


def max_drawdown(equity: np.ndarray, initial: float) -> float:
    """Largest fall from a running peak, as a negative fraction (0 if none).

    The initial capital counts as the first peak.
    """
    eq = np.asarray(equity, dtype=np.float64)
    return _drawdown(eq, initial)[0] if eq.size else float("nan")


def max_drawdown_duration(equity: np.ndarray, initial: float) -> int:
    """Longest run of consecutive bars spent below the running peak."""
    eq = np.asarray(equity, dtype=np.float64)
    return _drawdown(eq, initial)[1] if eq.size else 0


def calmar_ratio(cagr_value: float, max_dd: float) -> float:
    """CAGR / |max drawdown|; NaN without a drawdown (empyrical ``calmar_ratio``)."""
    if not max_dd < 0.0:
        return float("nan")
    value = cagr_value / abs(max_dd)
    return float("nan") if np.isinf(value) else float(value)


def profit_factor(pnl: np.ndarray) -> float:
    """Gross profit over gross loss of closed trades; NaN with no trades."""
    p = np.asarray(pnl, dtype=np.float64)
    if p.size == 0:
        return float("nan")
    return _ratio(float(p[p > 0].sum()), float(-p[p <= 0].sum()))


def win_rate(pnl: np.ndarray) -> float:
    """Fraction of closed trades with a positive PnL (after costs)."""
    p = np.asarray(pnl, dtype=np.float64)
    return float(np.mean(p > 0)) if p.size else float("nan")


def avg_trade(return_pct: np.ndarray) -> float:
    """Mean return of closed trades (PnL after costs over entry notional)."""
    r = np.asarray(return_pct, dtype=np.float64)
    return float(np.mean(r)) if r.size else float("nan")


def expectancy(pnl: np.ndarray) -> float:
    """Mean PnL per closed trade in cash (= win rate * avg win - loss rate * avg loss)."""
    p = np.asarray(pnl, dtype=np.float64)
    return float(np.mean(p)) if p.size else float("nan")


def exposure(positions: np.ndarray) -> float:
    """Fraction of bars that end with a position open."""
    pos = np.asarray(positions, dtype=np.float64)
    return float(np.mean(pos != 0.0)) if pos.size else float("nan")


def buy_and_hold_return(close: np.ndarray) -> float:
    """Last close over first close, minus one."""
    c = np.asarray(close, dtype=np.float64)
    return float(c[-1] / c[0] - 1.0) if c.size else float("nan")


def direction_accuracy(signal: np.ndarray, close: np.ndarray) -> float:
    """Share of bars whose signal sign matches the sign of the next close-to-close return.

    Only bars with a finite, non-zero signal and a following bar count; a zero return
    counts as a miss. NaN when no bar qualifies.
    """
    s = np.asarray(signal, dtype=np.float64)[:-1]
    c = np.asarray(close, dtype=np.float64)
    if c.size < 2:
        return float("nan")
    counted = np.count_nonzero((s > 0.0) | (s < 0.0))  # finite or infinite, non-zero
    if counted == 0:
        return float("nan")
    hits = np.count_nonzero(s * (c[1:] - c[:-1]) > 0.0)  # same sign, both non-zero
    return float(hits / counted)


@np.errstate(divide="ignore", invalid="ignore", over="ignore")
def compute_metrics(
    *,
    equity: np.ndarray,
    positions: np.ndarray,
    close: np.ndarray,
    day_end: np.ndarray,
    initial: float,
    periods: float,
    closed_pnl: np.ndarray,
    closed_return_pct: np.ndarray,
    n_open_trades: int,
    signal: np.ndarray | None = None,
    precomputed: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """All metrics of one run, on arrays already cut to the metric window (after warm-up).

    ``precomputed`` may carry ``max_drawdown``, ``max_drawdown_duration``, ``exposure`` and
    ``direction_accuracy`` already computed (by the engine's bar loop, with the same
    definitions) so that long runs are not scanned again. Returns a dict keyed by
    :data:`METRIC_NAMES` (every value a float).
    """
    eq = np.asarray(equity, dtype=np.float64)
    pre = dict(precomputed or {})
    r = daily_returns(eq, day_end, initial)
    final = float(eq[-1]) if eq.size else float(initial)
    growth = cagr(r, periods) if final > 0.0 else (-1.0 if r.size else float("nan"))
    sharpe, sortino = sharpe_ratio(r, periods), sortino_ratio(r, periods)
    if final <= 0.0:  # ruined: see the module notes
        sharpe, sortino = min(sharpe, 0.0), min(sortino, 0.0)
    if "max_drawdown" in pre and "max_drawdown_duration" in pre:
        mdd, mdd_bars = float(pre["max_drawdown"]), int(pre["max_drawdown_duration"])
    else:
        mdd, mdd_bars = _drawdown(eq, initial) if eq.size else (float("nan"), 0)
    if "direction_accuracy" in pre:
        dir_acc = float(pre["direction_accuracy"])
    else:
        dir_acc = direction_accuracy(signal, close) if signal is not None else float("nan")
    return {
        "total_return": total_return(final, initial),
        "cagr": growth,
        "annual_volatility": annual_volatility(r, periods),
        "sharpe": sharpe,
        "sortino": sortino,
        "calmar": calmar_ratio(growth, mdd),
        "max_drawdown": mdd,
        "max_drawdown_duration": float(mdd_bars),
        "profit_factor": profit_factor(closed_pnl),
        "win_rate": win_rate(closed_pnl),
        "avg_trade": avg_trade(closed_return_pct),
        "expectancy": expectancy(closed_pnl),
        "exposure": float(pre["exposure"]) if "exposure" in pre else exposure(positions),
        "n_trades": float(len(closed_pnl)),
        "n_open_trades": float(n_open_trades),
        "buy_and_hold_return": buy_and_hold_return(close),
        "direction_accuracy": dir_acc,
        "final_equity": final,
    }
