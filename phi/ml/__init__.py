"""Leak-free classifiers on our bars (``pip install -e '.[ml]'``).

>>> import phi.ml
>>> m = phi.ml.train_classifier(bars, model="lgbm", horizon=5, save_as="spy_lgbm")  # doctest: +SKIP
>>> m.cv_scores, m.holdout_scores, m.predict_proba(bars)  # doctest: +SKIP

Heavy libraries (scikit-learn, LightGBM) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "train_classifier": "phi.ml.train",
    "MLModel": "phi.ml.model",
    "ModelError": "phi.ml.model",
    "DataMismatchError": "phi.ml.model",
    "LabelSpec": "phi.ml.labels",
    "load_model": "phi.ml.store",
    "save_model": "phi.ml.store",
    "list_models": "phi.ml.store",
    "delete_model": "phi.ml.store",
    "build_features": "phi.ml.features",
    "walk_forward_signal": "phi.ml.indicator",
    "MODELS": "phi.ml.models",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'phi.ml' has no attribute {name!r}")
