"""PhiAI view: select and tune indicators on the loaded dataset, and say how far to trust it.

The panel sets what to tune (the indicators of Step 2, or full auto over the registry), the metric,
the sampler, the trials, the walk-forward folds, the hold-out share and the constraints; what the
user types there is kept across mode switches and trips to other pages. The
search runs in a background thread (:class:`app_streamlit.jobs.RunJob` with
:func:`phi.phiai.tuner.phiai_full_auto` as its runner) with a progress bar and a Cancel button.
The report puts in-sample beside walk-forward out-of-sample (per fold, as a chart), the
untouched hold-out, DSR/PSR/PBO with the verdict in plain words, the best parameters, a slice
plot and each parameter's fANOVA importance. Two buttons carry the result to the Workbench: the tuned parameters alone, or the
whole PhiAI config (indicators, weights, blend, warm-up at the hold-out start) so that Run
backtest scores exactly the hold-out shown here. All computing is done by :mod:`phi.phiai`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

import pandas as pd
import streamlit as st

from app_streamlit import forms, state, ui
from app_streamlit.jobs import RunJob
from app_streamlit.views.phiai_charts import (
    best_columns,
    best_table,
    folds_chart,
    importance_chart,
    score_columns,
    slice_chart,
)

FORM: Final = "ai:form"  # the bordered box of the search settings (no st.form: see _form)
MODE: Final = "ai:mode"
INDICATORS: Final = "ai:indicators"
MAX_INDICATORS: Final = "ai:max_indicators"
METRIC: Final = "ai:metric"
SAMPLER: Final = "ai:sampler"
TRIALS: Final = "ai:trials"
FOLDS: Final = "ai:folds"
SCHEME: Final = "ai:scheme"
HOLDOUT: Final = "ai:holdout_pct"
DD_CAP: Final = "ai:dd_cap_pct"
MIN_TRADES: Final = "ai:min_trades"
SEED: Final = "ai:seed"
GO: Final = "ai:go"
CANCEL: Final = "ai:cancel"
JOB: Final = "ai:job"
RESULT: Final = "ai:result"
MESSAGE: Final = "ai:message"
APPLY: Final = "ai:apply"
OPEN: Final = "ai:open"
SLICE: Final = "ai:slice"
USE_STEP_2: Final = "ai:use_step_2"

TUNE_SELECTED: Final = "Tune the indicators I choose"
FULL_AUTO: Final = "Full auto: choose from every indicator"
MODES: Final = (TUNE_SELECTED, FULL_AUTO)
INDICATORS_HELP: Final = ("The indicators tuned when you choose them: Step 2's until you edit them, then yours. "
                          "Not used in full auto, which chooses from every registry indicator.")  # fmt: skip
MAX_HELP: Final = ("Full auto keeps at most this many of the best walk-forward candidates. "
                   "Not used when tuning the indicators you choose.")  # fmt: skip
AUTO_NOTE: Final = ("Full auto scores every registry indicator, then tunes the best: "
                    "the indicators field is not used (disabled).")  # fmt: skip
SAMPLER_LABELS: Final = {"tpe": "TPE (learns where to look)", "random": "random", "grid": "grid"}
#: Defaults of the form's widgets.
DEFAULTS: Final[dict[str, Any]] = {
    MODE: TUNE_SELECTED,
    MAX_INDICATORS: 3,
    METRIC: "sharpe",
    SAMPLER: "tpe",
    TRIALS: 100,
    FOLDS: 5,
    SCHEME: "rolling",
    HOLDOUT: 20.0,
    DD_CAP: 30.0,
    MIN_TRADES: 10,
    SEED: 0,
}
#: Longest time one script run waits for the search before returning (tests lower it).
MAX_WAIT_S = 3600.0
POLL_S = 0.1


# ---------------------------------------------------------------------------- settings


def _get(values: Any, key: str) -> Any:
    return values[key] if key in values else DEFAULTS[key]


def search_settings(values: Any) -> dict[str, Any]:
    """Keyword arguments of :func:`phi.phiai.tuner.phiai_full_auto` the panel describes
    (percent widgets to fractions; the drawdown cap as a negative fraction)."""
    auto = _get(values, MODE) == FULL_AUTO
    picked = values.get(INDICATORS)  # an emptied multiselect is a choice of none, not "Step 2's"
    chosen = list(forms.selected_indicators(values) if picked is None else picked)
    return {
        "select": auto,
        "candidates": None if auto else chosen,
        "max_indicators": int(_get(values, MAX_INDICATORS)) if auto else max(1, len(chosen)),
        "metric": str(_get(values, METRIC)),
        "sampler": str(_get(values, SAMPLER)),
        "n_trials": int(_get(values, TRIALS)),
        "folds": int(_get(values, FOLDS)),
        "scheme": str(_get(values, SCHEME)),
        "holdout": float(_get(values, HOLDOUT)) / 100.0,
        "constraints": {
            "max_drawdown": -float(_get(values, DD_CAP)) / 100.0,
            "min_trades": int(_get(values, MIN_TRADES)),
        },
        "seed": int(_get(values, SEED)),
    }


def _start(ds: Any, spec: Mapping[str, Any]) -> None:
    """Start the search on the loaded bars with the workbench's execution settings."""
    from phi.backtest.engine import EngineConfig
    from phi.backtest.run_config import DatasetSpec
    from phi.errors import ConfigError

    try:
        kwargs = search_settings(st.session_state)
        if not kwargs["select"] and not kwargs["candidates"]:
            raise ConfigError("no indicator to tune: choose at least one, or switch to full auto")
        capital = float(st.session_state.get(forms.DS_CAPITAL, 100_000.0))
        engine = EngineConfig(**forms.engine_settings(st.session_state, capital))
        dataset = DatasetSpec(**state.run_spec(spec))
    except Exception as exc:
        st.session_state[MESSAGE] = ("error", "Cannot start PhiAI: " + ui.error_text(exc))
        return
    job = search_job(ds.frame, engine, dataset, kwargs)
    job.context.update(content_hash=ds.content_hash, settings=_settings_now(st.session_state))
    st.session_state[JOB] = job.start()
    st.session_state.pop(MESSAGE, None)


