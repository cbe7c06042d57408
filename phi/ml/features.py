"""Causal features for the classifiers: the regime engine's normalised MFT features plus
registry indicator signals, every value at bar t computed from bars <= t only.

Two feature sets: ``"all"`` (the 26 robust-z MFT features and eight indicator signals) and
``"wyckoff"`` (the volume-price subset: the Wyckoff signal, CMF, range position and the MFT
volume/flow features), used by the WyckoffML preset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.errors import ConfigError, shown, unknown_choice

__all__ = ["FEATURE_SETS", "build_features", "feature_warmup"]

#: Registry indicators (default parameters) added to the MFT features, per feature set.
_INDICATORS: Final[dict[str, tuple[str, ...]]] = {
    "all": ("rsi", "macd", "bollinger", "stochastic", "momentum", "adx", "cmf", "wyckoff"),
    "wyckoff": ("wyckoff", "cmf", "range_pos", "vwap_dev"),
}
#: MFT features per feature set (``None`` = all 26).
_MFT: Final[dict[str, tuple[str, ...] | None]] = {
    "all": None,
    "wyckoff": (
        "volume_zscore", "ofi_proxy", "absorption_score", "dissipation_proxy", "illiquidity",
        "log_return", "drift_tscore_30", "range_expansion",
    ),
}  # fmt: skip
FEATURE_SETS: Final[tuple[str, ...]] = tuple(_INDICATORS)


def _check_set(feature_set: str) -> None:
    if not isinstance(feature_set, str):
        raise ConfigError(f"feature_set must be one of {', '.join(FEATURE_SETS)}, got {shown(feature_set)}")
    if feature_set not in _INDICATORS:
        raise ConfigError(unknown_choice("feature set", feature_set, FEATURE_SETS))


def feature_warmup(feature_set: str = "all", extra: tuple[str, ...] = ()) -> int:
    """Leading bars (on gap-free data) before every feature of ``feature_set`` (plus the
    ``extra`` registry indicators) is defined."""
    from phi.indicators.registry import get_indicator
    from phi.regime.features import feature_first_valid

    _check_set(feature_set)
    first = feature_first_valid()
    names = _MFT[feature_set] or tuple(first)
    mft = max(first[n] for n in names)
    ind = max(
        int(get_indicator(n).warmup(get_indicator(n).defaults))
        for n in _indicator_names(feature_set, extra)
    )
    return max(mft, ind)


def _indicator_names(feature_set: str, extra: tuple[str, ...]) -> list[str]:
    from phi.indicators.registry import get_indicator

    for name in extra:
        spec = get_indicator(name)
        if spec.type in ("ML", "MFT"):
            raise ConfigError(f"{name!r} cannot be a classifier feature (it is itself a model)")
    return list(dict.fromkeys((*_INDICATORS[feature_set], *extra)))


def build_features(
    ohlcv: pd.DataFrame, feature_set: str = "all", extra: tuple[str, ...] = (), chain: Any = None
) -> pd.DataFrame:
    """The feature matrix of ``ohlcv`` (as :func:`phi.data.schema.conform_bars` takes it):
    one row per bar, NaN during the warm-up.

    Columns ``mft:<feature>`` (rolling robust z-scores of the MFT features) and
    ``ind:<indicator>`` (registry signals in [-1, +1], default parameters; ``extra`` adds
    more registry indicators). Causal: row t reads bars <= t only.

    With ``chain`` (an option-chain CSV path or :class:`~phi.options.chains.OptionChain` with
    open interest), the four GEX features ``gex:gamma_net, gex:gamma_wall_distance,
    gex:gamma_expiry_days, gex:gex_flip_zone`` are joined as of each bar's date
    (:func:`phi.options.gex.gex_regime_inputs`: only chains dated <= the bar's date, < on
    intraday bars; bars without a chain at most 4 days old stay NaN, counted in
    ``attrs["gex_missing"]``; never filled further).
    """
    from phi.data.schema import conform_bars
    from phi.indicators.registry import compute_all_signals
    from phi.regime.features import compute_features

    _check_set(feature_set)
    if isinstance(extra, str):  # one name, not its letters
        extra = (extra,)
    if isinstance(extra, Mapping) or not isinstance(extra, Iterable) or not all(isinstance(e, str) for e in extra):
        raise ConfigError(f"extra must be a list of registry indicator names, got {shown(extra)}")
    ohlcv = conform_bars(ohlcv)
    _, z = compute_features(ohlcv)
    names = _MFT[feature_set]
    if names is not None:
        z = z[list(names)]
    z = z.add_prefix("mft:")
    sig = compute_all_signals(ohlcv, _indicator_names(feature_set, tuple(extra))).add_prefix("ind:")
    out = pd.concat([z, sig], axis=1)
    # robust z-scores of a flat stretch can reach +-1e8; clip so no model sees absurd values
    out = out.clip(-20.0, 20.0).astype(np.float64)
    if chain is None:
        return out
    from phi.options.gex import GEX_FEATURES, gex_regime_inputs

    gex = gex_regime_inputs(ohlcv, chain)
    out = pd.concat([out, gex[list(GEX_FEATURES)].add_prefix("gex:")], axis=1)
    out.attrs |= {k: gex.attrs[k] for k in ("gex_missing", "chain_fingerprint", "chain_path")}
    return out
