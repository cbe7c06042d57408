"""Blend several indicator signals (one column each, in [-1, +1]) into one signal in [-1, +1].

Modes (:data:`BLEND_MODES`):

``weighted_sum``
    ``sum_i w_i s_i / sum_i |w_i|``, clipped to [-1, +1]. No tanh squashing (the reference
    implementation's ``tanh`` kept the blend below 0.77 even when every indicator said +1).
``voting``
    Each indicator votes ``sign(s_i)`` when ``|s_i| > dead_zone``, else 0; the output is the
    net weighted vote share ``sum_i w_i v_i / sum_i |w_i|``.
``regime_weighted``
    ``sum_r P(r, t) * (sum_i W[r, i] s_i(t) / sum_i |W[r, i]|)`` with regime probabilities ``P``
    from the regime engine (issue 04; :func:`phi.regime.blend.regime_weighted_blend`). Without
    ``regime_probs`` it is an error, never a fallback. With the engine's 8 regimes and no
    ``regime_weights``, W is :func:`phi.regime.blend.default_regime_weights` times ``weights``.
``phiai``
    Walk-forward weights: every ``step`` bars each indicator is scored alone on a training
    window that *ends before* the first bar the new weights apply to; weights are
    ``max(score, 0)`` normalised (equal weights if no score is positive), then blended as
    ``weighted_sum``. Before the first training window is complete the blend is NaN (warm-up).

Weights: a mapping ``{indicator: weight}``; indicators it does not name weigh 1.0. A negative
weight inverts that indicator (the normalisation by ``sum |w|`` keeps the output in range).
Unknown names, non-numeric or non-finite values and all-zero weights are a ConfigError.
``phiai`` computes its own weights and refuses user weights.

NaN handling (chosen on purpose): the blend at bar t is NaN while any indicator that carries
weight is NaN at t (e.g. during its warm-up). Blending over "whatever is available" would change
the blend's meaning when a slow indicator comes alive and could fire a spurious entry on that
bar. Zero-weight indicators are left out entirely, so their NaNs do not matter.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import numpy as np
import pandas as pd

from phi._math import row_dot
from phi.data.schema import check_bar_values, conform_ohlcv
from phi.errors import ConfigError, did_you_mean, shown, unknown_choice

BLEND_MODES: Final[tuple[str, ...]] = ("weighted_sum", "voting", "regime_weighted", "phiai")
PHIAI_WINDOWS: Final[tuple[str, ...]] = ("expanding", "rolling")
#: Largest ``train_bars`` / ``step`` of ``phiai`` (a billion bars: far beyond any real series).
MAX_BARS: Final = 1_000_000_000

#: Scores each column of a training-window slice of the signals; returns one score per column
#: (a sequence in column order or a mapping by column name). Higher is better.
Scorer = Callable[[pd.DataFrame], "Sequence[float] | np.ndarray | Mapping[str, float]"]

REGIME_ENGINE_MISSING: Final[str] = (
    "regime_weighted needs regime probabilities (the regime engine, issue 04): pass regime_probs "
    "(a DataFrame of P(regime, t)) or choose weighted_sum, voting or phiai"
)


# ---------------------------------------------------------------------------- validation


def _check_signals(signals: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(signals, pd.DataFrame):
        raise ConfigError(
            f"signals must be a DataFrame with one column per indicator, got {type(signals).__name__}"
        )
    if signals.shape[1] == 0:
        raise ConfigError("signals has no columns: select at least one indicator to blend")
    names = [str(c) for c in signals.columns]
    dup = sorted(n for n, k in Counter(names).items() if k > 1)
    if dup:
        more = f" and {len(dup) - 5:,} more" if len(dup) > 5 else ""
        raise ConfigError(f"signals has duplicate indicator columns: {', '.join(dup[:5])}{more}")
    complex_cols = [
        n for n, dt in zip(names, signals.dtypes, strict=True) if pd.api.types.is_complex_dtype(dt)
    ]
    if complex_cols:
        raise ConfigError(
            f"signals column {complex_cols[0]!r} holds complex numbers; signals are real numbers "
            "in [-1, 1] (NaN allowed)"
        )
    try:
        out = signals.astype("float64")
    except (TypeError, ValueError):
        raise ConfigError("signals must be numeric (one float column per indicator)") from None
    out.columns = names
    values = out.to_numpy()
    with np.errstate(invalid="ignore"):
        bad = np.abs(values) > 1.0  # NaN (no view) passes; +-inf does not
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ConfigError(
            f"signals must lie in [-1, 1] (NaN allowed): column {names[col]!r} is "
            f"{float(values[row, col])!r} at {out.index[row]}; blend signals "
            "(phi.indicators.registry.compute_signal), not raw indicator values"
        )
    return out


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{what} must be a number, got {shown(value)}")
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise ConfigError(f"{what} must be finite, got {shown(value)}")
    return x


def _check_choice(value: Any, what: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {shown(value)}")
    if value not in choices:
        raise ConfigError(unknown_choice(what, value, choices))
    return value


#: Below this largest |weight|, products w_i * s_i lose digits (subnormal numbers): rescaled.
_TINY_WEIGHT: Final = 2.0**-500


def weight_vector(
    names: Sequence[str], weights: Mapping[str, float] | None, *, what: str = "blend weights"
) -> np.ndarray:
    """Weights for ``names`` in order: given ones, 1.0 for names not mentioned.

    Raises
    ------
    ConfigError
        A weight names an indicator not in ``names`` (with a did-you-mean), is not a finite
        number, or every weight is zero.
    """
    if isinstance(names, str | bytes) or not isinstance(names, Sequence | pd.Index):
        raise ConfigError(f"{what}: names must be a list of indicator names, got {shown(names)}")
    names = [str(n) for n in names]
    w = np.ones(len(names))
    if weights is not None:
        if not isinstance(weights, Mapping):
            raise ConfigError(f"{what} must be a mapping {{indicator: weight}}, got {type(weights).__name__}")
        index = {n: i for i, n in enumerate(names)}
        for key, value in weights.items():
            if key not in index:
                raise ConfigError(
                    f"{what} name {shown(key)}, which is not in the blend.{did_you_mean(str(key), names)} "
                    f"Indicators in the blend: {', '.join(names)}"
                )
            w[index[key]] = _number(value, f"{what}[{shown(key)}]")
    if not np.any(w != 0.0):
        raise ConfigError(f"all {what} are zero: give at least one indicator a non-zero weight")
    with np.errstate(over="ignore"):
        overflow = not np.isfinite(np.abs(w).sum())
    if overflow:  # finite weights whose sum overflows: the same blend, scaled down
        w = w / np.abs(w).max()
    elif np.abs(w).max() < _TINY_WEIGHT:  # w_i * s_i would round to a few digits (or 0): the
        w = np.ldexp(w, -np.frexp(np.abs(w).max())[1])  # same blend, scaled up by a power of 2 (exact)
    return w


def _check_dead_zone(dead_zone: Any) -> float:
    dz = _number(dead_zone, "dead_zone")
    if not 0.0 <= dz < 1.0:
        raise ConfigError(f"dead_zone must be in [0, 1), got {shown(dead_zone)}")
    return dz


# ---------------------------------------------------------------------------- linear blends


def _linear(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``sum w_i x_i / sum |w_i|`` per row over the non-zero weights; NaN if any of those is NaN."""
    keep = w != 0.0
    x = values[:, keep]
    wk = w[keep]
    out = row_dot(x, wk) / np.abs(wk).sum()
    return np.clip(out, -1.0, 1.0)


