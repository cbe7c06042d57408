"""System status page (the seed's "System Status" tab): every component ok / degraded / failed
with the reason, from :func:`phi.status.system_status`. Checked on first view and on request."""

from __future__ import annotations

import html

import streamlit as st

from app_streamlit import ui
from app_streamlit.styles import AMBER, GREEN, RED

RESULT = "status:checks"
REFRESH = "status:refresh"
NETWORK = "status:network"
TIMEOUT_S = 2.0
_BADGE = {"ok": (GREEN, "OK"), "degraded": (AMBER, "DEGRADED"), "failed": (RED, "FAILED")}


def _table_html(checks: list) -> str:
    rows = []
    for c in checks:
        colour, label = _BADGE[c.status]
        rows.append(
            f'<tr><td style="white-space:nowrap;padding:4px 10px">{html.escape(c.component)}</td>'
            f'<td style="padding:4px 10px"><span style="color:{colour};font-weight:700">{label}</span></td>'
            f'<td style="padding:4px 10px">{html.escape(c.detail)}</td></tr>'
        )
    return ('<table class="phi-status" style="width:100%;border-collapse:collapse">'
            '<tr><th style="text-align:left;padding:4px 10px">component</th><th style="text-align:left;padding:4px 10px">status</th>'
            f'<th style="text-align:left;padding:4px 10px">detail</th></tr>{"".join(rows)}</table>')  # fmt: skip


def render() -> None:
    from phi.status import DEGRADED, FAILED, overall, system_status

    st.subheader("System status")
    c = st.columns([1, 3])
    network = c[1].checkbox("Check the data vendors' servers (network)", value=True, key=NETWORK)
    if c[0].button("Check again", key=REFRESH) or RESULT not in st.session_state:
        with st.spinner("Checking every component ..."):
            checks = ui.attempt(system_status, network=network, timeout=TIMEOUT_S)
        if isinstance(checks, ui.Failed):
            return
        st.session_state[RESULT] = checks
    checks = st.session_state[RESULT]
    worst = overall(checks)
    failed = [x.component for x in checks if x.status == FAILED]
    degraded = [x.component for x in checks if x.status == DEGRADED]
    ui.ribbon(
        [
            # amber for degraded, as the table's badges (works, with a limitation); red: failed
            ("overall", worst.upper(), 1 if worst == "ok" else ui.WARN if worst == DEGRADED else -1),
            ("ok", str(sum(x.status == "ok" for x in checks)), 0),
            ("degraded", str(len(degraded)), ui.WARN if degraded else 0),
            ("failed", str(len(failed)), -1 if failed else 0),
        ]
    )
    if failed:
        st.error(f"Failed: {', '.join(failed)} — see the reasons below.", icon=":material/error:")
    if degraded:
        st.caption(f"Degraded (works, with the limitation stated): {', '.join(degraded)}.")
    st.html(_table_html(checks))
    st.caption("API keys are only reported as set or not set, never shown. The same report: `phi doctor`.")