def search_job(frame: pd.DataFrame, engine: Any, dataset: Any, kwargs: dict[str, Any]) -> RunJob:
    """A (not yet started) background job running :func:`phi.phiai.tuner.phiai_full_auto`;
    its stage reads ``"tune rsi · 48/200"`` and :meth:`RunJob.cancel` stops it after the
    current batch of trials."""
    from phi.phiai.tuner import phiai_full_auto

    def runner(_config: Any, *, save: bool, progress: Any) -> Any:
        def report(step: str, done: int, total: int) -> None:
            progress(f"{step} · {done}/{total}", done / max(total, 1))

        return phiai_full_auto(frame, engine=engine, dataset=dataset, progress=report, **kwargs)

    job = RunJob(None, save=False, runner=runner)
    job.context.update(settings=kwargs)
    return job


def _cancel() -> None:
    job = st.session_state.get(JOB)
    if job is not None:
        job.cancel()


def _wait(job: RunJob) -> None:
    bar = st.progress(0.0, text="starting")
    t0 = time.monotonic()
    while not job.finished and time.monotonic() - t0 < MAX_WAIT_S:
        elapsed = time.perf_counter() - job.started
        suffix = " · cancelling…" if job.cancel_requested else ""
        bar.progress(
            min(max(job.fraction, 0.0), 1.0), text=f"{job.stage_label} · {elapsed:.1f} s{suffix}"
        )
        time.sleep(POLL_S)
    if job.finished:
        bar.empty()


def _collect(job: RunJob) -> None:
    st.session_state.pop(JOB, None)
    if job.cancelled:
        st.session_state[MESSAGE] = (
            "warning",
            f"PhiAI cancelled after {job.elapsed:.1f} s; nothing changed.",
        )
    elif job.error is not None:
        st.session_state[MESSAGE] = ("error", "PhiAI failed: " + ui.error_text(job.error))
        if type(job.error).__module__.split(".")[0] != "phi":
            ui.log.error("workbench: PhiAI failed", exc_info=job.error)
    else:
        st.session_state[RESULT] = {"result": job.result, **job.context, "elapsed": job.elapsed}
        n = job.result.stats.get("n_trials_total", 0)
        st.session_state[MESSAGE] = (
            "success",
            f"PhiAI finished: {n} trial{'' if n == 1 else 's'} in {job.elapsed:.1f} s.",
        )


