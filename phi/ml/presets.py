"""Classifier presets for the strategy catalogue (issue 17; needs the ``[ml]`` extra), loaded
by :data:`phi.strategies.catalogue.OPTIONAL_FAMILIES`. Every model is trained inside the run
on bars before the ones it trades (``ml_classifier`` refits every 63 bars on labels already
known), so a backtest of these presets is causal.

The reference traded a classifier when P(up) >= 0.60 (LightGBM: 0.62); with the signal
``2 P - 1`` that is an entry threshold of 0.20 (0.24), out when P(up) falls below 0.5.
"""

from __future__ import annotations

from phi.backtest.run_config import IndicatorConfig
from phi.strategies.catalogue import Preset, register

__all__ = ["ML_PRESETS"]

_WF = "refitted every 63 bars on all labels known so far (first forecast after 252 labelled bars)"
_SRC = "reference {} (REFERENCE §3.2, §3.4), rebuilt leak-free (phi.ml)"

ML_PRESETS: tuple[Preset, ...] = (
    Preset(
        name="ML Classifier",
        family="ml",
        description="Random forest on regime features and indicator signals, walk-forward",
        rule=f"buy when P(up next bar) >= 0.60, sell when < 0.50; random forest {_WF}",
        sides="long only",
        defaults="random forest, horizon 1 bar, refit every 63 bars, 95 % of equity",
        source=_SRC.format("ML Classifier (RF) strategy and train_ml_classifier.py"),
        indicators=(
            IndicatorConfig(
                "ml_classifier",
                {"model": 0, "horizon": 1, "refit_every": 63, "min_train": 252, "features": 0},
            ),
        ),
        engine={"entry_threshold": 0.20, "exit_threshold": 0.0},
        aliases=("ml", "ml_rf", "random_forest"),
    ),
    Preset(
        name="LightGBM",
        family="ml",
        description="LightGBM on regime features and indicator signals, walk-forward",
        rule=f"buy when P(up next bar) >= 0.62, sell when < 0.50; LightGBM {_WF}",
        sides="long only",
        defaults="LightGBM, horizon 1 bar, refit every 63 bars, 95 % of equity",
        source=_SRC.format("LightGBM strategy"),
        indicators=(
            IndicatorConfig(
                "ml_classifier",
                {"model": 3, "horizon": 1, "refit_every": 63, "min_train": 252, "features": 0},
            ),
        ),
        engine={"entry_threshold": 0.24, "exit_threshold": 0.0},
        aliases=("lgbm", "ml_lgbm"),
    ),
    Preset(
        name="Ensemble",
        family="ml",
        description="Random forest and LightGBM must agree",
        rule=(
            "signal = mean of the two models' 2 P - 1 where their signs agree, else 0; buy at >= 0.20 "
            f"(both P(up) about >= 0.60), sell below 0; both {_WF}"
        ),
        sides="long only",
        defaults="random forest + LightGBM, horizon 1 bar, refit every 63 bars, 95 % of equity",
        source=_SRC.format("Ensemble strategy"),
        indicators=(
            IndicatorConfig(
                "ml_classifier",
                {"model": 4, "horizon": 1, "refit_every": 63, "min_train": 252, "features": 0},
            ),
        ),
        engine={"entry_threshold": 0.20, "exit_threshold": 0.0},
        aliases=("ml_ensemble",),
    ),
    Preset(
        name="WyckoffML",
        family="ml",
        description="Random forest on the Wyckoff (volume-price) features, walk-forward",
        rule=(
            "buy when P(up next bar) >= 0.60, sell when < 0.50; random forest on the Wyckoff, CMF, range-position, "
            f"VWAP-deviation signals and the MFT volume / flow features, {_WF}"
        ),
        sides="long only",
        defaults="random forest, Wyckoff feature set, horizon 1 bar, refit every 63 bars, 95 % of equity",
        source="issue 17: the Wyckoff features plus a classifier (phi.ml, feature set 'wyckoff')",
        indicators=(
            IndicatorConfig(
                "ml_classifier",
                {"model": 0, "horizon": 1, "refit_every": 63, "min_train": 252, "features": 1},
            ),
        ),
        engine={"entry_threshold": 0.20, "exit_threshold": 0.0},
        aliases=("wyckoff_ml",),
    ),
)

for _preset in ML_PRESETS:
    register(_preset)
