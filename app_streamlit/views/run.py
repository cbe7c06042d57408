"""Run (sidebar): what will run, the Run button, live progress through the pipeline's stages,
a Cancel button that stops the run (see :mod:`app_streamlit.jobs`) and the outcome.

Run always runs what the form shows: when the form's dataset is not the loaded one it is
loaded first (cache first), and when that fails nothing runs and one line says why. A failed
run saves nothing and clears nothing typed; its message stays only while the form is
unchanged (a changed form may have fixed the cause).
"""

from __future__ import annotations

import json
import time
from typing import Any

import streamlit as st

from app_streamlit import forms, state, ui
from app_streamlit.jobs import STAGE_LABELS, RunJob

#: Longest time one script run waits for a backtest before returning (tests lower it).
MAX_WAIT_S = 3600.0
#: Poll interval of the progress display.
POLL_S = 0.05
_STAGES = ("data", "indicators", "blend", "engine", "save", "done")
#: Main-area section to show (set to "Results" when a run finishes).
SECTION = forms.SECTION


def fingerprint(values: Any) -> str:
    """What the form describes (dataset request + run settings), to tell when it changed."""
    req = values.get(state.FORM_REQUEST)
    spec = values.get(forms.DATASET_SPEC) or {"symbol": "DEMO", "vendor": "demo", "timeframe": "1D",
                                              "start": "2020-01-01", "end": "2024-12-31"}
    try:
        cfg: Any = forms.build_run_config(values, state.run_spec(spec)).to_dict()
        for k in ("description", "tags", "dataset"):
            cfg.pop(k, None)
    except Exception as exc:
        cfg = f"invalid: {exc}"
    # the chain file as uploaded now: it is read (into the config) only after the sidebar is drawn
    upload = values.get("op:chain_upload")
    chain = [getattr(upload, "file_id", None), getattr(upload, "name", None)] if upload is not None else None
    return json.dumps([state.request_key(req), cfg, chain], sort_keys=True, default=str)


def _message(kind: str, text: str, warns: list[str] | None = None) -> None:
    st.session_state[forms.RUN_MESSAGE] = (kind, text, list(warns or []), fingerprint(st.session_state))


def _start() -> None:
    """Load the form's dataset if needed, validate the page into a RunConfig and start the run."""
    from app_streamlit.views import dataset, results

    error_before = st.session_state.get(state.DATASET_ERROR)
    problem = dataset.ensure_form_dataset()
    if problem is not None:
        _message("error", f"Cannot run: {problem}.")
        st.session_state[results.LAST_RUN_FAILED] = True
        if st.session_state.get(state.DATASET_ERROR) is not error_before:
            st.rerun()  # the dataset form (drawn before this) shows the new load error
        return
    from app_streamlit.views import execution

    if execution.settings_problem(st.session_state):  # said once, under the Step 4 widgets: show them
        _message("error", "Cannot run: the execution settings are refused (the reason is under 4 · Execution).")
        st.session_state[results.LAST_RUN_FAILED] = True
        st.session_state[SECTION] = forms.SECTIONS[4]
        return
    spec = st.session_state[forms.DATASET_SPEC]
    try:
        config = forms.build_run_config(st.session_state, state.run_spec(spec))
    except Exception as exc:
        _message("error", "Cannot run: " + ui.error_text(exc))
        st.session_state[results.LAST_RUN_FAILED] = True
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
    from app_streamlit.results import run_name, run_number
    from app_streamlit.views import results

    st.session_state.pop(forms.RUN_JOB, None)
    label = STAGE_LABELS.get(job.stage, job.stage)
    if job.cancelled:
        _message("warning", f"Run cancelled during '{label}' after {job.elapsed:.2f} s; nothing was saved.")
    elif job.error is not None:
        _message("error", "Run failed: " + ui.sentence(ui.error_text(job.error)) + " Nothing was saved.", job.warnings)
        st.session_state[results.LAST_RUN_FAILED] = True
        if not isinstance(job.error, Exception) or type(job.error).__module__.split(".")[0] != "phi":
            ui.log.error("workbench: run failed", exc_info=job.error)
    else:
        res = job.result
        st.session_state[forms.RUN_RESULT] = {"result": res, "frame": job.context.get("frame")}
        st.session_state.pop(results.LAST_RUN_FAILED, None)
        st.session_state[SECTION] = "Results"
        from phi.backtest.summary import trade_count

        name = run_name(res.config, run_number(res.run_id))
        save_error = getattr(res, "save_error", None)
        if res.run_id is None and save_error:  # why is said once, above the results (with the exports)
            _message(
                "info",
                f"Run finished: {name} · {trade_count(res.metrics).text} trade(s) in {job.elapsed:.2f} s; "
                "not saved (the reason is above the results).",
                job.warnings,
            )
        else:
            _message(
                "success",
                f"Run {res.run_id} saved: {name} · {trade_count(res.metrics).text} trade(s) in {job.elapsed:.2f} s",
                job.warnings,
            )


