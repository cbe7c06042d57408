"""The model store: ``PHI_HOME/models/{name}/`` holds one classifier or RL agent.

Each folder has the model file (``model.joblib`` or ``agent.zip``), ``metadata.json``
(kind, features, label, data fingerprint, CV and hold-out scores, library versions, and the
SHA-256 of the model file) and ``card.md`` (a model card a person reads). A folder is written
complete beside its final place and renamed onto it, so a reader sees the old model or the
new one, never half of either. The model file is checked against its SHA-256 before it is
unpickled: a truncated or altered file is a clear :class:`ModelError`, and joblib never
loads bytes the store did not write.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pandas as pd

from phi.errors import ConfigError, shown
from phi.ml.model import CV_COLUMNS, MLModel, ModelError
from phi.paths import phi_home

__all__ = [
    "SCHEMA_VERSION",
    "check_name",
    "check_save_name",
    "delete_model",
    "list_models",
    "load_metadata",
    "load_model",
    "models_root",
    "save_model",
    "write_model_dir",
]

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MODEL_FILE = "model.joblib"


def models_root() -> Path:
    """``$PHI_HOME/models``."""
    return phi_home() / "models"


def check_name(name: Any) -> str:
    """A model name is 1-64 letters, digits, ``_ . -`` (no path separators, no ``..``)."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ConfigError(
            f"model name {shown(name)} is not allowed; use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_save_name(name: Any) -> str:
    """:func:`check_name`, and that a save under it would replace only a model (see
    :func:`write_model_dir`): said before any training, not after."""
    check_name(name)
    _refuse_what_is_not_a_model(models_root() / name)
    return str(name)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _recover(name: str) -> None:
    """Put back model ``name`` if a save was cut off between its two renames (the old model
    moved aside as a hidden ``.{name}.*.old``, the new one not yet in place): the newest such
    folder that holds a model becomes ``name`` again."""
    root = models_root()
    target = root / name
    if os.path.lexists(target) or not root.is_dir():
        return
    prefix = f".{name}."
    kept = [
        p
        for p in root.iterdir()
        if p.name.startswith(prefix)
        and p.name.endswith(".old")
        and "." not in p.name[len(prefix) : -4]  # mkdtemp's random part has no dot
        and p.is_dir()
        and (p / "metadata.json").is_file()
    ]
    if kept:
        newest = max(kept, key=lambda p: p.stat().st_mtime_ns)
        with contextlib.suppress(OSError):  # another process may be doing the same
            os.replace(newest, target)


def _refuse_what_is_not_a_model(target: Path) -> None:
    """A save replaces a model of that name, never a file, a link or a folder that holds no
    model (no ``metadata.json``): those are someone's, and were replaced (a file's copy was left
    behind as a hidden ``.old``)."""
    from phi._io import in_the_way

    blocker = in_the_way(target.parent)
    if blocker is not None:
        raise ModelError(f"cannot write model {target.name!r}: {blocker}")
    if os.path.islink(target) or (os.path.lexists(target) and not target.is_dir()):
        kind = "a symbolic link" if os.path.islink(target) else "a file"
        raise ModelError(f"cannot write model {target.name!r}: {target} is {kind}, not a model folder; move it away or pick another name")
    if target.is_dir() and not os.path.lexists(target / "metadata.json"):
        raise ModelError(f"cannot write model {target.name!r}: {target} is a folder that holds no model (no metadata.json); move it away or pick another name")


def write_model_dir(
    name: str, files: dict[str, Callable[[Path], None]], metadata: dict[str, Any], card: str
) -> Path:
    """Write ``PHI_HOME/models/{name}/`` atomically: each ``files[fname](path)`` writes one
    file; their SHA-256 go into ``metadata.json``; ``card`` into ``card.md``."""
    check_name(name)
    root = models_root()
    target = root / name
    _recover(name)
    _refuse_what_is_not_a_model(target)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=root))
    except OSError as exc:
        raise ModelError(f"cannot write model {name!r} under {root}: {exc.strerror or exc}") from None
    old: Path | None = None
    try:
        hashes = {}
        for fname, write in files.items():
            write(tmp / fname)
            hashes[fname] = _sha256(tmp / fname)
        meta = {**metadata, "schema_version": SCHEMA_VERSION, "name": name, "files": hashes}
        (tmp / "metadata.json").write_text(
            json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
        (tmp / "card.md").write_text(card, encoding="utf-8")
        os.chmod(tmp, 0o755)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".old", dir=root))
            old.rmdir()
            os.replace(target, old)
        os.replace(tmp, target)
    except OSError as exc:
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"cannot write model {name!r} under {root}: {exc.strerror or exc}") from None
    except BaseException:
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target


