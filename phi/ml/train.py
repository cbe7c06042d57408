"""``train_classifier``: features + forward labels -> purged walk-forward CV -> hold-out -> model."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from phi.data.schema import conform_bars
from phi.errors import ConfigError, DataError, shown
from phi.ml.cv import default_embargo, walk_forward_splits
from phi.ml.features import build_features
from phi.ml.labels import LabelSpec, make_labels
from phi.ml.model import CV_COLUMNS, MLModel, data_fingerprint
from phi.ml.models import MODELS, feature_importance, fit, positive_proba
from phi.ml.scores import calibration_bins, score

__all__ = ["library_versions", "training_set", "train_classifier"]

Progress = Callable[[float, str], None]
#: Largest seed (scikit-learn's and LightGBM's generators take 32-bit seeds).
MAX_SEED = 2**32 - 1


def library_versions() -> dict[str, str]:
    """Versions of the libraries a stored model depends on."""
    import importlib.metadata as md

    import phi

    out = {"phi": phi.__version__}
    for pkg in ("numpy", "pandas", "scikit-learn", "lightgbm", "joblib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def training_set(
    ohlcv: pd.DataFrame,
    label: LabelSpec,
    feature_set: str = "all",
    extra: Sequence[str] = (),
    chain: Any = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, bar, end)``: features and labels of every bar where all are defined, the bar
    positions of those rows, and the bar each label ends on (``chain``: add the GEX features,
    see :func:`phi.ml.features.build_features`; bars without a chain are left out). ``ohlcv``
    as :func:`phi.data.schema.conform_bars` takes it."""
    ohlcv = conform_bars(ohlcv)
    x = build_features(ohlcv, feature_set, tuple(extra), chain=chain)
    values = x.to_numpy()
    empty = [c for c, has in zip(x.columns, np.isfinite(values).any(axis=0), strict=True) if not has]
    if empty:  # it would drop every bar and leave "0 labelled bars"
        raise DataError(
            f"feature(s) {', '.join(map(repr, empty[:5]))} have no finite value on any of the "
            f"{len(x)} bars (constant or missing volume?); use other bars or another feature set"
        )
    y, end = make_labels(ohlcv, label)
    ok = np.isfinite(values).all(axis=1) & np.isfinite(y)
    bar = np.flatnonzero(ok)
    return x.iloc[bar], y[bar], bar, end[bar]


def _fit(kind: str, seed: int, x: np.ndarray, y: np.ndarray, what: str) -> Any:
    if len(np.unique(y)) < 2:
        raise ConfigError(
            f"{what}: every training label is {'up' if y[0] > 0.5 else 'down'}; "
            "use more data or a different label"
        )
    return fit(kind, seed, x, y)


def _stamp(index: pd.DatetimeIndex, i: int) -> str:
    return index[int(i)].isoformat()