def _summary_line(spec: dict[str, Any] | None) -> str:
    sel = [n for n in forms.selected_indicators(st.session_state) if st.session_state.get(forms.ind_enabled(n), True)]
    mode = st.session_state.get(forms.BL_MODE, "weighted_sum")
    capital = float(st.session_state.get(forms.DS_CAPITAL, 100_000.0) or 0.0)
    return f"{'+'.join(sel) or 'no indicator'} · blend {mode} · capital {capital:,.2f} · on {state.describe(spec)}"


def render() -> None:
    """The run controls (in the sidebar).

    Not a fragment on purpose: Streamlit lets a click inside a fragment wait until the running
    script ends, so a Cancel button in a fragment could not interrupt the progress loop. Here the
    click re-runs the page at once (the loop is interrupted at its next update) and the new run's
    callback cancels the job.
    """
    try:
        _render()
    except Exception as exc:
        ui.show_error(exc, prefix="run: ")


def _render() -> None:
    st.html('<div class="phi-side-head">5 · Run</div>')
    job: RunJob | None = st.session_state.get(forms.RUN_JOB)
    running = job is not None and not job.finished
    go = st.button("Run backtest", key=forms.RUN_GO, type="primary", disabled=running, width="stretch",
                   icon=":material/play_arrow:")
    if go and not running:
        _start()
        job = st.session_state.get(forms.RUN_JOB)
        if job is not None:  # redraw at once: Run disabled and Cancel shown while the run goes on
            st.rerun()
    st.caption(_summary_line(st.session_state.get(forms.DATASET_SPEC)))
    if job is not None and not job.finished:
        slot = st.empty()
        slot.button("Cancel run", key=forms.RUN_CANCEL, on_click=_cancel, width="stretch")
        _wait(job)
        if job.finished:
            slot.empty()
    if job is not None and job.finished:
        _collect(job)
        if running:  # Run was drawn disabled for this run: redraw it enabled, with the outcome
            st.rerun()
    message = st.session_state.get(forms.RUN_MESSAGE)
    if message:
        kind, text, warns, made = (*message, None)[:4]
        if kind not in ("success", "info") and made is not None and made != fingerprint(st.session_state):
            st.session_state.pop(forms.RUN_MESSAGE, None)  # the form changed: its cause may be fixed
        else:
            {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[kind](text)
            ui.show_warnings(warns)
    with st.expander("Notes and tags (saved with the run)"):
        from phi.backtest.run_config import MAX_DESCRIPTION_CHARS, MAX_TAG_CHARS, MAX_TAGS

        st.text_input("Description (optional)", key=forms.RUN_DESCRIPTION, persist_state="session",
                      max_chars=MAX_DESCRIPTION_CHARS)  # fmt: skip
        st.text_input("Tags (comma-separated)", key=forms.RUN_TAGS, persist_state="session",
                      max_chars=MAX_TAGS * (MAX_TAG_CHARS + 2),
                      help=f"At most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each.")  # fmt: skip
