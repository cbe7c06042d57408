"""The four classifiers: scikit-learn pipelines (scaling fitted inside each fold) and LightGBM.

Every model is seeded and single-threaded where threads could change results, so the same
seed gives the same model and predictions. Inputs are NumPy arrays (no feature names).

* ``rf``: StandardScaler + RandomForest (100 trees on half-samples, depth 6, >= 20 samples a leaf).
* ``gb``: StandardScaler + HistGradientBoosting (150 iterations, depth 3, lr 0.05, no early
  stopping) — scikit-learn's histogram gradient boosting, 10-50x faster than the classic one.
* ``lr``: StandardScaler + LogisticRegression (L2, C 0.1).
* ``lgbm``: LightGBM (200 rounds, lr 0.03, 15 leaves, >= 50 samples a leaf, bagging 0.8).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from phi.errors import ConfigError, unknown_choice
from phi.ml._deps import require

__all__ = ["MODELS", "feature_importance", "fit", "make_model", "positive_proba"]

MODELS: Final[dict[str, str]] = {
    "rf": "random forest",
    "gb": "gradient boosting",
    "lr": "logistic regression",
    "lgbm": "LightGBM",
}


def make_model(kind: str, seed: int = 0) -> Any:
    """An unfitted classifier of ``kind`` (one of :data:`MODELS`), seeded with ``seed``."""
    if kind not in MODELS:
        raise ConfigError(unknown_choice("model", kind, MODELS))
    if kind == "lgbm":
        lgb = require("lightgbm")
        return lgb.LGBMClassifier(
            n_estimators=200, learning_rate=0.03, num_leaves=15, min_child_samples=50,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
            random_state=seed, n_jobs=1, deterministic=True, force_row_wise=True, verbose=-1,
        )  # fmt: skip
    require("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    est: Any
    if kind == "rf":
        est = RandomForestClassifier(
            n_estimators=100, max_depth=6, min_samples_leaf=20, max_features="sqrt",
            max_samples=0.5, random_state=seed, n_jobs=1,
        )  # fmt: skip
    elif kind == "gb":
        est = HistGradientBoostingClassifier(
            max_iter=150, max_depth=3, learning_rate=0.05, min_samples_leaf=40,
            early_stopping=False, random_state=seed,
        )  # fmt: skip
    else:
        est = LogisticRegression(C=0.1, max_iter=2000)
    return Pipeline([("scale", StandardScaler()), ("model", est)])


def fit(kind: str, seed: int, x: np.ndarray, y: np.ndarray) -> Any:
    """A fitted classifier of ``kind``, single-threaded (OpenMP/BLAS): results do not depend
    on the machine's cores and nothing oversubscribes a busy machine."""
    require("sklearn")  # the ml extra (threadpoolctl comes with scikit-learn)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return make_model(kind, seed).fit(x, y)


#: rows per prediction call of :func:`positive_proba` (every call the same shape)
PREDICT_BLOCK: Final = 256


def positive_proba(model: Any, x: np.ndarray) -> np.ndarray:
    """P(label = 1) for each row of ``x`` from a model fitted on both classes.

    Predicted in blocks of :data:`PREDICT_BLOCK` rows (zero rows pad the last one): BLAS may sum
    a row in another order in a block of another height, and a series cut short would then
    differ from the full one in the last ulp (a row's value depends on its own features only).
    """
    require("sklearn")
    from threadpoolctl import threadpool_limits

    col = [float(c) for c in model.classes_].index(1.0)
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(x))
    block = np.zeros((PREDICT_BLOCK, x.shape[1]))
    with threadpool_limits(limits=1):
        for a in range(0, len(x), PREDICT_BLOCK):
            rows = x[a : a + PREDICT_BLOCK]
            block[: len(rows)] = rows
            block[len(rows) :] = 0.0
            out[a : a + len(rows)] = model.predict_proba(block)[: len(rows), col]
    return out


def feature_importance(model: Any, names: list[str]) -> dict[str, float]:
    """Importance of each feature, normalised to sum to 1 (|coefficient| for ``lr``; gain or
    impurity for the trees; empty for gradient boosting, which has none built in)."""
    est = model.named_steps["model"] if hasattr(model, "named_steps") else model
    if hasattr(est, "booster_"):
        raw = np.asarray(est.booster_.feature_importance(importance_type="gain"), dtype=np.float64)
    elif hasattr(est, "feature_importances_"):
        raw = np.asarray(est.feature_importances_, dtype=np.float64)
    elif hasattr(est, "coef_"):
        raw = np.abs(np.asarray(est.coef_, dtype=np.float64)).ravel()
    else:
        return {}
    total = raw.sum()
    if not np.isfinite(total) or total <= 0:
        return {}
    return {n: float(v / total) for n, v in zip(names, raw, strict=True)}