# ---------------------------------------------------------------------------- applying


def apply_parameters(values: Any, result: Any) -> list[str]:
    """Put each tuned indicator's best parameters into its Step 2 widgets (adding the indicator
    to the selection when missing, enabled). Returns the indicators changed."""
    selected = list(values.get(forms.IND_SELECTED, []))
    for name, tuned in result.tuning.items():
        if name not in selected:
            selected.append(name)
        for param, value in tuned.best_params.items():
            values[forms.ind_param(name, param)] = value
        values[forms.ind_enabled(name)] = True
    values[forms.IND_SELECTED] = selected
    return list(result.tuning)


def open_config(values: Any, result: Any) -> None:
    """Make the five steps describe ``result.run_config``: its indicators (tuned parameters,
    weights), a weighted-sum blend and the warm-up at the hold-out start, so Run backtest scores
    exactly the hold-out PhiAI reports. Tuned indicators the blend left out stay selected but
    disabled; other indicators are removed from the selection."""
    config = result.run_config
    apply_parameters(values, result)
    used = [i.name for i in config.enabled_indicators]
    left_out = [n for n in result.tuning if n not in used]
    values[forms.IND_SELECTED] = used + left_out
    for ind in config.enabled_indicators:
        values[forms.bl_weight(ind.name)] = float(ind.weight)
        values[forms.ind_enabled(ind.name)] = True
    for name in left_out:
        values[forms.ind_enabled(name)] = False
    values[forms.BL_MODE] = config.blend.mode
    values[forms.EX_WARMUP] = int(config.engine.warmup_bars)


def _apply() -> None:
    saved = st.session_state.get(RESULT)
    if saved:
        names = apply_parameters(st.session_state, saved["result"])
        ui.flash(f"Tuned parameters of {', '.join(names)} applied to Step 2 — Indicators.")


def _open() -> None:
    saved = st.session_state.get(RESULT)
    if not saved:
        return
    open_config(st.session_state, saved["result"])
    st.session_state[forms.NAV] = "Workbench"
    st.session_state[forms.SECTION] = forms.SECTIONS[2]  # "2 · Indicators"
    h0 = saved["result"].run_config.engine.warmup_bars
    ui.flash(
        f"PhiAI config opened: indicators, weights (blend weighted_sum) and {h0:,} warm-up bars, so Run backtest "
        "scores only the untouched hold-out. Set the warm-up to 0 (Step 4) to see every bar, including those it was tuned on."
    )


# ---------------------------------------------------------------------------- report


def _importance(saved: MutableMapping[str, Any], name: str) -> dict[str, float]:
    """:func:`~phi.phiai.importance.param_importance` of one tuned indicator, computed once per
    result (about a second) and kept with it."""
    from phi.phiai.importance import param_importance

    kept = saved.setdefault("importance", {})
    if name not in kept:
        kept[name] = param_importance(saved["result"].tuning[name])
    return dict(kept[name])


def _num(x: Any) -> str:
    return ui.fmt_value(x) if isinstance(x, int | float) else "–"


def _whole_pct(value: Any) -> str:
    """A share as a whole per cent (``0.7429`` -> ``74%``); NaN and None as :func:`ui.fmt_value`."""
    text = ui.fmt_value(value, "rate")
    return text if not text.endswith("%") else f"{float(value):.0%}"


