"""Imports of the optional ``[ml]`` extra, with a one-line error when it is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from phi.errors import PhiError

__all__ = ["MLDependencyError", "require"]

_PACKAGES = {
    "sklearn": "scikit-learn",
    "threadpoolctl": "scikit-learn",
    "lightgbm": "lightgbm",
    "joblib": "joblib",
    "gymnasium": "gymnasium",
    "stable_baselines3": "stable-baselines3",
    "torch": "torch",
}


class MLDependencyError(PhiError):
    """A package of the ``[ml]`` extra is not installed."""


def require(module: str) -> ModuleType:
    """Import ``module`` or raise :class:`MLDependencyError` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pkg = _PACKAGES.get(module.split(".")[0], module)
        raise MLDependencyError(
            f"{pkg} is not installed; install the ml extra: pip install torch==2.13.0 && "
            "pip install -e '.[ml]' (or scripts/bootstrap.sh dev,ml)"
        ) from None
