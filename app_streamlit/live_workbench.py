"""Phi-nance workbench — entry script (``streamlit run app_streamlit/live_workbench.py``).

Top navigation: **Workbench** (Step 1 Dataset, 2 Indicators, 3 Blend, 4 Execution, 5 Run,
then the results), **Regime** (the MFT regime engine on the loaded dataset), **Run history**
and **Cache manager**. Only the chosen view is computed on each script run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import streamlit as st

try:  # installed (pip install -e .) or started from the repository root
    import app_streamlit  # noqa: F401
except ModuleNotFoundError:  # started by path from elsewhere: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app_streamlit import forms, styles, ui  # noqa: E402


def workbench() -> None:
    from app_streamlit.views import blend, dataset, execution, indicators, run

    for view in (dataset, indicators, blend, execution, run):  # run also shows the results
        try:
            view.render()
        except Exception as exc:  # a bug in one step never takes the page down
            ui.show_error(exc, prefix=f"{view.__name__.rsplit('.', 1)[-1]}: ")


def main() -> None:
    st.set_page_config(page_title="Phi-nance workbench", page_icon="φ", layout="wide")
    styles.inject_css()
    forms.ensure_defaults(st.session_state)
    st.html(
        '<div class="phi-title">φ Phi-nance workbench</div>'
        '<div class="phi-sub">dataset → indicators → blend → execution → run · every run is saved and re-runnable</div>'
    )
    from app_streamlit.views import regime as regime_view

    views = list(forms.VIEWS)
    if not regime_view_available():
        views.remove("Regime")
    nav = st.segmented_control(
        "View", views, default=views[0], key=forms.NAV, required=True, label_visibility="collapsed"
    )
    from app_streamlit.views import cache, history

    page: ModuleType
    if nav == "Run history":
        page = history
    elif nav == "Cache manager":
        page = cache
    elif nav == "Regime":
        page = regime_view
    else:
        workbench()
        return
    try:
        page.render()
    except Exception as exc:
        ui.show_error(exc)


def regime_view_available() -> bool:
    """The Regime view needs the regime engine (phi.regime, issue 04)."""
    import importlib.util

    return importlib.util.find_spec("phi.regime.engine") is not None


main()