def report(saved: MutableMapping[str, Any]) -> None:
    """The PhiAI report of a finished search."""
    from phi.phiai.explain import LUCK_ALPHA, PBO_HIGH, pbo_sentence, verdict

    result = saved["result"]
    metric = saved["settings"]["metric"]
    s = result.stats
    lucky = not (isinstance(s.get("dsr_pvalue"), float) and s["dsr_pvalue"] < LUCK_ALPHA)
    (st.warning if lucky else st.success)(verdict(s))
    ho = s.get("holdout_score", math.nan)
    ui.ribbon(
        [
            (f"{metric} in-sample", _num(s.get("is_score")), 0),
            (
                f"{metric} walk-forward OOS",
                _num(s.get("oos_score")),
                1 if (s.get("oos_score") or 0) > 0 else -1,
            ),
            (f"{metric} hold-out", _num(ho), 1 if (ho or 0) > 0 else -1),
            ("DSR p-value", _num(s.get("dsr_pvalue")), -1 if lucky else 1),
            ("PSR", _num(s.get("psr")), 0),
            # a share of the CSCV splits (70 with 8 blocks): whole per cent, as the sentence below
            ("PBO", _whole_pct(s.get("pbo")), -1 if (s.get("pbo") or 0) > PBO_HIGH else 0),
            ("OOS / IS", _num(s.get("oos_is_efficiency")), 0),
            ("trials (all steps)", f"{s.get('n_trials_total', 0):,}", 0),
        ]
    )
    st.caption(pbo_sentence(float(s.get("pbo", math.nan))))
    for name, t in result.tuning.items():
        if not t.stats.get("feasible_trials", 1):
            st.warning(f"No parameter set of {name} met the constraints (drawdown cap, minimum trades): the best "
                       "shown breaks them. Loosen the constraints or try another indicator.")  # fmt: skip
    st.markdown("**What PhiAI did, and how much to trust it**")
    st.markdown("\n".join(f"- {line}" for line in result.explanation.splitlines()))
    st.markdown("**Best parameters**")
    st.dataframe(best_table(result, metric), hide_index=True, key="ai:table:best", column_config=best_columns(metric))
    a, b = st.columns(2)
    a.button("Apply tuned parameters to Step 2", key=APPLY, on_click=_apply, icon=":material/tune:",
             help="Set each tuned indicator's parameter sliders in Step 2 to the best values (nothing else changes).")  # fmt: skip
    b.button("Open the PhiAI config in the Workbench", key=OPEN, on_click=_open, type="primary",
             icon=":material/open_in_new:",
             help="Indicators, tuned parameters, weights and the hold-out warm-up, ready for Run backtest.")  # fmt: skip
    if len(result.folds):
        ui.show_chart(folds_chart(result.folds, metric), key="ai:chart:folds")
        shown = result.folds.assign(
            params=[", ".join(f"{k}={v}" for k, v in p.items()) for p in result.folds["params"]]
        )
        st.dataframe(
            shown[["indicator", "fold", "train", "test", "params", "is_score", "oos_score"]],
            hide_index=True,
            key="ai:table:folds",
            column_config={
                **score_columns(metric),
                "train": st.column_config.TextColumn("train (first..last day)"),
                "test": st.column_config.TextColumn("test (first..last day)"),
                "params": st.column_config.TextColumn("best params on train"),
            },
        )
    tuned = [n for n, t in result.tuning.items() if t.best_params]
    if tuned:
        name = st.selectbox("Slice plot and parameter importance of", tuned, key=SLICE)
        t = result.tuning[name]
        ui.show_chart(
            slice_chart(t.trials, list(t.best_params), t.best_params, name), key="ai:chart:slice"
        )
        imp = _importance(saved, name)
        if len(imp) > 1 and all(math.isfinite(v) for v in imp.values()):
            ui.show_chart(importance_chart(imp, name), key="ai:chart:importance")
            st.caption("How much of the spread of the trials' in-sample scores each parameter "
                       "explains on its own (fANOVA, Optuna's evaluator): the parameters worth "
                       "tuning carefully are at the top.")  # fmt: skip
    if saved["settings"]["select"]:
        st.markdown(
            "**Selection** (each candidate at its defaults plus a few seeded probes, scored walk-forward)"
        )
        sel = result.selection.drop(columns=["params"], errors="ignore")
        st.dataframe(
            sel, hide_index=True, key="ai:table:selection", column_config=score_columns(metric)
        )
    with st.expander("Every trial"):
        for name, t in result.tuning.items():
            st.caption(name)
            st.dataframe(
                t.trials,
                hide_index=True,
                key=f"ai:table:trials:{name}",
                column_config=score_columns(
                    metric, folds=sum(str(c).startswith("is_f") for c in t.trials.columns)
                ),
            )


# ---------------------------------------------------------------------------- page


def _use_step_2() -> None:
    ui.forget(INDICATORS)


