"""The seed's legacy dashboard, rebuilt from the workbench's own views:
``streamlit run dashboard.py``.

Seven tabs as in the seed — ML Status, Fetch Data, MFT Blender, Phi-Bot, Plutus Bot, Backtests,
System Status — each drawn by a module of ``app_streamlit/views`` (no view is written twice and
no finance logic lives here). The sidebar holds the workbench's dataset form; every tab works
on that dataset. Only the open tab is computed (switching tabs re-runs the page). A view that is
not in this build says so in its tab.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import streamlit as st

try:  # installed (pip install -e .) or started from the repository root
    import app_streamlit  # noqa: F401
except ModuleNotFoundError:  # started by path from elsewhere: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_streamlit import forms, styles, ui  # noqa: E402

TAB = "dash:tab"
#: tab -> the (view module, function) pairs drawn in it, in order.
TABS: dict[str, tuple[tuple[str, str], ...]] = {
    "ML Status": (("ml_status", "render"),),
    "Fetch Data": (("dataset", "summary"), ("cache", "render")),
    "MFT Blender": (("regime", "render"),),
    "Phi-Bot": (("scanner", "render"), ("scanner", "phibot_backtest")),
    "Plutus Bot": (("plutus", "render"),),
    "Backtests": (("backtests", "render"),),
    "System Status": (("status", "render"),),
}
#: what a missing view belongs to, for the "not in this build" line
MISSING: dict[str, str] = {
    "ml_status": "the ML Status page (issue 13, app_streamlit/views/ml_status.py)",
    "backtests": "the Backtests page (issue 11, app_streamlit/views/backtests.py)",
}


def draw(module: str, fn: str) -> None:
    """Draw ``app_streamlit.views.<module>.<fn>()``; a view or function not in this build is
    one clear line, and an error in a view never takes the page down."""
    name = f"app_streamlit.views.{module}"
    if importlib.util.find_spec(name) is None:
        what = MISSING.get(module, name)
        st.info(f"{what[0].upper()}{what[1:]} is not in this build yet.", icon=":material/construction:")
        return
    view = importlib.import_module(name)
    render = getattr(view, fn, None)
    if render is None:
        st.info(f"{name} has no {fn}() in this build yet.", icon=":material/construction:")
        return
    try:
        render()
    except Exception as exc:  # a bug in one view never takes the dashboard down
        ui.show_error(exc, prefix=f"{module}: ")


def main() -> None:
    st.set_page_config(page_title="Phi-nance dashboard", page_icon="φ", layout="wide", initial_sidebar_state="expanded")
    styles.inject_css()
    forms.ensure_defaults(st.session_state)
    from app_streamlit.views import dataset

    with st.sidebar:
        st.html('<div class="phi-title">φ Phi-nance dashboard</div>')
        try:
            dataset.form()
        except Exception as exc:  # the dataset form's own errors are shown by it; anything else here
            ui.show_error(exc, prefix="dataset: ")
    # the dataset summary draws its chart only when the workbench's dataset section is on
    # screen; here it is drawn only in the Fetch Data tab, which is then on screen
    st.session_state[forms.SECTION] = forms.SECTIONS[1]
    labels = list(TABS)
    if st.session_state.get(TAB) not in labels:
        st.session_state[TAB] = labels[0]
    tabs = st.tabs(labels, key=TAB, on_change="rerun")
    for label, tab in zip(labels, tabs, strict=True):
        if st.session_state.get(TAB) != label:
            continue  # only the open tab is computed
        with tab:
            for module, fn in TABS[label]:
                draw(module, fn)


main()
