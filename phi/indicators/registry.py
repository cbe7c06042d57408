"""The indicator registry: declared specs and the functions that compute them.

>>> from phi.indicators.registry import compute_signal, list_indicators
>>> list_indicators()[:3]
['rsi', 'macd', 'bollinger']

Every indicator maps its raw values (:mod:`phi.indicators.raw`, TA-Lib conventions) to a
signal in [-1, +1] (:mod:`phi.indicators.signals`; +1 = buy). Parameters are declared here
only, as :class:`ParamSpec`; :func:`resolve_params` validates them. The regime engine adds
``phi_mft`` with :func:`register_indicator`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from phi.errors import IndicatorError, UnknownIndicatorError, shown, unknown_choice
from phi.indicators.params import ALL_INPUTS, NORM_WINDOW, Deferred, IndicatorSpec, ParamSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "INDICATORS",
    "IndicatorSpec",
    "ParamSpec",
    "compute_all_signals",
    "compute_raw",
    "compute_signal",
    "get_indicator",
    "list_indicators",
    "register_indicator",
    "resolve_params",
]

_N = NORM_WINDOW - 1  # extra warm-up bars of the rolling-RMS scaling


def _p(name: str, default: int, low: int, high: int, description: str) -> ParamSpec:
    return ParamSpec(name, int, default, low, high, 1, description)


def _signal(name: str) -> Deferred:
    return Deferred("phi.indicators.signals", name)


def _raw(name: str) -> Deferred:
    return Deferred("phi.indicators.raw", name)


def _fast_below_slow(p: Mapping[str, Any]) -> str | None:
    return None if p["fast"] < p["slow"] else "fast must be smaller than slow"


_HLC = ("high", "low", "close")
_C = ("close",)

INDICATORS: dict[str, IndicatorSpec] = {}


def register_indicator(spec: IndicatorSpec) -> None:
    """Add ``spec`` to :data:`INDICATORS` (replacing an indicator of the same name)."""
    if not isinstance(spec, IndicatorSpec):
        raise TypeError(f"register_indicator expects an IndicatorSpec, got {type(spec).__name__}")
    INDICATORS[spec.name] = spec


for _spec in (
    IndicatorSpec(
        name="rsi",
        type="A",
        description="Relative Strength Index (Wilder): share of average gains in average moves",
        signal_mapping="clip((50 - RSI) / 20, -1, 1): RSI 30 -> +1, 40 -> +0.5, 70 -> -1; flat prices -> 0",
        params=(_p("period", 14, 2, 50, "bars of Wilder smoothing"),),
        compute=_signal("rsi_signal"),
        raw=_raw("rsi"),
        warmup=lambda p: p["period"],
        inputs=_C,
    ),
    IndicatorSpec(
        name="macd",
        type="B",
        description="MACD histogram: fast EMA - slow EMA, minus its signal EMA (momentum)",
        signal_mapping=f"clip(hist / (2 * RMS_{NORM_WINDOW}(hist)), -1, 1): histogram above 0 -> buy",
        params=(
            _p("fast", 12, 2, 30, "bars of the fast EMA"),
            _p("slow", 26, 5, 60, "bars of the slow EMA"),
            _p("signal", 9, 2, 20, "bars of the signal-line EMA"),
        ),
        compute=_signal("macd_signal"),
        raw=_raw("macd"),
        warmup=lambda p: p["slow"] + p["signal"] - 2 + _N,
        inputs=_C,
        constraint=_fast_below_slow,
    ),
    IndicatorSpec(
        name="bollinger",
        type="A",
        description="Close's position in the Bollinger bands (SMA +- k population std)",
        signal_mapping="clip((middle - close) / (upper - middle), -1, 1): lower band -> +1, upper -> -1; zero width -> 0",
        params=(
            _p("period", 20, 5, 60, "bars of the SMA and std"),
            ParamSpec("nbdev", float, 2.0, 1.0, 3.5, 0.25, "band width in standard deviations"),
        ),
        compute=_signal("bollinger_signal"),
        raw=_raw("bollinger"),
        warmup=lambda p: p["period"] - 1,
        inputs=_C,
    ),
    IndicatorSpec(
        name="stochastic",
        type="A",
        description="Slow stochastic %K: close's place in the high-low range, smoothed",
        signal_mapping="clip((50 - slow %K) / 40, -1, 1): %K 10 -> +1, 30 -> +0.5, 90 -> -1; zero range -> 0",
        params=(
            _p("k_period", 14, 5, 30, "bars of the high-low range (fast %K)"),
            _p("d_period", 3, 1, 10, "SMA bars smoothing %K (slow %K) and %K into %D"),
        ),
        compute=_signal("stochastic_signal"),
        raw=_raw("stochastic"),
        warmup=lambda p: p["k_period"] - 1 + 2 * (p["d_period"] - 1),
        inputs=_HLC,
    ),
    IndicatorSpec(
        name="dual_sma",
        type="B",
        description="Spread of a fast over a slow SMA (golden / death cross)",
        signal_mapping=f"x = (SMA_fast - SMA_slow) / SMA_slow; clip(x / (2 * RMS_{NORM_WINDOW}(x)), -1, 1)",
        params=(
            _p("fast", 10, 2, 50, "bars of the fast SMA"),
            _p("slow", 50, 10, 200, "bars of the slow SMA"),
        ),
        compute=_signal("dual_sma_signal"),
        raw=_raw("dual_sma"),
        warmup=lambda p: p["slow"] - 1 + _N,
        inputs=_C,
        constraint=_fast_below_slow,
    ),
    IndicatorSpec(
        name="ema_crossover",
        type="B",
        description="Spread of a fast over a slow EMA, relative to the close",
        signal_mapping=f"x = (EMA_fast - EMA_slow) / close; clip(x / (2 * RMS_{NORM_WINDOW}(x)), -1, 1)",
        params=(
            _p("fast", 9, 2, 30, "bars of the fast EMA"),
            _p("slow", 21, 5, 100, "bars of the slow EMA"),
        ),
        compute=_signal("ema_crossover_signal"),
        raw=_raw("ema_crossover"),
        warmup=lambda p: p["slow"] - 1 + _N,
        inputs=_C,
        constraint=_fast_below_slow,
    ),
    IndicatorSpec(
        name="momentum",
        type="B",
        description="Price momentum: close - close n bars ago",
        signal_mapping=f"clip(MOM / (2 * RMS_{NORM_WINDOW}(MOM)), -1, 1): rising -> buy",
        params=(_p("period", 10, 2, 60, "bars back"),),
        compute=_signal("momentum_signal"),
        raw=_raw("momentum"),
        warmup=lambda p: p["period"] + _N,
        inputs=_C,
    ),
    IndicatorSpec(
        name="roc",
        type="B",
        description="Rate of change: percent change of the close over n bars",
        signal_mapping=f"clip(ROC / (2 * RMS_{NORM_WINDOW}(ROC)), -1, 1): rising -> buy",
        params=(_p("period", 10, 2, 60, "bars back"),),
        compute=_signal("roc_signal"),
        raw=_raw("roc"),
        warmup=lambda p: p["period"] + _N,
        inputs=_C,
    ),
    IndicatorSpec(
        name="atr_ratio",
        type="B",
        description="Volatility regime: Wilder ATR over its own SMA",
        signal_mapping="clip(2 * (1 - ATR / SMA(ATR)), -1, 1): ratio 0.5 -> +1 (calm), 1.5 -> -1; flat -> 0",
        params=(
            _p("atr_period", 14, 5, 30, "bars of Wilder smoothing of the true range"),
            _p("ma_period", 50, 10, 150, "bars of the SMA of the ATR"),
        ),
        compute=_signal("atr_ratio_signal"),
        raw=_raw("atr_ratio"),
        warmup=lambda p: p["atr_period"] + p["ma_period"] - 1,
        inputs=_HLC,
    ),
    IndicatorSpec(
        name="vwap_dev",
        type="D",
        description="Deviation of the close from its rolling VWAP (typical price)",
        signal_mapping=f"x = (close - VWAP) / VWAP; -clip(x / (2 * RMS_{NORM_WINDOW}(x)), -1, 1): below VWAP -> buy; no volume -> 0",
        params=(_p("period", 20, 5, 100, "bars of the rolling VWAP"),),
        compute=_signal("vwap_dev_signal"),
        raw=_raw("vwap_dev"),
        warmup=lambda p: p["period"] - 1 + _N,
        inputs=("high", "low", "close", "volume"),
    ),
    IndicatorSpec(
        name="cmf",
        type="A",
        description="Chaikin Money Flow: volume-weighted close location in the bar's range",
        signal_mapping="clip(CMF / 0.25, -1, 1): accumulation -> buy; CMF 0.25 -> +1; no volume -> 0",
        params=(_p("period", 20, 5, 60, "bars summed"),),
        compute=_signal("cmf_signal"),
        raw=_raw("cmf"),
        warmup=lambda p: p["period"] - 1,
        inputs=("high", "low", "close", "volume"),
    ),
    IndicatorSpec(
        name="adx",
        type="B",
        description="Trend strength (ADX) with direction (+DI vs -DI), Wilder smoothing",
        signal_mapping="sign(+DI - -DI) * clip((ADX - 20) / 30, 0, 1): ADX <= 20 -> 0, ADX 50 -> +-1",
        params=(_p("period", 14, 5, 40, "bars of Wilder smoothing"),),
        compute=_signal("adx_signal"),
        raw=_raw("adx"),
        warmup=lambda p: 2 * p["period"] - 1,
        inputs=_HLC,
    ),
    IndicatorSpec(
        name="wyckoff",
        type="C",
        description="Wyckoff effort vs result: net up-volume against price's place vs its VWMA",
        signal_mapping=(
            f"clip(B - P, -1, 1), B = (up-vol - down-vol) / vol over L bars, "
            f"P = clip(d / (2 * RMS_{NORM_WINDOW}(d)), -1, 1), d = (close - VWMA_L) / VWMA_L: "
            "accumulation -> buy, distribution -> sell"
        ),
        params=(_p("lookback", 30, 10, 100, "bars L of the VWMA and of the volume balance"),),
        compute=_signal("wyckoff_signal"),
        raw=_raw("wyckoff"),
        warmup=lambda p: p["lookback"] - 1 + _N,
        inputs=("close", "volume"),
    ),
    IndicatorSpec(
        name="range_pos",
        type="A",
        description="Close's position in the rolling highest-high / lowest-low range",
        signal_mapping="clip(1 - 2 * position, -1, 1): at the low -> +1, at the high -> -1; zero range -> 0",
        params=(_p("period", 20, 5, 100, "bars of the range"),),
        compute=_signal("range_pos_signal"),
        raw=_raw("range_pos"),
        warmup=lambda p: p["period"] - 1,
        inputs=_HLC,
    ),
):
    register_indicator(_spec)


#: Indicators that are not listed until used, because computing them needs a server (they
#: stay out of "every indicator" loops: the warm-up, PhiAI's default candidates, the tests);
#: ``get_indicator`` loads them by name, so a saved run that uses one re-runs.
ON_DEMAND: Final[dict[str, str]] = {"plutus": "phi.plutus.indicator"}


def list_indicators() -> list[str]:
    """Names of the registered indicators, in registry order."""
    return list(INDICATORS)


def get_indicator(name: str) -> IndicatorSpec:
    """The spec called ``name``; :class:`UnknownIndicatorError` (with a suggestion) if none."""
    if not isinstance(name, str):
        raise UnknownIndicatorError(f"indicator name must be a string, got {shown(name)}")
    spec = INDICATORS.get(name)
    if spec is None and name in ON_DEMAND:  # registered by its own module, loaded on first use
        importlib.import_module(ON_DEMAND[name])
        spec = INDICATORS.get(name)
    if spec is None:
        raise UnknownIndicatorError(unknown_choice("indicator", name, INDICATORS))
    return spec


def resolve_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge ``params`` over ``name``'s defaults and validate them.

    Raises :class:`ParameterError` for an unknown parameter, a value of the wrong type
    (``bool`` is not a number; an ``int`` parameter accepts a float with an integral value
    such as ``14.0``), a value outside ``[low, high]``, or an invalid combination (e.g.
    ``fast >= slow``).
    """
    return get_indicator(name).resolve(params)