def _form(selected: list[str]) -> bool:
    """The search settings and the Run PhiAI button (True when pressed).

    No ``st.form``: a form's edits live in the browser until submitted, so a mode switch reset
    the fields it enabled or disabled and a trip to another page lost every edit. Each field is
    a plain widget whose value is kept (:func:`app_streamlit.ui.kept`) until the user changes it;
    the indicators to tune start as Step 2's and follow it until the user edits them."""
    from phi.indicators.registry import list_indicators
    from phi.phiai.evaluate import METRIC_DIRECTIONS

    D = DEFAULTS  # noqa: N806 - short alias for the defaults table
    # switching the mode re-draws the fields at once: the one it ignores is disabled
    mode = st.radio("What to tune", MODES, horizontal=True, **ui.kept(MODE, D[MODE], options=MODES))
    names = list_indicators()
    own = st.session_state.get(ui.KEPT + INDICATORS)  # the user's own choice of indicators, if any
    if own is None:  # never edited here: Step 2's, also after Apply added to Step 2
        st.session_state[INDICATORS] = list(selected)
    auto = mode == FULL_AUTO
    with st.container(border=True, key=FORM):
        # the choice of indicators gets two columns' width: five names fit without scrolling
        c = st.columns([2, 1, 1])
        picked = c[0].multiselect("Indicators to tune", names, disabled=auto, help=INDICATORS_HELP,
                                  **ui.kept(INDICATORS, list(selected), options=names))  # fmt: skip
        if not auto and own is not None and list(picked) != list(selected):  # say Step 2's, offer it
            note, back = c[0].columns([3, 2], vertical_alignment="center")
            note.caption(f"Your own choice (kept). Step 2 has: {', '.join(selected) or 'none'}.")
            back.button("Use Step 2's", key=USE_STEP_2, on_click=_use_step_2, type="tertiary", icon=":material/undo:",
                        help="Tune the indicators selected in Step 2 instead, and follow Step 2 again.")
        c[1].number_input("Max indicators (full auto)", 1, 8, disabled=not auto, help=MAX_HELP,
                          **ui.kept(MAX_INDICATORS, D[MAX_INDICATORS]))  # fmt: skip
        c[2].selectbox("Metric", list(METRIC_DIRECTIONS), **ui.kept(METRIC, D[METRIC], options=METRIC_DIRECTIONS),
                       help="What the search optimises, in its own direction (max drawdown towards 0).")  # fmt: skip
        d = st.columns(4)
        d[0].selectbox("Sampler", list(SAMPLER_LABELS), format_func=lambda s: SAMPLER_LABELS[s],
                       **ui.kept(SAMPLER, D[SAMPLER], options=SAMPLER_LABELS))  # fmt: skip
        d[1].number_input("Trials per indicator", 1, 2000, step=10, **ui.kept(TRIALS, D[TRIALS]))
        d[2].number_input("Walk-forward folds", 2, 20, **ui.kept(FOLDS, D[FOLDS]))
        d[3].selectbox("Fold scheme", ("rolling", "anchored"), **ui.kept(SCHEME, D[SCHEME], options=("rolling", "anchored")),
                       help="rolling: train windows of fixed length; anchored: every train window starts at the first bar.")  # fmt: skip
        e = st.columns(4)
        e[0].number_input("Hold-out %", 5.0, 50.0, step=5.0, **ui.kept(HOLDOUT, D[HOLDOUT]),
                          help="The last bars, never seen by selection or tuning, scored once at the end.")  # fmt: skip
        e[1].number_input("Drawdown cap %", 1.0, 100.0, step=5.0, **ui.kept(DD_CAP, D[DD_CAP]),
                          help="A parameter set whose max drawdown on the development bars is deeper is never chosen.")  # fmt: skip
        e[2].number_input("Minimum trades", 0, 1000, **ui.kept(MIN_TRADES, D[MIN_TRADES]),
                          help="A parameter set with fewer trades on the development bars is never chosen.")  # fmt: skip
        e[3].number_input("Seed", 0, 2**31 - 1, **ui.kept(SEED, D[SEED]), help="The same seed gives the same trials.")
        st.caption("Costs, sizing and the other execution settings come from Step 4. "
                   + (AUTO_NOTE if auto else "Max indicators applies to full auto only."))  # fmt: skip
        return st.button("Run PhiAI", key=GO, type="primary", icon=":material/auto_awesome:")


