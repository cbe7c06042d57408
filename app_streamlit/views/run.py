"""Step 5 — Run: the run's metadata, the Run button, live progress through the pipeline's
stages and a Cancel button that stops the run (see :mod:`app_streamlit.jobs`)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from app_streamlit import forms, ui
from app_streamlit.jobs import STAGE_LABELS, RunJob

#: Longest time one script run waits for a backtest before returning (tests lower it).
MAX_WAIT_S = 3600.0
#: Poll interval of the progress display.
POLL_S = 0.05
_STAGES = ("data", "indicators", "blend", "engine", "save", "done")


def _start() -> None:
    """Validate the page into a RunConfig and start the run (errors shown in the page)."""
    spec = st.session_state.get(forms.DATASET_SPEC)
    if spec is None:
        st.error("No dataset loaded: load one in Step 1 — Dataset first.", icon=":material/error:")
        return
    config = ui.attempt(forms.build_run_config, st.session_state, spec, prefix="Cannot run: ")
    if isinstance(config, ui.Failed):
        return
    job = RunJob(config).start()
    ds = st.session_state.get(forms.DATASET)
    job.context["frame"] = ds.frame if ds is not None else None
    st.session_state[forms.RUN_JOB] = job
    st.session_state.pop(forms.RUN_MESSAGE, None)


def _cancel() -> None:
    job = st.session_state.get(forms.RUN_JOB)
    if job is not None:
        job.cancel()


def _stage_text(job: RunJob) -> str:
    done = {s for s, _ in job.timings}
    marks = []
    for s in _STAGES[:-1]:
        if s == "save" and not job.save:
            continue
        mark = "✓" if s in done and s != job.stage else "▶" if s == job.stage else "·"
        marks.append(f"{mark} {STAGE_LABELS[s]}")
    return "  ".join(marks)


def _wait(job: RunJob) -> None:
    """Show progress until the run ends (a click on Cancel interrupts this script run; the next
    run cancels the job and waits for it to stop)."""
    bar = st.progress(0.0, text="starting")
    line = st.empty()
    t0 = time.monotonic()
    while not job.finished and time.monotonic() - t0 < MAX_WAIT_S:
        elapsed = time.perf_counter() - job.started
        suffix = " · cancelling…" if job.cancel_requested else ""
        bar.progress(min(max(job.fraction, 0.0), 1.0), text=f"{job.stage_label} · {elapsed:.1f} s{suffix}")
        line.caption(_stage_text(job))
        time.sleep(POLL_S)
    if job.finished:
        bar.empty()
        line.empty()


def _collect(job: RunJob) -> None:
    """Move a finished job's outcome into the session (result or message)."""
    st.session_state.pop(forms.RUN_JOB, None)
    label = STAGE_LABELS.get(job.stage, job.stage)
    if job.cancelled:
        msg = f"Run cancelled during '{label}' after {job.elapsed:.2f} s; nothing was saved."
        st.session_state[forms.RUN_MESSAGE] = ("warning", msg, [])
    elif job.error is not None:
        st.session_state[forms.RUN_MESSAGE] = ("error", "Run failed: " + ui.error_text(job.error), job.warnings)
        if not isinstance(job.error, Exception) or type(job.error).__module__.split(".")[0] != "phi":
            ui.log.error("workbench: run failed", exc_info=job.error)
    else:
        res = job.result
        st.session_state[forms.RUN_RESULT] = {"result": res, "frame": job.context.get("frame")}
        timing = " · ".join(f"{STAGE_LABELS.get(s, s)} {t:.2f} s" for s, t in job.timings if s != "data")
        msg = (
            f"Run {res.run_id} saved: {len(res.trades)} trade(s) in {job.elapsed:.2f} s"
            + (f" (stage starts: {timing})" if timing else "")
        )
        st.session_state[forms.RUN_MESSAGE] = ("success", msg, job.warnings)


def _summary_line(spec: dict[str, Any] | None) -> str:
    if spec is None:
        return "No dataset loaded."
    sel = [n for n in forms.selected_indicators(st.session_state) if st.session_state.get(forms.ind_enabled(n), True)]
    mode = st.session_state.get(forms.BL_MODE, "weighted_sum")
    return (
        f"Dataset **{spec['symbol']}** {spec['timeframe']} {spec['start']} .. {spec['end']} ({spec['vendor']}) · "
        f"indicators: {', '.join(sel) or 'none'} · blend: {mode}"
    )


def render() -> None:
    """Step 5 and the results.

    Not a fragment on purpose: Streamlit lets a click inside a fragment wait until the running
    script ends, so a Cancel button in a fragment could not interrupt the progress loop. Here the
    click re-runs the page at once (the loop is interrupted at its next update) and the new run's
    callback cancels the job.
    """
    from app_streamlit.views import results

    try:
        _render()
        results.render_latest()
    except Exception as exc:
        ui.show_error(exc, prefix="run: ")


def _render() -> None:
    ui.step_header(5, "Run")
    spec = st.session_state.get(forms.DATASET_SPEC)
    st.markdown(_summary_line(spec))
    c = st.columns([1, 2, 1.5])
    c[0].selectbox("Metric to highlight", list(forms.RIBBON_METRICS), key=forms.RUN_METRIC, persist_state="session")
    c[1].text_input("Description (optional)", key=forms.RUN_DESCRIPTION, persist_state="session")
    c[2].text_input("Tags (comma-separated)", key=forms.RUN_TAGS, persist_state="session")

    job: RunJob | None = st.session_state.get(forms.RUN_JOB)
    running = job is not None and not job.finished
    b = st.columns([1, 1, 4])
    go = b[0].button("Run backtest", key=forms.RUN_GO, type="primary", disabled=running)
    if go and not running:
        _start()
        job = st.session_state.get(forms.RUN_JOB)
    if job is not None and not job.finished:
        slot = b[1].empty()
        slot.button("Cancel run", key=forms.RUN_CANCEL, on_click=_cancel)
        _wait(job)
        if job.finished:
            slot.empty()
    if job is not None and job.finished:
        _collect(job)
    message = st.session_state.get(forms.RUN_MESSAGE)
    if message:
        kind, text, warns = message
        {"success": st.success, "warning": st.warning, "error": st.error}[kind](text)
        ui.show_warnings(warns)