def _meta(model: MLModel) -> dict[str, Any]:
    return {
        "kind": "classifier",
        "model": model.kind,
        "label": model.label.to_dict(),
        "label_text": model.label.describe(),
        "feature_set": model.feature_set,
        "extra_indicators": list(model.extra_indicators),
        "features": model.features,
        "seed": model.seed,
        "folds": model.folds,
        "embargo": model.embargo,
        "holdout": model.holdout,
        "cv_scores": model.cv_scores.to_dict(orient="records"),
        "holdout_scores": model.holdout_scores,
        "calibration": model.calibration,
        "importance": model.importance,
        "data": model.data,
        "versions": model.versions,
        "created_at": model.created_at,
    }


def save_model(model: MLModel, name: str) -> Path:
    """Store ``model`` as ``PHI_HOME/models/{name}/`` (replacing a model of that name)."""
    from phi.ml._deps import require
    from phi.ml.card import classifier_card

    if not isinstance(model, MLModel):
        raise ConfigError(f"save_model expects an MLModel (from train_classifier), got {type(model).__name__}")
    joblib = require("joblib")
    check_name(name)
    model.name = name

    def write(path: Path) -> None:
        joblib.dump(model.estimator, path, compress=3)

    return write_model_dir(name, {MODEL_FILE: write}, _meta(model), classifier_card(model))


#: what a missing model's message lists, by the kind the caller wants
_STORED: Final = {"classifier": "stored classifiers", "rl_agent": "stored RL agents"}


def load_metadata(name: str, kind: str | None = None) -> dict[str, Any]:
    """The ``metadata.json`` of model ``name``; :class:`ModelError` if missing or unreadable.

    ``kind`` (``"classifier"`` or ``"rl_agent"``): a missing model's message lists only the
    stored models of that kind (the ones the caller could load instead)."""
    check_name(name)
    _recover(name)
    folder = models_root() / name
    path = folder / "metadata.json"
    if not folder.is_dir():
        known = ", ".join(m["name"] for m in list_models() if kind is None or m["kind"] == kind) or "none yet"
        raise ModelError(f"no model called {name!r} under {models_root()} ({_STORED.get(kind or '', 'stored')}: {known})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model {name!r}: {path} is missing or corrupt ({exc}); retrain it") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict) or "kind" not in meta:
        raise ModelError(f"model {name!r}: {path} is not a model's metadata; retrain it")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ModelError(
            f"model {name!r} has metadata schema {meta.get('schema_version')!r}; this phi reads "
            f"{SCHEMA_VERSION}. Retrain it"
        )
    problem = _shape_problem(meta)
    if problem:
        raise ModelError(f"model {name!r}: {path} {problem}; retrain it")
    meta["name"] = name  # the folder's name is the model's name
    return meta


#: the fields every reader (load, list, cards) takes from a model's metadata, by kind
_SHAPE: dict[str, dict[str, type]] = {
    "classifier": {"model": str, "label": dict, "features": list, "cv_scores": list,
                   "holdout_scores": dict, "data": dict},
    "rl_agent": {"data": dict, "scores": dict},
}  # fmt: skip


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shape_problem(meta: dict[str, Any]) -> str | None:
    """Why ``meta`` is not the metadata of a model this phi wrote, or None."""
    kind = meta["kind"]
    if kind not in _SHAPE:
        return f"names kind {kind!r}, neither a classifier nor an RL agent"
    bad = [k for k, tp in _SHAPE[kind].items() if not isinstance(meta.get(k), tp)]
    if bad:
        return f"lacks or mistypes {', '.join(bad)}"
    if kind == "classifier":
        if not all(isinstance(f, str) for f in meta["features"]):
            return "lists a feature that is not a name"
        rows = meta["cv_scores"]
        if not all(isinstance(r, dict) and _number(r.get("accuracy")) and _number(r.get("n_test")) for r in rows):
            return "has a CV row without a numeric accuracy and test size"
    return None