def _votes(values: np.ndarray, dead_zone: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        v = np.where(np.abs(values) > dead_zone, np.sign(values), 0.0)
    v[np.isnan(values)] = np.nan
    return v


def _regime_blend(
    values: np.ndarray,
    names: list[str],
    index: pd.Index,
    weights: Mapping[str, float] | None,
    regime_probs: pd.DataFrame,
    regime_weights: Mapping[str, Mapping[str, float]] | None,
) -> np.ndarray:
    if not isinstance(regime_probs, pd.DataFrame) or regime_probs.shape[1] == 0:
        raise ConfigError("regime_probs must be a DataFrame with one column per regime")
    regimes = [str(c) for c in regime_probs.columns]  # probabilities checked by regime_weighted_blend
    if regime_weights is not None and not isinstance(regime_weights, Mapping):
        raise ConfigError(
            f"regime_weights must be a mapping {{regime: {{indicator: weight}}}}, got {type(regime_weights).__name__}"
        )
    regime_weights = dict(regime_weights or {})
    for r in regime_weights:
        if r not in regimes:
            raise ConfigError(
                f"regime_weights names regime {shown(r)}, which regime_probs does not have."
                f"{did_you_mean(str(r), regimes)} Regimes: {', '.join(regimes)}"
            )
    from phi.regime.blend import default_regime_weights, regime_weighted_blend
    from phi.regime.taxonomy import REGIMES

    base = weight_vector(names, weights)
    if not regime_weights and set(regimes) <= set(REGIMES):  # the engine's 8 bins: default matrix x weights
        W = default_regime_weights(names).loc[regimes] * base
    else:
        W = pd.DataFrame(
            [base if r not in regime_weights else weight_vector(names, regime_weights[r], what=f"regime_weights[{shown(r)}]") for r in regimes],
            index=regimes,
            columns=names,
        )
    return regime_weighted_blend(pd.DataFrame(values, index=index, columns=names), regime_probs, W).to_numpy()


# ---------------------------------------------------------------------------- phiai (walk-forward)


class PhiAIFit(NamedTuple):
    """The walk-forward weight schedule of a ``phiai`` blend.

    ``weights`` and ``scores`` have one row per refresh, indexed by the first bar the row's
    weights apply to; ``train_start``/``train_end`` are the positions of the training window
    ``[train_start, train_end)`` used for that row (always ``train_end <= `` the first applied bar).
    """

    weights: pd.DataFrame
    scores: pd.DataFrame
    train_start: np.ndarray
    train_end: np.ndarray


def next_bar_scorer(close: pd.Series) -> Scorer:
    """A vectorised stand-alone backtest score: per-bar Sharpe of holding ``s[t-1]`` over bar t.

    The position during bar t is the signal of bar t-1 (NaN counts as flat) and earns the close
    to close return of bar t; the score is mean / std of that return over the training window
    (0 when the std is 0). It only reads bars inside the window it is given. The pipeline uses
    the real engine instead (:func:`phi.pipeline.engine_scorer`); this one keeps
    :func:`blend` usable without it.
    """
    if not isinstance(close, pd.Series):
        raise ConfigError(f"next_bar_scorer: close must be a pandas Series of prices, got {shown(close)}")
    try:
        close = close.astype("float64")
    except (TypeError, ValueError):
        raise ConfigError("next_bar_scorer: close must be numeric prices") from None

    def score(train: pd.DataFrame) -> np.ndarray:
        c = close.reindex(train.index).to_numpy()
        r = c[1:] / c[:-1] - 1.0
        pos = np.nan_to_num(train.to_numpy()[:-1], nan=0.0)
        strat = pos * r[:, None]
        if strat.shape[0] < 2:
            return np.zeros(train.shape[1])
        mu = np.nanmean(strat, axis=0)
        sd = np.nanstd(strat, axis=0, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(sd > 0, mu / sd, 0.0)
        return np.nan_to_num(s, nan=0.0)

    return score


def _scores_array(raw: Any, names: list[str]) -> np.ndarray:
    try:
        if isinstance(raw, Mapping):
            missing = [n for n in names if n not in raw]
            if missing:
                raise ConfigError(f"phiai scorer returned no score for {', '.join(missing)}")
            arr = np.array([float(raw[n]) for n in names])
        else:
            arr = np.asarray(raw, dtype="float64").reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(
            f"phiai scorer must return {len(names)} numbers (a sequence or a mapping by indicator), "
            f"got {shown(raw)}"
        ) from None
    if arr.shape != (len(names),):
        raise ConfigError(f"phiai scorer must return {len(names)} scores, got {arr.shape[0]}")
    return arr


def score_weights(scores: np.ndarray) -> np.ndarray:
    """Weights proportional to ``max(score, 0)`` (NaN counts as 0), summing to 1; equal if none > 0.

    Infinite scores (a profit factor without losers) share the weight equally among themselves.
    """
    try:
        scores = np.asarray(scores, dtype="float64")
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"scores must be numbers, one per indicator, got {shown(scores)}") from None
    if scores.ndim != 1 or scores.size == 0:
        raise ConfigError(f"scores must be a non-empty 1-d array (one per indicator), got {shown(scores)}")
    if np.isposinf(scores).any():  # e.g. a profit factor with no losing trade
        scores = np.where(np.isposinf(scores), 1.0, 0.0)
    w = np.where(np.isnan(scores), 0.0, np.maximum(scores, 0.0))
    total = w.sum()
    if not total > 0:
        return np.full(len(scores), 1.0 / len(scores))
    return w / total


def _check_int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {shown(value)}")
    if int(value) > MAX_BARS:
        raise ConfigError(f"{what} must be at most {MAX_BARS:,} bars, got {shown(value)}")
    return int(value)


def _check_phiai_settings(train_bars: Any, step: Any, window: Any) -> tuple[int, int, str]:
    return (
        _check_int(train_bars, "phiai train_bars", 2),
        _check_int(step, "phiai step", 1),
        _check_choice(window, "phiai window", PHIAI_WINDOWS),
    )


def phiai_fit(
    signals: pd.DataFrame,
    *,
    score_fn: Scorer | None = None,
    ohlcv: pd.DataFrame | None = None,
    train_bars: int = 252,
    step: int = 21,
    window: str = "expanding",
) -> PhiAIFit:
    """Walk-forward ``phiai`` weights: refreshed at bars ``train_bars + k * step``.

    The weights applied from bar ``b`` on are scored on bars ``[a, b)`` only, with ``a = 0``
    (``window="expanding"``) or ``a = b - train_bars`` (``"rolling"``). The schedule depends only
    on bar positions, so truncating the inputs never changes earlier weights.

    Parameters
    ----------
    signals : DataFrame
        One signal column per indicator.
    score_fn : callable, optional
        ``score_fn(signals.iloc[a:b]) -> scores``; defaults to :func:`next_bar_scorer` on
        ``ohlcv["close"]``.
    ohlcv : DataFrame, optional
        Bars aligned with ``signals`` (needed when ``score_fn`` is not given).
    train_bars, step : int
        First training length (and rolling length), and bars between refreshes.
    window : {"expanding", "rolling"}
    """
    signals = _check_signals(signals)
    train_bars, step, window = _check_phiai_settings(train_bars, step, window)
    if score_fn is not None and not callable(score_fn):
        raise ConfigError(f"phiai score_fn must be a function of the signals, got {shown(score_fn)}")
    if score_fn is None:
        if ohlcv is None:
            raise ConfigError(
                "phiai scores each indicator on past bars: pass ohlcv= (bars aligned with the "
                "signals) or score_fn="
            )
        ohlcv = conform_ohlcv(ohlcv, ("close",))  # the bars every entry point takes
        check_bar_values(ohlcv, ("close",))
        if not signals.index.isin(ohlcv.index).all():
            raise ConfigError(
                "phiai: ohlcv must have a bar at every signal stamp (the bars the signals were "
                "computed on); align them first"
            )
        score_fn = next_bar_scorer(ohlcv["close"])
    names = list(signals.columns)
    n = len(signals)
    ends = np.arange(train_bars, n, step, dtype=np.int64)
    starts = np.zeros_like(ends) if window == "expanding" else ends - train_bars
    w_rows, s_rows = [], []
    for a, b in zip(starts, ends, strict=True):  # one engine call per refresh, not per bar
        scores = _scores_array(score_fn(signals.iloc[int(a) : int(b)]), names)
        s_rows.append(scores)
        w_rows.append(score_weights(scores))
    idx = signals.index[ends]
    shape = (len(ends), len(names))
    return PhiAIFit(
        weights=pd.DataFrame(np.array(w_rows).reshape(shape), index=idx, columns=names),
        scores=pd.DataFrame(np.array(s_rows).reshape(shape), index=idx, columns=names),
        train_start=starts,
        train_end=ends,
    )


def apply_phiai(signals: pd.DataFrame, fit: PhiAIFit) -> pd.Series:
    """The ``phiai`` blend of ``signals`` under a weight schedule from :func:`phiai_fit`."""
    signals = _check_signals(signals)
    if not isinstance(fit, PhiAIFit):
        raise ConfigError(f"apply_phiai: fit must be a PhiAIFit from phiai_fit, got {shown(fit)}")
    if list(fit.weights.columns) != list(signals.columns):
        raise ConfigError(
            f"apply_phiai: the fit weighs {', '.join(map(str, fit.weights.columns))[:200]} but the "
            f"signals are {', '.join(signals.columns)[:200]}; fit on the same columns"
        )
    out = _phiai_blend(signals.to_numpy(), fit)
    return pd.Series(out, index=signals.index, name="blend", dtype="float64")


def _phiai_blend(values: np.ndarray, fit: PhiAIFit) -> np.ndarray:
    n = values.shape[0]
    out = np.full(n, np.nan)
    ends = fit.train_end
    if len(ends) == 0:
        return out
    # row j of the schedule applies to bars [ends[j], ends[j+1]); expand it to a bar matrix.
    which = np.searchsorted(ends, np.arange(n), side="right") - 1
    live = which >= 0
    W = fit.weights.to_numpy()[which[live]]
    x = np.where(W == 0.0, 0.0, values[live])  # a zero-weight indicator's NaN does not count
    out[live] = np.clip((x * W).sum(axis=1) / np.abs(W).sum(axis=1), -1.0, 1.0)
    return out


# ---------------------------------------------------------------------------- public API


def blend(
    signals: pd.DataFrame,
    mode: str = "weighted_sum",
    weights: Mapping[str, float] | None = None,
    *,
    dead_zone: float = 0.05,
    regime_probs: pd.DataFrame | None = None,
    regime_weights: Mapping[str, Mapping[str, float]] | None = None,
    ohlcv: pd.DataFrame | None = None,
    score_fn: Scorer | None = None,
    train_bars: int = 252,
    step: int = 21,
    window: str = "expanding",
) -> pd.Series:
    """Blend indicator signals into one signal in [-1, +1] (see the module docstring).

    Parameters
    ----------
    signals : DataFrame
        One column per indicator, values in [-1, +1], NaN during warm-up.
    mode : {"weighted_sum", "voting", "regime_weighted", "phiai"}
    weights : mapping, optional
        ``{indicator: weight}``; unmentioned indicators weigh 1.0. Not allowed with ``phiai``.
    dead_zone : float
        ``voting`` only: ``|s| <= dead_zone`` abstains.
    regime_probs, regime_weights
        ``regime_weighted`` only: P(regime, t) (rows sum to 1) and ``{regime: {indicator: w}}``
        (regimes not named use ``weights``).
    ohlcv, score_fn, train_bars, step, window
        ``phiai`` only, see :func:`phiai_fit`.

    Returns
    -------
    Series
        Named ``"blend"``, on the signals' index.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"rsi": [1.0, -0.5], "macd": [0.0, 0.5]})
    >>> blend(s, "weighted_sum", {"rsi": 3, "macd": 1}).tolist()
    [0.75, -0.25]
    """
    signals = _check_signals(signals)
    _check_choice(mode, "blend mode", BLEND_MODES)
    _check_dead_zone(dead_zone)
    _check_phiai_settings(train_bars, step, window)
    names = list(signals.columns)
    values = signals.to_numpy()
    if mode == "weighted_sum":
        out = _linear(values, weight_vector(names, weights))
    elif mode == "voting":
        out = _linear(_votes(values, _check_dead_zone(dead_zone)), weight_vector(names, weights))
    elif mode == "regime_weighted":
        if regime_probs is None:
            raise ConfigError(REGIME_ENGINE_MISSING)
        out = _regime_blend(values, names, signals.index, weights, regime_probs, regime_weights)
    elif mode == "phiai":
        if weights is not None:
            raise ConfigError("phiai computes its own weights from past scores: do not pass weights")
        fit = phiai_fit(
            signals, score_fn=score_fn, ohlcv=ohlcv, train_bars=train_bars, step=step, window=window
        )
        out = _phiai_blend(values, fit)
    else:
        raise ConfigError(unknown_choice("blend mode", mode, BLEND_MODES))
    return pd.Series(out, index=signals.index, name="blend", dtype="float64")


@dataclass(frozen=True)
class Blender:
    """The spec's ``Blender``: a blend mode and its settings, applied with :meth:`blend`.

    Examples
    --------
    >>> import pandas as pd
    >>> Blender("voting").blend(pd.DataFrame({"a": [0.5], "b": [-0.01]})).tolist()
    [0.5]
    """

    mode: str = "weighted_sum"
    weights: Mapping[str, float] | None = None
    dead_zone: float = 0.05
    regime_weights: Mapping[str, Mapping[str, float]] | None = None
    train_bars: int = 252
    step: int = 21
    window: str = "expanding"

    def __post_init__(self) -> None:
        _check_choice(self.mode, "blend mode", BLEND_MODES)
        _check_dead_zone(self.dead_zone)
        _check_phiai_settings(self.train_bars, self.step, self.window)
        for name in ("weights", "regime_weights"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError(f"Blender.{name} must be a mapping or None, got {shown(value)}")

    def blend(
        self,
        signals: pd.DataFrame,
        *,
        regime_probs: pd.DataFrame | None = None,
        ohlcv: pd.DataFrame | None = None,
        score_fn: Scorer | None = None,
    ) -> pd.Series:
        """Blend ``signals`` with this blender's settings (see :func:`blend`)."""
        return blend(
            signals,
            self.mode,
            self.weights,
            dead_zone=self.dead_zone,
            regime_probs=regime_probs,
            regime_weights=self.regime_weights,
            ohlcv=ohlcv,
            score_fn=score_fn,
            train_bars=self.train_bars,
            step=self.step,
            window=self.window,
        )

    __call__ = blend
