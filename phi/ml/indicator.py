"""The ``ml_classifier`` indicator (type ML): a classifier's walk-forward forecast as a signal.

The signal at bar t is ``2 P(up) - 1`` from a model fitted only on samples whose labels end
at or before the model's refit bar r <= t (``end = i + horizon <= r``: known at r's close).
Models are refitted every ``refit_every`` bars on all labelled bars so far (an expanding
window), starting ``min_train`` bars after the features' warm-up; refit bars are counted from
the first bar, so computing on ``df[:k]`` gives the same values for every bar < k (no
look-ahead). Bars whose features are undefined after the warm-up (gaps in the data) get 0.

``model``: 0 random forest, 1 gradient boosting, 2 logistic regression, 3 LightGBM,
4 ensemble (random forest and LightGBM must agree: their mean where their signs agree,
else 0). ``features``: 0 the full set, 1 the Wyckoff (volume-price) set. Seed 0.
Registered in :mod:`phi.indicators.registry` (one import line); scikit-learn and LightGBM load
on the first computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from phi.indicators.params import ALL_INPUTS, IndicatorSpec, ParamSpec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["ML_CLASSIFIER", "MODEL_CODES", "walk_forward_signal"]

#: The ``model`` parameter's codes.
MODEL_CODES: Final[dict[int, str]] = {0: "rf", 1: "gb", 2: "lr", 3: "lgbm", 4: "ensemble"}
FEATURE_CODES: Final[dict[int, str]] = {0: "all", 1: "wyckoff"}


def _walk_forward_p(
    x: np.ndarray, y: np.ndarray, end: np.ndarray, kind: str, start: int, refit_every: int,
    first_row: int, seed: int,
) -> np.ndarray:  # fmt: skip
    import numpy as np

    from phi.ml.models import fit, positive_proba

    n = len(x)
    p = np.full(n, np.nan)
    finite = np.isfinite(x).all(axis=1)
    labelled = finite & np.isfinite(y)
    rows = np.arange(n)
    for r in range(start, n, refit_every):
        train = labelled & (rows >= first_row) & (end <= r)
        stop = min(r + refit_every, n)
        block = slice(r, stop)
        ys = y[train]
        if len(ys) == 0 or ys.min() == ys.max():
            p[block] = 0.5
            continue
        model = fit(kind, seed, x[train], ys)
        ok = finite[block]
        out = np.full(stop - r, 0.5)
        if ok.any():
            out[ok] = positive_proba(model, x[block][ok])
        p[block] = out
    return p


def walk_forward_signal(
    ohlcv: pd.DataFrame,
    model: str = "rf",
    horizon: int = 1,
    refit_every: int = 63,
    min_train: int = 252,
    feature_set: str = "all",
    seed: int = 0,
) -> pd.Series:
    """``2 P(up) - 1`` of a classifier refitted walk-forward (see the module doc).

    ``model`` is one of ``rf``, ``gb``, ``lr``, ``lgbm`` or ``ensemble``. NaN for the first
    ``feature_warmup(feature_set) + min_train`` bars.
    """
    import numpy as np
    import pandas as pd

    from phi.data.schema import conform_bars
    from phi.errors import ConfigError, shown, unknown_choice
    from phi.ml.features import build_features, feature_warmup
    from phi.ml.labels import LabelSpec, make_labels
    from phi.ml.models import MODELS
    from phi.ml.train import MAX_SEED

    ohlcv = conform_bars(ohlcv, dated=True)
    if not isinstance(model, str):
        raise ConfigError(f"model must be a model name ({', '.join((*MODELS, 'ensemble'))}), got {shown(model)}")
    if model not in (*MODELS, "ensemble"):
        raise ConfigError(unknown_choice("model", model, (*MODELS, "ensemble")))
    for name, value, lo in (("refit_every", refit_every, 1), ("min_train", min_train, 20), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
            raise ConfigError(f"{name} must be an integer >= {lo}, got {shown(value)}")
    if seed > MAX_SEED:
        raise ConfigError(f"seed must be an integer in 0..{MAX_SEED:,}, got {shown(seed)}")
    label = LabelSpec("direction", horizon)  # checks horizon (an integer in 1..500)
    warm = feature_warmup(feature_set)
    start = warm + int(min_train)
    x = build_features(ohlcv, feature_set).to_numpy(dtype=np.float64)
    y, end = make_labels(ohlcv, label)
    args = (y, end)
    if model == "ensemble":
        a = 2.0 * _walk_forward_p(x, *args, "rf", start, refit_every, warm, seed) - 1.0
        b = 2.0 * _walk_forward_p(x, *args, "lgbm", start, refit_every, warm, seed) - 1.0
        s = np.where(np.sign(a) == np.sign(b), (a + b) / 2.0, 0.0)
        s[np.isnan(a)] = np.nan
    else:
        s = 2.0 * _walk_forward_p(x, *args, model, start, refit_every, warm, seed) - 1.0
    return pd.Series(np.clip(s, -1.0, 1.0), index=ohlcv.index, dtype="float64")


def ml_classifier_signal(
    df: pd.DataFrame, model: int, horizon: int, refit_every: int, min_train: int, features: int
) -> pd.Series:
    """The registry's compute function (integer codes, see the module doc)."""
    return walk_forward_signal(
        df, MODEL_CODES[int(model)], int(horizon), refit_every, min_train, FEATURE_CODES[int(features)]
    )


def ml_classifier_raw(
    df: pd.DataFrame, model: int, horizon: int, refit_every: int, min_train: int, features: int
) -> pd.DataFrame:
    """Raw value: the walk-forward P(up), one column ``p_up``."""
    s = ml_classifier_signal(df, model, horizon, refit_every, min_train, features)
    return ((s + 1.0) / 2.0).rename("p_up").to_frame()


def _warmup(params: Mapping[str, Any]) -> int:
    from phi.ml.features import feature_warmup

    return feature_warmup(FEATURE_CODES[int(params["features"])]) + int(params["min_train"])


def _p(name: str, default: int, low: int, high: int, description: str) -> ParamSpec:
    return ParamSpec(name, int, default, low, high, 1, description)


ML_CLASSIFIER = IndicatorSpec(
    name="ml_classifier",
    type="ML",
    description="Classifier's walk-forward P(up): refitted every N bars on labels already known",
    signal_mapping="2 * P(up) - 1 from a model fitted on bars whose labels end at or before the refit bar",
    params=(
        _p("model", 0, 0, 4, "0 random forest, 1 gradient boosting, 2 logistic regression, "
           "3 LightGBM, 4 ensemble (RF and LightGBM must agree)"),
        _p("horizon", 1, 1, 20, "bars ahead the direction label looks"),
        _p("refit_every", 63, 5, 252, "bars between refits"),
        _p("min_train", 252, 100, 2000, "bars of labelled history before the first forecast"),
        _p("features", 0, 0, 1, "0 the full feature set, 1 the Wyckoff (volume-price) set"),
    ),
    compute=ml_classifier_signal,
    raw=ml_classifier_raw,
    warmup=_warmup,
    inputs=ALL_INPUTS,
)

from phi.indicators.registry import register_indicator  # noqa: E402

register_indicator(ML_CLASSIFIER)

# The PPO agent's indicator registers itself next (one import line in the registry for both).
import phi.rl.indicator  # noqa: E402, F401
