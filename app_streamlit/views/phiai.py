"""PhiAI view: select and tune indicators on the loaded dataset, and say how far to trust it.

A form sets what to tune (the indicators of Step 2, or full auto over the registry), the metric,
the sampler, the trials, the walk-forward folds, the hold-out share and the constraints. The
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
import plotly.graph_objects as go
import streamlit as st

from app_streamlit import charts, forms, state, ui
from app_streamlit.jobs import RunJob
from app_streamlit.styles import PLOTLY_LAYOUT

FORM: Final = "ai:form"
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

TUNE_SELECTED: Final = "Tune the indicators I choose"
FULL_AUTO: Final = "Full auto: choose from every indicator"
MODES: Final = (TUNE_SELECTED, FULL_AUTO)
INDICATORS_HELP: Final = ("The indicators tuned when you choose them (default: those of Step 2). "
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
    """Keyword arguments of :func:`phi.phiai.tuner.phiai_full_auto` the form describes
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


def _layout(fig: go.Figure, title: str, height: int) -> charts.Chart:
    fig.update_layout(**PLOTLY_LAYOUT)
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"}, height=height
    )
    return charts.Chart(fig)


def folds_chart(folds: pd.DataFrame, metric: str) -> charts.Chart:
    """In-sample (train) beside walk-forward out-of-sample (test) score per fold and indicator."""
    label = [f"{r['indicator']} · fold {r['fold']}" for _, r in folds.iterrows()]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=label, y=folds["is_score"].tolist(), name="in-sample (train)", marker_color="#60a5fa"
        )
    )
    fig.add_trace(
        go.Bar(
            x=label,
            y=folds["oos_score"].tolist(),
            name="out-of-sample (test)",
            marker_color="#f59e0b",
        )
    )
    fig.update_layout(barmode="group")
    return _layout(fig, f"{metric}: in-sample vs out-of-sample per walk-forward fold", 320)


def slice_chart(
    trials: pd.DataFrame, params: list[str], best: Mapping[str, Any], name: str
) -> charts.Chart:
    """Every trial's mean in-sample score against each parameter (best parameters marked)."""
    from plotly.subplots import make_subplots

    feasible = trials[trials["feasible"]] if "feasible" in trials else trials
    fig = make_subplots(
        rows=1, cols=max(1, len(params)), shared_yaxes=True, subplot_titles=params or [""]
    )
    for i, p in enumerate(params, start=1):
        fig.add_trace(go.Scatter(x=feasible[p].tolist(), y=feasible["is_score"].tolist(), mode="markers",
                                 name="trial", marker={"size": 6, "color": "#60a5fa", "opacity": 0.7},
                                 showlegend=i == 1), 1, i)  # fmt: skip
        best_is = float(trials["is_score"].max()) if len(trials) else math.nan
        fig.add_trace(go.Scatter(x=[best[p]], y=[best_is], mode="markers", name="best",
                                 marker={"size": 12, "color": "#f59e0b", "symbol": "star"}, showlegend=i == 1), 1, i)  # fmt: skip
    chart = _layout(
        fig, f"{name}: mean in-sample score of every trial by parameter (slice plot)", 320
    )
    # the legend to the right of the title, clear of the panels' parameter names
    fig.update_layout(legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.2})
    fig.update_layout(margin={"t": 80})
    return chart


def importance_chart(importance: Mapping[str, float], name: str) -> charts.Chart:
    """Each parameter's fANOVA share of the score's variance (largest on top)."""
    items = sorted(importance.items(), key=lambda kv: kv[1])
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in items],
            y=[k for k, _ in items],
            orientation="h",
            marker_color="#60a5fa",
            text=[f"{v:.0%}" for _, v in items],
            textposition="auto",
            name="importance",
        )
    )
    fig.update_xaxes(title="share of the score's variance (fANOVA)", range=[0, 1], tickformat=".0%")
    fig.update_yaxes(automargin=True)  # room for the longest parameter name
    chart = _layout(fig, f"{name}: parameter importance", 160 + 40 * len(items))
    fig.update_layout(margin={"b": 55})  # room for the axis title
    return chart


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


def score_columns(metric: str, folds: int = 0) -> dict[str, Any]:
    """Column labels of the tuner's tables: the mean in-sample and walk-forward out-of-sample
    scores (and per fold), the development bars' trades and max drawdown."""
    num = st.column_config.NumberColumn
    out: dict[str, Any] = {
        "name": st.column_config.TextColumn("indicator"),
        "is_score": num(f"IS {metric}", format="%.2f"),
        "oos_score": num(f"OOS {metric}", format="%.2f"),
        "trades": num("trades (development bars)"),
        "max_drawdown": num("max drawdown (development bars)", format="percent"),
    }
    for k in range(1, folds + 1):
        out[f"is_f{k}"] = num(f"IS fold {k}", format="%.2f")
        out[f"oos_f{k}"] = num(f"OOS fold {k}", format="%.2f")
    return out


def stability_text(stats: Mapping[str, Any]) -> str:
    """The neighbourhood stability as read in the table: two decimals, or why there is none
    (no other trial near the best one, or a best score not above 0) instead of a bare "None"."""
    v = stats.get("stability", math.nan)
    if isinstance(v, (int, float)) and math.isfinite(v):
        return f"{v:.2f}"
    return "n/a: no trial near the best" if not stats.get("stability_neighbours") else "n/a: best score ≤ 0"