def render() -> None:
    st.subheader("PhiAI — select and tune indicators, and see how much to trust them")
    ui.show_flash()
    ds = st.session_state.get(forms.DATASET)
    if ds is None:
        st.info("Load a dataset in the Workbench (Step 1) first; PhiAI tunes on it.")
        return
    spec = st.session_state.get(forms.DATASET_SPEC, {})
    synthetic = " · SYNTHETIC demo data" if getattr(ds, "synthetic", False) else ""
    st.caption(
        f"Dataset {state.describe(spec)}{synthetic}, {len(ds.frame):,} bars. Change it in the sidebar."
    )
    job: RunJob | None = st.session_state.get(JOB)
    running = job is not None and not job.finished
    go_clicked = _form(forms.selected_indicators(st.session_state))
    if go_clicked and not running:
        _start(ds, spec)
        job = st.session_state.get(JOB)
    elif go_clicked:  # one search at a time: say so rather than ignore the click
        st.info("A PhiAI search is already running: wait for it, or press Cancel PhiAI and start again.")
    if job is not None and not job.finished:
        slot = st.empty()
        slot.button("Cancel PhiAI", key=CANCEL, on_click=_cancel)
        _wait(job)
        if job.finished:
            slot.empty()
    if job is not None and job.finished:
        _collect(job)
    message = st.session_state.get(MESSAGE)
    if message:
        {"success": st.success, "warning": st.warning, "error": st.error}[message[0]](message[1])
    saved = st.session_state.get(RESULT)
    if saved is None:
        st.caption("No PhiAI result yet: set the search above and press Run PhiAI.")
        return
    stale = stale_reasons(saved, st.session_state, ds.content_hash)
    if stale or (message and message[0] == "error"):
        why = ("the last Run PhiAI failed (the reason is above); " if message and message[0] == "error" else "") + (
            "the page now differs: " + "; ".join(stale) if stale else "the settings are unchanged"
        )
        st.warning(f"Previous PhiAI result shown — {why}. Press Run PhiAI to update.", icon=":material/history:")
    report(saved)


def _settings_now(values: Any) -> dict[str, Any]:
    """What a search started now would use: the form's search settings and Step 4's engine."""
    try:
        capital = float(values.get(forms.DS_CAPITAL, 100_000.0))
        return {**search_settings(values), **{f"execution {k}": v for k, v in forms.engine_settings(values, capital).items()}}
    except Exception:  # a setting being edited into something invalid: said where it is typed
        return {}


def described(settings: Mapping[str, Any]) -> dict[str, str]:
    """A search's settings (:func:`search_settings` and Step 4's) named and written as the panel
    shows them: ``{"trials per indicator": "100", "drawdown cap": "30%", ...}``."""
    auto = bool(settings.get("select"))
    out = {"what to tune": "full auto" if auto else "the indicators chosen"}
    if auto:
        out["max indicators"] = str(settings.get("max_indicators"))
    else:
        out["indicators to tune"] = ", ".join(settings.get("candidates") or []) or "none"
    for key, label in (("metric", "metric"), ("sampler", "sampler"), ("n_trials", "trials per indicator"),
                       ("folds", "walk-forward folds"), ("scheme", "fold scheme")):  # fmt: skip
        out[label] = str(settings.get(key))
    limits = settings.get("constraints") or {}
    out["hold-out"] = f"{100 * float(settings.get('holdout', 0.0)):g}%"
    out["drawdown cap"] = f"{-100 * float(limits.get('max_drawdown', 0.0)):g}%"
    out["minimum trades"] = str(limits.get("min_trades"))
    out["seed"] = str(settings.get("seed"))
    return out | {k: str(v) for k, v in settings.items() if k.startswith("execution ")}


def stale_reasons(saved: Mapping[str, Any], values: Any, content_hash: str | None) -> list[str]:
    """What differs between the shown PhiAI result and what the page describes now, in the
    panel's words (``"trials per indicator 37 (run: 100)"``)."""
    out = [] if saved.get("content_hash") == content_hash else ["the dataset loaded in the sidebar"]
    ran, now = saved.get("settings") or {}, _settings_now(values)
    if ran and now:
        was, is_ = described(ran), described(now)
        out += [f"{k} {v} (run: {was[k]})" for k, v in is_.items() if k in was and was[k] != v][:6]
    return out
