"""Phi-nance workbench — entry script (``streamlit run app_streamlit/live_workbench.py``).

Built for the loop "change something → run → look":

- the **sidebar** holds the views (Workbench, Regime, Run history, Cache manager), the dataset
  form and, in the Workbench, the Run button — always reachable;
- the **main area** of the Workbench has one section per step (Results, 1 Dataset,
  2 Indicators, 3 Blend, 4 Execution); a finished run opens Results, whose KPIs and exports
  sit at the top of the first screen.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import streamlit as st

try:  # installed (pip install -e .) or started from the repository root
    import app_streamlit  # noqa: F401
except ModuleNotFoundError:  # started by path from elsewhere: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app_streamlit import forms, styles, ui  # noqa: E402

SECTIONS = forms.SECTIONS
SECTION = forms.SECTION


def _guard(view: ModuleType, fn: str = "render") -> None:
    try:
        getattr(view, fn)()
    except Exception as exc:  # a bug in one step never takes the page down
        ui.show_error(exc, prefix=f"{view.__name__.rsplit('.', 1)[-1]}: ")


def workbench() -> None:
    """The main area: Results and the four set-up steps as sections. Every section is drawn on
    each script run (so a setting is never lost), but the charts of a hidden section are not
    (see :func:`app_streamlit.ui.section_open`); Results is a fragment, so its tabs and filters
    re-run only Results."""
    from app_streamlit.views import blend, dataset, execution, indicators, results

    ui.show_flash()  # e.g. "PhiAI config opened" after a view sent the user here
    if st.session_state.get(SECTION) not in SECTIONS:
        st.session_state[SECTION] = "Results" if st.session_state.get(forms.RUN_RESULT) else SECTIONS[1]
    tabs = st.tabs(list(SECTIONS), key=SECTION, on_change="rerun")
    with tabs[0]:
        results.panel()
    with tabs[1]:
        _guard(dataset, "summary")
    with tabs[2]:
        _guard(indicators)
    with tabs[3]:
        _guard(blend)
    with tabs[4]:
        _guard(execution)


def main() -> None:
    st.set_page_config(
        page_title="Phi-nance workbench", page_icon="φ", layout="wide", initial_sidebar_state="expanded"
    )
    styles.inject_css()
    forms.ensure_defaults(st.session_state)
    from app_streamlit.views import dataset, run

    views = list(forms.VIEWS)
    if not regime_view_available():
        views.remove("Regime")
    with st.sidebar:
        st.html('<div class="phi-title">φ Phi-nance</div>')
        nav = st.segmented_control(
            "View", views, default=views[0], key=forms.NAV, required=True, label_visibility="collapsed"
        )
        run_box = st.container()  # the Run button on top, drawn after the dataset form ran
        _guard(dataset, "form")
        if nav == "Workbench":
            with run_box:
                run.render()
    if nav == "Workbench" or nav not in forms.PAGES:
        workbench()
        return
    _guard(importlib.import_module(f"app_streamlit.views.{forms.PAGES[nav]}"))


def regime_view_available() -> bool:
    """The Regime view needs the regime engine (phi.regime, issue 04)."""
    import importlib.util

    return importlib.util.find_spec("phi.regime.engine") is not None


main()