def best_columns(metric: str) -> dict[str, Any]:
    """Column labels and formats of the best-parameters table: the metric named, scores to two
    decimals (as the other tuner tables), the blend weight in per cent."""
    num = st.column_config.NumberColumn
    return {
        "weight": num("blend weight", format="percent", help="The indicator's weight in the tuned blend."),
        "in-sample": num(f"IS {metric}", format="%.2f"),
        "out-of-sample (walk-forward)": num(f"OOS {metric} (walk-forward)", format="%.2f"),
        "hold-out (alone)": num(f"hold-out {metric} (alone)", format="%.2f"),
        "stability": st.column_config.TextColumn(
            "stability", help="Mean score of the trials next to the best one over the best score: 1 a plateau, "
            "near or below 0 a lone spike."),
    }  # fmt: skip


def best_table(result: Any, metric: str) -> pd.DataFrame:
    """One row per tuned indicator: best parameters, weight, IS/OOS, stability, trials."""
    weights = {i.name: i.weight for i in result.run_config.enabled_indicators}
    return pd.DataFrame(
        [
            {
                "indicator": name,
                "best parameters": ", ".join(f"{k}={v}" for k, v in t.best_params.items())
                or "(none)",
                "weight": weights.get(name, 0.0),
                "in-sample": t.is_score,
                "out-of-sample (walk-forward)": t.oos_score,
                "hold-out (alone)": t.holdout.get(metric, math.nan),
                "stability": stability_text(t.stats),
                "trials": t.stats.get("n_trials", len(t.trials)),
            }
            for name, t in result.tuning.items()
        ]
    )


def report(saved: MutableMapping[str, Any]) -> None:
    """The PhiAI report of a finished search."""
    from phi.phiai.explain import LUCK_ALPHA, pbo_sentence, verdict

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
            ("PBO", ui.fmt_value(s.get("pbo"), "rate"), -1 if (s.get("pbo") or 0) > 0.5 else 0),
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


def _form(selected: list[str]) -> bool:
    from phi.indicators.registry import list_indicators
    from phi.phiai.evaluate import METRIC_DIRECTIONS

    D = DEFAULTS  # noqa: N806 - short alias for the defaults table
    # the mode sits outside the form: switching it re-draws the form at once, so the field the
    # mode ignores is disabled (inside a form a widget's change waits for the submit button and
    # the ignored field stayed editable)
    mode = st.radio("What to tune", MODES, key=MODE, persist_state="session", horizontal=True)
    auto = mode == FULL_AUTO
    with st.form(FORM):
        c = st.columns(4)
        c[0].multiselect("Indicators to tune", list_indicators(), default=selected, key=INDICATORS,  # Step 2's on each visit
                         disabled=auto, help=INDICATORS_HELP)  # fmt: skip
        c[1].number_input("Max indicators (full auto)", 1, 8, D[MAX_INDICATORS], key=MAX_INDICATORS, persist_state="session",
                          disabled=not auto, help=MAX_HELP)  # fmt: skip
        metrics = list(METRIC_DIRECTIONS)
        c[2].selectbox("Metric", metrics, index=metrics.index(D[METRIC]), key=METRIC, persist_state="session",
                       help="What the search optimises, in its own direction (max drawdown towards 0).")  # fmt: skip
        c[3].selectbox(
            "Sampler", list(SAMPLER_LABELS), format_func=lambda s: SAMPLER_LABELS[s], key=SAMPLER,
            persist_state="session",
        )
        d = st.columns(4)
        d[0].number_input("Trials per indicator", 1, 2000, D[TRIALS], step=10, key=TRIALS, persist_state="session")
        d[1].number_input("Walk-forward folds", 2, 20, D[FOLDS], key=FOLDS, persist_state="session")
        d[2].selectbox("Fold scheme", ("rolling", "anchored"), key=SCHEME, persist_state="session",
                       help="rolling: train windows of fixed length; anchored: every train window starts at the first bar.")  # fmt: skip
        d[3].number_input("Hold-out %", 5.0, 50.0, D[HOLDOUT], step=5.0, key=HOLDOUT, persist_state="session",
                          help="The last bars, never seen by selection or tuning, scored once at the end.")  # fmt: skip
        e = st.columns(4)
        e[0].number_input("Drawdown cap %", 1.0, 100.0, D[DD_CAP], step=5.0, key=DD_CAP, persist_state="session",
                          help="A parameter set whose max drawdown on the development bars is deeper is never chosen.")  # fmt: skip
        e[1].number_input("Minimum trades", 0, 1000, D[MIN_TRADES], key=MIN_TRADES, persist_state="session",
                          help="A parameter set with fewer trades on the development bars is never chosen.")  # fmt: skip
        e[2].number_input(
            "Seed", 0, 2**31 - 1, D[SEED], key=SEED, persist_state="session",
            help="The same seed gives the same trials.",
        )
        st.caption("Costs, sizing and the other execution settings come from Step 4. "
                   + (AUTO_NOTE if auto else "Max indicators applies to full auto only."))  # fmt: skip
        return st.form_submit_button("Run PhiAI", type="primary", icon=":material/auto_awesome:")


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


def stale_reasons(saved: Mapping[str, Any], values: Any, content_hash: str | None) -> list[str]:
    """What differs between the shown PhiAI result and what the page describes now."""
    out = [] if saved.get("content_hash") == content_hash else ["the dataset loaded in the sidebar"]
    ran, now = saved.get("settings") or {}, _settings_now(values)
    if ran and now:
        out += [f"{k} {now.get(k)} (run: {ran.get(k)})" for k in sorted(set(ran) | set(now)) if ran.get(k) != now.get(k)][:6]
    return out
