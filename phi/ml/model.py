""":class:`MLModel`: a trained classifier with everything needed to judge and reuse it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from phi.data.schema import OHLCV_COLUMNS, conform_bars, conform_ohlcv
from phi.errors import PhiError
from phi.ml.labels import LabelSpec

__all__ = ["CV_COLUMNS", "DataMismatchError", "MLModel", "ModelError", "check_fingerprint", "data_fingerprint"]

#: Columns of :attr:`MLModel.cv_scores`, in order.
CV_COLUMNS: tuple[str, ...] = (
    "fold", "train_start", "train_end", "test_start", "test_end", "n_train", "n_test",
    "accuracy", "log_loss", "auc", "up_share", "train_accuracy", "train_auc",
)  # fmt: skip


class ModelError(PhiError):
    """A stored model that does not exist, is incomplete, or cannot be read."""


class DataMismatchError(ModelError):
    """Bars that differ from the ones a model was trained on (its data fingerprint)."""


def data_fingerprint(ohlcv: pd.DataFrame) -> str:
    """SHA-256 of the bars' stamps and OHLCV values (order-sensitive, dtype-normalised: the
    frame as :func:`phi.data.schema.conform_ohlcv` reads it, so ``Close`` or numbers as text
    hash as the same bars)."""
    ohlcv = conform_ohlcv(ohlcv, OHLCV_COLUMNS)
    h = hashlib.sha256()
    idx = ohlcv.index
    stamps = idx.asi8 if isinstance(idx, pd.DatetimeIndex) else np.asarray(idx, dtype=np.int64)
    h.update(np.ascontiguousarray(stamps, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(ohlcv[list(OHLCV_COLUMNS)].to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()


def check_fingerprint(data: dict[str, Any], ohlcv: pd.DataFrame, who: str) -> None:
    """Raise :class:`DataMismatchError` unless the bars of ``ohlcv`` in ``data``'s range
    (``first``..``last``) hash to ``data["fingerprint"]``. ``ohlcv`` as
    :func:`phi.data.schema.conform_bars` takes it; its values are not judged, only compared."""
    ohlcv = conform_bars(ohlcv, values=(), dated=True)
    try:
        first, last = pd.Timestamp(data["first"]), pd.Timestamp(data["last"])
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{who} records no valid training range (first/last); retrain it") from None
    if ohlcv.index.tz is None and first.tz is not None:  # naive bars: read their stamps as UTC
        first, last = first.tz_convert("UTC").tz_localize(None), last.tz_convert("UTC").tz_localize(None)
    elif ohlcv.index.tz is not None and first.tz is None:
        first, last = first.tz_localize("UTC"), last.tz_localize("UTC")
    part = ohlcv.loc[(ohlcv.index >= first) & (ohlcv.index <= last)]
    got = data_fingerprint(part)
    if got != data["fingerprint"]:
        raise DataMismatchError(
            f"{who} was trained on {data['rows']} bars {first.date()}..{last.date()} with data "
            f"fingerprint {str(data['fingerprint'])[:12]}, but these bars over that range "
            f"({len(part)} rows) have fingerprint {got[:12]}: the data changed (revised, "
            "re-adjusted or another symbol). Retrain it on these bars"
        )


@dataclass
class MLModel:
    """A classifier trained by :func:`phi.ml.train_classifier`.

    Attributes
    ----------
    kind : str
        ``rf``, ``gb``, ``lr`` or ``lgbm``.
    label : LabelSpec
        What it predicts (1 = up).
    features : list of str
        Feature columns, in the order the estimator expects.
    cv_scores : DataFrame
        One row per walk-forward fold: the fold's bars, sample counts, accuracy, log loss, AUC
        on its test block, and ``train_accuracy`` / ``train_auc``: the fold model's in-sample
        scores on its own training samples (NaN for models stored before they were recorded).
    holdout_scores : dict
        The same scores on the untouched hold-out (the last bars), with its first and last bar,
        and ``train_accuracy`` / ``train_auc``: the final model's on its training samples.
    data : dict
        The training bars: first and last stamp, rows, symbol, fingerprint.
    """

    kind: str
    label: LabelSpec
    feature_set: str
    features: list[str]
    estimator: Any
    seed: int
    folds: int
    embargo: int
    holdout: float
    cv_scores: pd.DataFrame
    holdout_scores: dict[str, Any]
    data: dict[str, Any]
    calibration: list[dict[str, float]] = field(default_factory=list)
    importance: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    created_at: str = ""
    extra_indicators: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """The data fingerprint of the bars the model was trained and scored on."""
        return str(self.data["fingerprint"])

    def feature_frame(self, ohlcv: pd.DataFrame) -> pd.DataFrame:
        """This model's features on ``ohlcv`` (causal; NaN during the warm-up)."""
        from phi.ml.features import build_features

        ohlcv = conform_bars(ohlcv, dated=True)
        chain = (self.data.get("chain") or {}).get("path")  # GEX features: the training chain
        x = build_features(ohlcv, self.feature_set, self.extra_indicators, chain=chain)
        missing = [f for f in self.features if f not in x.columns]
        if missing:
            raise ModelError(
                f"{f'model {self.name!r}' if self.name else 'this model'} reads feature(s) "
                f"{', '.join(map(repr, missing[:3]))}{' ...' if len(missing) > 3 else ''} that this "
                "phi does not compute; retrain it"
            )
        return x[self.features]

    def predict_proba(self, ohlcv: pd.DataFrame) -> pd.Series:
        """P(up) at each bar of ``ohlcv`` (NaN where a feature is undefined), named ``p_up``.

        Row t reads bars <= t only; the model itself was fitted on the training bars.
        """
        from phi.ml.models import positive_proba

        ohlcv = conform_bars(ohlcv, dated=True)  # once: feature_frame gets it as is
        x = self.feature_frame(ohlcv).to_numpy(dtype=np.float64)
        ok = np.isfinite(x).all(axis=1)
        out = np.full(len(x), np.nan)
        if ok.any():
            out[ok] = positive_proba(self.estimator, x[ok])
        return pd.Series(out, index=ohlcv.index, name="p_up")

    def signal(self, ohlcv: pd.DataFrame) -> pd.Series:
        """``2 P(up) - 1`` in [-1, +1] (NaN where undefined)."""
        return (2.0 * self.predict_proba(ohlcv) - 1.0).rename("signal")

    def check_data(self, ohlcv: pd.DataFrame) -> None:
        """Refuse bars whose training range differs from what the model was trained on.

        Raises :class:`DataMismatchError` naming the model, the range and both fingerprints.
        """
        check_fingerprint(self.data, ohlcv, f"model {self.name!r}" if self.name else "this model")

    def summary(self) -> dict[str, Any]:
        """A flat, JSON-ready summary (for tables)."""
        cv = self.cv_scores
        return {
            "name": self.name,
            "model": self.kind,
            "label": self.label.describe(),
            "features": len(self.features),
            "bars": self.data.get("rows"),
            "cv_accuracy": float(cv["accuracy"].mean()) if len(cv) else float("nan"),
            "cv_auc": float(cv["auc"].mean()) if len(cv) else float("nan"),
            "holdout_accuracy": self.holdout_scores.get("accuracy"),
            "holdout_auc": self.holdout_scores.get("auc"),
            "created_at": self.created_at,
        }
