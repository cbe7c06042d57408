"""Model cards in Markdown: what a stored model is, what it saw, and how well it scored."""

from __future__ import annotations

from typing import Any

from phi.ml.model import MLModel
from phi.ml.models import MODELS

__all__ = ["classifier_card"]


def _f(v: Any, digits: int = 3) -> str:
    try:
        return f"{float(v):.{digits}f}"
    except (TypeError, ValueError):
        return str(v)


def classifier_card(model: MLModel) -> str:
    """The Markdown card of a classifier."""
    d = model.data
    ho = model.holdout_scores
    lines = [
        f"# Model card: {model.name or 'unsaved'}",
        "",
        f"- **Model**: {MODELS.get(model.kind, model.kind)} (`{model.kind}`), seed {model.seed}",
        f"- **Predicts**: {model.label.describe()} (1 = up)",
        f"- **Features**: {len(model.features)} ({model.feature_set} set), causal: bar t reads bars <= t",
        f"- **Data**: {d.get('symbol') or 'unnamed'} — {d['rows']} bars {d['first'][:10]}..{d['last'][:10]}, "
        f"fingerprint `{str(d['fingerprint'])[:16]}`",
        f"- **Validation**: {model.folds}-fold purged walk-forward CV, embargo {model.embargo} bars; "
        f"final untouched hold-out = last {model.holdout:.0%} of the samples",
        f"- **Created**: {model.created_at}; versions: "
        + ", ".join(f"{k} {v}" for k, v in model.versions.items()),
        "",
        "## Walk-forward CV",
        "",
        "IS: the fold's model on its own training samples; OOS: on the fold's test bars.",
        "",
        "| fold | test bars | train n | test n | IS accuracy | OOS accuracy | IS AUC | OOS AUC | OOS log loss |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in model.cv_scores.to_dict(orient="records"):
        lines.append(
            f"| {r['fold']} | {str(r['test_start'])[:10]}..{str(r['test_end'])[:10]} | {r['n_train']} | "
            f"{r['n_test']} | {_f(r.get('train_accuracy'))} | {_f(r['accuracy'])} | {_f(r.get('train_auc'))} | "
            f"{_f(r['auc'])} | {_f(r['log_loss'])} |"
        )
    lines += [
        "",
        "## Hold-out (never used for training or model choice)",
        "",
        f"{str(ho.get('start'))[:10]}..{str(ho.get('end'))[:10]}, {ho.get('n')} samples, "
        f"{_f(100 * float(ho.get('up_share', 0)), 1)} % up: accuracy **{_f(ho.get('accuracy'))}**, "
        f"log loss {_f(ho.get('log_loss'))}, AUC {_f(ho.get('auc'))}. In-sample (the final model on "
        f"its {d.get('final_train', {}).get('n', '?')} training samples): accuracy "
        f"{_f(ho.get('train_accuracy'))}, AUC {_f(ho.get('train_auc'))}.",
        "",
        "An accuracy near the share of the majority class, or an AUC near 0.5, is no skill.",
        "",
        "## Most important features",
        "",
    ]
    top = sorted(model.importance.items(), key=lambda kv: -kv[1])[:10]
    lines += [f"- `{k}`: {v:.3f}" for k, v in top] or ["- (this model type reports none)"]
    return "\n".join(lines) + "\n"