def _check_frame(ohlcv: Any, columns: Sequence[str]) -> pd.DataFrame:
    """``ohlcv`` as every entry point takes bars (:func:`phi.data.schema.conform_bars`: any
    case, numbers or numeric text, returned as is when it conforms; ``columns``' values
    checked; bars in time order)."""
    from phi.data.schema import conform_bars

    return conform_bars(ohlcv, columns)


def _check_length(spec: IndicatorSpec, params: Mapping[str, Any], n: int) -> int:
    warm = int(spec.warmup(params))
    if n <= warm:
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        raise IndicatorError(
            f"{spec.name}({shown}) needs more than {warm} bars (its warm-up); the frame has {n}. "
            "Use a longer date range or shorter periods"
        )
    return warm


def _check_signal(spec: IndicatorSpec, out: Any, ohlcv: pd.DataFrame, warm: int) -> pd.Series:
    import numpy as np
    import pandas as pd

    if not isinstance(out, pd.Series) or len(out) != len(ohlcv):
        raise IndicatorError(
            f"{spec.name}: compute returned {type(out).__name__} of length "
            f"{len(out) if hasattr(out, '__len__') else '?'}; expected a Series of {len(ohlcv)}"
        )
    values = out.to_numpy(dtype=np.float64, na_value=np.nan)
    tail = values[warm:]
    bad = ~np.isfinite(tail) | (np.abs(tail) > 1.0)
    if bad.any():
        i = warm + int(np.argmax(bad))
        raise IndicatorError(
            f"{spec.name}: signal value {float(values[i])!r} at {ohlcv.index[i]} (bar {i}) after the "
            f"warm-up of {warm} bars; signals must be finite and within [-1, 1]"
        )
    return pd.Series(values, index=ohlcv.index, name=spec.name)


