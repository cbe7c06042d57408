"""The ``regime_weighted`` blend: indicator weights that depend on the regime probabilities.

``blend(t) = sum_r P(r, t) * sum_i W[r, i] s_i(t) / sum_i |W[r, i]|``

with ``P`` the regime engine's 8 bins (rows sum to 1) and ``W`` an 8 x N weight matrix (one
row per regime, one column per indicator). Each regime's inner sum is a weighted mean in
[-1, +1], so the blend is in [-1, +1]. It is causal whenever ``P`` and the signals are: bar t
uses P(., t) and s(t) only (the later reference version used the *last* row's regime for the
whole history, which looked ahead).

Default matrix (MFT.md §1.14, first reference version, with the phi registry's names):
trend indicators weigh 1.5 in TREND_* / BREAKOUT_* and 0.5 elsewhere; mean-reversion
indicators 1.5 in RANGE / EXHAUST_REV and 0.7 elsewhere; ``atr_ratio`` 1.3 in HIGHVOL /
BREAKOUT_* and 0.8 elsewhere; anything else 1.0.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from phi._math import row_dot
from phi.errors import ConfigError, did_you_mean, shown
from phi.regime.taxonomy import REGIMES

__all__ = [
    "RANGE_INDICATORS",
    "TREND_INDICATORS",
    "default_regime_weights",
    "regime_weight_matrix",
    "regime_weighted_blend",
]

TREND_INDICATORS: tuple[str, ...] = ("macd", "dual_sma", "ema_crossover", "momentum", "roc", "adx")
RANGE_INDICATORS: tuple[str, ...] = ("rsi", "stochastic", "bollinger", "range_pos", "cmf", "vwap_dev")
_TREND_REGIMES = ("TREND_UP", "TREND_DN", "BREAKOUT_UP", "BREAKOUT_DN")
_RANGE_REGIMES = ("RANGE", "EXHAUST_REV")
_VOL_REGIMES = ("HIGHVOL", "BREAKOUT_UP", "BREAKOUT_DN")
#: Most indicator columns a weight matrix may have.
MAX_INDICATORS = 10_000


def default_regime_weights(indicator_names: Sequence[str]) -> pd.DataFrame:
    """The default 8 x N weight matrix (index: the 8 regimes, columns: ``indicator_names``,
    at most :data:`MAX_INDICATORS` names).

    Examples
    --------
    >>> w = default_regime_weights(["macd", "rsi"])
    >>> w.loc["TREND_UP"].tolist(), w.loc["RANGE"].tolist()
    ([1.5, 0.7], [0.5, 1.5])
    """
    if isinstance(indicator_names, str):
        raise ConfigError(f"indicator_names must be a list of names, got the string {shown(indicator_names)}")
    if (
        isinstance(indicator_names, Mapping)
        or not isinstance(indicator_names, Iterable)
        or getattr(indicator_names, "ndim", 1) != 1
    ):
        raise ConfigError(f"indicator_names must be a list of names, got {shown(indicator_names)}")
    names = list(itertools.islice(indicator_names, MAX_INDICATORS + 1))
    if len(names) > MAX_INDICATORS:
        raise ConfigError(f"indicator_names: more than {MAX_INDICATORS:,} names; give fewer")
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise ConfigError(f"indicator_names must be strings, got {shown(bad[0])}")
    w = pd.DataFrame(1.0, index=pd.Index(REGIMES, name="regime"), columns=names)
    for name in names:
        if name in TREND_INDICATORS:
            w[name] = [1.5 if r in _TREND_REGIMES else 0.5 for r in REGIMES]
        elif name in RANGE_INDICATORS:
            w[name] = [1.5 if r in _RANGE_REGIMES else 0.7 for r in REGIMES]
        elif name == "atr_ratio":
            w[name] = [1.3 if r in _VOL_REGIMES else 0.8 for r in REGIMES]
    return w


def regime_weight_matrix(
    weights: pd.DataFrame | Mapping[str, Mapping[str, float]] | None,
    regimes: Sequence[str],
    names: Sequence[str],
) -> pd.DataFrame:
    """A validated (regimes x names) float matrix from a DataFrame, a nested mapping
    ``{regime: {indicator: w}}`` (unnamed indicators weigh 1.0, unnamed regimes use the
    default row) or ``None`` (the default matrix; needs the 8 MFT regimes)."""
    regimes = [str(r) for r in regimes]
    names = [str(n) for n in names]
    default = default_regime_weights(names)
    if weights is None:
        unknown = [r for r in regimes if r not in REGIMES]
        if unknown:
            raise ConfigError(
                f"no default regime weights for regime(s) {', '.join(unknown)}; the defaults cover "
                f"{', '.join(REGIMES)}. Pass a weight matrix"
            )
        return default.loc[regimes].astype("float64")
    if isinstance(weights, pd.DataFrame):
        table = {str(r): {str(k): v for k, v in row.items()} for r, row in weights.iterrows()}
    elif isinstance(weights, Mapping):
        for r, row in weights.items():
            if not isinstance(row, Mapping):
                raise ConfigError(
                    f"regime weights[{shown(r)}] must be a mapping {{indicator: weight}}, got {shown(row)}"
                )
        table = {str(r): dict(row) for r, row in weights.items()}
    else:
        raise ConfigError(
            f"regime weights must be a DataFrame (regimes x indicators) or a mapping, got {type(weights).__name__}"
        )
    out = pd.DataFrame(1.0, index=pd.Index(regimes, name="regime"), columns=names)
    for r in regimes:
        if r not in table and r in default.index:
            out.loc[r] = default.loc[r]
    for r, row in table.items():
        if r not in regimes:
            raise ConfigError(
                f"regime weights name regime {r!r}, which the probabilities do not have."
                f"{did_you_mean(r, regimes)} Regimes: {', '.join(regimes)}"
            )
        if not isinstance(row, Mapping):
            raise ConfigError(f"regime weights[{r!r}] must be a mapping indicator -> weight")
        for name, value in row.items():
            if name not in names:
                raise ConfigError(
                    f"regime weights[{r!r}] name {name!r}, which is not a signal.{did_you_mean(str(name), names)} "
                    f"Signals: {', '.join(names)}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not np.isfinite(value):
                raise ConfigError(f"regime weights[{r!r}][{name!r}] must be a finite number, got {value!r}")
            out.loc[r, name] = float(value)
    zero = [r for r in regimes if not np.any(out.loc[r].to_numpy() != 0.0)]
    if zero:
        raise ConfigError(f"every weight of regime(s) {', '.join(zero)} is zero; give each regime a non-zero weight")
    return out.astype("float64")


def _check_probs(regime_probs: pd.DataFrame, index: pd.Index) -> np.ndarray:
    if not isinstance(regime_probs, pd.DataFrame) or regime_probs.shape[1] == 0:
        raise ConfigError("regime_probs must be a DataFrame with one column per regime")
    missing = index.difference(regime_probs.index)
    if len(missing):
        raise ConfigError(
            f"regime_probs has no row for {len(missing)} signal bar(s), first {missing[0]}: "
            "compute the regime probabilities on the same bars as the signals"
        )
    p = regime_probs.reindex(index).to_numpy(dtype=np.float64)
    finite = p[np.isfinite(p)]
    if finite.size and (finite.min() < -1e-9 or finite.max() > 1 + 1e-9):
        raise ConfigError(
            f"regime_probs must be probabilities in [0, 1], got values in [{finite.min():.4g}, {finite.max():.4g}]"
        )
    rows = ~np.isnan(p).any(axis=1)
    sums = p[rows].sum(axis=1)
    if sums.size and np.max(np.abs(sums - 1.0)) > 1e-6:
        bad = float(sums[np.argmax(np.abs(sums - 1.0))])
        raise ConfigError(f"regime_probs rows must sum to 1, one sums to {bad:.6g}")
    return p


def regime_weighted_blend(
    signals: pd.DataFrame,
    regime_probs: pd.DataFrame,
    weights: pd.DataFrame | Mapping[str, Mapping[str, float]] | None = None,
) -> pd.Series:
    """``sum_r P(r, t) sum_i W[r, i] s_i(t) / sum_i |W[r, i]|``, in [-1, +1] (see the module doc).

    Parameters
    ----------
    signals : DataFrame
        One column per indicator, values in [-1, +1] (NaN during warm-up).
    regime_probs : DataFrame
        One column per regime (e.g. :attr:`RegimeResult.regime_probs`), rows summing to 1,
        with a row for every signal bar (NaN rows = regime warm-up).
    weights : DataFrame or mapping, optional
        Regimes x indicators (see :func:`regime_weight_matrix`); default
        :func:`default_regime_weights`.

    Returns
    -------
    Series
        Named ``"blend"``; NaN where the probabilities are NaN or an indicator with a non-zero
        weight in some regime is NaN.

    Examples
    --------
    >>> s = pd.DataFrame({"macd": [1.0], "rsi": [-1.0]})
    >>> p = pd.DataFrame([[1.0] + [0.0] * 7], columns=list(REGIMES))
    >>> regime_weighted_blend(s, p).round(4).tolist()       # TREND_UP: (1.5 - 0.7) / 2.2
    [0.3636]
    """
    if not isinstance(signals, pd.DataFrame) or signals.shape[1] == 0:
        raise ConfigError("signals must be a DataFrame with one column per indicator")
    names = [str(c) for c in signals.columns]
    p = _check_probs(regime_probs, signals.index)
    w = regime_weight_matrix(weights, [str(c) for c in regime_probs.columns], names).to_numpy()
    x = signals.to_numpy(dtype=np.float64)
    outside = np.abs(x) > 1.0 + 1e-9  # NaN (warm-up) compares False
    if outside.any():
        j = int(np.flatnonzero(outside.any(axis=0))[0])
        i = int(np.flatnonzero(outside[:, j])[0])
        raise ConfigError(
            f"signal {names[j]!r} is {float(x[i, j])!r} at {signals.index[i]}; signals must be in [-1, +1] (or NaN)"
        )
    used = np.any(w != 0.0, axis=0)
    xs = np.where(used[None, :], x, 0.0)  # an indicator no regime weighs cannot NaN the blend
    per_regime = row_dot(xs, (w / np.abs(w).sum(axis=1, keepdims=True)).T)  # (bars, regimes)
    out = np.clip(np.sum(p * per_regime, axis=1), -1.0, 1.0)
    return pd.Series(out, index=signals.index, name="blend", dtype="float64")