def train_classifier(
    ohlcv: pd.DataFrame,
    model: str = "rf",
    label: str = "direction",
    horizon: int = 1,
    folds: int = 5,
    embargo: int | None = None,
    holdout: float = 0.2,
    seed: int = 0,
    save_as: str | None = None,
    *,
    profit: float = 0.02,
    stop: float = 0.02,
    feature_set: str = "all",
    indicators: Sequence[str] = (),
    chain: Any = None,
    progress: Progress | None = None,
) -> MLModel:
    """Train a direction classifier without look-ahead and score it honestly.

    Features (:mod:`phi.ml.features`) at bar t read bars <= t; the label (:mod:`phi.ml.labels`)
    reads bars t+1..t+horizon. Purged, embargoed walk-forward CV (:mod:`phi.ml.cv`) scores
    ``folds`` folds; the model is then fitted on every sample before the hold-out (the last
    ``holdout`` share of the bars, purged and embargoed likewise) and scored once on it. Each
    fold and the final model also record their in-sample ``train_accuracy`` / ``train_auc``,
    to set beside the out-of-sample scores (a wide gap is overfitting).

    Parameters
    ----------
    ohlcv : DataFrame
        Bars (DatetimeIndex, increasing) with open, high, low, close and volume, taken as
        :func:`phi.data.schema.conform_bars` takes them (any case, numbers or numeric text).
    model : {"rf", "gb", "lr", "lgbm"}
    label : {"direction", "triple_barrier"}
        ``triple_barrier`` uses ``profit`` / ``stop`` (fractions) and ``horizon`` as the time barrier.
    horizon : int
        Bars ahead.
    folds, embargo, holdout
        CV folds; embargo in bars (default ``max(horizon, 1 % of the bars)``); hold-out share.
    seed : int
        Seeds the model (0 to :data:`MAX_SEED`): the same seed and bars give the same model
        and predictions.
    save_as : str, optional
        Store the model under ``PHI_HOME/models/{save_as}/`` (:func:`phi.ml.store.save_model`).
        A failed save raises after training; the trained model is on the exception's
        ``model`` attribute, never lost.
    feature_set : {"all", "wyckoff"}
    indicators : sequence of str
        Extra registry indicators (default parameters) to add as features.
    chain : str or OptionChain, optional
        An option chain with open interest: adds the four GEX features, as of each bar's date
        (causal; bars without a recent chain are left out of training). Its path, SHA-256
        and the count of bars without a chain go into ``data["chain"]``.
    progress : callable, optional
        ``progress(fraction, message)`` after each fit.

    Returns
    -------
    MLModel

    Examples
    --------
    >>> m = train_classifier(bars, model="lgbm", horizon=5)  # doctest: +SKIP
    >>> m.cv_scores[["accuracy", "auc"]].mean(), m.holdout_scores["accuracy"]  # doctest: +SKIP
    """
    ohlcv = conform_bars(ohlcv, dated=True)
    if not isinstance(model, str):
        raise ConfigError(f"model must be a model name ({', '.join(MODELS)}), got {shown(model)}")
    if model not in MODELS:
        from phi.errors import unknown_choice

        raise ConfigError(unknown_choice("model", model, MODELS))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be an integer in 0..{MAX_SEED:,}, got {shown(seed)}")
    if progress is not None and not callable(progress):
        raise ConfigError(f"progress must be a callable (fraction, stage), got {type(progress).__name__}")
    if isinstance(indicators, str):  # one name, not its letters
        indicators = (indicators,)
    if isinstance(indicators, Mapping) or not isinstance(indicators, Iterable):
        raise ConfigError(f"indicators must be a list of registry indicator names, got {shown(indicators)}")
    indicators = tuple(indicators)
    if not all(isinstance(i, str) for i in indicators):
        raise ConfigError(f"indicators must be names (strings), got {shown(indicators)}")
    spec = LabelSpec(label, horizon, profit, stop)
    if save_as is not None:
        from phi.ml.store import check_save_name

        check_save_name(save_as)
    if isinstance(chain, str):
        from phi.options.chains import load_chain

        chain = load_chain(chain)
    x_df, y, bar, end = training_set(ohlcv, spec, feature_set, indicators, chain)
    if chain is not None and len(bar) == 0:
        raise DataError(
            f"no bar has both defined features and a GEX row from option chain {chain.path} "
            f"({x_df.attrs.get('gex_missing', 0)} of {len(ohlcv)} bars have no chain within 4 days)"
        )
    emb = default_embargo(spec.horizon, len(ohlcv)) if embargo is None else embargo
    split = walk_forward_splits(bar, end, folds, emb, holdout)
    x = x_df.to_numpy(dtype=np.float64)
    idx = ohlcv.index
    steps = len(split.folds) + 1
    rows = []
    for k, (tr, te) in enumerate(split.folds, start=1):
        est = _fit(model, int(seed), x[tr], y[tr], f"fold {k}")
        s = score(y[te], positive_proba(est, x[te]))
        s_in = score(y[tr], positive_proba(est, x[tr]))  # in-sample, shown beside the test scores
        rows.append({
            "fold": k,
            "train_start": _stamp(idx, bar[tr[0]]), "train_end": _stamp(idx, bar[tr[-1]]),
            "test_start": _stamp(idx, bar[te[0]]), "test_end": _stamp(idx, bar[te[-1]]),
            "n_train": len(tr), "n_test": len(te),
            "accuracy": s["accuracy"], "log_loss": s["log_loss"], "auc": s["auc"],
            "up_share": s["up_share"], "train_accuracy": s_in["accuracy"], "train_auc": s_in["auc"],
        })  # fmt: skip
        if progress is not None:
            progress(k / steps, f"fold {k}/{len(split.folds)}: accuracy {s['accuracy']:.3f}")
    final = _fit(model, int(seed), x[split.final_train], y[split.final_train], "final model")
    ho = split.holdout
    p_ho = positive_proba(final, x[ho])
    ho_scores: dict[str, Any] = score(y[ho], p_ho)
    s_in = score(y[split.final_train], positive_proba(final, x[split.final_train]))
    ho_scores |= {"start": _stamp(idx, bar[ho[0]]), "end": _stamp(idx, bar[ho[-1]]),
                  "train_accuracy": s_in["accuracy"], "train_auc": s_in["auc"]}  # fmt: skip
    if progress is not None:
        progress(1.0, f"hold-out accuracy {ho_scores['accuracy']:.3f}")
    features = list(x_df.columns)
    trained = MLModel(
        kind=model,
        label=spec,
        feature_set=feature_set,
        features=features,
        estimator=final,
        seed=int(seed),
        folds=int(folds),
        embargo=int(emb),
        holdout=float(holdout),
        cv_scores=pd.DataFrame(rows, columns=list(CV_COLUMNS)),
        holdout_scores=ho_scores,
        data={
            "first": idx[0].isoformat(),
            "last": idx[-1].isoformat(),
            "rows": len(ohlcv),
            "symbol": ohlcv.attrs.get("symbol"),
            "fingerprint": data_fingerprint(ohlcv),
            **({} if chain is None else {"chain": {
                "path": chain.path, "fingerprint": chain.fingerprint,
                "bars_without_chain": int(x_df.attrs.get("gex_missing", 0))}}),
            "final_train": {"n": len(split.final_train), "start": _stamp(idx, bar[split.final_train[0]]),
                            "end": _stamp(idx, bar[split.final_train[-1]])},
        },  # fmt: skip
        calibration=calibration_bins(y[ho], p_ho),
        importance=feature_importance(final, features),
        versions=library_versions(),
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        extra_indicators=tuple(indicators),
    )
    if save_as is not None:
        from phi.errors import PhiError
        from phi.ml.store import save_model

        try:
            save_model(trained, save_as)
        except PhiError as exc:  # keep the finished model: the caller can save it elsewhere
            exc.model = trained  # type: ignore[attr-defined]
            raise
    return trained