def compute_raw(
    name: str, ohlcv: pd.DataFrame, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Raw values of indicator ``name`` (TA-Lib conventions), aligned to ``ohlcv``'s index."""
    spec = get_indicator(name)
    resolved = spec.resolve(params)
    ohlcv = _check_frame(ohlcv, spec.inputs)
    _check_length(spec, resolved, len(ohlcv))
    return spec.raw(ohlcv, **resolved)


def compute_signal(
    name: str, ohlcv: pd.DataFrame, params: Mapping[str, Any] | None = None
) -> pd.Series:
    """Signal of indicator ``name`` in [-1, +1] (+1 = buy), named ``name``, float64.

    Aligned to ``ohlcv``'s index; NaN exactly during the first ``spec.warmup(params)`` bars
    and finite afterwards. Raises :class:`UnknownIndicatorError`, :class:`ParameterError`,
    :class:`DataError` (missing or duplicate columns, NaN, infinite or non-positive prices, negative
    volume, bars with high < low or open / close outside [low, high]) or :class:`IndicatorError`
    (frame shorter than the warm-up, or an indicator that produced an invalid value).

    Examples
    --------
    >>> s = compute_signal("rsi", ohlcv, {"period": 10})  # doctest: +SKIP
    """
    spec = get_indicator(name)
    resolved = spec.resolve(params)
    ohlcv = _check_frame(ohlcv, spec.inputs)
    warm = _check_length(spec, resolved, len(ohlcv))
    return _check_signal(spec, spec.compute(ohlcv, **resolved), ohlcv, warm)


def _normalise_selection(
    selection: Sequence[str] | Mapping[str, Mapping[str, Any] | None],
) -> list[tuple[str, Mapping[str, Any] | None]]:
    if isinstance(selection, str):
        raise IndicatorError(
            f"selection must be a list of indicator names or a mapping name -> params, "
            f"got the string {shown(selection)}; use [{shown(selection)}]"
        )
    if isinstance(selection, Mapping):
        return list(selection.items())
    try:
        items = list(selection)
    except TypeError:
        raise IndicatorError(
            f"selection must be a list of indicator names or a mapping name -> params, "
            f"got {type(selection).__name__}"
        ) from None
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise IndicatorError(f"indicator {shown(item)} is listed twice in the selection")
        seen.add(item)
    return [(item, None) for item in items]


def compute_all_signals(
    ohlcv: pd.DataFrame, selection: Sequence[str] | Mapping[str, Mapping[str, Any] | None]
) -> pd.DataFrame:
    """Signals of several indicators: one column per name, in selection order.

    ``selection`` is a list of names (default parameters) or a mapping name -> params (or
    ``None`` for the defaults). Every name and parameter is validated before anything is
    computed; any failure raises (a failing indicator is never a column of zeros).
    """
    import pandas as pd

    items = _normalise_selection(selection)
    plan = []
    for name, params in items:
        spec = get_indicator(name)
        plan.append((spec, spec.resolve(params)))
    columns = [c for c in ALL_INPUTS if any(c in spec.inputs for spec, _ in plan)]
    ohlcv = _check_frame(ohlcv, columns)
    warms = [_check_length(spec, resolved, len(ohlcv)) for spec, resolved in plan]
    out = {
        spec.name: _check_signal(spec, spec.compute(ohlcv, **resolved), ohlcv, warm)
        for (spec, resolved), warm in zip(plan, warms, strict=True)
    }
    return pd.DataFrame(out, index=ohlcv.index, columns=[spec.name for spec, _ in plan])


# Rule indicators of the strategy presets (issue 15): buy_and_hold, rsi_band, ..., phibot.
import phi.indicators.rule_specs  # noqa: E402, F401

# The walk-forward classifier and the PPO agent register themselves as ``ml_classifier`` and
# ``rl_agent`` (issue 17, phi.ml.indicator imports phi.rl.indicator); scikit-learn and torch load
# on their first computation.
import phi.ml.indicator  # noqa: E402, F401

# The regime engine's composite registers itself as ``phi_mft`` (issue 04); the engine loads lazily.
import phi.regime.indicator  # noqa: E402, F401
