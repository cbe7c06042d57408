"""Target-weight builders for :func:`phi.backtest.portfolio.run_portfolio`.

Every builder takes ``closes``, a DataFrame of close prices (bars x symbols, NaN where a
symbol has no bar), and is **causal**: the row of bar t uses closes at or before t only. A row
of NaN means "no decision at this bar".

Momentum is ``close[t] / close[t - lookback] - 1`` counted in the union's bars; a symbol whose
close is missing at either end has no momentum that bar and is not eligible. Ties go to the
symbol of the earlier column.

>>> import pandas as pd
>>> closes = pd.DataFrame({"A": [1.0, 1.1, 1.2], "B": [1.0, 1.3, 1.1]})
>>> top_n_momentum(closes, lookback=1, n=1).iloc[1].tolist()
[0.0, 1.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from phi._math import rolling_std
from phi.errors import ConfigError

__all__ = [
    "equal_weight",
    "inverse_vol_weights",
    "momentum_rotation_weights",
    "top_n_momentum",
]


def _closes(closes: object) -> pd.DataFrame:
    if not isinstance(closes, pd.DataFrame) or closes.shape[1] == 0:
        raise ConfigError("closes must be a DataFrame of close prices, one column per symbol")
    try:
        out = closes.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"closes must be numeric ({exc})") from None
    x = out.to_numpy()
    bad = ~np.isnan(x) & ~((x > 0.0) & (x < np.inf))
    if bad.any():
        r, j = np.argwhere(bad)[0]
        raise ConfigError(
            f"closes[{out.columns[j]!r}] is {x[r, j]!r} at {out.index[r]}: prices must be finite and "
            "> 0 (NaN where a symbol has no bar)"
        )
    return out


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _momentum(c: pd.DataFrame, lookback: int) -> np.ndarray:
    x = c.to_numpy()
    out = np.full(x.shape, np.nan)
    if len(x) > lookback:
        out[lookback:] = x[lookback:] / x[:-lookback] - 1.0
    return out


def _top_n(mom: np.ndarray, n: int) -> np.ndarray:
    """1/n on the n best finite momenta of each row (stable: earlier column wins ties);
    NaN rows where fewer than n symbols have a momentum."""
    rows, k = mom.shape
    key = np.where(np.isnan(mom), np.inf, -mom)
    order = np.argsort(key, axis=1, kind="stable")[:, :n]
    w = np.zeros((rows, k))
    np.put_along_axis(w, order, 1.0 / n, axis=1)
    valid = np.isfinite(mom).sum(axis=1) >= n
    w[~valid] = np.nan
    return w


def top_n_momentum(closes: pd.DataFrame, lookback: int = 20, n: int = 1) -> pd.DataFrame:
    """Equal weights on the ``n`` symbols with the best ``lookback``-bar momentum, every bar.

    Parameters
    ----------
    closes : DataFrame
        Close prices, bars x symbols.
    lookback : int
        Momentum window in bars.
    n : int
        Number of symbols held (each ``1/n``); rows with fewer eligible symbols are NaN.
    """
    c = _closes(closes)
    lookback = _positive_int("lookback", lookback)
    n = _positive_int("n", n)
    if n > c.shape[1]:
        raise ConfigError(f"n={n} but closes has only {c.shape[1]} symbols")
    return pd.DataFrame(_top_n(_momentum(c, lookback), n), index=c.index, columns=c.columns)


def momentum_rotation_weights(
    closes: pd.DataFrame, lookback: int = 20, every: int = 5, top_n: int = 1
) -> pd.DataFrame:
    """MomentumRotation (REFERENCE §3.2): every ``every`` bars hold the ``top_n`` best
    ``lookback``-bar momenta fully (``1/top_n`` each).

    The first rotation is on the first bar where ``top_n`` symbols have a momentum; the
    rows between rotations are NaN (no decision), so with ``rebalance="on_change"`` the
    portfolio trades only when the selection changes, as the original did.
    """
    every = _positive_int("every", every)
    w = top_n_momentum(closes, lookback, top_n).to_numpy(copy=True)
    valid = np.flatnonzero(~np.isnan(w).all(axis=1))
    keep = np.zeros(len(w), dtype=bool)
    if valid.size:
        keep[int(valid[0]) :: every] = True
    w[~keep] = np.nan
    return pd.DataFrame(w, index=closes.index, columns=closes.columns)


def equal_weight(closes: pd.DataFrame) -> pd.DataFrame:
    """``1/m`` on each of the ``m`` symbols that have had a bar at or before t (0 before a
    symbol's first bar)."""
    c = _closes(closes)
    started = np.maximum.accumulate(c.notna().to_numpy(), axis=0)
    m = started.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(m > 0, started / m, np.nan)
    return pd.DataFrame(w, index=c.index, columns=c.columns)


def inverse_vol_weights(closes: pd.DataFrame, lookback: int = 20) -> pd.DataFrame:
    """Weights proportional to 1 / (sample std of the last ``lookback`` close-to-close
    returns), summing to 1 over the symbols that have such a volatility (NaN rows before).

    A return spans two bars of the union only where both closes exist; a window with a
    missing return gives no volatility for that symbol that bar. A zero volatility gives no
    weight (it would be infinite).
    """
    c = _closes(closes)
    lookback = _positive_int("lookback", lookback)
    if lookback < 2:
        raise ConfigError(f"lookback must be >= 2 for a volatility, got {lookback}")
    r = c.pct_change(fill_method=None)
    vol = rolling_std(r.to_numpy(dtype=np.float64), lookback)  # exact after a jump, unlike pandas'
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(vol > 0, 1.0 / vol, np.nan)
    tot = np.nansum(inv, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(np.isfinite(inv), inv / tot, 0.0)
    w[(tot[:, 0] == 0) | ~np.isfinite(tot[:, 0])] = np.nan
    return pd.DataFrame(w, index=c.index, columns=c.columns)
