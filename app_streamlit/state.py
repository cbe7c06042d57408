"""One source of truth for what is on screen: the form, the loaded dataset and the last run.

The workbench keeps three things apart: the dataset request the form describes
(:data:`FORM_REQUEST`, set by the dataset form on every script run), the dataset actually
loaded (``forms.DATASET_SPEC``) and the config of the run whose results are shown. This module
compares them, so the page can say plainly when results belong to a previous run (and what
differs), when Run must load the form's dataset first, and when a stored error no longer
applies because its cause was fixed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Final

from app_streamlit import forms

#: The dataset request the form describes (a dict, see :func:`request_key`); not a widget.
FORM_REQUEST: Final = "data:form_request"
#: A dataset error and the request key it belongs to: shown until that request changes.
DATASET_ERROR: Final = "data:error"
#: The dataset form's own blocking problem on this script run (bad dates, symbol ...), or None.
FORM_PROBLEM: Final = "data:form_problem"
#: Fields of a config that never make two runs' results different.
DEFAULT_START: Final = dt.date(2020, 1, 1)
DEFAULT_END: Final = dt.date(2024, 12, 31)
_IGNORED: Final = {"schema_version", "phi_version", "seed", "description", "tags", "dataset.content_hash"}


def _day(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value:%Y-%m-%d}"
    return str(value or "")


def form_request_from(values: Any) -> dict[str, Any]:
    """The dataset request of the form's widgets (dates as ``date`` objects; no file yet)."""
    return {
        "vendor": values.get(forms.DS_VENDOR, "demo"),
        "symbol": str(values.get(forms.DS_SYMBOL, "DEMO") or "").strip(),
        "timeframe": values.get(forms.DS_TIMEFRAME, "1D"),
        "start": values.get(forms.DS_START, DEFAULT_START),
        "end": values.get(forms.DS_END, DEFAULT_END),
        "path": None,
    }


def request_key(req: Mapping[str, Any] | None) -> tuple[str, ...]:
    """A comparable key of a dataset request: vendor, symbol (upper-cased), timeframe and the
    dates, or for a CSV file the stored file instead of the dates (the whole file is read)."""
    if not req:
        return ()
    vendor = str(req.get("vendor") or "")
    head = (vendor, str(req.get("symbol") or "").strip().upper(), str(req.get("timeframe") or ""))
    if vendor == "csv":
        return (*head, str(req.get("path") or ""))
    return (*head, _day(req.get("start")), _day(req.get("end")))


def describe(req: Mapping[str, Any] | None) -> str:
    """``"DEMO 1D 2020-01-01 .. 2024-12-31 (demo)"`` for a request or a loaded dataset's spec."""
    if not req:
        return "no dataset"
    return f"{req.get('symbol') or '?'} {req.get('timeframe')} {_day(req.get('start'))} .. {_day(req.get('end'))} ({req.get('vendor')})"


def dataset_differences(form_req: Mapping[str, Any] | None, other: Mapping[str, Any] | None) -> list[str]:
    """What differs between the form's dataset and ``other`` (a loaded spec or a run's dataset);
    ``[]`` when they are the same request."""
    if not other:
        return ["no dataset loaded"]
    a, b = request_key(form_req), request_key(other)
    if a == b:
        return []
    names = ("vendor", "symbol", "timeframe", *(("file",) if a and a[0] == "csv" else ("start", "end")))
    out = []
    for name, now, was in zip(names, a, b, strict=False):
        if now != was:
            out.append("another file" if name == "file" else f"{name} {now or '(empty)'} instead of {was or '(empty)'}")
    return out or ["another dataset"]


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(obj, list) and obj and all(isinstance(x, Mapping) and "name" in x for x in obj):
        out[prefix.rstrip(".")] = "+".join(str(x["name"]) for x in obj)
        for x in obj:  # indicators: keyed by name, not by position
            out.update(_flatten({k: v for k, v in x.items() if k != "name"}, f"{prefix}{x['name']}."))
        return out
    out[prefix.rstrip(".")] = json.dumps(obj, sort_keys=True, default=str) if isinstance(obj, (list, dict)) else obj
    return out


def _text(v: Any) -> str:
    if v is None:
        return "off"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def config_differences(shown: Any, current: Any, limit: int = 6) -> list[str]:
    """Settings that differ between two RunConfigs: ``"engine.entry_threshold 0.2 (run: 0.1)"``."""
    a = {k: v for k, v in _flatten(shown.to_dict()).items() if k not in _IGNORED}
    b = {k: v for k, v in _flatten(current.to_dict()).items() if k not in _IGNORED}
    out = [f"{k} {_text(b.get(k))} (run: {_text(a.get(k))})" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if len(out) > limit:
        out = out[:limit] + [f"{len(out) - limit} more"]
    return out


def run_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ``DatasetSpec`` fields of a loaded dataset's spec (drops the page's own entries)."""
    return {k: spec[k] for k in ("symbol", "vendor", "timeframe", "start", "end", "path") if k in spec}


def stale_reasons(values: Any, result_config: Any) -> list[str]:
    """Why the results on screen are not what the form describes now (``[]`` when they are)."""
    ds = result_config.dataset
    shown = {"vendor": ds.vendor, "symbol": ds.symbol, "timeframe": ds.timeframe, "start": ds.start, "end": ds.end, "path": ds.path}
    form_req = values.get(FORM_REQUEST)
    if form_req is not None:
        diff = dataset_differences(form_req, shown)
        if diff:
            return ["dataset in the form: " + "; ".join(diff)]
    try:
        current = forms.build_run_config(values, run_spec(shown))
    except Exception as exc:  # the form is being edited into something invalid
        from app_streamlit.ui import error_text

        return [f"the settings in the form are not valid: {error_text(exc)}"]
    capital = values.get(forms.DS_CAPITAL)
    out = config_differences(result_config, current)
    if capital is not None and float(capital) != float(result_config.engine.initial_capital):
        out = [d for d in out if not d.startswith("engine.initial_capital")] + [
            f"initial capital {float(capital):,.2f} (run: {float(result_config.engine.initial_capital):,.2f})"
        ]
    return out
