"""A PhiAI result as a JSON report, and saving it with its run (``runs/{id}/tuning.json``)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phi.phiai.tuner import PhiAIResult
    from phi.pipeline import RunResult

__all__ = ["TUNING_FILE", "save_tuned_run", "tuning_report"]

TUNING_FILE = "tuning.json"
REPORT_VERSION = 1


def _clean(obj: Any) -> Any:
    """JSON-ready: numpy scalars to Python, nan/inf to ``None``."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def tuning_report(result: PhiAIResult) -> dict[str, Any]:
    """Selection, per-indicator tuning (folds, statistics, best parameters), the blend's
    statistics, the hold-out metrics and the explanation, as one JSON-ready dict."""
    tuning = {
        name: {
            "best_params": t.best_params,
            "is_score": t.is_score,
            "oos_score": t.oos_score,
            "stats": t.stats,
            "folds": t.folds.to_dict(orient="records"),
            "holdout": t.holdout,
        }
        for name, t in result.tuning.items()
    }
    return _clean(
        {
            "report_version": REPORT_VERSION,
            "stats": result.stats,
            "holdout": result.holdout,
            "selection": result.selection.to_dict(orient="records"),
            "tuning": tuning,
            "explanation": result.explanation,
        }
    )


def save_tuned_run(result: PhiAIResult) -> RunResult:
    """Run ``result.run_config`` through :func:`phi.run` and save it with ``tuning.json`` beside
    it, in one atomic write. A failed save keeps the result (``save_error`` says why)."""
    from phi.backtest.run_history import save_run
    from phi.errors import PhiError
    from phi.pipeline import run

    res = run(result.run_config, save=False)
    assert res.config is not None
    extra = {
        TUNING_FILE: (
            json.dumps(tuning_report(result), indent=2, sort_keys=True, allow_nan=False) + "\n"
        ).encode()
    }
    try:
        res.run_id = save_run(res.config, res, data_metadata=res.data, extra_files=extra)
    except PhiError as exc:
        res.save_error = str(exc)
    return res