def verified_file(name: str, meta: dict[str, Any], fname: str) -> Path:
    """Path of ``fname`` in model ``name`` after checking its SHA-256 against the metadata."""
    path = models_root() / name / fname
    want = meta["files"].get(fname)
    try:
        got = _sha256(path)
    except OSError as exc:
        raise ModelError(f"model {name!r}: cannot read {path} ({exc.strerror or exc}); retrain it") from None
    if got != want:
        raise ModelError(
            f"model {name!r}: {path} is corrupt (its SHA-256 {got[:12]} does not match the "
            f"{str(want)[:12]} recorded when it was saved); retrain it"
        )
    return path


def load_model(name: str) -> MLModel:
    """The classifier stored as ``name``; :class:`ModelError` if missing, corrupt or not a classifier."""
    from phi.ml._deps import require
    from phi.ml.labels import LabelSpec

    meta = load_metadata(name, "classifier")
    if meta["kind"] != "classifier":
        raise ModelError(f"model {name!r} is a {meta['kind']}, not a classifier")
    path = verified_file(name, meta, MODEL_FILE)
    joblib = require("joblib")
    try:
        est = joblib.load(path)
        model = MLModel(
            kind=meta["model"],
            label=LabelSpec.from_dict(meta["label"]),
            feature_set=meta["feature_set"],
            features=list(meta["features"]),
            estimator=est,
            seed=int(meta["seed"]),
            folds=int(meta["folds"]),
            embargo=int(meta["embargo"]),
            holdout=float(meta["holdout"]),
            cv_scores=pd.DataFrame(meta["cv_scores"], columns=list(CV_COLUMNS)),
            holdout_scores=dict(meta["holdout_scores"]),
            data=dict(meta["data"]),
            calibration=list(meta.get("calibration", [])),
            importance=dict(meta.get("importance", {})),
            versions=dict(meta.get("versions", {})),
            name=name,
            created_at=str(meta.get("created_at", "")),
            extra_indicators=tuple(meta.get("extra_indicators", ())),
        )
    except (KeyError, TypeError, ValueError, EOFError, ImportError, AttributeError, pickle.UnpicklingError) as exc:
        raise ModelError(f"model {name!r} cannot be loaded ({type(exc).__name__}: {exc}); retrain it") from None
    n_in = getattr(est, "n_features_in_", len(model.features))
    if not (callable(getattr(est, "predict_proba", None)) and hasattr(est, "classes_")) or n_in != len(model.features):
        raise ModelError(
            f"model {name!r}: {path} holds a {type(est).__name__}, not a fitted classifier of its "
            f"{len(model.features)} features; retrain it"
        )
    return model


def list_models() -> list[dict[str, Any]]:
    """One summary dict per stored model (name, kind, model, created_at, scores), sorted by
    name; a folder with unreadable metadata is listed with ``error``."""
    root = models_root()
    if not root.is_dir():
        return []
    for p in list(root.iterdir()):  # saves cut off between their two renames
        if p.name.startswith(".") and p.name.endswith(".old") and p.name.count(".") >= 3:
            name = p.name[1:-4].rsplit(".", 1)[0]
            if _NAME.match(name) and ".." not in name:
                _recover(name)
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            meta = load_metadata(folder.name)
        except (ModelError, ConfigError) as exc:
            out.append({"name": folder.name, "kind": "?", "error": str(exc)})
            continue
        out.append(meta)
    return out


def delete_model(name: str) -> None:
    """Remove model ``name`` (:class:`ModelError` if there is none)."""
    load_metadata(name)
    shutil.rmtree(models_root() / check_name(name))
