"""Without the ``[ml]`` extra, every ML/RL entry point is one PhiError naming the install, never a
ModuleNotFoundError from deep inside (seen: threadpoolctl imported before the check)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import pytest

from phi.errors import PhiError
from phi.ml import _deps, models

MISSING = ("sklearn", "threadpoolctl", "lightgbm", "torch", "stable_baselines3", "gymnasium", "joblib")


@pytest.fixture
def no_ml_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    def fake_import_module(name: str, package: str | None = None) -> Any:
        if name.split(".")[0] in MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        raise AssertionError("only the extra's modules are imported through require()")

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(_deps.importlib, "import_module", fake_import_module)


@pytest.mark.parametrize("kind", ["rf", "gb", "lr", "lgbm"])
def test_fit_without_the_extra_is_one_clear_error(no_ml_extra: None, kind: str) -> None:
    x, y = np.zeros((10, 2)), np.array([0, 1] * 5)
    with pytest.raises(_deps.MLDependencyError, match=r"is not installed; install the ml extra") as info:
        models.fit(kind, 0, x, y)
    assert isinstance(info.value, PhiError) and "\n" not in str(info.value)


def test_predict_without_the_extra_is_one_clear_error(no_ml_extra: None) -> None:
    with pytest.raises(_deps.MLDependencyError, match="scikit-learn is not installed"):
        models.positive_proba(object(), np.zeros((3, 2)))
